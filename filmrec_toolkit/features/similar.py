"""``similar_items``: nearest neighbours of one film by cosine similarity, by id or title."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL
from .._topk import topk
from ..datasets.dataset import Dataset
from ..exceptions import UnknownIdError, check_positive_int
from .embeddings import ItemEmbeddings
from .overviews import _title_year, normalize_title


def _py(value):
    """Plain Python scalar for messages (``1`` rather than ``np.int64(1)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _titles(embeddings: ItemEmbeddings, dataset: Dataset | None) -> np.ndarray:
    if dataset is not None and "title" in dataset.items.columns:
        lookup = pd.Series(dataset.items["title"].to_numpy(), index=dataset.item_ids)
        titles = lookup.reindex(embeddings.item_ids)
        return titles.where(titles.notna(), pd.Series(embeddings.item_ids.astype(str), index=titles.index)) \
            .astype(str).to_numpy()
    return embeddings.item_ids.astype(str)


def resolve_item(embeddings: ItemEmbeddings, item, dataset: Dataset | None = None) -> int:
    """Row of ``item`` in ``embeddings``: an item id, an exact title, or a unique normalised title.

    Raises
    ------
    UnknownIdError
        Unknown or ambiguous; the message lists the closest titles with their ids.
    """
    ids = embeddings.item_ids
    pos = pd.Index(ids).get_indexer([item]) if not isinstance(item, (list, tuple, np.ndarray)) else np.array([-1])
    if pos[0] >= 0:
        return int(pos[0])
    titles = _titles(embeddings, dataset)
    if not isinstance(item, str):
        raise UnknownIdError(f"item={item!r} is not an item id of these embeddings ({len(ids)} items, ids like "
                             f"{[_py(i) for i in ids[:3]]}); pass an item id or a title.")
    lowered = np.char.lower(titles.astype(str))
    exact = np.flatnonzero(lowered == item.strip().lower())
    if len(exact) == 1:
        return int(exact[0])
    key = normalize_title(item)
    norm = np.array([normalize_title(t) for t in titles])
    matches = exact if len(exact) > 1 else np.flatnonzero(norm == key) if key else np.array([], dtype=int)
    year = _title_year(item)
    if len(exact) <= 1 and not np.isnan(year) and len(matches):  # "Title (1995)": the year must agree (+-1)
        years = np.array([_title_year(t) for t in titles[matches]])
        matches = matches[np.abs(years - year) <= 1]
    if len(matches) == 1:
        return int(matches[0])
    if len(matches) > 1:
        listed = "; ".join(f"{str(titles[m])!r} (item_id={_py(ids[m])!r})" for m in matches[:10])
        raise UnknownIdError(f"item={item!r} is ambiguous: {len(matches)} titles match: {listed}. "
                             "Pass the exact title with its year or the item_id.")
    close = difflib.get_close_matches(item.strip().lower(), lowered.tolist(), n=5, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(key, norm.tolist(), n=5, cutoff=0.5)
        rows = [int(np.flatnonzero(norm == c)[0]) for c in close]
    else:
        rows = [int(np.flatnonzero(lowered == c)[0]) for c in close]
    hint = ("Close matches: " + "; ".join(f"{str(titles[r])!r} (item_id={_py(ids[r])!r})" for r in rows)) if rows \
        else "No close title either; check the spelling or pass dataset= to search its titles."
    raise UnknownIdError(f"item={item!r} is neither an item id nor a title of these embeddings. {hint}")


def similar_items(embeddings: ItemEmbeddings, item, k: int = 10, dataset: Dataset | None = None) -> pd.DataFrame:
    """The ``k`` items whose vectors have the highest cosine similarity with ``item``'s.

    Parameters
    ----------
    embeddings : ItemEmbeddings
        L2-normalised rows, so the dot product is the cosine.
    item : item id or str
        An item id, or a title: exact (case-insensitive), or matching after
        :func:`normalize_title` (``"american president"`` finds "American President, The
        (1995)") when that is unique (a year in the query must agree within one year). Unknown or ambiguous titles raise an error listing the
        closest titles.
    k : int
        Neighbours to return (the item itself excluded); capped by the catalogue size.
    dataset : Dataset, optional
        Supplies titles (and lets titles be searched when item ids are not titles).

    Returns
    -------
    DataFrame
        ``item_id, title, score, rank`` (rank 1 = most similar; ties -> vocabulary order).
    """
    if not isinstance(embeddings, ItemEmbeddings):
        raise TypeError(f"embeddings must be ItemEmbeddings (from embed_items), got {type(embeddings).__name__}.")
    k = check_positive_int(k, "k")
    row = resolve_item(embeddings, item, dataset)
    scores = embeddings.matrix @ embeddings.matrix[row]
    scores = scores.astype(np.float64)
    scores[row] = -np.inf
    cols, vals = topk(scores[None, :], k)
    cols, vals = cols[0], vals[0]
    keep = np.isfinite(vals)
    cols, vals = cols[keep], vals[keep]
    titles = _titles(embeddings, dataset)
    return pd.DataFrame({ITEM_COL: embeddings.item_ids[cols], "title": titles[cols], SCORE_COL: vals.astype(np.float32),
                         RANK_COL: np.arange(1, len(cols) + 1)})
