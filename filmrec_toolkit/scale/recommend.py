"""All-user top-k on a Dask cluster: the model is shipped once, users are partitioned.

Each partition runs the model's own :meth:`~filmrec_toolkit.recommenders.Recommender.recommend_rows`
on a worker, over the same user chunks as the in-process path (partitions start at
multiples of ``chunk_size``), through the shared top-k of :mod:`filmrec_toolkit._topk`
(ties broken by item row). Lists and scores are identical to ``model.recommend``, also
for dense dot-product models whose float32 BLAS sums depend on the thread count: their
list heads are re-ranked with reproducible float64 dot products
(:func:`filmrec_toolkit._topk.topk_refined`). Other models whose scores come from BLAS
(e.g. a hybrid of a content model) can still swap near-tied items between layouts;
:func:`~filmrec_toolkit.recommenders.count_differing_lists` counts such lists.

Memory (measured with tracemalloc, ``tests/test_scale_memory.py``). In one process,
ranking ``n`` users over ``m`` items in chunks of ``c`` users peaks at about::

    c * m * 17.4 bytes        float32 scores + their negated copy (4 + 4), argpartition's
                              int64 indices (8), a boolean mask (~1), all freed per chunk
    + n * k * 12 bytes        the int64 item rows and float32 scores returned
    + model state             (item vectors / similarity, training Dataset)

The first term does not depend on ``n``: with the default ``c = default_chunk_size(m)``
(128 MiB of scores) it is about 560 MiB whatever the catalogue. On the cluster each
worker holds one copy of the model plus the same chunk term per thread; the client holds
only the ``(n, k)`` results.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..exceptions import check_fitted, check_positive_int
from ..ranking import stored_entries, topk_frame
from ..recommenders.base import Recommender, default_chunk_size
from .cluster import ensure_client, total_threads

logger = logging.getLogger(__name__)

__all__ = ["recommend_distributed"]


def _partition_bounds(n_rows: int, chunk: int, n_partitions: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each partition; every start is a multiple of ``chunk``."""
    n_chunks = max(1, math.ceil(n_rows / chunk))
    per = math.ceil(n_chunks / max(1, min(n_partitions, n_chunks)))
    step = per * chunk
    return [(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]


def _padded_exclusion(sub: sp.csr_matrix, rows: np.ndarray, n_users: int) -> sp.csr_matrix:
    """Full-shape users x items matrix whose rows ``rows`` have the stored entries of ``sub`` (others empty)."""
    r, c = stored_entries(sub)
    return sp.csr_matrix((np.ones(len(r), dtype=np.int8), (rows[r], c)), shape=(n_users, sub.shape[1]))


def _recommend_part(model: Recommender, rows: np.ndarray, k: int, exclusion, candidate_mask,
                    chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Worker task: top-k rows of one partition through the model's own recommend_rows."""
    if isinstance(exclusion, sp.csr_matrix):
        exclusion = _padded_exclusion(exclusion, rows, len(model.user_vocab_))
    return model.recommend_rows(rows, k, exclude_seen=exclusion, candidate_mask=candidate_mask,
                                chunk_size=chunk)


def _scatter_model(client, model):
    """Send the model to every worker once; returns its future."""
    return client.scatter(model, broadcast=True, hash=False)


def recommend_rows_distributed(model: Recommender, rows: np.ndarray, k: int, client, *, exclude_seen=True,
                               candidate_mask=None, chunk_size: int | None = None,
                               n_partitions: int | None = None, model_future=None,
                               show_progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Distributed twin of ``model.recommend_rows``: ``(item_rows, scores)`` arrays of shape ``(n, k)``."""
    client = ensure_client(client)
    check_fitted(model, "train_")
    k = check_positive_int(k, "k")
    rows = model._check_rows(rows)
    exclude = model._exclusion_matrix(exclude_seen)
    chunk = chunk_size or default_chunk_size(model.n_items_)
    chunk = check_positive_int(chunk, "chunk_size")
    n_partitions = n_partitions or 4 * total_threads(client)
    n_partitions = check_positive_int(n_partitions, "n_partitions")
    kk = min(k, model.n_items_)
    if len(rows) == 0:
        return np.zeros((0, kk), dtype=np.int64), np.zeros((0, kk), dtype=np.float32)
    if model_future is None:
        model_future = _scatter_model(client, model)
    train_exclusion = exclude_seen is True
    bounds = _partition_bounds(len(rows), chunk, n_partitions)
    futures = []
    for s, e in bounds:
        part = rows[s:e]
        if train_exclusion or exclude is None:  # workers use their copy of the training matrix
            excl = train_exclusion
        else:
            excl = exclude[part]
        mask = candidate_mask
        if mask is not None and not isinstance(mask, np.ndarray):
            mask = sp.csr_matrix(mask)[s:e]
        args = [part, excl, mask]
        if sp.issparse(excl) or sp.issparse(mask):  # bulky per-partition data goes straight to the workers
            args = client.scatter(args, hash=False)
        futures.append(client.submit(_recommend_part, model_future, args[0], k, args[1], args[2], chunk,
                                     pure=False))
    logger.info("recommend_distributed: %d users in %d partitions on %d threads", len(rows), len(futures),
                total_threads(client))
    if show_progress:
        from distributed import as_completed
        from tqdm.auto import tqdm

        for _ in tqdm(as_completed(futures), total=len(futures), desc=f"recommend {model.name} (dask)",
                      unit="part"):
            pass
    results = client.gather(futures)
    cols = np.concatenate([r[0] for r in results]) if results else np.zeros((0, kk), np.int64)
    vals = np.concatenate([r[1] for r in results]) if results else np.zeros((0, kk), np.float32)
    return cols, vals


def recommend_distributed(model: Recommender, users=None, k: int = 10, client=None, *, exclude_seen=True,
                          candidates=None, chunk_size: int | None = None, n_partitions: int | None = None,
                          show_progress: bool = False) -> pd.DataFrame:
    """Top-k recommendations computed on a Dask cluster; the same frame as ``model.recommend``.

    The fitted model is scattered once to every worker (``broadcast=True``); the users are
    cut into ``n_partitions`` contiguous partitions whose boundaries fall on multiples of
    ``chunk_size``, and each worker ranks its partitions with ``model.recommend_rows``. The
    result is bit-for-bit the frame ``model.recommend(users, k, exclude_seen, candidates,
    chunk_size)`` returns in-process, ties included.

    Parameters
    ----------
    model : Recommender
        A fitted recommender (picklable: any class importable on the workers).
    users : array-like of user ids, optional
        Default: every user of the training data.
    k : int
        List length.
    client : distributed.Client, optional
        Any client (``local_client()``, or ``distributed.Client("tcp://host:8786")``);
        default: the current client.
    exclude_seen, candidates, chunk_size
        As in :meth:`Recommender.recommend`. With ``exclude_seen=True`` the workers use
        their copy of the training matrix; another Dataset or matrix is sliced per partition.
    n_partitions : int, optional
        Number of tasks (default 4 x the cluster's threads, at most one per chunk).
    show_progress : bool
        A progress bar over finished partitions.

    Returns
    -------
    DataFrame
        ``user_id, item_id, score, rank``.
    """
    check_fitted(model, "train_")
    k = check_positive_int(k, "k")
    user_ids = model.user_vocab_.ids if users is None else np.atleast_1d(np.asarray(users))
    rows = model.user_vocab_.to_rows(user_ids, param="users")
    mask = model._candidate_mask(candidates, user_ids)
    cols, vals = recommend_rows_distributed(model, rows, k, client, exclude_seen=exclude_seen, candidate_mask=mask,
                                            chunk_size=chunk_size, n_partitions=n_partitions,
                                            show_progress=show_progress)
    return topk_frame(user_ids, model.item_vocab_.ids, cols, vals)
