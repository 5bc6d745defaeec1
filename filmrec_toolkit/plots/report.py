"""Figures of the audit page: forest plot of gaps, accuracy vs beyond-accuracy, exposure by tier, group panels.

Every function takes ``ax=`` / ``fig=`` where it draws on one axes (a new figure when
None) and returns the Figure. :func:`audit_figures` draws the set the audit page shows,
on figures outside pyplot's registry (nothing to close).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..audit.findings import attribute_name, group_name
from ..audit.metric_info import higher_is_better, metric_label
from .audit import _legend_outside, plot_group_gaps, plot_lorenz_curves, plot_popularity_distribution, plot_tradeoff

__all__ = ["plot_gap_forest", "plot_accuracy_vs_beyond", "plot_exposure_tiers", "plot_group_panels",
           "audit_figures", "plot_audit", "AUDIT_PLOTS"]


def _figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def plot_gap_forest(tests: pd.DataFrame, metric: str = "ndcg@10", adjusted: pd.DataFrame | None = None,
                    alpha: float = 0.05, ax=None):
    """Forest plot: each model × attribute gap (worse-served minus better-served group mean) with its 95 % CI.

    Rows are labelled "model · worse group vs better group"; significant gaps (Holm p <
    ``alpha``) are drawn in red, others in grey; the activity-adjusted gap (OLS, see
    :func:`~filmrec_toolkit.audit.adjusted_gaps`) is a hollow diamond with its CI dotted.
    """
    t = tests.loc[tests["metric"] == metric].copy()
    if t.empty:
        raise ValueError(f"no tests for metric={metric!r}; metrics present: {sorted(tests['metric'].unique())}.")
    if "model" not in t.columns:
        t["model"] = ""
    t = t.sort_values(["attribute", "model"], kind="stable").reset_index(drop=True)
    n = len(t)
    if ax is None:
        fig = _figure((10, 1.2 + 0.32 * n))
        ax = fig.add_subplot()
    fig = ax.figure
    y = np.arange(n)[::-1]
    sig = t["p_holm"].fillna(1.0).to_numpy() < alpha
    colours = np.where(sig, "tab:red", "grey")
    diff = t["diff"].to_numpy(float)
    err = np.vstack([diff - t["diff_ci_low"].to_numpy(float), t["diff_ci_high"].to_numpy(float) - diff])
    for yi, d, e0, e1, c in zip(y, diff, err[0], err[1], colours):
        ax.errorbar(d, yi, xerr=[[e0], [e1]], fmt="o", color=c, capsize=2, markersize=5)
    if adjusted is not None and len(adjusted):
        keys = [k for k in ("model", "metric", "attribute") if k in adjusted.columns and k in t.columns]
        adj = t[keys].merge(adjusted, on=keys, how="left")
        a = adj["adjusted"].to_numpy(float)
        ok = ~np.isnan(a)
        ax.errorbar(a[ok], y[ok] - 0.3, xerr=[a[ok] - adj["ci_low"].to_numpy(float)[ok],
                                               adj["ci_high"].to_numpy(float)[ok] - a[ok]],
                    fmt="D", mfc="white", color="tab:blue", capsize=1.5, markersize=4, linestyle="none",
                    elinewidth=0.8, label="adjusted for activity (OLS)")
    ax.axvline(0, color="black", linewidth=0.8)
    labels = []
    for r in t.to_dict("records"):
        pair = f"{group_name(r['attribute'], r['worse_group'])} vs {group_name(r['attribute'], r['better_group'])}"
        labels.append(f"{r['model']} · {pair}" if r["model"] else pair)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    # attribute separators
    prev = None
    for yi, attr in zip(y, t["attribute"]):
        if prev is not None and attr != prev:
            ax.axhline(yi + 0.5, color="#dddddd", linewidth=0.8)
        prev = attr
    worse = "lower" if higher_is_better(metric) else "higher"
    ax.set_xlabel(f"gap in {metric_label(metric)}: worse-served minus better-served group "
                  f"(the first group named has the {worse} mean), 95 % CI")
    ax.errorbar([], [], xerr=[], fmt="o", color="tab:red", label=f"significant (Holm p < {alpha:g})")
    ax.errorbar([], [], xerr=[], fmt="o", color="grey", label="not significant")
    _legend_outside(ax)
    ax.set_title(f"Who is served worse? {metric_label(metric)} gaps per model and user attribute")
    return fig


def _label_points(ax, xs, ys, texts, fontsize=7):
    """Point labels pushed apart with adjustText (so they do not overlap)."""
    from adjustText import adjust_text

    items = [ax.text(x, y, t, fontsize=fontsize) for x, y, t in zip(xs, ys, texts)]
    if items:
        adjust_text(items, ax=ax, arrowprops=dict(arrowstyle="-", color="grey", lw=0.5))


def plot_accuracy_vs_beyond(summary: pd.DataFrame, tradeoff: pd.DataFrame | None = None, accuracy: str = "ndcg@10",
                            beyond=("coverage", "novelty", "gini"), fig=None):
    """Accuracy against each beyond-accuracy metric: one point per model and per re-ranker setting.

    ``summary`` is :attr:`AuditReport.summary` (models); ``tradeoff`` an optional
    :func:`~filmrec_toolkit.audit.tradeoff_curve` table (one point per setting, labelled
    by its parameter value). One panel per metric in ``beyond``; the axis label says
    whether higher or lower is better.
    """
    beyond = [b for b in beyond if b in summary.columns]
    if not beyond:
        raise ValueError(f"none of {beyond} is a column of summary; it has {list(summary.columns)}.")
    if fig is None:
        fig = _figure((4.2 * len(beyond) + 2.0, 4.2))
    axes = fig.subplots(1, len(beyond), squeeze=False)[0]
    markers = {"MMRReranker": ("s", "tab:orange", "MMR"), "CalibratedReranker": ("^", "tab:green", "calibrated"),
               "ExplorationReranker": ("v", "tab:purple", "exploration")}
    for ax, metric in zip(axes, beyond):
        ax.scatter(summary[metric], summary[accuracy], color="tab:blue", s=40, zorder=3, label="models")
        texts, xs, ys = list(summary.index.astype(str)), list(summary[metric]), list(summary[accuracy])
        if tradeoff is not None and metric in tradeoff.columns:
            for name, part in tradeoff.loc[tradeoff["reranker"] != "none"].groupby("reranker", sort=False):
                mk, colour, short = markers.get(name, ("x", "black", name))
                ax.scatter(part[metric], part[accuracy], marker=mk, color=colour, s=30,
                           label=f"{short} re-ranking (λ)")
                for _, r in part.iterrows():
                    texts.append(f"{r['value']:g}")
                    xs.append(r[metric])
                    ys.append(r[accuracy])
        _label_points(ax, xs, ys, texts)
        better = "higher is better" if higher_is_better(metric) else "lower is better"
        ax.set_xlabel(f"{metric_label(metric)} ({better})")
        ax.set_ylabel(metric_label(accuracy))
        ax.grid(alpha=0.3)
    _legend_outside(axes[-1])
    fig.suptitle(f"Accuracy vs beyond-accuracy: {metric_label(accuracy)} against "
                 + ", ".join(metric_label(b) for b in beyond))
    return fig


def plot_exposure_tiers(exposure: pd.DataFrame, ax=None):
    """Share of position-weighted exposure per popularity tier (head / mid / tail) for each model,
    next to each tier's share of the catalogue and of training ratings."""
    e = exposure
    if "by" in e.columns:
        e = e.loc[e["by"] == "popularity"]
    if e.empty:
        raise ValueError("exposure has no popularity rows; pass AuditReport.exposure.")
    if "model" not in e.columns:
        e = e.assign(model="model")
    tiers = [g for g in ("head", "mid", "tail") if g in set(e["group"])]
    models = list(dict.fromkeys(e["model"]))
    first = e.loc[e["model"] == models[0]].set_index("group")
    series = {"catalogue": first["catalog_share"].reindex(tiers).to_numpy(float),
              "training ratings": first["interaction_share"].reindex(tiers).to_numpy(float)}
    for m in models:
        series[str(m)] = e.loc[e["model"] == m].set_index("group")["exposure_share"].reindex(tiers).to_numpy(float)
    if ax is None:
        fig = _figure((9, 3.8))
        ax = fig.add_subplot()
    fig = ax.figure
    width = 0.8 / len(series)
    x = np.arange(len(tiers))
    for j, (name, vals) in enumerate(series.items()):
        style = dict(color="lightgrey", hatch="//") if name == "catalogue" else \
            dict(color="darkgrey") if name == "training ratings" else {}
        ax.bar(x + (j - (len(series) - 1) / 2) * width, vals, width, label=name, **style)
    ax.set_xticks(x)
    ax.set_xticklabels([{"head": "head (most rated)", "mid": "mid", "tail": "long tail"}[t] for t in tiers])
    ax.set_ylabel("share")
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title("Exposure by popularity tier (grey: the tier's share of catalogue and of ratings)")
    _legend_outside(ax)
    return fig


def plot_group_panels(groups: pd.DataFrame, metric: str = "ndcg@10", attributes=None, fig=None, ncols: int = 3):
    """One panel per user attribute: each group's mean (95 % CI) per model, small groups faded.

    ``groups`` is :attr:`AuditReport.groups` (or :attr:`GroupFairness.groups` with a
    ``model`` column).
    """
    g = groups.loc[groups["metric"] == metric]
    if g.empty:
        raise ValueError(f"no group rows for metric={metric!r}.")
    if "model" not in g.columns:
        g = g.assign(model="")
    attributes = list(dict.fromkeys(g["attribute"])) if attributes is None else list(attributes)
    ncols = min(ncols, len(attributes))
    nrows = int(np.ceil(len(attributes) / ncols))
    heights = [max(len(set(g.loc[g["attribute"] == a, "group"])) for a in attributes[r * ncols:(r + 1) * ncols])
               for r in range(nrows)]
    if fig is None:
        fig = _figure((4.0 * ncols + 2.0, sum(0.9 + 0.28 * h for h in heights)))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False, gridspec_kw={"height_ratios": heights})).ravel()
    models = list(dict.fromkeys(g["model"]))
    colours = {m: f"C{i}" for i, m in enumerate(models)}
    for ax, attr in zip(axes, attributes):
        part = g.loc[g["attribute"] == attr]
        labels = list(dict.fromkeys(part["group"].astype(str)))
        y = {lab: i for i, lab in enumerate(labels)}
        for j, m in enumerate(models):
            pm = part.loc[part["model"] == m]
            offs = (j - (len(models) - 1) / 2) * 0.8 / max(len(models), 1)
            ys = np.array([y[str(v)] for v in pm["group"]]) + offs
            mean = pm["mean"].to_numpy(float)
            small = pm["small"].to_numpy(bool) if "small" in pm.columns else np.zeros(len(pm), bool)
            for yi, mu, lo, hi, sm in zip(ys, mean, pm["ci_low"], pm["ci_high"], small):
                ax.errorbar(mu, yi, xerr=[[mu - lo], [hi - mu]], fmt="o", markersize=3, capsize=1.5,
                            color=colours[m], alpha=0.35 if sm else 1.0)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(attribute_name(attr), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(attributes):]:
        ax.set_visible(False)
    for m in models:
        axes[0].errorbar([], [], fmt="o", color=colours[m], label=str(m))
    handles, labels = axes[0].get_legend_handles_labels()
    if any(labels):
        fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(f"Mean {metric_label(metric)} per user group (95 % CI; faded: fewer than 20 users)")
    return fig


def audit_figures(report, metric: str | None = None) -> dict:
    """The figures of the audit page, by caption: forest plot, accuracy vs beyond-accuracy,
    exposure by popularity tier, Lorenz curves, trade-off curves, group panels."""
    metric = metric or f"ndcg@{report.k}"
    figs = {}
    if len(report.tests) and metric in set(report.tests["metric"]):
        figs["Gap between the worse- and the better-served group of each attribute (red: significant; "
             "blue diamond: the same gap at equal activity)."] = plot_gap_forest(report.tests, metric,
                                                                                report.adjusted)
    beyond = [b for b in ("coverage", "novelty", "gini") if b in report.summary.columns]
    if beyond and metric in report.summary.columns:
        figs["Accuracy against catalogue coverage, novelty and exposure inequality: one point per model and "
             "per re-ranking setting (labelled by λ)."] = plot_accuracy_vs_beyond(report.summary, report.tradeoff,
                                                                                  metric, beyond)
    if report.exposure is not None and len(report.exposure):
        figs["How much attention the most popular films get, against their share of the catalogue."] = \
            plot_exposure_tiers(report.exposure)
    fig = _figure((8, 4.5))
    plot_lorenz_curves({m: report.item_exposure[m].to_numpy() for m in report.item_exposure.columns},
                       ax=fig.add_subplot())
    figs["Lorenz curves of item exposure: the further below the diagonal, the more a few films take all the "
         "exposure."] = fig
    if report.tradeoff is not None:
        cols = [c for c in ("ild", "miscalibration") if c in report.tradeoff.columns]
        if cols:
            fig = _figure((6 * len(cols) + 2, 4.2))
            for ax, c in zip(np.atleast_1d(fig.subplots(1, len(cols))), cols):
                plot_tradeoff(report.tradeoff, c, metric, ax=ax)
            figs["Re-ranking trade-offs: accuracy against diversity and against miscalibration "
                 "(lower miscalibration is better)."] = fig
    if len(report.groups) and metric in set(report.groups["metric"]):
        figs[f"Mean {metric_label(metric)} of every user group, per attribute."] = \
            plot_group_panels(report.groups, metric)
    return figs


#: what :func:`plot_audit` can draw from an :class:`~filmrec_toolkit.AuditReport`
AUDIT_PLOTS = ("lorenz", "group_gaps", "tradeoff", "popularity")


def plot_audit(report, kind: str, ax=None, *, metric: str | None = None, attribute: str | None = None,
               x: str = "ild"):
    """Draw one view of an audit report's tables (audits produce tables, plots draw them).

    Parameters
    ----------
    report : AuditReport
        The result of :func:`filmrec_toolkit.audit`.
    kind : {"lorenz", "group_gaps", "tradeoff", "popularity"}
        ``"lorenz"``: Lorenz curves of item exposure, one per model; ``"group_gaps"``: group
        means with bootstrap CIs of ``metric`` for ``attribute``; ``"tradeoff"``: re-ranking
        trade-off of ``metric`` (y) against ``x`` (needs ``tradeoff=`` in ``audit``);
        ``"popularity"``: popularity of recommended vs consumed items.
    ax : matplotlib Axes, optional
    metric : str, optional
        Accuracy metric (default ``ndcg@k`` of the report).
    attribute : str, optional
        User attribute for ``"group_gaps"`` (default: every attribute).
    x : str
        Beyond-accuracy column of the trade-off table for ``"tradeoff"``.

    Returns
    -------
    matplotlib Figure
    """
    metric = metric or f"ndcg@{report.k}"
    if kind == "lorenz":
        return plot_lorenz_curves({m: report.item_exposure[m].to_numpy() for m in report.item_exposure.columns},
                                  ax=ax)
    if kind == "group_gaps":
        return plot_group_gaps(report.groups, metric, attribute, ax=ax)
    if kind == "tradeoff":
        if report.tradeoff is None:
            raise ValueError("kind='tradeoff': this report has no trade-off table; pass "
                             "tradeoff=tradeoff_curve(...) to audit().")
        return plot_tradeoff(report.tradeoff, x, metric, ax=ax)
    if kind == "popularity":
        return plot_popularity_distribution(report.popularity, ax=ax)
    raise ValueError(f"kind={kind!r} is not one of {AUDIT_PLOTS}; e.g. plot_audit(report, 'lorenz').")
