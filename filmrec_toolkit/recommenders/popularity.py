"""Most-popular baseline: every user gets the most-rated films they have not seen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_number
from ..datasets.dataset import Dataset
from .base import Recommender
from .explain import Explanation, _title

__all__ = ["Popularity"]


class Popularity(Recommender):
    """Score = number of training ratings of the item (ties -> lower item row).

    Parameters
    ----------
    min_rating : float, optional
        Count only ratings >= this value (e.g. 4 for "liked"); default counts all.
    """

    name = "Popularity"

    def __init__(self, min_rating: float | None = None) -> None:
        self.min_rating = min_rating

    def _validate_params(self) -> None:
        check_number(self.min_rating, "min_rating", allow_none=True, example="Popularity(min_rating=4)")

    def _fit(self, train: Dataset) -> None:
        m = train.matrix
        if self.min_rating is not None:
            m = m.multiply(m >= self.min_rating).tocsr()
        self.popularity_ = np.diff(m.tocsc().indptr).astype(np.float32)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(user_rows), len(self.popularity_))).copy()

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        if text_vector is not None:
            raise ValueError("text: Popularity ignores text; use a ContentRecommender for free-text wishes.")
        return self.popularity_.copy()

    def explain(self, user, item, n: int = 5) -> Explanation:
        self.user_vocab_.to_rows(user, param="user")
        row = self.item_vocab_.to_rows(item, param="item")
        count = int(self.popularity_[row])
        rank = int((self.popularity_ > self.popularity_[row]).sum()) + 1
        title = _title(self.train_.items, row, item)
        frame = pd.DataFrame({"item_id": [item], "title": [title], "n_ratings": [count], "popularity_rank": [rank]})
        sentence = f"'{title}' is recommended to user {user} because it is popular: {count} ratings, rank {rank}."
        return Explanation(frame, sentence, float(count))
