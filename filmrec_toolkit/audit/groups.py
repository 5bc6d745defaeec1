"""User-group fairness: per-user metrics by user attribute, with CIs, gaps and tests."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from .._config import USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..metrics.beyond import head_items
from ..metrics.fairness import bootstrap_ci, group_test, holm_correction, mann_whitney
from .metric_info import higher_is_better

__all__ = ["user_attributes", "group_fairness", "GroupFairness", "DEFAULT_ATTRIBUTES", "cliffs_delta",
           "mean_difference_ci", "gap_change"]

#: Attributes :func:`group_fairness` tests by default (those present in the frame).
DEFAULT_ATTRIBUTES = ("gender", "age_group", "age_35", "occupation", "activity", "mainstreaminess_group")

_UNDER_35 = {"Under 18", "18-24", "25-34"}


def user_attributes(train: Dataset, users: pd.DataFrame | None = None, active_share: float = 0.2,
                    niche_share: float = 0.2, head_share: float = 0.2) -> pd.DataFrame:
    """One row per training user with the attributes audited by :func:`group_fairness`.

    Columns (those whose source exists):

    - ``gender``, ``age_group`` (ml-1m bands), ``occupation``: from ``users``
      (default ``train.users``).
    - ``age_35``: ``"<35"`` (bands Under 18, 18-24, 25-34 = ml-1m codes 1, 18, 25) or
      ``"35+"`` - the age split of Boratto et al. (ECIR 2022).
    - ``n_train``: training ratings; ``activity``: ``"high"`` for the ``active_share``
      most active users (ties broken by user row), else ``"low"`` - the advantaged /
      disadvantaged split of Li et al., "User-oriented fairness in recommendation"
      (WWW 2021), with their 5 % replaced by 20 %.
    - ``mainstreaminess``: share of the user's training items in the popularity head
      (:func:`~filmrec_toolkit.metrics.head_items`); ``mainstreaminess_group``:
      ``"niche"`` (lowest ``niche_share`` of users), ``"blockbuster"`` (highest
      ``niche_share``) or ``"diverse"`` - the user groups of Abdollahpouri et al., "The
      unfairness of popularity bias in recommendation" (RMSE workshop 2019).

    Users without training ratings get NaN activity-based columns.
    """
    train = ensure_dataset(train, "train")
    table = train.users if users is None else users
    if USER_COL not in table.columns:
        raise ValueError(f"users is missing column {USER_COL!r}; it has {list(table.columns)}.")
    out = pd.DataFrame({USER_COL: train.user_ids})
    extra = table.set_index(USER_COL).reindex(train.user_vocab.index)
    for col in ("gender", "age_group", "occupation"):
        if col in extra.columns:
            out[col] = extra[col].to_numpy()
    if "age_group" in out.columns:
        out["age_35"] = np.where(out["age_group"].isna(), None,
                                 np.where(out["age_group"].isin(_UNDER_35), "<35", "35+"))
    counts = train.user_counts()
    rated = counts > 0
    out["n_train"] = counts
    order = np.lexsort((np.arange(len(counts)), -counts))
    n_active = int(round(active_share * rated.sum()))
    activity = np.where(rated, "low", None).astype(object)
    activity[order[:n_active]] = "high"
    out["activity"] = activity
    head = head_items(train, head_share).astype(float)
    m = train.matrix
    head_in_profile = (m != 0).astype(float) @ head
    with np.errstate(invalid="ignore", divide="ignore"):
        ms = np.where(rated, head_in_profile / np.maximum(counts, 1), np.nan)
    out["mainstreaminess"] = ms
    group = np.full(len(ms), None, dtype=object)
    idx = np.flatnonzero(rated)
    if len(idx):
        by = idx[np.lexsort((idx, ms[idx]))]
        n_tail = int(round(niche_share * len(by)))
        group[by] = "diverse"
        group[by[:n_tail]] = "niche"
        if n_tail:
            group[by[len(by) - n_tail:]] = "blockbuster"
    out["mainstreaminess_group"] = group
    return out


def cliffs_delta(a, b) -> float:
    """Cliff's delta of ``a`` against ``b``: P(a > b) - P(a < b) over all pairs (NaNs dropped).

    Equals the rank-biserial correlation ``2 U_a / (n_a n_b) - 1`` of the Mann-Whitney U
    statistic (Cliff 1993). 0 = the two samples overlap completely, 1 = every value of
    ``a`` is larger. Romano et al. (2006) call |delta| < .147 negligible, < .33 small,
    < .474 medium, else large. Empty input gives NaN.
    """
    from scipy.stats import mannwhitneyu

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if x.size == 0 or y.size == 0:
        return float("nan")
    if np.all(x == x[0]) and np.all(y == x[0]):
        return 0.0
    u = mannwhitneyu(x, y, alternative="two-sided").statistic
    return float(2.0 * u / (x.size * y.size) - 1.0)


def mean_difference_ci(a, b, n_resamples: int = 1000, confidence: float = 0.95,
                       random_state=42) -> tuple[float, float, float]:
    """``mean(a) - mean(b)`` of two independent samples with a percentile bootstrap CI.

    Each sample is resampled with replacement on its own (users are independent across
    groups). Returns ``(difference, ci_low, ci_high)``; NaN when a sample is empty.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if x.size == 0 or y.size == 0:
        return float("nan"), float("nan"), float("nan")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence == {confidence}, must be in (0, 1), e.g. 0.95.")
    rng = np.random.default_rng(random_state)
    diffs = (x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(1)
             - y[rng.integers(0, y.size, size=(n_resamples, y.size))].mean(1))
    lo, hi = np.quantile(diffs, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(x.mean() - y.mean()), float(lo), float(hi)


class GroupFairness(NamedTuple):
    """Tables returned by :func:`group_fairness`.

    groups : one row per (metric, attribute, group): ``n_users, mean, ci_low, ci_high,
        diff_vs_rest`` (group mean - mean of all other users) and ``small`` (fewer than
        ``min_compare_size`` users: shown, tested, but never named best or worst).
    tests : one row per (metric, attribute): ``n_groups``, ``high_group``, ``low_group``,
        ``gap`` (largest - smallest group mean, whatever the metric's direction);
        ``higher_is_better``; ``better_group`` / ``worse_group`` (the best- and worst-served
        groups, respecting the direction: for miscalibration the *lower* mean is better),
        ``mean_better``, ``mean_worse``, ``diff`` (= mean_worse - mean_better, in the
        metric's units), ``diff_ci_low``, ``diff_ci_high`` (bootstrap CI of ``diff``),
        ``relative`` (``diff / mean_better``), ``effect_size`` (Cliff's delta of the better
        against the worse group, oriented so that positive = the better group really is
        better, :func:`cliffs_delta`); ``test``, ``statistic``, ``p_value`` (all groups) and
        ``p_holm`` (Holm-adjusted across the attributes tested for that metric).
    """

    groups: pd.DataFrame
    tests: pd.DataFrame


def group_fairness(per_user: pd.DataFrame, attributes: pd.DataFrame, metrics: Sequence[str] | None = None,
                   by: Sequence[str] | None = None, n_resamples: int = 1000, confidence: float = 0.95,
                   min_group_size: int = 1, min_compare_size: int = 20, random_state=42) -> GroupFairness:
    """Group means with bootstrap CIs, gaps and significance tests, for any per-user metric.

    Parameters
    ----------
    per_user : DataFrame
        ``user_id`` and one column per metric (e.g. ``evaluate(...).per_user``, or the
        ``per_user`` of an :class:`AuditReport`).
    attributes : DataFrame
        ``user_id`` and categorical attribute columns (e.g. :func:`user_attributes`).
    metrics : list of str, optional
        Default: every numeric column of ``per_user`` except ``user_id``, ``n_test``.
    by : list of str, optional
        Attribute columns; default the :data:`DEFAULT_ATTRIBUTES` present.
    n_resamples, confidence, random_state
        Percentile bootstrap of each group mean (:func:`~filmrec_toolkit.metrics.bootstrap_ci`).
    min_group_size : int
        Groups with fewer users are left out.
    min_compare_size : int
        Groups with fewer users are kept (and tested) but flagged ``small`` and not chosen
        as the better or worse group, unless fewer than two groups are that large.

    Tests: Mann-Whitney U (two-sided) for two groups, Kruskal-Wallis H for more
    (:func:`~filmrec_toolkit.metrics.group_test`); Holm correction across attributes per
    metric. Users with a missing attribute or metric value are left out of that test.
    """
    for name, frame in (("per_user", per_user), ("attributes", attributes)):
        if not isinstance(frame, pd.DataFrame) or USER_COL not in frame.columns:
            raise ValueError(f"{name} must be a DataFrame with a {USER_COL!r} column.")
    if metrics is None:
        metrics = [c for c in per_user.columns if c not in (USER_COL, "n_test", "model")
                   and pd.api.types.is_numeric_dtype(per_user[c])]
    missing = [m for m in metrics if m not in per_user.columns]
    if missing:
        raise ValueError(f"metrics {missing} are not columns of per_user; it has {list(per_user.columns)}.")
    if by is None:
        by = [a for a in DEFAULT_ATTRIBUTES if a in attributes.columns]
    missing = [a for a in by if a not in attributes.columns]
    if missing:
        raise ValueError(f"attributes {missing} are not columns of attributes; it has {list(attributes.columns)}.")
    joined = per_user[[USER_COL, *metrics]].merge(attributes[[USER_COL, *by]], on=USER_COL, how="left")
    group_rows, test_rows = [], []
    for metric in metrics:
        first_test = len(test_rows)
        for attr in by:
            sub = joined[[metric, attr]].dropna()
            sizes = sub.groupby(attr, sort=True)[metric].size()
            keep = sizes.index[sizes >= min_group_size]
            sub = sub.loc[sub[attr].isin(keep)]
            values = {g: v[metric].to_numpy(dtype=float) for g, v in sub.groupby(attr, sort=True)}
            total = sub[metric].to_numpy(dtype=float)
            means = {}
            for g, v in values.items():
                lo, hi = bootstrap_ci(v, n_resamples, confidence, random_state)
                rest = total.sum() - v.sum()
                n_rest = len(total) - len(v)
                means[g] = float(v.mean())
                group_rows.append({"metric": metric, "attribute": attr, "group": g, "n_users": len(v),
                                   "mean": means[g], "ci_low": lo, "ci_high": hi,
                                   "diff_vs_rest": means[g] - rest / n_rest if n_rest else np.nan,
                                   "small": len(v) < min_compare_size})
            if len(values) >= 2:
                res = group_test(list(values.values()))
                hi_g = max(means, key=means.get)
                lo_g = min(means, key=means.get)
                large = {g: m for g, m in means.items() if len(values[g]) >= min_compare_size}
                pool = large if len(large) >= 2 else means
                up = higher_is_better(metric)
                better = (max if up else min)(pool, key=pool.get)
                worse = (min if up else max)(pool, key=pool.get)
                diff, lo, hi = mean_difference_ci(values[worse], values[better], n_resamples, confidence,
                                                  random_state)
                delta = cliffs_delta(values[better], values[worse])
                test_rows.append({"metric": metric, "attribute": attr, "n_groups": len(values),
                                  "high_group": hi_g, "low_group": lo_g, "gap": means[hi_g] - means[lo_g],
                                  "higher_is_better": up, "better_group": better, "worse_group": worse,
                                  "n_better": len(values[better]), "n_worse": len(values[worse]),
                                  "mean_better": means[better], "mean_worse": means[worse], "diff": diff,
                                  "diff_ci_low": lo, "diff_ci_high": hi,
                                  "relative": diff / means[better] if means[better] else np.nan,
                                  "effect_size": delta if up else -delta,
                                  "test": res.test, "statistic": res.statistic, "p_value": res.p_value})
        fam = test_rows[first_test:]
        for row, adj in zip(fam, holm_correction([r["p_value"] for r in fam])):
            row["p_holm"] = adj
    groups = pd.DataFrame(group_rows, columns=["metric", "attribute", "group", "n_users", "mean", "ci_low",
                                               "ci_high", "diff_vs_rest", "small"])
    tests = pd.DataFrame(test_rows, columns=[
        "metric", "attribute", "n_groups", "high_group", "low_group", "gap", "higher_is_better", "better_group",
        "worse_group", "n_better", "n_worse", "mean_better", "mean_worse", "diff", "diff_ci_low", "diff_ci_high",
        "relative", "effect_size", "test", "statistic", "p_value", "p_holm"])
    return GroupFairness(groups, tests)


def gap_change(per_user_a: pd.DataFrame, per_user_b: pd.DataFrame, attributes: pd.DataFrame, attribute: str,
               high, low, metric: str = "ndcg@10", n_resamples: int = 1000, confidence: float = 0.95,
               random_state=42) -> dict:
    """Does model a narrow or widen a user-group gap compared with model b (same users)?

    gap = mean ``metric`` of group ``high`` - mean of group ``low`` (e.g. men - women),
    for each model, with a two-sided Mann-Whitney U test per gap
    (:func:`~filmrec_toolkit.metrics.mann_whitney`). The change is
    ``|gap_a| - |gap_b|`` with a percentile bootstrap CI that resamples *users* (both
    models' values of a user move together, so the pairing is kept). The verdict is
    ``"narrower"`` when the CI is below 0, ``"wider"`` when above, else ``"no
    significant change"``. Only users present in both frames with a group of
    ``attribute`` equal to ``high`` or ``low`` are used.

    Parameters
    ----------
    per_user_a, per_user_b : DataFrame
        ``user_id`` and ``metric`` (e.g. ``evaluate(...).per_user`` of two models on one test split).
    attributes : DataFrame
        ``user_id`` and ``attribute`` (e.g. :func:`user_attributes`).
    attribute : str
        E.g. ``"gender"`` or ``"age_35"``.
    high, low
        The two groups, e.g. ``"M", "F"`` or ``"<35", "35+"``.

    Returns
    -------
    dict with ``gap_a, p_a, gap_b, p_b, change, ci_low, ci_high, verdict, n_high, n_low``.
    """
    for name, frame in (("per_user_a", per_user_a), ("per_user_b", per_user_b)):
        if not isinstance(frame, pd.DataFrame) or USER_COL not in frame.columns or metric not in frame.columns:
            raise ValueError(f"{name} must be a DataFrame with columns {USER_COL!r} and {metric!r}.")
    if not isinstance(attributes, pd.DataFrame) or attribute not in attributes.columns:
        raise ValueError(f"attributes must be a DataFrame with a {attribute!r} column (see user_attributes).")
    joined = (per_user_a[[USER_COL, metric]]
              .merge(per_user_b[[USER_COL, metric]], on=USER_COL, suffixes=("_a", "_b"))
              .merge(attributes[[USER_COL, attribute]], on=USER_COL))
    joined = joined.loc[joined[attribute].isin([high, low])].dropna()
    g = (joined[attribute] == high).to_numpy()
    if g.all() or not g.any():
        raise ValueError(f"attribute {attribute!r} needs users in both groups {high!r} and {low!r}; "
                         f"found {joined[attribute].unique().tolist()}.")
    a = joined[f"{metric}_a"].to_numpy(dtype=float)
    b = joined[f"{metric}_b"].to_numpy(dtype=float)

    def change(idx: np.ndarray) -> float:
        gi = g[idx]
        if gi.all() or not gi.any():
            return np.nan
        ga = a[idx][gi].mean() - a[idx][~gi].mean()
        gb = b[idx][gi].mean() - b[idx][~gi].mean()
        return abs(ga) - abs(gb)

    rng = np.random.default_rng(random_state)
    boots = np.array([change(rng.integers(0, len(g), len(g))) for _ in range(n_resamples)])
    tail = (1.0 - confidence) / 2
    lo, hi = np.nanquantile(boots, [tail, 1.0 - tail])
    verdict = "narrower" if hi < 0 else "wider" if lo > 0 else "no significant change"
    return {"attribute": attribute, "high": high, "low": low, "n_high": int(g.sum()), "n_low": int((~g).sum()),
            "gap_a": float(a[g].mean() - a[~g].mean()), "p_a": mann_whitney(a[g], a[~g]).p_value,
            "gap_b": float(b[g].mean() - b[~g].mean()), "p_b": mann_whitney(b[g], b[~g]).p_value,
            "change": float(change(np.arange(len(g)))), "ci_low": float(lo), "ci_high": float(hi),
            "verdict": verdict}
