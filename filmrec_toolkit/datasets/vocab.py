"""Id <-> contiguous row mapping, shared by every matrix in the package."""

from __future__ import annotations

import difflib
from typing import Iterable

import numpy as np
import pandas as pd

from ..exceptions import UnknownIdError


class Vocabulary:
    """Bidirectional mapping between external ids and contiguous rows ``0..n-1``.

    Parameters
    ----------
    ids : array-like
        Unique external ids, in row order.
    name : str
        What the ids are (``"user_id"`` or ``"item_id"``), used in error messages.
    """

    def __init__(self, ids: Iterable, name: str = "id") -> None:
        index = pd.Index(ids)
        if not index.is_unique:
            dup = index[index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"{name} vocabulary must be unique; duplicated ids: {dup}.")
        self.index = index
        self.name = name

    # -- basic protocol -------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, id_) -> bool:
        return id_ in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.index.equals(other.index)

    def __hash__(self) -> int:  # vocabularies are compared by content
        return hash((self.name, len(self.index)))

    def __repr__(self) -> str:
        return f"Vocabulary({self.name}, n={len(self)})"

    @property
    def ids(self) -> np.ndarray:
        """External ids in row order."""
        return self.index.to_numpy()

    # -- lookups --------------------------------------------------------
    def to_rows(self, ids, *, param: str | None = None) -> np.ndarray:
        """Rows of ``ids`` (scalar or array-like); raise on unknown ids.

        Raises
        ------
        UnknownIdError
            Listing (up to 5) unknown ids and close matches for strings.
        """
        scalar = np.ndim(ids) == 0
        values = [ids] if scalar else list(ids)
        rows = self.index.get_indexer(values)
        if (rows < 0).any():
            missing = [v for v, r in zip(values, rows) if r < 0]
            hint = ""
            if isinstance(missing[0], str) and self.index.dtype == object:
                close = difflib.get_close_matches(missing[0], [str(x) for x in self.index[:50000]], n=3)
                if close:
                    hint = f" Close matches for {missing[0]!r}: {close}."
            label = param or self.name
            raise UnknownIdError(
                f"{label}: {len(missing)} id(s) unknown to this dataset, e.g. {missing[:5]}."
                f"{hint} Use ids from dataset.{'user' if 'user' in self.name else 'item'}_ids."
            )
        return int(rows[0]) if scalar else rows.astype(np.int64)

    def to_ids(self, rows) -> np.ndarray:
        """External ids of ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"rows must be in [0, {len(self)}), got min {rows.min()} max {rows.max()}.")
        return self.index.to_numpy()[rows]
