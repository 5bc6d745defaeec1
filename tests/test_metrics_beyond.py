"""Beyond-accuracy, calibration and fairness-statistics metrics, computed by hand on tiny data.

The ``tiny`` fixture (tests/conftest.py): 4 users x 5 items
    u1: 10, 20, 30     u2: 10, 40     u3: 20, 30, 50     u4: 50
training counts phi: 10:2, 20:2, 30:2, 40:1, 50:2 (9 ratings); genres
    10 Comedy | 20 Drama | 30 Comedy+Drama | 40 Action | 50 Action+Sci-Fi
genre columns (sorted): Action, Comedy, Drama, Sci-Fi.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmrec_toolkit.metrics import (
    aclt,
    aplt,
    average_recommendation_popularity,
    bootstrap_ci,
    catalog_coverage,
    distributional_coverage,
    exposure_gini,
    genre_matrix,
    gini_index,
    head_items,
    holm_correction,
    intra_list_diversity,
    intra_list_similarity,
    item_exposure,
    kl_miscalibration,
    kruskal_wallis,
    lorenz_curve,
    mann_whitney,
    miscalibration,
    novelty,
    paired_bootstrap_ci,
    paired_wilcoxon,
    popularity_lift,
    popularity_tiers,
    serendipity,
    user_genre_distribution,
)


def recs(lists: dict) -> pd.DataFrame:
    """Top-k frame from {user: [items in rank order]}."""
    rows = [(u, i, float(len(items) - r), r + 1) for u, items in lists.items() for r, i in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


EMPTY = recs({})


# ------------------------------------------------------------------ coverage / exposure
def test_catalog_coverage_hand(tiny):
    # distinct {40, 50, 20} of 5 items -> 3/5
    assert catalog_coverage(recs({1: [40, 50], 2: [20]}), tiny) == pytest.approx(0.6)
    # k=1 keeps 40 and 20 -> 2/5
    assert catalog_coverage(recs({1: [40, 50], 2: [20]}), tiny, k=1) == pytest.approx(0.4)
    assert catalog_coverage(EMPTY, tiny) == 0.0


def test_coverage_k_larger_than_catalogue(tiny):
    # every item recommended; k=100 > 5 items changes nothing
    assert catalog_coverage(recs({1: [10, 20, 30, 40, 50]}), tiny, k=100) == 1.0


def test_item_exposure_and_discount(tiny):
    frame = recs({1: [40, 50], 2: [20]})
    np.testing.assert_allclose(item_exposure(frame, tiny), [0, 1, 0, 1, 1])
    # ranks 1 -> 1/log2(2) = 1, rank 2 -> 1/log2(3)
    np.testing.assert_allclose(item_exposure(frame, tiny, discount="log2"), [0, 1, 0, 1, 1 / math.log2(3)])


def test_distributional_coverage_hand(tiny):
    # exposure 1, 1, 1 on three items -> H = log2(3); normalised by log2(5)
    frame = recs({1: [40, 50], 2: [20]})
    assert distributional_coverage(frame, tiny) == pytest.approx(math.log2(3))
    assert distributional_coverage(frame, tiny, normalize=True) == pytest.approx(math.log2(3) / math.log2(5))
    # one item only -> 0 bits; empty -> 0
    assert distributional_coverage(recs({1: [10], 2: [10]}), tiny) == 0.0
    assert distributional_coverage(EMPTY, tiny) == 0.0


def test_gini_hand(tiny):
    # sorted [0,0,1,1,1], n=5: sum (2i-6) x_i = 0+0+0+2+4 = 6; 6 / (5*3) = 0.4
    assert exposure_gini(recs({1: [40, 50], 2: [20]}), tiny) == pytest.approx(0.4)
    # all exposure on one of 4 items -> (n-1)/n = 0.75
    assert gini_index([0, 5, 0, 0]) == pytest.approx(0.75)
    assert gini_index([2, 2, 2]) == 0.0
    assert gini_index([]) == 0.0
    assert gini_index([0, 0]) == 0.0
    assert gini_index([7]) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        gini_index([1, -1])


def test_lorenz_curve_hand_and_gini_area():
    # [0,0,1,1,1]: y = 0,0,0,1/3,2/3,1; trapezoid area = 0.1*(0+0+1/3+1+5/3) = 0.3 -> 1 - 2*0.3 = 0.4
    x, y = lorenz_curve([1, 0, 1, 0, 1])
    np.testing.assert_allclose(x, [0, .2, .4, .6, .8, 1])
    np.testing.assert_allclose(y, [0, 0, 0, 1 / 3, 2 / 3, 1])
    area = float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())
    assert 1 - 2 * area == pytest.approx(gini_index([1, 0, 1, 0, 1]))
    x0, y0 = lorenz_curve([0, 0])
    np.testing.assert_allclose(y0, x0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40))
def test_gini_in_unit_interval(values):
    assert 0.0 <= gini_index(values) <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 50), st.floats(0.001, 1e4))
def test_gini_zero_for_uniform_exposure(n, value):
    assert gini_index([value] * n) == pytest.approx(0.0, abs=1e-9)


# the tiny Dataset is never mutated, so sharing it across examples is safe
FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.dictionaries(st.sampled_from([1, 2, 3, 4]),
                       st.lists(st.sampled_from([10, 20, 30, 40, 50]), min_size=0, max_size=7, unique=True)))
def test_coverage_and_gini_bounds_random_lists(tiny, lists):
    frame = recs(lists)
    assert 0.0 <= catalog_coverage(frame, tiny) <= 1.0
    assert 0.0 <= exposure_gini(frame, tiny) <= 1.0
    assert 0.0 <= distributional_coverage(frame, tiny, normalize=True) <= 1.0 + 1e-12


# ------------------------------------------------------------------ popularity
def test_head_and_tiers_hand(tiny):
    # counts desc (ties by row): 10,20,30,50 (2 each), 40 (1); cum 2/9 = .22 >= .2 -> head {10}
    np.testing.assert_array_equal(head_items(tiny), [True, False, False, False, False])
    # tail: share before the item >= .8 -> only 40 (8/9 before it)
    assert list(popularity_tiers(tiny)) == ["head", "mid", "mid", "tail", "mid"]
    with pytest.raises(ValueError, match="head_share"):
        head_items(tiny, 1.5)


def test_novelty_hand(tiny):
    # p = users who rated / 4: 40 -> 1/4 (2 bits), 50 -> 2/4 (1 bit), 20 -> 1 bit
    # u1 [40, 50] -> 1.5, u2 [20] -> 1.0, mean 1.25
    frame = recs({1: [40, 50], 2: [20]})
    assert novelty(frame, tiny) == pytest.approx(1.25)
    per = novelty(frame, tiny, per_user=True)
    assert per.to_dict() == pytest.approx({1: 1.5, 2: 1.0})
    assert math.isnan(novelty(EMPTY, tiny))


def test_novelty_unrated_item_gets_one_user(tiny):
    # drop u2's rating of 40: p_40 = 0 -> treated as 1/|U| = 1/4 -> 2 bits (still 4 users with ratings)
    train = tiny.subset(~((tiny.ratings.user_id == 2) & (tiny.ratings.item_id == 40)).to_numpy())
    assert novelty(recs({1: [40]}), train) == pytest.approx(2.0)


def test_arp_aplt_aclt_hand(tiny):
    # phi: 40 -> 1, 50 -> 2, 10 -> 2, 20 -> 2.  u1 [40,50]: ARP 1.5; u2 [10,20]: ARP 2 -> 1.75
    frame = recs({1: [40, 50], 2: [10, 20]})
    assert average_recommendation_popularity(frame, tiny) == pytest.approx(1.75)
    # head = {10}: u1 2/2 tail, u2 1/2 tail -> APLT 0.75, ACLT (2 + 1)/2 = 1.5
    assert aplt(frame, tiny) == pytest.approx(0.75)
    assert aclt(frame, tiny) == pytest.approx(1.5)
    assert aclt(frame, tiny, per_user=True).to_dict() == {1: 2.0, 2: 1.0}
    # single item list
    assert aplt(recs({2: [10]}), tiny) == 0.0


def test_popularity_lift_hand(tiny):
    # u1 history {10,20,30} mean phi 2, list [40,50] ARP 1.5 -> -0.25
    # u2 history {10,40} mean phi 1.5, list [10,20] ARP 2 -> +1/3
    frame = recs({1: [40, 50], 2: [10, 20]})
    per = popularity_lift(frame, tiny, per_user=True)
    assert per.to_dict() == pytest.approx({1: -0.25, 2: 1 / 3})
    # group form: mean ARP 1.75 vs mean AP 1.75 -> 0
    assert popularity_lift(frame, tiny) == pytest.approx(0.0)


# ------------------------------------------------------------------ diversity
def test_ild_ils_genres_hand(tiny):
    # [10,20,30]: cos(10,20)=0, cos(10,30)=cos(20,30)=1/sqrt2 -> ILS = sqrt2/3, ILD = 1 - sqrt2/3
    # [40,50]: cos = 1/sqrt2 -> ILD = 1 - 1/sqrt2; u3 [10] (single) -> NaN, left out
    frame = recs({1: [10, 20, 30], 2: [40, 50], 3: [10]})
    ild1, ild2 = 1 - math.sqrt(2) / 3, 1 - 1 / math.sqrt(2)
    assert intra_list_diversity(frame, tiny) == pytest.approx((ild1 + ild2) / 2)
    assert intra_list_similarity(frame, tiny) == pytest.approx(1 - (ild1 + ild2) / 2)
    per = intra_list_diversity(frame, tiny, per_user=True)
    assert per[1] == pytest.approx(ild1) and math.isnan(per[3])
    assert math.isnan(intra_list_diversity(EMPTY, tiny))


def test_ild_on_embeddings_and_dataframe(tiny):
    # 10=(1,0), 20=(0,1), 30=(1,1)/sqrt2: pairs 1-0, 1-1/sqrt2, 1-1/sqrt2 -> mean
    emb = np.array([[1, 0], [0, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    frame = recs({1: [10, 20, 30]})
    expected = (1 + 2 * (1 - 1 / math.sqrt(2))) / 3
    assert intra_list_diversity(frame, tiny, emb) == pytest.approx(expected)
    df = pd.DataFrame(emb, index=[10, 20, 30, 40, 50])
    assert intra_list_diversity(frame, tiny, df) == pytest.approx(expected)
    with pytest.raises(ValueError, match="expected \\(5, d\\)"):
        intra_list_diversity(frame, tiny, emb[:3])


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.permutations([10, 20, 30, 40, 50]), st.integers(2, 5))
def test_ild_invariant_to_list_order(tiny, perm, n):
    items = list(perm[:n])
    a = intra_list_diversity(recs({1: items}), tiny)
    b = intra_list_diversity(recs({1: items[::-1]}), tiny)
    assert a == pytest.approx(b)


# ------------------------------------------------------------------ serendipity
def test_serendipity_hand(tiny):
    # test = (u1, 30) and (u3, 50); train = the rest. train counts 10:2, 20:2, 30:1, 40:1, 50:1
    # popularity order (ties by row): 10, 20, 30, 40, 50
    held = ((tiny.ratings.user_id == 1) & (tiny.ratings.item_id == 30)) | \
           ((tiny.ratings.user_id == 3) & (tiny.ratings.item_id == 50))
    train, test = tiny.subset(~held.to_numpy()), tiny.subset(held.to_numpy())
    # u1 saw 10,20: PM(2) = {30, 40}; list [30,50]: 30 relevant but expected, 50 unexpected but irrelevant -> 0
    # u3 saw 20,30: PM(2) = {10, 40}; list [50,10]: 50 relevant and unexpected -> 1/2
    frame = recs({1: [30, 50], 3: [50, 10]})
    assert serendipity(frame, train, test, per_user=True).to_dict() == {1: 0.0, 3: 0.5}
    assert serendipity(frame, train, test) == pytest.approx(0.25)
    assert math.isnan(serendipity(EMPTY, train, test))


# ------------------------------------------------------------------ calibration
def test_genre_matrix_shares(tiny):
    pgi, names = genre_matrix(tiny)
    assert names == ["Action", "Comedy", "Drama", "Sci-Fi"]
    np.testing.assert_allclose(pgi[2], [0, .5, .5, 0])  # item 30: Comedy+Drama
    np.testing.assert_allclose(pgi.sum(axis=1), 1.0)


def test_user_genre_distribution_hand(tiny):
    # u1: 10 (C), 20 (D), 30 (C/2, D/2) -> C 1.5/3, D 1.5/3
    p = user_genre_distribution(tiny)
    np.testing.assert_allclose(p[0], [0, .5, .5, 0])
    # rating weights 5, 3, 1: C = 5 + .5, D = 3 + .5 over 9
    pr = user_genre_distribution(tiny, weights="rating")
    np.testing.assert_allclose(pr[0], [0, 5.5 / 9, 3.5 / 9, 0])


def test_miscalibration_hand(tiny):
    # u1 p = (0, .5, .5, 0). list [10] -> q = (0,1,0,0), q~ = .99 q + .01 p = (0, .995, .005, 0)
    # KL = .5 ln(.5/.995) + .5 ln(.5/.005)
    expected = .5 * math.log(.5 / .995) + .5 * math.log(.5 / .005)
    assert miscalibration(recs({1: [10]}), tiny) == pytest.approx(expected)
    # [30] and [10, 20] reproduce p exactly -> 0
    assert miscalibration(recs({1: [30]}), tiny) == pytest.approx(0.0)
    assert miscalibration(recs({1: [10, 20]}), tiny) == pytest.approx(0.0)
    per = miscalibration(recs({1: [10], 2: [10, 40]}), tiny, per_user=True)
    # u2 history 10 (C), 40 (A): p = (.5,.5,0,0) = q -> 0
    assert per[1] == pytest.approx(expected) and per[2] == pytest.approx(0.0)
    assert math.isnan(miscalibration(EMPTY, tiny))


def test_kl_alpha_and_validation():
    p, q = np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])
    # alpha=1 -> q~ = p -> 0
    assert kl_miscalibration(p, q, alpha=1.0)[0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="alpha"):
        kl_miscalibration(p, q, alpha=0.0)


# ------------------------------------------------------------------ statistics
def test_bootstrap_ci_edges():
    assert bootstrap_ci([3.0, 3.0, 3.0]) == (3.0, 3.0)
    assert bootstrap_ci([2.0]) == (2.0, 2.0)
    lo, hi = bootstrap_ci([])
    assert math.isnan(lo) and math.isnan(hi)
    values = np.random.default_rng(0).normal(1.0, 1.0, 400)
    lo, hi = bootstrap_ci(values, random_state=1)
    assert lo < values.mean() < hi and hi - lo < 0.4
    assert bootstrap_ci(values, random_state=1) == (lo, hi)  # seeded
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(values, confidence=95)


def test_mann_whitney_and_kruskal_hand():
    # complete separation of 3 vs 3: U = 0, exact two-sided p = 2 / C(6,3) = 0.1
    res = mann_whitney([1, 2, 3], [4, 5, 6])
    assert res.statistic == 0 and res.p_value == pytest.approx(0.1)
    # ranks 1..6 in groups of 2: R = 3, 7, 11; H = 12/(6*7) * (9+49+121)/2 - 3*7 = 4.5714
    kw = kruskal_wallis([1, 2], [3, 4], [5, 6])
    assert kw.statistic == pytest.approx(12 / 42 * 179 / 2 - 21)
    assert kruskal_wallis([1, 1], [1, 1]).p_value == 1.0
    assert math.isnan(mann_whitney([], [1, 2]).p_value)


def test_holm_hand():
    # sorted .01, .03, .04 -> 3*.01=.03, 2*.03=.06, max(.06, .04)=.06
    np.testing.assert_allclose(holm_correction([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    adj = holm_correction([0.5, np.nan, 0.9])
    assert math.isnan(adj[1]) and adj[0] == pytest.approx(1.0) and adj[2] == pytest.approx(1.0)
    assert holm_correction([]).size == 0


def test_paired_tests_hand():
    # differences 1..5 all positive: W- = 0, exact p = 2 / 2^5 = 0.0625
    res = paired_wilcoxon([2, 4, 6, 8, 10], [1, 2, 3, 4, 5])
    assert res.statistic == 0 and res.p_value == pytest.approx(0.0625)
    assert paired_wilcoxon([1, 2], [1, 2]).p_value == 1.0
    # constant difference 1 -> CI (1, 1)
    assert paired_bootstrap_ci([2, 3, 4], [1, 2, 3]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="same users"):
        paired_bootstrap_ci([1, 2], [1])


# ------------------------------------------------------------------ input errors
def test_errors_name_the_problem(tiny):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['rank'\]"):
        catalog_coverage(pd.DataFrame({"user_id": [1], "item_id": [10]}), tiny)
    with pytest.raises(ValueError, match="twice"):
        catalog_coverage(recs({1: [10, 10]}), tiny)
    with pytest.raises(KeyError, match="unknown"):
        catalog_coverage(recs({1: [99]}), tiny)
    with pytest.raises(ValueError, match="k == 0"):
        novelty(recs({1: [10]}), tiny, k=0)


def test_k_larger_than_catalogue_equals_whole_list(tiny):
    # a full-catalogue list cut at k=100 (> 5 items) is the list itself, for every per-list metric
    frame = recs({1: [40, 50, 30], 2: [20, 30, 40, 50]})
    for fn in (novelty, intra_list_diversity, average_recommendation_popularity, aplt, miscalibration):
        assert fn(frame, tiny, k=100) == pytest.approx(fn(frame, tiny))
    assert exposure_gini(frame, tiny, k=100) == exposure_gini(frame, tiny)
