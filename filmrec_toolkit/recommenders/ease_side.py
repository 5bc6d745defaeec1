"""EASE with item side-information in its closed form (collective variant).

Idea (Jeunen, Van Balen & Goethals, "Closed-form models for collaborative filtering
with side-information", RecSys 2020 late-breaking results): item side-information
can be treated as extra "users". Each feature dimension becomes one extra row of the
user-item matrix, holding every item's value of that feature, multiplied by a weight.
EASE fitted on this taller matrix learns item-item weights that must reconstruct
both who watched what and what each film is about, so films with similar content
get larger weights between them, most visibly for films with few ratings. Users are
still scored from their interactions only.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..datasets.dataset import Dataset
from ..features.embeddings import ItemEmbeddings
from .ease import EASE

__all__ = ["EASESide"]


class EASESide(EASE):
    """EASE fitted on the user-item matrix stacked over weighted item side-information.

    With X the users x items interactions and F the items x d item features, the
    stacked matrix is ``[X; sqrt(side_weight) · Fᵀ]``. Its Gram matrix is
    ``XᵀX + side_weight · F Fᵀ``, and B is EASE's closed form on it:
    ``P = (XᵀX + side_weight · F Fᵀ + λI)⁻¹``, ``B_ij = -P_ij / P_jj``, ``B_jj = 0``.
    Scores are ``X_u B`` as in :class:`EASE`. ``side_weight = 0`` is EASE exactly
    (the same B, bit for bit). Explanations and cold-start profiles are EASE's.

    With L2-normalised text embeddings, F Fᵀ is the items' cosine-similarity matrix
    (its diagonal is 1), so ``side_weight`` is worth about that many extra users who
    each "watched" a film in proportion to its similarity; choose it on validation,
    e.g. among ``{0, 0.03, 0.1, 0.3, 1} × l2``.

    Parameters
    ----------
    features : ItemEmbeddings
        Item side-information covering every training item: text-embedding vectors
        (``embed_items``), genre flags (``GenreEncoder``), TF-IDF, ...
    l2 : float > 0
        L2 penalty λ.
    side_weight : float >= 0
        Weight of the side-information rows (0 = plain EASE).
    implicit : bool
        Use 1 for every rating (default) instead of the rating value.
    device : None, "cpu", "cuda", "cuda:N" or "auto"
        Where the closed form is computed (see :class:`EASE`): None = NumPy; otherwise
        torch, with ``side_weight · F Fᵀ`` added to the Gram matrix on the device.
    dtype : {"float64", "float32"}
        Precision of the Gram matrix and the solve (see :class:`EASE`).
    """

    name = "EASESide"

    def __init__(self, features: ItemEmbeddings, l2: float = 500.0, side_weight: float = 50.0,
                 implicit: bool = True, device=None, dtype: str = "float64") -> None:
        self.features = features
        self.l2 = l2
        self.side_weight = side_weight
        self.implicit = implicit
        self.device = device
        self.dtype = dtype

    def _check_params(self) -> float:
        if not isinstance(self.features, ItemEmbeddings):
            raise TypeError(f"features must be ItemEmbeddings (embed_items, GenreEncoder or TfidfEncoder output), "
                            f"got {type(self.features).__name__}; e.g. EASESide(ft.embed_items(ds)).")
        w = self.side_weight
        if (not isinstance(w, numbers.Real) or isinstance(w, bool) or not math.isfinite(float(w))
                or float(w) < 0):
            raise ValueError(f"side_weight == {w!r}: must be a finite number >= 0 (0 = plain EASE); "
                             "e.g. side_weight=50.0.")
        l2 = self.l2
        if not isinstance(l2, numbers.Real) or isinstance(l2, bool) or not math.isfinite(float(l2)) or not l2 > 0:
            raise ValueError(f"l2 == {l2!r}: must be a finite number > 0 (the closed form needs a positive "
                             "penalty); e.g. l2=500.0.")
        return float(w)

    def _gram_side(self, train: Dataset) -> tuple[float, np.ndarray] | None:
        """``(w, F)``: the Gram matrix gains w · F Fᵀ, the weighted side information stacked under the ratings."""
        w = self._check_params()
        features = self.features.align(train)  # raises for items without a vector
        if w == 0:
            return None  # plain EASE, bit for bit
        return w, features.matrix.astype(np.float64)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        self._check_params()
        return super()._score(user_rows)
