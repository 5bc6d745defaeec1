"""The :class:`Dataset`: ratings, vocabularies, a users x items CSR and aligned tables."""

from __future__ import annotations

import logging
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import ITEM_COL, RATING_COL, TIMESTAMP_COL, USER_COL
from .vocab import Vocabulary

logger = logging.getLogger(__name__)

_DUPLICATE_POLICIES = ("raise", "last", "first", "mean")


def _validate_ratings(ratings: pd.DataFrame, duplicates: str) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(f"ratings must be a pandas DataFrame, got {type(ratings).__name__}.")
    if len(ratings) == 0:
        raise ValueError("ratings is empty: a Dataset needs at least one (user_id, item_id, rating) row.")
    missing = [c for c in (USER_COL, ITEM_COL, RATING_COL) if c not in ratings.columns]
    if missing:
        hint = " For implicit feedback add a constant column: ratings['rating'] = 1.0." if missing == [RATING_COL] else ""
        raise ValueError(
            f"ratings is missing required column(s) {missing}; it has {list(ratings.columns)}. "
            f"Rename your columns to {USER_COL!r}, {ITEM_COL!r}, {RATING_COL!r}.{hint}"
        )
    for col in (USER_COL, ITEM_COL):
        if ratings[col].isna().any():
            bad = int(ratings[col].isna().sum())
            raise ValueError(f"ratings[{col!r}] has {bad} missing value(s); drop or fill those rows first.")
    rating = ratings[RATING_COL]
    if not pd.api.types.is_numeric_dtype(rating) or pd.api.types.is_bool_dtype(rating):
        converted = pd.to_numeric(rating, errors="coerce")
        bad = rating[converted.isna() & rating.notna()]
        raise ValueError(
            f"ratings[{RATING_COL!r}] must be numeric, got dtype {rating.dtype} with values such as "
            f"{bad.head(3).tolist()}; convert it with pd.to_numeric first."
        )
    if rating.isna().any() or not np.isfinite(rating.to_numpy(dtype=float)).all():
        bad = int((~np.isfinite(rating.to_numpy(dtype=float))).sum())
        raise ValueError(f"ratings[{RATING_COL!r}] has {bad} NaN or infinite value(s); drop or fill them first.")
    too_big = np.abs(rating.to_numpy(dtype=float)) > _FLOAT32_MAX
    if too_big.any():
        raise ValueError(
            f"ratings[{RATING_COL!r}] has {int(too_big.sum())} value(s) beyond the float32 range (|r| <= "
            f"{_FLOAT32_MAX:.3g}) in which ratings are stored, e.g. {rating[too_big].head(3).tolist()}; they would "
            "become inf. Rescale them first, e.g. ratings['rating'] = np.log1p(ratings['rating'])."
        )
    for col in (USER_COL, ITEM_COL):
        _check_id_types(ratings[col], f"ratings[{col!r}]")
    if TIMESTAMP_COL in ratings.columns and ratings[TIMESTAMP_COL].isna().any():
        raise ValueError(f"ratings[{TIMESTAMP_COL!r}] has missing values; drop the column or fill them.")

    if duplicates not in _DUPLICATE_POLICIES:
        raise ValueError(f"duplicates={duplicates!r} is not one of {_DUPLICATE_POLICIES}.")
    dup_mask = ratings.duplicated([USER_COL, ITEM_COL], keep=False)
    if dup_mask.any():
        if duplicates == "raise":
            example = ratings.loc[dup_mask, [USER_COL, ITEM_COL]].head(3).to_dict("records")
            raise ValueError(
                f"ratings has {int(dup_mask.sum())} rows with a repeated (user_id, item_id) pair, e.g. {example}. "
                "Pass duplicates='last', 'first' or 'mean' to resolve them explicitly."
            )
        if duplicates in ("last", "first"):
            ratings = ratings.drop_duplicates([USER_COL, ITEM_COL], keep=duplicates)
        else:  # mean of ratings, latest timestamp
            agg = {RATING_COL: "mean"}
            if TIMESTAMP_COL in ratings.columns:
                agg[TIMESTAMP_COL] = "max"
            first = ratings.drop_duplicates([USER_COL, ITEM_COL], keep="first")
            means = ratings.groupby([USER_COL, ITEM_COL], sort=False).agg(agg).reset_index()
            ratings = first.drop(columns=list(agg)).merge(means, on=[USER_COL, ITEM_COL], how="left")
        logger.info("resolved %d duplicated rating rows with duplicates=%r", int(dup_mask.sum()), duplicates)
    return ratings

_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Numeric timestamps whose largest magnitude reaches these bounds are read as milli-, micro-
#: or nanoseconds since the epoch (in seconds, 1e11 is the year 5138; in milliseconds it is
#: March 1973, so real data in seconds never reaches it and real data in ms always does).
_EPOCH_UNITS = ((1e17, 1_000_000_000, "nanoseconds"), (1e14, 1_000_000, "microseconds"),
                (1e11, 1_000, "milliseconds"))


def _id_kind(values: pd.Series) -> str:
    """``"int"``, ``"float"``, ``"str"``, ``"bool"`` or ``"mixed"`` (several Python types)."""
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        return "float"
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return {"integer": "int", "floating": "float", "mixed-integer-float": "float", "string": "str",
            "empty": "int", "boolean": "bool"}.get(kind, "mixed")


def _check_id_types(values: pd.Series, param: str) -> str:
    """Refuse ids of several types (``1`` and ``"1"``), which cannot be sorted or matched."""
    kind = _id_kind(values)
    if kind == "mixed":
        types = values.dropna().map(lambda v: type(v).__name__)
        examples = {t: values.dropna()[types == t].head(2).tolist() for t in sorted(types.unique())}
        raise TypeError(
            f"{param} mixes value types {examples}; ids must all be of one type so that they can be sorted and "
            f"matched. Convert them first, e.g. ratings['item_id'] = ratings['item_id'].astype(str) (or "
            "pd.to_numeric(...) if they are all numbers)."
        )
    return kind


def _normalise_timestamps(ratings: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as seconds since 1970-01-01 UTC (int64, float64 when sub-second).

    ``datetime64`` columns (naive ones are read as UTC; time-zone aware ones are converted)
    become epoch seconds. Numbers are taken as epoch seconds unless their magnitude shows
    milli-, micro- or nanoseconds (see ``_EPOCH_UNITS``): those are divided down, with a
    warning. Text, booleans and infinite values are refused.
    """
    if TIMESTAMP_COL not in ratings.columns:
        return ratings
    ts = ratings[TIMESTAMP_COL]
    param = f"ratings[{TIMESTAMP_COL!r}]"
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(ts):
        seconds = (ts - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
        logger.info("%s: datetime64 values converted to seconds since 1970-01-01 (UTC)", param)
        return ratings.assign(**{TIMESTAMP_COL: _as_int_if_whole(seconds.to_numpy(np.float64))})
    if (pd.api.types.is_bool_dtype(ts) or not pd.api.types.is_numeric_dtype(ts)
            or pd.api.types.is_timedelta64_dtype(ts)):
        raise TypeError(
            f"{param} must hold seconds since 1970 (numbers) or datetime64 values, got dtype {ts.dtype} with "
            f"values such as {ts.head(3).tolist()}; convert it first, e.g. ratings['timestamp'] = "
            "pd.to_datetime(ratings['timestamp'])."
        )
    values = ts.to_numpy(np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{param} has {int((~np.isfinite(values)).sum())} infinite value(s); timestamps must be "
                         "finite seconds since 1970, e.g. 978300760.")
    largest = float(np.abs(values).max()) if len(values) else 0.0
    for bound, factor, unit in _EPOCH_UNITS:
        if largest >= bound:
            import warnings

            seconds = ts.to_numpy() / factor if pd.api.types.is_integer_dtype(ts) else values / factor
            warnings.warn(
                f"{param} looks like {unit} since 1970 (largest value {largest:.6g} would be beyond the year 5000 "
                f"in seconds); it was divided by {factor:,} to give seconds "
                f"({pd.to_datetime(float(np.min(seconds)), unit='s').date()} to "
                f"{pd.to_datetime(float(np.max(seconds)), unit='s').date()}). Pass seconds to silence this.",
                UserWarning, stacklevel=4)
            return ratings.assign(**{TIMESTAMP_COL: _as_int_if_whole(np.asarray(seconds, dtype=np.float64))})
    return ratings


def _as_int_if_whole(seconds: np.ndarray) -> np.ndarray:
    whole = np.round(seconds)
    if np.array_equal(whole, seconds) and (np.abs(whole) < 2 ** 53).all():
        return whole.astype(np.int64)
    return seconds


def _match_key_type(table: pd.DataFrame | None, ratings_ids: pd.Series, key: str, name: str) -> pd.DataFrame | None:
    """Give a side table's key the type of the rating ids when that is safe ("10" <-> 10), else raise."""
    if table is None or not isinstance(table, pd.DataFrame) or key not in table.columns or len(table) == 0:
        return table
    table_kind = _check_id_types(table[key].dropna(), f"{name}[{key!r}]")
    ids_kind = _id_kind(ratings_ids)
    numeric = ("int", "float")
    if table_kind == "str" and ids_kind in numeric:
        text = table[key].astype(str).str.strip()
        as_int = text.where(text.str.fullmatch(r"[+-]?\d+"))
        if as_int.notna().all():
            logger.info("%s[%r] holds integers written as text; converted to numbers to match ratings", name, key)
            return table.assign(**{key: pd.to_numeric(as_int).astype(np.int64)})
        raise TypeError(
            f"{name}[{key!r}] holds text (e.g. {table.loc[as_int.isna(), key].head(3).tolist()}) but "
            f"ratings[{key!r}] holds numbers (e.g. {ratings_ids.head(3).tolist()}), so no row of {name} could "
            f"match a rating. Use the same ids in both, e.g. {name}[{key!r}] = pd.to_numeric({name}[{key!r}]) "
            f"or ratings[{key!r}] = ratings[{key!r}].astype(str)."
        )
    if table_kind in numeric and ids_kind == "str":
        values = table[key].to_numpy(np.float64)
        if np.array_equal(values, np.round(values)):
            logger.info("%s[%r] holds numbers but the rating ids are text; converted to text to match", name, key)
            return table.assign(**{key: table[key].astype(np.int64).astype(str)})
        raise TypeError(
            f"{name}[{key!r}] holds numbers (e.g. {table[key].head(3).tolist()}) but ratings[{key!r}] holds text "
            f"(e.g. {ratings_ids.head(3).tolist()}); use the same ids in both, e.g. "
            f"{name}[{key!r}] = {name}[{key!r}].astype(str)."
        )
    return table


def _warn_missing_rows(table: pd.DataFrame | None, aligned: pd.DataFrame, rated_ids: np.ndarray, key: str,
                       name: str, what: str) -> None:
    """Warn when rated ids have no row in the side table (their columns would be NaN)."""
    if table is None or not isinstance(table, pd.DataFrame) or key not in table.columns:
        return
    missing = pd.Index(rated_ids).difference(pd.Index(table[key]))
    if len(missing):
        import warnings

        warnings.warn(
            f"{len(missing)} of {len(rated_ids)} rated {what}(s) have no row in {name}, e.g. "
            f"{missing[:5].tolist()}; their {name} columns ({', '.join(map(str, list(aligned.columns[1:4])))}"
            f"{', ...' if len(aligned.columns) > 4 else ''}) are NaN. Add rows for them to {name}, or check "
            f"that {name}[{key!r}] uses the same ids as ratings[{key!r}].",
            UserWarning, stacklevel=3)


def _align_table(table: pd.DataFrame | None, vocab: Vocabulary, key: str, name: str) -> pd.DataFrame:
    """Return ``table`` with one row per vocabulary id, in row order."""
    if table is None:
        return pd.DataFrame({key: vocab.ids})
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame or None, got {type(table).__name__}.")
    if key not in table.columns:
        raise ValueError(f"{name} is missing required column {key!r}; it has {list(table.columns)}.")
    if table[key].duplicated().any():
        dup = table.loc[table[key].duplicated(), key].head(5).tolist()
        raise ValueError(f"{name}[{key!r}] has duplicated ids, e.g. {dup}; each id must appear once.")
    aligned = table.set_index(key).reindex(vocab.index)
    aligned.index.name = key
    return aligned.reset_index()


class Dataset:
    """Ratings with shared user/item vocabularies, a CSR matrix and aligned tables.

    Build one with :meth:`from_frames` or :func:`filmrec_toolkit.load_movielens`.

    Attributes
    ----------
    ratings : DataFrame
        ``user_id, item_id, rating[, timestamp]`` in the input order.
    items, users : DataFrame
        One row per vocabulary entry, in row order (row ``i`` of ``items`` is item row ``i``).
    user_vocab, item_vocab : Vocabulary
        The id <-> row mappings shared by every matrix derived from this dataset.
    matrix : scipy.sparse.csr_matrix
        ``n_users x n_items`` float32 ratings.
    """

    def __init__(self, ratings: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame,
                 user_vocab: Vocabulary, item_vocab: Vocabulary, name: str | None = None) -> None:
        self.ratings = ratings.reset_index(drop=True)
        self.items = items
        self.users = users
        self.user_vocab = user_vocab
        self.item_vocab = item_vocab
        self.name = name or "dataset"
        self.user_rows = user_vocab.to_rows(self.ratings[USER_COL].to_numpy(), param="ratings.user_id")
        self.item_rows = item_vocab.to_rows(self.ratings[ITEM_COL].to_numpy(), param="ratings.item_id")
        self._matrix: sp.csr_matrix | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frames(
        cls,
        ratings: pd.DataFrame,
        items: pd.DataFrame | None = None,
        users: pd.DataFrame | None = None,
        *,
        duplicates: Literal["raise", "last", "first", "mean"] = "raise",
        keep_unrated_items: bool = False,
        keep_unrated_users: bool = False,
        name: str | None = None,
    ) -> "Dataset":
        """Build a Dataset from a user's own frames.

        Parameters
        ----------
        ratings : DataFrame
            Columns ``user_id``, ``item_id``, ``rating`` and optionally ``timestamp``. Ids must be
            of one type per column (all numbers or all text). Ratings must fit float32.
            ``timestamp`` is stored as seconds since 1970-01-01 UTC: ``datetime64`` values are
            converted (naive ones read as UTC); numbers whose magnitude shows milli-, micro- or
            nanoseconds (largest value >= 1e11, 1e14, 1e17) are divided down to seconds with a
            warning; text is refused (convert it with ``pd.to_datetime``).
        items, users : DataFrame, optional
            Side tables keyed by ``item_id`` / ``user_id`` (titles, genres, demographics). A key
            holding integers written as text ("10") is matched to integer ids (and integer keys
            to text ids); keys that cannot match raise. Rated ids without a row in the table
            trigger a warning with their count and examples.
        duplicates : {"raise", "last", "first", "mean"}
            What to do with repeated (user, item) rows. The default refuses them.
        keep_unrated_items, keep_unrated_users : bool
            Keep ids that appear only in the side tables (e.g. a new film with text but no ratings).
        name : str, optional
            Label shown by :meth:`summary`.
        """
        ratings = _validate_ratings(ratings, duplicates)
        ratings = _normalise_timestamps(ratings.copy())
        ratings[RATING_COL] = ratings[RATING_COL].astype(np.float32)
        items = _match_key_type(items, ratings[ITEM_COL], ITEM_COL, "items")
        users = _match_key_type(users, ratings[USER_COL], USER_COL, "users")
        rated_users = pd.unique(ratings[USER_COL])
        rated_items = pd.unique(ratings[ITEM_COL])
        user_ids, item_ids = rated_users, rated_items
        if keep_unrated_users and users is not None and USER_COL in users.columns:
            user_ids = pd.unique(np.concatenate([np.asarray(user_ids), users[USER_COL].to_numpy()]))
        if keep_unrated_items and items is not None and ITEM_COL in items.columns:
            item_ids = pd.unique(np.concatenate([np.asarray(item_ids), items[ITEM_COL].to_numpy()]))
        user_vocab = Vocabulary(np.sort(np.asarray(user_ids)), name=USER_COL)
        item_vocab = Vocabulary(np.sort(np.asarray(item_ids)), name=ITEM_COL)
        item_table = _align_table(items, item_vocab, ITEM_COL, "items")
        user_table = _align_table(users, user_vocab, USER_COL, "users")
        _warn_missing_rows(items, item_table, np.asarray(rated_items), ITEM_COL, "items", "item")
        _warn_missing_rows(users, user_table, np.asarray(rated_users), USER_COL, "users", "user")
        return cls(ratings, item_table, user_table, user_vocab, item_vocab, name=name)

    def _with_ratings(self, ratings: pd.DataFrame, name: str | None = None) -> "Dataset":
        """A dataset with other ratings but the same vocabularies and tables."""
        return Dataset(ratings, self.items, self.users, self.user_vocab, self.item_vocab, name=name or self.name)

    def subset(self, mask: np.ndarray, name: str | None = None) -> "Dataset":
        """Keep the rating rows where ``mask`` is true; vocabularies are shared."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self.ratings),):
            raise ValueError(f"mask must have shape ({len(self.ratings)},), got {mask.shape}.")
        return self._with_ratings(self.ratings.loc[mask], name=name)

    @staticmethod
    def concat(datasets: Sequence["Dataset"], name: str | None = None) -> "Dataset":
        """Union of datasets that share vocabularies (e.g. train + valid for a refit)."""
        if not datasets:
            raise ValueError("datasets is empty; pass at least one Dataset.")
        first = datasets[0]
        for other in datasets[1:]:
            if other.user_vocab != first.user_vocab or other.item_vocab != first.item_vocab:
                raise ValueError("Dataset.concat needs datasets that share vocabularies (splits of one dataset).")
        ratings = pd.concat([d.ratings for d in datasets], ignore_index=True)
        if ratings.duplicated([USER_COL, ITEM_COL]).any():
            raise ValueError("Dataset.concat: the datasets overlap (a (user_id, item_id) pair is in more than one).")
        return first._with_ratings(ratings, name=name)

    # ------------------------------------------------------------ properties
    @property
    def n_users(self) -> int:
        return len(self.user_vocab)

    @property
    def n_items(self) -> int:
        return len(self.item_vocab)

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)

    @property
    def user_ids(self) -> np.ndarray:
        return self.user_vocab.ids

    @property
    def item_ids(self) -> np.ndarray:
        return self.item_vocab.ids

    @property
    def has_timestamps(self) -> bool:
        return TIMESTAMP_COL in self.ratings.columns

    @property
    def matrix(self) -> sp.csr_matrix:
        """Users x items CSR of ratings (float32), built once."""
        if self._matrix is None:
            m = sp.csr_matrix(
                (self.ratings[RATING_COL].to_numpy(np.float32), (self.user_rows, self.item_rows)),
                shape=(self.n_users, self.n_items),
                dtype=np.float32,
            )
            m.sort_indices()
            self._matrix = m
        return self._matrix

    def timestamp_matrix(self) -> sp.csr_matrix:
        """Users x items CSR of timestamps (float64), same sparsity as :attr:`matrix`."""
        if not self.has_timestamps:
            raise ValueError("this dataset has no 'timestamp' column.")
        m = sp.csr_matrix(
            (self.ratings[TIMESTAMP_COL].to_numpy(np.float64), (self.user_rows, self.item_rows)),
            shape=(self.n_users, self.n_items),
        )
        m.sort_indices()
        return m

    def genre_matrix(self, weighting: Literal["binary", "share"] = "binary", column: str = "genres", *,
                     genres: Sequence[str] | None = None,
                     order: Literal["sorted", "canonical"] = "sorted") -> tuple[np.ndarray, list[str]]:
        """Items x genres matrix of ``items[column]``, rows in item-vocabulary order.

        Each cell is read by :func:`~filmrec_toolkit.parse_genres` (a list of names, an
        ``"A|B"`` string, or missing = no genre). The one genre matrix of the package:
        diversity metrics, calibration, segment genre lift and the genre encoder use it.

        Parameters
        ----------
        weighting : {"binary", "share"}
            ``"binary"``: multi-hot, 1 on each of the item's genres. ``"share"``: an item's
            ``m`` distinct genres get ``1 / m`` each (``p(g | i)``, Steck 2018, sec. 2).
            An item without genres has an all-zero row.
        column : str
            The items column holding the genres.
        genres : sequence of str, optional
            Fixed columns in this order (other names are ignored); default every name present.
        order : {"sorted", "canonical"}
            Column order when ``genres`` is None: sorted names, or the MovieLens genres in
            canonical order then the others sorted.

        Returns
        -------
        matrix : ndarray of shape (n_items, n_genres), float64
        names : list of str

        Raises
        ------
        ValueError
            ``column`` is not a column of ``items``.
        """
        from .cells import genres_to_matrix

        if column not in self.items.columns:
            raise ValueError(
                f"column == {column!r} is not a column of dataset.items (columns: {list(self.items.columns)}); "
                f"pass the items column that holds the genres, e.g. genre_matrix(column='genres'), or add one "
                f"list of genres per film to the items table given to Dataset.from_frames."
            )
        return genres_to_matrix(self.items[column], weighting=weighting, genres=genres, order=order)

    def item_counts(self) -> np.ndarray:
        """Number of ratings per item row."""
        return np.bincount(self.item_rows, minlength=self.n_items)

    def user_counts(self) -> np.ndarray:
        """Number of ratings per user row."""
        return np.bincount(self.user_rows, minlength=self.n_users)

    def user_history(self, user_id) -> pd.DataFrame:
        """One user's ratings joined to the item table, most recent first when timestamped."""
        self.user_vocab.to_rows(user_id, param="user_id")
        hist = self.ratings.loc[self.ratings[USER_COL] == user_id]
        cols = [c for c in ("title", "year", "genres") if c in self.items.columns]
        hist = hist.merge(self.items[[ITEM_COL, *cols]], on=ITEM_COL, how="left")
        if self.has_timestamps:
            hist = hist.sort_values(TIMESTAMP_COL, ascending=False, kind="mergesort")
        return hist.reset_index(drop=True)

    # ------------------------------------------------------------ transforms
    def filter(self, min_rating: float | None = None, min_user_ratings: int | None = None,
               min_item_ratings: int | None = None, max_iter: int = 100) -> "Dataset":
        """Drop low ratings, then repeat user/item count filters until stable (k-core).

        The result has new vocabularies (only surviving users and items), since a
        filtered dataset is a new dataset, not a split of this one.
        """
        r = self.ratings
        if min_rating is not None:
            r = r.loc[r[RATING_COL] >= min_rating]
        for _ in range(max_iter):
            before = len(r)
            if min_user_ratings:
                counts = r[USER_COL].map(r[USER_COL].value_counts())
                r = r.loc[counts >= min_user_ratings]
            if min_item_ratings:
                counts = r[ITEM_COL].map(r[ITEM_COL].value_counts())
                r = r.loc[counts >= min_item_ratings]
            if len(r) == before:
                break
        if len(r) == 0:
            raise ValueError(
                f"filter(min_rating={min_rating}, min_user_ratings={min_user_ratings}, "
                f"min_item_ratings={min_item_ratings}) removed every rating; relax the thresholds."
            )
        users = self.users.loc[self.users[USER_COL].isin(r[USER_COL])]
        items = self.items.loc[self.items[ITEM_COL].isin(r[ITEM_COL])]
        return Dataset.from_frames(r, items, users, name=self.name)

    def to_implicit(self, threshold: float = 1.0) -> "Dataset":
        """Keep ratings >= ``threshold`` as positives with value 1.0 (vocabularies kept)."""
        r = self.ratings.loc[self.ratings[RATING_COL] >= threshold].copy()
        if len(r) == 0:
            raise ValueError(f"to_implicit(threshold={threshold}) leaves no rating; the maximum is "
                             f"{self.ratings[RATING_COL].max()}.")
        r[RATING_COL] = np.float32(1.0)
        return self._with_ratings(r)

    # ---------------------------------------------------------------- report
    def summary(self) -> pd.Series:
        """Counts and ranges as a Series (prints as a small table)."""
        rating = self.ratings[RATING_COL]
        rated_users = int((self.user_counts() > 0).sum())
        rated_items = int((self.item_counts() > 0).sum())
        out = {
            "n_ratings": self.n_ratings,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_rated_users": rated_users,
            "n_rated_items": rated_items,
            "density": self.n_ratings / max(1, self.n_users * self.n_items),
            "rating_min": float(rating.min()),
            "rating_max": float(rating.max()),
            "rating_mean": round(float(rating.mean()), 4),
        }
        if "gender" in self.users.columns:
            counts = self.users["gender"].value_counts()
            out["n_male_users"] = int(counts.get("M", 0))
            out["n_female_users"] = int(counts.get("F", 0))
        if self.has_timestamps:
            ts = pd.to_datetime(self.ratings[TIMESTAMP_COL], unit="s")
            out["first_rating"] = str(ts.min().date())
            out["last_rating"] = str(ts.max().date())
        return pd.Series(out, name=self.name, dtype=object)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {self.n_ratings:,} ratings, {self.n_users:,} users, "
                f"{self.n_items:,} items)")

    def __len__(self) -> int:
        return self.n_ratings


def ensure_dataset(obj, param: str = "dataset") -> Dataset:
    """Raise a clear TypeError unless ``obj`` is a :class:`Dataset`."""
    if not isinstance(obj, Dataset):
        raise TypeError(f"{param} must be a filmrec_toolkit Dataset, got {type(obj).__name__}. "
                        "Build one with Dataset.from_frames(ratings, items, users).")
    return obj


def iter_user_slices(matrix: sp.csr_matrix, rows: Iterable[int]):
    """Yield ``(row, item_rows, values)`` for each user row of a CSR matrix."""
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    for r in rows:
        s, e = indptr[r], indptr[r + 1]
        yield r, indices[s:e], data[s:e]
