"""Film titles: the one join key (:func:`normalize_title`) and the one title resolver.

:func:`resolve_title` turns what a person types ("Toy Story", "toy story (1995)", an item
id) into item rows, with one matching rule for the whole package:

1. an item id (compared with its type: ``10`` is not ``"10"``) is that item; an id is
   never ambiguous;
2. else, for text: the titles equal to it ignoring case and surrounding spaces;
3. if none: the titles with the same :func:`normalize_title` key (no year, no leading or
   trailing article, no punctuation or accents: ``"american president"`` finds
   "American President, The (1995)"); when the text ends with a year, ``"Title (1995)"``,
   only films released within one year of it are kept;
4. one match is the answer; several are ambiguous: an error listing each candidate's
   title, item id and year, saying to pass the exact title with its year or the item id
   (or, with ``ambiguous="all"``, all of them with a warning); none raises an error with
   the closest titles (:mod:`difflib`).

:func:`filmrec_toolkit.similar_items` / :func:`filmrec_toolkit.resolve_item` and
:func:`filmrec_toolkit.resolve_items` (cold start, audiences) both delegate to it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import warnings
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ..exceptions import UnknownIdError
from .cells import is_missing

__all__ = ["normalize_title", "resolve_title", "title_year"]

_ARTICLES = ("the", "a", "an", "les", "la", "le", "l", "il", "el", "los", "las", "das", "der", "die", "den", "det")
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an|les|la|le|l'|il|el|los|las|das|der|die|den|det)\s*$", re.I)
_YEAR = re.compile(r"\(\s*(\d{4})\s*\)\s*$")

#: Years within this distance agree when a query is written "Title (Year)".
YEAR_TOLERANCE = 1


def normalize_title(title) -> str:
    """Join key for a film title: lowercase ASCII words, no year, no punctuation, no articles.

    ``"American President, The (1995)"`` and ``"The American President"`` both give
    ``"american president"``. Alternative titles in parentheses (MovieLens writes
    ``"City of Lost Children, The (Cité des enfants perdus, La) (1995)"``) are dropped.
    """
    if is_missing(title):
        return ""
    text = str(title).strip()
    text = _YEAR.sub("", text).strip()
    text = re.sub(r"\s*\([^()]*\)\s*$", "", text).strip() or text  # trailing "(a.k.a. ...)"
    text = _TRAILING_ARTICLE.sub("", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text.replace("'", ""))
    words = text.split()
    while words and words[0] in _ARTICLES and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def title_year(title) -> float:
    """The year a title ends with, ``"Heat (1995)"`` -> ``1995.0``; NaN when it has none."""
    if is_missing(title):
        return np.nan
    match = _YEAR.search(str(title))
    return float(match.group(1)) if match else np.nan


def _py(value):
    """Plain Python scalar for messages (``1`` rather than ``np.int64(1)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _describe(rows, ids, titles, years) -> str:
    parts = []
    for r in rows:
        year = years[r]
        when = f", year {int(year)}" if np.isfinite(year) else ""
        parts.append(f"{str(titles[r])!r} (item_id={_py(ids[r])!r}{when})")
    return "; ".join(parts)


def resolve_title(item, item_ids: Sequence, titles: Sequence, *, years: Sequence | None = None,
                  ambiguous: Literal["raise", "all"] = "raise", param: str = "item",
                  source: str = "this dataset") -> np.ndarray:
    """Rows of ``item`` (an item id or a title) by the package's one matching rule.

    See the module docstring for the rule: item id, then case-insensitive exact title, then
    :func:`normalize_title` key (with the year of a ``"Title (Year)"`` query agreeing
    within one year), then an error with close matches.

    Parameters
    ----------
    item : item id or str
        What the user passed.
    item_ids : sequence
        The item id of each row.
    titles : sequence
        The title of each row (missing or non-text titles never match).
    years : sequence of float, optional
        Release year of each row, used where a title does not end with "(Year)".
    ambiguous : {"raise", "all"}
        Several matching titles: raise :class:`~filmrec_toolkit.UnknownIdError` listing
        them (default), or return every match with a ``UserWarning`` naming their ids
        (e.g. ml-100k lists "Body Snatchers (1993)" twice: liking it means both copies).
    param : str
        The caller's parameter name, used in messages.
    source : str
        What the titles belong to, used in messages ("these embeddings").

    Returns
    -------
    ndarray of int64
        One row, or every matching row with ``ambiguous="all"``.

    Raises
    ------
    UnknownIdError
        Unknown, or ambiguous with ``ambiguous="raise"``.

    Examples
    --------
    >>> ids = np.array([10, 20, 30])
    >>> titles = ["American President, The (1995)", "Heat (1995)", "Heat (1986)"]
    >>> resolve_title("the american president", ids, titles).tolist()
    [0]
    >>> resolve_title("heat (1985)", ids, titles).tolist()
    [2]
    >>> resolve_title(20, ids, titles).tolist()
    [1]
    """
    if ambiguous not in ("raise", "all"):
        raise ValueError(f"ambiguous == {ambiguous!r}, must be one of ['raise', 'all']; e.g. ambiguous='raise'.")
    ids = np.asarray(item_ids)
    titles = np.array([t if isinstance(t, str) else "" for t in titles], dtype=object)
    if len(titles) != len(ids):
        raise ValueError(f"titles has {len(titles)} entries for {len(ids)} item ids; give one title per item.")
    from_titles = np.array([title_year(t) for t in titles], dtype=float)
    if years is not None:
        given = pd.to_numeric(pd.Series(list(years)), errors="coerce").to_numpy(float)
        from_titles = np.where(np.isnan(from_titles), given, from_titles)
    row_years = from_titles

    if not isinstance(item, (list, tuple, np.ndarray, set, dict)):
        pos = pd.Index(ids).get_indexer([item])[0]
        if pos >= 0:
            return np.array([pos], dtype=np.int64)
    if not isinstance(item, str):
        raise UnknownIdError(f"{param}={item!r} is not an item id of {source} ({len(ids)} items, ids like "
                             f"{[_py(i) for i in ids[:3]]}); pass an item id or a title.")
    lowered = np.array([t.strip().lower() for t in titles], dtype=object)
    query = item.strip().lower()
    matches = np.flatnonzero(lowered == query) if query else np.array([], dtype=np.int64)
    if len(matches) == 0:
        key = normalize_title(item)
        keys = np.array([normalize_title(t) for t in titles], dtype=object)
        matches = np.flatnonzero(keys == key) if key else np.array([], dtype=np.int64)
        year = title_year(item)
        if len(matches) and np.isfinite(year):
            matches = matches[np.abs(row_years[matches] - year) <= YEAR_TOLERANCE]
    if len(matches) == 1:
        return matches.astype(np.int64)
    if len(matches) > 1:
        listed = _describe(matches[:10], ids, titles, row_years)
        if ambiguous == "all":
            match_ids = [_py(i) for i in ids[matches]]
            warnings.warn(f"{param}: the title {item!r} names {len(matches)} items (item_id {match_ids}); all of "
                          f"them are used. Pass one item_id instead of the title to choose one.",
                          UserWarning, stacklevel=3)
            return matches.astype(np.int64)
        raise UnknownIdError(f"{param}={item!r} is ambiguous: {len(matches)} titles match: {listed}. "
                             "Pass the exact title with its year or the item_id.")
    rows = _close_rows(query, normalize_title(item), lowered, titles)
    hint = (f"Close matches: {_describe(rows, ids, titles, row_years)}. Close titles are listed with their "
            "item_id; pass one of them exactly, or its item_id." if rows
            else "No close title either; check the spelling or pass the item_id.")
    raise UnknownIdError(f"{param}={item!r} is neither an item id nor a title of {source}. {hint}")


def _close_rows(query: str, key: str, lowered: np.ndarray, titles: np.ndarray, n: int = 5) -> list[int]:
    """Rows of the titles closest to the query (difflib), first on lowercase titles, then on keys."""
    candidates = [t for t in dict.fromkeys(lowered.tolist()) if t]
    close = difflib.get_close_matches(query, candidates, n=n, cutoff=0.5) if query else []
    if close:
        return [int(np.flatnonzero(lowered == c)[0]) for c in close]
    keys = np.array([normalize_title(t) for t in titles], dtype=object)
    close = difflib.get_close_matches(key, [k for k in dict.fromkeys(keys.tolist()) if k], n=n, cutoff=0.5) \
        if key else []
    return [int(np.flatnonzero(keys == c)[0]) for c in close]
