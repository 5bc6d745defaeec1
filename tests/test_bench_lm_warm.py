"""Smoke test of benchmarks/bench_lm_warm.py: the quick path end to end on small synthetic data."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import filmrec_toolkit as ft

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
bench = pytest.importorskip("bench_lm_warm")


@pytest.fixture(scope="module")
def synth():
    ds = ft.make_synthetic_interactions(150, 300, 4000, n_clusters=5, random_state=1)  # power law: rare items exist
    return ds, ft.embed_items(ds, encoder=ft.GenreEncoder(), cache=False)


def test_quick_warm_protocols_run(synth):
    ds, features = synth
    for proto in (bench.msr_protocol(ds), bench.recbole_protocol(ds)):
        res = bench.run_protocol(proto, features, bench.QUICK_GRIDS)
        names = set(res.table["model"])
        assert {"Popularity", "EASE", "ALS", "Content cosine (MiniLM)", *bench.HYBRIDS} <= names
        assert np.isfinite(res.table["ndcg@10"]).all()
        assert (res.table["tail_users"] <= res.table["n_users"]).all()
        families = 3 if (res.table["tail_users"] > 0).any() else 1  # no rare test item: nothing to test there
        assert len(res.tests) == families * len(bench.HYBRIDS)
        assert set(res.tests["model_b"]) == {"EASE"}
        assert set(res.tests["verdict"]) <= {"better", "worse", "no significant difference"}
        text = bench.hybrid_sentence(res, proto.name)
        assert text.count("\n") == len(res.tests) - 1 and "vs EASE" in text


def test_rare_item_mask_and_tail_only_ranking(synth):
    ds, features = synth
    proto = bench.msr_protocol(ds)
    rare = bench.rare_items(proto.train)
    np.testing.assert_array_equal(rare, proto.train.item_counts() < 5)
    model = ft.EASE(l2=50.0).fit(proto.train)
    tails = bench.tail_evaluations(model, proto, rare)
    assert tails["tail"].n_users > 0
    recs = tails["tailonly"].recommendations
    assert rare[proto.train.item_vocab.to_rows(recs["item_id"].to_numpy())].all()  # only rare items ranked
    assert tails["tail"].n_users == tails["tailonly"].n_users


def test_quick_fairness_runs(synth):
    ds, features = synth
    models, gaps, best = bench.fairness(bench.boratto_protocol(ds), features, bench.QUICK_GRIDS, n_resamples=50)
    assert best in bench.HYBRIDS and list(models["model"]) == ["EASE", best]
    assert {"gender_gap", "gender_p", "age_35_gap", "age_35_p"} <= set(models.columns)
    assert list(gaps["attribute"]) == ["gender", "age_35"]
    assert "gender gap" in bench.fairness_sentence(gaps)
