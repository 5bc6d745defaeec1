"""Row-wise top-k with deterministic tie-breaking, shared by every ranking step."""

from __future__ import annotations

import numpy as np


def _topk_partition(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` by :func:`numpy.argpartition`: the general path of :func:`topk`.

    Expects what :func:`topk` has checked: 2-D ``scores`` with ``n >= 1`` rows and
    ``1 <= k <= m``. Rows where more columns tie with the k-th value than were kept
    get the lowest tied columns.
    """
    n, m = scores.shape
    neg = -scores
    if np.isnan(neg).any():
        neg = np.where(np.isnan(neg), np.inf, neg)
    if k == m:
        cols = np.argsort(neg, axis=1, kind="stable")
    else:
        cols = np.argpartition(neg, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(neg, cols, 1).max(axis=1)
        # rows where more columns tie with the k-th value than were kept: choose the lowest columns
        n_le = (neg <= kth[:, None]).sum(axis=1)
        for r in np.flatnonzero(n_le > k):
            better = np.flatnonzero(neg[r] < kth[r])
            tied = np.flatnonzero(neg[r] == kth[r])[: k - len(better)]
            cols[r] = np.concatenate([better, tied])
        keys = np.take_along_axis(neg, cols, 1)
        order = np.lexsort((cols, keys), axis=1)
        cols = np.take_along_axis(cols, order, 1)
    vals = np.take_along_axis(scores, cols, 1)
    if np.isnan(vals).any():
        vals = np.where(np.isnan(vals), -np.inf, vals)
    return cols.astype(np.int64, copy=False), vals


def topk(scores: np.ndarray, k: int, block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` columns of each row of ``scores``, best first.

    Ties are broken by the lower column index, so results do not depend on how
    rows are chunked or partitioned. NaN counts as ``-inf``.

    For wide rows a bound prunes the work: the k-th largest of the row's block
    maxima (blocks of ``block`` columns) is <= the row's k-th largest score, because
    k different blocks each hold a score that high. Only the columns at or above it
    are sorted, by (score desc, column asc). Rows where the bound is not finite or
    leaves too many candidates go through :func:`numpy.argpartition` instead; both
    paths give identical results (tested).

    Parameters
    ----------
    scores : ndarray of shape (n, m)
    k : int
        Number of columns to keep; ``k > m`` keeps all ``m``.
    block : int
        Block width of the bound (a tuning knob; results do not depend on it).

    Returns
    -------
    cols : ndarray of shape (n, min(k, m)), int64
    vals : ndarray of shape (n, min(k, m)), same dtype as ``scores``
        ``-inf`` entries mark excluded columns; callers drop them.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_rows, n_columns), got shape {scores.shape}.")
    n, m = scores.shape
    k = int(min(k, m))
    if n == 0 or k == 0:
        return np.empty((n, k), dtype=np.int64), np.empty((n, k), dtype=scores.dtype)
    n_blocks = m // block
    if m < 4 * block or 8 * k > n_blocks:
        return _topk_partition(scores, k)
    block_max = scores[:, : n_blocks * block].reshape(n, n_blocks, block).max(axis=2)
    bound = -np.partition(-block_max, k - 1, axis=1)[:, k - 1]
    fast = np.isfinite(bound)
    candidates = scores >= bound[:, None]
    fast &= candidates.sum(axis=1) <= 64 * k
    cols = np.zeros((n, k), dtype=np.int64)
    vals = np.zeros((n, k), dtype=scores.dtype)
    rows_fast = np.flatnonzero(fast)
    if len(rows_fast):
        rr, cc = np.nonzero(candidates & fast[:, None])
        vv = scores[rr, cc]
        order = np.lexsort((cc, -vv, rr))
        rr, cc, vv = rr[order], cc[order], vv[order]
        take = (np.searchsorted(rr, rows_fast)[:, None] + np.arange(k)).ravel()
        cols[rows_fast] = cc[take].reshape(-1, k)
        vals[rows_fast] = vv[take].reshape(-1, k)
    rows_slow = np.flatnonzero(~fast)
    if len(rows_slow):
        cols[rows_slow], vals[rows_slow] = _topk_partition(scores[rows_slow], k)
    return cols, vals
