"""Statistics for fairness audits: bootstrap CIs, rank tests, Holm correction, paired tests.

Pure functions over arrays; every random step takes ``random_state``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np
from scipy import stats

__all__ = ["StatTest", "bootstrap_ci", "mann_whitney", "kruskal_wallis", "group_test", "holm_correction",
           "paired_wilcoxon", "paired_bootstrap_ci"]


class StatTest(NamedTuple):
    """Name of the test, its statistic and its two-sided p-value."""

    test: str
    statistic: float
    p_value: float


def _clean(values, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence == {confidence}, must be in (0, 1), e.g. 0.95.")


def bootstrap_ci(values, n_resamples: int = 1000, confidence: float = 0.95, random_state=42,
                 statistic: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (or of ``statistic``).

    Draws ``n_resamples`` resamples of the values with replacement (seeded) and returns
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled
    statistic (Efron & Tibshirani 1993, ch. 13). NaNs are dropped; no value gives
    ``(nan, nan)``; one value gives a zero-width interval. ``statistic`` maps a
    ``(n_resamples, n)`` array to ``(n_resamples,)`` (default: row means).
    """
    _check_confidence(confidence)
    x = _clean(values, "values")
    if x.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(random_state)
    stat = statistic or (lambda a: a.mean(axis=1))
    out = np.empty(n_resamples)
    chunk = max(1, int(2**22 // max(1, x.size)))
    for s in range(0, n_resamples, chunk):
        m = min(chunk, n_resamples - s)
        out[s:s + m] = stat(x[rng.integers(0, x.size, size=(m, x.size))])
    lo, hi = np.quantile(out, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def mann_whitney(a, b) -> StatTest:
    """Two-sided Mann-Whitney U test of two independent samples (NaNs dropped).

    ``scipy.stats.mannwhitneyu(a, b, alternative="two-sided")`` (asymptotic normal
    approximation with tie and continuity correction for large samples, exact for small
    ones without ties). Fewer than one value in a group gives ``p = nan``.
    """
    x, y = _clean(a, "a"), _clean(b, "b")
    if x.size == 0 or y.size == 0:
        return StatTest("mann-whitney", float("nan"), float("nan"))
    res = stats.mannwhitneyu(x, y, alternative="two-sided")
    return StatTest("mann-whitney", float(res.statistic), float(res.pvalue))


def kruskal_wallis(*groups) -> StatTest:
    """Kruskal-Wallis H test of k >= 2 independent samples (NaNs and empty groups dropped).

    All values identical (H undefined) gives ``statistic = 0, p = 1``.
    """
    clean = [g for g in (_clean(x, "group") for x in groups) if g.size]
    if len(clean) < 2:
        return StatTest("kruskal-wallis", float("nan"), float("nan"))
    allv = np.concatenate(clean)
    if np.all(allv == allv[0]):
        return StatTest("kruskal-wallis", 0.0, 1.0)
    res = stats.kruskal(*clean)
    return StatTest("kruskal-wallis", float(res.statistic), float(res.pvalue))


def group_test(groups: Sequence) -> StatTest:
    """Mann-Whitney U for two groups, Kruskal-Wallis H for more."""
    groups = list(groups)
    if len(groups) == 2:
        return mann_whitney(*groups)
    return kruskal_wallis(*groups)


def holm_correction(p_values) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (family-wise error control).

    Sorted ascending ``p_(1) <= ... <= p_(m)``: ``p~_(j) = max_{l <= j} min(1, (m - l + 1) p_(l))``,
    returned in the input order. NaNs stay NaN and do not count in ``m``.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    if (p[ok] < 0).any() or (p[ok] > 1).any():
        raise ValueError("p_values must lie in [0, 1].")
    order = ok[np.argsort(p[ok], kind="mergesort")]
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adj)
    return out


def _paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"a and b must be paired values of the same users, got lengths {x.size} and {y.size}; "
                         "align them on user_id first.")
    ok = ~(np.isnan(x) | np.isnan(y))
    return x[ok], y[ok]


def paired_wilcoxon(a, b) -> StatTest:
    """Two-sided Wilcoxon signed-rank test of paired values ``a - b`` (pairs with a NaN dropped).

    ``scipy.stats.wilcoxon(a, b, zero_method="wilcox")``: zero differences are dropped;
    all differences zero gives ``statistic = 0, p = 1``.
    """
    x, y = _paired(a, b)
    d = x - y
    if d.size == 0:
        return StatTest("wilcoxon", float("nan"), float("nan"))
    if np.all(d == 0):
        return StatTest("wilcoxon", 0.0, 1.0)
    res = stats.wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
    return StatTest("wilcoxon", float(res.statistic), float(res.pvalue))


def paired_bootstrap_ci(a, b, n_resamples: int = 1000, confidence: float = 0.95,
                        random_state=42) -> tuple[float, float, float]:
    """Mean paired difference ``mean(a - b)`` with its percentile bootstrap CI.

    Resamples users (pairs) with replacement, so the CI respects the pairing.
    Returns ``(mean_difference, ci_low, ci_high)``.
    """
    x, y = _paired(a, b)
    d = x - y
    if d.size == 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = bootstrap_ci(d, n_resamples, confidence, random_state)
    return float(d.mean()), lo, hi
