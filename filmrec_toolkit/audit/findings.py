"""Plain-language findings computed from audit tables (never written by hand).

Every function reads numbers from the tables of :func:`~filmrec_toolkit.audit.audit` /
:func:`~filmrec_toolkit.audit.group_fairness` and returns sentences. The wording rules:

- a group is "served worse" only when the test across groups is significant after Holm
  correction (``alpha``); otherwise the sentence says "no significant difference";
- "worse" follows the metric's direction (:func:`higher_is_better`: lower miscalibration
  or popularity is better);
- a gap is given as both group means, the absolute and relative difference, its 95 %
  bootstrap CI, Cliff's delta (effect size) and the Holm-adjusted p-value;
- "reproduced" only when direction and significance match the published result.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .metric_info import format_number, format_p, format_percent, higher_is_better, metric_label

__all__ = [
    "published_accuracy", "published_gap_table", "group_name", "attribute_name", "gap_findings", "gap_summary", "adjustment_summary", "adjustment_findings", "best_model_finding",
           "comparison_finding", "tradeoff_finding", "exposure_finding", "split_agreement", "load_published",
           "replication_findings", "effect_size_label", "gap_change_sentences"]

_NAMES = {
    ("gender", "F"): "women", ("gender", "M"): "men",
    ("age_35", "<35"): "users under 35", ("age_35", "35+"): "users aged 35 and over",
    ("activity", "low"): "less active users", ("activity", "high"): "the most active users (top 20 %)",
    ("mainstreaminess_group", "niche"): "niche-taste users",
    ("mainstreaminess_group", "blockbuster"): "blockbuster-taste users",
    ("mainstreaminess_group", "diverse"): "users of middling mainstream taste",
}
_ATTRIBUTES = {"gender": "gender", "age_35": "age (under / over 35)", "age_group": "age band",
               "occupation": "occupation", "activity": "activity", "mainstreaminess_group": "mainstream taste"}


def group_name(attribute: str, value) -> str:
    """Readable name of a user group: ``("gender", "F") -> "women"``, ``("age_group", "18-24") -> "users aged 18-24"``."""
    key = (str(attribute), str(value))
    if key in _NAMES:
        return _NAMES[key]
    if attribute == "age_group":
        return f"users aged {value}" if value != "Under 18" else "users under 18"
    if attribute == "occupation":
        return f"users who are {'an' if str(value)[:1].lower() in 'aeiou' else 'a'} {value}" \
            if value not in ("other", "none") else f"users with occupation '{value}'"
    return f"users with {attribute} = {value}"


_PLURALS = {"age_group": "age bands", "occupation": "occupations", "mainstreaminess_group": "mainstream-taste groups",
            "activity": "activity groups", "gender": "genders", "age_35": "age groups"}


def attribute_name(attribute: str, plural: bool = False) -> str:
    """Readable attribute name (``age_35 -> "age (under / over 35)"``; plural: ``occupation -> "occupations"``)."""
    if plural:
        return _PLURALS.get(str(attribute), f"{attribute} groups")
    return _ATTRIBUTES.get(str(attribute), str(attribute))


def _lower(label: str) -> str:
    """A metric label inside a sentence: "Miscalibration" -> "miscalibration", "NDCG@10" unchanged."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def effect_size_label(delta: float) -> str:
    """Romano et al. (2006) thresholds for |Cliff's delta|: negligible, small, medium, large."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "effect size undefined"
    d = abs(float(delta))
    return "negligible" if d < 0.147 else "small" if d < 0.33 else "medium" if d < 0.474 else "large"


def _signif(p, alpha: float) -> bool:
    return p is not None and not (isinstance(p, float) and math.isnan(p)) and float(p) < alpha


def _join(parts: Sequence[str]) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _gap_numbers(row) -> str:
    """'0.312 vs 0.351: 0.039 lower (−11 %; 95 % CI of the gap 0.012 to 0.066), Cliff's δ 0.09 (negligible), Holm p = 0.003'."""
    up = bool(row.get("higher_is_better", higher_is_better(row["metric"])))
    diff = float(row["diff"])
    word = "lower" if diff < 0 else "higher"
    lo, hi = float(row["diff_ci_low"]), float(row["diff_ci_high"])
    if diff < 0:  # magnitudes of a negative gap, smaller bound first
        lo, hi = -hi, -lo
    rel = row.get("relative", np.nan)
    rel_text = f"{format_percent(rel, signed=True)}; " if rel is not None and not pd.isna(rel) else ""
    direction = "" if up else ", lower is better"
    return (f"{format_number(row['mean_worse'])} vs {format_number(row['mean_better'])}: "
            f"{format_number(abs(diff))} {word} ({rel_text}95 % CI of the gap {format_number(lo)} to "
            f"{format_number(hi)}{direction}), Cliff's δ = {float(row['effect_size']):.2f} "
            f"({effect_size_label(row['effect_size'])}), Holm-adjusted {format_p(row['p_holm'])}")


def _tests_frame(tests: pd.DataFrame | None, metrics: Iterable[str] | None) -> pd.DataFrame | None:
    """A copy of a group-tests table with a ``model`` column, restricted to ``metrics``; None when empty."""
    if tests is None or len(tests) == 0:
        return None
    t = tests.copy()
    if "model" not in t.columns:
        t["model"] = None
    if metrics is not None:
        t = t.loc[t["metric"].isin(list(metrics))]
    return t


def gap_findings(tests: pd.DataFrame, metrics: Iterable[str] | None = None, alpha: float = 0.05,
                 skip_attributes: Iterable[str] = ()) -> list[str]:
    """Sentences on who is served worse, from a :func:`group_fairness` ``tests`` table.

    One sentence per (metric, attribute, worse group, better group) for the significant
    gaps (Holm-adjusted p < ``alpha``), naming each model with its numbers; one sentence
    per (metric, attribute) saying "no significant difference" for the other models.
    ``tests`` may have a ``model`` column (an audit's tests) or not.
    """
    t = _tests_frame(tests, metrics)
    if t is None:
        return []
    t = t.loc[~t["attribute"].isin(list(skip_attributes))]
    out = []
    for (metric, attr), part in t.groupby(["metric", "attribute"], sort=False):
        label = metric_label(metric)
        sig = part.loc[part["p_holm"].map(lambda p: _signif(p, alpha))]
        for (worse, better), rows in sig.groupby(["worse_group", "better_group"], sort=False):
            multi = int(rows["n_groups"].max()) > 2
            who = (f"{group_name(attr, worse)} are served worst and {group_name(attr, better)} best"
                   if multi else f"{group_name(attr, worse)} are served worse than {group_name(attr, better)}")
            scope = f" (of {int(rows['n_groups'].max())} {attribute_name(attr, plural=True)})" if multi else ""
            several = len(rows) > 1
            items = [(f"{m}: " if several and m is not None else "") + _gap_numbers(r) for m, r in
                     zip(rows["model"], rows.to_dict("records"))]
            by = "" if rows["model"].isna().all() else (" by " + _join([str(m) for m in rows["model"]]))
            out.append(f"On {label}, {who}{scope}{by}" + (" — " if several else " (")
                       + "; ".join(items) + ("." if several else ")."))
        rest = part.loc[~part.index.isin(sig.index)]
        if len(rest):
            out.append(_no_difference(rest, metric, attr))
    return out


def gap_summary(tests: pd.DataFrame, metrics: Iterable[str] | None = None, alpha: float = 0.05) -> list[str]:
    """Short form of :func:`gap_findings` for a summary: one sentence per significant gap pattern,
    with the range of sizes over the models, and one sentence listing where no significant
    difference was found."""
    t = _tests_frame(tests, metrics)
    if t is None:
        return []
    out, quiet = [], []
    n_models = t["model"].nunique()
    for (metric, attr), part in t.groupby(["metric", "attribute"], sort=False):
        sig = part.loc[part["p_holm"].map(lambda p: _signif(p, alpha))]
        for (worse, better), rows in sig.groupby(["worse_group", "better_group"], sort=False):
            models = [str(m) for m in rows["model"] if m is not None]
            who = ("every model" if n_models > 1 and len(models) == n_models
                   else _join(models) if models else "the model")
            gaps, rel = rows["diff"].abs(), rows["relative"]
            word = "lower" if higher_is_better(metric) else "higher"
            if len(rows) == 1:
                size = f"{format_number(gaps.iloc[0])} ({format_percent(rel.iloc[0], signed=True)})"
                p_text = format_p(rows["p_holm"].iloc[0])
            else:
                lo, hi = rel.loc[rel.abs().idxmin()], rel.loc[rel.abs().idxmax()]
                size = (f"{format_number(gaps.min())} to {format_number(gaps.max())} "
                        f"({format_percent(lo, signed=True)} to {format_percent(hi, signed=True)})")
                p_text = "p ≤ " + format_p(rows["p_holm"].max()).split(" ", 2)[-1]
            out.append(f"{group_name(attr, worse)[:1].upper()}{group_name(attr, worse)[1:]} are served worse than "
                       f"{group_name(attr, better)} by {who}: {metric_label(metric)} {word} by {size}, "
                       f"Holm-adjusted {p_text}.")
        if sig.empty:
            quiet.append((metric, attribute_name(attr)))
        elif len(sig) < len(part):
            others = [str(m) for m in part.loc[~part.index.isin(sig.index), "model"] if m is not None]
            out.append(f"By {attribute_name(attr)}, no significant difference for {_join(others)}.")
    for metric in dict.fromkeys(m for m, _ in quiet):
        names = [a for m, a in quiet if m == metric]
        out.append(f"No significant difference in {metric_label(metric)} by {_join(names)}.")
    return out


def _no_difference(rest: pd.DataFrame, metric: str, attr: str) -> str:
    label = metric_label(metric)
    multi = int(rest["n_groups"].max()) > 2
    if multi:
        between = f"across {attribute_name(attr, plural=True)}"
    else:
        groups = sorted({str(g) for g in rest["better_group"]} | {str(g) for g in rest["worse_group"]})
        between = "between " + _join([group_name(attr, g) for g in groups])
    models = [m for m in rest["model"] if m is not None]
    ps = rest["p_holm"].dropna()
    p_text = ""
    if len(ps) == 1:
        p_text = f"Holm-adjusted {format_p(ps.iloc[0])}"
    elif len(ps):
        p_text = f"Holm-adjusted p ≥ {format_p(ps.min()).split(' ', 2)[-1]}"
    if len(rest) == 1 and not multi:
        r = rest.iloc[0]
        p_text = (f"{format_number(r['mean_worse'])} vs {format_number(r['mean_better'])}, " + p_text).strip(", ")
    who = f" for {_join([str(m) for m in models])}" if models else ""
    return f"No significant difference in {label} {between}{who} ({p_text})."


def adjustment_findings(adjusted: pd.DataFrame, tests: pd.DataFrame, metrics: Iterable[str] | None = None,
                        alpha: float = 0.05, shrink: float = 0.25) -> list[str]:
    """What happens to each significant gap once user activity is accounted for.

    ``adjusted`` is :func:`~filmrec_toolkit.audit.adjusted_gaps` (OLS estimate, HC1 CI);
    a gap "vanishes" when the adjusted one is no longer significant (p >= ``alpha``),
    "shrinks" / "grows" when it changes by more than ``shrink`` of its size, "reverses"
    when it changes sign significantly, and "stays about the same" otherwise. A raw gap
    of a two-group attribute that was not significant but becomes so is reported too.
    The method (OLS on group + log(1 + training ratings), HC1 CI, Holm across
    attributes) is named by the caller once, e.g. in a heading.
    """
    if adjusted is None or len(adjusted) == 0:
        return []
    a = adjusted.copy()
    if metrics is not None:
        a = a.loc[a["metric"].isin(list(metrics))]
    keys = [c for c in ("model", "metric", "attribute") if c in a.columns and c in tests.columns]
    extra = ["n_groups"] if "n_groups" in tests.columns else []
    merged = a.merge(tests[[*keys, "p_holm", *extra]].rename(columns={"p_holm": "raw_p_holm"}), on=keys, how="left")
    out = []
    for r in merged.to_dict("records"):
        raw, adj = float(r["raw"]), float(r["adjusted"])
        if math.isnan(adj):
            continue
        adj_p = r.get("p_holm", r["p_value"])
        raw_sig, adj_sig = _signif(r["raw_p_holm"], alpha), _signif(adj_p, alpha)
        if not raw_sig and (not adj_sig or int(r.get("n_groups", 2) or 2) > 2):
            continue  # a best-vs-worst pair picked among many groups is not tested again after adjustment
        who = f"{r['model']}: " if r.get("model") is not None else ""
        gap = (f"{who}{metric_label(r['metric'])} gap between {group_name(r['attribute'], r['worse_group'])} "
               f"and {group_name(r['attribute'], r['better_group'])}")
        ci = f"95 % CI {format_number(r['ci_low'])} to {format_number(r['ci_high'])}, Holm-adjusted {format_p(adj_p)}"
        nums = f"{format_number(raw)} raw, {format_number(adj)} at equal activity ({ci})"
        if raw_sig and not adj_sig:
            verdict = f"is explained by activity, no longer significant: {nums}"
        elif raw_sig and np.sign(adj) != np.sign(raw):
            verdict = f"reverses at equal activity: {nums}"
        elif raw_sig and abs(adj) < (1 - shrink) * abs(raw):
            verdict = f"shrinks by {format_percent(1 - abs(adj) / abs(raw))} but remains significant: {nums}"
        elif raw_sig and abs(adj) > (1 + shrink) * abs(raw):
            verdict = f"grows by {format_percent(abs(adj) / abs(raw) - 1)}: {nums}"
        elif raw_sig:
            verdict = f"stays about the same: {nums}"
        else:
            verdict = f"was not significant raw but is at equal activity: {nums}"
        out.append(f"{gap} {verdict}.")
    if out:
        out.insert(0, "Gaps at equal activity are the group coefficients of an OLS of the per-user metric on group "
                      "+ log(1 + training ratings), with HC1 95 % CIs and Holm-adjusted p-values:")
    return out


def adjustment_summary(adjusted: pd.DataFrame, tests: pd.DataFrame, metrics: Iterable[str] | None = None,
                       alpha: float = 0.05, shrink: float = 0.25) -> list[str]:
    """Short form of :func:`adjustment_findings`: one sentence per gap (attribute, worse and
    better group), saying for which models it is explained by activity, shrinks, stays,
    grows or reverses at equal activity, or appears only then."""
    if adjusted is None or len(adjusted) == 0:
        return []
    a = adjusted if metrics is None else adjusted.loc[adjusted["metric"].isin(list(metrics))]
    keys = [c for c in ("model", "metric", "attribute") if c in a.columns and c in tests.columns]
    extra = ["n_groups"] if "n_groups" in tests.columns else []
    merged = a.merge(tests[[*keys, "p_holm", *extra]].rename(columns={"p_holm": "raw_p_holm"}), on=keys, how="left")
    out = []
    for (metric, attr, worse, better), part in merged.groupby(["metric", "attribute", "worse_group", "better_group"],
                                                               sort=False):
        verdicts: dict[str, list[str]] = {}
        for r in part.to_dict("records"):
            raw, adj = float(r["raw"]), float(r["adjusted"])
            if math.isnan(adj):
                continue
            raw_sig = _signif(r["raw_p_holm"], alpha)
            adj_sig = _signif(r.get("p_holm", r["p_value"]), alpha)
            name = str(r.get("model")) if r.get("model") is not None else "the model"
            if raw_sig and not adj_sig:
                key = "explained by activity (no longer significant)"
            elif raw_sig and np.sign(adj) != np.sign(raw):
                key = "reversed"
            elif raw_sig and abs(adj) < (1 - shrink) * abs(raw):
                key = "smaller but still significant"
                name += f" ({format_percent(abs(adj) / abs(raw) - 1, signed=True)})"
            elif raw_sig and abs(adj) > (1 + shrink) * abs(raw):
                key = "larger"
            elif raw_sig:
                key = "about the same"
            elif adj_sig and int(r.get("n_groups", 2) or 2) == 2:
                key = "significant only at equal activity"
            else:
                continue
            verdicts.setdefault(key, []).append(name)
        if verdicts:
            parts = [f"{key} for {_join(models)}" for key, models in verdicts.items()]
            out.append(f"{metric_label(metric)} gap between {group_name(attr, worse)} and {group_name(attr, better)} "
                       f"at equal activity: " + "; ".join(parts) + ".")
    if out:
        out.insert(0, "At equal activity = the group coefficient of an OLS of the per-user metric on group + "
                      "log(1 + training ratings), HC1 95 % CI, Holm-adjusted:")
    return out


def comparison_finding(row: Mapping, alpha: float = 0.05) -> str:
    """One paired comparison (a row of :func:`compare_models`) in words.

    The numbers are quoted in the order of the sentence: when ``model_b`` is the better
    one, its mean comes first and the difference (and its CI) is ``b - a``.
    """
    a, b = row["model_a"], row["model_b"]
    metric = row["metric"]
    diff = float(row["diff"])
    p = row.get("p_holm", row.get("p_value"))
    up = higher_is_better(metric)
    significant = _signif(p, alpha)
    flip = significant and (diff > 0) != up  # b is the better model: say "b ... a" with b's numbers first
    first, second = (b, a) if flip else (a, b)
    mean_1, mean_2 = (row["mean_b"], row["mean_a"]) if flip else (row["mean_a"], row["mean_b"])
    d, lo, hi = (-diff, -float(row["ci_high"]), -float(row["ci_low"])) if flip else (
        diff, float(row["ci_low"]), float(row["ci_high"]))
    nums = (f"{metric_label(metric)} {format_number(mean_1)} vs {format_number(mean_2)}, "
            f"difference {format_number(d)} (paired 95 % CI {format_number(lo)} to "
            f"{format_number(hi)}; Wilcoxon signed-rank, Holm-adjusted {format_p(p)}; "
            f"{int(row['n_users'])} users)")
    if not significant:
        return f"No significant difference between {a} and {b}: {nums}."
    return f"{first} is more accurate than {second}: {nums}." if metric.split("@")[0] in (
        "ndcg", "recall", "precision", "map", "mrr", "hit") else f"{first} does better than {second}: {nums}."


def gap_change_sentences(table: pd.DataFrame, model_a: str | None = None, model_b: str | None = None) -> list[str]:
    """One sentence per row of :func:`~filmrec_toolkit.audit.gap_change` results: narrower, wider or no change.

    Parameters
    ----------
    table : DataFrame
        One row per :func:`gap_change` dict (``attribute, high, low, gap_a, gap_b, change,
        ci_low, ci_high, verdict``), with ``model_a`` / ``model_b`` columns or the names given here.
    model_a, model_b : str, optional
        Names of the two models (default: the table's ``model_a`` / ``model_b`` columns).

    Returns
    -------
    list of str, e.g. "Gender gap (men minus women): +0.021 with EASESide (LM) vs +0.025 with
    EASE; no significant change (|gap| change -0.004, 95 % bootstrap CI -0.012 to 0.004)."
    """
    needed = ("attribute", "high", "low", "gap_a", "gap_b", "change", "ci_low", "ci_high", "verdict")
    if not isinstance(table, pd.DataFrame) or any(c not in table.columns for c in needed):
        have = list(table.columns) if isinstance(table, pd.DataFrame) else type(table).__name__
        raise ValueError(f"table must have the columns of gap_change {list(needed)}; got {have} "
                         "(build it with pd.DataFrame([gap_change(...), ...])).")
    for name, value in (("model_a", model_a), ("model_b", model_b)):
        if value is None and name not in table.columns:
            raise ValueError(f"{name} is None and the table has no {name!r} column; pass {name}='EASE' (a name).")
    words = {"narrower": "the gap is narrower", "wider": "the gap is wider",
             "no significant change": "no significant change"}
    out = []
    for row in table.to_dict("records"):
        a = model_a if model_a is not None else row["model_a"]
        b = model_b if model_b is not None else row["model_b"]
        attr = str(row["attribute"])
        what = attribute_name(attr)
        verdict = words.get(str(row["verdict"]), str(row["verdict"]))
        out.append(f"{what[:1].upper()}{what[1:]} gap ({group_name(attr, row['high'])} minus "
                   f"{group_name(attr, row['low'])}): {float(row['gap_a']):+.3f} with {a} vs "
                   f"{float(row['gap_b']):+.3f} with {b}; {verdict} (|gap| change {float(row['change']):+.3f}, "
                   f"95 % bootstrap CI {float(row['ci_low']):+.3f} to {float(row['ci_high']):+.3f}).")
    return out


def best_model_finding(summary: pd.DataFrame, per_user: pd.DataFrame | None, comparisons: pd.DataFrame | None,
                       metric: str, alpha: float = 0.05, n_resamples: int = 1000, random_state=42) -> list[str]:
    """The most accurate model with its mean and bootstrap CI, and how it compares with the runner-up."""
    from ..metrics.fairness import bootstrap_ci

    if summary is None or metric not in summary.columns or summary[metric].dropna().empty:
        return []
    means = summary[metric].astype(float).dropna()
    order = means.sort_values(ascending=not higher_is_better(metric))
    best = order.index[0]
    ci = ""
    if per_user is not None and metric in per_user.columns:
        values = per_user.loc[per_user["model"] == best, metric] if "model" in per_user.columns else per_user[metric]
        lo, hi = bootstrap_ci(values.to_numpy(float), n_resamples, 0.95, random_state)
        ci = f" (95 % CI {format_number(lo)} to {format_number(hi)}, {int(values.notna().sum())} users)"
    out = [f"Most accurate model: {best}, {metric_label(metric)} = {format_number(order.iloc[0])}{ci}."]
    if len(order) >= 2 and comparisons is not None and len(comparisons):
        second = order.index[1]
        c = comparisons.loc[(comparisons["metric"] == metric)
                            & (((comparisons["model_a"] == best) & (comparisons["model_b"] == second))
                               | ((comparisons["model_a"] == second) & (comparisons["model_b"] == best)))]
        if len(c):
            row = dict(c.iloc[0])
            if row["model_a"] != best:  # orient as best - second
                row.update(model_a=best, model_b=second, mean_a=row["mean_b"], mean_b=row["mean_a"],
                           diff=-row["diff"], ci_low=-row["ci_high"], ci_high=-row["ci_low"])
            text = comparison_finding(row, alpha)
            if _signif(row.get("p_holm", row.get("p_value")), alpha):
                rel = row["diff"] / row["mean_b"] if row["mean_b"] else np.nan
                out.append(f"Against the runner-up: {text[:-1]}; {format_percent(rel, signed=True)} relative.")
            else:
                out.append(f"Against the runner-up: {text} This test cannot tell {best} and {second} apart.")
    return out


#: Re-ranker -> the beyond-accuracy column it is meant to improve, and whether higher is the goal
_TARGET = {"CalibratedReranker": ("miscalibration", "calibrated re-ranking"), "MMRReranker": ("ild", "MMR re-ranking"),
           "ExplorationReranker": ("aplt", "exploration re-ranking")}


def tradeoff_finding(tradeoff: pd.DataFrame, accuracy: str = "ndcg@10", max_loss: float = 0.01) -> list[str]:
    """The best trade-off each re-ranker found: its target metric's largest improvement at a small accuracy cost.

    For each re-ranker of a :func:`~filmrec_toolkit.audit.tradeoff_curve` table, among the
    settings whose mean ``accuracy`` is at most ``max_loss`` (relative) below the
    un-reranked list, the one that improves its target most (calibrated: lower
    miscalibration; MMR: higher intra-list diversity; exploration: higher long-tail
    share). These are means over users of re-ranked lists, not paired tests.
    """
    if tradeoff is None or len(tradeoff) == 0 or accuracy not in tradeoff.columns:
        return []
    base = tradeoff.loc[tradeoff["reranker"] == "none"]
    if base.empty:
        return []
    base = base.iloc[0]
    out = []
    for name, part in tradeoff.loc[tradeoff["reranker"] != "none"].groupby("reranker", sort=False):
        target, words = _TARGET.get(name, (None, name))
        if target is None or target not in part.columns:
            continue
        up = higher_is_better(target)
        gain = (part[target] - base[target]) * (1 if up else -1)
        loss = (base[accuracy] - part[accuracy]) / base[accuracy] if base[accuracy] else part[accuracy] * 0
        ok = part.loc[(loss <= max_loss) & (gain > 0)]
        prefix = f"Best practical trade-off of {words}"
        if ok.empty:
            improving = part.loc[gain > 0]
            if improving.empty:
                out.append(f"No {words} setting improved {_lower(metric_label(target))}.")
                continue
            ok = improving.loc[[loss[improving.index].idxmin()]]
            prefix = (f"No {words} setting kept {metric_label(accuracy)} within {format_percent(max_loss)} of the "
                      f"un-reranked lists; the gentlest one")
        row = ok.loc[gain[ok.index].idxmax()]
        rel_t = (row[target] - base[target]) / base[target] if base[target] else np.nan
        rel_a = (row[accuracy] - base[accuracy]) / base[accuracy] if base[accuracy] else np.nan
        param = "λ" if str(row.get("param")) in ("lam", "lambda_") else str(row.get("param"))
        out.append(f"{prefix}: at {param} = {float(row['value']):g}, "
                   f"{_lower(metric_label(target))} goes from {format_number(base[target])} to "
                   f"{format_number(row[target])} ({format_percent(rel_t, signed=True)}) while "
                   f"{metric_label(accuracy)} goes from "
                   f"{format_number(base[accuracy])} to {format_number(row[accuracy])} "
                   f"({format_percent(rel_a, signed=True)}; means over the audited users).")
    return out


def exposure_finding(exposure: pd.DataFrame, summary: pd.DataFrame | None = None) -> list[str]:
    """Share of exposure the popularity head receives against its catalogue share, and coverage per model."""
    out = []
    if exposure is not None and len(exposure):
        pop = exposure.loc[exposure.get("by", pd.Series("popularity", index=exposure.index)) == "popularity"]
        head = pop.loc[pop["group"] == "head"]
        tail = pop.loc[pop["group"] == "tail"]
        if len(head):
            parts = []
            for m, r in head.set_index("model" if "model" in head.columns else head.index).iterrows():
                t = tail.loc[tail["model"] == m, "exposure_share"] if "model" in tail.columns else tail["exposure_share"]
                parts.append(f"{m} {format_percent(r['exposure_share'])}"
                             + (f" (tail {format_percent(t.iloc[0])})" if len(t) else ""))
            share = head["catalog_share"].iloc[0]
            out.append(f"The most popular films (the head: {format_percent(share)} of the catalogue, holding "
                       f"{format_percent(head['interaction_share'].iloc[0])} of training ratings) receive this "
                       f"share of position-weighted exposure: " + "; ".join(parts) + ".")
    if summary is not None and "coverage" in summary.columns and len(summary):
        cov = summary["coverage"].astype(float).sort_values()
        text = (f"Catalogue coverage ranges from {format_percent(cov.iloc[0])} ({cov.index[0]}) to "
                f"{format_percent(cov.iloc[-1])} ({cov.index[-1]})")
        if "gini" in summary.columns:
            g = summary["gini"].astype(float).sort_values()
            text += (f"; exposure Gini from {format_number(g.iloc[0])} ({g.index[0]}) to "
                     f"{format_number(g.iloc[-1])} ({g.index[-1]}; 1 = all exposure on one film)")
        out.append(text + ".")
    return out


def split_agreement(tests_a: pd.DataFrame, tests_b: pd.DataFrame, names: tuple[str, str] = ("random", "temporal"),
                    metrics: Iterable[str] | None = None, alpha: float = 0.05) -> list[str]:
    """Whether two splits reach the same verdict on each gap they both test.

    Two verdicts agree when both are not significant, or both significant with the same
    worse-served group. Returns one summary sentence and one per disagreement, plus why
    splits can disagree.
    """
    keys = [c for c in ("model", "metric", "attribute") if c in tests_a.columns and c in tests_b.columns]
    a = tests_a if metrics is None else tests_a.loc[tests_a["metric"].isin(list(metrics))]
    b = tests_b if metrics is None else tests_b.loc[tests_b["metric"].isin(list(metrics))]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    if both.empty:
        return []
    agree, differ = 0, []
    for r in both.to_dict("records"):
        sa, sb = _signif(r["p_holm_a"], alpha), _signif(r["p_holm_b"], alpha)
        same = (not sa and not sb) or (sa and sb and r["worse_group_a"] == r["worse_group_b"])
        if same:
            agree += 1
            continue
        who = f"{r['model']}, " if "model" in r else ""

        def verdict(sig, worse, p, name, attr=r["attribute"]):
            return (f"{name}: {group_name(attr, worse)} served worse, Holm-adjusted {format_p(p)}" if sig
                    else f"{name}: no significant difference, Holm-adjusted {format_p(p)}")

        differ.append(f"{who}{attribute_name(r['attribute'])} on {metric_label(r['metric'])} "
                      f"({verdict(sa, r['worse_group_a'], r['p_holm_a'], names[0])}; "
                      f"{verdict(sb, r['worse_group_b'], r['p_holm_b'], names[1])})")
    n = len(both)
    if not differ:
        return [f"The {names[0]} and {names[1]} splits agree on all {n} gaps they both test."]
    return [f"The {names[0]} and {names[1]} splits agree on {agree} of {n} gaps they both test and disagree on "
            f"{len(differ)}: " + "; ".join(differ) + ". They can disagree because the temporal split tests each "
            "user on their newest ratings (other films, often less popular, than a random sample of their "
            "history) and because gaps near the significance threshold flip with sampling noise; a gap is "
            "robust only where both agree."]


def load_published() -> pd.DataFrame:
    """Published user-group gaps the audit can be checked against (package data ``reference_data/published.csv``).

    Columns: ``source, year, dataset, protocol, model, metric, attribute, better_group,
    worse_group, gap, model_metric, p_max`` (the paper reports ``p < p_max``). Currently
    Boratto et al. (ECIR 2022), ml-1m, NDCG@10 gender and age gaps of four baselines.
    """
    with resources.files("filmrec_toolkit.reference_data").joinpath("published.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def published_gap_table(dataset: str = "ml-1m", metric: str = "ndcg@10") -> pd.DataFrame:
    """Published group gaps as one row per published model (from :func:`load_published`).

    Parameters
    ----------
    dataset : str
        Dataset of the published rows (``"ml-1m"`` for Boratto et al., ECIR 2022).
    metric : str
        The metric the gaps are measured in.

    Returns
    -------
    DataFrame indexed by the published model name with the model's ``metric`` mean, one gap
    column per attribute (e.g. ``gender``, ``age_35``), ``better served`` ("attribute: group",
    comma-separated) and ``source`` ("authors year").
    """
    table = load_published()
    rows = table.loc[(table["dataset"] == dataset) & (table["metric"] == metric)]
    if rows.empty:
        pairs = sorted(set(zip(table["dataset"], table["metric"])))
        raise ValueError(f"no published gaps for dataset={dataset!r}, metric={metric!r}; available: {pairs}.")
    models = list(dict.fromkeys(rows["model"]))
    wide = rows.pivot_table(index="model", columns="attribute", values="gap", sort=False).reindex(models)
    wide.columns.name = None
    first = rows.groupby("model", sort=False).first().reindex(models)
    wide.insert(0, metric, first["model_metric"])
    wide["better served"] = rows.groupby("model", sort=False).apply(
        lambda t: ", ".join(f"{a}: {g}" for a, g in zip(t["attribute"], t["better_group"])),
        include_groups=False).reindex(models)
    wide["source"] = first["source"] + " " + first["year"].astype(str)
    wide.index.name = None
    return wide


def published_accuracy(benchmark: str) -> pd.DataFrame:
    """Published accuracy tables we compare against, from package data
    (``reference_data/published_accuracy.csv``: benchmark, source, year, dataset, protocol,
    model, metric, value; see docs/protocols.md).

    Parameters
    ----------
    benchmark : {"msr-ml-100k", "recbole-ml-1m"}

    Returns
    -------
    DataFrame, one row per published model, one column per metric, plus ``source``.
    """
    with resources.files("filmrec_toolkit.reference_data").joinpath("published_accuracy.csv").open(
            "r", encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    known = sorted(table["benchmark"].unique())
    if benchmark not in known:
        raise ValueError(f"benchmark={benchmark!r} is not one of {known}; e.g. published_accuracy('msr-ml-100k').")
    rows = table.loc[table["benchmark"] == benchmark]
    wide = rows.pivot_table(index="model", columns="metric", values="value", sort=False)
    wide.columns.name = None
    wide["source"] = rows.groupby("model", sort=False)["source"].first()
    metrics = list(dict.fromkeys(rows["metric"]))
    return wide[metrics + ["source"]]


#: our model name -> the published model it stands for
DEFAULT_MODEL_MAP = {"Popularity": "TopPopular", "ItemKNN": "ItemKNN"}


def replication_findings(tests: pd.DataFrame, published: pd.DataFrame | None = None,
                         model_map: Mapping[str, str] | None = None, dataset: str | None = None,
                         alpha: float = 0.05) -> list[str]:
    """Compare our group tests with published gaps: "reproduced" only when direction and significance match.

    For each of our models that ``model_map`` ties to a published model (default
    Popularity -> TopPopular, ItemKNN -> ItemKNN), every published (metric, attribute) gap
    is checked: reproduced when our better-served group is the published one and our
    Holm-adjusted p < ``alpha``. A model whose every gap matches is "reproduced"; one
    with some is "partly reproduced: ..." naming what differs; one with none is "not
    reproduced: ...". A first sentence gives the overall verdict and the data set caveat.
    """
    pub = load_published() if published is None else published
    mapping = dict(DEFAULT_MODEL_MAP if model_map is None else model_map)
    if tests is None or len(tests) == 0 or "model" not in tests.columns:
        return []
    lines, verdicts = [], []
    for ours, theirs in mapping.items():
        p_rows = pub.loc[pub["model"] == theirs]
        t_rows = tests.loc[tests["model"] == ours]
        if p_rows.empty or t_rows.empty:
            continue
        ok, differs = [], []
        for pr in p_rows.to_dict("records"):
            match = t_rows.loc[(t_rows["metric"] == pr["metric"]) & (t_rows["attribute"] == pr["attribute"])]
            what = attribute_name(pr["attribute"])
            if match.empty:
                differs.append(f"{what} not tested")
                continue
            tr = match.iloc[0]
            sig = _signif(tr["p_holm"], alpha)
            same_dir = str(tr["better_group"]) == str(pr["better_group"])
            ours_text = (f"{group_name(pr['attribute'], tr['better_group'])} better served by "
                         f"{format_number(abs(tr['diff']))}, Holm-adjusted {format_p(tr['p_holm'])}")
            if same_dir and sig:
                ok.append(f"{what} ({ours_text})")
            elif not same_dir:
                differs.append(f"{what} runs the other way ({ours_text}; published: "
                               f"{group_name(pr['attribute'], pr['better_group'])} better served by "
                               f"{format_number(pr['gap'])}, p < {pr['p_max']:g})")
            else:
                differs.append(f"{what} has the published direction but is not significant ({ours_text})")
        label = ours if ours == theirs else f"{ours} (their {theirs})"
        if not differs:
            verdicts.append("reproduced")
            lines.append(f"{label}: reproduced — " + "; ".join(ok) + ".")
        elif ok:
            verdicts.append("partly")
            lines.append(f"{label}: partly reproduced: " + "; ".join(differs) + ". Matches: " + "; ".join(ok) + ".")
        else:
            verdicts.append("not")
            lines.append(f"{label}: not reproduced: " + "; ".join(differs) + ".")
    if not lines:
        return []
    src = pub.iloc[0]
    overall = ("reproduced" if all(v == "reproduced" for v in verdicts)
               else "not reproduced" if all(v == "not" for v in verdicts) else "partly reproduced")
    caveat = ""
    if dataset is not None and str(dataset) != str(src["dataset"]):
        caveat = f" (published on {src['dataset']}, checked here on {dataset})"
    return [f"The published finding of {src['source']} {int(src['year'])}, that "
            + _join(sorted({f"{group_name(r['attribute'], r['better_group'])} are better served"
                            for r in pub.to_dict('records')}))
            + f", is {overall}{caveat}."] + lines
