"""Non-neural baselines with the encoder interface: TF-IDF on the item documents, genre multi-hot.

Both plug into ``embed_items(dataset, encoder=...)`` so any comparison can swap LM
embeddings for them in one argument.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._params import ParamsMixin
from ..datasets.cells import genres_to_matrix
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_fitted
from .embeddings import ItemEmbeddings, l2_normalize


class TfidfEncoder(ParamsMixin):
    """TF-IDF vectors of texts (scikit-learn ``TfidfVectorizer``), densified, L2-normalised float32.

    Parameters
    ----------
    max_features : int
        Vocabulary cap (most frequent terms), which bounds the dense matrix at
        ``n_items x max_features`` float32.
    min_df : int or float
        Terms in fewer documents are dropped (a term in one document adds no similarity).
    ngram_range : tuple of int
    sublinear_tf : bool
        ``1 + log(tf)`` instead of raw counts.
    stop_words : str or list or None
        Passed to ``TfidfVectorizer`` (default English stop words).

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
    vocabulary_size_ : int
    """

    model_id = "tfidf"

    def __init__(self, max_features: int = 4096, min_df: int | float = 2, ngram_range: tuple[int, int] = (1, 1),
                 sublinear_tf: bool = True, stop_words: str | list | None = "english") -> None:
        self.max_features = max_features
        self.min_df = min_df
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.stop_words = stop_words

    def fit(self, texts: Sequence[str], y=None) -> "TfidfEncoder":
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        min_df = self.min_df if len(texts) >= 2 * (self.min_df if isinstance(self.min_df, int) else 1) else 1
        self.vectorizer_ = TfidfVectorizer(max_features=self.max_features, min_df=min_df,
                                           ngram_range=tuple(self.ngram_range), sublinear_tf=self.sublinear_tf,
                                           stop_words=self.stop_words, dtype=np.float32)
        self.vectorizer_.fit(texts)
        self.vocabulary_size_ = len(self.vectorizer_.vocabulary_)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        check_fitted(self, "vectorizer_")
        return l2_normalize(self.vectorizer_.transform(list(texts)).toarray())

    def fit_transform(self, texts: Sequence[str], y=None) -> np.ndarray:
        return self.fit(texts).transform(texts)

    def embed_dataset(self, dataset: Dataset, documents: Sequence[str]) -> ItemEmbeddings:
        """Fit on the catalogue's documents and return them as :class:`ItemEmbeddings`."""
        matrix = self.fit_transform(documents)
        return ItemEmbeddings(matrix, dataset.item_ids, self.model_id,
                              meta={"max_features": self.max_features, "min_df": self.min_df,
                                    "vocabulary_size": self.vocabulary_size_})


class GenreEncoder(ParamsMixin):
    """Genre multi-hot vectors, L2-normalised (an item with no genre gets a zero row).

    Genre cells are read by :func:`~filmrec_toolkit.parse_genres` with canonical MovieLens
    spellings (a list of names or a ``"A|B"`` string; missing = no genre), and the matrix is
    built by :func:`~filmrec_toolkit.genres_to_matrix`, as :meth:`Dataset.genre_matrix`.

    Parameters
    ----------
    column : str
        Items column holding a list of genres (or a ``"A|B"`` string).
    genres : sequence of str, optional
        Fixed genre order; default: the canonical MovieLens genres present, then any others
        (sorted).

    Attributes
    ----------
    genres_ : list of str
        One column per genre, in this order.
    """

    model_id = "genres"

    def __init__(self, column: str = "genres", genres: Sequence[str] | None = None) -> None:
        self.column = column
        self.genres = genres

    def _cells(self, X) -> list:
        if isinstance(X, Dataset):
            if self.column not in X.items.columns:
                raise ValueError(f"column == {self.column!r} is not a column of dataset.items (columns: "
                                 f"{list(X.items.columns)}); pass GenreEncoder(column='your_genre_column').")
            return X.items[self.column].tolist()
        return list(X)

    def fit(self, X, y=None) -> "GenreEncoder":
        """Learn the genre columns from a Dataset or a sequence of genre lists."""
        if self.genres is not None:
            self.genres_ = list(self.genres)
        else:
            self.genres_ = genres_to_matrix(self._cells(X), order="canonical", canonical=True)[1]
        return self

    def transform(self, X) -> np.ndarray:
        check_fitted(self, "genres_")
        matrix, _ = genres_to_matrix(self._cells(X), genres=self.genres_, canonical=True)
        return l2_normalize(matrix.astype(np.float32))

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def embed_dataset(self, dataset: Dataset, documents: Sequence[str] | None = None) -> ItemEmbeddings:
        """Multi-hot of ``dataset.items[column]`` as :class:`ItemEmbeddings` (documents are not used)."""
        dataset = ensure_dataset(dataset)
        matrix = self.fit_transform(dataset)
        return ItemEmbeddings(matrix, dataset.item_ids, self.model_id,
                              meta={"genres": list(self.genres_), "column": self.column})
