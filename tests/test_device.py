"""Torch scoring and top-k (``device=``), run on the CPU through the same code a GPU runs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

import filmrec_toolkit as ft  # noqa: E402
from filmrec_toolkit._topk import topk  # noqa: E402
from filmrec_toolkit.recommenders.device import device_chunk_size, resolve_device, torch_topk  # noqa: E402


def test_torch_topk_by_hand_ties_nan_and_exclusion():
    s = np.array([[1.0, 3.0, 3.0, 2.0, np.nan],
                  [0.0, 0.0, 0.0, 0.0, 0.0],
                  [5.0, 4.0, 3.0, 2.0, 1.0]], dtype=np.float32)
    cols, vals = torch_topk(s, 2)
    assert cols.tolist() == [[1, 2], [0, 1], [0, 1]]  # ties: lower column first
    excl = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]))
    cols, vals = torch_topk(s, 3, exclude=excl)
    assert cols.tolist() == [[2, 3, 0], [1, 2, 3], [0, 1, 2]]
    cols, vals = torch_topk(s, 9)  # k > m keeps m; NaN ranks as -inf, last
    assert cols[0].tolist() == [1, 2, 3, 0, 4] and vals[0, -1] == -np.inf


def test_torch_topk_equals_numpy_topk_with_many_ties():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 6, size=(300, 700)).astype(np.float32)  # heavy ties everywhere
    s[rng.random(s.shape) < 0.05] = -np.inf
    s[:5, 3:] = -np.inf  # rows with fewer finite scores than k
    for k in (1, 7, 10):
        want = topk(s, k)
        for chunk in (None, 13):
            got = torch_topk(s, k, chunk_size=chunk)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


def test_torch_topk_from_factors_equals_dense():
    rng = np.random.default_rng(1)
    U = rng.integers(-3, 4, size=(50, 4)).astype(np.float32)  # integer factors: exact products, exact ties
    V = rng.integers(-3, 4, size=(80, 4)).astype(np.float32)
    excl = sp.random(50, 80, density=0.1, random_state=0, format="csr")
    want = topk(np.where(excl.toarray() != 0, -np.inf, U @ V.T).astype(np.float32), 10)
    got = torch_topk(factors=(U, V), k=10, exclude=excl, chunk_size=7)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_torch_topk_bad_input():
    with pytest.raises(ValueError, match="exactly one"):
        torch_topk(None, 3)
    with pytest.raises(ValueError, match="2-D"):
        torch_topk(np.zeros(3), 3)
    with pytest.raises(ValueError, match="same d"):
        torch_topk(factors=(np.zeros((2, 3)), np.zeros((4, 2))), k=1)
    with pytest.raises(ValueError, match="exclude has shape"):
        torch_topk(np.zeros((2, 3)), 1, exclude=sp.csr_matrix((3, 3)))
    with pytest.raises(ValueError, match="device='gpu!'"):
        resolve_device("gpu!")
    assert resolve_device("cpu").type == "cpu"
    assert device_chunk_size(1000, "cpu", budget_bytes=12_000 * 5) == 5


@pytest.fixture(scope="module")
def synth():
    return ft.make_synthetic_interactions(300, 120, 4000, random_state=0)


def _models(ds):
    rng = np.random.default_rng(0)
    vec = rng.standard_normal((ds.n_items, 8)).astype(np.float32)
    emb = ft.ItemEmbeddings(vec / np.linalg.norm(vec, axis=1, keepdims=True), ds.item_ids, model_id="random-8d")
    return [ft.ContentRecommender(emb), ft.EASE(l2=50.0), ft.ItemKNN(n_neighbors=20),
            ft.ALS(factors=8, iterations=3, random_state=0), ft.Popularity()]


@pytest.mark.parametrize("index", range(5))
def test_recommend_device_cpu_same_lists_as_numpy(synth, index):
    model = _models(synth)[index].fit(synth)
    want = model.recommend(k=10)
    got = model.recommend(k=10, device="cpu", chunk_size=37)
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-5, atol=1e-5)
    same = (got["item_id"].to_numpy() == want["item_id"].to_numpy()).mean()
    if not same == 1.0:  # only where float rounding reorders near-equal scores
        diff = got["item_id"].to_numpy() != want["item_id"].to_numpy()
        assert np.allclose(got["score"].to_numpy()[diff], want["score"].to_numpy()[diff], atol=1e-5)
    # candidates and another exclusion go through the device path too
    cand = synth.item_ids[::2]
    a = model.recommend(synth.user_ids[:40], k=5, candidates=cand, exclude_seen=False)
    b = model.recommend(synth.user_ids[:40], k=5, candidates=cand, exclude_seen=False, device="cpu")
    assert set(b["item_id"]) <= set(cand)
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-5, atol=1e-5)


def test_itemknn_sparse_and_dense_chunks_identical(monkeypatch):
    from filmrec_toolkit.recommenders import itemknn

    ds = ft.make_synthetic_interactions(400, 300, 6000, random_state=1)
    x = ds.matrix.copy()
    x.data[:] = 1.0  # binary: many tied similarities
    monkeypatch.setattr(itemknn, "DENSE_SHARE", 2.0)  # every chunk sparse
    sparse = itemknn.item_cosine_neighbors(x, 15, shrink=5.0, chunk_size=37)
    monkeypatch.setattr(itemknn, "DENSE_SHARE", -1.0)  # every chunk dense
    dense = itemknn.item_cosine_neighbors(x, 15, shrink=5.0, chunk_size=64)
    assert sparse.nnz == dense.nnz and abs(sparse - dense).max() == 0
    assert (np.diff(sparse.tocsc().indptr) <= 15).all() and sparse.diagonal().sum() == 0
    # by hand: the kept neighbours of item 0 are its 15 best by (similarity desc, row asc)
    xc = x.tocsc().astype(np.float64)
    norms = np.sqrt(np.asarray(xc.multiply(xc).sum(0)).ravel())
    sims = (xc.T @ xc[:, [0]]).toarray().ravel() / (norms * norms[0] + 5.0 + 1e-12)
    sims[0] = 0
    order = np.lexsort((np.arange(len(sims)), -sims))
    want = sorted(i for i in order[:15] if sims[i] > 0)
    assert sorted(sparse[:, 0].nonzero()[0]) == want


def test_ease_refuses_when_gram_does_not_fit(monkeypatch, synth):
    from filmrec_toolkit.recommenders import ease

    assert ease.check_ease_memory(1000, available=10**12) == 28 * 10**6
    with pytest.raises(MemoryError, match=r"n_items=87,000 needs about 197.4 GiB.*ItemKNN.*ALS.*filtered catalogue"):
        ease.check_ease_memory(87_000, available=8 * 2**30)
    monkeypatch.setattr(ease, "available_memory_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match="n_items=120 needs"):
        ft.EASE().fit(synth)


def test_torch_path_excludes_stored_zero_ratings():
    """A rating of 0 is an interaction: the torch path must exclude it like the NumPy path does."""
    import pandas as pd

    import filmrec_toolkit as ft

    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 30, 20],
                            "rating": [0.0, 5.0, 4.0, 0.0, 3.0]})
    ds = ft.Dataset.from_frames(ratings)
    for model in (ft.Popularity(), ft.EASE(l2=1.0)):
        recs = model.fit(ds).recommend(k=3, device="cpu")
        seen = set(zip(ratings["user_id"], ratings["item_id"]))
        assert not seen & set(zip(recs["user_id"], recs["item_id"]))
