"""GPU paths run on the CPU: EASE's torch closed form (``device=``) and ``recommend(device=...)``
for the models the device scorer knows (EASE, EASESide, ContentToCF) or not (hybrids).

Nothing here needs a GPU: ``device="cpu"`` runs the very code a CUDA device runs, and the
CUDA-only branches (no CUDA present, device memory too small) are reached by patching
``torch.cuda.is_available`` and the free-memory probe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

import filmrec_toolkit as ft  # noqa: E402
from filmrec_toolkit.recommenders import ease as ease_mod  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def synth():
    return ft.make_synthetic_interactions(300, 120, 4000, random_state=0)


def _emb(ds, d=8, seed=0):
    rng = np.random.default_rng(seed)
    vec = rng.standard_normal((ds.n_items, d)).astype(np.float32)
    return ft.ItemEmbeddings(vec / np.linalg.norm(vec, axis=1, keepdims=True), ds.item_ids, model_id=f"random-{d}d")


def _same_lists(got: pd.DataFrame, want: pd.DataFrame, atol=1e-5):
    """Same (user, rank) rows and scores; an item may differ only where two scores are within float rounding."""
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    np.testing.assert_array_equal(got["user_id"].to_numpy(), want["user_id"].to_numpy())
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-5, atol=atol)
    diff = got["item_id"].to_numpy() != want["item_id"].to_numpy()
    return int(diff.sum())


# ------------------------------------------------------------------------------ EASE closed form
def test_ease_torch_by_hand_both_devices_and_dtypes():
    # X = [[1, 1], [1, 0]], l2 = 1: G = XᵀX + I = [[3, 1], [1, 2]], P = G⁻¹ = [[2, -1], [-1, 3]] / 5,
    # B_01 = -P_01 / P_11 = 1/3, B_10 = -P_10 / P_00 = 1/2
    ds = ft.Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"],
                                              "rating": [5.0, 3.0, 4.0]}))
    for device in (None, "cpu", "auto"):
        for dtype in ("float64", "float32"):
            model = ft.EASE(l2=1.0, device=device, dtype=dtype).fit(ds)
            np.testing.assert_allclose(model.B_, [[0, 1 / 3], [1 / 2, 0]], atol=1e-6)
            assert model.B_.dtype == np.float32 and isinstance(model.B_, np.ndarray)
            assert model.fit_device_ == ("numpy" if device is None else "cpu")  # no CUDA on the test machines


def test_torch_gram_in_one_column_blocks_equals_scipy():
    x = sp.csr_matrix(np.array([[1, 0, 2, 0], [0, 3, 1, 0], [4, 0, 0, 0]], dtype=np.float32))
    want = np.array([[17, 0, 2, 0], [0, 9, 3, 0], [2, 3, 5, 0], [0, 0, 0, 0]], dtype=np.float64)  # XᵀX by hand
    np.testing.assert_array_equal((x.T @ x).toarray(), want)
    for dtype in (torch.float64, torch.float32):
        for budget in (1, 10**9):  # the GPU form on the CPU: one item column per block, then all at once
            gram = ease_mod._torch_gram(x, torch.device("cpu"), dtype, budget_bytes=budget, blocks=True)
            assert gram.dtype == dtype
            np.testing.assert_array_equal(gram.numpy(), want)
        gram = ease_mod._torch_gram(x, torch.device("cpu"), dtype)  # the CPU form: scipy's product
        assert gram.dtype == dtype
        np.testing.assert_array_equal(gram.numpy(), want)


@pytest.mark.parametrize("implicit", [True, False])
def test_ease_torch_cpu_equals_numpy(synth, implicit):
    numpy_fit = ft.EASE(l2=50.0, implicit=implicit).fit(synth)
    torch64 = ft.EASE(l2=50.0, implicit=implicit, device="cpu").fit(synth)
    torch32 = ft.EASE(l2=50.0, implicit=implicit, device="cpu", dtype="float32").fit(synth)
    scale = np.abs(numpy_fit.B_).max()
    np.testing.assert_allclose(torch64.B_, numpy_fit.B_, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(torch32.B_, numpy_fit.B_, rtol=0, atol=1e-4 * scale)
    assert np.all(np.diag(torch64.B_) == 0) and np.all(np.diag(torch32.B_) == 0)
    want = numpy_fit.recommend(k=10)
    assert _same_lists(torch64.recommend(k=10), want) == 0  # float64: the same lists
    assert _same_lists(torch32.recommend(k=10), want, atol=1e-4) <= 0.01 * len(want)  # near-ties only
    # scored on the torch device as well (history · B there)
    assert _same_lists(torch64.recommend(k=10, device="cpu", chunk_size=41), want) <= 0.01 * len(want)


def test_ease_numpy_default_unchanged(synth):
    """device=None keeps the float64 NumPy closed form, bit for bit."""
    x = ease_mod.interaction_matrix(synth, True)
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += 50.0
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[np.diag_indices_from(b)] = 0.0
    np.testing.assert_array_equal(ft.EASE(l2=50.0).fit(synth).B_, b.astype(np.float32))


def test_ease_side_torch_cpu_equals_numpy(synth):
    emb = _emb(synth)
    a = ft.EASESide(emb, l2=20.0, side_weight=5.0).fit(synth)
    b = ft.EASESide(emb, l2=20.0, side_weight=5.0, device="cpu").fit(synth)
    np.testing.assert_allclose(b.B_, a.B_, rtol=0, atol=1e-6 * np.abs(a.B_).max())
    assert _same_lists(b.recommend(k=10), a.recommend(k=10)) == 0
    # side_weight = 0 is EASE exactly on the torch path too
    zero = ft.EASESide(emb, l2=20.0, side_weight=0.0, device="cpu").fit(synth)
    np.testing.assert_array_equal(zero.B_, ft.EASE(l2=20.0, device="cpu").fit(synth).B_)
    assert not np.array_equal(b.B_, zero.B_)


def test_ease_side_by_hand_on_torch():
    # the EASESide hand example (tests/test_hybrid.py): G = [[3, 1], [1, 2]] from X = [1, 0], F = [1, 1]ᵀ, w = l2 = 1
    ratings = pd.DataFrame({"user_id": [1], "item_id": ["a"], "rating": [4.0]})
    items = pd.DataFrame({"item_id": ["a", "b"], "title": ["A (2000)", "B (2000)"]})
    ds = ft.Dataset.from_frames(ratings, items, keep_unrated_items=True)
    feats = ft.ItemEmbeddings(np.ones((2, 1), np.float32), np.array(["a", "b"]), "one")
    model = ft.EASESide(feats, l2=1.0, side_weight=1.0, device="cpu").fit(ds)
    np.testing.assert_allclose(model.B_, [[0, 1 / 3], [1 / 2, 0]], atol=1e-6)


def test_ease_device_and_dtype_errors(synth):
    with pytest.raises(ValueError, match=r"device == 'gpu' is not a device EASE can fit on; use device=None .*"
                                         r"'cuda'.*EASE\(device='cuda'\)"):
        ft.EASE(device="gpu").fit(synth)
    with pytest.raises(ValueError, match="device == 'mps'"):
        ft.EASE(device="mps").fit(synth)
    with pytest.raises(TypeError, match=r"device must be None or a string, got device\(type='cpu'\)"):
        ft.EASE(device=torch.device("cpu")).fit(synth)
    with pytest.raises(ValueError, match=r"dtype == 'float16', must be one of \['float64', 'float32'\]"):
        ft.EASE(device="cpu", dtype="float16").fit(synth)
    with pytest.raises(ValueError, match="device == 'cuda:x'"):
        ft.EASESide(_emb(synth), device="cuda:x").fit(synth)


def test_ease_cuda_without_cuda_is_a_clear_error(synth, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:0"):
        with pytest.raises(ValueError, match=rf"device == '{device}' but torch finds no CUDA device "
                                             r"\(torch.cuda.is_available\(\) is False.*device='cpu'"):
            ft.EASE(device=device).fit(synth)
    assert ft.EASE(l2=50.0, device="auto").fit(synth).fit_device_ == "cpu"  # auto falls back to the CPU


def test_ease_memory_refusal_counts_device_memory(synth, monkeypatch):
    n = 20_000
    # float64 needs 28 bytes per entry, float32 16 (3 x itemsize + 4)
    assert ease_mod.check_ease_memory(n, available=10**12) == 28 * n * n
    assert ease_mod.check_ease_memory(n, available=10**12, device="cpu", dtype="float32") == 16 * n * n
    assert ease_mod.check_ease_memory(n, available=10**12, device="cuda", device_available=10**12) == 28 * n * n
    with pytest.raises(MemoryError, match=r"needs about 10.4 GiB .* only 1.0 GiB is available on cuda \(free GPU "
                                          r"memory.*dtype='float32'\) needs about 6.0 GiB"):
        ease_mod.check_ease_memory(n, available=10**12, device="cuda", device_available=2**30)
    # on CUDA the host only receives B (4 bytes per entry)
    ease_mod.check_ease_memory(n, available=4 * n * n, device="cuda", device_available=10**12)
    with pytest.raises(MemoryError, match="needs about 1.5 GiB"):
        ease_mod.check_ease_memory(n, available=4 * n * n - 1, device="cuda", device_available=10**12)
    # the fit asks the device before touching it: a CUDA fit refused without any GPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ease_mod, "device_memory_bytes", lambda device: 1000)
    with pytest.raises(MemoryError, match=r"n_items=120 needs .* on cuda \(free GPU memory"):
        ft.EASE(device="cuda").fit(synth)
    monkeypatch.setattr(ease_mod, "available_memory_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match="n_items=120 needs"):
        ft.EASE(device="cpu").fit(synth)


def test_ease_torch_fit_saves_and_loads(synth, tmp_path):
    model = ft.EASE(l2=50.0, device="cpu", dtype="float32").fit(synth)
    ft.save(model, tmp_path / "ease.npz")
    loaded = ft.load(tmp_path / "ease.npz")
    assert loaded.get_params() == {"l2": 50.0, "implicit": True, "device": "cpu", "dtype": "float32"}
    np.testing.assert_array_equal(loaded.B_, model.B_)
    pd.testing.assert_frame_equal(loaded.recommend(k=5), model.recommend(k=5))


# ------------------------------------------------------------- recommend(device=) for more models
def _device_models(ds):
    emb = _emb(ds)
    return {
        "content_to_cf": ft.ContentToCF(None, factors=8, alpha=1.0),
        "content_to_cf_als": ft.ContentToCF(emb, metadata=(), cf="als", factors=8, alpha=1.0, map_warm=True),
        "ease_side": ft.EASESide(emb, l2=20.0, side_weight=5.0),
        "hybrid": ft.Hybrid([ft.EASE(l2=20.0), ft.ContentRecommender(emb)], weights=[1.0, 0.5]),
        "bpr": ft.BPR(factors=8, iterations=3, random_state=0),
    }


@pytest.mark.parametrize("name", ["content_to_cf", "content_to_cf_als", "ease_side", "hybrid", "bpr"])
def test_recommend_device_cpu_same_lists_more_models(synth, name):
    model = _device_models(synth)[name].fit(synth)
    want = model.recommend(k=10)
    got = model.recommend(k=10, device="cpu", chunk_size=37)
    assert _same_lists(got, want) <= 0.01 * len(want)  # only where rounding reorders near-equal scores
    cand = synth.item_ids[1::3]
    a = model.recommend(synth.user_ids[:30], k=5, candidates=cand, exclude_seen=False)
    b = model.recommend(synth.user_ids[:30], k=5, candidates=cand, exclude_seen=False, device="cpu")
    assert set(b["item_id"]) <= set(cand)
    assert _same_lists(b, a) <= 0.01 * len(a)


def test_device_path_checks_parameters_at_use(synth):
    model = ft.EASESide(_emb(synth), l2=20.0, side_weight=1.0).fit(synth)
    model.set_params(side_weight=-1.0)
    with pytest.raises(ValueError, match="side_weight == -1"):
        model.recommend(k=3, device="cpu")


# ---------------------------------------------------------------------------- bench_gpu.py --quick
def _run_bench(*args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(BENCH.parent), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(BENCH / "bench_gpu.py"), "--quick", *args], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_bench_gpu_quick_without_encoder():
    out = _run_bench("--skip-encoder")
    assert "not run on a GPU: " in out
    assert "EASE fit" in out and "torch float64 B vs NumPy" in out
    assert "Content top-10" in out
    counts = [(int(a), int(b)) for a, b in re.findall(r"lists differing from NumPy: (\d+) of (\d+)", out.replace(",", ""))]
    assert len(counts) == 3  # EASE float64, EASE float32, content
    assert all(n <= 0.01 * total for n, total in counts), counts
    assert "encoder skipped (--skip-encoder)" in out


@pytest.mark.slow
@pytest.mark.realdata
def test_bench_gpu_quick_with_encoder():
    out = _run_bench()
    assert "not run on a GPU: " in out and "TextEncoder float32" in out and "texts/s" in out


def test_device_path_uses_a_subclass_own_score(synth):
    """A subclass that scores its own way is ranked by its score on the device, not by the parent's formula."""

    class NegatedEASE(ft.EASE):
        def _score(self, user_rows):
            return -super()._score(user_rows)

    model = NegatedEASE(l2=50.0).fit(synth)
    want = model.recommend(k=5)
    got = model.recommend(k=5, device="cpu")
    assert _same_lists(got, want) <= 0.01 * len(want)
    plain = ft.EASE(l2=50.0).fit(synth).recommend(k=5, device="cpu")  # history · B: other lists
    assert (plain["item_id"].to_numpy() != got["item_id"].to_numpy()).mean() > 0.5


def test_ease_with_the_gpu_gram_form_on_cpu_equals_numpy(synth, monkeypatch):
    """The Gram matrix a GPU fit builds (sparse Xᵀ x dense column blocks), run end to end on the CPU."""
    real = ease_mod._torch_gram
    calls = []

    def blocks(x, dev, dtype):
        calls.append(dev.type)
        return real(x, dev, dtype, budget_bytes=50_000, blocks=True)  # ~25 item columns per block

    monkeypatch.setattr(ease_mod, "_torch_gram", blocks)
    for implicit in (True, False):
        want = ft.EASE(l2=50.0, implicit=implicit).fit(synth)
        got = ft.EASE(l2=50.0, implicit=implicit, device="cpu").fit(synth)
        np.testing.assert_allclose(got.B_, want.B_, rtol=0, atol=1e-6 * np.abs(want.B_).max())
        assert _same_lists(got.recommend(k=10), want.recommend(k=10)) == 0
    assert calls == ["cpu", "cpu"]
