"""Calibration of recommendation lists to a user's genre history (Steck, RecSys 2018)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..ranking import ranked_rows
from .beyond import _per_user

__all__ = ["genre_matrix", "user_genre_distribution", "list_genre_distribution", "kl_miscalibration",
           "miscalibration"]

#: Smoothing of the list distribution used in Steck (2018), sec. 2.
STECK_ALPHA = 0.01


def genre_matrix(train: Dataset) -> tuple[np.ndarray, list[str]]:
    """``p(g | i)``: items x genres, each item's genres sharing weight 1 equally.

    Row ``i`` has ``1 / |genres(i)|`` on each of the item's genres (Steck 2018, sec. 2);
    an item without genres has an all-zero row (it adds no mass to any distribution).
    Returns the matrix in the training vocabulary's row order and the genre names (sorted):
    ``train.genre_matrix("share")`` (:meth:`Dataset.genre_matrix`).
    """
    return ensure_dataset(train, "train").genre_matrix("share", "genres")


def _normalise_rows(mass: np.ndarray) -> np.ndarray:
    total = mass.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, mass / np.where(total > 0, total, 1.0), np.nan)


def user_genre_distribution(train: Dataset, weights: str = "uniform") -> np.ndarray:
    """``p(g | u)``: genre distribution of each user's training history (users x genres).

    ``p(g|u) = sum_{i in H_u} w_ui p(g|i) / sum_{i in H_u} w_ui`` (Steck 2018, eq. 1) with
    ``w_ui = 1`` (``weights="uniform"``) or the rating (``weights="rating"``); rows are
    renormalised over items that have genres. Users without genre mass get NaN rows.
    """
    train = ensure_dataset(train, "train")
    pgi, _ = genre_matrix(train)
    m = train.matrix
    if weights == "uniform":
        w = sp.csr_matrix((np.ones_like(m.data, dtype=float), m.indices, m.indptr), shape=m.shape)
    elif weights == "rating":
        w = m.astype(float)
    else:
        raise ValueError(f"weights={weights!r} is not supported; use 'uniform' or 'rating'.")
    return _normalise_rows(np.asarray(w @ pgi))


def list_genre_distribution(rows: pd.DataFrame, pgi: np.ndarray) -> pd.DataFrame:
    """``q(g | u)`` of each list: mean of ``p(g|i)`` over its items (uniform rank weights).

    ``rows`` is a validated top-k frame with ``user_id`` and item rows ``_row``. Lists
    whose items have no genre give NaN rows.
    """
    mass = pd.DataFrame(pgi[rows["item_row"].to_numpy()], index=rows[USER_COL].to_numpy())
    mass = mass.groupby(level=0, sort=True).sum()
    return pd.DataFrame(_normalise_rows(mass.to_numpy()), index=mass.index)


def kl_miscalibration(p: np.ndarray, q: np.ndarray, alpha: float = STECK_ALPHA) -> np.ndarray:
    """Row-wise ``C_KL(p, q) = sum_g p(g) log(p(g) / q~(g))`` with ``q~ = (1 - alpha) q + alpha p``.

    Natural logarithm; terms with ``p(g) = 0`` are 0, and the smoothing keeps every other
    term finite (Steck 2018, eq. 3). NaN rows (undefined distributions) give NaN.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha == {alpha}, must be in (0, 1]; Steck (2018) uses 0.01.")
    p = np.atleast_2d(np.asarray(p, dtype=float))
    q = np.atleast_2d(np.asarray(q, dtype=float))
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}.")
    qt = (1 - alpha) * q + alpha * p
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(qt > 0, qt, 1.0)), 0.0)
    out = terms.sum(axis=1)
    out[np.isnan(p).any(axis=1) | np.isnan(q).any(axis=1)] = np.nan
    return out


def miscalibration(recommendations: pd.DataFrame, train: Dataset, k: int | None = None,
                   alpha: float = STECK_ALPHA, weights: str = "uniform", per_user: bool = False):
    """Miscalibration of genre proportions (Steck, "Calibrated recommendations", RecSys 2018).

    ``C_KL(u) = KL(p(g|u) || q~(g|u)) = sum_g p(g|u) log(p(g|u) / q~(g|u))``,
    ``q~ = (1 - alpha) q(g|u) + alpha p(g|u)``, ``alpha = 0.01`` (the paper's value).
    ``p(g|u)``: the user's training history (:func:`user_genre_distribution`);
    ``q(g|u)``: the top-``k`` list, each item weighted equally; ``p(g|i) = 1/|genres(i)|``
    on each of the item's genres. Natural log; 0 = perfectly calibrated. Users without a
    list do not appear; users without genre history (or whose list has no genre) are
    NaN and left out of the mean.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    if not len(rows):
        return _per_user(pd.Series(dtype=float), per_user, "miscalibration")
    pgi, _ = genre_matrix(train)
    q = list_genre_distribution(rows, pgi)
    p_all = user_genre_distribution(train, weights)
    p = p_all[train.user_vocab.to_rows(q.index.to_numpy(), param="recommendations.user_id")]
    values = pd.Series(kl_miscalibration(p, q.to_numpy(), alpha), index=q.index)
    return _per_user(values, per_user, "miscalibration")
