"""Re-rankers on real ml-100k (MSR stratified 75/25 split, EASE top-50 candidates)."""

from __future__ import annotations

import numpy as np
import pytest

import filmrec_toolkit as ft

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def setting(ml100k):
    train, test = ft.stratified_split(ml100k, 0.75, random_state=42)
    users = np.unique(test.ratings["user_id"])
    candidates = ft.EASE().fit(train).recommend(users, k=50)
    baseline = candidates.loc[candidates["rank"] <= 10]
    return train, test, candidates, baseline


def test_mmr_raises_ild_at_small_accuracy_cost(setting):
    train, test, candidates, baseline = setting
    reranked = ft.MMRReranker(lam=0.5, features="genres").fit(train).rerank(candidates, k=10)
    before = ft.list_metrics(baseline, train, test, 10)
    after = ft.list_metrics(reranked, train, test, 10)
    assert after["ild"] > before["ild"] + 0.02
    assert after["ndcg@10"] > 0.8 * before["ndcg@10"]


def test_calibrated_reranker_lowers_miscalibration(setting):
    train, test, candidates, baseline = setting
    reranked = ft.CalibratedReranker(lam=0.5).fit(train).rerank(candidates, k=10)
    assert ft.miscalibration(reranked, train) < 0.9 * ft.miscalibration(baseline, train)


def test_exploration_raises_long_tail_share(setting):
    train, test, candidates, baseline = setting
    reranked = ft.ExplorationReranker(epsilon=0.3, random_state=0, mode="tail").fit(train).rerank(candidates, k=10)
    assert ft.aplt(reranked, train) > ft.aplt(baseline, train)
