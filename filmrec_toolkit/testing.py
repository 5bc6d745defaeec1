"""Public contract checks for estimators: every model of the package runs them, and so can yours.

Each ``check_*`` function raises ``AssertionError`` with a message when the contract is
broken, and can be called without pytest. :func:`check_recommender` runs every
recommender check; :class:`RecommenderContract` runs them as pytest tests — subclass it
and define ``make(self, dataset)``::

    from filmrec_toolkit.testing import RecommenderContract

    class TestMyModel(RecommenderContract):
        def make(self, dataset):
            return MyModel(alpha=0.1)

The data is a block matrix with a known answer (:func:`make_block_dataset`): users 0–9
rate 5 of the 8 "comedies" (items 0–7), users 10–19 rate 5 of the 8 "horror films"
(items 8–15); a personalised model must put a user's 3 unseen films of their own block
first. Models that cannot know this (popularity) set ``known_answer = False`` or override
:meth:`RecommenderContract.check_known_answer`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ._config import ITEM_COL, RANK_COL, SCORE_COL, TOPK_COLUMNS, USER_COL
from ._params import clone
from .datasets.dataset import Dataset
from .exceptions import NotFittedError, UnknownIdError
from .features.embeddings import ItemEmbeddings

__all__ = [
    "N_USERS", "N_ITEMS", "BLOCK", "N_RATED",
    "make_block_frames", "make_block_dataset", "make_block_embeddings", "BlockTextEncoder",
    "own_block", "check_recommender", "RecommenderContract",
    "check_reranker", "check_profiler", "check_encoder",
]

#: Shape of the block data: 20 users, 16 items in two blocks of 8, 5 ratings per user.
N_USERS, N_ITEMS, BLOCK, N_RATED = 20, 16, 8, 5


def make_block_frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings and items of the block data (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(N_USERS):
        block = 0 if u < N_USERS // 2 else 1
        items = rng.choice(np.arange(BLOCK) + block * BLOCK, size=N_RATED, replace=False)
        rows += [(u, int(i), 5.0, 1000 + 10 * u + j) for j, i in enumerate(items)]
    ratings = pd.DataFrame(rows, columns=[USER_COL, ITEM_COL, "rating", "timestamp"])
    items = pd.DataFrame({
        ITEM_COL: np.arange(N_ITEMS),
        "title": [f"{'Comedy' if i < BLOCK else 'Horror'} film {i} (2000)" for i in range(N_ITEMS)],
        "genres": [["Comedy"] if i < BLOCK else ["Horror", "Thriller"] for i in range(N_ITEMS)],
    })
    return ratings, items


def make_block_dataset(seed: int = 0) -> Dataset:
    """The block data as a :class:`Dataset`."""
    ratings, items = make_block_frames(seed)
    return Dataset.from_frames(ratings, items, name="blocks")


class BlockTextEncoder:
    """A 4-d text encoder for the block data: 'comedy'/'funny' → axis 0, 'horror'/'scary' → axis 1, else axis 3."""

    def transform(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for n, t in enumerate(texts):
            t = t.lower()
            out[n, 0] = ("comedy" in t) + ("funny" in t)
            out[n, 1] = ("horror" in t) + ("scary" in t)
            out[n, 2] = 0.1
            if not out[n, :2].any():
                out[n, 3] = 1.0
        return out


def make_block_embeddings(dataset: Dataset, seed: int = 1) -> ItemEmbeddings:
    """Item vectors of the block data: comedies near axis 0, horror films near axis 1, small noise."""
    rng = np.random.default_rng(seed)
    enc = BlockTextEncoder()
    vec = enc.transform([f"{t} {' '.join(g)}" for t, g in zip(dataset.items["title"], dataset.items["genres"])])
    vec = vec + rng.normal(0, 0.05, vec.shape).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return ItemEmbeddings(vec, dataset.item_ids, model_id="block-fake")


def own_block(user_id: int) -> set[int]:
    """Items of the block a user of the block data rates."""
    start = 0 if user_id < N_USERS // 2 else BLOCK
    return set(range(start, start + BLOCK))


# ------------------------------------------------------------------ recommenders
def _check_known_answer(ds: Dataset, recs: pd.DataFrame) -> None:
    for uid, grp in recs.groupby(USER_COL):
        seen = set(ds.user_history(uid)[ITEM_COL])
        assert set(grp[ITEM_COL]) == own_block(uid) - seen, \
            f"user {uid}: expected their unseen own-block items first, got {grp[ITEM_COL].tolist()}"


def _raises(exc_type, fn, match: str | None = None) -> None:
    try:
        fn()
    except exc_type as exc:
        if match is not None and match not in str(exc):
            raise AssertionError(f"{exc_type.__name__} raised, but its message {str(exc)!r} lacks {match!r}") from exc
        return
    raise AssertionError(f"expected {exc_type.__name__}, nothing was raised")


def _recommender_checks(make: Callable, ds: Dataset, known_answer: bool | Callable) -> dict[str, Callable[[], None]]:
    fitted_cache: dict = {}

    def fitted():
        if "m" not in fitted_cache:
            fitted_cache["m"] = make(ds).fit(ds)
        return fitted_cache["m"]

    def fit_returns_self():
        model = make(ds)
        assert model.fit(ds) is model, "fit must return self"
        assert model.fit_seconds_ >= 0

    def init_stores_parameters_only():
        model = make(ds)
        fitted_attrs = [k for k in vars(model) if k.endswith("_")]
        assert not fitted_attrs, f"__init__ must only store parameters; it set fitted attributes {fitted_attrs}"
        params = model.get_params()
        assert not [p for p in params if p.endswith("_")], "no public parameter may end in '_'"
        copy = clone(model)
        assert copy is not model and copy.get_params().keys() == params.keys()
        copy.fit(ds)
        assert not hasattr(model, "train_"), "fitting a clone must not fit the original"

    def score_shape_dtype():
        s = fitted().score(np.arange(3))
        assert s.shape == (3, N_ITEMS) and s.dtype == np.float32, f"score gave {s.shape} {s.dtype}"
        assert np.isfinite(s).all(), "scores must be finite"

    def known():
        recs = fitted().recommend(k=BLOCK - N_RATED)
        assert list(recs.columns) == list(TOPK_COLUMNS), f"columns {list(recs.columns)}"
        if callable(known_answer):
            known_answer(ds, recs)
        elif known_answer:
            _check_known_answer(ds, recs)

    def seen_excluded_and_sorted():
        recs = fitted().recommend(users=[0, 15], k=4)
        for uid, grp in recs.groupby(USER_COL):
            assert not set(grp[ITEM_COL]) & set(ds.user_history(uid)[ITEM_COL]), f"user {uid} got a seen item"
            assert grp[RANK_COL].tolist() == [1, 2, 3, 4]
            assert (np.diff(grp[SCORE_COL].to_numpy()) <= 1e-6).all(), "scores must not increase with rank"
            assert not grp[ITEM_COL].duplicated().any()

    def k_larger_than_catalogue():
        model = fitted()
        assert len(model.recommend(users=[0], k=100)) == N_ITEMS - N_RATED
        assert len(model.recommend(users=[0], k=100, exclude_seen=False)) == N_ITEMS

    def chunking_invariant():
        model = fitted()
        pd.testing.assert_frame_equal(model.recommend(k=3), model.recommend(k=3, chunk_size=3))

    def candidates():
        recs = fitted().recommend(users=[0, 1], k=5, candidates=[14, 15])
        assert set(recs[ITEM_COL]) <= {14, 15}

    def bad_input():
        model = fitted()
        _raises(ValueError, lambda: model.recommend(k=0), "k == 0")
        _raises(TypeError, lambda: model.recommend(k=2.5), "k must be an integer")
        _raises(UnknownIdError, lambda: model.recommend(users=[999]), "999")

    def not_fitted():
        _raises(NotFittedError, lambda: make(ds).recommend(k=3), "call fit first")

    def save_load_identical():
        from .persistence import load, save

        model = fitted()
        with tempfile.TemporaryDirectory() as tmp:
            loaded = load(save(model, Path(tmp) / "model"))
        pd.testing.assert_frame_equal(model.recommend(k=5), loaded.recommend(k=5))

    return {f.__name__: f for f in (fit_returns_self, init_stores_parameters_only, score_shape_dtype, known,
                                    seen_excluded_and_sorted, k_larger_than_catalogue, chunking_invariant,
                                    candidates, bad_input, not_fitted, save_load_identical)}


def check_recommender(make: Callable[[Dataset], object], known_answer: bool | Callable = True,
                      dataset: Dataset | None = None) -> list[str]:
    """Run every recommender contract check; return the names of the checks (all passed).

    Parameters
    ----------
    make : callable ``dataset -> unfitted recommender``
    known_answer : bool or callable ``(dataset, recs) -> None``
        Whether the model must find each user's own block (personalised models), or a
        check of your own.
    dataset : Dataset, optional
        Default :func:`make_block_dataset`.
    """
    ds = dataset if dataset is not None else make_block_dataset()
    checks = _recommender_checks(make, ds, known_answer)
    for name, check in checks.items():
        try:
            check()
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    return list(checks)


class RecommenderContract:
    """pytest base class: subclass, define ``make(self, dataset)``, and every check is a test."""

    #: False for models without personal taste (popularity); or override :meth:`check_known_answer`.
    known_answer = True

    def make(self, dataset: Dataset):  # pragma: no cover - abstract
        raise NotImplementedError("define make(self, dataset) returning an unfitted recommender")

    def check_known_answer(self, dataset: Dataset, recs: pd.DataFrame) -> None:
        if self.known_answer:
            _check_known_answer(dataset, recs)

    def _run(self, name: str) -> None:
        ds = make_block_dataset()
        _recommender_checks(self.make, ds, self.check_known_answer)[name]()

    def test_fit_returns_self(self):
        self._run("fit_returns_self")

    def test_init_stores_parameters_only(self):
        self._run("init_stores_parameters_only")

    def test_score_shape_dtype(self):
        self._run("score_shape_dtype")

    def test_known_answer(self):
        self._run("known")

    def test_seen_items_excluded_and_sorted(self):
        self._run("seen_excluded_and_sorted")

    def test_k_larger_than_catalogue(self):
        self._run("k_larger_than_catalogue")

    def test_chunking_does_not_change_results(self):
        self._run("chunking_invariant")

    def test_candidates(self):
        self._run("candidates")

    def test_bad_k_and_unknown_user(self):
        self._run("bad_input")

    def test_not_fitted(self):
        self._run("not_fitted")

    def test_save_load_identical(self):
        self._run("save_load_identical")


# ------------------------------------------------------------------ other estimators
def check_reranker(reranker, model=None, k: int = 3) -> None:
    """Re-ranker contract on the block data: ``fit`` returns self; each list is a subset of its
    candidates, without duplicates, ranks 1..n, at most ``k`` items; the input frame is unchanged."""
    ds = make_block_dataset()
    model = model if model is not None else __import__("filmrec_toolkit").EASE(l2=5.0)
    cands = model.fit(ds).recommend(k=8)
    before = cands.copy()
    assert reranker.fit(ds) is reranker, "fit must return self"
    out = reranker.rerank(cands, k=k)
    pd.testing.assert_frame_equal(cands, before, obj="candidates (must not be modified)")
    assert list(out.columns) == list(TOPK_COLUMNS)
    pairs = set(zip(cands[USER_COL], cands[ITEM_COL]))
    assert set(zip(out[USER_COL], out[ITEM_COL])) <= pairs, "re-ranked items must come from the candidates"
    for uid, grp in out.groupby(USER_COL):
        assert len(grp) <= k and not grp[ITEM_COL].duplicated().any(), f"user {uid}: {grp[ITEM_COL].tolist()}"
        assert grp[RANK_COL].tolist() == list(range(1, len(grp) + 1))


def check_profiler(profiler) -> None:
    """Profiler contract: ``fit(dataset, embeddings)`` returns self; ``score`` gives
    ``(n_users, n_items)`` finite scores; users score their own block above the other."""
    ds = make_block_dataset()
    emb = make_block_embeddings(ds)
    assert profiler.fit(ds, emb) is profiler, "fit must return self"
    s = np.asarray(profiler.score(np.arange(N_USERS), emb.matrix))
    assert s.shape == (N_USERS, N_ITEMS) and np.isfinite(s).all(), f"score gave {s.shape}"
    for u in (0, N_USERS - 1):
        own = sorted(own_block(u))
        other = sorted(set(range(N_ITEMS)) - set(own))
        assert s[u, own].mean() > s[u, other].mean(), f"user {u} does not prefer their own block"


def check_encoder(encoder, texts=("a funny comedy", "a scary horror film", "a western")) -> None:
    """Encoder contract: ``transform(list[str])`` gives ``(n, d)`` finite float32 rows, the same
    rows for the same texts whatever the batch, and refuses a non-list input with a clear error."""
    texts = list(texts)
    if hasattr(encoder, "fit"):
        fitted = encoder.fit(texts)
        assert fitted is encoder, "fit must return self"
    out = np.asarray(encoder.transform(texts))
    assert out.ndim == 2 and out.shape[0] == len(texts) and np.isfinite(out).all(), f"transform gave {out.shape}"
    assert out.dtype == np.float32, f"transform must return float32, got {out.dtype}"
    single = np.asarray(encoder.transform(texts[1:2]))
    np.testing.assert_allclose(single[0], out[1], rtol=1e-4, atol=1e-5,
                               err_msg="a text's vector must not depend on the other texts of the batch")
