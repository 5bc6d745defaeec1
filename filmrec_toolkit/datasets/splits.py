"""Deterministic train/test splits; every part shares the input's vocabularies.

Each function names the published protocol it reproduces (see docs/protocols.md).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .._config import TIMESTAMP_COL, USER_COL
from .dataset import Dataset, ensure_dataset


def _fractions(ratio, param: str = "ratio", example: str = "0.75 or (0.8, 0.1, 0.1)") -> np.ndarray:
    """A float ``r`` as ``(r, 1 - r)``, or a sequence of fractions > 0 summing to 1, as an array."""
    problem = None
    try:
        if isinstance(ratio, (str, bytes, bool)) or np.ndim(ratio) > 1:
            raise TypeError
        # 1 - 0.8 is 0.19999999999999996 in binary: round it so that int(0.2 * 10) stays 2
        parts = np.asarray([ratio, round(1.0 - float(ratio), 12)] if np.ndim(ratio) == 0 else list(ratio),
                           dtype=float)
        if any(isinstance(r, (str, bytes, bool)) for r in np.atleast_1d(np.asarray(ratio, dtype=object))):
            raise TypeError
    except (TypeError, ValueError):
        problem = "not a number or a sequence of numbers"
        parts = np.zeros(0)
    if problem is None and (len(parts) < 2 or not np.isfinite(parts).all() or (parts <= 0).any()
                            or not np.isclose(parts.sum(), 1.0)):
        problem = f"fractions {parts.tolist()}" if len(parts) else "empty"
    if problem is not None:
        raise ValueError(f"{param}={ratio!r} ({problem}): give a float in (0, 1) or fractions > 0 that sum to 1, "
                         f"e.g. {example}.")
    return parts


def _ratios(ratio, param: str = "ratio") -> np.ndarray:
    """Normalise a float or a sequence of fractions into cumulative thresholds."""
    return np.cumsum(_fractions(ratio, param))


def _legacy_random_state(random_state, param: str = "random_state") -> np.random.RandomState:
    """A legacy ``RandomState`` from an int, None, a ``RandomState`` or a ``Generator``.

    An int gives the exact stream of ``np.random.RandomState(seed)``; a ``Generator``
    gives a ``RandomState`` seeded by one 32-bit draw from it (reproducible from the
    Generator's state, but not the stream of any int seed).
    """
    import numbers

    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(0, 2 ** 32)))
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
                                and 0 <= random_state < 2 ** 32):
        return np.random.RandomState(random_state)
    raise TypeError(f"{param}={random_state!r} ({type(random_state).__name__}): give an int in [0, 2**32), None, "
                    "a numpy RandomState or a numpy Generator, e.g. random_state=42.")


def _parts_from_labels(ds: Dataset, labels: np.ndarray, n_parts: int, names: Sequence[str]) -> tuple[Dataset, ...]:
    return tuple(ds.subset(labels == p, name=f"{ds.name}:{names[p]}") for p in range(n_parts))


def _names(n: int) -> tuple[str, ...]:
    return ("train", "test") if n == 2 else ("train", "valid", "test")


def _labels_from_rank(rank: np.ndarray, count: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Part index per row: rank <= round(cum_0 * n) -> 0, ... (numpy half-to-even rounding)."""
    labels = np.full(len(rank), len(cum) - 1, dtype=np.int64)
    for p in range(len(cum) - 2, -1, -1):
        labels[rank <= np.round(cum[p] * count)] = p
    return labels


def random_split(ds: Dataset, ratio=0.8, random_state=42) -> tuple[Dataset, ...]:
    """Global random split of rating rows (each row independently, exact part sizes).

    Part sizes are ``round(cum_ratio * n)`` over a seeded permutation of all rows;
    users may end up with no test rating. Matches a plain random hold-out.
    """
    ds = ensure_dataset(ds)
    cum = _ratios(ratio)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(ds.n_ratings)
    rank = np.empty(ds.n_ratings, dtype=np.int64)
    rank[order] = np.arange(1, ds.n_ratings + 1)
    labels = _labels_from_rank(rank, np.full(ds.n_ratings, ds.n_ratings), cum)
    return _parts_from_labels(ds, labels, len(cum), _names(len(cum)))


def stratified_split(ds: Dataset, ratio=0.75, random_state=42) -> tuple[Dataset, ...]:
    """Per-user random split; reproduces Microsoft Recommenders' ``python_stratified_split``.

    Exactly as recommenders 1.2.x: a legacy ``RandomState(random_state)`` draws one
    uniform number per rating row in the dataset's row order (file order for
    MovieLens), rows are sorted by (user, number), and a user's row of rank ``r``
    (1-based) of ``n`` goes to train when ``r <= round(0.75 n)`` (numpy's
    half-to-even rounding), else to test. With ``random_state=42`` and ml-100k in
    ``u.data`` order this is their benchmark split. ``random_state`` may also be a
    ``RandomState`` (used as is) or a ``Generator`` (a 32-bit seed is drawn from it).
    """
    ds = ensure_dataset(ds)
    cum = _ratios(ratio)
    rand = _legacy_random_state(random_state).rand(ds.n_ratings)
    frame = pd.DataFrame({"u": ds.ratings[USER_COL].to_numpy(), "r": rand, "pos": np.arange(ds.n_ratings)})
    frame = frame.sort_values(["u", "r"])
    groups = frame.groupby("u", sort=False)
    rank = groups.cumcount().to_numpy() + 1
    count = groups["u"].transform("count").to_numpy()
    labels = np.empty(ds.n_ratings, dtype=np.int64)
    labels[frame["pos"].to_numpy()] = _labels_from_rank(rank, count, cum)
    return _parts_from_labels(ds, labels, len(cum), _names(len(cum)))


def _temporal_order(ds: Dataset) -> pd.DataFrame:
    """Rows sorted per user by (timestamp, item_id, original row) — ties broken deterministically."""
    if not ds.has_timestamps:
        raise ValueError("this split needs a 'timestamp' column in ratings.")
    frame = pd.DataFrame({
        "u": ds.user_rows, "t": ds.ratings[TIMESTAMP_COL].to_numpy(), "i": ds.item_rows,
        "pos": np.arange(ds.n_ratings),
    })
    return frame.sort_values(["u", "t", "i", "pos"], kind="mergesort")


def temporal_split(ds: Dataset, ratio=0.8, last_n: int | None = None) -> tuple[Dataset, ...]:
    """Per-user temporal split: each user's oldest ratings train, newest test.

    ``ratio`` (a float, or fractions such as ``(0.7, 0.1, 0.2)``) assigns a user's
    row of temporal rank ``r`` of ``n`` to the first part with ``r <= round(cum * n)``
    (numpy half-to-even rounding). With ``(0.7, 0.1, 0.2)`` this is the Boratto et al.
    (ECIR 2022) protocol. Timestamp ties are broken by item row, then by input row.
    ``last_n`` instead holds out each user's ``last_n`` newest ratings (users with
    ``<= last_n`` ratings keep one in train).
    """
    from ..exceptions import check_positive_int

    ds = ensure_dataset(ds)
    if last_n is not None:
        last_n = check_positive_int(last_n, "last_n")
    frame = _temporal_order(ds)
    groups = frame.groupby("u", sort=False)
    rank = groups.cumcount().to_numpy() + 1
    count = groups["u"].transform("count").to_numpy()
    labels = np.empty(ds.n_ratings, dtype=np.int64)
    if last_n is not None:
        n_test = np.minimum(last_n, count - 1)
        part = np.where(rank > count - n_test, 1, 0)
        labels[frame["pos"].to_numpy()] = part
        return _parts_from_labels(ds, labels, 2, _names(2))
    cum = _ratios(ratio)
    labels[frame["pos"].to_numpy()] = _labels_from_rank(rank, count, cum)
    return _parts_from_labels(ds, labels, len(cum), _names(len(cum)))


def leave_last_one_out(ds: Dataset, valid: bool = False) -> tuple[Dataset, ...]:
    """Hold out each user's latest rating as test (and the one before as valid).

    Sequential-recommendation protocol (e.g. SASRec, RecBole's ``LS`` setting).
    Users with one rating (two with ``valid=True``) keep everything in train.
    """
    ds = ensure_dataset(ds)
    frame = _temporal_order(ds)
    groups = frame.groupby("u", sort=False)
    from_end = groups.cumcount(ascending=False).to_numpy()  # 0 = latest
    count = groups["u"].transform("count").to_numpy()
    n_parts = 3 if valid else 2
    part = np.zeros(len(frame), dtype=np.int64)
    part[(from_end == 0) & (count >= n_parts)] = n_parts - 1
    if valid:
        part[(from_end == 1) & (count >= 3)] = 1
    labels = np.empty(ds.n_ratings, dtype=np.int64)
    labels[frame["pos"].to_numpy()] = part
    return _parts_from_labels(ds, labels, n_parts, _names(n_parts))


def global_time_split(ds: Dataset, quantile: float = 0.8, timestamp: float | None = None) -> tuple[Dataset, Dataset]:
    """One time cut for everybody: ratings before the cut train, at or after it test.

    The cut is ``timestamp`` if given, else the ``quantile`` of all timestamps.
    Matches the "global temporal split" of Meng et al. (RecSys 2020) and Sun (2023),
    which avoids leaking future interactions into training.
    """
    ds = ensure_dataset(ds)
    if not ds.has_timestamps:
        raise ValueError("global_time_split needs a 'timestamp' column in ratings.")
    ts = ds.ratings[TIMESTAMP_COL].to_numpy()
    if timestamp is None:
        if not 0 < quantile < 1:
            raise ValueError(f"quantile == {quantile}, must be in (0, 1).")
        timestamp = float(np.quantile(ts, quantile))
    labels = (ts >= timestamp).astype(np.int64)
    return _parts_from_labels(ds, labels, 2, _names(2))


def recbole_split_sizes(n: int, ratios=(0.8, 0.1, 0.1)) -> list[int]:
    """Part sizes of RecBole 1.2's ``Dataset._calcu_split_ids`` for ``n`` rows.

    ``cnt[i] = int(ratio_i * n)`` for the later parts, train takes the rest, and a
    later part with ``0 < ratio * n < 1`` still gets one row while train keeps > 1.
    """
    ratios = list(ratios)
    cnt = [int(r * n) for r in ratios]
    cnt[0] = n - sum(cnt[1:])
    for i in range(1, len(ratios)):
        if cnt[0] <= 1:
            break
        if 0 < ratios[-i] * n < 1:
            cnt[-i] += 1
            cnt[0] -= 1
    return cnt


def user_random_split(ds: Dataset, ratios=(0.8, 0.1, 0.1), random_state=42) -> tuple[Dataset, ...]:
    """Per-user random 8:1:1 train/valid/test, RecBole's default (``RS`` + ``group_by: user``).

    Each user's ratings are put in a seeded random order and cut with RecBole's size
    rule (:func:`recbole_split_sizes`). A float ``r`` means ``(r, 1 - r)`` (train, test).
    The RecBole-GNN ml-1m table additionally keeps only ratings >= 3
    (``ds.filter(min_rating=3)`` first).
    """
    ds = ensure_dataset(ds)
    ratios = tuple(_fractions(ratios, "ratios", example="0.8 or (0.8, 0.1, 0.1)").tolist())
    rng = np.random.default_rng(random_state)
    frame = pd.DataFrame({"u": ds.user_rows, "r": rng.random(ds.n_ratings), "pos": np.arange(ds.n_ratings)})
    frame = frame.sort_values(["u", "r"], kind="mergesort")
    groups = frame.groupby("u", sort=False)
    rank = groups.cumcount().to_numpy()  # 0-based
    count = groups["u"].transform("count").to_numpy()
    part = np.zeros(len(frame), dtype=np.int64)
    for n in np.unique(count):
        sizes = np.cumsum(recbole_split_sizes(int(n), ratios))
        sel = count == n
        part[sel] = np.searchsorted(sizes, rank[sel], side="right")
    labels = np.empty(ds.n_ratings, dtype=np.int64)
    labels[frame["pos"].to_numpy()] = part
    return _parts_from_labels(ds, labels, len(ratios), _names(len(ratios)))
