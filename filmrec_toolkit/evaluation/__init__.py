"""Evaluation: full-ranking ``evaluate()`` returning per-user metrics and means; ``tune()`` on validation."""

from .evaluate import EvaluationResult, evaluate
from .tune import TuneResult, tune

__all__ = ["evaluate", "EvaluationResult", "tune", "TuneResult"]
