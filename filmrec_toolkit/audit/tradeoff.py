"""Sweep a re-ranker's trade-off parameter: accuracy against diversity / calibration / novelty."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .._config import RANK_COL, USER_COL
from .._validation import check_k
from ..datasets.dataset import Dataset, ensure_dataset
from ..metrics.beyond import aplt, catalog_coverage, intra_list_diversity, novelty
from ..metrics.calibration import miscalibration
from .accuracy import accuracy_per_user
from .rerank import Reranker

__all__ = ["tradeoff_curve", "list_metrics"]


def list_metrics(recommendations: pd.DataFrame, train: Dataset, test: Dataset, k: int = 10,
                 features="genres") -> dict:
    """Mean accuracy and beyond-accuracy of one top-k frame (one point of a trade-off curve).

    ``ndcg@k``, ``recall@k`` (over users with a test item, :func:`accuracy_per_user`),
    ``ild`` (on ``features``), ``miscalibration`` (Steck), ``novelty``, ``aplt`` and
    ``coverage`` (catalogue).
    """
    acc = accuracy_per_user(recommendations, train, test, k)
    return {
        f"ndcg@{k}": float(acc[f"ndcg@{k}"].mean()),
        f"recall@{k}": float(acc[f"recall@{k}"].mean()),
        "ild": intra_list_diversity(recommendations, train, features, k),
        "miscalibration": miscalibration(recommendations, train, k),
        "novelty": novelty(recommendations, train, k),
        "aplt": aplt(recommendations, train, k),
        "coverage": catalog_coverage(recommendations, train, k),
    }


def tradeoff_curve(reranker: Reranker, candidates: pd.DataFrame, train: Dataset, test: Dataset,
                   values: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0), param: str | None = None, k: int = 10,
                   features="genres", include_baseline: bool = True) -> pd.DataFrame:
    """Re-rank ``candidates`` at each value of ``param`` and measure every list.

    Parameters
    ----------
    reranker : Reranker
        A template (e.g. ``MMRReranker(features=emb)``); a copy with ``param=value`` is
        fitted on ``train`` for each value.
    candidates : DataFrame
        Top-N lists of one model (``model.recommend(users, k=N)``, N > k).
    values : iterable of float
    param : str, optional
        Default ``"lam"`` (MMR, calibrated) or ``"epsilon"`` (exploration).
    k : int
    features : item features for ILD (see :func:`~filmrec_toolkit.metrics.item_features`).
    include_baseline : bool
        Add the un-reranked top-``k`` of ``candidates`` as a row with ``reranker="none"``.

    Returns
    -------
    DataFrame ``reranker, param, value`` + the columns of :func:`list_metrics`.
    """
    train = ensure_dataset(train, "train")
    ensure_dataset(test, "test")
    k = check_k(k)
    if not isinstance(reranker, Reranker):
        raise TypeError(f"reranker must be a Reranker (MMRReranker, ...), got {type(reranker).__name__}.")
    params = reranker.get_params()
    if param is None:
        param = "lam" if "lam" in params else "epsilon"
    if param not in params:
        raise ValueError(f"param={param!r} is not a parameter of {type(reranker).__name__}; valid: {sorted(params)}.")
    rows = []
    if include_baseline:
        top = candidates.loc[candidates.groupby(USER_COL).cumcount() < k] if RANK_COL not in candidates.columns \
            else candidates.loc[candidates[RANK_COL] <= k]
        rows.append({"reranker": "none", "param": None, "value": np.nan,
                     **list_metrics(top, train, test, k, features)})
    for value in values:
        model = type(reranker)(**{**params, param: value}).fit(train)
        out = model.rerank(candidates, k)
        rows.append({"reranker": type(reranker).__name__, "param": param, "value": float(value),
                     **list_metrics(out, train, test, k, features)})
    return pd.DataFrame(rows)
