"""Bounded memory of all-user ranking: the peak does not grow with the number of users.

Measured with tracemalloc (NumPy reports its buffers to it). Peak of
``recommend_rows`` ~= chunk_size x n_items x ~17.4 bytes (float32 scores, their negated
copy, argpartition's int64 indices, a boolean mask) + the (n_users, k) outputs
(12 bytes per entry) + model state; only the outputs depend on the number of users.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from filmrec_toolkit import ContentRecommender, ItemEmbeddings, ItemKNN, Popularity, make_synthetic_interactions


@pytest.fixture(scope="module")
def ds():
    return make_synthetic_interactions(3000, 1500, 40_000, random_state=0)


def _peak(model, n_users, k=10, chunk=150):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        cols, vals = model.recommend_rows(np.arange(n_users), k, chunk_size=chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, cols.nbytes + vals.nbytes


@pytest.mark.parametrize("name", ["content", "itemknn", "popularity"])
def test_peak_memory_does_not_grow_with_users(ds, name):
    vec = np.random.default_rng(0).standard_normal((ds.n_items, 32)).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    model = {"content": lambda: ContentRecommender(ItemEmbeddings(vec, ds.item_ids)),
             "itemknn": lambda: ItemKNN(n_neighbors=30), "popularity": Popularity}[name]().fit(ds)
    small, out_small = _peak(model, 300)
    large, out_large = _peak(model, 3000)
    chunk_bytes = 150 * ds.n_items * 4
    # 10x the users: the peak grows by the larger output arrays only (+ 64 KiB of slack)
    assert large - small <= (out_large - out_small) + 64 * 1024
    # and the chunk working set is a few score buffers, not more
    assert chunk_bytes < large - out_large < 6 * chunk_bytes
