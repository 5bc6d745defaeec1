"""What an item representation's neighbours follow: release year, genres, or co-rating.

``document_diagnostics`` answers "do my item documents encode content?" for any
:class:`ItemEmbeddings` (language model, TF-IDF, genre flags): for each film it takes the
``k`` nearest films by cosine similarity and measures

* the share that were released in the same year, beside the same share for genre flags
  (the base rate of a representation that knows nothing about the year);
* genre agreement: the share of neighbours sharing at least one genre with the film, and
  the mean Jaccard index of the two genre sets;
* agreement with the ratings: overlap@k between the film's neighbours and its co-rating
  neighbours (item–item cosine over the binarised ratings matrix, the similarity of
  item-kNN collaborative filtering).

The metric functions (:func:`nearest_neighbors`, :func:`same_value_rate`,
:func:`genre_agreement`, :func:`neighbor_overlap`, :func:`co_rating_neighbors`) are pure and
tested on hand-computable data. This module sits below the recommenders: it computes the
co-rating neighbours itself from ``dataset.matrix`` instead of importing them.
"""

from __future__ import annotations

import logging
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._topk import topk
from .._validation import check_k
from ..datasets.cells import parse_genres
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_positive_int
from .embeddings import ItemEmbeddings, l2_normalize

logger = logging.getLogger(__name__)

__all__ = [
    "choose_document", "co_rating_neighbors", "compare_documents", "document_diagnostics", "document_sentences",
    "genre_agreement", "nearest_neighbors", "neighbor_overlap", "same_value_rate",
]

#: Columns of :func:`document_diagnostics`, in order.
DIAGNOSTIC_COLUMNS = ("representation", "model_id", "k", "n_items", "same_year", "same_year_genre_base",
                      "year_ratio", "genre_agreement", "genre_jaccard", "co_rating_overlap", "co_rating_chance")


def _check_neighbors(neighbors) -> np.ndarray:
    nb = np.asarray(neighbors)
    if nb.ndim != 2 or not np.issubdtype(nb.dtype, np.integer):
        raise ValueError(f"neighbors must be a 2-D integer array (one row of neighbour rows per item, -1 = none), "
                         f"got shape {nb.shape} and dtype {nb.dtype}; build it with nearest_neighbors(matrix, k).")
    return nb


def nearest_neighbors(matrix: np.ndarray, k: int = 5, chunk_size: int = 1024) -> np.ndarray:
    """Rows of the ``k`` most cosine-similar rows of each row, itself excluded.

    Parameters
    ----------
    matrix : ndarray of shape (n, d)
        Item vectors (any norm: rows are L2-normalised here; a zero row has no neighbours).
    k : int
        Neighbours per row; capped at ``n - 1``.
    chunk_size : int
        Rows scored at a time (memory is ``chunk_size x n`` floats).

    Returns
    -------
    ndarray of shape (n, min(k, n - 1)), int64
        Neighbour rows, most similar first; ties go to the lower row (the order of
        :func:`filmrec_toolkit._topk.topk`). ``-1`` pads rows that have fewer neighbours
        (zero vectors).
    """
    k = check_k(k)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    x = np.asarray(matrix, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"matrix must be 2-D (items x dimensions), got shape {x.shape}.")
    n = x.shape[0]
    kk = min(k, max(n - 1, 0))
    out = np.full((n, kk), -1, dtype=np.int64)
    if kk == 0:
        return out
    zero = ~x.any(axis=1)
    x = l2_normalize(x)
    for start in range(0, n, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n))
        sims = (x[rows] @ x.T).astype(np.float64)
        sims[np.arange(len(rows)), rows] = -np.inf
        sims[:, zero] = -np.inf
        cols, vals = topk(sims, kk)
        cols[~np.isfinite(vals)] = -1
        cols[zero[rows]] = -1
        out[rows] = cols
    return out


def co_rating_neighbors(ratings: sp.spmatrix, k: int = 5, chunk_size: int = 1024) -> np.ndarray:
    """Each item's ``k`` co-rating neighbours: cosine over the binarised users x items matrix.

    sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|), where ``U_i`` is the set of users who rated
    item ``i`` (any stored rating counts, zeros included) — the item–item similarity of
    item-kNN collaborative filtering without shrinkage. Items that share no user with any
    other item (or have no rating) get ``-1`` (no neighbour).

    Parameters
    ----------
    ratings : scipy.sparse matrix of shape (n_users, n_items)
        E.g. ``dataset.matrix``.
    k : int
    chunk_size : int
        Items scored at a time.

    Returns
    -------
    ndarray of shape (n_items, min(k, n_items - 1)), int64
        Neighbour rows, most similar first (ties to the lower row), ``-1`` where fewer
        than ``k`` items share a user with the item.
    """
    k = check_k(k)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if not sp.issparse(ratings):
        raise TypeError(f"ratings must be a scipy.sparse users x items matrix (dataset.matrix), "
                        f"got {type(ratings).__name__}.")
    binary = sp.csc_matrix(ratings, dtype=np.float32, copy=True)
    binary.data[:] = 1.0
    n = binary.shape[1]
    kk = min(k, max(n - 1, 0))
    out = np.full((n, kk), -1, dtype=np.int64)
    if kk == 0:
        return out
    counts = np.asarray(binary.sum(axis=0)).ravel()
    norms = np.sqrt(counts)
    items_users = binary.T.tocsr()
    for start in range(0, n, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n))
        dots = np.asarray((items_users[rows] @ binary).toarray(), dtype=np.float64)
        sims = dots / np.maximum(norms[rows][:, None] * norms[None, :], 1e-12)
        sims[np.arange(len(rows)), rows] = -np.inf
        sims[sims <= 0] = -np.inf
        cols, vals = topk(sims, kk)
        cols[~np.isfinite(vals)] = -1
        out[rows] = cols
    return out


def same_value_rate(neighbors, values) -> float:
    """Share of (item, neighbour) pairs whose ``values`` are equal, averaged over items.

    For each item with a known value and at least one neighbour with a known value: the
    share of those neighbours with the same value; then the mean over such items.
    Missing values (NaN, None) and padding rows ``-1`` are skipped.

    Parameters
    ----------
    neighbors : int ndarray of shape (n, k)
    values : sequence of length n
        E.g. release years.

    Returns
    -------
    float
        In [0, 1]; NaN when no item qualifies.

    Examples
    --------
    >>> same_value_rate(np.array([[1, 2], [0, 2], [0, 1]]), [1990, 1990, 2001])
    0.3333333333333333
    """
    nb = _check_neighbors(neighbors)
    vals = pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy())
    if len(vals) != nb.shape[0]:
        raise ValueError(f"values has {len(vals)} entries for {nb.shape[0]} items; give one value per item.")
    codes, _ = pd.factorize(vals, use_na_sentinel=True)  # missing -> -1
    shares = []
    for i, row in enumerate(nb):
        if codes[i] < 0:
            continue
        row = row[row >= 0]
        row = row[codes[row] >= 0]
        if len(row):
            shares.append(float(np.mean(codes[row] == codes[i])))
    return float(np.mean(shares)) if shares else math.nan


def genre_agreement(neighbors, genres) -> tuple[float, float]:
    """How much the neighbours' genres agree with each item's, averaged over items.

    Parameters
    ----------
    neighbors : int ndarray of shape (n, k)
    genres : sequence of length n
        Genre lists (or ``"A|B"`` strings) per item. Items without genres, and neighbours
        without genres, are skipped; ``-1`` padding is skipped.

    Returns
    -------
    (share, jaccard) : tuple of float
        ``share``: mean over items of the share of neighbours that have at least one genre
        in common with the item. ``jaccard``: mean over items of the mean Jaccard index
        |G_i ∩ G_j| / |G_i ∪ G_j| over the neighbours. NaN when no item qualifies.

    Examples
    --------
    >>> genre_agreement(np.array([[1], [0], [1]]), [["A", "B"], ["B"], ["C"]])
    (0.6666666666666666, 0.3333333333333333)
    """
    nb = _check_neighbors(neighbors)
    sets = [frozenset(parse_genres(value)) for value in genres]
    if len(sets) != nb.shape[0]:
        raise ValueError(f"genres has {len(sets)} entries for {nb.shape[0]} items; give one genre list per item.")
    shares, jaccards = [], []
    for i, row in enumerate(nb):
        gi = sets[i]
        if not gi:
            continue
        others = [sets[j] for j in row if j >= 0 and sets[j]]
        if not others:
            continue
        shares.append(float(np.mean([bool(gi & gj) for gj in others])))
        jaccards.append(float(np.mean([len(gi & gj) / len(gi | gj) for gj in others])))
    if not shares:
        return math.nan, math.nan
    return float(np.mean(shares)), float(np.mean(jaccards))


def neighbor_overlap(neighbors, reference) -> float:
    """Mean overlap@k of two neighbour lists: |N_i ∩ R_i| / |R_i| averaged over items.

    ``-1`` padding is ignored; items whose reference list is empty are skipped.

    Examples
    --------
    >>> neighbor_overlap(np.array([[1, 2], [0, 2]]), np.array([[2, 3], [3, -1]]))
    0.25
    """
    a, b = _check_neighbors(neighbors), _check_neighbors(reference)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"neighbors has {a.shape[0]} rows and reference {b.shape[0]}; both need one row per item.")
    scores = []
    for row_a, row_b in zip(a, b):
        ref = set(row_b[row_b >= 0].tolist())
        if ref:
            scores.append(len(ref & set(row_a[row_a >= 0].tolist())) / len(ref))
    return float(np.mean(scores)) if scores else math.nan


def _years(dataset: Dataset, year_column: str) -> pd.Series:
    items = dataset.items
    if year_column in items.columns:
        return pd.to_numeric(items[year_column], errors="coerce").reset_index(drop=True)
    if "title" in items.columns:
        return pd.to_numeric(items["title"].astype(str).str.extract(r"\((\d{4})\)\s*$")[0],
                             errors="coerce").reset_index(drop=True)
    raise ValueError(f"dataset.items has neither a {year_column!r} column nor titles ending in '(Year)' "
                     f"(columns: {list(items.columns)}); pass year_column='your_year_column'.")


def _aligned(embeddings: ItemEmbeddings, dataset: Dataset, name: str) -> np.ndarray:
    if not isinstance(embeddings, ItemEmbeddings):
        raise TypeError(f"embeddings[{name!r}] must be ItemEmbeddings (from embed_items), "
                        f"got {type(embeddings).__name__}.")
    pos = pd.Index(embeddings.item_ids).get_indexer(dataset.item_ids)
    if (pos < 0).any():
        missing = dataset.item_ids[pos < 0][:3].tolist()
        raise ValueError(f"embeddings[{name!r}] lacks {int((pos < 0).sum())} item(s) of the dataset (e.g. {missing}); "
                         "embed this dataset's items: embed_items(dataset, ...).")
    return embeddings.matrix[pos]


def document_diagnostics(
    dataset: Dataset,
    embeddings: ItemEmbeddings | Mapping[str, ItemEmbeddings] | Sequence[ItemEmbeddings],
    k: int = 5,
    *,
    year_column: str = "year",
    genre_column: str = "genres",
    co_rating: bool = True,
    chunk_size: int = 1024,
) -> pd.DataFrame:
    """Does each representation's neighbourhood follow release year, genres, or co-rating?

    Parameters
    ----------
    dataset : Dataset
        Supplies release years (``year_column``, or ``"(Year)"`` at the end of titles),
        genre lists (``genre_column``) and ratings (``dataset.matrix``).
    embeddings : ItemEmbeddings, or a mapping name -> ItemEmbeddings, or a sequence of them
        Representations of this dataset's items (any order of ``item_ids``; every item of the
        dataset must be present). Unnamed ones are named by their ``model_id``.
    k : int
        Neighbours per film (the film itself excluded).
    year_column, genre_column : str
        Items columns with the release year and the genre lists.
    co_rating : bool
        Compute overlap with co-rating neighbours (one pass over the ratings matrix).
    chunk_size : int
        Items scored at a time.

    Returns
    -------
    DataFrame
        One row per representation, columns ``DIAGNOSTIC_COLUMNS``:

        - ``same_year``: share of the ``k`` neighbours released the same year as the film
          (:func:`same_value_rate`), averaged over films;
        - ``same_year_genre_base``: the same share for genre flags (multi-hot genres,
          cosine; ties broken by item row), the rate a representation that ignores the year
          gets from genres and catalogue composition alone;
        - ``year_ratio``: ``same_year / same_year_genre_base`` (1 = no more year than genres);
        - ``genre_agreement``, ``genre_jaccard``: :func:`genre_agreement`;
        - ``co_rating_overlap``: :func:`neighbor_overlap` with the co-rating neighbours
          (:func:`co_rating_neighbors` on ``dataset.matrix``); ``co_rating_chance`` is the
          overlap expected from random neighbours, ``k / (n_items - 1)``.

    Examples
    --------
    >>> table = document_diagnostics(ds, {"minilm": embed_items(ds),  # doctest: +SKIP
    ...                                   "genres": embed_items(ds, encoder=GenreEncoder())})
    """
    from .baselines import GenreEncoder

    dataset = ensure_dataset(dataset)
    k = check_k(k)
    if isinstance(embeddings, ItemEmbeddings):
        named = {embeddings.model_id: embeddings}
    elif isinstance(embeddings, Mapping):
        named = dict(embeddings)
    elif isinstance(embeddings, Sequence) and not isinstance(embeddings, str):
        named = {}
        for e in embeddings:
            name = getattr(e, "model_id", type(e).__name__)
            named[name if name not in named else f"{name} ({len(named) + 1})"] = e
    else:
        raise TypeError(f"embeddings must be ItemEmbeddings, a dict name -> ItemEmbeddings or a list of them, "
                        f"got {type(embeddings).__name__}.")
    if not named:
        raise ValueError("embeddings is empty; pass at least one ItemEmbeddings, e.g. {'minilm': embed_items(ds)}.")
    if genre_column not in dataset.items.columns:
        raise ValueError(f"genre_column={genre_column!r} is not a column of dataset.items "
                         f"(columns: {list(dataset.items.columns)}); pass genre_column='your_genre_column'.")
    years = _years(dataset, year_column)
    genres = dataset.items[genre_column].tolist()
    genre_matrix = GenreEncoder(column=genre_column).fit_transform(dataset)
    base_year = same_value_rate(nearest_neighbors(genre_matrix, k, chunk_size), years)
    reference = co_rating_neighbors(dataset.matrix, k, chunk_size) if co_rating else None
    chance = min(k, dataset.n_items - 1) / max(dataset.n_items - 1, 1)
    rows = []
    for name, emb in named.items():
        nb = nearest_neighbors(_aligned(emb, dataset, name), k, chunk_size)
        year_rate = same_value_rate(nb, years)
        share, jaccard = genre_agreement(nb, genres)
        rows.append({
            "representation": name, "model_id": emb.model_id, "k": k, "n_items": dataset.n_items,
            "same_year": year_rate, "same_year_genre_base": base_year,
            "year_ratio": year_rate / base_year if base_year > 0 else math.nan,
            "genre_agreement": share, "genre_jaccard": jaccard,
            "co_rating_overlap": neighbor_overlap(nb, reference) if reference is not None else math.nan,
            "co_rating_chance": chance if reference is not None else math.nan,
        })
        logger.info("document_diagnostics %s: same-year %.3f (genre base %.3f), genre agreement %.3f", name,
                    year_rate, base_year, share)
    return pd.DataFrame(rows, columns=list(DIAGNOSTIC_COLUMNS))


def compare_documents(
    dataset: Dataset,
    templates: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    encoder=None,
    k: int = 5,
    *,
    cache=True,
    baselines: bool = True,
    show_progress: bool = False,
    **kwargs,
) -> pd.DataFrame:
    """Embed the catalogue once per document template and diagnose each (:func:`document_diagnostics`).

    Parameters
    ----------
    dataset : Dataset
    templates : names of :data:`DOCUMENT_TEMPLATES`, or a mapping name -> fields, optional
        Default: every template of :data:`DOCUMENT_TEMPLATES`.
    encoder : TextEncoder, optional
        Default ``TextEncoder()`` (MiniLM); loaded once and reused for every template.
    k : int
    cache : EmbeddingCache, True, False or None
        Passed to :func:`embed_items`.
    baselines : bool
        Add TF-IDF on each template's documents and genre flags (rows
        ``"tf-idf: <template>"`` and ``"genre flags"``).
    show_progress : bool
    **kwargs
        Passed to :func:`document_diagnostics` (``year_column``, ``genre_column``, ...).

    Returns
    -------
    DataFrame
        :func:`document_diagnostics` columns plus ``template`` (the template name, empty for
        genre flags), ``kind`` (``"lm"``, ``"tf-idf"``, ``"genres"``) and ``example`` (the
        first film's document).
    """
    from .baselines import GenreEncoder, TfidfEncoder
    from .documents import DOCUMENT_TEMPLATES, build_item_documents
    from .encoder import TextEncoder
    from .items import embed_items

    dataset = ensure_dataset(dataset)
    if templates is None:
        templates = dict(DOCUMENT_TEMPLATES)
    elif isinstance(templates, Mapping):
        templates = {str(name): tuple(fields) for name, fields in templates.items()}
    else:
        names = [templates] if isinstance(templates, str) else list(templates)
        unknown = [n for n in names if n not in DOCUMENT_TEMPLATES]
        if unknown:
            raise ValueError(f"templates {unknown} are not names of DOCUMENT_TEMPLATES ({list(DOCUMENT_TEMPLATES)}); "
                             "pass names from it or a dict name -> fields, e.g. {'mine': ('title', 'genres')}.")
        templates = {n: DOCUMENT_TEMPLATES[n] for n in names}
    if not templates:
        raise ValueError("templates is empty; pass at least one, e.g. templates=['genres_title'].")
    if encoder is None:
        encoder = TextEncoder(show_progress=show_progress)
    named, meta = {}, {}
    for name, fields in templates.items():
        docs = build_item_documents(dataset, fields=fields)
        named[name] = embed_items(dataset, encoder=encoder, cache=cache, documents=docs, show_progress=show_progress)
        meta[name] = (name, "lm", docs[0] if docs else "")
        if baselines:
            label = f"tf-idf: {name}"
            named[label] = embed_items(dataset, encoder=TfidfEncoder(), documents=docs)
            meta[label] = (name, "tf-idf", docs[0] if docs else "")
    if baselines:
        named["genre flags"] = embed_items(dataset, encoder=GenreEncoder(column=kwargs.get("genre_column", "genres")))
        meta["genre flags"] = ("", "genres", "")
    table = document_diagnostics(dataset, named, k, **kwargs)
    table.insert(1, "template", [meta[n][0] for n in table["representation"]])
    table.insert(2, "kind", [meta[n][1] for n in table["representation"]])
    table["example"] = [meta[n][2] for n in table["representation"]]
    return table


def choose_document(table: pd.DataFrame, max_year_ratio: float = 2.0, min_genre_agreement: float = 0.80) -> str | None:
    """The template to use, by measurement: among language-model rows whose same-year rate is at
    most ``max_year_ratio`` times the genre-flag rate and whose genre agreement is at least
    ``min_genre_agreement``, the one with the highest co-rating overlap (ties: higher genre
    agreement, then table order). ``None`` when no row meets both targets.

    Parameters
    ----------
    table : DataFrame
        From :func:`compare_documents` (rows of ``kind == "lm"`` are candidates; a table
        without ``kind`` treats every row as a candidate).
    max_year_ratio, min_genre_agreement : float
    """
    from ..exceptions import check_frame

    check_frame(table, ["year_ratio", "genre_agreement", "co_rating_overlap"], "table",
                "Build it with compare_documents(dataset).")
    rows = table[table["kind"] == "lm"] if "kind" in table.columns else table
    ok = rows[(rows["year_ratio"] <= max_year_ratio) & (rows["genre_agreement"] >= min_genre_agreement)]
    if ok.empty:
        return None
    best = ok.assign(_order=np.arange(len(ok))).sort_values(
        ["co_rating_overlap", "genre_agreement", "_order"], ascending=[False, False, True], kind="stable").iloc[0]
    name_col = "template" if "template" in ok.columns else "representation"
    return str(best[name_col])


def document_sentences(table: pd.DataFrame, max_year_ratio: float = 2.0, min_genre_agreement: float = 0.80,
                       default: str | None = None) -> list[str]:
    """Findings of a :func:`compare_documents` table, in words (every number from the table).

    One sentence per language-model template, then which templates meet both targets
    (same-year rate <= ``max_year_ratio`` x genre flags, genre agreement >=
    ``min_genre_agreement``) and which one :func:`choose_document` picks, and whether that
    is ``default`` (the name of the package's default template, if given).
    """
    from ..exceptions import check_frame

    check_frame(table, ["representation", "same_year", "same_year_genre_base", "year_ratio", "genre_agreement",
                        "co_rating_overlap", "k"], "table", "Build it with compare_documents(dataset).")
    lm = table[table["kind"] == "lm"] if "kind" in table.columns else table
    name_col = "template" if "template" in table.columns else "representation"
    out = []
    for _, r in lm.iterrows():
        out.append(f"'{r[name_col]}': {r['same_year']:.1%} of each film's {int(r['k'])} nearest neighbours share its "
                   f"release year ({r['year_ratio']:.1f}x the genre-flag rate of {r['same_year_genre_base']:.1%}); "
                   f"{r['genre_agreement']:.0%} share at least one genre with it; overlap with its co-rating "
                   f"neighbours {r['co_rating_overlap']:.3f}.")
    ok = lm[(lm["year_ratio"] <= max_year_ratio) & (lm["genre_agreement"] >= min_genre_agreement)]
    targets = f"same-year rate at most {max_year_ratio:g}x that of genre flags and genre agreement at least " \
              f"{min_genre_agreement:.2f}"
    chosen = choose_document(table, max_year_ratio, min_genre_agreement)
    if chosen is None:
        out.append(f"No template meets both targets ({targets}).")
        return out
    names = ", ".join(f"'{n}'" for n in ok[name_col])
    out.append(f"{len(ok)} of {len(lm)} templates meet both targets ({targets}): {names}; of these '{chosen}' has the "
               f"highest overlap with co-rating neighbours, so it is the one to use.")
    best_overlap = float(ok.loc[ok[name_col] == chosen, "co_rating_overlap"].iloc[0])
    for _, r in lm[~lm.index.isin(ok.index)].iterrows():
        if r["co_rating_overlap"] > best_overlap:
            year_note = (" Its neighbours follow the release year, which carries the popularity era: a model can take "
                         "the year as a separate numeric feature instead." if r["year_ratio"] > max_year_ratio else "")
            out.append(f"'{r[name_col]}' overlaps more with co-rating neighbours ({r['co_rating_overlap']:.3f}) but "
                       f"fails the targets (same-year rate {r['year_ratio']:.1f}x that of genre flags, genre "
                       f"agreement {r['genre_agreement']:.2f}).{year_note}")
    if default is not None:
        out.append("It is the package default." if chosen == default else
                   f"The package default is '{default}', not the measured choice.")
    return out
