"""The one recommender interface: ``fit`` / ``score`` / ``recommend``.

Peak memory of :meth:`Recommender.recommend` is bounded by the user chunk, not by
the number of users: about ``3 * chunk_size * n_items * 4`` bytes of scores, masks
and partition indices, plus the model state (see :func:`default_chunk_size`).

Backends: ``recommend(..., client=None)`` ranks in this process; with a
``distributed.Client`` the users are cut into partitions (boundaries on multiples of
``chunk_size``) and each worker ranks its partitions with the very function that ranks
in-process (:meth:`Recommender._rank`), on its copy of the model, so lists and scores are
identical (see :mod:`filmrec_toolkit.scale.recommend` for the memory of each side).
dask is imported only on the client path.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import ITEM_COL, RANK_COL, SCORE_COL, USER_COL
from .._params import ParamsMixin
from .._topk import dot_error_bound, pair_dots, topk, topk_refined
from .._validation import check_k
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_fitted, check_positive_int
from ..ranking import candidate_mask as candidate_mask_of
from ..ranking import exclusion_matrix, stored_entries, topk_frame  # noqa: F401 (re-exported)

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

    def recommend_rows(self, user_rows, k: int = 10, exclude_seen=True, candidate_mask=None,
                       chunk_size: int | None = None, show_progress: bool = False,
                       device=None, *, client=None, n_partitions: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item rows and scores for user rows, as arrays ``(n, k)`` (``-inf`` = no item).

        Streams over chunks of users; see the module docstring for the memory bound.
        Every stored entry of the exclusion matrix is excluded, whatever its value. The
        lists (and scores) do not depend on ``chunk_size``, the BLAS thread count or a
        cluster layout: ties go to the lower item row, and models with
        :meth:`_dot_factors` have their list heads re-ranked with reproducible float64
        dot products (see :mod:`filmrec_toolkit._topk`).

        Parameters
        ----------
        user_rows : array-like of int
            Rows of the user vocabulary.
        k : int
            List length (>= 1).
        exclude_seen : bool, None, Dataset or sparse matrix
            Items removed from each ranking, read by :func:`filmrec_toolkit.exclusion_matrix`:
            ``True`` the training interactions, ``False`` or ``None`` nothing, a Dataset
            or users x items matrix exactly its stored entries.
        candidate_mask : ndarray or sparse matrix, optional
            Items allowed, as :func:`filmrec_toolkit.candidate_mask` returns them: a
            ``(n_items,)`` bool array for every user, or a ``(len(user_rows), n_items)``
            sparse matrix whose row ``i`` belongs to ``user_rows[i]``.
        chunk_size : int, optional
            Users scored at once.
        show_progress : bool
            A progress bar over chunks (over partitions with ``client``).
        device : str or torch.device, optional
            Score and rank with torch there instead of NumPy (see :mod:`filmrec_toolkit.recommenders.device`);
            with ``client``, on each worker.
        client : distributed.Client, optional
            ``None`` (default): rank in this process. A Dask client: rank partitions of the
            users on its workers (the model is sent once), with the same function and the
            same results as in-process.
        n_partitions : int, optional
            Ranking tasks with ``client`` (default 4 x the cluster's threads, at most one per chunk).

        Returns
        -------
        cols : ndarray (n, min(k, n_items)) of int64 item rows
        vals : ndarray (n, min(k, n_items)) of float32 scores (``-inf``: no item)
        """
        check_fitted(self, "train_")
        k = check_k(k)
        rows = self._check_rows(user_rows)
        exclude = exclusion_matrix(exclude_seen, self.train_, param="exclude_seen")
        _check_candidate_mask(candidate_mask, len(rows), self.n_items_)
        if chunk_size is not None:
            chunk_size = check_positive_int(chunk_size, "chunk_size")
        kk = min(k, self.n_items_)
        if client is not None:
            return self._rank_on_client(client, rows, kk, exclude, candidate_mask, chunk_size, n_partitions,
                                        device, show_progress)
        if n_partitions is not None:
            raise ValueError(f"n_partitions={n_partitions!r} is only used with client=...; pass a distributed.Client "
                             "or leave n_partitions=None.")
        return self._rank(rows, kk, exclude, candidate_mask, chunk_size, show_progress, device)

    def _rank(self, rows: np.ndarray, kk: int, exclude: sp.csr_matrix | None, candidate_mask,
              chunk_size: int | None, show_progress: bool = False, device=None) -> tuple[np.ndarray, np.ndarray]:
        """Rank validated user ``rows`` in this process: THE ranking of both backends.

        ``exclude`` is a users x items matrix indexed by user row (or None), ``candidate_mask``
        as in :meth:`recommend_rows`. The client path runs this on every worker for its partition.
        """
        if device is not None:
            from .device import recommend_rows_torch

            return recommend_rows_torch(self, rows, kk, exclude, candidate_mask, chunk_size, device, show_progress)
        chunk = chunk_size or default_chunk_size(self.n_items_)
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

    def _rank_on_client(self, client, rows: np.ndarray, kk: int, exclude: sp.csr_matrix | None, candidate_mask,
                        chunk_size: int | None, n_partitions: int | None, device,
                        show_progress: bool) -> tuple[np.ndarray, np.ndarray]:
        """The client backend: partitions of ``rows`` ranked by :meth:`_rank` on the workers."""
        from ..cluster import ensure_client, map_partitions, total_threads  # lazy: dask only here

        client = ensure_client(client)
        chunk = chunk_size or default_chunk_size(self.n_items_)
        n_partitions = check_positive_int(4 * total_threads(client) if n_partitions is None else n_partitions,
                                          "n_partitions")
        if len(rows) == 0:
            return np.zeros((0, kk), dtype=np.int64), np.zeros((0, kk), dtype=np.float32)
        train_exclusion = exclude is self.train_.matrix  # the workers use their copy of the model's train_
        per_user_mask = candidate_mask is not None and not isinstance(candidate_mask, np.ndarray)
        if per_user_mask:
            candidate_mask = sp.csr_matrix(candidate_mask)
        parts = []
        # partitions start on chunk boundaries: each worker scores the very chunks this process would
        for s, e in _partition_bounds(len(rows), chunk, n_partitions):
            part = rows[s:e]
            excl = train_exclusion if (train_exclusion or exclude is None) else exclude[part]
            mask = candidate_mask[s:e] if per_user_mask else candidate_mask
            parts.append((part, kk, excl, mask, chunk_size, device))
        logger.info("recommend %s on a Dask client: %d users in %d partitions", self.name, len(rows), len(parts))
        results = map_partitions(client, _rank_partition, self, parts, show_progress=show_progress,
                                 desc=f"recommend {self.name} (dask)")
        return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])

    def recommend(self, users=None, k: int = 10, exclude_seen=True, candidates=None,
                  chunk_size: int | None = None, show_progress: bool = False, device=None, *,
                  client=None, n_partitions: int | None = None) -> pd.DataFrame:
        """Top-k recommendations as a ``user_id, item_id, score, rank`` frame.

        Parameters
        ----------
        users : array-like of user ids, optional
            Default: every user of the training data.
        k : int
            List length (>= 1); ``k`` larger than the catalogue returns every allowed item.
        exclude_seen : bool, None, Dataset or sparse matrix
            Items removed from each ranking (:func:`filmrec_toolkit.exclusion_matrix`, the
            same meanings as ``evaluate(exclude=...)``): ``True`` the training
            interactions; ``False`` or ``None`` nothing; a Dataset (e.g. train + valid, same
            vocabularies) or a users x items sparse matrix exactly its stored entries.
            Every stored entry is removed whatever its value (a rating of 0 or a
            negative rating is still a seen item).
        candidates : array-like of item ids, dict user -> ids, or DataFrame(user_id, item_id)
            Restrict ranking to these items (:func:`filmrec_toolkit.candidate_mask`).
        chunk_size : int, optional
            Users scored at once (default from a 128 MiB budget; on CUDA from free memory).
        show_progress : bool
            A progress bar over chunks (over partitions with ``client``).
        device : str or torch.device, optional
            Score and rank with torch on this device (``"cuda"``, ``"mps"``, ``"cpu"``);
            default: NumPy on the CPU. Same lists up to float tolerance on ties.
        client : distributed.Client, optional
            ``None`` (default): rank in this process. A Dask client (``ft.local_client()``,
            ``distributed.Client("tcp://host:8786")``): the fitted model (picklable: its
            class importable on the workers) is sent once to every worker and partitions of
            the users are ranked there by the same function; the frame is identical.
        n_partitions : int, optional
            Ranking tasks with ``client`` (default 4 x the cluster's threads, at most one per chunk).
        """
        check_fitted(self, "train_")
        k = check_k(k)
        user_ids = self.user_vocab_.ids if users is None else np.atleast_1d(np.asarray(users))
        rows = self.user_vocab_.to_rows(user_ids, param="users")
        mask = candidate_mask_of(candidates, self.item_vocab_, user_ids, param="candidates")
        backend = {}  # passed only when set: subclasses overriding recommend_rows keep working
        if client is not None:
            backend["client"] = client
        if n_partitions is not None:
            backend["n_partitions"] = n_partitions
        cols, vals = self.recommend_rows(rows, k, exclude_seen, mask, chunk_size, show_progress, device, **backend)
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


def _check_candidate_mask(mask, n_rows: int, n_items: int) -> None:
    """Raise when a ``candidate_mask`` is not a mask of :func:`filmrec_toolkit.candidate_mask`'s shapes."""
    if mask is None:
        return
    if isinstance(mask, np.ndarray):
        if mask.dtype != bool or mask.shape != (n_items,):
            raise ValueError(f"candidate_mask must be a ({n_items},) bool array (or a sparse ({n_rows}, {n_items}) "
                             f"matrix), got {mask.dtype} of shape {mask.shape}; build it with "
                             "filmrec_toolkit.candidate_mask(candidates, model.item_vocab_, user_ids).")
    elif not sp.issparse(mask) or mask.shape != (n_rows, n_items):
        raise ValueError(f"candidate_mask must be a ({n_items},) bool array or a sparse ({n_rows}, {n_items}) matrix "
                         f"(one row per user row), got {type(mask).__name__} of shape {getattr(mask, 'shape', None)}.")


def _partition_bounds(n_rows: int, chunk: int, n_partitions: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each partition of the client backend; every start is a multiple of ``chunk``."""
    n_chunks = max(1, math.ceil(n_rows / chunk))
    per = math.ceil(n_chunks / max(1, min(n_partitions, n_chunks)))
    step = per * chunk
    return [(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]


def _padded_exclusion(sub: sp.csr_matrix, rows: np.ndarray, n_users: int) -> sp.csr_matrix:
    """Full-shape users x items matrix whose rows ``rows`` have the stored entries of ``sub`` (others empty)."""
    r, c = stored_entries(sub)
    return sp.csr_matrix((np.ones(len(r), dtype=np.int8), (rows[r], c)), shape=(n_users, sub.shape[1]))


def _rank_partition(model: Recommender, rows: np.ndarray, kk: int, exclusion, candidate_mask,
                    chunk_size: int | None, device) -> tuple[np.ndarray, np.ndarray]:
    """Worker task of the client backend: one partition ranked by :meth:`Recommender._rank`.

    ``exclusion``: ``True`` for the worker's copy of the model's training interactions,
    ``False`` for nothing, else a sparse matrix whose row ``i`` belongs to ``rows[i]``.
    """
    if exclusion is True:
        exclude = model.train_.matrix
    elif exclusion is False or exclusion is None:
        exclude = None
    else:
        exclude = _padded_exclusion(exclusion, rows, len(model.user_vocab_))
    return model._rank(rows, kk, exclude, candidate_mask, chunk_size, False, device)


def as_user_rows(model: Recommender, users: Iterable | None) -> np.ndarray:
    """User rows of ``users`` (ids) in the model's vocabulary; all users when None."""
    check_fitted(model, "train_")
    if users is None:
        return np.arange(len(model.user_vocab_))
    return model.user_vocab_.to_rows(np.atleast_1d(np.asarray(users)), param="users")
