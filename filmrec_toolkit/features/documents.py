"""Item documents: one text per film, built from the items table, in vocabulary order."""

from __future__ import annotations

import logging
import re
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..datasets.cells import is_missing  # noqa: F401 (the one home of is_missing; re-exported here)
from ..datasets.dataset import Dataset, ensure_dataset

logger = logging.getLogger(__name__)

#: Named document templates compared by :func:`filmrec_toolkit.compare_documents` (fields,
#: in order; each field is optional, and the title keeps its "(Year)" only where "year" is
#: listed).
DOCUMENT_TEMPLATES = {
    "genres_title": ("genres", "title", "overview", "tags"),
    "title_genres": ("title", "genres", "overview", "tags"),
    "title_year_genres": ("title", "year", "genres", "overview", "tags"),
    "genres": ("genres",),
    "title": ("title",),
}

#: Fields used by default: genres first, then the title without its year, plot and tags.
#: Chosen by measurement (benchmarks/bench_documents.py, ml-1m, MiniLM): with the year in
#: the text ("title_year_genres", the former default) about half of each film's 5 nearest
#: neighbours share its release year, ten times the genre-flag rate; without it the rate is
#: that of genre flags, and genres first gives the highest genre agreement and co-rating
#: overlap of the templates that meet both targets. The year can still enter a model as a
#: numeric feature.
DEFAULT_FIELDS = DOCUMENT_TEMPLATES["genres_title"]

#: Label printed before each field's value (``None`` = no label).
FIELD_LABELS = {"title": None, "year": "Year", "genres": "Genres", "overview": "Plot", "tags": "Tags"}

_YEAR_SUFFIX = re.compile(r"\(\s*(\d{4})\s*\)\s*$")


def _as_text(value) -> str:
    """Readable text for one cell: lists joined by ", ", "A|B" split, ints without ".0"."""
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        parts = [_as_text(v) for v in value if not is_missing(v)]
        return ", ".join(p for p in parts if p)
    if isinstance(value, str):
        text = " ".join(value.split())
        if "|" in text and "," not in text:
            text = ", ".join(t.strip() for t in text.split("|") if t.strip())
        return text
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _title_text(row: Mapping, fields: Sequence[str]) -> str:
    """The title; with ``(Year)`` only when ``"year"`` is among ``fields``."""
    title_text = _as_text(row.get("title"))
    match = _YEAR_SUFFIX.search(title_text)
    if "year" not in fields:
        return _YEAR_SUFFIX.sub("", title_text).strip() or title_text
    year = row.get("year")
    if not match and not is_missing(year):
        title_text = f"{title_text} ({_as_text(year)})"  # "Title (Year)" when the title lacks it
    return title_text


def _row_document(row: Mapping, fields: Sequence[str]) -> str:
    parts: list[str] = []
    title_shows_year = False
    if "title" in fields and not is_missing(row.get("title")):
        title_shows_year = "year" in fields and bool(_YEAR_SUFFIX.search(_title_text(row, fields)))
    for name in fields:
        value = row.get(name)
        if is_missing(value):
            continue
        if name == "title":
            parts.append(_sentence(_title_text(row, fields)))
            continue
        if name == "year" and title_shows_year:
            continue  # the title already shows "(Year)": never print the year twice
        text = _as_text(value)
        if not text:
            continue
        label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        parts.append(_sentence(f"{label}: {text}" if label else text))
    return " ".join(parts)


class _Formatter(dict):
    """Template values: missing fields format as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def _template_document(row: Mapping, template: str) -> str:
    values = _Formatter({k: ("" if is_missing(v) else _as_text(v)) for k, v in row.items()})
    text = template.format_map(values)
    # Remove labels left empty by missing fields ("Plot: ." / "Plot:" at the end) and extra spaces.
    text = re.sub(r"\b[\w ]{1,30}:\s*(?=[.;,]|$)[.;,]?", "", text)
    text = re.sub(r"\s+([.,;])", r"\1", text)
    text = re.sub(r"([.,;])\1+", r"\1", text)
    return " ".join(text.split()).strip()


def build_item_documents(
    dataset: Dataset,
    fields: Sequence[str] = DEFAULT_FIELDS,
    template: str | Callable[[dict], str] | None = None,
) -> list[str]:
    """One text per item, in the dataset's item-vocabulary order.

    Parameters
    ----------
    dataset : Dataset
        Its ``items`` table supplies the text (``title``, ``year``, ``genres``, ``overview``,
        ``tags`` or any column of your own, e.g. ``"synopsis"``).
    fields : sequence of str or str
        Columns to include, in order, or the name of one of :data:`DOCUMENT_TEMPLATES`
        (``"title_year_genres"`` gives the former default). The standard fields are optional
        (a column the table lacks, or a missing value, is left out cleanly: no ``"nan"``, no
        empty ``"Plot:"``); any other name must be a column of ``dataset.items``. The release
        year appears only when ``"year"`` is listed: a ``"(Year)"`` ending the title
        (MovieLens titles) is then kept (never repeated), and removed otherwise.
    template : str or callable, optional
        ``str.format`` template over the item's columns, e.g.
        ``"{title}. Directed by {director}. {overview}"`` (missing values format as ``""`` and
        labels left empty are removed), or a callable ``row_dict -> str`` (missing values are
        ``None``). Overrides ``fields``.

    Returns
    -------
    list of str
        ``len == dataset.n_items``; element ``i`` describes item row ``i``.

    Examples
    --------
    >>> docs = build_item_documents(load_movielens("ml-100k"))  # doctest: +SKIP
    >>> docs[0]  # doctest: +SKIP
    "Genres: Animation, Children's, Comedy. Toy Story."
    >>> build_item_documents(ds, "title_year_genres")[0]  # doctest: +SKIP
    "Toy Story (1995). Genres: Animation, Children's, Comedy."
    """
    dataset = ensure_dataset(dataset)
    items = dataset.items
    if isinstance(fields, str):
        fields = DOCUMENT_TEMPLATES.get(fields, (fields,))
    fields = tuple(fields)
    if template is None:
        if not fields:
            raise ValueError("fields is empty; pass at least one column name, e.g. fields=('title', 'genres').")
        unknown = [f for f in fields if f not in items.columns and f not in DEFAULT_FIELDS]
        if unknown:
            raise ValueError(f"fields {unknown} are not columns of dataset.items (columns: {list(items.columns)}); "
                             "add the column to the items table or remove it from fields.")
        used = [c for c in fields if c in items.columns]
        records = items[used].to_dict("records") if used else [{} for _ in range(len(items))]
        docs = [_row_document(r, fields) for r in records]
    elif callable(template):
        # missing values arrive as None, so `row["overview"] or ""` works
        docs = [str(template({k: (None if is_missing(v) else v) for k, v in r.items()}))
                for r in items.to_dict("records")]
    elif isinstance(template, str):
        names = {m.group(1).split(".")[0].split("[")[0] for m in re.finditer(r"\{([^{}:!]+)", template)}
        unknown = sorted(n for n in names if n not in items.columns and n not in DEFAULT_FIELDS)
        if unknown:
            raise ValueError(f"template uses {unknown}, which are not columns of dataset.items "
                             f"(columns: {list(items.columns)}).")
        docs = [_template_document(r, template) for r in items.to_dict("records")]
    else:
        raise TypeError(f"template must be a str, a callable or None, got {type(template).__name__}.")
    empty = sum(1 for d in docs if not d)
    if empty:
        logger.warning("%d of %d item documents are empty (no usable field); they embed as the empty text.",
                       empty, len(docs))
    return docs
