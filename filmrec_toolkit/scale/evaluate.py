"""Full-ranking evaluation with the ranking step on a Dask cluster: ``evaluate(..., client=client)``."""

from __future__ import annotations

import logging
from typing import Iterable

from .._deprecation import warn_replaced
from ..datasets.dataset import Dataset
from ..evaluation import EvaluationResult, evaluate
from ..recommenders.base import Recommender
from .cluster import ensure_client

logger = logging.getLogger(__name__)

__all__ = ["evaluate_distributed"]


def evaluate_distributed(model: Recommender, train: Dataset, test: Dataset, k: int | Iterable[int] = (5, 10, 20),
                         client=None, *, exclude=True, relevance_threshold: float | None = None, users=None,
                         refit: bool | str = "auto", gain: str = "linear", chunk_size: int | None = None,
                         n_partitions: int | None = None, show_progress: bool = False) -> EvaluationResult:
    """Deprecated: :func:`filmrec_toolkit.evaluate` ``(..., client=client)``, the same result.

    Parameters
    ----------
    model, train, test, k, exclude, relevance_threshold, users, refit, gain, chunk_size, n_partitions, show_progress
        As in :func:`filmrec_toolkit.evaluation.evaluate`.
    client : distributed.Client, optional
        Default: the current client (``evaluate(client=None)`` ranks in-process instead).

    Returns
    -------
    EvaluationResult
    """
    warn_replaced("evaluate_distributed(model, train, test, k, client)", "evaluate(model, train, test, k, client=client)",
                  "the same result, the same code")
    return evaluate(model, train, test, k, exclude=exclude, relevance_threshold=relevance_threshold, users=users,
                    refit=refit, gain=gain, chunk_size=chunk_size, show_progress=show_progress,
                    client=ensure_client(client), n_partitions=n_partitions)
