"""Hand-computed checks of the accuracy metrics (MSR / RecBole variants)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from filmrec_toolkit.metrics import (
    hit_rate_at_k,
    map_at_k,
    map_min_k_at_k,
    map_msr_at_k,
    map_nrel_at_k,
    mrr_at_k,
    ndcg_at_k,
    ndcg_graded_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
)

L2 = math.log2

# One user: ranked [a, b, c, d, e], relevant {a, c, z} (n_rel = 3) -> hits at ranks 1 and 3.
REC = ["a", "b", "c", "d", "e"]
REL = {"a", "c", "z"}


def test_precision_recall_hit():
    assert precision_at_k(REC, REL, 5) == pytest.approx(2 / 5)
    assert recall_at_k(REC, REL, 5) == pytest.approx(2 / 3)
    assert hit_rate_at_k(REC, REL, 1) == 1.0
    assert hit_rate_at_k(["b", "d"], REL, 2) == 0.0


def test_ndcg_binary():
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG (3 relevant, k=5) = 1 + 1/log2(3) + 1/2
    assert ndcg_at_k(REC, REL, 5) == pytest.approx(1.5 / (1 + 1 / L2(3) + 0.5))
    # k = 2: DCG = 1; IDCG = 1 + 1/log2(3) (min(n_rel, k) = 2 terms)
    assert ndcg_at_k(REC, REL, 2) == pytest.approx(1 / (1 + 1 / L2(3)))


def test_both_maps_differ_by_denominator():
    # precisions at hit ranks: P@1 = 1, P@3 = 2/3 -> sum 5/3
    assert map_nrel_at_k(REC, REL, 5) == pytest.approx((5 / 3) / 3)   # MSR map: / n_rel = 3
    assert map_min_k_at_k(REC, REL, 2) == pytest.approx(1 / 2)        # MSR map_at_k: / min(2, 3), one hit P@1=1
    assert map_nrel_at_k(REC, REL, 2) == pytest.approx(1 / 3)         # / n_rel = 3
    with pytest.warns(FutureWarning, match="map_nrel_at_k"):          # the old, ambiguous names still work
        assert map_at_k(REC, REL, 2) == map_nrel_at_k(REC, REL, 2)
    with pytest.warns(FutureWarning, match="map_min_k_at_k"):
        assert map_msr_at_k(REC, REL, 2) == map_min_k_at_k(REC, REL, 2)


def test_mrr():
    assert mrr_at_k(["b", "c", "a"], REL, 3) == pytest.approx(1 / 2)
    assert mrr_at_k(["b", "d"], REL, 2) == 0.0


def test_graded_ndcg():
    grades = {"a": 5.0, "c": 3.0, "z": 4.0}
    # DCG = 5/1 + 3/2 = 6.5; IDCG = 5 + 4/log2(3) + 3/2
    assert ndcg_graded_at_k(REC, grades, 5) == pytest.approx(6.5 / (5 + 4 / L2(3) + 1.5))
    # exponential: DCG = 31 + 7/2; IDCG = 31 + 15/log2(3) + 7/2
    assert ndcg_graded_at_k(REC, grades, 5, gain="exponential") == pytest.approx(34.5 / (31 + 15 / L2(3) + 3.5))
    # equal grades (ties) reduce to binary NDCG
    assert ndcg_graded_at_k(REC, dict.fromkeys(REL, 4.0), 5) == pytest.approx(ndcg_at_k(REC, REL, 5))


def test_empty_relevant_is_nan_and_empty_list_is_zero():
    assert math.isnan(precision_at_k(REC, set(), 5))
    assert math.isnan(ndcg_at_k(REC, [], 5))
    assert precision_at_k([], REL, 5) == 0.0
    assert ndcg_at_k([], REL, 5) == 0.0


def test_single_item_and_k_larger_than_list():
    assert precision_at_k(["a"], {"a"}, 1) == 1.0
    assert ndcg_at_k(["a"], {"a"}, 1) == 1.0
    # catalogue of 2 items, k = 10: precision still / k; recall 1; ndcg 1 (ideal also has 1 item)
    assert precision_at_k(["b", "a"], {"a"}, 10) == pytest.approx(1 / 10)
    assert recall_at_k(["b", "a"], {"a"}, 10) == 1.0
    assert ndcg_at_k(["b", "a"], {"a"}, 10) == pytest.approx(1 / L2(3))


def test_repeated_item_counts_once():
    assert precision_at_k(["a", "a"], {"a"}, 2) == pytest.approx(1 / 2)


def test_batch_form_and_ranking_metrics():
    out = precision_at_k([REC, ["z"]], [REL, {"z"}], 5)
    np.testing.assert_allclose(out, [2 / 5, 1 / 5])
    hits = np.array([[True, False, True], [False, False, False], [False, True, False]])
    res = ranking_metrics(hits, [3, 0, 1], ks=(2, 5))
    assert np.isnan(res["ndcg@2"][1])                         # user without relevant items
    assert res["mrr@2"][2] == pytest.approx(0.5)
    assert res["precision@5"][0] == pytest.approx(2 / 5)      # list of 3 padded to 5
    assert set(res) >= {"precision@2", "recall@2", "ndcg@2", "map@2", "map_at_k@2", "mrr@2", "hit@2"}


def test_bad_k():
    with pytest.raises(ValueError, match="k == 0"):
        precision_at_k(REC, REL, 0)
    with pytest.raises(ValueError, match="one relevant collection per ranked list"):
        precision_at_k([REC], [REL, REL], 3)
