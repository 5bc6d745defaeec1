"""Splits: no overlap, no lost rating, shared vocabularies, protocol shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import Dataset
from filmrec_toolkit.datasets import recbole_split_sizes


@pytest.fixture
def medium():
    rng = np.random.default_rng(0)
    rows = []
    for u in range(30):
        n = int(rng.integers(1, 25))
        items = rng.choice(60, size=n, replace=False)
        for i in items:
            rows.append((u, int(i), float(rng.integers(1, 6)), int(rng.integers(0, 50))))
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]))


def _pairs(ds):
    return set(zip(ds.ratings["user_id"], ds.ratings["item_id"]))


SPLITS = [
    lambda d: ft.random_split(d, 0.8, random_state=1),
    lambda d: ft.stratified_split(d, 0.75, random_state=42),
    lambda d: ft.temporal_split(d, (0.7, 0.1, 0.2)),
    lambda d: ft.temporal_split(d, last_n=2),
    lambda d: ft.leave_last_one_out(d),
    lambda d: ft.leave_last_one_out(d, valid=True),
    lambda d: ft.global_time_split(d, 0.8),
    lambda d: ft.user_random_split(d, (0.8, 0.1, 0.1), random_state=3),
]


@pytest.mark.parametrize("split", SPLITS)
def test_partition_is_exact_and_shares_vocabularies(medium, split):
    parts = split(medium)
    assert len(parts) in (2, 3)
    all_pairs = [_pairs(p) for p in parts]
    assert sum(len(p) for p in all_pairs) == medium.n_ratings  # no lost rating
    for a in range(len(parts)):
        for b in range(a + 1, len(parts)):
            assert not all_pairs[a] & all_pairs[b]  # no overlap
        assert parts[a].user_vocab == medium.user_vocab and parts[a].item_vocab == medium.item_vocab


@pytest.mark.parametrize("split", SPLITS)
def test_splits_are_deterministic(medium, split):
    assert [_pairs(p) for p in split(medium)] == [_pairs(p) for p in split(medium)]


def _msr_reference(ratings: pd.DataFrame, ratio: float, seed: int) -> set:
    """Literal re-statement of recommenders 1.2 python_stratified_split (docs/protocols.md)."""
    data = ratings.copy()
    np.random.seed(seed)
    data["random"] = np.random.rand(data.shape[0])
    data = data.sort_values(["user_id", "random"])
    groups = data.groupby("user_id")
    data["count"] = groups["user_id"].transform("count")
    data["rank"] = groups.cumcount() + 1
    train = data[data["rank"] <= round(ratio * data["count"])]
    return set(zip(train["user_id"], train["item_id"]))


def test_stratified_split_matches_msr_recommenders(medium):
    train, test = ft.stratified_split(medium, 0.75, random_state=42)
    assert _pairs(train) == _msr_reference(medium.ratings, 0.75, 42)


def test_stratified_split_rounds_half_to_even():
    # a user with 2 ratings: round(0.75 * 2) = round(1.5) = 2 -> both in train;
    # a user with 6: round(4.5) = 4 (half to even) -> 4 train, 2 test
    ratings = pd.DataFrame({"user_id": [1, 1] + [2] * 6, "item_id": list(range(8)), "rating": 1.0})
    train, test = ft.stratified_split(Dataset.from_frames(ratings), 0.75)
    assert train.user_counts().tolist() == [2, 4] and test.user_counts().tolist() == [0, 2]


def test_temporal_split_boratto_shape():
    # one user, 10 ratings, timestamps 0..9 -> train ranks 1..7, valid 8, test 9..10
    ratings = pd.DataFrame({"user_id": 1, "item_id": range(10), "rating": 3.0, "timestamp": range(10)[::-1]})
    tr, va, te = ft.temporal_split(Dataset.from_frames(ratings), (0.7, 0.1, 0.2))
    # timestamps were reversed: item 9 is the oldest
    assert sorted(tr.ratings["timestamp"]) == list(range(7))
    assert va.ratings["timestamp"].tolist() == [7]
    assert sorted(te.ratings["timestamp"]) == [8, 9]


def test_temporal_ties_break_by_item_then_row():
    ratings = pd.DataFrame({"user_id": 1, "item_id": [5, 3, 4, 1], "rating": 3.0, "timestamp": [1, 1, 1, 0]})
    tr, te = ft.temporal_split(Dataset.from_frames(ratings), last_n=1)
    assert te.ratings["item_id"].tolist() == [5]  # among the t=1 ties, the highest item row is "latest"


def test_leave_last_one_out_holds_each_users_latest(medium):
    train, test = ft.leave_last_one_out(medium)
    r = medium.ratings.assign(item_row=medium.item_rows)
    latest = (r.sort_values(["user_id", "timestamp", "item_row"]).groupby("user_id").tail(1))
    multi = medium.user_counts()[medium.user_vocab.to_rows(latest["user_id"])] > 1
    assert _pairs(test) == set(zip(latest["user_id"][multi], latest["item_id"][multi]))
    assert (test.user_counts() <= 1).all()


def test_global_time_split_cut():
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 2], "rating": 1.0,
                            "timestamp": [10, 20, 30, 40]})
    tr, te = ft.global_time_split(Dataset.from_frames(ratings), timestamp=25)
    assert tr.ratings["timestamp"].max() < 25 <= te.ratings["timestamp"].min()


@pytest.mark.parametrize("n, expected", [
    (10, [8, 1, 1]),   # int(1.0) = 1 each
    (25, [21, 2, 2]),  # int(2.5) = 2 each
    (5, [3, 1, 1]),    # 0 < 0.5 < 1: each later part still gets one row
    (2, [1, 0, 1]),    # test gets one, then train would drop to <= 1: stop
    (1, [1, 0, 0]),
])
def test_recbole_split_sizes(n, expected):
    assert recbole_split_sizes(n) == expected


def test_user_random_split_follows_recbole_sizes(medium):
    tr, va, te = ft.user_random_split(medium, random_state=5)
    for row, n in enumerate(medium.user_counts()):
        assert [tr.user_counts()[row], va.user_counts()[row], te.user_counts()[row]] == recbole_split_sizes(int(n))


def test_bad_ratio_is_named(medium):
    with pytest.raises(ValueError, match="ratio=1.5"):
        ft.random_split(medium, 1.5)
    with pytest.raises(ValueError, match="ratio="):
        ft.stratified_split(medium, (0.5, 0.2))


def test_temporal_split_needs_timestamps():
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [1.0]}))
    with pytest.raises(ValueError, match="timestamp"):
        ft.temporal_split(ds)
