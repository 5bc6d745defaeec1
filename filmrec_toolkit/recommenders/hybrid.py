"""Blends of fitted recommenders on normalised scores, and a content-aware blend for rarely rated items."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..datasets.dataset import Dataset
from .base import Recommender

__all__ = ["Hybrid", "ContentAwareHybrid", "normalize_scores"]

_NORMALIZATIONS = ("zscore", "minmax", "none")


def normalize_scores(scores: np.ndarray, method: str = "zscore") -> np.ndarray:
    """Per-user (row) normalisation: ``zscore`` (s - mean) / std, ``minmax`` to [0, 1], or ``none``.

    A constant row becomes 0.
    """
    if method not in _NORMALIZATIONS:
        raise ValueError(f"normalization={method!r} is not one of {_NORMALIZATIONS}.")
    s = np.asarray(scores, dtype=np.float32)
    if method == "none":
        return s
    if method == "zscore":
        mu = s.mean(axis=1, keepdims=True)
        sd = s.std(axis=1, keepdims=True)
        return np.divide(s - mu, sd, out=np.zeros_like(s), where=sd > 1e-12)
    lo = s.min(axis=1, keepdims=True)
    span = s.max(axis=1, keepdims=True) - lo
    return np.divide(s - lo, span, out=np.zeros_like(s), where=span > 1e-12)


def _member_profile_scores(model: Recommender, item_rows, ratings, text_vector, n_items: int) -> np.ndarray:
    """One member's cold-start scores (1, n_items); text goes only to content models."""
    from .content import ContentRecommender

    text = text_vector if isinstance(model, ContentRecommender) else None
    if text is None and len(item_rows) == 0:
        return np.zeros((1, n_items), np.float32)
    return np.asarray(model._score_profile(item_rows, ratings, text), dtype=np.float32)[None, :]


def _fit_members(models, train: Dataset, refit: bool) -> None:
    for m in models:
        if not isinstance(m, Recommender):
            raise TypeError(f"models must be Recommender instances, got {type(m).__name__}.")
        if refit or not hasattr(m, "train_"):
            m.fit(train)
        elif m.user_vocab_ != train.user_vocab or m.item_vocab_ != train.item_vocab:
            raise ValueError(f"{type(m).__name__} was fitted on data with other vocabularies; pass refit=True "
                             "or fit it on a split of this dataset.")


class Hybrid(Recommender):
    """Weighted sum of per-user normalised scores: Σ_m w_m · norm(score_m).

    Parameters
    ----------
    models : sequence of Recommender
        Fitted on ``fit`` (``refit=True``) or used as they are (``refit=False``, they
        must share the training vocabularies).
    weights : sequence of float, optional
        One per model; default equal weights.
    normalization : {"zscore", "minmax", "none"}
    refit : bool
    """

    name = "Hybrid"

    def __init__(self, models: Sequence[Recommender], weights: Sequence[float] | None = None,
                 normalization: str = "zscore", refit: bool = True) -> None:
        self.models = models
        self.weights = weights
        self.normalization = normalization
        self.refit = refit

    def _fit(self, train: Dataset) -> None:
        models = list(self.models)
        if not models:
            raise ValueError("models is empty; give at least one recommender to blend.")
        weights = np.ones(len(models)) if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        if weights.shape != (len(models),):
            raise ValueError(f"weights has {weights.size} value(s) for {len(models)} model(s); give one per model.")
        normalize_scores(np.zeros((1, 1)), self.normalization)
        _fit_members(models, train, self.refit)
        self.models_ = models
        self.weights_ = weights.astype(np.float32)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        out = None
        for w, m in zip(self.weights_, self.models_):
            if w == 0:
                continue
            part = w * normalize_scores(m.score(user_rows), self.normalization)
            out = part if out is None else out + part
        return out if out is not None else np.zeros((len(user_rows), self.n_items_), np.float32)

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        out = np.zeros((1, self.n_items_), np.float32)
        for w, m in zip(self.weights_, self.models_):
            if w != 0:
                part = _member_profile_scores(m, item_rows, ratings, text_vector, self.n_items_)
                out += w * normalize_scores(part, self.normalization)
        return out[0]


class ContentAwareHybrid(Recommender):
    """CF blended with content, leaning on content for items with few ratings.

    score(u, i) = (1 - a_i) · norm(cf)(u, i) + a_i · norm(content)(u, i), with
    a_i = content_weight + (1 - content_weight) · shrink / (shrink + n_i), n_i the
    item's training ratings. A never-rated item (n_i = 0) is scored by content alone;
    a popular one mostly by CF.

    Parameters
    ----------
    cf, content : Recommender
        E.g. ``EASE()`` and ``ContentRecommender(embeddings)``.
    content_weight : float in [0, 1]
        Content share for very popular items.
    shrink : float >= 0
        Ratings at which an item's CF and content shares meet halfway (above the floor).
    normalization : {"zscore", "minmax", "none"}
    refit : bool
    """

    name = "ContentAwareHybrid"

    def __init__(self, cf: Recommender, content: Recommender, content_weight: float = 0.1,
                 shrink: float = 10.0, normalization: str = "zscore", refit: bool = True) -> None:
        self.cf = cf
        self.content = content
        self.content_weight = content_weight
        self.shrink = shrink
        self.normalization = normalization
        self.refit = refit

    def _fit(self, train: Dataset) -> None:
        if not 0.0 <= self.content_weight <= 1.0:
            raise ValueError(f"content_weight == {self.content_weight}, must be in [0, 1].")
        if self.shrink < 0:
            raise ValueError(f"shrink == {self.shrink}, must be >= 0.")
        normalize_scores(np.zeros((1, 1)), self.normalization)
        _fit_members([self.cf, self.content], train, self.refit)
        n = train.item_counts().astype(np.float64)
        cold = np.divide(self.shrink, self.shrink + n, out=np.ones_like(n), where=(self.shrink + n) > 0)
        self.item_content_share_ = (self.content_weight + (1 - self.content_weight) * cold).astype(np.float32)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        a = self.item_content_share_
        cf = normalize_scores(self.cf.score(user_rows), self.normalization)
        ct = normalize_scores(self.content.score(user_rows), self.normalization)
        return (1 - a) * cf + a * ct

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        a = self.item_content_share_
        cf = normalize_scores(_member_profile_scores(self.cf, item_rows, ratings, None, self.n_items_),
                              self.normalization)
        ct = normalize_scores(_member_profile_scores(self.content, item_rows, ratings, text_vector, self.n_items_),
                              self.normalization)
        return ((1 - a) * cf + a * ct)[0]
