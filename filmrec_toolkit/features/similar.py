"""``similar_items``: nearest neighbours of one film by cosine similarity, by id or title."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL
from .._topk import topk
from .._validation import check_k
from ..datasets.dataset import Dataset
from ..datasets.titles import resolve_title
from .embeddings import ItemEmbeddings


def _titles(embeddings: ItemEmbeddings, dataset: Dataset | None) -> np.ndarray:
    if dataset is not None and "title" in dataset.items.columns:
        lookup = pd.Series(dataset.items["title"].to_numpy(), index=dataset.item_ids)
        titles = lookup.reindex(embeddings.item_ids)
        return titles.where(titles.notna(), pd.Series(embeddings.item_ids.astype(str), index=titles.index)) \
            .astype(str).to_numpy()
    return embeddings.item_ids.astype(str)


def resolve_item(embeddings: ItemEmbeddings, item, dataset: Dataset | None = None) -> int:
    """Row of ``item`` in ``embeddings``: an item id or a title.

    Titles follow the package's one matching rule (:func:`filmrec_toolkit.resolve_title`):
    item id, then exact title ignoring case, then :func:`normalize_title` key with the year
    of a ``"Title (Year)"`` query agreeing within one year. Titles come from ``dataset``
    (its ``title`` column), else the item ids are read as titles.

    Raises
    ------
    UnknownIdError
        Unknown or ambiguous; the message lists the candidates or closest titles with their
        ids and years.
    """
    years = None
    if dataset is not None and "year" in dataset.items.columns:
        years = pd.Series(dataset.items["year"].to_numpy(), index=dataset.item_ids).reindex(embeddings.item_ids)
    return int(resolve_title(item, embeddings.item_ids, _titles(embeddings, dataset), years=years,
                             source="these embeddings")[0])


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
    k = check_k(k)
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
