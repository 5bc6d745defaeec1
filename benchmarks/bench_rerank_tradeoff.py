"""Re-ranking trade-offs on ml-100k (MSR split, EASE top-50 candidates): NDCG@10 vs ILD / miscalibration / APLT.

Run: .venv/bin/python benchmarks/bench_rerank_tradeoff.py  (about a minute on 2 cores)
"""

import time
from pathlib import Path

import numpy as np
import pandas as pd

import filmrec_toolkit as ft

Path("reports").mkdir(exist_ok=True)
t0 = time.perf_counter()
ds = ft.load_movielens("ml-100k")
train, test = ft.stratified_split(ds, 0.75, random_state=42)
users = np.unique(test.ratings["user_id"])
cand = ft.EASE().fit(train).recommend(users, k=50)
curves = pd.concat(
    [
        ft.tradeoff_curve(ft.MMRReranker(features="genres"), cand, train, test, values=(0.25, 0.5, 0.75, 1.0)),
        ft.tradeoff_curve(
            ft.CalibratedReranker(), cand, train, test, values=(0.25, 0.5, 0.75, 0.99), include_baseline=False
        ),
        ft.tradeoff_curve(
            ft.ExplorationReranker(random_state=0), cand, train, test, values=(0.1, 0.2, 0.3), include_baseline=False
        ),
    ],
    ignore_index=True,
)
with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
    print(curves.to_string(index=False))
rep = ft.audit({"EASE": cand[cand["rank"] <= 10]}, train, test, k=10, tradeoff=curves, n_resamples=500)
rep.to_html("reports/audit_ml100k_tradeoff.html", title="Audit EASE ml-100k", figures=ft.plots.audit_figures(rep))
print(f"{time.perf_counter() - t0:.0f}s")
