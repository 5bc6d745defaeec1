"""Evaluation: full-ranking ``evaluate()`` returning per-user metrics and means; ``tune()`` and
``tune_blend()`` on validation."""

from .blend import tune_blend, tune_lm_hybrids
from .evaluate import EvaluationResult, evaluate
from .tune import TuneResult, tune

__all__ = ["evaluate", "EvaluationResult", "tune", "TuneResult", "tune_blend", "tune_lm_hybrids"]
