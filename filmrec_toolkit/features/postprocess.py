"""Catalogue-level post-processing of embeddings: mean-centring and PCA whitening.

Raw hidden states of causal LMs are anisotropic (every pair of films has cosine ~0.96 with
SmolLM2-135M); subtracting the catalogue mean (Mu & Viswanath 2018, "All-but-the-Top") or
whitening (Su et al. 2021, "Whitening Sentence Representations") restores contrast.
"""

from __future__ import annotations

import numpy as np

from .._params import ParamsMixin
from ..exceptions import check_fitted
from .embeddings import l2_normalize

POSTPROCESS_METHODS = (None, "center", "whiten")


class EmbeddingPostprocessor(ParamsMixin):
    """Fit on the catalogue's vectors, then map any vector the same way.

    Parameters
    ----------
    method : {None, "center", "whiten"}
        ``None``: identity. ``"center"``: ``x - mean``. ``"whiten"``:
        ``(x - mean) @ U diag(1 / sqrt(s + eps))`` with ``U, s`` the eigenvectors/values of the
        covariance (``eps = 1e-6 * max(s)`` keeps rank-deficient catalogues finite).
    prenormalize : bool
        L2-normalise rows before fitting/applying (so long texts with large norms do not
        dominate the mean).
    """

    def __init__(self, method: str | None = None, prenormalize: bool = True) -> None:
        self.method = method
        self.prenormalize = prenormalize

    def _check(self) -> None:
        if self.method not in POSTPROCESS_METHODS:
            raise ValueError(f"postprocess={self.method!r} is not one of {POSTPROCESS_METHODS}.")

    def fit(self, X: np.ndarray) -> "EmbeddingPostprocessor":
        self._check()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"X must be a non-empty 2-D array to fit postprocess={self.method!r}, got shape {X.shape}.")
        if self.prenormalize:
            X = l2_normalize(X).astype(np.float64)
        self.mean_ = X.mean(axis=0) if self.method else np.zeros(X.shape[1])
        self.components_ = None
        if self.method == "whiten":
            cov = np.cov(X - self.mean_, rowvar=False) if len(X) > 1 else np.eye(X.shape[1])
            s, U = np.linalg.eigh(np.atleast_2d(cov))
            s = np.clip(s, 0, None)
            eps = 1e-6 * max(float(s.max()), 1e-12)
            self.components_ = (U / np.sqrt(s + eps)).astype(np.float64)
        self.n_fitted_ = int(len(X))
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_fitted(self, "mean_")
        X = np.asarray(X, dtype=np.float64)
        if self.prenormalize:
            X = l2_normalize(X).astype(np.float64)
        if self.method is None:
            return X.astype(np.float32)
        X = X - self.mean_
        if self.components_ is not None:
            X = X @ self.components_
        return X.astype(np.float32)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def state(self) -> dict[str, np.ndarray]:
        """Fitted arrays, to store with the embeddings (``ItemEmbeddings.transform_state``)."""
        check_fitted(self, "mean_")
        out = {"mean": self.mean_.astype(np.float32)}
        if self.components_ is not None:
            out["components"] = self.components_.astype(np.float32)
        return out

    @classmethod
    def from_state(cls, method: str | None, state: dict, prenormalize: bool = True) -> "EmbeddingPostprocessor":
        pp = cls(method, prenormalize)
        pp.mean_ = np.asarray(state["mean"], dtype=np.float64)
        comp = state.get("components")
        pp.components_ = None if comp is None else np.asarray(comp, dtype=np.float64)
        pp.n_fitted_ = -1
        return pp
