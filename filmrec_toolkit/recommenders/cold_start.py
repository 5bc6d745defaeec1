"""Cold start: recommendations for a new user from liked films and/or a free-text wish."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL
from .._topk import topk
from ..exceptions import NotFittedError, UnknownIdError, check_fitted, check_positive_int
from ..features.embeddings import l2_normalize

__all__ = ["recommend_for_profile", "resolve_items"]


def resolve_items(dataset, items) -> np.ndarray:
    """Item rows for a list of item ids or titles ("Toy Story (1995)", case-insensitive).

    An id in the vocabulary wins over a title; an unknown entry raises
    :class:`~filmrec_toolkit.UnknownIdError` with close title matches.
    """
    vocab = dataset.item_vocab
    titles = dataset.items["title"] if "title" in dataset.items.columns else None
    lookup = {}
    if titles is not None:
        for row, t in enumerate(titles.to_numpy()):
            if isinstance(t, str):
                lookup.setdefault(t.lower(), row)
    rows = []
    for entry in items:
        if entry in vocab:
            rows.append(vocab.to_rows(entry))
        elif isinstance(entry, str) and entry.lower() in lookup:
            rows.append(lookup[entry.lower()])
        else:
            import difflib

            close = difflib.get_close_matches(str(entry).lower(), list(lookup), n=3) if lookup else []
            hint = f" Close titles: {close}." if close else ""
            raise UnknownIdError(f"liked_items: {entry!r} is neither an item id nor a title of this dataset.{hint}")
    return np.asarray(rows, dtype=np.int64)


def recommend_for_profile(model, liked_items=None, text: str | None = None, k: int = 10, *, ratings=None,
                          encoder=None, exclude_liked: bool = True) -> pd.DataFrame:
    """Top-k for a new user who is not in the training data.

    Parameters
    ----------
    model : fitted Recommender
        ContentRecommender (films and/or text), EASE, ItemKNN or Popularity (films only).
    liked_items : list of item ids or titles, optional
    text : str, optional
        A free-text wish ("a heartwarming animated film about friendship"), embedded
        with ``encoder`` — it must be the encoder that produced the item embeddings.
    k : int
    ratings : list of float, optional
        Ratings of ``liked_items`` (weights for rating-aware profiles).
    encoder : object with ``transform(list[str]) -> ndarray``
        E.g. :class:`filmrec_toolkit.TextEncoder`.
    exclude_liked : bool
        Drop the liked films from the list.

    Returns
    -------
    DataFrame ``item_id, title, score, rank``.
    """
    check_fitted(model, "train_")
    k = check_positive_int(k, "k")
    liked = [] if liked_items is None else (list(liked_items) if not isinstance(liked_items, str) else [liked_items])
    if not liked and not text:
        raise ValueError("recommend_for_profile needs liked_items and/or text; both are empty.")
    rows = resolve_items(model.train_, liked)
    if ratings is not None and len(ratings) != len(rows):
        raise ValueError(f"ratings has {len(ratings)} value(s) for {len(rows)} liked item(s); give one per item.")
    text_vector = None
    if text:
        if encoder is None or not hasattr(encoder, "transform"):
            raise ValueError("text: pass encoder= (an object with .transform(list_of_texts), e.g. the TextEncoder "
                             "that embedded the items) to embed the wish.")
        try:
            raw = encoder.transform([text])
        except NotFittedError:
            raw = encoder.fit().transform([text])  # an unfitted TextEncoder: load its model once
        text_vector = l2_normalize(np.asarray(raw, dtype=np.float32).reshape(1, -1))[0]
    scores = np.asarray(model._score_profile(rows, ratings, text_vector), dtype=np.float32).copy()
    if exclude_liked and len(rows):
        scores[rows] = -np.inf
    cols, vals = topk(scores[None, :], k)
    ok = np.isfinite(vals[0])
    cols = cols[0][ok]
    items = model.train_.items
    return pd.DataFrame({
        ITEM_COL: model.item_vocab_.to_ids(cols),
        "title": items["title"].to_numpy()[cols] if "title" in items.columns else model.item_vocab_.to_ids(cols),
        SCORE_COL: vals[0][ok],
        RANK_COL: np.arange(1, ok.sum() + 1),
    })
