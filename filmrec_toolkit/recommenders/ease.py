"""EASE: closed-form item-item linear autoencoder (Steck, WWW 2019)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_number
from ..datasets.dataset import Dataset
from .base import Recommender
from .explain import Explanation, history_explanation, user_history_arrays

__all__ = ["EASE"]

#: Bytes per n_items² entry at the peak of the closed-form fit: float64 Gram and inverse,
#: one float64 temporary, the float32 B (8 + 8 + 8 + 4).
EASE_BYTES_PER_ENTRY = 28


def available_memory_bytes() -> int | None:
    """Memory this machine can still give a process (``MemAvailable`` of /proc/meminfo, else psutil)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def check_ease_memory(n_items: int, available: int | None = None) -> int:
    """Estimated peak bytes of an EASE fit on ``n_items``; raise ``MemoryError`` when it cannot fit.

    The estimate is ``EASE_BYTES_PER_ENTRY * n_items²``; the refusal names the alternatives.
    """
    need = EASE_BYTES_PER_ENTRY * int(n_items) ** 2
    available = available_memory_bytes() if available is None else available
    if available is not None and need > available:
        raise MemoryError(
            f"EASE on n_items={n_items:,} needs about {need / 2**30:,.1f} GiB (dense n_items x n_items Gram, "
            f"inverse and weights) but only {available / 2**30:,.1f} GiB is available. Use ItemKNN "
            "(sparse top-neighbour similarities), ALS (factors), or EASE on a filtered catalogue, e.g. "
            "train.filter(min_item_ratings=...) or the most popular ~20,000 items "
            f"(~{EASE_BYTES_PER_ENTRY * 20_000 ** 2 / 2**30:.0f} GiB).")
    return need


def interaction_matrix(train: Dataset, implicit: bool) -> sp.csr_matrix:
    """Users x items float32 matrix: 1 for every rating when ``implicit`` else the rating."""
    m = train.matrix.copy()
    if implicit:
        m.data[:] = 1.0
    return m


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder.

    B = argmin ||X - XB||² + λ||B||² s.t. diag(B) = 0, solved in closed form:
    P = (XᵀX + λI)⁻¹, B_ij = -P_ij / P_jj, B_jj = 0. Score of user u = X_u B.
    Memory and time are O(n_items²) and O(n_items³).

    Parameters
    ----------
    l2 : float
        L2 penalty λ (> 0); a few hundred suits MovieLens.
    implicit : bool
        Use 1 for every rating (default) instead of the rating value.
    """

    name = "EASE"

    def __init__(self, l2: float = 500.0, implicit: bool = True) -> None:
        self.l2 = l2
        self.implicit = implicit

    def _validate_params(self) -> None:
        # the closed form needs a positive, finite penalty (inf gives B = 0: empty lists)
        check_number(self.l2, "l2", low=0, low_open=True, example="EASE(l2=500.0)")
        check_bool(self.implicit, "implicit", example="EASE(implicit=True)")

    def _gram_extra(self, train: Dataset) -> np.ndarray | None:
        """Added to the Gram matrix before the closed form (side information); none for plain EASE."""
        return None

    def _fit(self, train: Dataset) -> None:
        check_ease_memory(train.n_items)
        x = interaction_matrix(train, self.implicit)
        gram = (x.T @ x).toarray().astype(np.float64)
        extra = self._gram_extra(train)
        if extra is not None:
            gram += extra
        gram[np.diag_indices_from(gram)] += float(self.l2)
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        self.B_ = b.astype(np.float32)
        self.X_ = x

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.X_[user_rows] @ self.B_, dtype=np.float32)

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        if text_vector is not None:
            raise ValueError("text: EASE cannot use text; use a ContentRecommender or a content hybrid.")
        implicit = check_bool(self.implicit, "implicit", example="EASE(implicit=True)")  # read again at use
        x = np.ones(len(item_rows), np.float32) if (implicit or ratings is None) else np.asarray(ratings, np.float32)
        return x @ self.B_[item_rows]

    def explain(self, user, item, n: int = 5) -> Explanation:
        row, hist, ratings = user_history_arrays(self, user)
        col = self.item_vocab_.to_rows(item, param="item")
        x = self.X_[row].toarray()[0][hist]
        sim = self.B_[hist, col].astype(np.float64)
        contrib = x * sim
        score = float(contrib.sum())
        return history_explanation(self, user, item, hist, ratings, x, sim, contrib, score, n,
                                   "EASE item-item weights")
