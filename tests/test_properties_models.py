"""Property tests (hypothesis) for the ranking invariants of issue 14.

* no excluded item ever appears in a list, whatever the stored values (zeros, negatives);
* lists never contain duplicates;
* results do not depend on ``chunk_size``;
* ``evaluate`` never counts an item that cannot be a hit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import filmrec_toolkit as ft
from filmrec_toolkit import Dataset, evaluate
from filmrec_toolkit.recommenders import Recommender

VALUES = [0.0, -1.0, -0.0, 0.5, 1.0, 3.0, 5.0]
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class SeededScores(Recommender):
    """Random scores per (user, item) from a seed, with deliberate ties (rounded to 1 decimal)."""

    name = "seeded"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _fit(self, train):
        rng = np.random.default_rng(self.seed)
        self.table_ = np.round(rng.random((train.n_users, train.n_items)), 1).astype(np.float32)

    def _score(self, user_rows):
        return self.table_[user_rows]


@st.composite
def rating_frames(draw, max_users: int = 6, max_items: int = 8):
    n_users = draw(st.integers(1, max_users))
    n_items = draw(st.integers(2, max_items))
    cells = draw(st.sets(st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1)),
                         min_size=1, max_size=n_users * n_items))
    cells = sorted(cells)
    values = draw(st.lists(st.sampled_from(VALUES), min_size=len(cells), max_size=len(cells)))
    return pd.DataFrame({"user_id": [u for u, _ in cells], "item_id": [i for _, i in cells], "rating": values})


def _models(ds: Dataset, seed: int) -> list[Recommender]:
    vec = np.random.default_rng(seed).standard_normal((ds.n_items, 4)).astype(np.float32)
    emb = ft.ItemEmbeddings(vec, ds.item_ids, "random-4")
    return [ft.Popularity(), ft.EASE(l2=10.0), ft.ItemKNN(n_neighbors=3, shrink=0.0), ft.ContentRecommender(emb),
            SeededScores(seed)]


def _check_lists(recs: pd.DataFrame, forbidden: dict) -> None:
    for uid, grp in recs.groupby("user_id"):
        items = grp["item_id"].tolist()
        assert len(items) == len(set(items)), f"duplicates in user {uid}'s list: {items}"
        assert not set(items) & forbidden.get(uid, set()), f"user {uid} got an excluded item: {items}"
        assert grp["rank"].tolist() == list(range(1, len(items) + 1))


@SETTINGS
@given(rating_frames(), st.integers(0, 1000), st.integers(1, 10))
def test_seen_items_never_come_back_and_no_duplicates(frame, seed, k):
    ds = Dataset.from_frames(frame)
    seen = frame.groupby("user_id")["item_id"].apply(set).to_dict()
    for model in _models(ds, seed):
        recs = model.fit(ds).recommend(k=k)
        _check_lists(recs, seen)
        # every allowed item is listed when k allows: exclusion removes exactly the seen items
        sizes = recs.groupby("user_id").size()
        for uid in ds.user_ids:
            expected = min(k, ds.n_items - len(seen.get(uid, ())))
            assert sizes.get(uid, 0) == expected, (model.name, uid)


@SETTINGS
@given(rating_frames(), st.integers(0, 1000), st.data())
def test_an_exclusion_matrix_excludes_by_structure(frame, seed, data):
    ds = Dataset.from_frames(frame)
    n_extra = data.draw(st.integers(0, ds.n_users * ds.n_items))
    rows = data.draw(st.lists(st.integers(0, ds.n_users - 1), min_size=n_extra, max_size=n_extra))
    cols = data.draw(st.lists(st.integers(0, ds.n_items - 1), min_size=n_extra, max_size=n_extra))
    values = data.draw(st.lists(st.sampled_from(VALUES), min_size=n_extra, max_size=n_extra))
    mask = sp.coo_matrix((np.asarray(values, np.float32), (rows, cols)), shape=(ds.n_users, ds.n_items)).tocsr()
    forbidden: dict = {}
    for r, c in zip(rows, cols):
        forbidden.setdefault(ds.user_ids[r], set()).add(ds.item_ids[c])
    for model in _models(ds, seed)[::2]:
        _check_lists(model.fit(ds).recommend(k=ds.n_items, exclude_seen=mask), forbidden)


@SETTINGS
@given(rating_frames(), st.integers(0, 1000), st.integers(1, 10), st.integers(1, 7))
def test_results_do_not_depend_on_chunk_size(frame, seed, k, chunk):
    ds = Dataset.from_frames(frame)
    for model in _models(ds, seed):
        model.fit(ds)
        pd.testing.assert_frame_equal(model.recommend(k=k), model.recommend(k=k, chunk_size=chunk), check_exact=True)


@SETTINGS
@given(rating_frames(), st.integers(0, 1000), st.data())
def test_evaluate_counts_only_items_that_can_be_hits(frame, seed, data):
    ds = Dataset.from_frames(frame)
    in_test = np.asarray(data.draw(st.lists(st.booleans(), min_size=ds.n_ratings, max_size=ds.n_ratings)))
    train, test = ds.subset(~in_test), ds.subset(in_test)
    threshold = data.draw(st.sampled_from([None, 0.0, 1.0, -1.0]))
    extra = data.draw(st.booleans())
    exclude = True
    if extra:  # also mask some test interactions: they can no longer be hits
        pick = np.asarray(data.draw(st.lists(st.booleans(), min_size=test.n_ratings, max_size=test.n_ratings)),
                          dtype=bool)
        t = test.matrix.tocoo()
        tr = train.matrix.tocoo()
        exclude = sp.csr_matrix((np.r_[tr.data, np.zeros(pick.sum(), np.float32)],
                                 (np.r_[tr.row, t.row[pick]], np.r_[tr.col, t.col[pick]])), shape=tr.shape)
    relevant = test.ratings if threshold is None else test.ratings[test.ratings["rating"] >= threshold]
    assume(len(relevant))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            res = evaluate(SeededScores(seed), train, test, k=ds.n_items, exclude=exclude,
                           relevance_threshold=threshold)
        except ValueError as exc:  # every relevant item masked: a clear error, never NaN metrics
            assert "no user has a relevant test item" in str(exc)
            return
    kk = ds.n_items
    pu = res.per_user
    # the lists hold every rankable item, so every counted relevant item must be found
    assert (pu[f"recall@{kk}"] == 1.0).all(), pu
    assert np.allclose(pu[f"precision@{kk}"] * kk, pu["n_test"])
    assert (pu["n_test"] >= 1).all()
    assert res.n_users + res.n_users_excluded == ds.n_users


def test_the_properties_can_fail():
    """The checker catches a leaked item and a duplicate (so the properties above are not vacuous)."""
    recs = pd.DataFrame({"user_id": [1, 1], "item_id": [5, 5], "score": [1.0, 1.0], "rank": [1, 2]})
    with pytest.raises(AssertionError, match="duplicates"):
        _check_lists(recs, {})
    with pytest.raises(AssertionError, match="excluded item"):
        _check_lists(recs.head(1), {1: {5}})
