"""Row-wise top-k with deterministic tie-breaking, shared by every ranking step."""

from __future__ import annotations

import numpy as np


def topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` columns of each row of ``scores``, best first.

    Ties are broken by the lower column index, so results do not depend on how
    rows are chunked or partitioned. NaN counts as ``-inf``. Uses
    :func:`numpy.argpartition` (O(m) per row) and sorts only the ``k`` winners.

    Parameters
    ----------
    scores : ndarray of shape (n, m)
    k : int
        Number of columns to keep; ``k > m`` keeps all ``m``.

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
