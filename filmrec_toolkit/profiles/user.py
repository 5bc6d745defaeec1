"""User profiles: one vector per user from the embeddings of the films they rated."""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_fitted
from ..features.embeddings import ItemEmbeddings, l2_normalize

logger = logging.getLogger(__name__)

STRATEGIES = ("mean", "rating_weighted", "time_decay")


def profile_weights(dataset: Dataset, strategy: str = "rating_weighted",
                    half_life_days: float = 180.0) -> sp.csr_matrix:
    """Users x items weight matrix for a profile strategy.

    - ``mean``: w = 1 for every rated film.
    - ``rating_weighted``: w = r - mean_u (films rated below the user's mean push the
      profile away). A user whose ratings are all equal gets w = 1 (plain mean).
    - ``time_decay``: w = 0.5 ** ((t_last_u - t) / half_life), t in days, so a film
      rated ``half_life_days`` before the user's latest rating counts half.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} is not one of {STRATEGIES}.")
    m = dataset.matrix.copy().astype(np.float64)
    counts = np.diff(m.indptr)
    if strategy == "mean":
        m.data[:] = 1.0
    elif strategy == "rating_weighted":
        sums = np.asarray(m.sum(axis=1)).ravel()
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        m.data -= np.repeat(means, counts)
        flat = np.add.reduceat(np.abs(m.data), m.indptr[:-1][counts > 0]) if m.nnz else np.array([])
        const_users = np.flatnonzero(counts > 0)[flat < 1e-12]
        for u in const_users:
            m.data[m.indptr[u]:m.indptr[u + 1]] = 1.0
    else:
        if half_life_days is None or half_life_days <= 0:
            raise ValueError(f"half_life_days == {half_life_days}, must be > 0 for strategy='time_decay'.")
        ts = dataset.timestamp_matrix()
        ts.data = ts.data / 86400.0
        last = np.repeat(np.asarray(ts.max(axis=1).toarray()).ravel(), counts)
        m.data = np.power(0.5, (last - ts.data) / float(half_life_days))
    m.eliminate_zeros()
    return m.tocsr()


class UserProfiler:
    """Build one L2-normalised profile vector per user.

    profile_u = sum_i w_ui e_i / sum_i |w_ui|, then L2-normalised; weights from
    :func:`profile_weights`. Users with fewer than ``min_ratings`` usable ratings get the
    population mean profile and ``fallback=True`` in :attr:`info_`.

    Parameters
    ----------
    strategy : {"mean", "rating_weighted", "time_decay"}
    half_life_days : float
        Half-life for ``time_decay``.
    min_ratings : int
        Minimum number of rated films for an own profile.
    """

    def __init__(self, strategy: Literal["mean", "rating_weighted", "time_decay"] = "rating_weighted",
                 half_life_days: float = 180.0, min_ratings: int = 1) -> None:
        self.strategy = strategy
        self.half_life_days = half_life_days
        self.min_ratings = min_ratings

    def fit(self, dataset: Dataset, embeddings: ItemEmbeddings) -> "UserProfiler":
        dataset = ensure_dataset(dataset)
        if not isinstance(embeddings, ItemEmbeddings):
            raise TypeError(f"embeddings must be ItemEmbeddings, got {type(embeddings).__name__}.")
        emb = embeddings.align(dataset).matrix
        w = profile_weights(dataset, self.strategy, self.half_life_days)
        raw = np.asarray(w @ emb, dtype=np.float32)
        norm = np.asarray(abs(w).sum(axis=1)).ravel()
        raw /= np.maximum(norm, 1e-12)[:, None].astype(np.float32)
        n_rated = dataset.user_counts()
        profiles = l2_normalize(raw)
        fallback = (n_rated < max(1, self.min_ratings)) | (np.linalg.norm(raw, axis=1) < 1e-8)
        if fallback.all():
            population = l2_normalize(emb.mean(axis=0, keepdims=True))[0]
        else:
            population = l2_normalize(profiles[~fallback].mean(axis=0, keepdims=True))[0]
        profiles[fallback] = population
        self.profiles_ = profiles
        self.population_profile_ = population
        self.info_ = pd.DataFrame({USER_COL: dataset.user_ids, "n_ratings": n_rated, "fallback": fallback})
        self.user_vocab_ = dataset.user_vocab
        if fallback.any():
            logger.info("%d user(s) fell back to the population mean profile", int(fallback.sum()))
        return self

    def transform(self, dataset: Dataset | None = None) -> np.ndarray:
        """Profiles ``(n_users, d)`` float32 in user-vocabulary order."""
        check_fitted(self, "profiles_")
        if dataset is not None and dataset.user_vocab != self.user_vocab_:
            raise ValueError("transform: dataset has another user vocabulary than the one fitted; refit.")
        return self.profiles_

    def score(self, user_rows, item_matrix: np.ndarray) -> np.ndarray:
        """Scores ``(len(user_rows), n_items)`` = profile . item vector (cosine for unit vectors).

        This is the hook :class:`~filmrec_toolkit.recommenders.ContentRecommender` calls;
        multi-interest profilers override it.
        """
        check_fitted(self, "profiles_")
        return self.profiles_[np.asarray(user_rows)] @ np.asarray(item_matrix, dtype=np.float32).T

    def fit_transform(self, dataset: Dataset, embeddings: ItemEmbeddings) -> np.ndarray:
        return self.fit(dataset, embeddings).transform()

    def profile_from_items(self, item_rows, embeddings: np.ndarray, ratings=None) -> np.ndarray:
        """Profile of a new user from item rows (and optional ratings), same formula."""
        item_rows = np.asarray(item_rows, dtype=np.int64)
        if item_rows.size == 0:
            raise ValueError("item_rows is empty: a new user's profile needs at least one film.")
        if ratings is None or self.strategy == "mean":
            w = np.ones(len(item_rows))
        else:
            r = np.asarray(ratings, dtype=float)
            w = r - r.mean()
            if np.abs(w).sum() < 1e-12:
                w = np.ones(len(item_rows))
        vec = (w[:, None] * embeddings[item_rows]).sum(0) / np.abs(w).sum()
        return l2_normalize(vec[None, :])[0]
