"""Blends of recommenders on per-user normalised scores, and a content blend gated by item support.

Both hybrids are built so that they can never be *structurally* worse than their
collaborative part: every blend weight may be 0, and a hybrid whose only non-zero
weight is one member's ranks exactly as that member (it returns that member's raw
scores). Choose the weights on a validation split with :func:`filmrec_toolkit.tune` or
:func:`filmrec_toolkit.tune_blend` (weight 0 in the grid lets validation switch the language
model off).

Members are cloned (:func:`filmrec_toolkit.clone`) before fitting: the models passed
in are never fitted or changed by the hybrid.
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Sequence

import numpy as np
from scipy.stats import rankdata

from .._params import clone
from ..datasets.dataset import Dataset
from .base import Recommender

logger = logging.getLogger(__name__)
__all__ = ["Hybrid", "ContentAwareHybrid", "normalize_scores"]

_NORMALIZATIONS = ("zscore", "minmax", "rank", "none")


def _check_normalization(method) -> str:
    if method not in _NORMALIZATIONS:
        raise ValueError(f"normalization={method!r} is not one of {_NORMALIZATIONS}; e.g. normalization='zscore'.")
    return method


def normalize_scores(scores: np.ndarray, method: str = "zscore") -> np.ndarray:
    """Per-user (row) normalisation of a score matrix.

    ``zscore``: (s - mean) / std over the row. Subtracting a per-user constant never
    changes that user's ranking, so for blending this is *scale matching*: each
    member's scores are divided by their per-user spread. ``minmax``: to [0, 1] (range
    matching). ``rank``: the item's rank in the row divided by the row length, in
    (0, 1] (ties get their average rank; only the order of a member's scores counts).
    ``none``: unchanged. A constant row becomes 0 (``rank``: 0.5 for every item).

    Parameters
    ----------
    scores : array (n_users, n_items)
    method : {"zscore", "minmax", "rank", "none"}

    Returns
    -------
    ndarray of float32, same shape.
    """
    _check_normalization(method)
    s = np.asarray(scores, dtype=np.float32)
    if method == "none":
        return s
    if method == "zscore":
        mu = s.mean(axis=1, keepdims=True)
        sd = s.std(axis=1, keepdims=True)
        return np.divide(s - mu, sd, out=np.zeros_like(s), where=sd > 1e-12)
    if method == "rank":
        if s.size == 0:
            return s
        return (rankdata(s, axis=1) / s.shape[1]).astype(np.float32)
    lo = s.min(axis=1, keepdims=True)
    span = s.max(axis=1, keepdims=True) - lo
    return np.divide(s - lo, span, out=np.zeros_like(s), where=span > 1e-12)


def _check_weight(value, name: str, example: str) -> float:
    """A finite number >= 0 (bools refused), as float; the error names the parameter and a fix."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"{name} == {value!r}: must be a finite number >= 0 (0 switches that part off); "
                         f"e.g. {example}.")
    return float(value)


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} == {value!r}: must be True or False; e.g. {name}=True.")
    return bool(value)


def _check_member(model, name: str) -> Recommender:
    if not isinstance(model, Recommender):
        raise TypeError(f"{name} must be a filmrec_toolkit Recommender (e.g. EASE()), got {type(model).__name__}.")
    return model


def _fitted_member(model: Recommender, train: Dataset, refit: bool) -> Recommender:
    """A fitted member for ``train`` without ever fitting the caller's object.

    ``refit=True`` (or an unfitted model): a clone fitted on ``train``. ``refit=False``
    and fitted on this data's vocabularies: the model itself, used read-only.
    """
    if refit or not hasattr(model, "train_"):
        return clone(model).fit(train)
    if model.user_vocab_ != train.user_vocab or model.item_vocab_ != train.item_vocab:
        raise ValueError(f"{type(model).__name__} was fitted on data with other vocabularies; pass refit=True "
                         "or fit it on a split of this dataset.")
    return model


def _member_profile_scores(model: Recommender, item_rows, ratings, text_vector, n_items: int) -> np.ndarray:
    """One member's cold-start scores (1, n_items); text goes only to content models."""
    from .content import ContentRecommender

    text = text_vector if isinstance(model, ContentRecommender) else None
    if text is None and len(item_rows) == 0:
        return np.zeros((1, n_items), np.float32)
    return np.asarray(model._score_profile(item_rows, ratings, text), dtype=np.float32)[None, :]


class Hybrid(Recommender):
    """Weighted sum of per-user normalised member scores: Σ_m w_m · norm(score_m).

    With a single non-zero weight the hybrid returns that member's raw scores, so it
    ranks exactly as that member: ``Hybrid([ease, content], weights=[1, 0])`` *is* EASE.

    Parameters
    ----------
    models : sequence of Recommender
        Members; clones are fitted (the objects passed in are never fitted or changed).
    weights : sequence of float, optional
        One finite weight >= 0 per model, not all 0; default equal weights. Choose them
        on validation (:func:`filmrec_toolkit.tune`), e.g. ``{"weights": [(1, 0), (1, 0.1), (1, 0.3)]}``.
    normalization : {"zscore", "minmax", "rank", "none"}
        Per-user normalisation of each member before blending (:func:`normalize_scores`).
    refit : bool
        ``True`` (default): fit a clone of every member on the training data.
        ``False``: members already fitted on a split with the same vocabularies are used
        as they are (read-only); unfitted ones are cloned and fitted.

    Attributes
    ----------
    models_ : list of Recommender
        The fitted members.
    weights_ : ndarray of float32
    """

    name = "Hybrid"

    def __init__(self, models: Sequence[Recommender], weights: Sequence[float] | None = None,
                 normalization: str = "zscore", refit: bool = True) -> None:
        self.models = models
        self.weights = weights
        self.normalization = normalization
        self.refit = refit

    def _check_params(self) -> tuple[list[Recommender], np.ndarray]:
        if isinstance(self.models, Recommender) or not isinstance(self.models, (list, tuple)):
            raise TypeError(f"models must be a list of Recommenders, e.g. models=[EASE(), ContentRecommender(emb)]; "
                            f"got {type(self.models).__name__}.")
        models = [_check_member(m, f"models[{i}]") for i, m in enumerate(self.models)]
        if not models:
            raise ValueError("models is empty; give at least one recommender to blend, e.g. models=[EASE()].")
        if self.weights is None:
            weights = np.ones(len(models))
        else:
            if np.ndim(self.weights) != 1:
                raise ValueError(f"weights == {self.weights!r}: must be one number per model; "
                                 f"e.g. weights={[1.0] + [0.2] * (len(models) - 1)}.")
            given = list(self.weights)
            if len(given) != len(models):
                raise ValueError(f"weights has {len(given)} value(s) for {len(models)} model(s); give one per model, "
                                 f"e.g. weights={[1.0] + [0.2] * (len(models) - 1)}.")
            example = f"weights={[1.0] + [0.2] * (len(models) - 1)}"
            weights = np.array([_check_weight(w, f"weights[{i}]", example) for i, w in enumerate(given)])
            if not weights.any():
                raise ValueError(f"weights == {given!r}: at least one weight must be > 0; e.g. {example}.")
        _check_normalization(self.normalization)
        _check_bool(self.refit, "refit")
        return models, weights

    def _fit(self, train: Dataset) -> None:
        models, weights = self._check_params()
        self.models_ = [_fitted_member(m, train, self.refit) for m in models]
        self.weights_ = weights.astype(np.float32)

    def _active(self) -> list[tuple[float, Recommender]]:
        self._check_params()
        return [(float(w), m) for w, m in zip(self.weights_, self.models_) if w != 0]

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        active = self._active()
        if len(active) == 1:  # exactly the member's ranking (and scores)
            return active[0][1].score(user_rows)
        out = np.zeros((len(user_rows), self.n_items_), np.float32)
        for w, m in active:
            out += w * normalize_scores(m.score(user_rows), self.normalization)
        return out

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        active = self._active()
        parts = [(w, _member_profile_scores(m, item_rows, ratings, text_vector, self.n_items_)) for w, m in active]
        if len(parts) == 1:
            return parts[0][1][0]
        out = np.zeros((1, self.n_items_), np.float32)
        for w, part in parts:
            out += w * normalize_scores(part, self.normalization)
        return out[0]


class ContentAwareHybrid(Recommender):
    """CF plus content, with more content for items with few training ratings.

    score(u, i) = norm(cf)(u, i) + a_i · norm(content)(u, i), with
    a_i = content_weight + tail_weight · shrink / (shrink + n_i), n_i the item's
    training ratings. ``content_weight`` adds content to every item; ``tail_weight``
    adds it mostly to rarely rated items (half of it at ``shrink`` ratings, all of it
    for a never-rated item). With ``content_weight = tail_weight = 0`` the hybrid
    returns the CF member's raw scores: it ranks exactly as the CF model.

    Parameters
    ----------
    cf, content : Recommender
        E.g. ``EASE()`` and ``ContentRecommender(embeddings)``; clones are fitted.
    content_weight : float >= 0
        Content weight for every item (relative to CF's weight 1, after normalisation).
    tail_weight : float >= 0
        Extra content weight for items with few ratings (item-support gating).
    shrink : float > 0
        Training ratings at which the extra weight is halved.
    normalization : {"zscore", "minmax", "rank", "none"}
        Per-user normalisation of both members (:func:`normalize_scores`).
    refit : bool
        As in :class:`Hybrid`.

    Attributes
    ----------
    cf_, content_ : Recommender
        The fitted members.
    item_content_weight_ : ndarray (n_items,) float32
        a_i for every item.
    """

    name = "ContentAwareHybrid"

    def __init__(self, cf: Recommender, content: Recommender, content_weight: float = 0.1,
                 tail_weight: float = 0.0, shrink: float = 10.0, normalization: str = "zscore",
                 refit: bool = True) -> None:
        self.cf = cf
        self.content = content
        self.content_weight = content_weight
        self.tail_weight = tail_weight
        self.shrink = shrink
        self.normalization = normalization
        self.refit = refit

    def _check_params(self) -> tuple[float, float, float]:
        _check_member(self.cf, "cf")
        _check_member(self.content, "content")
        cw = _check_weight(self.content_weight, "content_weight", "content_weight=0.1")
        tw = _check_weight(self.tail_weight, "tail_weight", "tail_weight=0.5")
        shrink = _check_weight(self.shrink, "shrink", "shrink=10.0")
        if shrink == 0:
            raise ValueError("shrink == 0: must be a finite number > 0 (ratings at which the tail weight halves); "
                             "e.g. shrink=10.0.")
        _check_normalization(self.normalization)
        _check_bool(self.refit, "refit")
        return cw, tw, shrink

    def _fit(self, train: Dataset) -> None:
        cw, tw, shrink = self._check_params()
        self.cf_ = _fitted_member(self.cf, train, self.refit)
        self.content_ = _fitted_member(self.content, train, self.refit)
        n = train.item_counts().astype(np.float64)
        self.item_content_weight_ = (cw + tw * shrink / (shrink + n)).astype(np.float32)

    def _content_off(self) -> bool:
        self._check_params()
        return not self.item_content_weight_.any()

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        if self._content_off():  # exactly the CF ranking (and scores)
            return self.cf_.score(user_rows)
        cf = normalize_scores(self.cf_.score(user_rows), self.normalization)
        ct = normalize_scores(self.content_.score(user_rows), self.normalization)
        return cf + self.item_content_weight_ * ct

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        cf = _member_profile_scores(self.cf_, item_rows, ratings, None, self.n_items_)
        if self._content_off():
            return cf[0]
        ct = _member_profile_scores(self.content_, item_rows, ratings, text_vector, self.n_items_)
        a = self.item_content_weight_
        return (normalize_scores(cf, self.normalization) + a * normalize_scores(ct, self.normalization))[0]
