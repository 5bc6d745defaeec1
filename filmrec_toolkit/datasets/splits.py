"""Deterministic train/test splits; every part shares the input's vocabularies.

Each function names the published protocol it reproduces (see docs/protocols.md).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .._config import TIMESTAMP_COL, USER_COL
from .dataset import Dataset, ensure_dataset


def _ratios(ratio, param: str = "ratio") -> np.ndarray:
    """Normalise a float or a sequence of fractions into cumulative thresholds."""
    parts = [ratio, 1.0 - ratio] if np.ndim(ratio) == 0 else list(ratio)
    parts = np.asarray(parts, dtype=float)
    if len(parts) < 2 or (parts <= 0).any() or not np.isclose(parts.sum(), 1.0):
        raise ValueError(f"{param}={ratio!r}: give a float in (0, 1) or fractions > 0 that sum to 1, "
                         "e.g. 0.75 or (0.8, 0.1, 0.1).")
    return np.cumsum(parts)


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
    ``u.data`` order this is their benchmark split.
    """
    ds = ensure_dataset(ds)
    cum = _ratios(ratio)
    rand = np.random.RandomState(random_state).rand(ds.n_ratings)
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
    ds = ensure_dataset(ds)
    frame = _temporal_order(ds)
    groups = frame.groupby("u", sort=False)
    rank = groups.cumcount().to_numpy() + 1
    count = groups["u"].transform("count").to_numpy()
    labels = np.empty(ds.n_ratings, dtype=np.int64)
    if last_n is not None:
        if int(last_n) < 1:
            raise ValueError(f"last_n == {last_n}, must be >= 1.")
        n_test = np.minimum(int(last_n), count - 1)
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
    rule (:func:`recbole_split_sizes`). The RecBole-GNN ml-1m table additionally keeps
    only ratings >= 3 (``ds.filter(min_rating=3)`` first).
    """
    ds = ensure_dataset(ds)
    _ratios(tuple(ratios), "ratios")
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
