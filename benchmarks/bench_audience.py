"""Audience for held-out films: recall lift of the predicted top 5 % of users (issue 11, item 8).

Protocol: ``cold_item_split(ds, item_share=0.2, random_state=seed)`` holds out 20 % of the
films with all their ratings. Each model is fitted on the other films; for every held-out
film every user is ranked by the model's score of the film, the top ``top_share`` are its
predicted audience, and ``recall lift = (share of the film's real raters inside the
audience) / top_share`` (1 = random, 20 = perfect for the top 5 %), averaged over films
(:func:`filmrec_toolkit.audience_recall_lift`).

Rows: ContentToCF with its defaults and the default encoder (all-MiniLM-L6-v2 documents);
ContentToCF on genres + release year (the metadata baseline); content cosine (the original
design: user profile · film vector) with MiniLM and with genre vectors; user activity
(users ranked by their number of ratings, knowing nothing about the film: the bar any
audience model must clear); random (a model that scores every user alike, ties broken at
random). Paired Wilcoxon tests over the same films, ContentToCF (default) against each row.

Target: ContentToCF (default) recall lift >= 4 on ml-1m, reported with the genres+year
baseline beside it.

Usage: ``python benchmarks/bench_audience.py [--dataset ml-1m] [--top-share 0.05] [--seed 0]``
(a few minutes on 2 cores with the MiniLM embeddings cached; the first run embeds the catalogue).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pandas as pd  # noqa: E402

import filmrec_toolkit as ft  # noqa: E402


def build_models(items_ds, seed: int) -> dict:
    """Unfitted models of the table, in row order."""
    lm = ft.embed_items(items_ds, encoder=ft.TextEncoder(), cache=ft.EmbeddingCache())
    genres = ft.embed_items(items_ds, encoder=ft.GenreEncoder())
    return {
        "ContentToCF (default, MiniLM)": ft.ContentToCF(lm, random_state=seed),
        "ContentToCF (genres+year)": ft.ContentToCF(None, metadata=("genres", "year"), random_state=seed),
        "Content cosine (MiniLM)": ft.ContentRecommender(lm),
        "Content cosine (genres)": ft.ContentRecommender(genres),
        "User activity": ft.UserActivity(),
        "Random": ft.Popularity(),  # the same score for every user: the audience is drawn at random
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--top-share", type=float, default=0.05)
    parser.add_argument("--item-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the table here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    ds = ft.load_movielens(args.dataset)
    items_ds = ft.attach_overviews(ds)
    train, test = ft.cold_item_split(ds, item_share=args.item_share, random_state=args.seed)
    print(f"{args.dataset}: {ds.n_users} users, {int((test.item_counts() > 0).sum())} held-out films, "
          f"top {args.top_share:.0%} of users per film", flush=True)
    results, seconds = {}, {}
    for name, model in build_models(items_ds, args.seed).items():
        t0 = time.perf_counter()
        model.fit(train)
        results[name] = ft.audience_recall_lift(model, train, test, top_share=args.top_share,
                                                random_state=args.seed)
        seconds[name] = time.perf_counter() - t0
        print(f"  {name:32s} recall lift {results[name].mean_lift:6.2f}  ({seconds[name]:.0f}s)", flush=True)
    table = pd.DataFrame({name: r.summary() for name, r in results.items()}).T.drop(columns="model")
    table["seconds"] = pd.Series(seconds).round(1)
    first = next(iter(results))
    verdicts = ft.compare_audience_recall(results, baseline=first)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())
        print()
        print(verdicts[["model_a", "model_b", "n_items", "lift_a", "lift_b", "diff", "p_holm"]].round(4).to_string())
    for sentence in verdicts["verdict"]:
        print("-", sentence)
    lift = results[first].mean_lift
    print(f"target: {first} recall lift >= 4 -> {lift:.2f} ({'met' if lift >= 4 else 'NOT met'}); "
          f"total {time.perf_counter() - start:.0f}s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"table": table.round(4).to_dict(orient="index"),
                       "verdicts": verdicts.round(6).to_dict(orient="records")}, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
