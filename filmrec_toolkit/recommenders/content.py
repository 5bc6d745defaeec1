"""Content-based recommender: user profile · item embedding (LM, TF-IDF or genre vectors)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL, USER_COL
from .._topk import topk
from .._validation import check_k
from ..datasets.dataset import Dataset
from ..features.embeddings import ItemEmbeddings, l2_normalize
from ..profiles.user import UserProfiler, profile_weights
from .base import Recommender, as_user_rows
from .explain import Explanation, history_explanation, user_history_arrays

__all__ = ["ContentRecommender"]


class ContentRecommender(Recommender):
    """Score(u, i) = profiler.score(u, E) — cosine of the user profile and the item vector.

    Replaces the original per-film ``torch.cosine_similarity`` loop by one matrix product
    per chunk of users. Items without ratings but with a vector (a Dataset built with
    ``keep_unrated_items=True``) are scored like any other: content needs no ratings.

    Parameters
    ----------
    embeddings : ItemEmbeddings
        Item vectors covering every item of the training Dataset (any order).
    profiler : UserProfiler-like, optional
        Anything with ``fit(dataset, embeddings)`` and ``score(user_rows, item_matrix)``
        (e.g. a multi-interest profiler). Default ``UserProfiler("rating_weighted")``:
        the mean of rated films' vectors weighted by rating minus the user's mean rating.
        A copy is fitted; the fitted one is ``profiler_``.
    """

    name = "Content"

    def __init__(self, embeddings: ItemEmbeddings, profiler=None) -> None:
        self.embeddings = embeddings
        self.profiler = profiler

    def _fit(self, train: Dataset) -> None:
        if not isinstance(self.embeddings, ItemEmbeddings):
            raise TypeError(f"embeddings must be ItemEmbeddings (from embed_items, tfidf or genre features), "
                            f"got {type(self.embeddings).__name__}.")
        emb = self.embeddings.align(train)
        profiler = copy.deepcopy(self.profiler) if self.profiler is not None else UserProfiler("rating_weighted")
        profiler.fit(train, emb)
        self.embeddings_ = emb
        self.profiler_ = profiler

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return self.profiler_.score(user_rows, self.embeddings_.matrix)

    def _dot_factors(self):
        # plain profiles . vectors: recommend_rows re-ranks the list heads reproducibly (see _topk)
        if type(self.profiler_).score is UserProfiler.score and hasattr(self.profiler_, "profiles_"):
            return np.asarray(self.profiler_.profiles_, np.float32), np.asarray(self.embeddings_.matrix, np.float32)
        return None

    # -- cold start ---------------------------------------------------------
    def _profile_vector(self, item_rows, ratings) -> np.ndarray:
        maker = getattr(self.profiler_, "profile_from_items", None)
        if maker is None:
            maker = UserProfiler().profile_from_items
        return maker(item_rows, self.embeddings_.matrix, ratings)

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        parts = []
        if len(item_rows):
            parts.append(self._profile_vector(item_rows, ratings))
        if text_vector is not None:
            if text_vector.shape[-1] != self.embeddings_.dim:
                raise ValueError(f"encoder returned vectors of dimension {text_vector.shape[-1]} but the item "
                                 f"embeddings ({self.embeddings_.model_id}) have {self.embeddings_.dim}; encode the "
                                 "text with the encoder that produced the item embeddings.")
            parts.append(l2_normalize(text_vector[None, :])[0])
        profile = l2_normalize(np.sum(parts, axis=0)[None, :])[0]
        return self.embeddings_.matrix @ profile

    def score_new_items(self, features, users=None) -> np.ndarray:
        """Scores of films the model has never seen (only their vectors) for known users.

        Parameters
        ----------
        features : ndarray (n_new, d) or (d,), or ItemEmbeddings
            Vectors of the new films from the encoder that produced the model's item
            embeddings, e.g. ``encoder.transform(["A retired spy ..."])``. Rows are
            L2-normalised here, as the catalogue's are.
        users : array-like of user ids, optional
            Default: every user of the training data, in user-vocabulary order.

        Returns
        -------
        ndarray (n_users, n_new) float32
            profile · vector, on the same scale as :meth:`score` of catalogue films.
        """
        from ..exceptions import check_fitted

        check_fitted(self, "train_")
        if isinstance(features, ItemEmbeddings):
            features = features.matrix
        x = np.asarray(features, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"features must be a 2-D array (n_new_items, d) with at least one row, got shape "
                             f"{x.shape}; e.g. features=encoder.transform(['A retired spy ...']).")
        if x.shape[1] != self.embeddings_.dim:
            raise ValueError(f"features has dimension {x.shape[1]}, the model's embeddings "
                             f"({self.embeddings_.model_id}) have {self.embeddings_.dim}; encode the new films "
                             "with the encoder that produced the item embeddings.")
        if not np.isfinite(x).all():
            raise ValueError("features contains NaN or inf values; check the encoder output.")
        rows = as_user_rows(self, users)
        return np.asarray(self.profiler_.score(rows, l2_normalize(x)), dtype=np.float32)

    def recommend_new_items(self, new_items: ItemEmbeddings, users=None, k: int = 10) -> pd.DataFrame:
        """Rank items the model has never seen (no ratings, only a vector) for known users.

        Scores are :meth:`score_new_items` (profile · vector, as for every other item), so
        they can be merged with :meth:`recommend` output.
        """

        k = check_k(k)
        if not isinstance(new_items, ItemEmbeddings):
            raise TypeError(f"new_items must be ItemEmbeddings, got {type(new_items).__name__}.")
        rows = as_user_rows(self, users)
        scores = self.score_new_items(new_items, users)
        cols, vals = topk(scores, k)
        n, kk = cols.shape
        return pd.DataFrame({USER_COL: np.repeat(self.user_vocab_.to_ids(rows), kk),
                             ITEM_COL: new_items.item_ids[cols.ravel()], SCORE_COL: vals.ravel(),
                             RANK_COL: np.tile(np.arange(1, kk + 1), n)})

    # -- explanations ------------------------------------------------------
    def explain(self, user, item, n: int = 5) -> Explanation:
        """History films ranked by weight × cosine(film, item), scaled to sum to the score.

        Exact for :class:`~filmrec_toolkit.profiles.UserProfiler` (score = Σ_i w_ui cos(e_i, e_j)
        / (Σ|w| ‖raw profile‖)); for other profilers the contributions are the same
        terms rescaled to sum to the model's score.
        """
        row, hist, ratings = user_history_arrays(self, user)
        col = self.item_vocab_.to_rows(item, param="item")
        strategy = getattr(self.profiler_, "strategy", "rating_weighted")
        if strategy not in ("mean", "rating_weighted", "time_decay"):
            strategy = "rating_weighted"
        w_all = profile_weights(self.train_.subset(self.train_.user_rows == row),
                                strategy, getattr(self.profiler_, "half_life_days", 180.0))
        w = np.asarray(w_all[row].toarray()).ravel()[hist]
        emb = self.embeddings_.matrix.astype(np.float64)
        sim = emb[hist] @ emb[col]
        terms = w * sim
        score = float(self.score([row])[0, col])
        total = terms.sum()
        contrib = terms * (score / total) if abs(total) > 1e-12 else terms
        return history_explanation(self, user, item, hist, ratings, w, sim, contrib, score, n,
                                   "similar content")
