"""Shared constants: column names, canonical genres and the data home."""

from __future__ import annotations

import os
from pathlib import Path

USER_COL = "user_id"
ITEM_COL = "item_id"
RATING_COL = "rating"
TIMESTAMP_COL = "timestamp"
SCORE_COL = "score"
RANK_COL = "rank"

#: Columns of every top-k frame the package returns.
TOPK_COLUMNS = (USER_COL, ITEM_COL, SCORE_COL, RANK_COL)

#: The 18 MovieLens genres plus "unknown" (ml-100k) and "(no genres listed)" (ml-20m+).
CANONICAL_GENRES = (
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical",
    "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    "IMAX", "unknown",
)

_GENRE_ALIASES = {
    "unkonwn": "unknown",           # typo in the ml-100k pack
    "children": "Children's",       # ml-latest / ml-25m spelling
    "(no genres listed)": "unknown",
}


def canonical_genre(name: str) -> str:
    """Return the canonical spelling of a MovieLens genre name."""
    stripped = name.strip()
    lowered = stripped.lower()
    if lowered in _GENRE_ALIASES:
        return _GENRE_ALIASES[lowered]
    for genre in CANONICAL_GENRES:
        if genre.lower() == lowered:
            return genre
    return stripped


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder for downloaded data, embedding caches and 2-D coordinates.

    Order: the ``data_home`` argument, the ``FILMREC_DATA_HOME`` environment
    variable, then ``~/.cache/filmrec_toolkit``. The folder is created if missing.
    """
    if data_home is None:
        data_home = os.environ.get("FILMREC_DATA_HOME") or Path.home() / ".cache" / "filmrec_toolkit"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
