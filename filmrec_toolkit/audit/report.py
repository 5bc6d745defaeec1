"""``audit(...)``: every audit table for one or more models, and a static HTML report."""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .._config import ITEM_COL, USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_positive_int
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

    @property
    def models(self) -> list[str]:
        return list(self.summary.index)

    # ---------------------------------------------------------------- plots
    def plot_lorenz(self, ax=None):
        """Lorenz curves of item exposure, one per model."""
        from ..plots.audit import plot_lorenz_curves

        return plot_lorenz_curves({m: self.item_exposure[m].to_numpy() for m in self.item_exposure.columns}, ax=ax)

    def plot_group_gaps(self, metric: str | None = None, attribute: str | None = None, ax=None):
        """Group means with bootstrap CIs (default metric ``ndcg@k``)."""
        from ..plots.audit import plot_group_gaps

        return plot_group_gaps(self.groups, metric or f"ndcg@{self.k}", attribute, ax=ax)

    def plot_tradeoff(self, x: str = "ild", y: str | None = None, ax=None):
        """Trade-off curves (needs ``tradeoff=`` in :func:`audit`)."""
        from ..plots.audit import plot_tradeoff

        if self.tradeoff is None:
            raise ValueError("this report has no trade-off table; pass tradeoff=tradeoff_curve(...) to audit().")
        return plot_tradeoff(self.tradeoff, x, y or f"ndcg@{self.k}", ax=ax)

    def plot_popularity(self, ax=None):
        """Popularity distribution of recommended vs consumed items."""
        from ..plots.audit import plot_popularity_distribution

        return plot_popularity_distribution(self.popularity, ax=ax)

    # ----------------------------------------------------------------- html
    def _figures(self) -> list[tuple[str, object]]:
        figs = [("Item exposure: Lorenz curves", self.plot_lorenz()),
                ("Popularity of recommended vs consumed items", self.plot_popularity())]
        if len(self.groups):
            for metric in dict.fromkeys(self.groups["metric"]):
                figs.append((f"User groups: {metric}", self.plot_group_gaps(metric)))
        if self.tradeoff is not None:
            for x in ("ild", "miscalibration"):
                if x in self.tradeoff.columns:
                    figs.append((f"Trade-off: ndcg@{self.k} vs {x}", self.plot_tradeoff(x)))
        return figs

    def to_html(self, path: str | os.PathLike, title: str = "filmrec_toolkit audit") -> Path:
        """Write one self-contained static HTML page (tables + base64 PNG figures, inline CSS).

        The page needs no network, script or external file to be viewed. Written to a
        temporary file and renamed. Returns the path.
        """
        import matplotlib.pyplot as plt

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = [f"<h1>{html.escape(title)}</h1>",
                 f"<p>Top-{self.k} lists of {len(self.models)} model(s): "
                 f"{html.escape(', '.join(map(str, self.models)))}. "
                 + html.escape(" ".join(f"{k}: {v}." for k, v in self.meta.items())) + "</p>"]

        def table(name: str, frame: pd.DataFrame | None, note: str = "") -> None:
            if frame is None or len(frame) == 0:
                return
            parts.append(f"<h2>{html.escape(name)}</h2>")
            if note:
                parts.append(f"<p>{html.escape(note)}</p>")
            parts.append(frame.to_html(float_format=lambda v: f"{v:.4g}", border=0, classes="t", escape=True))

        table("Summary", self.summary, "Means over users; coverage, entropy and Gini over the catalogue.")
        table("User-group tests", self.tests, "Mann-Whitney U (2 groups) / Kruskal-Wallis H (more), "
              "Holm-adjusted across attributes per metric and model.")
        table("User-group means (bootstrap 95% CI)", self.groups)
        table("Item exposure by group", self.exposure,
              "Position-discounted (1/log2(rank+1)) exposure share vs catalogue and training-interaction shares.")
        table("Model comparison", self.comparisons,
              "Paired Wilcoxon signed-rank and paired bootstrap 95% CI of the mean difference (a - b).")
        table("Re-ranking trade-off", self.tradeoff)
        for name, fig in self._figures():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
            plt.close(fig)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            parts.append(f"<h2>{html.escape(name)}</h2><img alt=\"{html.escape(name)}\" "
                         f"src=\"data:image/png;base64,{data}\">")
        style = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table.t{border-collapse:collapse;"
                 "font-size:12px}table.t td,table.t th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:right}"
                 "img{max-width:100%}")
        page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
        from .. import _io

        with _io.atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(page)
        return path

    def __repr__(self) -> str:
        return f"AuditReport(k={self.k}, models={self.models}, {len(self.tests)} group tests)"


def audit(recommendations: pd.DataFrame | Mapping[str, pd.DataFrame], train: Dataset, test: Dataset,
          users: pd.DataFrame | None = None, k: int = 10, features="genres",
          per_user: Mapping[str, pd.DataFrame] | None = None, group_metrics: Sequence[str] | None = None,
          by: Sequence[str] | None = None, baseline: str | None = None, tradeoff: pd.DataFrame | None = None,
          n_resamples: int = 1000, random_state=42) -> AuditReport:
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
    """
    train = ensure_dataset(train, "train")
    test = ensure_dataset(test, "test")
    k = check_positive_int(k, "k")
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

    comparisons = None
    if len(recs) >= 2:
        comparisons = compare_models(per_user_frames, f"ndcg@{k}", baseline, n_resamples, random_state=random_state)
    return AuditReport(
        k=k,
        summary=pd.DataFrame.from_dict(summary_rows, orient="index"),
        per_user=pd.concat([f.assign(model=n) for n, f in per_user_frames.items()], ignore_index=True)
        .pipe(front, ["model", USER_COL]),
        attributes=attributes,
        groups=front(pd.concat(group_frames, ignore_index=True), ["model"]),
        tests=front(pd.concat(test_frames, ignore_index=True), ["model"]),
        exposure=front(pd.concat(exposure_frames, ignore_index=True), ["model", "by"]),
        comparisons=comparisons,
        item_exposure=pd.DataFrame(exposures, index=pd.Index(train.item_ids, name=ITEM_COL)),
        popularity=pd.concat(pop_frames, ignore_index=True),
        tradeoff=tradeoff,
        meta={"train": train.name, "test": test.name, "bootstrap resamples": n_resamples},
    )
