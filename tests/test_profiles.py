"""UserProfiler and MultiInterestProfiler on hand-made examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from filmrec_toolkit import Dataset
from filmrec_toolkit.exceptions import NotFittedError
from filmrec_toolkit.features import ItemEmbeddings
from filmrec_toolkit.profiles import MultiInterestProfiler, UserProfiler, profile_weights

DAY = 86400


@pytest.fixture
def hand():
    """Films a, b, c are the unit axes; film d is a copy of a.

    user 1 rates a=5, b=3, c=1 on days 0, 180, 360
    user 2 rates a=4, b=4 (constant ratings)
    user 3 rates c=2 only
    user 4 rates a=5, d=1 (centred weights +2, -2 on identical vectors: they cancel)
    user 5 is in the users table but rated nothing
    """
    ratings = pd.DataFrame({
        "user_id": [1, 1, 1, 2, 2, 3, 4, 4],
        "item_id": ["a", "b", "c", "a", "b", "c", "a", "d"],
        "rating": [5.0, 3.0, 1.0, 4.0, 4.0, 2.0, 5.0, 1.0],
        "timestamp": [0, 180 * DAY, 360 * DAY, 0, DAY, 0, 0, DAY],
    })
    users = pd.DataFrame({"user_id": [1, 2, 3, 4, 5]})
    ds = Dataset.from_frames(ratings, users=users, keep_unrated_users=True)
    emb = ItemEmbeddings(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], np.float32), ["a", "b", "c", "d"])
    return ds, emb


def test_rating_weighted_centres_on_user_mean(hand):
    ds, emb = hand
    w = profile_weights(ds, "rating_weighted").toarray()
    # user 1: mean 3 -> weights 5-3, 3-3, 1-3 = 2, 0, -2
    np.testing.assert_allclose(w[0, :3], [2, 0, -2])
    # user 2: constant ratings -> plain mean weights 1, 1
    np.testing.assert_allclose(w[1, :2], [1, 1])
    prof = UserProfiler("rating_weighted").fit(ds, emb)
    p = prof.transform()
    assert p.shape == (5, 3) and p.dtype == np.float32
    # (2a - 2c) / 4 = (0.5, 0, -0.5) -> normalised (1/sqrt2, 0, -1/sqrt2): disliked c pushes away
    np.testing.assert_allclose(p[0], [2**-0.5, 0, -(2**-0.5)], atol=1e-6)
    np.testing.assert_allclose(p[1], [2**-0.5, 2**-0.5, 0], atol=1e-6)


def test_mean_and_time_decay(hand):
    ds, emb = hand
    p = UserProfiler("mean").fit(ds, emb).transform()
    np.testing.assert_allclose(p[0], np.ones(3) / np.sqrt(3), atol=1e-6)
    w = profile_weights(ds, "time_decay", half_life_days=180).toarray()
    # ages 360, 180, 0 days with half-life 180 -> 0.25, 0.5, 1
    np.testing.assert_allclose(w[0, :3], [0.25, 0.5, 1.0])
    p = UserProfiler("time_decay", half_life_days=180).fit(ds, emb).transform()
    np.testing.assert_allclose(p[0], np.array([0.25, 0.5, 1.0]) / np.sqrt(1.3125), atol=1e-6)


def test_fallback_users_are_flagged_never_zero(hand):
    ds, emb = hand
    prof = UserProfiler("rating_weighted", min_ratings=2).fit(ds, emb)
    info = prof.info_.set_index("user_id")
    assert info["fallback"].tolist() == [False, False, True, True, True]
    assert info.loc[3, "fallback_reason"] == "fewer than min_ratings=2"
    assert info.loc[4, "fallback_reason"] == "weights cancel out"
    assert info.loc[5, "fallback_reason"] == "no ratings"
    p = prof.transform()
    # population profile = normalised mean of the own profiles of users 1 and 2
    own = p[:2].mean(0)
    np.testing.assert_allclose(p[2], own / np.linalg.norm(own), atol=1e-6)
    np.testing.assert_allclose(p[2:], np.repeat(prof.population_profile_[None], 3, 0))
    assert np.all(np.linalg.norm(p, axis=1) > 0.99)


def test_score_and_profile_from_items(hand):
    ds, emb = hand
    prof = UserProfiler("rating_weighted").fit(ds, emb)
    s = prof.score([0, 1], emb.matrix)
    assert s.shape == (2, 4)
    np.testing.assert_allclose(s[0], [2**-0.5, 0, -(2**-0.5), 2**-0.5], atol=1e-6)
    new = prof.profile_from_items([0, 1, 2], emb.matrix, ratings=[5, 3, 1])
    np.testing.assert_allclose(new, prof.transform()[0], atol=1e-6)
    decay = UserProfiler("time_decay", half_life_days=180)
    out = decay.profile_from_items([0, 1, 2], emb, timestamps=[0, 180 * DAY, 360 * DAY])
    np.testing.assert_allclose(out, np.array([0.25, 0.5, 1.0]) / np.sqrt(1.3125), atol=1e-6)
    with pytest.raises(ValueError, match="item_rows is empty"):
        prof.profile_from_items([], emb.matrix)
    with pytest.raises(ValueError, match="ratings has 2 values"):
        prof.profile_from_items([0, 1, 2], emb.matrix, ratings=[5, 3])


def test_bad_parameters_and_not_fitted(hand):
    ds, emb = hand
    with pytest.raises(NotFittedError, match="call fit first"):
        UserProfiler().transform()
    with pytest.raises(ValueError, match="strategy='median'"):
        UserProfiler("median").fit(ds, emb)
    with pytest.raises(ValueError, match="half_life_days == -1"):
        UserProfiler("time_decay", half_life_days=-1).fit(ds, emb)
    with pytest.raises(ValueError, match="min_ratings == 0"):
        UserProfiler(min_ratings=0).fit(ds, emb)
    with pytest.raises(TypeError, match="ItemEmbeddings"):
        UserProfiler().fit(ds, emb.matrix)


# ------------------------------------------------------------ multi-interest
@pytest.fixture
def two_interest_data():
    """User 1 likes 10 films around axis 0 and 10 around axis 1; user 2 likes 12 around axis 2;
    user 3 has one rating (falls back with min_ratings=2)."""
    rng = np.random.default_rng(0)
    d, per = 8, 10
    vecs = []
    for axis, n in ((0, per), (1, per), (2, 12)):
        v = rng.normal(scale=0.05, size=(n, d))
        v[:, axis] += 1.0
        vecs.append(v)
    m = np.vstack(vecs).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    ids = [f"i{j:02d}" for j in range(len(m))]
    rows = [(1, ids[j], 5.0) for j in range(20)] + [(2, ids[j], 5.0) for j in range(20, 32)] + [(3, ids[0], 4.0)]
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    return Dataset.from_frames(ratings), ItemEmbeddings(m, ids)


def test_multi_interest_finds_two_interests(two_interest_data):
    ds, emb = two_interest_data
    mip = MultiInterestProfiler(max_interests=4, min_cluster_size=3, min_ratings=2, random_state=0).fit(ds, emb)
    info = mip.info_.set_index("user_id")
    assert info.loc[1, "n_interests"] == 2
    assert info.loc[2, "n_interests"] == 1
    assert info.loc[3, "fallback"] and info.loc[3, "n_interests"] == 1
    c, w = mip.user_interests(0)
    np.testing.assert_allclose(sorted(w), [0.5, 0.5])
    assert sorted(np.argmax(c, axis=1).tolist()) == [0, 1]
    assert mip.transform().shape == (3, 8)
    # max: a film on axis 1 scores ~1 for user 1 (the mean profile would give ~0.71)
    s_max = mip.score([0], emb.matrix)
    single = UserProfiler("mean").fit(ds, emb).score([0], emb.matrix)
    assert s_max[0, 15] > 0.95 > 0.8 > single[0, 15]
    # weighted = sum_k w_k cos(c_k, e)
    mip.aggregate = "weighted"
    np.testing.assert_allclose(mip.score([0], emb.matrix)[0], (w[:, None] * (c @ emb.matrix.T)).sum(0), atol=1e-6)
    # score in blocks gives the same as one block
    np.testing.assert_allclose(mip.score([0, 1, 2], emb.matrix, block=1), mip.score([0, 1, 2], emb.matrix), atol=1e-6)


def test_multi_interest_bad_aggregate(two_interest_data):
    ds, emb = two_interest_data
    with pytest.raises(ValueError, match="aggregate='sum'"):
        MultiInterestProfiler(aggregate="sum").fit(ds, emb)


def test_content_recommender_accepts_multi_interest(two_interest_data):
    recs = pytest.importorskip("filmrec_toolkit.recommenders")
    if not hasattr(recs, "ContentRecommender"):
        pytest.skip("ContentRecommender not available yet")
    ds, emb = two_interest_data
    model = recs.ContentRecommender(emb, profiler=MultiInterestProfiler(min_cluster_size=3, random_state=0))
    top = model.fit(ds).recommend(k=3, exclude_seen=False)
    assert len(top) == 9
