"""Hyper-parameters chosen on a validation split: one loop over a scikit-learn ``ParameterGrid``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterGrid

from .._params import ParamsMixin, clone
from ..datasets.dataset import Dataset, ensure_dataset
from .evaluate import evaluate

logger = logging.getLogger(__name__)

__all__ = ["tune", "TuneResult"]


@dataclass
class TuneResult:
    """What :func:`tune` returns.

    Attributes
    ----------
    best_params : dict
        The grid point with the best validation ``metric`` (first one on ties, grid order).
    best_score : float
        Its validation mean of ``metric``.
    results : DataFrame
        One row per grid point: the parameters (as columns), ``metric`` and ``fit_seconds``.
    best_estimator : estimator
        An unfitted clone of the estimator with ``best_params``, fitted on ``refit`` when given.
    metric : str
    """

    best_params: dict
    best_score: float
    results: pd.DataFrame
    best_estimator: ParamsMixin
    metric: str

    def __repr__(self) -> str:
        return f"TuneResult({self.metric}={self.best_score:.4f} at {self.best_params}, {len(self.results)} points)"


def tune(estimator: ParamsMixin, param_grid: Mapping | Sequence[Mapping], train: Dataset, valid: Dataset, *,
         metric: str = "ndcg@10", refit: Dataset | None = None, show_progress: bool = False,
         **evaluate_kwargs) -> TuneResult:
    """Choose parameters on a validation split (never on test).

    Each point of ``param_grid`` is set on a clone of ``estimator``, fitted on
    ``train`` and evaluated with :func:`filmrec_toolkit.evaluate` on ``valid``; the
    point with the highest mean ``metric`` wins (ties: the first in grid order, so
    put the simplest setting first).

    Parameters
    ----------
    estimator : Recommender
        Left untouched: every fit is on a clone.
    param_grid : dict of name -> list, or list of such dicts
        As :class:`sklearn.model_selection.ParameterGrid`, e.g. ``{"l2": [100, 500, 2000]}``.
    train, valid : Dataset
        Splits of one Dataset (e.g. the first two parts of ``user_random_split``).
    metric : str
        A column of ``evaluate(...).per_user``, e.g. ``"ndcg@10"``, ``"recall@20"``;
        its cut-off is evaluated.
    refit : Dataset, optional
        When given (e.g. ``Dataset.concat([train, valid])``), the best clone is fitted on
        it, as the published protocols do before scoring the test split.
    **evaluate_kwargs
        Passed to :func:`evaluate` (``exclude``, ``candidates``, ``relevance_threshold`` ...).

    Returns
    -------
    TuneResult
    """
    if not isinstance(estimator, ParamsMixin):
        raise TypeError(f"estimator must be a filmrec_toolkit estimator, got {type(estimator).__name__}.")
    train = ensure_dataset(train, "train")
    valid = ensure_dataset(valid, "valid")
    if not isinstance(metric, str) or "@" not in metric:
        raise ValueError(f"metric={metric!r} must name a per-user metric with its cut-off, e.g. 'ndcg@10'.")
    try:
        cutoff = int(metric.rsplit("@", 1)[1])
    except ValueError:
        raise ValueError(f"metric={metric!r}: the part after '@' must be an integer cut-off, e.g. 'ndcg@10'.") from None
    grid = list(ParameterGrid(param_grid))
    if not grid:
        raise ValueError("param_grid is empty; give at least one value per parameter, e.g. {'l2': [500]}.")
    evaluate_kwargs.setdefault("k", cutoff)
    rows, best, best_score = [], None, -np.inf
    points = grid
    if show_progress:
        from tqdm.auto import tqdm

        points = tqdm(grid, desc=f"tune {type(estimator).__name__}", unit="point")
    for params in points:
        model = clone(estimator, **params)
        res = evaluate(model, train, valid, **evaluate_kwargs)
        if metric not in res.means.index:
            raise ValueError(f"metric={metric!r} is not computed by evaluate; available: {list(res.means.index)}.")
        score = float(res.means[metric])
        logger.info("tune %s %s: %s=%.4f", type(estimator).__name__, params, metric, score)
        rows.append({**params, metric: score, "fit_seconds": res.fit_seconds})
        if score > best_score:
            best, best_score = params, score
    if best is None:  # every point scored NaN (no validation user)
        raise ValueError(f"no grid point has a finite validation {metric}: does valid have users with test items?")
    final = clone(estimator, **best)
    if refit is not None:
        final.fit(ensure_dataset(refit, "refit"))
    return TuneResult(dict(best), best_score, pd.DataFrame(rows), final, metric)
