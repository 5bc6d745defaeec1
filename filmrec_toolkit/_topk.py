"""Row-wise top-k with deterministic tie-breaking, shared by every ranking step.

The guarantee
-------------
:func:`topk` is a pure function of the score values: it ranks by (score descending,
column ascending), NaN counting as ``-inf``, so the same scores give the same lists
whatever the row chunking, the ``block`` knob or the machine.

Equal *scores* are the other half. Sparse models (Popularity, ItemKNN, EASE) compute each
user's row on its own, in a fixed order: their scores do not depend on the chunk. Dense
dot-product models (content profiles . item vectors, ALS, BPR) go through BLAS, whose
float32 sums come out in a different order for another number of rows in the chunk
(1 row takes the matrix-vector path), another thread count or another cluster layout: a
few ulps, enough to swap near-tied items (measured: 1 list in 40,000 at ranks 6-7,
scores 1.8e-7 apart). Rounding the scores to fewer significant bits before ranking
would not fix this -- a perturbation that crosses a rounding boundary swaps items just
as often as it did before -- so :func:`topk_refined` removes the cause instead: after a
float32 top-k it re-computes, in float64 and one pair at a time, every candidate whose
float32 score is within the rigorous float32 error bound of the k-th score, and ranks
those by (float64 score rounded to float32, column). Any chunking, thread count or
cluster layout therefore gives the same lists and the same scores. The reported score
of a listed item is its float64 dot product rounded to float32, which can differ from
``model.score`` by a few ulps.
"""

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


#: Unit roundoff of float32.
_U32 = float(np.finfo(np.float32).eps) / 2


def dot_error_bound(left_norms: np.ndarray, right_max_norm: float, dim: int) -> np.ndarray:
    """Bound on ``|float32 dot - exact dot|`` for each row, whatever the summation order.

    ``|fl(x . y) - x . y| <= gamma_d * sum |x_i y_i| <= gamma_d * ||x|| ||y||`` with
    ``gamma_d = d u / (1 - d u)`` (Higham, *Accuracy and Stability of Numerical
    Algorithms*, eq. 3.5), ``u = 2**-24``; plus one rounding of the result.
    """
    du = (dim + 1) * _U32
    gamma = du / (1.0 - du)
    return gamma * np.asarray(left_norms, dtype=np.float64) * float(right_max_norm)


def pair_dots(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise dot products ``left[i] . right[i]`` in float64, rounded to float32.

    Each value depends only on its two vectors (never on how many pairs are computed
    together), so it is the same in every chunk, process and thread layout.
    """
    prod = np.asarray(left, dtype=np.float64) * np.asarray(right, dtype=np.float64)
    return prod.sum(axis=1).astype(np.float32)


def topk_refined(scores: np.ndarray, k: int, exact, slack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` whose order does not depend on the float32 rounding of ``scores``.

    Parameters
    ----------
    scores : ndarray (n, m) float32
        Approximate scores; ``-inf`` (or NaN) marks excluded columns.
    k : int
    exact : callable ``(row_index, col_index) -> float32 array``
        The reproducible score of each (row of ``scores``, column) pair (e.g.
        :func:`pair_dots` of the factor rows).
    slack : ndarray (n,)
        An upper bound on ``|scores[r, c] - exact(r, c)|`` for every column of row ``r``
        (e.g. :func:`dot_error_bound`).

    Returns
    -------
    cols, vals : as :func:`topk`, with ``vals`` the exact scores.

    Every column whose approximate score is at least the approximate k-th score minus
    twice the slack (and one ulp) is re-scored: the exact top-k is among them, because the
    k columns kept by the approximate top-k all have exact scores >= k-th - slack.
    """
    scores = np.asarray(scores)
    n, m = scores.shape
    kk = int(min(k, m))
    cols, vals = topk(scores, kk)
    if n == 0 or kk == 0:
        return cols, vals.astype(np.float32)
    kth = vals[:, -1].astype(np.float64)
    full = np.isfinite(kth)
    ulp = np.spacing(np.abs(np.where(full, kth, 0.0)).astype(np.float32)).astype(np.float64)
    threshold = np.where(full, kth - 2.0 * np.asarray(slack, np.float64) - 2.0 * ulp, -np.inf)
    thr = threshold.astype(scores.dtype)
    thr = np.where(thr > threshold, np.nextafter(thr, thr.dtype.type(-np.inf)), thr)  # round down, never up
    cand = scores >= thr[:, None]  # NaN never passes; -inf only where the threshold is -inf
    short_rows = np.flatnonzero(~full)
    if len(short_rows):  # fewer than k allowed columns: every finite one is a candidate
        cand[short_rows] &= np.isfinite(scores[short_rows])
    rr, cc = np.nonzero(cand)
    ee = np.asarray(exact(rr, cc), dtype=np.float32)
    ee = np.where(np.isnan(ee), -np.inf, ee)
    order = np.lexsort((cc, -ee, rr))
    rr, cc, ee = rr[order], cc[order], ee[order]
    starts = np.searchsorted(rr, np.arange(n))
    counts = np.bincount(rr, minlength=n)
    pos = np.arange(len(rr)) - starts[rr]
    keep = pos < kk
    out_cols = np.zeros((n, kk), dtype=np.int64)
    out_vals = np.full((n, kk), -np.inf, dtype=np.float32)
    out_cols[rr[keep], pos[keep]] = cc[keep]
    out_vals[rr[keep], pos[keep]] = ee[keep]
    short = np.flatnonzero(counts < kk)  # rows with fewer than k allowed columns: pad as topk does
    for r in short:
        out_cols[r, counts[r]:] = cols[r, counts[r]:]
    return out_cols, out_vals
