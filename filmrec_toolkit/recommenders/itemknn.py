"""Item-based k-nearest-neighbours with shrunk cosine similarity (Sarwar et al., WWW 2001)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._topk import topk
from .._validation import check_bool, check_number
from ..datasets.dataset import Dataset
from .base import Recommender
from .ease import interaction_matrix
from .explain import Explanation, history_explanation, user_history_arrays

__all__ = ["ItemKNN", "item_cosine_neighbors"]


#: Share of stored entries above which a chunk's similarities are ranked densely (same result).
DENSE_SHARE = 0.1


def _sparse_row_topk(m: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``k`` largest stored values of a CSR matrix, ties by lower column: (rows, cols, vals)."""
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, rows))
    rows, cols, vals = rows[order], m.indices[order], m.data[order]
    rank = np.arange(len(rows)) - m.indptr[:-1][rows]  # position within its row (rows stay grouped)
    keep = rank < k
    return rows[keep], cols[keep].astype(np.int64), vals[keep]


def item_cosine_neighbors(x: sp.csr_matrix, n_neighbors: int, shrink: float = 0.0,
                          chunk_size: int = 512) -> sp.csr_matrix:
    """Sparse items x items similarity keeping each item's ``n_neighbors`` best neighbours.

    sim(i, j) = x_i · x_j / (‖x_i‖ ‖x_j‖ + shrink) over the item columns of ``x``;
    ``S[i, j]`` holds sim(i, j) when ``i`` is among the top neighbours of ``j`` (self
    excluded), so ``scores = X_u S``. Computed in chunks of ``chunk_size`` items with
    sparse products ``X[:, chunk]ᵀ X`` that stay sparse: only co-occurring pairs are
    stored, each item's top neighbours are picked from its stored similarities (ties by
    lower item row, as :func:`~filmrec_toolkit._topk.topk`; a chunk whose product is
    denser than ``DENSE_SHARE`` is ranked densely, same result), and only those are kept.
    Memory is O(nnz of one chunk's product + kept entries), never O(n_items²): at 87,000
    items a chunk product holds at most ``chunk_size × n_items`` entries.
    """
    xc = sp.csc_matrix(x, dtype=np.float32)
    n_items = xc.shape[1]
    norms = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0)).ravel()).astype(np.float32)
    xt = xc.T.tocsr()
    xr = xc.tocsr()  # CSR @ CSR: scipy would otherwise convert the CSC operand on every chunk
    kk = min(n_neighbors, max(n_items - 1, 1))
    rows_out, cols_out, vals_out = [], [], []
    for s in range(0, n_items, chunk_size):
        cols = np.arange(s, min(s + chunk_size, n_items))
        prod = (xt[cols] @ xr).tocsr()  # (chunk, n_items) co-occurrence counts, sparse
        prod.sum_duplicates()
        r = np.repeat(np.arange(len(cols)), np.diff(prod.indptr))
        prod.data = prod.data / (norms[cols][r] * norms[prod.indices] + np.float32(shrink) + np.float32(1e-12))
        prod.data[prod.indices == cols[r]] = 0.0  # self
        prod.data[prod.data <= 0] = 0.0
        prod.eliminate_zeros()
        if prod.nnz > DENSE_SHARE * len(cols) * n_items:  # dense enough: a dense row top-k is faster
            sims = prod.toarray()
            sims[sims <= 0] = -np.inf
            nb, vals = topk(sims, kk)
            ok = np.isfinite(vals)
            r, nb, vals = np.nonzero(ok)[0], nb[ok], vals[ok]
            del sims
        else:
            r, nb, vals = _sparse_row_topk(prod, kk)
        rows_out.append(nb)
        cols_out.append(cols[r])
        vals_out.append(vals.astype(np.float32))
    return sp.csr_matrix((np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
                         shape=(n_items, n_items), dtype=np.float32)


class ItemKNN(Recommender):
    """Item-kNN: score(u, j) = Σ_{i ∈ history(u) ∩ N(j)} x_ui · sim(i, j).

    Parameters
    ----------
    n_neighbors : int
        Neighbourhood size kept per item.
    shrink : float
        Shrinkage of the cosine denominator (damps similarities built on few co-ratings).
    implicit : bool
        Use 1 per rating (default) instead of the rating value.
    """

    name = "ItemKNN"

    def __init__(self, n_neighbors: int = 100, shrink: float = 10.0, implicit: bool = True) -> None:
        self.n_neighbors = n_neighbors
        self.shrink = shrink
        self.implicit = implicit

    def _validate_params(self) -> None:
        check_number(self.n_neighbors, "n_neighbors", integer=True, low=1, example="ItemKNN(n_neighbors=100)")
        # nan would make every similarity nan (all scores 0), inf every similarity 0
        check_number(self.shrink, "shrink", low=0, example="ItemKNN(shrink=10.0)")
        check_bool(self.implicit, "implicit", example="ItemKNN(implicit=True)")

    def _fit(self, train: Dataset) -> None:
        self.X_ = interaction_matrix(train, self.implicit)
        self.similarity_ = item_cosine_neighbors(self.X_, self.n_neighbors, self.shrink)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return np.asarray((self.X_[user_rows] @ self.similarity_).toarray(), dtype=np.float32)

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        if text_vector is not None:
            raise ValueError("text: ItemKNN cannot use text; use a ContentRecommender or a content hybrid.")
        implicit = check_bool(self.implicit, "implicit", example="ItemKNN(implicit=True)")  # read again at use
        x = np.ones(len(item_rows), np.float32) if (implicit or ratings is None) else np.asarray(ratings, np.float32)
        return np.asarray(self.similarity_[item_rows].T @ x, dtype=np.float32).ravel()

    def explain(self, user, item, n: int = 5) -> Explanation:
        row, hist, ratings = user_history_arrays(self, user)
        col = self.item_vocab_.to_rows(item, param="item")
        x = self.X_[row].toarray()[0][hist]
        sim = np.asarray(self.similarity_[hist][:, [col]].toarray()).ravel().astype(np.float64)
        contrib = x * sim
        return history_explanation(self, user, item, hist, ratings, x, sim, contrib, float(contrib.sum()), n,
                                   "neighbour contributions")
