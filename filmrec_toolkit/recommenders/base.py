"""The one recommender interface: ``fit`` / ``score`` / ``recommend``.

Peak memory of :meth:`Recommender.recommend` is bounded by the user chunk, not by
the number of users: about ``3 * chunk_size * n_items * 4`` bytes of scores, masks
and partition indices, plus the model state (see :func:`default_chunk_size`).
"""

from __future__ import annotations

import logging
import time
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import ITEM_COL, RANK_COL, SCORE_COL, USER_COL
from .._params import ParamsMixin
from .._topk import dot_error_bound, pair_dots, topk, topk_refined
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_fitted, check_frame, check_positive_int
from ..ranking import stored_entries, topk_frame  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)

#: Bytes of float32 scores one chunk may hold (the recommend memory budget).
CHUNK_BYTES = 128 * 2**20


def default_chunk_size(n_items: int, budget_bytes: int = CHUNK_BYTES) -> int:
    """Users per chunk so that one chunk of float32 scores fits ``budget_bytes``."""
    return max(1, int(budget_bytes // (4 * max(1, n_items))))


def count_differing_lists(a: pd.DataFrame, b: pd.DataFrame, scores: bool = True) -> int:
    """Number of users whose top-k lists differ between two ``recommend`` frames.

    A list differs when its items (in rank order) differ or, with ``scores=True``, when
    any score differs bit for bit; a user present in only one frame counts as differing.
    Benchmarks and tests report this number rather than a bare "identical" flag.
    """
    cols = [ITEM_COL, SCORE_COL] if scores else [ITEM_COL]

    def lists(frame: pd.DataFrame) -> pd.Series:
        f = frame.sort_values([USER_COL, RANK_COL], kind="mergesort")
        return f.groupby(USER_COL, sort=True)[cols].apply(lambda g: tuple(map(tuple, g.to_numpy().tolist())))

    la, lb = lists(a), lists(b)
    users = la.index.union(lb.index)
    la, lb = la.reindex(users), lb.reindex(users)
    same = [x == y for x, y in zip(la.tolist(), lb.tolist())]
    return int(len(users) - sum(same))


class Recommender(ParamsMixin):
    """Base class of every recommender.

    Subclasses implement ``_fit(train)`` and ``_score(user_rows) -> (n, n_items)``.
    The base class validates input, keeps the training vocabularies and seen items,
    and ranks in bounded memory.
    """

    #: Human-readable model name used in tables.
    name: str = "recommender"

    # -- subclass hooks ----------------------------------------------------
    def _validate_params(self) -> None:
        """Check the hyper-parameters (called by :meth:`fit` before ``_fit``); raise with advice."""

    def _fit(self, train: Dataset) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, user_rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _dot_factors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(user_matrix, item_matrix)`` when ``_score`` is exactly ``user_matrix[rows] @ item_matrix.T``.

        Dense dot-product models return their factors so that :meth:`recommend_rows`
        re-ranks the head of each list with reproducible float64 dot products
        (:func:`filmrec_toolkit._topk.topk_refined`); the default ``None`` ranks the
        scores as they are.
        """
        return None

    # -- public API --------------------------------------------------------
    def fit(self, train: Dataset) -> "Recommender":
        """Fit on a training Dataset; returns self."""
        train = ensure_dataset(train, "train")
        self._validate_params()
        start = time.perf_counter()
        self._fit(train)
        self.fit_seconds_ = time.perf_counter() - start
        self.train_ = train
        self.user_vocab_ = train.user_vocab
        self.item_vocab_ = train.item_vocab
        return self

    @property
    def n_items_(self) -> int:
        check_fitted(self, "train_")
        return len(self.item_vocab_)

    def _check_rows(self, user_rows) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(user_rows))
        if rows.dtype.kind not in "iu":
            raise TypeError(f"user_rows must be integer rows of the user vocabulary, got dtype {rows.dtype}; "
                            "map ids with dataset.user_vocab.to_rows(ids).")
        n = len(self.user_vocab_)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"user_rows must be in [0, {n}), got values from {rows.min()} to {rows.max()}.")
        return rows.astype(np.int64, copy=False)

    def score(self, user_rows) -> np.ndarray:
        """Scores of every item for the given user rows, ``(n_users, n_items)`` float32."""
        check_fitted(self, "train_")
        rows = self._check_rows(user_rows)
        out = np.asarray(self._score(rows), dtype=np.float32)
        if out.shape != (len(rows), self.n_items_):
            raise RuntimeError(f"{type(self).__name__}._score returned shape {out.shape}, "
                               f"expected {(len(rows), self.n_items_)}.")
        return out

    def _exclusion_matrix(self, exclude_seen) -> sp.csr_matrix | None:
        if exclude_seen is True:
            return self.train_.matrix
        if exclude_seen is False or exclude_seen is None:
            return None
        if isinstance(exclude_seen, Dataset):
            if exclude_seen.item_vocab != self.item_vocab_ or exclude_seen.user_vocab != self.user_vocab_:
                raise ValueError("exclude_seen: the Dataset must share the training vocabularies (a split of it).")
            return exclude_seen.matrix
        if sp.issparse(exclude_seen):
            m = sp.csr_matrix(exclude_seen)
            if m.shape != (len(self.user_vocab_), self.n_items_):
                raise ValueError(f"exclude_seen matrix has shape {m.shape}, expected "
                                 f"{(len(self.user_vocab_), self.n_items_)} (users x items).")
            return m
        raise TypeError(f"exclude_seen must be True, False, a Dataset or a users x items sparse matrix, "
                        f"got {type(exclude_seen).__name__}.")

    def _candidate_mask(self, candidates, user_ids: np.ndarray) -> sp.csr_matrix | np.ndarray | None:
        """Boolean mask of allowed items: shared (1-D array) or per user (CSR, users in ``user_ids`` order)."""
        if candidates is None:
            return None
        if isinstance(candidates, pd.DataFrame):
            check_frame(candidates, (USER_COL, ITEM_COL), "candidates")
            pos = pd.Index(user_ids).get_indexer(candidates[USER_COL])
            keep = pos >= 0
            cols = self.item_vocab_.to_rows(candidates[ITEM_COL].to_numpy()[keep], param="candidates.item_id")
            return sp.csr_matrix((np.ones(len(cols), bool), (pos[keep], cols)), shape=(len(user_ids), self.n_items_))
        if isinstance(candidates, dict):
            frame = pd.DataFrame([(u, i) for u, its in candidates.items() for i in its], columns=[USER_COL, ITEM_COL])
            return self._candidate_mask(frame, user_ids)
        mask = np.zeros(self.n_items_, dtype=bool)
        mask[self.item_vocab_.to_rows(list(candidates), param="candidates")] = True
        return mask

    def recommend_rows(self, user_rows, k: int = 10, exclude_seen=True, candidate_mask=None,
                       chunk_size: int | None = None, show_progress: bool = False,
                       device=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item rows and scores for user rows, as arrays ``(n, k)`` (``-inf`` = no item).

        Streams over chunks of users; see the module docstring for the memory bound.
        Every stored entry of the exclusion matrix is excluded, whatever its value. The
        lists (and scores) do not depend on ``chunk_size``, the BLAS thread count or a
        cluster layout: ties go to the lower item row, and models with
        :meth:`_dot_factors` have their list heads re-ranked with reproducible float64
        dot products (see :mod:`filmrec_toolkit._topk`).
        ``device`` (e.g. ``"cuda"``, ``"cpu"``): score and rank with torch there instead of
        NumPy (see :mod:`filmrec_toolkit._device`).
        """
        check_fitted(self, "train_")
        k = check_positive_int(k, "k")
        rows = self._check_rows(user_rows)
        exclude = self._exclusion_matrix(exclude_seen)
        kk = min(k, self.n_items_)
        if device is not None:
            from .._device import recommend_rows_torch

            return recommend_rows_torch(self, rows, kk, exclude, candidate_mask, chunk_size, device, show_progress)
        chunk = chunk_size or default_chunk_size(self.n_items_)
        chunk = check_positive_int(chunk, "chunk_size")
        factors = self._dot_factors()
        if factors is not None:
            left, right = factors
            right_max = float(np.sqrt(np.max(np.einsum("ij,ij->i", right, right, dtype=np.float64), initial=0.0)))
        out_cols = np.zeros((len(rows), kk), dtype=np.int64)
        out_vals = np.full((len(rows), kk), -np.inf, dtype=np.float32)
        starts = range(0, len(rows), chunk)
        if show_progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"recommend {self.name}", unit="chunk")
        for s in starts:
            part = rows[s:s + chunk]
            scores = self.score(part)
            if exclude is not None:
                r, c = stored_entries(exclude[part])
                scores[r, c] = -np.inf
            if candidate_mask is not None:
                if isinstance(candidate_mask, np.ndarray):
                    scores[:, ~candidate_mask] = -np.inf
                else:
                    allowed = candidate_mask[s:s + chunk].toarray()
                    scores[~allowed] = -np.inf
            if factors is None:
                cols, vals = topk(scores, kk)
            else:  # the same lists whatever the chunk, thread count or cluster layout (see _topk)
                lp = left[part]
                slack = dot_error_bound(np.linalg.norm(lp.astype(np.float64), axis=1), right_max, lp.shape[1])
                cols, vals = topk_refined(scores, kk, lambda r, c, lp=lp: pair_dots(lp[r], right[c]), slack)
            out_cols[s:s + len(part)] = cols
            out_vals[s:s + len(part)] = vals
        return out_cols, out_vals

    def recommend(self, users=None, k: int = 10, exclude_seen=True, candidates=None,
                  chunk_size: int | None = None, show_progress: bool = False, device=None) -> pd.DataFrame:
        """Top-k recommendations as a ``user_id, item_id, score, rank`` frame.

        Parameters
        ----------
        users : array-like of user ids, optional
            Default: every user of the training data.
        k : int
            List length (>= 1); ``k`` larger than the catalogue returns every allowed item.
        exclude_seen : bool, Dataset or sparse matrix
            ``True`` removes the training items; a Dataset (e.g. train + valid) or a
            users x items matrix removes those instead; ``False`` removes nothing.
            Every stored entry is removed whatever its value (a rating of 0 or a
            negative rating is still a seen item).
        candidates : array-like of item ids, dict user -> ids, or DataFrame(user_id, item_id)
            Restrict ranking to these items.
        chunk_size : int, optional
            Users scored at once (default from a 128 MiB budget; on CUDA from free memory).
        device : str or torch.device, optional
            Score and rank with torch on this device (``"cuda"``, ``"mps"``, ``"cpu"``);
            default: NumPy on the CPU. Same lists up to float tolerance on ties.
        """
        check_fitted(self, "train_")
        k = check_positive_int(k, "k")
        user_ids = self.user_vocab_.ids if users is None else np.atleast_1d(np.asarray(users))
        rows = self.user_vocab_.to_rows(user_ids, param="users")
        mask = self._candidate_mask(candidates, user_ids)
        cols, vals = self.recommend_rows(rows, k, exclude_seen, mask, chunk_size, show_progress, device)
        return topk_frame(user_ids, self.item_vocab_.ids, cols, vals)

    # -- optional capabilities (overridden by models that support them) -----
    def _score_profile(self, item_rows: np.ndarray, ratings: np.ndarray | None,
                       text_vector: np.ndarray | None) -> np.ndarray:
        """Scores ``(n_items,)`` for a new user given rated item rows (and a text vector)."""
        raise TypeError(f"{type(self).__name__} cannot score a new user's profile; use ContentRecommender, "
                        "EASE, ItemKNN or Popularity.")

    def recommend_for_profile(self, liked_items=None, text: str | None = None, k: int = 10, *,
                              ratings=None, encoder=None, exclude_liked: bool = True) -> pd.DataFrame:
        """Top-k for a new user (cold start) from liked films and/or a free-text wish.

        See :func:`filmrec_toolkit.recommenders.recommend_for_profile`.
        """
        from .cold_start import recommend_for_profile

        return recommend_for_profile(self, liked_items, text, k, ratings=ratings, encoder=encoder,
                                     exclude_liked=exclude_liked)

    def explain(self, user, item, n: int = 5):
        """Why ``item`` scores as it does for ``user``: an :class:`Explanation` (frame, sentence)."""
        raise TypeError(f"{type(self).__name__} does not support explain(); ContentRecommender, ItemKNN, "
                        "EASE and Popularity do.")


def as_user_rows(model: Recommender, users: Iterable | None) -> np.ndarray:
    """User rows of ``users`` (ids) in the model's vocabulary; all users when None."""
    check_fitted(model, "train_")
    if users is None:
        return np.arange(len(model.user_vocab_))
    return model.user_vocab_.to_rows(np.atleast_1d(np.asarray(users)), param="users")
