"""Which item document encodes content? Template comparison on ml-1m (issue 11, item 4).

Usage::

    .venv/bin/python benchmarks/bench_documents.py [--dataset ml-1m] [--k 5] [--overviews]

For each template of ``DOCUMENT_TEMPLATES`` the catalogue is embedded with MiniLM (through
the embedding cache) and diagnosed with ``document_diagnostics``: share of the ``k`` nearest
neighbours released the same year (beside the genre-flag rate), genre agreement and overlap
with co-rating neighbours; TF-IDF on the same documents and genre flags are shown beside.
``choose_document`` picks the template by the targets (same-year rate <= 2x genre flags,
genre agreement >= .80, then the highest co-rating overlap) and ``document_sentences`` says
so in words. ``--overviews`` attaches the TMDB plot overviews first (as notebook 01 does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--overviews", action="store_true")
    args = parser.parse_args(argv)

    import pandas as pd

    import filmrec_toolkit as ft

    ds = ft.load_movielens(args.dataset)
    if args.overviews:
        ds = ft.attach_overviews(ds)
    table = ft.compare_documents(ds, k=args.k, show_progress=True)
    cols = ["representation", "same_year", "same_year_genre_base", "year_ratio", "genre_agreement", "genre_jaccard",
            "co_rating_overlap"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[cols].round(3).to_string(index=False))
    chance = table["co_rating_chance"].iloc[0]
    print(f"\nco-rating overlap of random neighbours: {chance:.4f}")
    default = next(n for n, f in ft.DOCUMENT_TEMPLATES.items() if tuple(f) == tuple(ft.DEFAULT_FIELDS))
    for sentence in ft.document_sentences(table, default=default):
        print("-", sentence)
    return 0


if __name__ == "__main__":
    sys.exit(main())
