"""Evaluation: full-ranking ``evaluate()`` returning per-user metrics and means."""

from .evaluate import EvaluationResult, evaluate

__all__ = ["evaluate", "EvaluationResult"]
