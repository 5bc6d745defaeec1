"""Paired comparison of models evaluated on the same users."""

from __future__ import annotations

from itertools import combinations
from typing import Mapping

import numpy as np
import pandas as pd

from .._config import USER_COL
from ..metrics.fairness import holm_correction, paired_bootstrap_ci, paired_wilcoxon

__all__ = ["compare_models", "paired_verdicts", "describe_comparison"]


def compare_models(per_user: Mapping[str, pd.DataFrame], metric: str = "ndcg@10", baseline: str | None = None,
                   n_resamples: int = 1000, confidence: float = 0.95, random_state=42) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank tests and paired bootstrap CIs between models.

    For each pair (every model against ``baseline``, or every pair), users present in
    both per-user frames with a defined ``metric`` are paired; the table gives
    ``n_users, mean_a, mean_b, diff = mean(a - b), ci_low, ci_high`` (percentile
    bootstrap over users, :func:`~filmrec_toolkit.metrics.paired_bootstrap_ci`),
    ``statistic, p_value`` (:func:`~filmrec_toolkit.metrics.paired_wilcoxon`) and
    ``p_holm`` (Holm across the pairs in the table).

    Parameters
    ----------
    per_user : mapping model name -> DataFrame with ``user_id`` and ``metric``
    """
    names = list(per_user)
    if len(names) < 2:
        raise ValueError(f"compare_models needs at least two models, got {names}.")
    for name in names:
        frame = per_user[name]
        if USER_COL not in frame.columns or metric not in frame.columns:
            raise ValueError(f"per_user[{name!r}] needs columns {USER_COL!r} and {metric!r}; "
                             f"it has {list(frame.columns)}.")
    if baseline is not None and baseline not in names:
        raise ValueError(f"baseline={baseline!r} is not one of the models {names}.")
    pairs = [(n, baseline) for n in names if n != baseline] if baseline else list(combinations(names, 2))
    rows = []
    for a, b in pairs:
        joined = per_user[a][[USER_COL, metric]].merge(per_user[b][[USER_COL, metric]], on=USER_COL,
                                                       suffixes=("_a", "_b")).dropna()
        x = joined[f"{metric}_a"].to_numpy(dtype=float)
        y = joined[f"{metric}_b"].to_numpy(dtype=float)
        diff, lo, hi = paired_bootstrap_ci(x, y, n_resamples, confidence, random_state)
        res = paired_wilcoxon(x, y)
        rows.append({"model_a": a, "model_b": b, "metric": metric, "n_users": len(joined),
                     "mean_a": float(x.mean()) if len(x) else np.nan, "mean_b": float(y.mean()) if len(y) else np.nan,
                     "diff": diff, "ci_low": lo, "ci_high": hi, "statistic": res.statistic, "p_value": res.p_value})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm_correction(out["p_value"].to_numpy())
    return out


def paired_verdicts(table: pd.DataFrame, alpha: float = 0.05, p_column: str = "p_holm") -> pd.Series:
    """One word per row of a :func:`compare_models` table: is ``model_a`` better than ``model_b``?

    ``"better"`` / ``"worse"`` when ``p_column`` < ``alpha`` (the sign of ``diff`` =
    mean(a - b) decides, higher metric = better), otherwise ``"no significant
    difference"`` (also when the p-value is missing).

    Parameters
    ----------
    table : DataFrame with ``diff`` and ``p_column``
    alpha : float in (0, 1)
    p_column : str
        ``"p_holm"`` (default) or ``"p_value"``.
    """
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha == {alpha!r}: must be in (0, 1); e.g. alpha=0.05.")
    for col in ("diff", p_column):
        if col not in table.columns:
            raise ValueError(f"table is missing column {col!r}; it has {list(table.columns)} "
                             "(pass the output of compare_models).")
    p = table[p_column].to_numpy(dtype=float)
    d = table["diff"].to_numpy(dtype=float)
    out = np.where(p < alpha, np.where(d > 0, "better", "worse"), "no significant difference")
    return pd.Series(out, index=table.index, name="verdict")


def describe_comparison(comparison: pd.DataFrame, alpha: float = 0.05, p_column: str = "p_holm") -> list[str]:
    """One plain sentence per row of :func:`compare_models`: better, worse or no significant difference.

    The sentences come from :func:`filmrec_toolkit.audit.findings.comparison_finding` (the
    one wording of a paired comparison in the package). "better" / "worse" are said only when the paired test's p-value (``p_column``,
    Holm-corrected by default) is below ``alpha``; otherwise the sentence says there
    is no significant difference. Means, the paired difference with its bootstrap
    CI, the p-value and the number of paired users are quoted from the table.

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`compare_models`.
    alpha : float in (0, 1)
        Significance level.
    p_column : {"p_holm", "p_value"}

    Returns
    -------
    list of str

    Examples
    --------
    >>> table = compare_models({"A": per_user_a, "B": per_user_b})   # doctest: +SKIP
    >>> describe_comparison(table)[0]                                  # doctest: +SKIP
    'A is more accurate than B: NDCG@10 0.391 vs 0.262, difference 0.129 (paired 95 % CI ...; 6039 users).'
    """
    needed = ("model_a", "model_b", "metric", "n_users", "mean_a", "mean_b", "diff", "ci_low", "ci_high", p_column)
    if not isinstance(comparison, pd.DataFrame) or any(c not in comparison.columns for c in needed):
        have = list(comparison.columns) if isinstance(comparison, pd.DataFrame) else type(comparison).__name__
        raise ValueError(f"comparison must be the DataFrame of compare_models (columns {list(needed)}); got {have}.")
    if not 0 < float(alpha) < 1:
        raise ValueError(f"alpha={alpha!r} must be in (0, 1), e.g. 0.05.")
    from .findings import comparison_finding  # the one sentence of a paired comparison

    out = []
    for row in comparison.to_dict(orient="records"):
        row = {**row, "p_holm": row[p_column]}
        sentence = comparison_finding(row, alpha)
        out.append(sentence if p_column == "p_holm" else sentence.replace("Holm-adjusted ", "unadjusted "))
    return out
