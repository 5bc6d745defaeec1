"""Our numbers beside published tables, under the same protocols (``make reproduce``).

Protocols (see ``docs/protocols.md`` and ``filmrec_toolkit.datasets.splits``):

* **MSR Recommenders, ml-100k**: ``stratified_split(ds, 0.75, random_state=42)``; every
  test rating relevant; top-10 over all items not seen in train; P, R, NDCG, MAP
  (``map`` = ÷ n_rel, the published column) and ``map_at_k`` (÷ min(k, n_rel)).
  Hyper-parameters are chosen on a validation split *inside* train
  (``stratified_split(train, 0.75, random_state=7)``), then the chosen model is refitted on
  the whole train and scored once on test.
* **RecBole-GNN, ml-1m**: ``ds.filter(min_rating=3)``, ``user_random_split(.., (0.8, 0.1,
  0.1), random_state=42)``; models fitted on train; chosen on valid (mask = train); scored
  on test with mask = train + valid (no refit, as RecBole). R, NDCG, MRR, Hit @10.

Selection criterion: NDCG@10 on validation. Grids (every value tried, nothing chosen on test):

* ItemKNN: n_neighbors ∈ {50, 100, 200, 400} × shrink ∈ {0, 10, 50, 200, 1000}
* EASE: l2 ∈ {50, 100, 200, 300, 500, 800, 1200, 2000, 3000}
* ALS: factors ∈ {16, 32, 64, 128} × alpha ∈ {1, 5} × regularization ∈ {0.1, 1, 10, 100} (15 iterations)
* BPR: factors ∈ {32, 64, 128} × learning_rate ∈ {0.005, 0.01} × regularization ∈ {0.001, 0.01}
  (100 iterations; ml-100k only by default — ``--bpr-ml1m`` adds it on ml-1m)
* Content (MiniLM on title + genres, MiniLM on title + genres + TMDB plot, TF-IDF on the
  same plot documents, genre multi-hot): profiler ∈ {"mean", "rating_weighted"}
* ContentAwareHybrid(EASE*, Content[MiniLM+plot]*): content_weight ∈ {0, 0.05, 0.1, 0.2}
  × tail_weight ∈ {0, 0.5, 1, 2}, shrink 10  (* = the chosen configurations, reused)
* Hybrid(EASE*, ItemKNN*, ALS*): weights (1, a, b), a, b ∈ {0, 0.25, 0.5}

Usage::

    python benchmarks/reproduce_published.py [--protocol msr|recbole|both] [--no-lm] [--quick]

MiniLM vectors come from ``embed_items`` and its on-disk cache (first run encodes the
catalogue once; later runs read the cache).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import filmrec_toolkit as ft  # noqa: E402

# published tables: package data (filmrec_toolkit/reference_data/published_accuracy.csv)
PUBLISHED_MSR = ft.published_accuracy("msr-ml-100k").drop(columns="source").reset_index()
PUBLISHED_RECBOLE = ft.published_accuracy("recbole-ml-1m").drop(columns="source").reset_index()

GRIDS = {
    "ItemKNN": [dict(n_neighbors=n, shrink=s) for n in (50, 100, 200, 400) for s in (0, 10, 50, 200, 1000)],
    "EASE": [dict(l2=v) for v in (50, 100, 200, 300, 500, 800, 1200, 2000, 3000)],
    "ALS": [dict(factors=f, alpha=a, regularization=r, iterations=15, random_state=42)
            for f in (16, 32, 64, 128) for a in (1, 5) for r in (0.1, 1.0, 10.0, 100.0)],
    "BPR": [dict(factors=f, learning_rate=lr, regularization=r, iterations=100, random_state=42)
            for f in (32, 64, 128) for lr in (0.005, 0.01) for r in (0.001, 0.01)],
}
QUICK_GRIDS = {
    "ItemKNN": [dict(n_neighbors=200, shrink=10)],
    "EASE": [dict(l2=v) for v in (200, 500)],
    "ALS": [dict(factors=64, alpha=1, regularization=0.1, iterations=15, random_state=42)],
    "BPR": [dict(factors=64, learning_rate=0.01, regularization=0.01, iterations=100, random_state=42)],
}
CLASSES = {"ItemKNN": ft.ItemKNN, "EASE": ft.EASE, "ALS": ft.ALS, "BPR": ft.BPR}
K = 10
SELECT = f"ndcg@{K}"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Protocol:
    """Fitting/selection/test logic shared by the two protocols."""

    def __init__(self, name, tune_train, valid, train, test, test_exclude, refit_for_test):
        self.name = name
        self.tune_train, self.valid = tune_train, valid
        self.train, self.test = train, test
        self.test_exclude = test_exclude
        self.refit_for_test = refit_for_test
        self.rows = []

    def val_score(self, model) -> float:
        return float(ft.evaluate(model, self.tune_train, self.valid, k=K).means[SELECT])

    def select(self, label, make, grid):
        """Fit every configuration on tune_train, keep the best on valid; returns (params, model, seconds)."""
        start = time.perf_counter()
        best = (-1.0, None, None)
        for params in grid:
            model = make(params)
            score = self.val_score(model)
            if score > best[0]:
                best = (score, params, model)
        secs = time.perf_counter() - start
        log(f"{self.name} {label}: chose {best[1]} (valid {SELECT}={best[0]:.4f}, {len(grid)} config(s), {secs:.0f}s)")
        return best[1], best[2], secs, best[0]

    def final(self, label, model, params, tune_seconds, val, member_train_s=0.0):
        """Fit on the protocol's train unless already (MSR refits the chosen model on the full train;
        for RecBole tune_train is train, so the selected fit is reused) and score on test."""
        if getattr(model, "train_", None) is not self.train:
            model.fit(self.train)
        res = ft.evaluate(model, self.train, self.test, k=K, exclude=self.test_exclude, refit=False)
        row = {"model": label, **res.means[[c for c in res.means.index if c.endswith(f"@{K}")]].to_dict(),
               "valid_ndcg@10": val, "train_s": model.fit_seconds_ + member_train_s, "tune_s": tune_seconds,
               "params": _short(params)}
        self.rows.append(row)
        log(f"{self.name} {label}: test {SELECT}={row[SELECT]:.4f} train {row['train_s']:.1f}s")
        return model


def _short(params) -> str:
    if params is None:
        return ""
    return ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("random_state", "iterations"))


def embeddings_for(ds, kinds, lm: bool):
    out = {}
    docs_plot = ft.build_item_documents(ds)
    for kind in kinds:
        t = time.perf_counter()
        if kind == "MiniLM (title+genres)":
            if not lm:
                continue
            emb = ft.embed_items(ds, fields=("title", "year", "genres"))
        elif kind == "MiniLM (+plot)":
            if not lm:
                continue
            emb = ft.embed_items(ds, documents=docs_plot)
        elif kind == "TF-IDF (+plot)":
            emb = ft.embed_items(ds, encoder=ft.TfidfEncoder(), documents=docs_plot)
        elif kind == "genres":
            emb = ft.embed_items(ds, encoder=ft.GenreEncoder())
        else:  # pragma: no cover
            raise ValueError(kind)
        log(f"embeddings {kind}: {emb} in {time.perf_counter() - t:.0f}s")
        out[kind] = emb
    return out


def run_protocol(proto: Protocol, ds, grids, lm: bool, models: list[str]) -> pd.DataFrame:
    chosen = {}
    # Popularity
    pop = ft.Popularity()
    val = proto.val_score(pop)
    proto.final("Popularity", pop, None, 0.0, val)
    for name in models:
        params, model, secs, val = proto.select(name, lambda p, c=CLASSES[name]: c(**p), grids[name])
        chosen[name] = (params, proto.final(name, model, params, secs, val))
    # content models
    embs = embeddings_for(ds, ["MiniLM (title+genres)", "MiniLM (+plot)", "TF-IDF (+plot)", "genres"], lm)
    content_models = {}
    for kind, emb in embs.items():
        grid = [dict(profiler=s) for s in ("mean", "rating_weighted")]
        params, model, secs, val = proto.select(
            f"Content[{kind}]", lambda p, e=emb: ft.ContentRecommender(e, ft.UserProfiler(p["profiler"])), grid)
        content_models[kind] = (params, proto.final(f"Content[{kind}]", model, params, secs, val))
    # hybrids, built on the chosen members (fitted once on tune_train for selection)
    if "EASE" in chosen:
        ease_p = chosen["EASE"][0]
        kind = "MiniLM (+plot)" if "MiniLM (+plot)" in content_models else "TF-IDF (+plot)"
        cont_p = content_models[kind][0]
        emb = embs[kind]
        ease_t, cont_t = chosen["EASE"][1], content_models[kind][1]
        if proto.refit_for_test:  # the final fits are on the full train; selection needs tune_train fits
            ease_t = ft.EASE(**ease_p).fit(proto.tune_train)
            cont_t = ft.ContentRecommender(emb, ft.UserProfiler(cont_p["profiler"])).fit(proto.tune_train)
        grid = [dict(content_weight=w, tail_weight=t, shrink=10.0) for w in (0.0, 0.05, 0.1, 0.2)
                for t in (0.0, 0.5, 1.0, 2.0)]
        params, _, secs, val = proto.select(f"ContentAwareHybrid[EASE+{kind}]", lambda p: ft.ContentAwareHybrid(
            ease_t, cont_t, refit=False, **p), grid)
        members = [chosen["EASE"][1], content_models[kind][1]]  # final fits on the protocol's train
        hyb = ft.ContentAwareHybrid(*members, refit=False, **params)
        proto.final(f"ContentAwareHybrid[EASE+{kind}]", hyb, params, secs, val,
                    sum(m.fit_seconds_ for m in members))
        if all(m in chosen for m in ("ItemKNN", "ALS")):
            members = {m: (CLASSES[m](**chosen[m][0]).fit(proto.tune_train) if proto.refit_for_test
                           else chosen[m][1]) for m in ("EASE", "ItemKNN", "ALS")}
            grid = [dict(weights=(1.0, a, b)) for a, b in itertools.product((0.0, 0.25, 0.5), repeat=2)]
            params, _, secs, val = proto.select("Hybrid[EASE+ItemKNN+ALS]", lambda p: ft.Hybrid(
                list(members.values()), refit=False, **p), grid)
            finals = [chosen[m][1] for m in members]
            hyb = ft.Hybrid(finals, refit=False, **params)
            proto.final("Hybrid[EASE+ItemKNN+ALS]", hyb, params, secs, val, sum(m.fit_seconds_ for m in finals))
    return pd.DataFrame(proto.rows)


def show(title: str, ours: pd.DataFrame, published: pd.DataFrame, cols: list[str]) -> None:
    print(f"\n=== {title} ===")
    ours = ours.copy()
    ours["source"] = "filmrec_toolkit"
    pub = published.copy()
    pub["source"] = "published"
    table = pd.concat([pub, ours], ignore_index=True)
    show_cols = ["model", *cols, "train_s", "params"]
    for c in show_cols:
        if c not in table.columns:
            table[c] = np.nan
    with pd.option_context("display.width", 250, "display.max_colwidth", 70, "display.max_columns", 30):
        print(table[show_cols].to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep=""))


def msr(grids, lm, models):
    log("MSR protocol: ml-100k, stratified 75/25 (seed 42), all ratings relevant, top-10, full ranking")
    ds = ft.attach_overviews(ft.load_movielens("ml-100k"))
    train, test = ft.stratified_split(ds, 0.75, random_state=42)
    sub, valid = ft.stratified_split(train, 0.75, random_state=7)
    proto = Protocol("msr", sub, valid, train, test, True, refit_for_test=True)
    out = run_protocol(proto, ds, grids, lm, models)
    show("ml-100k, Microsoft Recommenders protocol (map = ÷ n_rel, the published MAP; map_at_k = ÷ min(k, n_rel))",
         out, PUBLISHED_MSR, ["precision@10", "recall@10", "ndcg@10", "map@10", "map_at_k@10"])
    return out


def recbole(grids, lm, models):
    log("RecBole-GNN protocol: ml-1m, ratings >= 3, per-user random 8:1:1 (seed 42), full ranking")
    ds = ft.attach_overviews(ft.load_movielens("ml-1m")).filter(min_rating=3)
    train, valid, test = ft.user_random_split(ds, (0.8, 0.1, 0.1), random_state=42)
    proto = Protocol("recbole", train, valid, train, test, ft.Dataset.concat([train, valid]), refit_for_test=False)
    out = run_protocol(proto, ds, grids, lm, models)
    show("ml-1m, RecBole-GNN protocol (test mask = train + valid)", out, PUBLISHED_RECBOLE,
         ["recall@10", "ndcg@10", "mrr@10", "hit@10"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", choices=["msr", "recbole", "both"], default="both")
    ap.add_argument("--no-lm", action="store_true", help="skip MiniLM content rows")
    ap.add_argument("--quick", action="store_true", help="one or two configurations per model (smoke run)")
    ap.add_argument("--bpr-ml1m", action="store_true", help="also tune BPR on ml-1m (slow on 2 cores)")
    ap.add_argument("--out", default=None, help="write the tables as CSV files with this prefix")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    grids = QUICK_GRIDS if args.quick else GRIDS
    start = time.perf_counter()
    results = {}
    if args.protocol in ("msr", "both"):
        results["msr"] = msr(grids, not args.no_lm, ["ItemKNN", "EASE", "ALS", "BPR"])
    if args.protocol in ("recbole", "both"):
        models = ["ItemKNN", "EASE", "ALS"] + (["BPR"] if args.bpr_ml1m else [])
        results["recbole"] = recbole(grids, not args.no_lm, models)
    if args.out:
        for name, frame in results.items():
            frame.to_csv(f"{args.out}_{name}.csv", index=False)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f}s on {os.cpu_count()} CPU(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
