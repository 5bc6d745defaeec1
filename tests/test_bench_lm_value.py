"""Smoke test of benchmarks/bench_lm_value.py on synthetic data: the paths agree (no timing)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import filmrec_toolkit as ft

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_lm_value", ROOT / "benchmarks" / "bench_lm_value.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_path_on_synthetic_data(bench):
    ds = ft.make_synthetic_interactions(120, 60, 2400, n_clusters=4, random_state=0, name="synthetic")
    docs = ds.items["overview"].fillna("").tolist()
    text = ft.embed_items(ds, encoder=ft.TfidfEncoder(min_df=1), documents=docs, cache=False)
    features = {"MiniLM": text, "TF-IDF": text}  # a stand-in for the LM: the paths, not the numbers, are checked
    grids = {"EASE": {"l2": [100.0]}, "ALS": {"factors": [8], "iterations": [3]}, "cosine": {"profiler": [None]},
             "c2cf": {"factors": [4, 8]}}
    res = bench.run_dataset(ds, features, grids, n_givens=(2,), seed=0)
    assert list(res["columns"]) == ["cold items", "few-shot n=2"]
    cold = res["columns"]["cold items"]["table"].set_index("model")
    assert {"Popularity", "EASE", "ALS", "Content cosine (MiniLM)", "ContentToCF genres", "ContentToCF genres+year",
            "ContentToCF TF-IDF", "ContentToCF MiniLM", "ContentToCF default (MiniLM+genres+year)",
            "ContentToCF MLP map (MiniLM+genres+year)"} == set(cold.index)
    # the default row equals a direct fit + evaluate under the same protocol
    train, valid, test = ft.cold_item_split(ds, 0.2, valid_share=0.1, random_state=0)
    direct = ft.evaluate(ft.ContentToCF(text), ft.Dataset.concat([train, valid]), test, k=(10,), candidates="test")
    assert np.isclose(cold.loc["ContentToCF default (MiniLM+genres+year)", "test"], direct.means["ndcg@10"])
    assert cold["n_users"].nunique() == 1  # every row scored on the same users
    paired = res["columns"]["cold items"]["paired"]
    assert paired["best_lm"] in cold.index[cold["lm"]] and paired["best_non_lm"] in cold.index[~cold["lm"]]
    assert any(w in paired["sentence"] for w in ("more accurate than", "No significant difference"))
    assert set(res["cold_targets"]) == {"ContentToCF genres+year", "Content cosine (MiniLM)"}
    table = bench.summary_table([res])
    assert table.shape == (len(cold), 2)
    json.dumps(bench.to_json([res], {"quick": True}), default=str)
