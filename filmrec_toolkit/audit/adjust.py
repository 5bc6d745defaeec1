"""User-group gaps adjusted for user activity (a confounder of most demographic gaps).

Users with more training ratings get better lists, and groups differ in how much they
rate (on ml-100k women have a median of 40 training ratings, men 52). A raw gap between
two groups can therefore be an activity gap in disguise. Two adjustments are computed
(the protocols document asks for one of them, named):

- **OLS** (the one findings quote): the group coefficient of an ordinary least-squares
  fit of the per-user metric on ``1 + [user in the worse group] + log(1 + training
  ratings)``, with a heteroscedasticity-robust (HC1, White 1980 / MacKinnon & White
  1985) standard error, its t-based CI and two-sided p-value;
- **stratified**: users cut into activity quantile bins (``n_bins`` bins of
  ``log(1 + training ratings)`` over the two groups' users); the gap within each bin
  holding both groups, averaged with weights = bin sizes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._config import USER_COL

__all__ = ["activity_adjusted_gap", "adjusted_gaps"]


def _ols_group_effect(y: np.ndarray, in_group: np.ndarray, covariate: np.ndarray,
                      confidence: float) -> tuple[float, float, float, float]:
    """Coefficient of ``in_group`` in y ~ 1 + in_group + covariate, HC1 CI and p."""
    x = np.column_stack([np.ones_like(y), in_group.astype(float), covariate])
    n, p = x.shape
    if n <= p or np.linalg.matrix_rank(x) < p:
        return float("nan"), float("nan"), float("nan"), float("nan")
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    meat = (x * resid[:, None] ** 2).T @ x
    cov = xtx_inv @ meat @ xtx_inv * n / (n - p)
    se = float(np.sqrt(max(cov[1, 1], 0.0)))
    coef = float(beta[1])
    if se == 0:
        return coef, coef, coef, (1.0 if coef == 0 else 0.0)
    t = stats.t.ppf((1 + confidence) / 2, n - p)
    pval = float(2 * stats.t.sf(abs(coef / se), n - p))
    return coef, coef - t * se, coef + t * se, pval


def _stratified_gap(y: np.ndarray, in_group: np.ndarray, activity: np.ndarray, n_bins: int) -> tuple[float, int]:
    """Bin-size-weighted mean of the within-bin gaps (group minus rest); bins lacking a group are skipped."""
    bins = pd.qcut(pd.Series(activity).rank(method="first"), q=min(n_bins, len(y)), labels=False)
    gaps, weights = [], []
    for b in np.unique(bins):
        m = bins.to_numpy() == b
        g, r = m & in_group, m & ~in_group
        if g.any() and r.any():
            gaps.append(y[g].mean() - y[r].mean())
            weights.append(m.sum())
    if not gaps:
        return float("nan"), 0
    return float(np.average(gaps, weights=weights)), len(gaps)


def activity_adjusted_gap(values, in_group, n_train, n_bins: int = 5, confidence: float = 0.95) -> dict:
    """Raw and activity-adjusted gap of one group against another, for one per-user metric.

    Parameters
    ----------
    values : array (n,)
        Per-user metric (NaNs dropped with their user).
    in_group : bool array (n,)
        True for the users of the group whose gap is measured (e.g. the worse-served
        group), False for the comparison group.
    n_train : array (n,)
        Training ratings of each user (the activity); entered as ``log(1 + n_train)``.
    n_bins : int
        Activity quantile bins of the stratified estimate.
    confidence : float

    Returns
    -------
    dict with ``n``, ``raw`` (mean of the group minus mean of the rest), ``adjusted``,
    ``ci_low``, ``ci_high``, ``p_value`` (OLS, HC1), ``stratified`` and ``n_strata``.
    """
    y = np.asarray(values, dtype=float)
    g = np.asarray(in_group, dtype=bool)
    a = np.asarray(n_train, dtype=float)
    if not (len(y) == len(g) == len(a)):
        raise ValueError(f"values, in_group and n_train must have one entry per user; got lengths "
                         f"{len(y)}, {len(g)}, {len(a)}.")
    ok = ~(np.isnan(y) | np.isnan(a))
    y, g, a = y[ok], g[ok], a[ok]
    out = {"n": int(len(y)), "raw": float("nan"), "adjusted": float("nan"), "ci_low": float("nan"),
           "ci_high": float("nan"), "p_value": float("nan"), "stratified": float("nan"), "n_strata": 0}
    if not g.any() or g.all():
        return out
    out["raw"] = float(y[g].mean() - y[~g].mean())
    cov = np.log1p(np.maximum(a, 0))
    out["adjusted"], out["ci_low"], out["ci_high"], out["p_value"] = _ols_group_effect(y, g, cov, confidence)
    out["stratified"], out["n_strata"] = _stratified_gap(y, g, cov, n_bins)
    return out


def adjusted_gaps(per_user: pd.DataFrame, attributes: pd.DataFrame, tests: pd.DataFrame,
                  activity: str = "n_train", n_bins: int = 5, confidence: float = 0.95,
                  skip=("activity",)) -> pd.DataFrame:
    """Activity-adjusted version of every gap in a group-fairness ``tests`` table.

    For each row of ``tests`` (:func:`group_fairness`, optionally with a ``model`` column
    matched against ``per_user["model"]``), the gap between its ``worse_group`` and
    ``better_group`` is re-estimated with :func:`activity_adjusted_gap`. Attributes in
    ``skip`` (activity itself) are left out.

    Returns
    -------
    DataFrame ``[model,] metric, attribute, worse_group, better_group, n, raw, adjusted,
    ci_low, ci_high, p_value, p_holm, stratified, n_strata, method``; ``raw`` and
    ``adjusted`` are worse minus better, in the metric's units; ``p_holm`` is Holm-adjusted
    across the attributes of each (model, metric), like the raw tests.
    """
    from ..metrics.fairness import holm_correction

    if activity not in attributes.columns:
        raise ValueError(f"attributes has no {activity!r} column (training ratings per user); "
                         f"it has {list(attributes.columns)}. Use user_attributes(train).")
    need = {"metric", "attribute", "worse_group", "better_group"}
    if not need <= set(tests.columns):
        raise ValueError(f"tests is missing columns {sorted(need - set(tests.columns))}; pass group_fairness(...).tests.")
    rows = []
    for _, t in tests.iterrows():
        if t["attribute"] in skip or t["attribute"] == activity or t["attribute"] not in attributes.columns:
            continue
        pu = per_user
        if "model" in tests.columns and "model" in per_user.columns:
            pu = per_user.loc[per_user["model"] == t["model"]]
        if t["metric"] not in pu.columns:
            continue
        joined = pu[[USER_COL, t["metric"]]].merge(attributes[[USER_COL, t["attribute"], activity]], on=USER_COL)
        joined = joined.loc[joined[t["attribute"]].isin([t["worse_group"], t["better_group"]])]
        res = activity_adjusted_gap(joined[t["metric"]].to_numpy(float),
                                    (joined[t["attribute"]] == t["worse_group"]).to_numpy(),
                                    joined[activity].to_numpy(float), n_bins, confidence)
        row = {"metric": t["metric"], "attribute": t["attribute"], "worse_group": t["worse_group"],
               "better_group": t["better_group"], **res,
               "method": "OLS on group + log(1 + training ratings), HC1 CI"}
        if "model" in tests.columns:
            row = {"model": t["model"], **row}
        rows.append(row)
    cols = (["model"] if "model" in tests.columns else []) + [
        "metric", "attribute", "worse_group", "better_group", "n", "raw", "adjusted", "ci_low", "ci_high",
        "p_value", "p_holm", "stratified", "n_strata", "method"]
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        fam = [c for c in ("model", "metric") if c in out.columns]
        out["p_holm"] = out.groupby(fam, sort=False)["p_value"].transform(lambda p: holm_correction(p.to_numpy()))
    return out
