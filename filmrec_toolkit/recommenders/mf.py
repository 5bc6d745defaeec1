"""Implicit-feedback matrix factorisation: ALS and BPR (via the ``implicit`` library, CPU)."""

from __future__ import annotations

import logging

import numpy as np

from .._validation import check_bool, check_number
from ..datasets.dataset import Dataset
from .base import Recommender
from .ease import interaction_matrix

logger = logging.getLogger(__name__)

__all__ = ["ALS", "BPR"]


def _seed(random_state) -> int:
    return int(np.random.default_rng(random_state).integers(2**31 - 1))


def _fit_implicit(factory, x):
    """Build and fit an ``implicit`` model with BLAS limited to one thread (implicit threads itself)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # a BLAS pool on top of implicit's threads thrashes
        model = factory()
        model.fit(x, show_progress=False)
    return model


class _FactorModel(Recommender):
    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[user_rows] @ self.item_factors_.T

    def _dot_factors(self):
        return self.user_factors_, self.item_factors_


class ALS(_FactorModel):
    """Weighted matrix factorisation for implicit feedback (Hu, Koren & Volinsky, ICDM 2008).

    Confidence ``1 + alpha · x_ui``; solved by alternating least squares (conjugate
    gradient) in ``implicit.cpu.als``. Score = user factor · item factor.

    Parameters
    ----------
    factors, regularization, alpha, iterations : see ``implicit``.
    implicit : bool
        x_ui = 1 per rating (default) or the rating value.
    random_state : int, Generator or None
    """

    name = "ALS"

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 2.0,
                 iterations: int = 15, implicit: bool = True, random_state=None) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.implicit = implicit
        self.random_state = random_state

    def _validate_params(self) -> None:
        # factors=0 makes implicit's BLAS calls fail (thousands of lines on stdout, then zeros);
        # iterations <= 0 returns the random initial factors
        check_number(self.factors, "factors", integer=True, low=1, example="ALS(factors=64)")
        check_number(self.regularization, "regularization", low=0, example="ALS(regularization=0.05)")
        check_number(self.alpha, "alpha", low=0, example="ALS(alpha=2.0)")
        check_number(self.iterations, "iterations", integer=True, low=1, example="ALS(iterations=15)")
        check_bool(self.implicit, "implicit", example="ALS(implicit=True)")

    def _fit(self, train: Dataset) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        seed = _seed(self.random_state)
        model = _fit_implicit(lambda: AlternatingLeastSquares(
            factors=self.factors, regularization=self.regularization, alpha=self.alpha,
            iterations=self.iterations, random_state=seed), interaction_matrix(train, self.implicit))
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)


class BPR(_FactorModel):
    """Bayesian Personalised Ranking MF (Rendle et al., UAI 2009), SGD in ``implicit.cpu.bpr``.

    Item factors carry a bias column (user factors a constant 1), so the dot product
    includes the item bias.
    """

    name = "BPR"

    def __init__(self, factors: int = 64, learning_rate: float = 0.05, regularization: float = 0.01,
                 iterations: int = 100, random_state=None) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state

    def _validate_params(self) -> None:
        check_number(self.factors, "factors", integer=True, low=1, example="BPR(factors=64)")
        check_number(self.learning_rate, "learning_rate", low=0, low_open=True, example="BPR(learning_rate=0.05)")
        check_number(self.regularization, "regularization", low=0, example="BPR(regularization=0.01)")
        check_number(self.iterations, "iterations", integer=True, low=1, example="BPR(iterations=100)")

    def _fit(self, train: Dataset) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        seed = _seed(self.random_state)
        model = _fit_implicit(lambda: BayesianPersonalizedRanking(
            factors=self.factors, learning_rate=self.learning_rate, regularization=self.regularization,
            iterations=self.iterations, random_state=seed), interaction_matrix(train, True))
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)
