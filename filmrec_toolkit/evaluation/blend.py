"""Choosing a hybrid's blend on validation: the language model is switched on only for a significant gain.

:func:`tune_blend` tunes any hybrid whose content part can be switched off by parameters;
:func:`tune_lm_hybrids` applies it to the two language-model hybrids of
:func:`filmrec_toolkit.standard_models` with the grids of :data:`filmrec_toolkit.LM_HYBRID_GRIDS`.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from .._params import clone
from ..datasets.dataset import Dataset
from ..features.embeddings import ItemEmbeddings
from ..metrics.fairness import paired_wilcoxon
from ..persistence import load_or_fit
from ..recommenders.base import Recommender
from ..recommenders.standard import LM_HYBRID_GRIDS, standard_models
from .evaluate import evaluate
from .tune import TuneResult, tune

logger = logging.getLogger(__name__)
__all__ = ["tune_blend", "tune_lm_hybrids"]


def tune_blend(estimator: Recommender, param_grid, train: Dataset, valid: Dataset, *, off: Mapping,
               metric: str = "ndcg@10", alpha: float = 0.05, refit: Dataset | None = None, **evaluate_kwargs):
    """Choose a hybrid's weights on validation, switching the LM on only for a significant gain.

    :func:`filmrec_toolkit.tune` picks the grid point with the best validation mean;
    the winner is kept only if it beats the same point with ``off`` applied (the
    content switched off, i.e. the CF part) on the validation users in a paired
    two-sided Wilcoxon test with ``p < alpha`` and a positive mean difference.
    Otherwise the ``off`` setting is chosen. A validation gain inside the noise
    therefore never turns the content on, so the hybrid cannot drift below its CF part
    by chance (the simpler model wins ties, as in the one-standard-error rule).

    Parameters
    ----------
    estimator : Recommender
        E.g. ``ContentAwareHybrid(EASE(l2=...), ContentRecommender(emb))``; left unfitted.
    param_grid : dict or list of dicts
        As for :func:`filmrec_toolkit.tune`.
    train, valid : Dataset
        Fit on ``train``, evaluate on ``valid`` (never the test split).
    off : mapping
        The parameters that switch the content off, e.g. ``{"weights": (1.0, 0.0)}``,
        ``{"content_weight": 0.0, "tail_weight": 0.0}`` or ``{"side_weight": 0.0}``.
    metric : str
        Per-user validation metric, e.g. ``"ndcg@10"``.
    alpha : float in (0, 1)
        Significance level of the paired test.
    refit : Dataset, optional
        Fit the chosen configuration on it (e.g. the full training split).
    **evaluate_kwargs
        Passed to :func:`filmrec_toolkit.evaluate` (``exclude`` ...).

    Returns
    -------
    TuneResult
        As :func:`filmrec_toolkit.tune`; ``results.attrs["switch"]`` holds the paired
        test (``diff``, ``p_value``, ``switched_on``).
    """
    if not isinstance(off, Mapping) or not off:
        raise ValueError(f"off == {off!r}: must be a non-empty dict of the parameters that switch the content off; "
                         "e.g. off={'weights': (1.0, 0.0)}.")
    unknown = sorted(set(off) - set(estimator.get_params()))
    if unknown:
        raise ValueError(f"off has {unknown}, not parameters of {type(estimator).__name__}; valid: "
                         f"{sorted(estimator.get_params())}.")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha == {alpha!r}: must be in (0, 1); e.g. alpha=0.05.")
    res = tune(estimator, param_grid, train, valid, metric=metric, **evaluate_kwargs)
    best = dict(res.best_params)
    off_point = {**best, **dict(off)}
    kwargs = {"k": int(metric.rsplit("@", 1)[1]), **evaluate_kwargs}
    switch = {"diff": 0.0, "p_value": 1.0, "switched_on": False}
    chosen, score = off_point, res.best_score
    if _same(best, off_point):
        chosen = best
    else:
        on = evaluate(clone(estimator, **best), train, valid, **kwargs).per_user
        base = evaluate(clone(estimator, **off_point), train, valid, **kwargs).per_user
        joined = on[["user_id", metric]].merge(base[["user_id", metric]], on="user_id").dropna()
        a, b = joined[f"{metric}_x"].to_numpy(float), joined[f"{metric}_y"].to_numpy(float)
        test = paired_wilcoxon(a, b)
        diff = float((a - b).mean()) if len(a) else 0.0
        on_ = bool(diff > 0 and test.p_value < alpha)
        switch = {"diff": diff, "p_value": float(test.p_value), "switched_on": on_}
        chosen, score = (best, float(a.mean())) if on_ else (off_point, float(b.mean()))
        logger.info("tune_blend %s: %s vs off %s on validation %s: diff %+.4f, p=%.3g -> %s",
                    type(estimator).__name__, best, dict(off), metric, diff, test.p_value,
                    "on" if on_ else "off")
    results = res.results.copy()
    results.attrs["switch"] = switch
    final = clone(estimator, **chosen)
    if refit is not None:
        final.fit(refit)
    return TuneResult(dict(chosen), score, results, final, metric)


def _same(a: Mapping, b: Mapping) -> bool:
    try:
        return all(np.array_equal(np.asarray(a[k], dtype=object), np.asarray(b[k], dtype=object)) for k in b)
    except (KeyError, ValueError):
        return False


def tune_lm_hybrids(embeddings: ItemEmbeddings, train, valid, *, metric: str = "ndcg@10", alpha: float = 0.05,
                    cache: bool = False, **evaluate_kwargs) -> dict:
    """Choose the weights of the two LM hybrids of :func:`standard_models` on validation.

    Each hybrid is tuned with :func:`tune_blend` on the grid of :data:`LM_HYBRID_GRIDS`:
    the best validation ``metric`` wins, but the language model is switched on only when
    that beats the same hybrid with the language model off (= EASE) in a paired test
    (``p < alpha``) on the validation users.

    Parameters
    ----------
    embeddings : ItemEmbeddings
    train, valid : Dataset
        Fit on ``train``, score on ``valid`` (carve both out of the training split; never
        the test split).
    metric : str
        Per-user validation metric with its cut-off, e.g. ``f"ndcg@{k}"``.
    alpha : float in (0, 1)
    cache : bool
        Save the results in the data home and load them on the next call with the same
        splits, embeddings, grids and settings (:func:`filmrec_toolkit.load_or_fit`, artefact
        ``"lm-hybrid-tuning"``); any change of these tunes again.
    **evaluate_kwargs
        Passed to :func:`filmrec_toolkit.evaluate`.

    Returns
    -------
    dict of name -> TuneResult (``best_params``, ``results``, the unfitted ``best_estimator``).
    """
    if not isinstance(embeddings, ItemEmbeddings):
        raise TypeError(f"embeddings must be ItemEmbeddings (from embed_items), got {type(embeddings).__name__}.")
    if not isinstance(cache, bool):
        raise TypeError(f"cache={cache!r} must be True or False.")

    def run() -> dict:
        base = standard_models(embeddings, include=list(LM_HYBRID_GRIDS))
        return {name: tune_blend(base[name], grid, train, valid, off=off, metric=metric, alpha=alpha, **evaluate_kwargs)
                for name, (grid, off) in LM_HYBRID_GRIDS.items()}

    if not cache:
        return run()
    return load_or_fit("lm-hybrid-tuning", run, dataset=train,
                       params={"valid": valid, "embeddings": embeddings, "metric": metric, "alpha": alpha,
                               "grids": LM_HYBRID_GRIDS, "evaluate": evaluate_kwargs,
                               "models": standard_models(embeddings, include=list(LM_HYBRID_GRIDS))})
