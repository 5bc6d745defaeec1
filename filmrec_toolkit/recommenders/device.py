"""Scoring and top-k with torch on any device: a GPU, or the CPU through the very same code.

:func:`torch_topk` ranks a score matrix, or the product of two factor matrices computed
chunk by chunk on the device, with the tie-breaking of :func:`filmrec_toolkit._topk.topk`
(score descending, then lower column first; NaN counts as ``-inf``).
:func:`recommend_rows_torch` is what ``Recommender.recommend_rows(..., device=...)`` runs:
factor models (ALS, BPR, ``ContentToCF``: user factors · item factors),
``ContentRecommender`` (profiles · item vectors), ``EASE`` and ``EASESide`` (history · B)
and ``ItemKNN`` (history · sparse similarity) score on the device; any other model
(hybrids, popularity, ...) scores with its own ``score`` and only the top-k runs on the device.

How ties stay identical to the NumPy path: ``torch.topk`` gives the ``k`` largest scores
but no order among equal ones. Each row's k-th value is compared with every score: when
exactly ``k`` scores reach it, the kept set is unambiguous and is re-sorted by (score
descending, column ascending) on the device; rows where more than ``k`` scores tie at the
k-th value (rare, e.g. users with fewer allowed items than ``k``) are ranked by
:func:`~filmrec_toolkit._topk.topk` on the CPU. Scores themselves may differ from NumPy's
in the last float bits (another GEMM), hence "identical up to float tolerance on ties".

Memory: users are scored ``chunk`` at a time. On CUDA the chunk is sized from the free
device memory (a quarter of it, ~12 bytes per score for the scores, the comparison mask
and top-k temporaries); elsewhere it is :func:`~filmrec_toolkit.recommenders.default_chunk_size`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse as sp

from .._topk import topk
from .._validation import check_k
from ..exceptions import check_positive_int

logger = logging.getLogger(__name__)

__all__ = ["torch_topk", "resolve_device", "device_chunk_size", "recommend_rows_torch"]

#: Bytes per score a chunk costs on the device (float32 scores, a boolean mask, top-k temporaries).
BYTES_PER_SCORE = 12


def resolve_device(device="auto"):
    """``torch.device`` for ``"auto"`` (cuda, then mps, then cpu), a name or a device."""
    import torch

    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device={device!r} is not a torch device; use 'cpu', 'cuda', 'cuda:1', 'mps' or "
                         "'auto'.") from err


def device_budget_bytes(device) -> int:
    """Working memory for one block of device work: a quarter of free CUDA memory, else the CPU budget
    (3 x ``CHUNK_BYTES``). Sizes the scoring chunks here and EASE's Gram-matrix blocks."""
    from .base import CHUNK_BYTES

    dev = resolve_device(device)
    if dev.type == "cuda":
        import torch

        return torch.cuda.mem_get_info(dev)[0] // 4
    return CHUNK_BYTES * 3


def device_chunk_size(n_items: int, device, budget_bytes: int | None = None) -> int:
    """Rows scored at once on ``device``: :func:`device_budget_bytes` unless ``budget_bytes`` is given."""
    if budget_bytes is None:
        budget_bytes = device_budget_bytes(device)
    return max(1, int(budget_bytes // (BYTES_PER_SCORE * max(1, n_items))))


def _topk_chunk(scores, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` of a 2-D float tensor on its device, ties by lower column; numpy results."""
    import torch

    inf = float("inf")
    scores = torch.nan_to_num(scores.float(), nan=-inf, posinf=inf, neginf=-inf)
    vals, cols = torch.topk(scores, k, dim=1, largest=True, sorted=False)
    kth = vals.min(dim=1, keepdim=True).values
    ambiguous = (scores >= kth).sum(dim=1) > k
    cols, perm = torch.sort(cols, dim=1)  # column ascending, then a stable sort by score descending
    vals = torch.gather(vals, 1, perm)
    order = torch.sort(vals, dim=1, descending=True, stable=True).indices
    cols = torch.gather(cols, 1, order).cpu().numpy().astype(np.int64, copy=False)
    vals = torch.gather(vals, 1, order).cpu().numpy()
    bad = np.flatnonzero(ambiguous.cpu().numpy())
    if len(bad):
        cols[bad], vals[bad] = topk(scores[torch.from_numpy(bad).to(scores.device)].cpu().numpy(), k)
    return cols, vals


def _mask_rows(scores, exclude: sp.csr_matrix | None, allowed=None) -> None:
    """Set excluded (sparse rows) and not-allowed (boolean mask) scores to ``-inf`` in place."""
    import torch

    if exclude is not None and exclude.nnz:
        from ..ranking import stored_entries

        r, c = stored_entries(exclude)  # by structure: a stored 0 rating is excluded too
        dev = scores.device
        scores[torch.from_numpy(r.astype(np.int64)).to(dev), torch.from_numpy(c.astype(np.int64)).to(dev)] = -float("inf")
    if allowed is not None:
        scores.masked_fill_(~allowed, -float("inf"))


def torch_topk(scores=None, k: int = 10, *, factors=None, exclude=None, device="cpu",
               chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-``k`` on a torch device, from a score matrix or from factors ``(U, V)``.

    Parameters
    ----------
    scores : array-like of shape (n, m), optional
        Scores to rank (NumPy array or torch tensor). Give either ``scores`` or ``factors``.
    k : int
        Columns kept per row (``k > m`` keeps ``m``).
    factors : tuple (U, V), optional
        ``U`` of shape (n, d) and ``V`` of shape (m, d): scores ``U @ V.T`` are computed on
        the device one chunk of rows at a time, never all at once.
    exclude : scipy sparse matrix of shape (n, m), optional
        Nonzero entries are removed from each row's ranking (score ``-inf``).
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"``.
    chunk_size : int, optional
        Rows per chunk; default from the device's free memory (see the module docstring).

    Returns
    -------
    cols : ndarray (n, min(k, m)), int64
    vals : ndarray (n, min(k, m)), float32; ``-inf`` marks excluded columns.

    Examples
    --------
    >>> import numpy as np
    >>> torch_topk(np.array([[1.0, 3.0, 3.0, 2.0]], dtype=np.float32), 2)[0]
    array([[1, 2]])
    """
    import torch

    if (scores is None) == (factors is None):
        raise ValueError("torch_topk: pass exactly one of scores=(n, m) array or factors=(U, V).")
    k = check_k(k)
    dev = resolve_device(device)
    if factors is not None:
        U, V = factors
        U = torch.as_tensor(np.asarray(U, dtype=np.float32) if not torch.is_tensor(U) else U)
        V = torch.as_tensor(np.asarray(V, dtype=np.float32) if not torch.is_tensor(V) else V).to(dev)
        if U.ndim != 2 or V.ndim != 2 or U.shape[1] != V.shape[1]:
            raise ValueError(f"factors must be U (n, d) and V (m, d) with the same d, got shapes "
                             f"{tuple(U.shape)} and {tuple(V.shape)}.")
        n, m = U.shape[0], V.shape[0]
    else:
        S = scores if torch.is_tensor(scores) else torch.as_tensor(np.asarray(scores, dtype=np.float32))
        if S.ndim != 2:
            raise ValueError(f"scores must be 2-D (n_rows, n_columns), got shape {tuple(S.shape)}.")
        n, m = S.shape
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape != (n, m):
            raise ValueError(f"exclude has shape {exclude.shape}, expected {(n, m)} (rows x columns of the scores).")
    kk = min(k, m)
    out_cols = np.zeros((n, kk), dtype=np.int64)
    out_vals = np.full((n, kk), -np.inf, dtype=np.float32)
    if n == 0 or kk == 0:
        return out_cols, out_vals
    chunk = check_positive_int(chunk_size, "chunk_size") if chunk_size else device_chunk_size(m, dev)
    with torch.inference_mode():
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            part = (U[s:e].to(dev) @ V.T) if factors is not None else S[s:e].to(dev, dtype=torch.float32).clone()
            _mask_rows(part, exclude[s:e] if exclude is not None else None)
            out_cols[s:e], out_vals[s:e] = _topk_chunk(part, kk)
    return out_cols, out_vals


def _scorer(model, dev):
    """``rows -> scores tensor on dev`` for ``model``: on the device where the model form allows."""
    import torch

    from ..profiles.user import UserProfiler
    from .content import ContentRecommender
    from .content_to_cf import ContentToCF
    from .ease import EASE
    from .ease_side import EASESide
    from .itemknn import ItemKNN
    from .mf import ALS

    def dense_rows(x: sp.csr_matrix, rows: np.ndarray):
        return torch.from_numpy(np.asarray(x[rows].toarray(), dtype=np.float32)).to(dev)

    # only where the class scores exactly as below: a subclass with its own _score uses it
    own = type(model)._score
    if own in (ALS._score, ContentToCF._score) and hasattr(model, "user_factors_") and hasattr(model, "item_factors_"):
        U = torch.from_numpy(np.ascontiguousarray(model.user_factors_, dtype=np.float32))
        V = torch.from_numpy(np.ascontiguousarray(model.item_factors_, dtype=np.float32)).to(dev)
        return lambda rows: U[torch.from_numpy(rows)].to(dev) @ V.T
    if (isinstance(model, ContentRecommender) and own is ContentRecommender._score
            and type(model.profiler_).score is UserProfiler.score):
        P = torch.from_numpy(np.ascontiguousarray(model.profiler_.profiles_, dtype=np.float32))
        V = torch.from_numpy(np.ascontiguousarray(model.embeddings_.matrix, dtype=np.float32)).to(dev)
        return lambda rows: P[torch.from_numpy(rows)].to(dev) @ V.T
    if isinstance(model, EASE) and own in (EASE._score, EASESide._score):
        B = torch.from_numpy(np.ascontiguousarray(model.B_, dtype=np.float32)).to(dev)
        return lambda rows: dense_rows(model.X_, rows) @ B
    if isinstance(model, ItemKNN) and own is ItemKNN._score:
        St = sp.csr_matrix(model.similarity_.T, dtype=np.float32)  # (X S)^T = S^T X^T: sparse @ dense
        with warnings.catch_warnings():  # torch calls its sparse CSR support "beta"
            warnings.simplefilter("ignore", UserWarning)
            St = torch.sparse_csr_tensor(torch.from_numpy(St.indptr.astype(np.int64)),
                                         torch.from_numpy(St.indices.astype(np.int64)),
                                         torch.from_numpy(St.data), size=St.shape,
                                         check_invariants=False).to(dev)
        return lambda rows: (St @ dense_rows(model.X_, rows).T).T
    return lambda rows: torch.from_numpy(model.score(rows)).to(dev)


def recommend_rows_torch(model, rows: np.ndarray, k: int, exclude: sp.csr_matrix | None, candidate_mask=None,
                         chunk_size: int | None = None, device="cpu",
                         show_progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item rows and scores of ``rows`` with scoring and top-k on ``device``.

    The device twin of ``Recommender.recommend_rows`` (which calls it when given
    ``device=``): same arguments once validated there, same ``(n, k)`` results up to float
    tolerance on ties.
    """
    import torch

    dev = resolve_device(device)
    n_items = model.n_items_
    kk = min(k, n_items)
    chunk = chunk_size or device_chunk_size(n_items, dev)
    if len(rows):  # the model's own checks at use (e.g. EASESide's parameters), which _scorer bypasses
        model.score(rows[:1])
    score = _scorer(model, dev)
    shared = None
    if isinstance(candidate_mask, np.ndarray):
        shared = torch.from_numpy(candidate_mask.astype(bool)).to(dev).unsqueeze(0)
    out_cols = np.zeros((len(rows), kk), dtype=np.int64)
    out_vals = np.full((len(rows), kk), -np.inf, dtype=np.float32)
    starts = range(0, len(rows), chunk)
    if show_progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"recommend {model.name} on {dev}", unit="chunk")
    with torch.inference_mode():
        for s in starts:
            part = rows[s:s + chunk]
            scores = score(part).float()
            allowed = shared
            if candidate_mask is not None and shared is None:
                allowed = torch.from_numpy(candidate_mask[s:s + chunk].toarray().astype(bool)).to(dev)
            _mask_rows(scores, exclude[part] if exclude is not None else None, allowed)
            out_cols[s:s + len(part)], out_vals[s:s + len(part)] = _topk_chunk(scores, kk)
    logger.info("recommend %s: %d users ranked on %s in chunks of %d", model.name, len(rows), dev, chunk)
    return out_cols, out_vals
