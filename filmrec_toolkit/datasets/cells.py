"""Item-table cells: missing values and genre lists, read one way everywhere.

:func:`parse_genres` is the one reader of a genre cell and :func:`genres_to_matrix` the one
builder of an items x genres matrix; :meth:`Dataset.genre_matrix` applies it to a dataset's
items table. Metrics (intra-list diversity, calibration), segment genre lift, the genre
encoder, neighbour diagnostics, cold start and explanations all read genres through them.
"""

from __future__ import annotations

import math
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from .._config import CANONICAL_GENRES, canonical_genre

__all__ = ["GENRE_WEIGHTINGS", "genres_to_matrix", "is_missing", "parse_genres"]

#: Weightings of :func:`genres_to_matrix`: ``"binary"`` (multi-hot) or ``"share"`` (an item's
#: genres share weight 1 equally, ``p(g | i)`` of Steck 2018).
GENRE_WEIGHTINGS = ("binary", "share")

_GENRE_ORDERS = ("sorted", "canonical")


def is_missing(value) -> bool:
    """True for None, NaN, pd.NA, blank strings, ``"nan"`` and empty lists/arrays."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return value.strip() == "" or value.strip().lower() in ("nan", "none", "<na>")
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        return len(value) == 0 or all(is_missing(v) for v in value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def parse_genres(cell, *, canonical: bool = False) -> list[str]:
    """The genres of one items-table cell, as a list of names.

    The rule: a missing cell (``None``, NaN, blank, empty list) gives ``[]``; a string is
    split on ``"|"`` (the MovieLens ``"Comedy|Drama"`` form); a list, tuple, set or array
    gives its elements as strings. Names are stripped of surrounding spaces, missing or
    blank names are dropped and repeats are kept once, in first-seen order.

    Parameters
    ----------
    cell : list, tuple, set, ndarray, str or missing
    canonical : bool
        Map each name to its canonical MovieLens spelling (``"children"`` ->
        ``"Children's"``, ``"(no genres listed)"`` -> ``"unknown"``); see
        ``filmrec_toolkit._config.canonical_genre``.

    Examples
    --------
    >>> parse_genres("Comedy| Drama|Comedy")
    ['Comedy', 'Drama']
    >>> parse_genres(["Horror", None])
    ['Horror']
    >>> parse_genres(float("nan"))
    []
    """
    if is_missing(cell):
        return []
    if isinstance(cell, str):
        parts: Iterable = cell.split("|")
    elif isinstance(cell, (list, tuple, set, np.ndarray, pd.Series)):
        parts = [g for g in cell if not is_missing(g)]
    else:
        parts = [cell]
    stripped = [str(g).strip() for g in parts]
    return list(dict.fromkeys(canonical_genre(g) if canonical else g for g in stripped if g))


def _order(seen: set[str], order: str) -> list[str]:
    if order == "canonical":
        return [g for g in CANONICAL_GENRES if g in seen] + sorted(seen - set(CANONICAL_GENRES))
    return sorted(seen)


def genres_to_matrix(cells: Iterable, *, weighting: Literal["binary", "share"] = "binary",
                     genres: Sequence[str] | None = None, order: Literal["sorted", "canonical"] = "sorted",
                     canonical: bool = False) -> tuple[np.ndarray, list[str]]:
    """Items x genres matrix of a sequence of genre cells (one row per cell, in order).

    Parameters
    ----------
    cells : iterable
        One genre cell per item, read by :func:`parse_genres`.
    weighting : {"binary", "share"}
        ``"binary"``: 1 on each of the item's genres (multi-hot). ``"share"``: the item's
        ``m`` distinct genres get ``1 / m`` each, so a row sums to 1 (Steck 2018, sec. 2).
        An item without genres has an all-zero row either way.
    genres : sequence of str, optional
        Fixed columns, in this order; names of the cells outside it are ignored (and do
        not count in the ``1 / m`` of ``"share"``). Default: every name present.
    order : {"sorted", "canonical"}
        Column order when ``genres`` is None: ``"sorted"`` (Python string order) or
        ``"canonical"`` (the MovieLens genres in ``CANONICAL_GENRES`` order, then the
        others sorted).
    canonical : bool
        Read names with their canonical MovieLens spelling (see :func:`parse_genres`).

    Returns
    -------
    matrix : ndarray of shape (n_items, n_genres), float64
    names : list of str
        The genre of each column.
    """
    if weighting not in GENRE_WEIGHTINGS:
        raise ValueError(f"weighting == {weighting!r}, must be one of {list(GENRE_WEIGHTINGS)}; "
                         "e.g. weighting='binary' (multi-hot) or weighting='share' (rows sum to 1).")
    if order not in _GENRE_ORDERS:
        raise ValueError(f"order == {order!r}, must be one of {list(_GENRE_ORDERS)}; e.g. order='sorted'.")
    lists = [parse_genres(c, canonical=canonical) for c in cells]
    if genres is None:
        names = _order({g for gs in lists for g in gs}, order)
    else:
        names = list(dict.fromkeys(str(g) for g in genres))
    column = {g: j for j, g in enumerate(names)}
    matrix = np.zeros((len(lists), len(names)), dtype=np.float64)
    for i, gs in enumerate(lists):
        cols = [column[g] for g in gs if g in column]
        if cols:
            matrix[i, cols] = 1.0 / len(cols) if weighting == "share" else 1.0
    return matrix, names
