"""Item-side exposure fairness: who gets the (position-discounted) attention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets.dataset import Dataset, ensure_dataset
from ..metrics.beyond import item_exposure, popularity_tiers
from ..metrics.calibration import genre_matrix

__all__ = ["exposure_by_group"]


def exposure_by_group(recommendations: pd.DataFrame, train: Dataset, by="popularity", k: int | None = None,
                      discount: str | None = "log2", head_share: float = 0.2, tail_share: float = 0.2
                      ) -> pd.DataFrame:
    """Share of exposure each item group receives, against its catalogue and interaction shares.

    Exposure of an item = ``sum_u 1 / log2(rank_u(i) + 1)`` over the lists containing it
    (``discount="log2"``, Singh & Joachims KDD 2018; ``None`` counts lists). A group's
    ``exposure_share`` is its items' exposure over all exposure; ``catalog_share`` its
    share of catalogue items; ``interaction_share`` its share of training ratings.
    ``exposure_ratio = exposure_share / catalog_share`` (1 = exposed in proportion to its
    size) and ``exposure_vs_interactions = exposure_share / interaction_share``
    (1 = exposed in proportion to its consumption).

    Parameters
    ----------
    by : "popularity", "genre", or array-like / Series of labels per item
        ``"popularity"``: head / mid / tail tiers (:func:`~filmrec_toolkit.metrics.popularity_tiers`);
        ``"genre"``: each item splits its weight equally over its genres (1/|genres|, as
        in Steck 2018), for exposure, catalogue and interactions alike; an array (item-row
        order) or a Series indexed by item id gives one label per item.
    """
    train = ensure_dataset(train, "train")
    exposure = item_exposure(recommendations, train, k, discount)
    counts = train.item_counts().astype(float)
    if isinstance(by, str) and by == "genre":
        weights, labels = genre_matrix(train)
    else:
        if isinstance(by, str) and by == "popularity":
            item_labels = popularity_tiers(train, head_share, tail_share)
            labels = ["head", "mid", "tail"]
        elif isinstance(by, str):
            raise ValueError(f"by={by!r}: use 'popularity', 'genre' or one label per item.")
        else:
            if isinstance(by, pd.Series):
                item_labels = by.reindex(train.item_vocab.index).to_numpy()
            else:
                item_labels = np.asarray(by, dtype=object)
            if len(item_labels) != train.n_items:
                raise ValueError(f"by has {len(item_labels)} labels, expected one per item ({train.n_items}).")
            labels = sorted({x for x in item_labels if not pd.isna(x)}, key=str)
        index = {g: j for j, g in enumerate(labels)}
        weights = np.zeros((train.n_items, len(labels)))
        for i, g in enumerate(item_labels):
            if not pd.isna(g):
                weights[i, index[g]] = 1.0

    def share(values: np.ndarray) -> np.ndarray:
        mass = values @ weights
        total = mass.sum()
        return mass / total if total > 0 else np.full(len(labels), np.nan)

    out = pd.DataFrame({"group": labels,
                        "exposure_share": share(exposure),
                        "catalog_share": share(np.ones(train.n_items)),
                        "interaction_share": share(counts)})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["exposure_ratio"] = out["exposure_share"] / out["catalog_share"]
        out["exposure_vs_interactions"] = out["exposure_share"] / out["interaction_share"]
    return out
