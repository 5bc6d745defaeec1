"""Audit figures: Lorenz curves, group gaps with CIs, trade-off curves, popularity distributions.

Every function takes ``ax=`` (a new figure when None) and returns the Figure.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["plot_lorenz_curves", "plot_group_gaps", "plot_tradeoff", "plot_popularity_distribution",
           "plot_model_means"]


def _axes(ax, figsize=(6, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _legend_outside(ax, **kwargs):
    """Legend to the right of the axes, so it never hides data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  borderaxespad=0.0, **kwargs)


def plot_lorenz_curves(exposures: Mapping[str, np.ndarray], ax=None):
    """Lorenz curve of item exposure per model, with the Gini index in the legend.

    ``exposures`` maps a model name to its exposure per catalogue item (e.g.
    :func:`~filmrec_toolkit.metrics.item_exposure`).
    """
    from ..metrics.beyond import gini_index, lorenz_curve

    fig, ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equal exposure")
    for name, values in exposures.items():
        x, y = lorenz_curve(values)
        ax.plot(x, y, label=f"{name} (Gini {gini_index(values):.3f})")
    ax.set_xlabel("cumulative share of items (least exposed first)")
    ax.set_ylabel("cumulative share of exposure")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Lorenz curves of item exposure")
    _legend_outside(ax)
    return fig


def plot_group_gaps(groups: pd.DataFrame, metric: str, attribute: str | None = None, ax=None):
    """Group means with their confidence intervals (bars + error bars).

    ``groups`` is :attr:`GroupFairness.groups` (optionally with a ``model`` column, one
    bar colour per model); ``attribute`` restricts to one attribute. With several
    attributes and no ``ax``, each attribute gets its own panel
    (:func:`~filmrec_toolkit.plots.plot_group_panels`) instead of one crowded axis.
    """
    if attribute is None and ax is None and groups.loc[groups["metric"] == metric, "attribute"].nunique() > 1:
        from .report import plot_group_panels

        return plot_group_panels(groups, metric)
    fig, ax = _axes(ax, figsize=(8, 4))
    sub = groups.loc[groups["metric"] == metric]
    if attribute is not None:
        sub = sub.loc[sub["attribute"] == attribute]
    if sub.empty:
        raise ValueError(f"no rows for metric={metric!r}, attribute={attribute!r}; metrics present: "
                         f"{sorted(groups['metric'].unique())}.")
    if "model" not in sub.columns:
        sub = sub.assign(model="")
    labels = list(dict.fromkeys(f"{a}: {g}" for a, g in zip(sub["attribute"], sub["group"])))
    models = list(dict.fromkeys(sub["model"]))
    width = 0.8 / len(models)
    x = np.arange(len(labels))
    for j, model in enumerate(models):
        m = sub.loc[sub["model"] == model]
        pos = [labels.index(f"{a}: {g}") for a, g in zip(m["attribute"], m["group"])]
        mean = m["mean"].to_numpy(dtype=float)
        err = np.vstack([mean - m["ci_low"].to_numpy(dtype=float), m["ci_high"].to_numpy(dtype=float) - mean])
        ax.bar(x[pos] + (j - (len(models) - 1) / 2) * width, mean, width, yerr=err, capsize=2,
               label=str(model) or None)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"mean {metric} (95% CI)")
    ax.set_title(f"{metric} by user group" + (f" ({attribute})" if attribute else ""))
    if len(models) > 1 or models[0]:
        _legend_outside(ax)
    fig.tight_layout()
    return fig


def plot_tradeoff(tradeoff: pd.DataFrame, x: str = "ild", y: str = "ndcg@10", ax=None):
    """Accuracy against a beyond-accuracy metric, one line per re-ranker, points labelled by value.

    ``tradeoff`` is the output of :func:`~filmrec_toolkit.audit.tradeoff_curve` (frames of
    several calls may be concatenated); the un-reranked row is a black star.
    """
    fig, ax = _axes(ax)
    for col in (x, y):
        if col not in tradeoff.columns:
            raise ValueError(f"{col!r} is not a column of tradeoff; it has {list(tradeoff.columns)}.")
    for name, part in tradeoff.groupby("reranker", sort=False):
        if name == "none":
            ax.scatter(part[x], part[y], marker="*", s=150, color="black", label="no re-ranking", zorder=3)
            continue
        part = part.sort_values("value")
        ax.plot(part[x], part[y], marker="o", label=f"{name} ({part['param'].iloc[0]})")
        for _, row in part.iterrows():
            ax.annotate(f"{row['value']:g}", (row[x], row[y]), fontsize=7, textcoords="offset points",
                        xytext=(3, 3))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"Trade-off: {y} vs {x}")
    _legend_outside(ax)
    return fig


def plot_popularity_distribution(popularity: pd.DataFrame, ax=None, bins: int = 30):
    """Distribution of training popularity of recommended vs consumed items.

    ``popularity`` has columns ``source`` (model name or e.g. "consumed (test)") and
    ``popularity`` (training rating count of each recommended / consumed item); drawn as
    step histograms (density) on a log10(1 + count) axis.
    """
    fig, ax = _axes(ax)
    values = np.log10(1.0 + popularity["popularity"].to_numpy(dtype=float))
    edges = np.linspace(0, max(values.max() if len(values) else 1.0, 1e-9), bins + 1)
    for name, part in popularity.groupby("source", sort=False):
        v = np.log10(1.0 + part["popularity"].to_numpy(dtype=float))
        ax.hist(v, bins=edges, density=True, histtype="step", linewidth=1.5, label=str(name))
    ax.set_xlabel("log10(1 + training ratings of the item)")
    ax.set_ylabel("density")
    ax.set_title("Popularity of recommended vs consumed items")
    _legend_outside(ax)
    return fig


def plot_model_means(per_user: Mapping[str, pd.DataFrame], metric: str = "ndcg@10", confidence: float = 0.95,
                     random_state=42, ax=None):
    """One bar per model: the mean of a per-user metric with its bootstrap confidence interval.

    ``per_user`` maps a model name to a per-user frame (``evaluate(...).per_user``);
    the interval is :func:`~filmrec_toolkit.metrics.bootstrap_ci` of the user values.
    """
    from ..metrics.fairness import bootstrap_ci

    if not per_user:
        raise ValueError("per_user is empty; pass {model name: evaluate(...).per_user}.")
    names, means, lows, highs = [], [], [], []
    for name, frame in per_user.items():
        if metric not in frame.columns:
            raise ValueError(f"per_user[{name!r}] has no column {metric!r}; it has {list(frame.columns)}.")
        values = frame[metric].to_numpy(dtype=float)
        lo, hi = bootstrap_ci(values, confidence=confidence, random_state=random_state)
        names.append(name)
        means.append(float(np.nanmean(values)))
        lows.append(lo)
        highs.append(hi)
    fig, ax = _axes(ax, figsize=(max(5, 1.6 * len(names)), 4))
    means = np.asarray(means)
    err = np.vstack([means - np.asarray(lows), np.asarray(highs) - means])
    ax.bar(range(len(names)), means, yerr=err, capsize=4, color="tab:blue", alpha=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15, ha="right", fontsize=8)
    ax.set_ylabel(f"mean {metric} ({confidence:.0%} bootstrap CI)")
    return fig
