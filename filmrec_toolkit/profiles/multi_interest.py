"""Multi-interest profiles: each user's liked films clustered into 1..K interest centroids."""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import USER_COL
from ..datasets.dataset import Dataset
from ..exceptions import check_fitted, check_positive_int
from ..features.embeddings import ItemEmbeddings, l2_normalize
from .user import UserProfiler

logger = logging.getLogger(__name__)

AGGREGATES = ("max", "weighted")


def _cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of ``x`` in each of ``k`` clusters, as ``(k, d)``."""
    onehot = np.zeros((k, len(labels)), dtype=x.dtype)
    onehot[labels, np.arange(len(labels))] = 1.0
    return onehot @ x


def _spherical_kmeans(x: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = 20) -> np.ndarray:
    """Labels of unit rows ``x`` after k-means on cosine similarity (k-means++ seeding)."""
    n = len(x)
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    centres[0] = x[rng.integers(n)]
    closest = 1.0 - x @ centres[0]
    for j in range(1, k):
        d = np.maximum(closest, 0.0) ** 2
        total = d.sum()
        idx = rng.choice(n, p=d / total) if total > 1e-12 else rng.integers(n)
        centres[j] = x[idx]
        closest = np.minimum(closest, 1.0 - x @ centres[j])
    labels = np.full(n, -1)
    for _ in range(max_iter):
        new = np.argmax(x @ centres.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        sums = _cluster_sums(x, labels, k)
        empty = ~sums.any(axis=1)
        if empty.any():  # re-seed an empty cluster with the point farthest from its centre
            far = np.argsort(np.einsum("ij,ij->i", x, centres[labels]))[: int(empty.sum())]
            sums[empty] = x[far]
        centres = l2_normalize(sums)
    return labels


def _silhouette_from_distances(dist: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean silhouette (Rousseeuw 1987) from a precomputed distance matrix; singletons score 0."""
    onehot = np.zeros((len(labels), k), dtype=np.float64)
    onehot[np.arange(len(labels)), labels] = 1.0
    sizes = onehot.sum(0)
    sums = dist @ onehot                                   # (n, k) summed distance to each cluster
    own = sizes[labels]
    a = sums[np.arange(len(labels)), labels] / np.maximum(own - 1, 1)
    other = np.where(onehot > 0, np.inf, sums / np.maximum(sizes, 1))
    other[:, sizes == 0] = np.inf
    b = other.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    s[own <= 1] = 0.0
    return float(s.mean())


class MultiInterestProfiler(UserProfiler):
    """Several interest vectors per user, scored by their best (or weighted) match.

    For each user the films they liked (rating >= their own mean rating when
    ``history="liked"``, every rated film when ``history="all"``) are clustered with
    spherical k-means (cosine) for ``k = 2 .. max_interests``.

    **Choice of K (per user).** A user keeps ``k`` interests for the ``k`` with the highest
    mean silhouette (cosine distance, on at most ``sample_size`` of their films), provided that silhouette is at least ``min_silhouette`` and every cluster has at
    least ``min_cluster_size`` films; otherwise the user has one interest (the silhouette
    is undefined for ``k = 1``, so one interest is the default that has to be beaten).

    Each interest is the normalised mean of its films; its weight is its share of the
    user's clustered films. Users with fewer than ``min_ratings`` ratings get one interest,
    the population profile, and ``fallback=True``.

    Scores (the hook :class:`~filmrec_toolkit.recommenders.ContentRecommender` calls):

    - ``aggregate="max"``: ``s_ui = max_k cos(c_uk, e_i)``
    - ``aggregate="weighted"``: ``s_ui = sum_k w_uk cos(c_uk, e_i)``

    Parameters
    ----------
    max_interests : int
        Largest number of interests per user (``K``).
    aggregate : {"max", "weighted"}
    history : {"liked", "all"}
    min_cluster_size : int
        Smallest number of films an interest may hold.
    min_silhouette : float
        Silhouette a ``k >= 2`` split must reach to replace the single interest.
    sample_size : int
        k-means and the silhouette use at most this many of a user's films (a random
        sample); the other films then join their closest interest.
    max_iter : int
        k-means iterations.
    min_ratings : int
        Minimum number of ratings for an own profile.
    random_state : int, Generator or None
    show_progress : bool

    Attributes
    ----------
    centroids_ : ndarray (n_centroids, d) float32
        Every user's interests, user after user.
    centroid_weights_ : ndarray (n_centroids,)
    indptr_ : ndarray (n_users + 1,)
        User row ``u`` owns ``centroids_[indptr_[u]:indptr_[u+1]]``.
    profiles_ : ndarray (n_users, d)
        One summary vector per user (weighted mean of its interests), for :meth:`transform`.
    info_ : DataFrame
        ``user_id, n_ratings, n_history, n_interests, silhouette, fallback, fallback_reason``.
    """

    #: A new user's single profile (:meth:`profile_from_items`, used for cold start) is
    #: built like the default UserProfiler's.
    strategy = "rating_weighted"
    half_life_days = 180.0

    def __init__(self, max_interests: int = 4, aggregate: Literal["max", "weighted"] = "max",
                 history: Literal["liked", "all"] = "liked", min_cluster_size: int = 5,
                 min_silhouette: float = 0.05, sample_size: int = 300, max_iter: int = 20,
                 min_ratings: int = 1, random_state=None, show_progress: bool = False) -> None:
        self.max_interests = max_interests
        self.aggregate = aggregate
        self.history = history
        self.min_cluster_size = min_cluster_size
        self.min_silhouette = min_silhouette
        self.sample_size = sample_size
        self.max_iter = max_iter
        self.min_ratings = min_ratings
        self.random_state = random_state
        self.show_progress = show_progress

    def _check_params(self) -> None:
        check_positive_int(self.max_interests, "max_interests")
        check_positive_int(self.min_cluster_size, "min_cluster_size")
        check_positive_int(self.sample_size, "sample_size")
        check_positive_int(self.max_iter, "max_iter")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate={self.aggregate!r} is not one of {AGGREGATES}.")
        if self.history not in ("liked", "all"):
            raise ValueError(f"history={self.history!r} is not one of ('liked', 'all').")

    def _user_interests(self, x: np.ndarray, rng: np.random.Generator):
        """(labels, k, silhouette) for one user's unit history rows ``x``."""
        n = len(x)
        k_max = min(self.max_interests, n // self.min_cluster_size)
        if k_max < 2:
            return np.zeros(n, dtype=np.int64), 1, np.nan
        xs = x[np.sort(rng.choice(n, self.sample_size, replace=False))] if n > self.sample_size else x
        dist = np.maximum(1.0 - (xs @ xs.T), 0.0)
        np.fill_diagonal(dist, 0.0)
        min_size = self.min_cluster_size * len(xs) / n
        best_k, best_s, best_labels = 1, -np.inf, None
        for k in range(2, k_max + 1):
            labels = _spherical_kmeans(xs, k, rng, self.max_iter)
            if np.bincount(labels, minlength=k).min() < min_size:
                continue
            s = _silhouette_from_distances(dist, labels, k)
            if s > best_s:
                best_k, best_s, best_labels = k, s, labels
        silhouette = best_s if np.isfinite(best_s) else np.nan
        if best_k == 1 or best_s < self.min_silhouette:
            return np.zeros(n, dtype=np.int64), 1, silhouette
        if len(xs) < n:  # films outside the sample join their closest interest
            centres = l2_normalize(_cluster_sums(xs, best_labels, best_k))
            best_labels = np.argmax(x @ centres.T, axis=1)
            if np.bincount(best_labels, minlength=best_k).min() == 0:
                return np.zeros(n, dtype=np.int64), 1, silhouette
        return best_labels, best_k, silhouette

    def fit(self, dataset: Dataset, embeddings: ItemEmbeddings) -> "MultiInterestProfiler":
        """Cluster every user's history into interests.

        Returns
        -------
        self
        """
        emb = self._validate(dataset, embeddings)
        self._check_params()
        rng = np.random.default_rng(self.random_state)
        m = dataset.matrix
        n_users = dataset.n_users
        n_rated = np.diff(m.indptr)
        centroids, weights, counts = [], [], np.zeros(n_users, dtype=np.int64)
        n_hist = np.zeros(n_users, dtype=np.int64)
        n_int = np.ones(n_users, dtype=np.int64)
        sil = np.full(n_users, np.nan)
        fallback = np.zeros(n_users, dtype=bool)
        reason = np.full(n_users, "", dtype=object)
        rows = range(n_users)
        if self.show_progress:
            from tqdm.auto import tqdm

            rows = tqdm(rows, desc="interests", unit="user")
        own = []
        for u in rows:
            s, e = m.indptr[u], m.indptr[u + 1]
            if n_rated[u] < self.min_ratings:
                fallback[u] = True
                reason[u] = "no ratings" if n_rated[u] == 0 else f"fewer than min_ratings={self.min_ratings}"
                own.append(None)
                continue
            items, r = m.indices[s:e], m.data[s:e]
            if self.history == "liked":
                items = items[r >= r.mean() - 1e-6]
            x = emb[items]
            n_hist[u] = len(items)
            labels, k, sil[u] = self._user_interests(x, rng)
            sums = _cluster_sums(x, labels, k)
            sizes = np.bincount(labels, minlength=k).astype(np.float64)
            c = l2_normalize(sums)
            if np.linalg.norm(sums, axis=1).min() < 1e-8:
                fallback[u], reason[u] = True, "weights cancel out"
                own.append(None)
                continue
            n_int[u] = k
            own.append((c, sizes / sizes.sum()))
        if fallback.all():
            population = l2_normalize(emb.mean(axis=0, keepdims=True))[0]
        else:
            summary = [l2_normalize((w[:, None] * c).sum(0, keepdims=True))[0] for (c, w) in (o for o in own if o)]
            population = l2_normalize(np.mean(summary, axis=0, keepdims=True))[0]
        for u, o in enumerate(own):
            c, w = (population[None, :], np.ones(1)) if o is None else o
            centroids.append(c)
            weights.append(w)
            counts[u] = len(w)
        self.centroids_ = np.concatenate(centroids).astype(np.float32)
        self.centroid_weights_ = np.concatenate(weights).astype(np.float32)
        self.indptr_ = np.concatenate([[0], np.cumsum(counts)])
        owner = np.repeat(np.arange(n_users), counts)
        agg = sp.csr_matrix((self.centroid_weights_, (owner, np.arange(len(owner)))),
                            shape=(n_users, len(owner)))
        self.profiles_ = l2_normalize(np.asarray(agg @ self.centroids_))
        self.population_profile_ = population
        self.info_ = pd.DataFrame({USER_COL: dataset.user_ids, "n_ratings": n_rated, "n_history": n_hist,
                                   "n_interests": counts, "silhouette": sil, "fallback": fallback,
                                   "fallback_reason": reason})
        self.user_vocab_ = dataset.user_vocab
        logger.info("multi-interest profiles: mean %.2f interests per user, %d fallback user(s)",
                    counts.mean(), int(fallback.sum()))
        return self

    def user_interests(self, user_row: int) -> tuple[np.ndarray, np.ndarray]:
        """``(centroids (k, d), weights (k,))`` of one user row."""
        check_fitted(self, "centroids_")
        s, e = self.indptr_[user_row], self.indptr_[user_row + 1]
        return self.centroids_[s:e], self.centroid_weights_[s:e]

    def score(self, user_rows, item_matrix: np.ndarray, block: int = 1024) -> np.ndarray:
        """Scores ``(len(user_rows), n_items)``: max or weighted sum of interest cosines."""
        check_fitted(self, "centroids_")
        self._check_params()
        user_rows = np.asarray(user_rows, dtype=np.int64).ravel()
        items = np.asarray(item_matrix, dtype=np.float32)
        out = np.empty((len(user_rows), len(items)), dtype=np.float32)
        for b in range(0, len(user_rows), block):
            rows = user_rows[b:b + block]
            starts, ends = self.indptr_[rows], self.indptr_[rows + 1]
            lens = ends - starts
            idx = np.repeat(starts - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(lens.sum())
            sims = self.centroids_[idx] @ items.T
            offsets = np.r_[0, np.cumsum(lens)[:-1]]
            if self.aggregate == "max":
                out[b:b + len(rows)] = np.maximum.reduceat(sims, offsets, axis=0)
            else:
                owner = np.repeat(np.arange(len(rows)), lens)
                w = sp.csr_matrix((self.centroid_weights_[idx], (owner, np.arange(len(idx)))),
                                  shape=(len(rows), len(idx)))
                out[b:b + len(rows)] = w @ sims
        return out
