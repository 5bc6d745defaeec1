"""User profiles: one vector per user from the embeddings of the films they rated."""

from __future__ import annotations

import logging
import numbers
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import USER_COL
from .._params import ParamsMixin
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_fitted, check_positive_int
from ..features.embeddings import ItemEmbeddings, l2_normalize

logger = logging.getLogger(__name__)

STRATEGIES = ("mean", "rating_weighted", "time_decay")
_SECONDS_PER_DAY = 86400.0


def _check_strategy(strategy: str, half_life_days) -> None:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} is not one of {STRATEGIES}; pick one of them.")
    if strategy == "time_decay":
        if (isinstance(half_life_days, bool) or not isinstance(half_life_days, numbers.Real)
                or not half_life_days > 0):
            raise ValueError(f"half_life_days == {half_life_days!r}, must be a number > 0 (days) for "
                             "strategy='time_decay'.")


def _centred_weights(ratings: np.ndarray) -> np.ndarray:
    """``r - mean(r)``; all-equal ratings give weight 1 for every film (the plain mean)."""
    w = ratings - ratings.mean()
    if np.abs(w).sum() < 1e-12:
        w = np.ones_like(ratings)
    return w


def _decay_weights(timestamps_s: np.ndarray, half_life_days: float) -> np.ndarray:
    """``0.5 ** ((t_last - t) / half_life)`` with ``t`` in days."""
    days = np.asarray(timestamps_s, dtype=np.float64) / _SECONDS_PER_DAY
    return np.power(0.5, (days.max() - days) / float(half_life_days))


def profile_weights(dataset: Dataset, strategy: str = "rating_weighted",
                    half_life_days: float = 180.0) -> sp.csr_matrix:
    """Users x items weight matrix ``w_ui`` for a profile strategy.

    - ``mean``: ``w_ui = 1`` for every rated film.
    - ``rating_weighted``: ``w_ui = r_ui - mean_u`` (films rated below the user's own mean
      get a negative weight and push the profile away; a film rated exactly at the mean
      gets 0). A user whose ratings are all equal gets ``w = 1`` (the plain mean), since
      centring would leave no signal.
    - ``time_decay``: ``w_ui = 0.5 ** ((t_last_u - t_ui) / half_life_days)`` with times in
      days, so a film rated ``half_life_days`` before the user's latest rating counts half.
      Ratings values are not used (recency only).

    Parameters
    ----------
    dataset : Dataset
    strategy : {"mean", "rating_weighted", "time_decay"}
    half_life_days : float
        Half-life of ``time_decay``, in days.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``n_users x n_items`` float64 with the sparsity of ``dataset.matrix`` (zero weights dropped).
    """
    _check_strategy(strategy, half_life_days)
    m = dataset.matrix.copy().astype(np.float64)
    counts = np.diff(m.indptr)
    if strategy == "mean":
        m.data[:] = 1.0
    elif strategy == "rating_weighted":
        sums = np.asarray(m.sum(axis=1)).ravel()
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        m.data -= np.repeat(means, counts)
        if m.nnz:
            flat = np.add.reduceat(np.abs(m.data), m.indptr[:-1][counts > 0])
            for u in np.flatnonzero(counts > 0)[flat < 1e-12]:
                m.data[m.indptr[u]:m.indptr[u + 1]] = 1.0
    else:
        if not dataset.has_timestamps:
            raise ValueError("strategy='time_decay' needs a 'timestamp' column in dataset.ratings; this dataset "
                             "has none. Use strategy='rating_weighted' or 'mean'.")
        ts = dataset.timestamp_matrix()
        ts.data = ts.data / _SECONDS_PER_DAY
        last = np.repeat(np.asarray(ts.max(axis=1).toarray()).ravel(), counts)
        m.data = np.power(0.5, (last - ts.data) / float(half_life_days))
    m.eliminate_zeros()
    return m.tocsr()


class UserProfiler(ParamsMixin):
    """Build one L2-normalised profile vector per user.

    ``profile_u = normalize( sum_i w_ui e_i / sum_i |w_ui| )`` with weights from
    :func:`profile_weights` and ``e_i`` the item embeddings. Users with fewer than
    ``min_ratings`` ratings, or whose weights cancel out exactly, get the population
    profile (the normalised mean of all own profiles) and ``fallback=True`` in
    :attr:`info_` -- never a silent zero vector.

    Parameters
    ----------
    strategy : {"mean", "rating_weighted", "time_decay"}
        How each rated film is weighted (see :func:`profile_weights`).
    half_life_days : float
        Half-life for ``time_decay``, in days.
    min_ratings : int
        Minimum number of rated films for an own profile.

    Attributes
    ----------
    profiles_ : ndarray (n_users, d) float32
        Unit rows in user-vocabulary order.
    population_profile_ : ndarray (d,) float32
        The fallback vector.
    info_ : DataFrame
        ``user_id, n_ratings, fallback, fallback_reason`` in user-vocabulary order.
    user_vocab_ : Vocabulary

    Examples
    --------
    >>> prof = UserProfiler("rating_weighted").fit(train, emb)      # doctest: +SKIP
    >>> prof.transform().shape, prof.info_["fallback"].sum()          # doctest: +SKIP
    """

    def __init__(self, strategy: Literal["mean", "rating_weighted", "time_decay"] = "rating_weighted",
                 half_life_days: float = 180.0, min_ratings: int = 1) -> None:
        self.strategy = strategy
        self.half_life_days = half_life_days
        self.min_ratings = min_ratings

    def _validate(self, dataset, embeddings) -> np.ndarray:
        dataset = ensure_dataset(dataset)
        if not isinstance(embeddings, ItemEmbeddings):
            raise TypeError(f"embeddings must be ItemEmbeddings, got {type(embeddings).__name__}; wrap a matrix "
                            "with ItemEmbeddings(matrix, item_ids).")
        _check_strategy(self.strategy, self.half_life_days)
        check_positive_int(self.min_ratings, "min_ratings")
        return embeddings.align(dataset).matrix

    def fit(self, dataset: Dataset, embeddings: ItemEmbeddings) -> "UserProfiler":
        """Compute every user's profile.

        Parameters
        ----------
        dataset : Dataset
            Ratings (usually a training split).
        embeddings : ItemEmbeddings
            Item vectors; aligned to ``dataset``'s item vocabulary.

        Returns
        -------
        self
        """
        emb = self._validate(dataset, embeddings)
        w = profile_weights(dataset, self.strategy, self.half_life_days)
        raw = np.asarray(w @ emb, dtype=np.float32)
        norm = np.asarray(abs(w).sum(axis=1)).ravel()
        raw /= np.maximum(norm, 1e-12)[:, None].astype(np.float32)
        n_rated = dataset.user_counts()
        profiles = l2_normalize(raw)
        too_few = n_rated < self.min_ratings
        cancelled = ~too_few & (np.linalg.norm(raw, axis=1) < 1e-8)
        fallback = too_few | cancelled
        reason = np.full(len(fallback), "", dtype=object)
        reason[too_few & (n_rated == 0)] = "no ratings"
        reason[too_few & (n_rated > 0)] = f"fewer than min_ratings={self.min_ratings}"
        reason[cancelled] = "weights cancel out"
        if fallback.all():
            population = l2_normalize(emb.mean(axis=0, keepdims=True))[0]
        else:
            population = l2_normalize(profiles[~fallback].mean(axis=0, keepdims=True))[0]
        profiles[fallback] = population
        self.profiles_ = profiles
        self.population_profile_ = population
        self.info_ = pd.DataFrame({USER_COL: dataset.user_ids, "n_ratings": n_rated, "fallback": fallback,
                                   "fallback_reason": reason})
        self.user_vocab_ = dataset.user_vocab
        if fallback.any():
            logger.info("%d user(s) fell back to the population mean profile", int(fallback.sum()))
        return self

    def transform(self, dataset: Dataset | None = None) -> np.ndarray:
        """Profiles ``(n_users, d)`` float32 in user-vocabulary order."""
        check_fitted(self, "profiles_")
        if dataset is not None and dataset.user_vocab != self.user_vocab_:
            raise ValueError("transform: dataset has another user vocabulary than the one fitted; refit on it "
                             "(splits of one dataset share the vocabulary).")
        return self.profiles_

    def score(self, user_rows, item_matrix: np.ndarray) -> np.ndarray:
        """Scores ``(len(user_rows), n_items)`` = profile . item vector (cosine for unit vectors).

        This is the hook :class:`~filmrec_toolkit.recommenders.ContentRecommender` calls;
        multi-interest profilers override it.
        """
        check_fitted(self, "profiles_")
        return self.profiles_[np.asarray(user_rows, dtype=np.int64)] @ np.asarray(item_matrix, dtype=np.float32).T

    def fit_transform(self, dataset: Dataset, embeddings: ItemEmbeddings) -> np.ndarray:
        return self.fit(dataset, embeddings).transform()

    def profile_from_items(self, item_rows, embeddings, ratings=None, timestamps=None) -> np.ndarray:
        """Profile of a new user from item rows, with the same formula as :meth:`fit`.

        Parameters
        ----------
        item_rows : array-like of int
            Rows of the films in ``embeddings``.
        embeddings : ndarray (n_items, d) or ItemEmbeddings
        ratings : array-like, optional
            Used by ``rating_weighted`` (centred on this user's mean). Without ratings the
            films are weighted equally.
        timestamps : array-like, optional
            Seconds since the epoch, used by ``time_decay``. Without them the films are
            weighted equally.

        Returns
        -------
        ndarray (d,) float32, unit norm.
        """
        matrix = embeddings.matrix if isinstance(embeddings, ItemEmbeddings) else np.asarray(embeddings, np.float32)
        item_rows = np.asarray(item_rows, dtype=np.int64).ravel()
        if item_rows.size == 0:
            raise ValueError("item_rows is empty: a new user's profile needs at least one film.")
        if item_rows.min() < 0 or item_rows.max() >= len(matrix):
            raise ValueError(f"item_rows must be in [0, {len(matrix)}), got values from {item_rows.min()} to "
                             f"{item_rows.max()}; convert ids with dataset.item_vocab.to_rows(ids).")
        _check_strategy(self.strategy, self.half_life_days)
        w = np.ones(len(item_rows))
        if self.strategy == "rating_weighted" and ratings is not None:
            w = _centred_weights(self._aligned(ratings, item_rows, "ratings"))
        elif self.strategy == "time_decay" and timestamps is not None:
            w = _decay_weights(self._aligned(timestamps, item_rows, "timestamps"), self.half_life_days)
        vec = (w[:, None] * matrix[item_rows]).sum(0) / np.abs(w).sum()
        if np.linalg.norm(vec) < 1e-8:
            if hasattr(self, "population_profile_"):
                logger.info("profile_from_items: weights cancel out, returning the population profile")
                return self.population_profile_.copy()
            raise ValueError("profile_from_items: the weighted films cancel out (zero vector); fit the profiler "
                             "first so the population profile can be used as the fallback.")
        return l2_normalize(vec[None, :])[0]

    @staticmethod
    def _aligned(values, item_rows: np.ndarray, name: str) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.shape != item_rows.shape:
            raise ValueError(f"{name} has {values.size} values but item_rows has {item_rows.size}; "
                             "give one per film.")
        return values
