"""``audit(...)``: every audit table for one or more models, and a static HTML report."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .._config import ITEM_COL, USER_COL
from .._deprecation import warn_replaced
from .._io import atomic_write_text
from .._validation import check_k
from ..datasets.dataset import Dataset, ensure_dataset
from ..metrics.beyond import (
    aplt,
    average_recommendation_popularity,
    catalog_coverage,
    distributional_coverage,
    gini_index,
    intra_list_diversity,
    item_exposure,
    novelty,
    popularity_lift,
    serendipity,
)
from ..metrics.calibration import miscalibration
from .accuracy import accuracy_per_user
from .adjust import adjusted_gaps
from .compare import compare_models
from .exposure import exposure_by_group
from .groups import group_fairness, user_attributes

logger = logging.getLogger(__name__)

__all__ = ["AuditReport", "audit", "per_user_metrics"]


def per_user_metrics(recommendations: pd.DataFrame, train: Dataset, test: Dataset, k: int = 10,
                     features="genres") -> pd.DataFrame:
    """Accuracy and beyond-accuracy metrics of one model's top-k frame, one row per user.

    Accuracy columns (``n_test``, ``ndcg@k``, ``recall@k``, ``precision@k``, ``hit@k``,
    ``mrr@k``, ``map@k``) for users with a test rating (:func:`accuracy_per_user`); then
    ``novelty``, ``ild`` (on ``features``), ``miscalibration``, ``arp``, ``aplt``,
    ``popularity_lift`` and ``serendipity`` for users with a list (NaN where undefined).
    """
    acc = accuracy_per_user(recommendations, train, test, k)
    acc = acc[[USER_COL, "n_test", *(f"{m}@{k}" for m in ("ndcg", "recall", "precision", "hit", "mrr", "map"))]]
    beyond = pd.concat([
        novelty(recommendations, train, k, per_user=True),
        intra_list_diversity(recommendations, train, features, k, per_user=True),
        miscalibration(recommendations, train, k, per_user=True),
        average_recommendation_popularity(recommendations, train, k, per_user=True),
        aplt(recommendations, train, k, per_user=True),
        popularity_lift(recommendations, train, k, per_user=True),
        serendipity(recommendations, train, test, k, per_user=True),
    ], axis=1)
    beyond.index.name = USER_COL
    return acc.merge(beyond.reset_index(), on=USER_COL, how="outer")


@dataclass
class AuditReport:
    """Tables of :func:`audit` (pandas DataFrames) plus plot methods and :meth:`to_html`.

    Attributes
    ----------
    k : int
    summary : DataFrame
        One row per model: means of the per-user metrics, catalogue coverage,
        distributional coverage (entropy, bits and normalised) and exposure Gini.
    per_user : DataFrame
        ``model, user_id`` + per-user metrics (:func:`per_user_metrics`).
    attributes : DataFrame
        User attributes (:func:`~filmrec_toolkit.audit.user_attributes`).
    groups, tests : DataFrame
        :func:`~filmrec_toolkit.audit.group_fairness` per model (``model`` column).
    exposure : DataFrame
        :func:`~filmrec_toolkit.audit.exposure_by_group` by popularity tier and genre,
        per model (``model, by`` columns).
    comparisons : DataFrame or None
        :func:`~filmrec_toolkit.audit.compare_models` on ``ndcg@k`` (two models or more).
    item_exposure : DataFrame
        Exposure count per item (rows, ``item_id`` index) and model (columns).
    popularity : DataFrame
        ``source, item_id, popularity``: training popularity of each recommended item
        per model and of each consumed test item (``source = "consumed (test)"``).
    tradeoff : DataFrame or None
        Output of :func:`~filmrec_toolkit.audit.tradeoff_curve`, if given.
    adjusted : DataFrame or None
        Every demographic gap of ``tests`` adjusted for user activity
        (:func:`~filmrec_toolkit.audit.adjusted_gaps`: OLS on group + log(1 + training
        ratings), HC1 CI; plus the activity-stratified estimate).
    splits : dict
        Group tests of other splits, by name (:meth:`add_split`).
    """

    k: int
    summary: pd.DataFrame
    per_user: pd.DataFrame
    attributes: pd.DataFrame
    groups: pd.DataFrame
    tests: pd.DataFrame
    exposure: pd.DataFrame
    comparisons: pd.DataFrame | None
    item_exposure: pd.DataFrame
    popularity: pd.DataFrame
    tradeoff: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)
    adjusted: pd.DataFrame | None = None
    splits: dict = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return list(self.summary.index)

    # ------------------------------------------------------------- findings
    def add_split(self, name: str, tests: pd.DataFrame) -> "AuditReport":
        """Attach the group tests of another split (e.g. a temporal one) so findings compare them.

        ``tests`` is a :func:`group_fairness` tests table with a ``model`` column (for
        example ``concat`` of ``group_fairness(...).tests.assign(model=name)`` per model).
        Returns the report (modified in place).
        """
        need = {"model", "metric", "attribute", "p_holm", "worse_group"}
        if not isinstance(tests, pd.DataFrame) or not need <= set(tests.columns):
            have = list(tests.columns) if isinstance(tests, pd.DataFrame) else type(tests).__name__
            raise ValueError(f"tests must be group_fairness(...).tests with a 'model' column; missing "
                             f"{sorted(need - set(getattr(tests, 'columns', [])))} (got {have}).")
        self.splits[str(name)] = tests
        return self

    def findings_by_kind(self, metrics: Sequence[str] | None = None, alpha: float = 0.05,
                         published: pd.DataFrame | None = None, model_map: Mapping[str, str] | None = None,
                         dataset: str | None = None) -> dict[str, list[str]]:
        """:meth:`findings`, grouped: ``accuracy``, ``groups``, ``activity``, ``splits``,
        ``replication``, ``tradeoff``, ``exposure`` (empty lists where nothing applies), plus
        ``summary`` and ``activity_summary``: the group and activity findings in short
        (:func:`~filmrec_toolkit.audit.findings.gap_summary`, :func:`~filmrec_toolkit.audit.findings.adjustment_summary`)."""
        from .findings import (
            adjustment_findings,
            adjustment_summary,
            best_model_finding,
            exposure_finding,
            gap_findings,
            gap_summary,
            replication_findings,
            split_agreement,
            tradeoff_finding,
        )

        acc = f"ndcg@{self.k}"
        metrics = [acc] if metrics is None else (sorted(set(self.tests["metric"])) if metrics == "all"
                                                  else list(metrics))
        dataset = dataset or self.meta.get("dataset")
        out = {
            "accuracy": best_model_finding(self.summary, self.per_user, self.comparisons, acc, alpha,
                                           random_state=self.meta.get("random_state", 42)),
            "groups": gap_findings(self.tests, metrics, alpha),
            "summary": gap_summary(self.tests, metrics, alpha),
            "activity": adjustment_findings(self.adjusted, self.tests, metrics, alpha)
            if self.adjusted is not None else [],
            "activity_summary": adjustment_summary(self.adjusted, self.tests, metrics, alpha)
            if self.adjusted is not None else [],
            "splits": [], "replication": [],
            "tradeoff": tradeoff_finding(self.tradeoff, acc) if self.tradeoff is not None else [],
            "exposure": exposure_finding(self.exposure, self.summary),
        }
        main_split = self.meta.get("split", "random")
        for name, tests in self.splits.items():
            out["splits"] += split_agreement(self.tests, tests, (main_split, name), metrics, alpha)
        temporal = [t for n, t in self.splits.items() if "temporal" in n.lower()]
        out["replication"] = replication_findings(temporal[0] if temporal else self.tests, published, model_map,
                                                  dataset, alpha)
        if out["replication"] and not temporal:
            out["replication"].append("Caveat: the published protocol is a per-user temporal split; these "
                                      f"tests come from the {main_split} split.")
        return out

    def findings(self, metrics: Sequence[str] | str | None = None, alpha: float = 0.05,
                 published: pd.DataFrame | None = None, model_map: Mapping[str, str] | None = None,
                 dataset: str | None = None) -> list[str]:
        """The audit's conclusions as plain sentences, computed from its tables.

        In order: the most accurate model (mean, bootstrap CI, paired test against the
        runner-up); who is served worse on each metric in ``metrics`` (default ``ndcg@k``;
        ``"all"`` for every tested metric) with both means, the absolute and relative gap,
        its CI, Cliff's delta and the Holm-adjusted p, or "no significant difference";
        what activity adjustment does to each significant gap; whether other splits
        (:meth:`add_split`) agree; the published finding, "reproduced" only where direction
        and significance match (:func:`~filmrec_toolkit.audit.findings.replication_findings`);
        the best trade-off the re-rankers found; exposure of popular films and coverage.

        Parameters
        ----------
        metrics : list of str, "all" or None
        alpha : float
            Significance level for Holm-adjusted p-values.
        published, model_map : see :func:`~filmrec_toolkit.audit.findings.replication_findings`.
        dataset : str, optional
            Name of the data set (for the replication caveat); default ``meta["dataset"]``.
        """
        kinds = self.findings_by_kind(metrics, alpha, published, model_map, dataset)
        return [s for key in ("accuracy", "groups", "activity", "splits", "replication", "tradeoff", "exposure")
                for s in kinds[key]]

    # ---------------------------------------------------------------- plots
    # Deprecated: audits produce tables, ``filmrec_toolkit.plots.plot_audit`` draws them.
    def _deprecated_plot(self, method: str, kind: str, ax, **options):
        warn_replaced(f"AuditReport.{method}()", f"ft.plots.plot_audit(report, {kind!r}, ax=ax)",
                      "audits produce tables, plots draw them", stacklevel=3)
        from ..plots.report import plot_audit  # the one remaining reach into plots, gone with these shims

        return plot_audit(self, kind, ax=ax, **options)

    def plot_lorenz(self, ax=None):
        """Deprecated: ``ft.plots.plot_audit(report, "lorenz")``."""
        return self._deprecated_plot("plot_lorenz", "lorenz", ax)

    def plot_group_gaps(self, metric: str | None = None, attribute: str | None = None, ax=None):
        """Deprecated: ``ft.plots.plot_audit(report, "group_gaps", metric=..., attribute=...)``."""
        return self._deprecated_plot("plot_group_gaps", "group_gaps", ax, metric=metric, attribute=attribute)

    def plot_tradeoff(self, x: str = "ild", y: str | None = None, ax=None):
        """Deprecated: ``ft.plots.plot_audit(report, "tradeoff", x=..., metric=...)``."""
        return self._deprecated_plot("plot_tradeoff", "tradeoff", ax, x=x, metric=y)

    def plot_popularity(self, ax=None):
        """Deprecated: ``ft.plots.plot_audit(report, "popularity")``."""
        return self._deprecated_plot("plot_popularity", "popularity", ax)

    # ----------------------------------------------------------------- html
    def to_html(self, path: str | os.PathLike, title: str = "filmrec_toolkit audit",
                figures: Mapping[str, object] | None = None, nav: Sequence[tuple[str, str]] | None = None,
                findings: Sequence[str] | None = None) -> Path:
        """Write one self-contained static HTML page for a reader who is not a data scientist.

        Rendered from the Jinja2 template ``audit.html.j2`` (autoescaped): key findings
        first (:meth:`findings`), then the figures, all group findings, a glossary of the
        metrics and the full tables in collapsible sections, formatted for people (3
        significant figures, percentages, "p < 0.001", small groups marked). Figures
        are PNGs embedded as data URIs; the page needs no network, script or file.

        Parameters
        ----------
        path : output file (its folder is created; written to a temporary file and renamed).
        title : page title.
        figures : mapping caption -> matplotlib Figure
            Usually ``ft.plots.audit_figures(report)``; an empty mapping writes a page without
            figures (``None`` does too, with a FutureWarning: before, it drew them here).
        nav : list of (label, href), optional
            A navigation bar at the top; without it the page has an empty placeholder
            ``<!--filmrec-nav-->`` that a site builder may replace.
        findings : list of str, optional
            Key findings to show (default :meth:`findings`).

        Returns the path.
        """
        from ..templates import figure_data_uri, format_frame, render
        from .findings import gap_findings
        from .metric_info import METRIC_INFO

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if figures is None:
            warnings.warn("AuditReport.to_html no longer draws figures itself (audits produce tables, plots draw "
                          "them): this page has no figures. Pass figures=ft.plots.audit_figures(report).",
                          FutureWarning, stacklevel=2)
            figures = {}
        kinds = self.findings_by_kind()
        key = list(findings) if findings is not None else [
            s for k in ("accuracy", "summary", "activity_summary", "splits", "tradeoff", "exposure") for s in kinds[k]]
        group_rows = self.groups
        tables = [
            ("Summary: one row per model", "Means over users; coverage, entropy and Gini over the catalogue.",
             self.summary),
            ("Model comparison (paired)", "Paired Wilcoxon signed-rank test and paired bootstrap 95 % CI of the "
             "mean difference (a − b), Holm-adjusted across pairs.", self.comparisons),
            ("User-group tests", "Mann-Whitney U (2 groups) / Kruskal-Wallis H (more), Holm-adjusted across "
             "attributes per metric and model; diff = worse − better group mean.", _tests_view(self.tests)),
            ("Activity-adjusted gaps", "OLS of the per-user metric on group + log(1 + training ratings), HC1 "
             "95 % CI; 'stratified' = bin-size-weighted mean of the gaps within activity quintiles.",
             self.adjusted),
            ("User-group means (bootstrap 95 % CI)", "Groups smaller than 20 users are marked 'small' and never "
             "named best or worst.", group_rows),
            ("Item exposure by group", "Position-discounted (1/log2(rank+1)) exposure share against catalogue "
             "and training-interaction shares.", self.exposure),
            ("Re-ranking trade-off", "Means over users of the re-ranked top-k lists.", self.tradeoff),
        ]
        tables += [(f"User-group tests, {name} split", "", _tests_view(t)) for name, t in self.splits.items()]
        used = {m.split("@")[0] for m in [*self.summary.columns, *self.tests.get("metric", [])]}
        glossary = [(info[1], info[2], info[3]) for base, info in METRIC_INFO.items() if base in used]
        page = render(
            "audit.html.j2", title=title, nav=list(nav or []),
            intro=(f"Top-{self.k} recommendation lists of {len(self.models)} model(s) "
                   f"({', '.join(map(str, self.models))}) on {self.meta.get('train', 'the training split')}; "
                   f"{int(self.summary['n_users'].max()) if 'n_users' in self.summary else ''} users audited; "
                   f"bootstrap CIs with {self.meta.get('bootstrap resamples', '')} resamples."),
            key_findings=key, replication=kinds["replication"],
            all_group_findings=kinds["groups"] + kinds["activity"]
            + [s for s in gap_findings(self.tests, None) if s not in kinds["groups"]],
            figures=[(name, figure_data_uri(fig)) for name, fig in figures.items()],
            glossary=glossary,
            tables=[(name, note, format_frame(frame)) for name, note, frame in tables
                    if frame is not None and len(frame)])
        atomic_write_text(path, page)  # unique temporary name: two writers never collide
        return path

    def __repr__(self) -> str:
        return f"AuditReport(k={self.k}, models={self.models}, {len(self.tests)} group tests)"


def audit(recommendations: pd.DataFrame | Mapping[str, pd.DataFrame], train: Dataset, test: Dataset,
          users: pd.DataFrame | None = None, k: int = 10, features="genres",
          per_user: Mapping[str, pd.DataFrame] | None = None, group_metrics: Sequence[str] | None = None,
          by: Sequence[str] | None = None, baseline: str | None = None, tradeoff: pd.DataFrame | None = None,
          n_resamples: int = 1000, random_state=42, split_name: str = "random") -> AuditReport:
    """Audit one or more models' recommendations: accuracy, beyond-accuracy, fairness.

    Parameters
    ----------
    recommendations : DataFrame or mapping name -> DataFrame or EvaluationResult
        Top-k frames (``user_id, item_id, score, rank``), or :func:`~filmrec_toolkit.evaluate`
        results (their ``recommendations`` are audited and their ``per_user`` merged).
    train, test : Dataset
        The split the lists were made from (shared vocabularies).
    users : DataFrame, optional
        User table for the attributes (default ``train.users``); see :func:`user_attributes`.
    k : int
        Cut-off of every metric.
    features : item features for ILD (``"genres"`` or an ``ItemEmbeddings``).
    per_user : mapping name -> DataFrame, optional
        Extra per-user columns per model (e.g. ``evaluate(...).per_user``); they replace
        columns of the same name.
    group_metrics : list of str, optional
        Metrics tested across user groups; default ``ndcg@k, recall@k, novelty, miscalibration``.
    by : list of str, optional
        Attributes to test (default every one :func:`user_attributes` produces).
    baseline : str, optional
        Compare every model with this one (default: every pair).
    tradeoff : DataFrame, optional
        A :func:`tradeoff_curve` table to include.
    n_resamples, random_state
        Bootstrap settings.
    split_name : str
        How ``train``/``test`` were split (used in findings that compare splits).
    """
    train = ensure_dataset(train, "train")
    test = ensure_dataset(test, "test")
    k = check_k(k)
    recs = {"model": recommendations} if isinstance(recommendations, pd.DataFrame) else dict(recommendations)
    if not recs:
        raise ValueError("recommendations is empty; pass a top-k DataFrame or a dict name -> DataFrame.")
    per_user = dict(per_user or {})
    for name, value in list(recs.items()):
        if hasattr(value, "recommendations") and hasattr(value, "per_user"):  # an EvaluationResult
            recs[name] = value.recommendations
            per_user.setdefault(name, value.per_user)
        elif not isinstance(value, pd.DataFrame):
            raise TypeError(f"recommendations[{name!r}] must be a top-k DataFrame or an EvaluationResult, "
                            f"got {type(value).__name__}.")
    attributes = user_attributes(train, users)
    metrics = list(group_metrics or (f"ndcg@{k}", f"recall@{k}", "novelty", "miscalibration"))
    summary_rows, per_user_frames, group_frames, test_frames, exposure_frames = {}, {}, [], [], []
    exposures, pop_frames = {}, []
    counts = train.item_counts()
    for name, frame in recs.items():
        logger.info("auditing %s", name)
        pu = per_user_metrics(frame, train, test, k, features)
        if per_user and name in per_user:
            extra = per_user[name]
            cols = [c for c in extra.columns if c != USER_COL]
            pu = pu.drop(columns=[c for c in cols if c in pu.columns]).merge(extra, on=USER_COL, how="outer")
        per_user_frames[name] = pu
        exposure = item_exposure(frame, train, k)
        exposures[name] = exposure
        summary = pu.drop(columns=[USER_COL]).mean(numeric_only=True).to_dict()
        summary.update({"coverage": catalog_coverage(frame, train, k),
                        "entropy_bits": distributional_coverage(frame, train, k),
                        "entropy_normalized": distributional_coverage(frame, train, k, normalize=True),
                        "gini": gini_index(exposure), "n_users": int(frame[USER_COL].nunique())})
        summary_rows[name] = summary
        gf = group_fairness(pu, attributes, [m for m in metrics if m in pu.columns], by, n_resamples,
                            random_state=random_state)
        group_frames.append(gf.groups.assign(model=name))
        test_frames.append(gf.tests.assign(model=name))
        for kind in ("popularity", "genre"):
            exposure_frames.append(exposure_by_group(frame, train, kind, k).assign(model=name, by=kind))
        top = frame.loc[frame["rank"] <= k, ITEM_COL].to_numpy()
        pop_frames.append(pd.DataFrame({"source": name, ITEM_COL: top,
                                        "popularity": counts[train.item_vocab.to_rows(top, param="item_id")]}))
    pop_frames.append(pd.DataFrame({"source": "consumed (test)", ITEM_COL: test.ratings[ITEM_COL].to_numpy(),
                                    "popularity": counts[test.item_rows]}))

    def front(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        return frame[[*cols, *(c for c in frame.columns if c not in cols)]]

    per_user_all = pd.concat([f.assign(model=n) for n, f in per_user_frames.items()], ignore_index=True)
    tests_all = pd.concat(test_frames, ignore_index=True)
    comparisons = None
    if len(recs) >= 2:
        comparisons = compare_models(per_user_frames, f"ndcg@{k}", baseline, n_resamples, random_state=random_state)
    return AuditReport(
        k=k,
        summary=pd.DataFrame.from_dict(summary_rows, orient="index"),
        per_user=per_user_all.pipe(front, ["model", USER_COL]),
        attributes=attributes,
        groups=front(pd.concat(group_frames, ignore_index=True), ["model"]),
        tests=front(tests_all, ["model"]),
        exposure=front(pd.concat(exposure_frames, ignore_index=True), ["model", "by"]),
        comparisons=comparisons,
        item_exposure=pd.DataFrame(exposures, index=pd.Index(train.item_ids, name=ITEM_COL)),
        popularity=pd.concat(pop_frames, ignore_index=True),
        tradeoff=tradeoff,
        meta={"train": train.name, "test": test.name, "dataset": str(train.name).split(":")[0],
              "bootstrap resamples": n_resamples, "split": split_name,
              "random_state": random_state},
        adjusted=adjusted_gaps(per_user_all, attributes, tests_all) if len(tests_all) else None,
    )


_TEST_COLUMNS = ["model", "metric", "attribute", "n_groups", "worse_group", "better_group", "n_worse", "n_better",
                 "mean_worse", "mean_better", "diff", "diff_ci_low", "diff_ci_high", "relative", "effect_size",
                 "test", "p_value", "p_holm"]


def _tests_view(tests: pd.DataFrame | None) -> pd.DataFrame | None:
    """The columns of a tests table a reader needs, in reading order."""
    if tests is None:
        return None
    return tests[[c for c in _TEST_COLUMNS if c in tests.columns]]
