"""Free-text wishes: genre precision@10 of ``recommend_for_profile(text=...)`` (issue 11, item 5).

Usage::

    .venv/bin/python benchmarks/bench_wishes.py [--dataset ml-100k] [--k 10]

The wish query set (``load_wish_queries``: 2 phrasings x 18 genres) has one phrasing per
genre marked ``validation`` and the other ``test``. The settings of ``wish_query``
(``temperature``, ``wish_weight``, and ``intent=None``: the raw wish embedding) are compared
on the validation phrasings only; the setting with the best validation precision is then
reported on the test phrasings, for MiniLM (default documents) and TF-IDF (same documents),
with per-genre precision.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args(argv)

    import pandas as pd

    import filmrec_toolkit as ft

    ds = ft.load_movielens(args.dataset)
    queries = ft.load_wish_queries()
    valid, test = queries[queries["split"] == "validation"], queries[queries["split"] == "test"]
    docs = ft.build_item_documents(ds)
    minilm = ft.TextEncoder().fit()
    tfidf = ft.TfidfEncoder().fit(docs)
    models = {"MiniLM": (ft.ContentRecommender(ft.embed_items(ds, encoder=minilm, documents=docs)).fit(ds), minilm),
              "TF-IDF": (ft.ContentRecommender(ft.embed_items(ds, encoder=tfidf, documents=docs)).fit(ds), tfidf)}
    grid = [{"intent": None}] + [{"intent": "genres", "temperature": t, "wish_weight": w}
                                 for t, w in itertools.product((0.01, 0.02, 0.05), (0.0, 0.5, 1.0, 2.0))]
    rows, per_genre = [], {}
    for name, (model, encoder) in models.items():
        scores = []
        for setting in grid:
            p = ft.wish_genre_precision(model, encoder, valid, k=args.k, **setting)["precision"].mean()
            scores.append(p)
            rows.append({"encoder": name, **setting, "validation": p})
        best = grid[max(range(len(grid)), key=lambda i: (scores[i], -i))]
        for label, setting in (("raw wish", {"intent": None}), ("chosen on validation", best),
                               ("package default", {})):
            out = ft.wish_genre_precision(model, encoder, test, k=args.k, **setting)
            per_genre[(name, label)] = out.set_index("genre")["precision"]
            print(f"{name:6s} {label:22s} {setting}: test precision@{args.k} = {out['precision'].mean():.3f}")
    print("\nvalidation grid:")
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print("\nper genre (test phrasings):")
    print(pd.DataFrame(per_genre).round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
