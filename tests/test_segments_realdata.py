"""Segments of ml-1m users from real MiniLM embeddings (realdata)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ml1m_segments(ml1m):
    from filmrec_toolkit.features import embed_items
    from filmrec_toolkit.profiles import UserProfiler, describe_segments, segment_users

    emb = embed_items(ml1m)
    profiler = UserProfiler("rating_weighted").fit(ml1m, emb)
    res = segment_users(profiler.transform(), n_segments="auto", n_segments_range=range(2, 9), random_state=42, sample_size=2000)
    table = describe_segments(ml1m, res, emb, profiles=profiler.transform(), min_cell=10)
    return emb, profiler, res, table


def test_segments_differ_demographically(ml1m_segments):
    _, profiler, res, table = ml1m_segments
    assert not profiler.info_["fallback"].any()
    assert 2 <= res.k <= 8 and len(table) == res.k
    assert table["size"].sum() == 6040
    # at least one segment's gender or age composition differs from the rest with p < 0.01
    assert min(table["gender_p"].min(), table["age_group_p"].min()) < 0.01
    assert table["label"].nunique() > 1
    assert res.silhouette.notna().all()


def test_multi_interest_on_ml1m(ml1m, ml1m_segments):
    from filmrec_toolkit.profiles import MultiInterestProfiler

    emb = ml1m_segments[0]
    mip = MultiInterestProfiler(max_interests=4, random_state=42).fit(ml1m, emb)
    info = mip.info_
    assert len(info) == 6040 and not info["fallback"].any()
    assert info["n_interests"].between(1, 4).all()
    assert np.allclose(np.linalg.norm(mip.centroids_, axis=1), 1.0, atol=1e-4)
    scores = mip.score(np.arange(5), emb.matrix)
    assert scores.shape == (5, ml1m.n_items) and np.isfinite(scores).all()
