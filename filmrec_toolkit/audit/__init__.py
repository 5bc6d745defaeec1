"""Audits: re-rankers, trade-off sweeps, user-group and item-exposure fairness, model comparison, reports."""

from .accuracy import accuracy_per_user
from .adjust import activity_adjusted_gap, adjusted_gaps
from .compare import compare_models, describe_comparison, paired_verdicts
from .exposure import exposure_by_group
from .findings import (
    gap_change_sentences,
    gap_findings,
    load_published,
    published_accuracy,
    published_gap_table,
    replication_findings,
    split_agreement,
)
from .groups import (
    DEFAULT_ATTRIBUTES,
    GroupFairness,
    cliffs_delta,
    gap_change,
    group_fairness,
    mean_difference_ci,
    user_attributes,
)
from .metric_info import METRIC_INFO, higher_is_better
from .report import AuditReport, audit, per_user_metrics
from .rerank import CalibratedReranker, ExplorationReranker, MMRReranker, Reranker
from .tradeoff import list_metrics, tradeoff_curve

__all__ = [
    "audit", "AuditReport", "per_user_metrics", "accuracy_per_user",
    "Reranker", "MMRReranker", "CalibratedReranker", "ExplorationReranker", "tradeoff_curve", "list_metrics",
    "user_attributes", "group_fairness", "GroupFairness", "DEFAULT_ATTRIBUTES",
    "exposure_by_group", "compare_models", "paired_verdicts", "describe_comparison", "gap_change", "cliffs_delta", "mean_difference_ci",
    "activity_adjusted_gap", "adjusted_gaps", "gap_findings", "replication_findings", "split_agreement",
    "load_published", "published_accuracy", "published_gap_table", "higher_is_better", "METRIC_INFO",
    "gap_change_sentences",
]
