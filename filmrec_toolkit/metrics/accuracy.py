"""Top-k accuracy metrics: Precision, Recall, NDCG, both MAPs, MRR and HitRate @k.

Every metric is a pure function with two forms:

- ``precision_at_k(recommended, relevant, k)``: ``recommended`` is one ranked list of
  item ids and ``relevant`` a collection of item ids -> ``float``; or a 2-D array / list
  of lists with one relevant collection per row -> ``ndarray`` (one value per list).
- ``ranking_metrics(hits, n_relevant, ks)``: the vectorised core used by
  :func:`filmrec_toolkit.evaluation.evaluate`, from a boolean ``(n_users, L)`` hit
  matrix (``hits[u, r-1]`` = the item at rank ``r`` is relevant).

Variants follow the Microsoft Recommenders benchmark (recommenders 1.2.x,
``python_evaluation.py``) and RecBole (``recbole/evaluator/metrics.py``); see
``docs/protocols.md``. A user with no relevant item is undefined for every metric: the
functions return ``NaN`` and :func:`~filmrec_toolkit.evaluation.evaluate` excludes and
counts such users. A list shorter than ``k`` (k larger than the catalogue) is padded
with misses: precision still divides by ``k``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .._deprecation import deprecated_alias
from .._validation import check_k

__all__ = [
    "precision_at_k", "recall_at_k", "ndcg_at_k", "ndcg_graded_at_k", "map_nrel_at_k", "map_min_k_at_k",
    "map_at_k", "map_msr_at_k",
    "mrr_at_k", "hit_rate_at_k", "hit_matrix", "ranking_metrics", "METRIC_NAMES",
]

#: Column stems produced by :func:`ranking_metrics` (``f"{name}@{k}"``).
METRIC_NAMES = ("precision", "recall", "ndcg", "map", "map_at_k", "mrr", "hit")


# --------------------------------------------------------------------- input helpers
def _is_single_list(recommended) -> bool:
    arr = recommended if isinstance(recommended, np.ndarray) else None
    if arr is not None:
        return arr.ndim == 1
    if len(recommended) == 0:
        return True
    first = recommended[0]
    return isinstance(first, (str, bytes)) or np.ndim(first) == 0


def hit_matrix(recommended: Sequence, relevant: Sequence[Iterable], k: int | None = None,
               grades: Sequence[dict] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Boolean hit matrix from ranked lists of ids and relevant collections.

    Parameters
    ----------
    recommended : list of ranked id lists (ragged allowed)
    relevant : list of collections of relevant ids, one per list
    k : int, optional
        Cut-off; lists are truncated or padded (with misses) to length ``k``.
    grades : list of dict id -> grade, optional
        Relevance grades for graded NDCG.

    Returns
    -------
    hits : ndarray (n, k) bool
    n_relevant : ndarray (n,) int
    gains : ndarray (n, k) float or None
        Grade of each ranked item (0 for misses) when ``grades`` is given.
    """
    if len(recommended) != len(relevant):
        raise ValueError(f"recommended has {len(recommended)} lists but relevant has {len(relevant)}; "
                         "give one relevant collection per ranked list.")
    length = k if k is not None else max((len(r) for r in recommended), default=0)
    n = len(recommended)
    hits = np.zeros((n, length), dtype=bool)
    gains = np.zeros((n, length), dtype=np.float64) if grades is not None else None
    n_rel = np.zeros(n, dtype=np.int64)
    for u, (rec, rel) in enumerate(zip(recommended, relevant)):
        rel = set(rel)
        n_rel[u] = len(rel)
        seen = set()
        for r, item in enumerate(list(rec)[:length]):
            if item in rel and item not in seen:  # a repeated item counts once
                hits[u, r] = True
                if gains is not None:
                    gains[u, r] = float(grades[u].get(item, 0.0))
            seen.add(item)
    return hits, n_rel, gains


def _dispatch(fn, recommended, relevant, k: int, **kw):
    k = check_k(k)
    if _is_single_list(recommended):
        hits, n_rel, _ = hit_matrix([list(recommended)], [relevant], k)
        return float(fn(hits, n_rel, k, **kw)[0])
    hits, n_rel, _ = hit_matrix(list(recommended), list(relevant), k)
    return fn(hits, n_rel, k, **kw)


def _nan_where_empty(values: np.ndarray, n_rel: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    values[np.asarray(n_rel) <= 0] = np.nan
    return values


# ------------------------------------------------------------------ vectorised core
def _precision(hits, n_rel, k):
    return _nan_where_empty(hits[:, :k].sum(1) / k, n_rel)


def _recall(hits, n_rel, k):
    return _nan_where_empty(hits[:, :k].sum(1) / np.maximum(n_rel, 1), n_rel)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def _ndcg(hits, n_rel, k):
    h = hits[:, :k]
    disc = _discounts(h.shape[1])
    dcg = (h * disc).sum(1)
    cum = np.concatenate([[0.0], np.cumsum(_discounts(k))])
    idcg = cum[np.minimum(n_rel, k)]
    return _nan_where_empty(np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0), n_rel)


def _ap(hits, n_rel, k, denominator: str):
    h = hits[:, :k].astype(np.float64)
    ranks = np.arange(1, h.shape[1] + 1)
    prec_at_hits = (np.cumsum(h, axis=1) / ranks) * h
    denom = np.minimum(n_rel, k) if denominator == "min" else n_rel
    return _nan_where_empty(prec_at_hits.sum(1) / np.maximum(denom, 1), n_rel)


def _mrr(hits, n_rel, k):
    h = hits[:, :k]
    first = np.where(h.any(1), h.argmax(1) + 1, 0)
    return _nan_where_empty(np.divide(1.0, first, out=np.zeros(len(h)), where=first > 0), n_rel)


def _hit(hits, n_rel, k):
    return _nan_where_empty(hits[:, :k].any(1).astype(np.float64), n_rel)


def _graded_ndcg(gains, ideal_gains, k, gain="linear"):
    """gains (n, L) of the ranked items; ideal_gains: list of arrays of every relevant grade."""
    g = gains[:, :k]
    if gain == "exponential":
        g = np.power(2.0, g) - 1.0
    dcg = (g * _discounts(g.shape[1])).sum(1)
    out = np.full(len(g), np.nan)
    for u, ideal in enumerate(ideal_gains):
        ideal = np.sort(np.asarray(ideal, dtype=np.float64))[::-1][:k]
        if len(ideal) == 0:
            continue
        if gain == "exponential":
            ideal = np.power(2.0, ideal) - 1.0
        idcg = (ideal * _discounts(len(ideal))).sum()
        out[u] = dcg[u] / idcg if idcg > 0 else 0.0
    return out


def ranking_metrics(hits: np.ndarray, n_relevant: np.ndarray, ks: Iterable[int] = (10,),
                    gains: np.ndarray | None = None, ideal_gains: Sequence | None = None,
                    gain: str = "linear") -> dict[str, np.ndarray]:
    """Every metric at every cut-off, per user, from a hit matrix.

    Parameters
    ----------
    hits : ndarray (n_users, L) bool
        ``hits[u, r-1]``: the item at rank ``r`` is relevant; lists shorter than ``k``
        are padded with ``False`` (misses).
    n_relevant : ndarray (n_users,)
        Number of relevant items per user (``n_rel``); 0 gives ``NaN``.
    ks : iterable of int
    gains, ideal_gains : optional
        Grades of the ranked items and every relevant grade per user; adds
        ``ndcg_graded@k``.
    gain : {"linear", "exponential"}
        Graded gain ``g`` or ``2**g - 1``.

    Returns
    -------
    dict ``"metric@k" -> ndarray (n_users,)`` for metric in :data:`METRIC_NAMES`.
    """
    hits = np.asarray(hits, dtype=bool)
    n_rel = np.asarray(n_relevant, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        k = check_k(k)
        h = hits if hits.shape[1] >= k else np.pad(hits, ((0, 0), (0, k - hits.shape[1])))
        out[f"precision@{k}"] = _precision(h, n_rel, k)
        out[f"recall@{k}"] = _recall(h, n_rel, k)
        out[f"ndcg@{k}"] = _ndcg(h, n_rel, k)
        out[f"map@{k}"] = _ap(h, n_rel, k, "n_rel")
        out[f"map_at_k@{k}"] = _ap(h, n_rel, k, "min")
        out[f"mrr@{k}"] = _mrr(h, n_rel, k)
        out[f"hit@{k}"] = _hit(h, n_rel, k)
        if gains is not None and ideal_gains is not None:
            g = np.asarray(gains, dtype=np.float64)
            g = g if g.shape[1] >= k else np.pad(g, ((0, 0), (0, k - g.shape[1])))
            out[f"ndcg_graded@{k}"] = _graded_ndcg(g, ideal_gains, k, gain)
    return out


# ------------------------------------------------------------------ public metrics
def precision_at_k(recommended, relevant, k: int = 10):
    """Precision@k = |top-k ∩ relevant| / k (MSR Recommenders ``precision_at_k``).

    A list shorter than ``k`` still divides by ``k``. ``NaN`` when nothing is relevant.
    """
    return _dispatch(_precision, recommended, relevant, k)


def recall_at_k(recommended, relevant, k: int = 10):
    """Recall@k = |top-k ∩ relevant| / n_rel (MSR ``recall_at_k``, RecBole ``Recall``)."""
    return _dispatch(_recall, recommended, relevant, k)


def ndcg_at_k(recommended, relevant, k: int = 10):
    """Binary NDCG@k = Σ_r hit_r / log2(r+1) ÷ Σ_{r ≤ min(n_rel, k)} 1 / log2(r+1).

    MSR ``ndcg_at_k`` (``score_type="binary"``) and RecBole ``NDCG`` (Järvelin &
    Kekäläinen, 2002).
    """
    return _dispatch(_ndcg, recommended, relevant, k)


def ndcg_graded_at_k(recommended, relevant: dict | Sequence[dict], k: int = 10, gain: str = "linear"):
    """Graded NDCG@k with grades (e.g. ratings) as gains.

    DCG = Σ_r g(rel_r) / log2(r+1), IDCG = the same over the relevant grades sorted
    descending (top ``k``); ``g(x) = x`` (``gain="linear"``, MSR ``score_type="raw"``)
    or ``2**x - 1`` (``"exponential"``, Burges et al. 2005). ``relevant`` maps item id
    -> grade (one dict, or one per list).
    """
    k = check_k(k)
    if gain not in ("linear", "exponential"):
        raise ValueError(f"gain={gain!r} must be 'linear' or 'exponential'.")
    single = _is_single_list(recommended)
    recs = [list(recommended)] if single else [list(r) for r in recommended]
    rels = [relevant] if single else list(relevant)
    hits, _, gains = hit_matrix(recs, [r.keys() for r in rels], k, grades=rels)
    out = _graded_ndcg(gains, [list(r.values()) for r in rels], k, gain)
    return float(out[0]) if single else out


def map_nrel_at_k(recommended, relevant, k: int = 10):
    """Mean average precision at k divided by the number of relevant items: Σ_{hit ranks r ≤ k} P@r / n_rel.

    The MSR Recommenders ``map`` (= TREC / ranx ``map@k``), the "MAP" column of their
    benchmark table; :func:`~filmrec_toolkit.evaluation.evaluate` reports it as ``map@k``
    (docs/protocols.md, section 1). See :func:`map_min_k_at_k` for the ``/ min(k, n_rel)``
    variant.
    """
    return _dispatch(_ap, recommended, relevant, k, denominator="n_rel")


def map_min_k_at_k(recommended, relevant, k: int = 10):
    """Mean average precision at k divided by min(k, n_rel): Σ_{hit ranks r ≤ k} P@r / min(k, n_rel).

    The MSR Recommenders ``map_at_k``; reported as ``map_at_k@k`` by
    :func:`~filmrec_toolkit.evaluation.evaluate` (docs/protocols.md, section 1).
    """
    return _dispatch(_ap, recommended, relevant, k, denominator="min")


#: Deprecated names: ``map_at_k`` computed MSR's ``map`` and ``map_msr_at_k`` MSR's ``map_at_k``.
map_at_k = deprecated_alias(map_nrel_at_k, "map_at_k", "its name did not say its denominator")
map_msr_at_k = deprecated_alias(map_min_k_at_k, "map_msr_at_k", "its name did not say its denominator")


def mrr_at_k(recommended, relevant, k: int = 10):
    """MRR@k = 1 / rank of the first relevant item in the top k, 0 if none (RecBole ``MRR``)."""
    return _dispatch(_mrr, recommended, relevant, k)


def hit_rate_at_k(recommended, relevant, k: int = 10):
    """HitRate@k = 1 if any relevant item is in the top k else 0 (RecBole ``Hit``)."""
    return _dispatch(_hit, recommended, relevant, k)
