"""Audits: re-rankers, trade-off sweeps, user-group and item-exposure fairness, model comparison, reports."""

from .accuracy import accuracy_per_user
from .compare import compare_models, describe_comparison
from .exposure import exposure_by_group
from .groups import DEFAULT_ATTRIBUTES, GroupFairness, group_fairness, user_attributes
from .report import AuditReport, audit, per_user_metrics
from .rerank import CalibratedReranker, ExplorationReranker, MMRReranker, Reranker
from .tradeoff import list_metrics, tradeoff_curve

__all__ = [
    "audit", "AuditReport", "per_user_metrics", "accuracy_per_user",
    "Reranker", "MMRReranker", "CalibratedReranker", "ExplorationReranker", "tradeoff_curve", "list_metrics",
    "user_attributes", "group_fairness", "GroupFairness", "DEFAULT_ATTRIBUTES",
    "exposure_by_group", "compare_models", "describe_comparison",
]
