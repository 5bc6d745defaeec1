"""Beyond-accuracy metrics: coverage, exposure inequality, novelty, diversity, popularity bias.

Every function is pure and takes a top-k frame (``user_id, item_id, score, rank``,
as returned by ``Recommender.recommend``) and the training :class:`Dataset` whose
item vocabulary defines the catalogue. Per-list metrics take ``per_user``: ``False``
returns the mean over users with a (non-empty, defined) list, ``True`` returns a
Series indexed by ``user_id``. Variants follow docs/protocols.md ("Beyond-accuracy
definitions"); each docstring states its formula and reference.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import RANK_COL, USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..features.embeddings import l2_normalize
from ..ranking import ranked_rows

logger = logging.getLogger(__name__)

__all__ = [
    "catalog_coverage",
    "item_exposure",
    "distributional_coverage",
    "gini_index",
    "exposure_gini",
    "lorenz_curve",
    "item_popularity",
    "head_items",
    "popularity_tiers",
    "novelty",
    "item_features",
    "intra_list_diversity",
    "intra_list_similarity",
    "serendipity",
    "average_recommendation_popularity",
    "aplt",
    "aclt",
    "popularity_lift",
]


# ------------------------------------------------------------------ helpers
def _per_user(values: pd.Series, per_user: bool, name: str):
    values = values.rename(name)
    values.index.name = USER_COL
    if per_user:
        return values
    defined = values.dropna()
    return float(defined.mean()) if len(defined) else float("nan")


def _list_mean(rows: pd.DataFrame, item_values: np.ndarray, per_user: bool, name: str):
    """Mean over each list of a per-item value, then over lists."""
    vals = pd.Series(np.asarray(item_values, dtype=float)[rows["item_row"].to_numpy()], index=rows[USER_COL].to_numpy())
    return _per_user(vals.groupby(level=0, sort=True).mean(), per_user, name)


# ---------------------------------------------------------------- coverage
def catalog_coverage(recommendations: pd.DataFrame, train: Dataset, k: int | None = None) -> float:
    """Catalogue coverage: share of the catalogue recommended to at least one user.

    ``coverage = |U_u L_u| / |I|`` with ``I`` the training item vocabulary (items with
    no training rating included) and ``L_u`` the top-``k`` list of user ``u``
    (Ge, Delgado-Battenfeld & Jannach, RecSys 2010, "prediction coverage"; Herlocker
    et al. 2004). An empty frame gives 0.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    return float(rows["item_row"].nunique() / train.n_items) if train.n_items else 0.0


def item_exposure(recommendations: pd.DataFrame, train: Dataset, k: int | None = None,
                  discount: str | None = None) -> np.ndarray:
    """Exposure of every catalogue item, in the training vocabulary's row order.

    ``discount=None``: the number of lists containing the item. ``discount="log2"``:
    position-discounted exposure ``sum_u 1 / log2(rank_u(i) + 1)`` (the DCG browsing
    model of Singh & Joachims, KDD 2018). Never-recommended items get 0.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    if discount is None:
        weights = np.ones(len(rows))
    elif discount == "log2":
        weights = 1.0 / np.log2(rows[RANK_COL].to_numpy(dtype=float) + 1.0)
    else:
        raise ValueError(f"discount={discount!r} is not supported; use None (counts) or 'log2'.")
    return np.bincount(rows["item_row"].to_numpy(), weights=weights, minlength=train.n_items).astype(float)


def distributional_coverage(recommendations: pd.DataFrame, train: Dataset, k: int | None = None,
                            normalize: bool = False) -> float:
    """Shannon entropy of item exposure (distributional coverage), in bits.

    ``H = - sum_i p_i log2 p_i`` with ``p_i = e_i / sum_j e_j`` and ``e_i`` the number of
    top-``k`` lists containing item ``i`` (terms with ``p_i = 0`` are 0). ``normalize=True``
    divides by ``log2 |I|`` (1 = uniform exposure over the whole catalogue). Shani &
    Gunawardana, "Evaluating recommendation systems", Recommender Systems Handbook 2011,
    sec. 8.3.3. An empty frame (no exposure) gives 0.
    """
    exposure = item_exposure(recommendations, train, k)
    total = exposure.sum()
    if total <= 0:
        return 0.0
    p = exposure[exposure > 0] / total
    h = float(-(p * np.log2(p)).sum())
    if normalize:
        n = len(exposure)
        return h / np.log2(n) if n > 1 else 0.0
    return h


# ------------------------------------------------------------ inequality
def gini_index(values) -> float:
    """Gini index of non-negative values (Lorenz form).

    With ``x_(1) <= ... <= x_(n)`` sorted ascending,
    ``G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i)`` (i = 1..n); 0 for equal values,
    ``(n - 1) / n`` when one element holds everything. All-zero or empty input gives 0.
    Used for item exposure by Fleder & Hosanagar (2009) and Chen et al., "Bias and
    debias in recommender system" (TOIS 2023).
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size and (np.isnan(x).any() or x[0] < 0):
        raise ValueError("values must be non-negative numbers without NaN (e.g. exposure counts).")
    n = x.size
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(max(0.0, ((2 * i - n - 1) * x).sum() / (n * total)))


def exposure_gini(recommendations: pd.DataFrame, train: Dataset, k: int | None = None,
                  discount: str | None = None) -> float:
    """Gini index of item exposure over the whole catalogue.

    :func:`gini_index` of :func:`item_exposure` over all items of the training
    vocabulary; never-recommended items count as 0 (docs/protocols.md).
    """
    return gini_index(item_exposure(recommendations, train, k, discount))


def lorenz_curve(values) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of non-negative values.

    Returns ``x`` = cumulative share of items (0, 1/n, ..., 1) and ``y`` = cumulative
    share of exposure held by the ``x`` least exposed items (``y[0] = 0``, ``y[-1] = 1``).
    Twice the area between the diagonal and the curve (trapezoids) equals
    :func:`gini_index`. All-zero or empty input gives the diagonal.
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    n = x.size
    grid = np.linspace(0.0, 1.0, n + 1)
    total = x.sum()
    if n == 0 or total <= 0:
        return grid, grid.copy()
    return grid, np.concatenate([[0.0], np.cumsum(x) / total])


# ------------------------------------------------------------ popularity
def item_popularity(train: Dataset, kind: str = "users") -> np.ndarray:
    """Training popularity per item row.

    ``kind="users"``: share of training users who rated the item, ``p_i = |U_i| / |U|``
    with ``|U|`` the number of users with at least one training rating (Castells et al.).
    ``kind="count"``: number of training ratings (Abdollahpouri's ``phi(i)``).
    """
    train = ensure_dataset(train, "train")
    counts = train.item_counts().astype(float)
    if kind == "count":
        return counts
    if kind != "users":
        raise ValueError(f"kind={kind!r} is not supported; use 'users' or 'count'.")
    n_users = int((train.user_counts() > 0).sum())
    return counts / max(1, n_users)


def head_items(train: Dataset, head_share: float = 0.2) -> np.ndarray:
    """Boolean mask (item rows) of the short head.

    Items sorted by training rating count (descending, ties by item row) are in the head
    up to and including the one at which cumulative training interactions reach
    ``head_share`` of all (docs/protocols.md; Abdollahpouri, Burke & Mobasher, FLAIRS 2019).
    Everything else is the long tail.
    """
    train = ensure_dataset(train, "train")
    if not 0 < head_share < 1:
        raise ValueError(f"head_share == {head_share}, must be in (0, 1), e.g. 0.2.")
    counts = train.item_counts()
    order = np.lexsort((np.arange(len(counts)), -counts))
    cum = np.cumsum(counts[order]) / max(1, counts.sum())
    n_head = int(np.searchsorted(cum, head_share - 1e-12, side="left")) + 1
    mask = np.zeros(len(counts), dtype=bool)
    mask[order[:n_head]] = True
    mask &= counts > 0
    return mask


def popularity_tiers(train: Dataset, head_share: float = 0.2, tail_share: float = 0.2) -> np.ndarray:
    """Popularity tier per item row: ``"head"``, ``"mid"`` or ``"tail"``.

    Head as in :func:`head_items`; the tail is the least-rated items that together hold
    ``tail_share`` of training interactions (cumulated from the most popular, an item is
    in the tail once cumulative interactions before it exceed ``1 - tail_share``), plus
    every item without training ratings; mid is the rest (Abdollahpouri et al., UMAP
    2021, "User-centered evaluation of popularity bias").
    """
    train = ensure_dataset(train, "train")
    if not 0 < tail_share < 1 or head_share + tail_share >= 1:
        raise ValueError(f"tail_share == {tail_share}: need 0 < tail_share and head_share + tail_share < 1.")
    head = head_items(train, head_share)
    counts = train.item_counts()
    order = np.lexsort((np.arange(len(counts)), -counts))
    before = (np.cumsum(counts[order]) - counts[order]) / max(1, counts.sum())
    tail = np.zeros(len(counts), dtype=bool)
    tail[order[before >= 1 - tail_share - 1e-12]] = True
    tail |= counts == 0
    tiers = np.full(len(counts), "mid", dtype=object)
    tiers[tail & ~head] = "tail"
    tiers[head] = "head"
    return tiers


def novelty(recommendations: pd.DataFrame, train: Dataset, k: int | None = None, per_user: bool = False):
    """Novelty: mean self-information of recommended items (Castells et al.).

    ``nov(L_u) = (1/|L_u|) sum_{i in L_u} -log2 p_i`` with ``p_i`` the share of training
    users who rated ``i`` (:func:`item_popularity`); the metric is the mean over users
    with a non-empty list. Items with ``p_i = 0`` (no training rating) are given
    ``p_i = 1 / |U|``, i.e. treated as rated by a single user (the largest finite
    self-information), rather than infinity. Castells, Hurley & Vargas, "Novelty and
    diversity in recommender systems", Recommender Systems Handbook 2015 (popularity-based
    item novelty); Zhou et al., PNAS 2010.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    p = item_popularity(train, "users")
    n_users = max(1, int((train.user_counts() > 0).sum()))
    info = -np.log2(np.where(p > 0, p, 1.0 / n_users))
    return _list_mean(rows, info, per_user, "novelty")


# ------------------------------------------------------------- diversity
def item_features(train: Dataset, features="genres") -> np.ndarray:
    """Item feature matrix (n_items, d) aligned to the training item vocabulary.

    ``features`` may be ``"genres"`` (multi-hot of ``train.items["genres"]``, columns in
    sorted genre order: :meth:`Dataset.genre_matrix`), an
    ``ItemEmbeddings`` (aligned with ``.align(train)``), a DataFrame indexed by item id,
    or an array / sparse matrix already in the vocabulary's row order.
    """
    train = ensure_dataset(train, "train")
    if isinstance(features, str):
        if features != "genres":
            raise ValueError(f"features={features!r}: the only named features are 'genres'; pass an "
                             "ItemEmbeddings, a DataFrame indexed by item_id or an (n_items, d) array.")
        return train.genre_matrix("binary", "genres")[0]
    if hasattr(features, "align") and hasattr(features, "matrix"):
        return np.asarray(features.align(train).matrix, dtype=float)
    if isinstance(features, pd.DataFrame):
        missing = ~train.item_vocab.index.isin(features.index)
        if missing.any():
            raise ValueError(f"features DataFrame lacks {int(missing.sum())} training item id(s), e.g. "
                             f"{train.item_ids[missing][:3].tolist()}; index it by item_id over the whole catalogue.")
        return features.reindex(train.item_vocab.index).to_numpy(dtype=float)
    matrix = features.toarray() if sp.issparse(features) else np.asarray(features, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != train.n_items:
        raise ValueError(f"features has shape {matrix.shape}, expected ({train.n_items}, d) in the training "
                         "item vocabulary's row order; use 'genres', an ItemEmbeddings or a DataFrame by item_id.")
    return matrix.astype(float)


def _pairwise_mean(rows: pd.DataFrame, unit: np.ndarray, per_user: bool, name: str, distance: bool):
    users = rows[USER_COL].to_numpy()
    item_rows = rows["item_row"].to_numpy()
    values = {}
    if len(rows):
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
        ends = np.r_[starts[1:], len(users)]
        for s, e in zip(starts, ends):
            n = e - s
            if n < 2:
                values[users[s]] = np.nan
                continue
            f = unit[item_rows[s:e]]
            sim = f @ f.T
            iu = np.triu_indices(n, 1)
            mean_sim = float(sim[iu].mean())
            values[users[s]] = 1.0 - mean_sim if distance else mean_sim
    return _per_user(pd.Series(values, dtype=float), per_user, name)


def intra_list_diversity(recommendations: pd.DataFrame, train: Dataset, features="genres",
                         k: int | None = None, per_user: bool = False):
    """Intra-list diversity: mean pairwise cosine distance inside each list.

    ``ILD(L) = 2 / (|L| (|L| - 1)) sum_{i < j in L} (1 - cos(f_i, f_j))`` on the item
    features named by ``features`` (see :func:`item_features`: genre multi-hot or
    embeddings); the cosine of a zero vector (an item without genres) is taken as 0.
    Lists with fewer than 2 items have no pair: their ILD is NaN and they are left out
    of the mean. Smyth & McClave, ICCBR 2001; Ziegler et al., WWW 2005 (ILS).
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    return _pairwise_mean(rows, l2_normalize(item_features(train, features), dtype=np.float64), per_user, "ild", True)


def intra_list_similarity(recommendations: pd.DataFrame, train: Dataset, features="genres",
                          k: int | None = None, per_user: bool = False):
    """Intra-list similarity: mean pairwise cosine similarity, ``ILS = 1 - ILD``.

    ``ILS(L) = 2 / (|L| (|L| - 1)) sum_{i < j in L} cos(f_i, f_j)`` (Ziegler, McNee,
    Konstan & Lausen, WWW 2005, with the mean instead of the sum so lists of different
    length compare). Lists with fewer than 2 items give NaN.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    return _pairwise_mean(rows, l2_normalize(item_features(train, features), dtype=np.float64), per_user, "ils", False)


# ------------------------------------------------------------ serendipity
def serendipity(recommendations: pd.DataFrame, train: Dataset, test: Dataset, k: int | None = None,
                per_user: bool = False):
    """Serendipity: share of a list that is both relevant and unexpected.

    Variant of Ge, Delgado-Battenfeld & Jannach (RecSys 2010), with the most-popular
    list as the primitive model (Murakami et al. 2008):
    ``ser(L_u) = |(L_u minus PM_u) cap T_u| / |L_u|``, where ``T_u`` are the user's test
    items (all relevant) and ``PM_u`` is the top-``|L_u|`` most-rated training items the
    user has not rated in training (ties by item row). Mean over users with a non-empty list.
    """
    train = ensure_dataset(train, "train")
    test = ensure_dataset(test, "test")
    if test.item_vocab != train.item_vocab:
        raise ValueError("test must share train's item vocabulary (two parts of one split).")
    rows = ranked_rows(recommendations, train, k)
    if not len(rows):
        return _per_user(pd.Series(dtype=float), per_user, "serendipity")
    counts = train.item_counts()
    order = np.lexsort((np.arange(len(counts)), -counts))
    pop_rank = np.empty(len(counts), dtype=np.int64)
    pop_rank[order] = np.arange(len(counts))  # 0 = most popular
    seen = train.matrix
    relevant = test.matrix
    users = rows[USER_COL].to_numpy()
    urows = train.user_vocab.to_rows(pd.unique(users), param="recommendations.user_id")
    urow_of = dict(zip(pd.unique(users), urows))
    values = {}
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    item_rows = rows["item_row"].to_numpy()
    for s, e in zip(starts, ends):
        u = urow_of[users[s]]
        items = item_rows[s:e]
        seen_ranks = np.sort(pop_rank[seen.indices[seen.indptr[u]:seen.indptr[u + 1]]])
        # rank among the items the user has not seen = global rank - seen items ranked above it
        unseen_rank = pop_rank[items] - np.searchsorted(seen_ranks, pop_rank[items], side="left")
        is_seen = np.isin(items, seen.indices[seen.indptr[u]:seen.indptr[u + 1]])
        in_pm = (~is_seen) & (unseen_rank < len(items))
        rel = np.isin(items, relevant.indices[relevant.indptr[u]:relevant.indptr[u + 1]])
        values[users[s]] = float((rel & ~in_pm).sum() / len(items))
    return _per_user(pd.Series(values, dtype=float), per_user, "serendipity")


# ------------------------------------------------------ popularity bias
def average_recommendation_popularity(recommendations: pd.DataFrame, train: Dataset, k: int | None = None,
                                      per_user: bool = False):
    """ARP: mean training popularity of recommended items.

    ``ARP = (1/|U_t|) sum_u (1/|L_u|) sum_{i in L_u} phi(i)`` with ``phi(i)`` the number of
    training ratings of ``i``. Abdollahpouri, Burke & Mobasher, "Managing popularity bias
    in recommender systems with personalized re-ranking", FLAIRS 2019.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    return _list_mean(rows, item_popularity(train, "count"), per_user, "arp")


def aplt(recommendations: pd.DataFrame, train: Dataset, k: int | None = None, head_share: float = 0.2,
         per_user: bool = False):
    """APLT: average percentage (share) of long-tail items in the lists.

    ``APLT = (1/|U_t|) sum_u |L_u cap Gamma| / |L_u|`` with ``Gamma`` the long tail = every
    item outside :func:`head_items` (head = most-rated items up to 20 % of training
    interactions). Abdollahpouri, Burke & Mobasher, FLAIRS 2019. Returned as a share in [0, 1].
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    return _list_mean(rows, (~head_items(train, head_share)).astype(float), per_user, "aplt")


def aclt(recommendations: pd.DataFrame, train: Dataset, k: int | None = None, head_share: float = 0.2,
         per_user: bool = False):
    """ACLT: average number of long-tail items per list.

    ``ACLT = (1/|U_t|) sum_u sum_{i in L_u} 1(i in Gamma)``, ``Gamma`` as in :func:`aplt`.
    Abdollahpouri, Burke & Mobasher, FLAIRS 2019.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    tail = (~head_items(train, head_share)).astype(float)
    vals = pd.Series(tail[rows["item_row"].to_numpy()], index=rows[USER_COL].to_numpy())
    return _per_user(vals.groupby(level=0, sort=True).sum(), per_user, "aclt")


def popularity_lift(recommendations: pd.DataFrame, train: Dataset, k: int | None = None, per_user: bool = False):
    """Popularity lift of the lists over each user's training history.

    Per user: ``lift_u = (ARP(L_u) - AP(H_u)) / AP(H_u)`` with ``AP(H_u)`` the mean
    training rating count ``phi(i)`` of the user's training items. The aggregate
    (``per_user=False``) is Abdollahpouri et al.'s group form over the users with a list
    and a history, ``(mean_u ARP(L_u) - mean_u AP(H_u)) / mean_u AP(H_u)`` (Delta GAP;
    Abdollahpouri, Mansoury, Burke, Mobasher, Malthouse, UMAP 2021). Users without
    training history give NaN. Positive = lists more popular than what the user consumes.
    """
    train = ensure_dataset(train, "train")
    rows = ranked_rows(recommendations, train, k)
    phi = item_popularity(train, "count")
    arp = pd.Series(phi[rows["item_row"].to_numpy()], index=rows[USER_COL].to_numpy()).groupby(level=0, sort=True).mean()
    m = train.matrix
    hist_sum = np.asarray(sp.csr_matrix((phi[m.indices], m.indices, m.indptr), shape=m.shape).sum(axis=1)).ravel()
    hist_n = np.diff(m.indptr)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = np.where(hist_n > 0, hist_sum / np.maximum(hist_n, 1), np.nan)
    ap_u = pd.Series(ap[train.user_vocab.to_rows(arp.index.to_numpy(), param="recommendations.user_id")]
                     if len(arp) else [], index=arp.index, dtype=float)
    if per_user:
        with np.errstate(invalid="ignore", divide="ignore"):
            return _per_user((arp - ap_u) / ap_u, True, "popularity_lift")
    ok = ap_u.notna() & (ap_u > 0)
    if not ok.any():
        return float("nan")
    return float((arp[ok].mean() - ap_u[ok].mean()) / ap_u[ok].mean())
