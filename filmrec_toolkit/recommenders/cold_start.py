"""Cold start: recommendations for a new user from liked films and/or a free-text wish.

A wish ("a frightening film full of monsters") is embedded with the items' encoder and,
by default, read for intent: its similarity to each catalogue genre (the genre named in a
few generic phrasings, "Horror", "a horror film", ...) picks the genres it asks for, and
the query becomes the wish plus the item-document form of those genres ("Genres:
Horror."), the form in which the default item documents state them. Genre precision@10
of wishes is measured on a checked-in query set (:func:`load_wish_queries`,
:func:`wish_genre_precision`).
"""

from __future__ import annotations

import logging
import weakref
from importlib import resources

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL
from .._topk import topk
from .._validation import check_k
from ..datasets.cells import genres_to_matrix, parse_genres
from ..datasets.titles import resolve_title
from ..exceptions import NotFittedError, check_fitted
from ..features.embeddings import l2_normalize

logger = logging.getLogger(__name__)

__all__ = ["load_wish_queries", "recommend_for_profile", "resolve_items", "wish_genre_precision", "wish_query"]

#: Readable names of MovieLens genre labels, used when a wish is compared with the genres.
GENRE_NAMES = {"Sci-Fi": "science fiction", "Film-Noir": "film noir", "Children's": "children's"}

#: Generic phrasings of a genre name; a genre's label vector is the mean of their embeddings.
GENRE_LABEL_TEMPLATES = ("{name}", "a {name} film", "a {name} movie", "Genres: {name}.")

#: Item-document form of a genre (the way the default documents state genres).
GENRE_DOCUMENT_TEMPLATE = "Genres: {genre}."

#: Defaults of :func:`wish_query`, chosen on the validation phrasings of the wish query set
#: (benchmarks/bench_wishes.py); the test phrasings are only reported.
WISH_TEMPERATURE = 0.02
WISH_WEIGHT = 1.0


def resolve_items(dataset, items) -> np.ndarray:
    """Item rows for a list of item ids or titles ("Toy Story (1995)", case-insensitive).

    Each entry follows the package's one matching rule (:func:`filmrec_toolkit.resolve_title`):
    an id in the vocabulary wins over a title, then the exact title ignoring case, then the
    :func:`~filmrec_toolkit.normalize_title` key (a "(Year)" in the entry must agree within
    one year). An unknown entry raises :class:`~filmrec_toolkit.UnknownIdError` with close
    title matches. A title shared by several items (ml-100k lists "Body Snatchers (1993)"
    twice) stands for all of them, with a ``UserWarning`` naming their ids, so that liking
    the film excludes every copy of it.
    """
    titles = dataset.items["title"].to_numpy() if "title" in dataset.items.columns else [None] * dataset.n_items
    years = dataset.items["year"].to_numpy() if "year" in dataset.items.columns else None
    rows = [resolve_title(entry, dataset.item_ids, titles, years=years, ambiguous="all", param="liked_items")
            for entry in items]
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)


def _encode(encoder, texts: list[str]) -> np.ndarray:
    try:
        raw = encoder.transform(texts)
    except NotFittedError:
        raw = encoder.fit().transform(texts)  # an unfitted TextEncoder: load its model once
    return np.asarray(raw, dtype=np.float32).reshape(len(texts), -1)


def _catalogue_genres(items: pd.DataFrame, column: str = "genres") -> list[str]:
    """Genres of the catalogue in canonical MovieLens order (then others sorted), without "unknown"."""
    if column not in items.columns:
        return []
    return [g for g in genres_to_matrix(items[column], order="canonical")[1] if g != "unknown"]


_GENRE_VECTORS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _fitted_state(encoder) -> tuple:
    """Identity of an encoder's fitted attributes (``name_``): changes whenever it is refitted."""
    return tuple(sorted((k, id(v)) for k, v in vars(encoder).items() if k.endswith("_") and not k.startswith("_")))


def _genre_vectors(encoder, genres: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(label vectors, document-form vectors) of ``genres``, cached per fitted encoder."""
    try:
        store = _GENRE_VECTORS.setdefault(encoder, {})
    except TypeError:  # not weak-referenceable: no cache
        store = {}
    key = (_fitted_state(encoder) if hasattr(encoder, "__dict__") else (), genres)
    if key not in store:
        names = [GENRE_NAMES.get(g, g) for g in genres]
        texts = [t.format(name=n) for t in GENRE_LABEL_TEMPLATES for n in names]
        texts += [GENRE_DOCUMENT_TEMPLATE.format(genre=g) for g in genres]
        vectors = l2_normalize(_encode(encoder, texts))
        n = len(genres)
        labels = vectors[: n * len(GENRE_LABEL_TEMPLATES)].reshape(len(GENRE_LABEL_TEMPLATES), n, -1).mean(axis=0)
        store.clear()
        store[key] = (l2_normalize(labels), vectors[n * len(GENRE_LABEL_TEMPLATES):])
    return store[key]


def wish_query(text, encoder, genres, *, temperature: float = WISH_TEMPERATURE,
               wish_weight: float = WISH_WEIGHT) -> np.ndarray:
    """Query vector of a free-text wish, read for the genres it asks for.

    ``w`` is the wish's embedding; ``label_g`` the mean embedding of genre ``g`` named in
    :data:`GENRE_LABEL_TEMPLATES`; ``doc_g`` the embedding of ``"Genres: g."``. With
    ``p = softmax(cos(w, label_g) / temperature)`` over the genres, the query is
    ``normalize(wish_weight * w + normalize(sum_g p_g doc_g))``: the wish itself plus the
    document form of the genres it is closest to.

    Parameters
    ----------
    text : str or list of str
        The wish (or several, embedded in one batch).
    encoder : object with ``transform(list[str]) -> ndarray``
        The encoder that embedded the items. The genre vectors are computed once per
        fitted encoder and genre list.
    genres : sequence of str
        Candidate genres (e.g. those of the catalogue). Empty: the wish embedding alone.
    temperature : float
        Softmax temperature (> 0); small values pick the closest genre, large ones spread.
    wish_weight : float
        Weight (>= 0) of the wish's own embedding beside the genre part.

    Returns
    -------
    ndarray of shape (d,) for one wish, (n, d) for a list; float32, unit rows (zero rows
    stay zero).
    """
    if isinstance(temperature, bool) or not (isinstance(temperature, (int, float)) and np.isfinite(temperature)
                                             and temperature > 0):
        raise ValueError(f"temperature={temperature!r} must be a finite number > 0, e.g. temperature=0.02.")
    if isinstance(wish_weight, bool) or not (isinstance(wish_weight, (int, float)) and np.isfinite(wish_weight)
                                             and wish_weight >= 0):
        raise ValueError(f"wish_weight={wish_weight!r} must be a finite number >= 0, e.g. wish_weight=1.0.")
    single = isinstance(text, str)
    texts = [text] if single else [str(t) for t in text]
    wish = l2_normalize(_encode(encoder, texts))
    genres = tuple(genres)
    if genres:
        labels, docs = _genre_vectors(encoder, genres)
        sims = wish @ labels.T
        p = np.exp((sims - sims.max(axis=1, keepdims=True)) / temperature)
        p /= p.sum(axis=1, keepdims=True)
        wish = l2_normalize(wish_weight * wish + l2_normalize(p @ docs))
    wish = wish.astype(np.float32)
    return wish[0] if single else wish


def _rank_profile(model, rows: np.ndarray, ratings, text_vector, k: int, exclude_liked: bool) -> pd.DataFrame:
    scores = np.asarray(model._score_profile(rows, ratings, text_vector), dtype=np.float32).copy()
    if exclude_liked and len(rows):
        scores[rows] = -np.inf
    cols, vals = topk(scores[None, :], k)
    ok = np.isfinite(vals[0])
    cols = cols[0][ok]
    items = model.train_.items
    return pd.DataFrame({
        ITEM_COL: model.item_vocab_.to_ids(cols),
        "title": items["title"].to_numpy()[cols] if "title" in items.columns else model.item_vocab_.to_ids(cols),
        SCORE_COL: vals[0][ok],
        RANK_COL: np.arange(1, ok.sum() + 1),
    })


def recommend_for_profile(model, liked_items=None, text: str | None = None, k: int = 10, *, ratings=None,
                          encoder=None, exclude_liked: bool = True, intent: str | None = "genres",
                          temperature: float = WISH_TEMPERATURE, wish_weight: float = WISH_WEIGHT) -> pd.DataFrame:
    """Top-k for a new user who is not in the training data.

    Parameters
    ----------
    model : fitted Recommender
        ContentRecommender (films and/or text), EASE, ItemKNN or Popularity (films only).
    liked_items : list of item ids or titles, optional
        A title shared by several items stands for all of them (with a warning).
    text : str, optional
        A free-text wish ("a heartwarming animated film about friendship"), embedded
        with ``encoder`` — it must be the encoder that produced the item embeddings.
    k : int
    ratings : list of float, optional
        Ratings of ``liked_items`` (weights for rating-aware profiles).
    encoder : object with ``transform(list[str]) -> ndarray``
        E.g. :class:`filmrec_toolkit.TextEncoder`.
    exclude_liked : bool
        Drop the liked films from the list.
    intent : {"genres", None}
        ``"genres"`` (default): the wish is read for the catalogue genres it asks for
        (:func:`wish_query`; genres from ``model.train_.items["genres"]``). ``None``: the
        wish's embedding alone.
    temperature, wish_weight : float
        Passed to :func:`wish_query` (defaults chosen on validation wishes).

    Returns
    -------
    DataFrame ``item_id, title, score, rank``.
    """
    check_fitted(model, "train_")
    k = check_k(k)
    liked = [] if liked_items is None else (list(liked_items) if not isinstance(liked_items, str) else [liked_items])
    if text is not None and not isinstance(text, str):
        raise TypeError(f"text must be a str (a free-text wish), got {type(text).__name__}; "
                        "e.g. text='a frightening film full of monsters'.")
    if text is not None and not text.strip():
        raise ValueError(f"text={text!r} is empty or only whitespace; write a wish, e.g. "
                         "text='a frightening film full of monsters', or leave text=None and pass liked_items.")
    if intent not in ("genres", None):
        raise ValueError(f"intent={intent!r} is not one of 'genres', None; e.g. intent='genres'.")
    if not liked and not text:
        raise ValueError("recommend_for_profile needs liked_items and/or text; both are empty.")
    groups = [resolve_items(model.train_, [entry]) for entry in liked]
    rows = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    if ratings is not None:
        if len(ratings) != len(liked):
            raise ValueError(f"ratings has {len(ratings)} value(s) for {len(liked)} liked item(s); give one per item.")
        ratings = np.repeat(np.asarray(ratings, dtype=np.float32), [len(g) for g in groups])
    text_vector = None
    if text:
        if encoder is None or not hasattr(encoder, "transform"):
            raise ValueError("text: pass encoder= (an object with .transform(list_of_texts), e.g. the TextEncoder "
                             "that embedded the items) to embed the wish.")
        genres = _catalogue_genres(model.train_.items) if intent == "genres" else []
        text_vector = wish_query(text, encoder, genres, temperature=temperature, wish_weight=wish_weight)
    return _rank_profile(model, rows, ratings, text_vector, k, exclude_liked)


def load_wish_queries() -> pd.DataFrame:
    """The wish query set shipped with the package: 2 phrasings x 18 MovieLens genres.

    Each genre is described twice in plain words, without its name ("a frightening film
    full of monsters" -> Horror). ``split`` marks one phrasing per genre ``"validation"``
    (for choosing settings) and the other ``"test"`` (for reporting only).

    Returns
    -------
    DataFrame ``genre, split, query`` (36 rows).
    """
    with resources.files("filmrec_toolkit").joinpath("resources/wish_queries.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def genre_precision(recommended_genres, genre: str) -> float:
    """Share of recommended items whose genre list contains ``genre`` (0 for an empty list).

    Examples
    --------
    >>> genre_precision([["Horror"], ["Comedy", "Horror"], ["Drama"], []], "Horror")
    0.5
    """
    lists = list(recommended_genres)
    if not lists:
        return 0.0
    return float(np.mean([genre in parse_genres(g) for g in lists]))


def wish_genre_precision(model, encoder, queries: pd.DataFrame | None = None, k: int = 10, **kwargs) -> pd.DataFrame:
    """Genre precision@k of free-text wishes: does the list hold films of the genre asked for?

    For each query, the list ``recommend_for_profile(model, text=query, k=k,
    encoder=encoder, **kwargs)`` gives (the queries are embedded in one batch), and the share of its ``k`` films whose genres include the query's genre
    (:func:`genre_precision`; a list shorter than ``k`` counts its missing places as misses).

    Parameters
    ----------
    model : fitted ContentRecommender (or a hybrid with a content part)
    encoder : object with ``transform``
        The encoder of the model's item embeddings.
    queries : DataFrame with ``genre``, ``query`` (and optionally ``split``) columns
        Default :func:`load_wish_queries`.
    k : int
    **kwargs
        Passed to :func:`recommend_for_profile` (``intent``, ``temperature``, ``wish_weight``).

    Returns
    -------
    DataFrame
        The queries with ``precision`` and ``titles`` (the list) added.
    """
    from ..exceptions import check_frame

    k = check_k(k)
    queries = load_wish_queries() if queries is None else check_frame(
        queries, ["genre", "query"], "queries", "e.g. load_wish_queries().")
    check_fitted(model, "train_")
    items = model.train_.items
    if "genres" not in items.columns:
        raise ValueError("the model's training data has no 'genres' column, so genre precision cannot be measured.")
    intent = kwargs.pop("intent", "genres")
    if intent not in ("genres", None):
        raise ValueError(f"intent={intent!r} is not one of 'genres', None; e.g. intent='genres'.")
    unknown = sorted(set(kwargs) - {"temperature", "wish_weight"})
    if unknown:
        raise TypeError(f"wish_genre_precision got unexpected keyword(s) {unknown}; "
                        "it takes intent, temperature and wish_weight.")
    genre_lists = items["genres"].to_numpy()
    genres = _catalogue_genres(items) if intent == "genres" else []
    vectors = wish_query([str(q) for q in queries["query"]], encoder, genres, **kwargs)
    empty = np.zeros(0, dtype=np.int64)
    precision, titles = [], []
    for genre, vector in zip(queries["genre"], vectors):
        recs = _rank_profile(model, empty, None, vector, k, exclude_liked=False)
        rows = model.item_vocab_.to_rows(recs[ITEM_COL].to_numpy())
        precision.append(genre_precision(genre_lists[rows], genre) * len(rows) / k)
        titles.append(recs["title"].tolist())
    return queries.assign(precision=precision, titles=titles).reset_index(drop=True)
