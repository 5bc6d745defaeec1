"""Explanations: which history items made a score, plus the genres they share with the item."""

from __future__ import annotations

import html
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RATING_COL
from ..datasets.cells import parse_genres

__all__ = ["Explanation", "explain"]


class Explanation(NamedTuple):
    """Result of ``model.explain(user, item)``; unpacks as ``frame, sentence``.

    Attributes
    ----------
    frame : DataFrame
        One row per contributing history item, largest contribution first:
        ``item_id, title, rating, weight, similarity, contribution, shared_genres``.
    sentence : str
        One line a person can read.
    score : float
        The model's score of the item for the user.
    """

    frame: pd.DataFrame
    sentence: str
    score: float = float("nan")

    def _repr_html_(self) -> str:
        # titles come from data files: the sentence is escaped, and so is every cell of the frame
        return f"<p>{html.escape(str(self.sentence))}</p>" + self.frame.to_html(index=False, escape=True)


def explain(model, user, item, n: int = 5) -> Explanation:
    """``model.explain(user, item, n)``: a function form for pipelines."""
    return model.explain(user, item, n=n)


def _genres(items: pd.DataFrame, rows) -> list[list[str]]:
    if "genres" not in items.columns:
        return [[] for _ in np.atleast_1d(rows)]
    return [parse_genres(g) for g in items["genres"].to_numpy()[np.atleast_1d(rows)]]


def _title(items: pd.DataFrame, row: int, item_id) -> str:
    if "title" in items.columns and isinstance(items["title"].iat[row], str):
        return items["title"].iat[row]
    return str(item_id)


def history_explanation(model, user_id, item_id, hist_rows: np.ndarray, ratings: np.ndarray,
                        weights: np.ndarray, similarity: np.ndarray, contribution: np.ndarray,
                        score: float, n: int, how: str) -> Explanation:
    """Build an :class:`Explanation` from per-history-item contributions (shared by models)."""
    train = model.train_
    items = train.items
    item_row = model.item_vocab_.to_rows(item_id, param="item")
    target_genres = set(_genres(items, [item_row])[0])
    order = np.lexsort((hist_rows, -contribution))[:n]
    rows = hist_rows[order]
    genres = _genres(items, rows)
    shared = [sorted(target_genres & set(g)) for g in genres]
    frame = pd.DataFrame({
        ITEM_COL: model.item_vocab_.to_ids(rows),
        "title": [_title(items, r, i) for r, i in zip(rows, model.item_vocab_.to_ids(rows))],
        RATING_COL: ratings[order].astype(np.float32),
        "weight": weights[order].astype(np.float32),
        "similarity": similarity[order].astype(np.float32),
        "contribution": contribution[order].astype(np.float32),
        "shared_genres": shared,
    })
    positive = frame.loc[frame["contribution"] > 0]
    name = _title(items, item_row, item_id)
    if len(positive):
        because = ", ".join(f"'{t}'" for t in positive["title"].head(3))
        sentence = f"'{name}' is recommended to user {user_id} because of {because} ({how})"
    else:
        sentence = f"'{name}' gets no positive support from user {user_id}'s history ({how})"
    common = sorted({g for gs in positive["shared_genres"].head(3) for g in gs})
    sentence += f"; shared genres: {', '.join(common)}." if common else "."
    return Explanation(frame, sentence, float(score))


def user_history_arrays(model, user_id) -> tuple[int, np.ndarray, np.ndarray]:
    """User row, rated item rows and ratings from the model's training data."""
    row = model.user_vocab_.to_rows(user_id, param="user")
    m = model.train_.matrix
    s, e = m.indptr[row], m.indptr[row + 1]
    return row, m.indices[s:e].astype(np.int64), m.data[s:e].astype(np.float64)

