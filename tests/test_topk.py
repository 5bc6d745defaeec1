"""Shared top-k: exact, deterministic ties, k larger than the catalogue."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from filmrec_toolkit._topk import _topk_partition, topk


def test_hand_example_with_ties():
    s = np.array([[1, 3, 3, 2, 3, 0]], dtype=np.float32)
    cols, vals = topk(s, 2)
    # three items tie at 3: the two lowest columns win
    assert cols.tolist() == [[1, 2]] and vals.tolist() == [[3, 3]]


def test_k_larger_than_catalogue_and_exclusions():
    s = np.array([[0.5, -np.inf, 0.1]], dtype=np.float32)
    cols, vals = topk(s, 10)
    assert cols.tolist() == [[0, 2, 1]]
    assert np.isneginf(vals[0, 2])


def test_nan_counts_as_excluded():
    cols, vals = topk(np.array([[np.nan, 1.0, 2.0]]), 3)
    assert cols.tolist() == [[2, 1, 0]] and np.isneginf(vals[0, 2])


def test_empty_inputs():
    cols, vals = topk(np.zeros((0, 5)), 3)
    assert cols.shape == (0, 3)
    cols, vals = topk(np.zeros((2, 0)), 3)
    assert cols.shape == (2, 0)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 12)),
              elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0])),
       st.integers(1, 15))
def test_matches_a_stable_full_sort(scores, k):
    cols, vals = topk(scores, k)
    expected = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, scores.shape[1])]
    assert np.array_equal(cols, expected)
    assert np.array_equal(vals, np.take_along_axis(scores, expected, 1))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 8), st.integers(1, 5))
def test_pruned_path_equals_partition_path(seed, n, k):
    """The block-max bound path (block=4 so it triggers on small rows) equals argpartition."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(64, 400))
    s = np.round(rng.standard_normal((n, m)), 1).astype(np.float32)  # many ties
    s[rng.random(s.shape) < 0.2] = -np.inf
    s[rng.random(s.shape) < 0.02] = np.nan
    if seed % 5 == 0:
        s[0] = -np.inf
    fast = topk(s, k, block=4)
    slow = _topk_partition(s, k)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
