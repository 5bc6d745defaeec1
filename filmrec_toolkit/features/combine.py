"""Item metadata as features, and concatenation of several item feature blocks.

A text embedding and the catalogue's structured metadata (genres, release year) carry
different signal; models that learn from item features (e.g. ``ContentToCF``) do best
with both. These helpers build the metadata block and join blocks into one
:class:`ItemEmbeddings`.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import pandas as pd

from .._params import ParamsMixin
from ..datasets.dataset import Dataset, ensure_dataset
from .baselines import GenreEncoder
from .embeddings import ItemEmbeddings, l2_normalize

__all__ = ["MetadataEncoder", "concat_embeddings", "item_metadata_features"]

_YEAR_DEGREE = 3


def _year_basis(years: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Cubic B-spline basis of ``years`` on ``knots``, constant outside the fitted range
    (what ``SplineTransformer(extrapolation="constant")`` computes)."""
    from scipy.interpolate import BSpline

    lo, hi = knots[_YEAR_DEGREE], knots[-_YEAR_DEGREE - 1]
    return BSpline.design_matrix(np.clip(years, lo, hi), knots, _YEAR_DEGREE).toarray()


class MetadataEncoder(ParamsMixin):
    """Genre multi-hot and a smooth release-year basis, fitted on a catalogue, applied to any items.

    The year block is a cubic B-spline basis (scikit-learn ``SplineTransformer``, knots at
    the year quantiles of the fitted catalogue): a film's row is non-zero only for the few
    splines around its year, so a linear model on it can learn any smooth effect of the
    year (the rise and fall of an era's popularity), which one scaled number cannot.
    Missing genres or years give zero rows in that block. Each block is L2-normalised.

    Parameters
    ----------
    genres, year : bool
        Blocks to build (at least one).
    n_knots : int >= 2
        Knots of the year splines.

    Attributes
    ----------
    genre_encoder_ : GenreEncoder or None
    year_knots_ : ndarray or None
        The full knot vector of the cubic year splines (boundary knots repeated), as fitted
        by ``SplineTransformer``; kept as an array so that a fitted encoder saves without
        pickle (``ft.save``). Years outside the fitted range get the boundary values
        (constant extrapolation).
    blocks_ : list of (name, width)
    """

    def __init__(self, genres: bool = True, year: bool = True, n_knots: int = 8) -> None:
        self.genres = genres
        self.year = year
        self.n_knots = n_knots

    @staticmethod
    def _items(X) -> pd.DataFrame:
        if isinstance(X, Dataset):
            return X.items
        if isinstance(X, pd.DataFrame):
            return X
        raise TypeError(f"X must be a Dataset or an items DataFrame (columns genres, year), got {type(X).__name__}.")

    @staticmethod
    def _years(items: pd.DataFrame) -> np.ndarray:
        return pd.to_numeric(items["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def fit(self, X, y=None) -> "MetadataEncoder":
        """Learn the genre columns and the year knots from a Dataset or an items frame."""
        from sklearn.preprocessing import SplineTransformer

        from ..exceptions import check_positive_int

        if not (self.genres or self.year):
            raise ValueError("MetadataEncoder needs genres=True and/or year=True; both are False.")
        items = self._items(X)
        self.blocks_ = []
        self.genre_encoder_ = None
        self.year_knots_ = None
        if self.genres:
            if "genres" not in items.columns:
                raise ValueError(f"genres=True but the items have no 'genres' column (columns: "
                                 f"{list(items.columns)}); add one or pass genres=False.")
            self.genre_encoder_ = GenreEncoder().fit(items["genres"].tolist())
            self.blocks_.append(("genres", len(self.genre_encoder_.genres_)))
        if self.year:
            if "year" not in items.columns:
                raise ValueError(f"year=True but the items have no 'year' column (columns: {list(items.columns)}); "
                                 "add one or pass year=False.")
            n_knots = check_positive_int(self.n_knots, "n_knots")
            if n_knots < 2:
                raise ValueError(f"n_knots == {n_knots}, must be >= 2 (e.g. n_knots=8).")
            years = self._years(items)
            known = years[np.isfinite(years)]
            if np.unique(known).size < 2:
                raise ValueError(f"year=True needs at least two distinct known years, got {np.unique(known).tolist()}; "
                                 "pass year=False.")
            spline = SplineTransformer(n_knots=n_knots, degree=_YEAR_DEGREE, knots="quantile",
                                       extrapolation="constant").fit(known[:, None])
            self.year_knots_ = np.asarray(spline.bsplines_[0].t, dtype=float).copy()
            self.blocks_.append(("year", int(spline.n_features_out_)))
        return self

    def transform_blocks(self, X) -> list[np.ndarray]:
        """One L2-normalised float32 block per fitted field, rows in the items' order."""
        from ..exceptions import check_fitted

        check_fitted(self, "blocks_")
        items = self._items(X)
        out = []
        if self.genre_encoder_ is not None:
            out.append(self.genre_encoder_.transform(items["genres"].tolist()))
        if self.year_knots_ is not None:
            years = self._years(items)
            block = np.zeros((len(items), self.blocks_[-1][1]), dtype=np.float32)
            known = np.isfinite(years)
            if known.any():
                block[known] = _year_basis(years[known], self.year_knots_)
            out.append(l2_normalize(block))
        return out

    def transform(self, X) -> np.ndarray:
        """The blocks side by side, ``(n_items, sum of widths)`` float32."""
        return np.hstack(self.transform_blocks(X)).astype(np.float32)


def item_metadata_features(ds: Dataset, genres: bool = True, year: bool = True,
                           weights: Sequence[float] | None = None) -> ItemEmbeddings:
    """Genre multi-hot and a release-year basis as one :class:`ItemEmbeddings`.

    Parameters
    ----------
    ds : Dataset
        Its ``items`` table needs a ``genres`` column (lists or ``"A|B"``) and/or a
        ``year`` column.
    genres, year : bool
        Which blocks to include (at least one); see :class:`MetadataEncoder`.
    weights : sequence of float, optional
        Relative weight of each included block (see :func:`concat_embeddings`).

    Returns
    -------
    ItemEmbeddings
        Aligned to ``ds.item_vocab``; ``model_id`` names the blocks, e.g. ``"genres+year"``.

    Examples
    --------
    >>> meta = item_metadata_features(ds)                        # doctest: +SKIP
    >>> features = concat_embeddings(embed_items(ds), meta)      # doctest: +SKIP
    """
    ds = ensure_dataset(ds)
    encoder = MetadataEncoder(genres=genres, year=year).fit(ds)
    blocks = [ItemEmbeddings(b, ds.item_ids, name) for b, (name, _) in zip(encoder.transform_blocks(ds),
                                                                         encoder.blocks_)]
    return concat_embeddings(*blocks, weights=weights)


def concat_embeddings(*embeddings: ItemEmbeddings, weights: Sequence[float] | None = None) -> ItemEmbeddings:
    """Join item feature blocks side by side: ``[√w₁·e₁ / ‖e₁‖, √w₂·e₂ / ‖e₂‖, ...]``.

    Each block's rows are L2-normalised first, so a 384-d text vector and an 18-d genre
    vector count equally by default; ``weights`` shifts that balance (a block's share of
    the squared norm, and so of any dot product, is proportional to its weight). The
    result's rows are not re-normalised, so block shares stay as chosen. Items are
    those of the first block, in its order; every other block must cover them.

    Parameters
    ----------
    *embeddings : ItemEmbeddings
        Two or more blocks (one is returned unchanged up to its weight).
    weights : sequence of float >= 0, optional
        One per block; default all 1.

    Returns
    -------
    ItemEmbeddings
        ``model_id`` joins the blocks' ids with ``+``; ``meta["blocks"]`` lists them with
        their widths and weights.
    """
    if not embeddings:
        raise ValueError("concat_embeddings needs at least one ItemEmbeddings, e.g. "
                         "concat_embeddings(embed_items(ds), item_metadata_features(ds)).")
    for j, e in enumerate(embeddings):
        if not isinstance(e, ItemEmbeddings):
            raise TypeError(f"embeddings[{j}] must be ItemEmbeddings, got {type(e).__name__}.")
    if weights is None:
        weights = [1.0] * len(embeddings)
    weights = list(weights)
    if len(weights) != len(embeddings):
        raise ValueError(f"weights has {len(weights)} value(s) for {len(embeddings)} block(s); give one per block, "
                         f"e.g. weights={[1.0] * len(embeddings)}.")
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) or w < 0:
            raise ValueError(f"weights={weights!r}: every weight must be a finite number >= 0, e.g. [1.0, 0.5].")
    ids = embeddings[0].item_ids
    parts = []
    for e in embeddings:
        if len(e.item_ids) != len(ids) or not np.array_equal(e.item_ids, ids):
            pos = pd.Index(e.item_ids).get_indexer(ids)
            if (pos < 0).any():
                raise KeyError(f"block {e.model_id!r} has no vector for {int((pos < 0).sum())} item(s) of the first "
                               f"block, e.g. {ids[pos < 0][:5].tolist()}; build every block on the same catalogue.")
            matrix = e.matrix[pos]
        else:
            matrix = e.matrix
        parts.append(l2_normalize(matrix))
    matrix = np.hstack([np.sqrt(np.float32(w)) * p for w, p in zip(weights, parts)]).astype(np.float32)
    model_id = "+".join(e.model_id for e in embeddings)
    meta = {"blocks": [{"model_id": e.model_id, "dim": e.dim, "weight": float(w)}
                       for e, w in zip(embeddings, weights)]}
    return ItemEmbeddings(matrix, ids, model_id, meta=meta)
