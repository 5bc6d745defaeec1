"""Full-ranking evaluation with the ranking step on a Dask cluster."""

from __future__ import annotations

import logging
import time
from typing import Iterable

import numpy as np

from ..datasets.dataset import Dataset, ensure_dataset
from ..evaluation import EvaluationResult, evaluate
from ..recommenders.base import Recommender
from .cluster import ensure_client
from .recommend import _scatter_model, recommend_rows_distributed

logger = logging.getLogger(__name__)

__all__ = ["evaluate_distributed"]


class _DistributedRanking(Recommender):
    """A fitted model whose ``recommend_rows`` runs on the cluster (everything else delegates)."""

    def __init__(self, model: Recommender, client, model_future, n_partitions: int | None) -> None:
        self.model = model
        self.client = client
        self.model_future = model_future
        self.n_partitions = n_partitions
        self.name = getattr(model, "name", type(model).__name__)
        self.train_ = model.train_
        self.user_vocab_ = model.user_vocab_
        self.item_vocab_ = model.item_vocab_

    def get_params(self) -> dict:
        return self.model.get_params()

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return self.model.score(user_rows)

    def recommend_rows(self, user_rows, k: int = 10, exclude_seen=True, candidate_mask=None,
                       chunk_size: int | None = None, show_progress: bool = False):
        if exclude_seen is self.model.train_.matrix:  # workers already hold the training matrix
            exclude_seen = True
        return recommend_rows_distributed(self.model, user_rows, k, self.client, exclude_seen=exclude_seen,
                                          candidate_mask=candidate_mask, chunk_size=chunk_size,
                                          n_partitions=self.n_partitions, model_future=self.model_future,
                                          show_progress=show_progress)


def evaluate_distributed(model: Recommender, train: Dataset, test: Dataset, k: int | Iterable[int] = (5, 10, 20),
                         client=None, *, exclude=None, relevance_threshold: float | None = None, users=None,
                         refit: bool | str = "auto", gain: str = "linear", chunk_size: int | None = None,
                         n_partitions: int | None = None, show_progress: bool = False) -> EvaluationResult:
    """:func:`filmrec_toolkit.evaluation.evaluate` with the ranking of test users on a Dask cluster.

    Fitting happens here (in this process) when needed, exactly as ``evaluate`` decides it
    (``refit``); the fitted model is then scattered once to the workers, the test users
    are ranked there by :func:`recommend_distributed`'s partitioning, and the metrics are
    computed here by ``evaluate`` itself. ``per_user``, ``means``, ``n_users_excluded`` and
    ``recommendations`` are identical to ``evaluate(model, train, test, k, ...)``;
    ``score_seconds`` is the distributed ranking time.

    Parameters
    ----------
    model, train, test, k, exclude, relevance_threshold, users, refit, gain, chunk_size, show_progress
        As in :func:`filmrec_toolkit.evaluation.evaluate`.
    client : distributed.Client, optional
        Default: the current client.
    n_partitions : int, optional
        Ranking tasks (default 4 x the cluster's threads).

    Returns
    -------
    EvaluationResult
    """
    client = ensure_client(client)
    train = ensure_dataset(train, "train")
    ensure_dataset(test, "test")
    if not isinstance(model, Recommender):
        raise TypeError(f"model must be a filmrec_toolkit Recommender, got {type(model).__name__}.")
    if refit not in (True, False, "auto"):
        raise ValueError(f"refit={refit!r} must be True, False or 'auto'.")
    fit_seconds = 0.0
    if refit is True or (refit == "auto" and getattr(model, "train_", None) is not train):
        start = time.perf_counter()
        model.fit(train)
        fit_seconds = float(getattr(model, "fit_seconds_", time.perf_counter() - start))
    elif not hasattr(model, "train_"):
        raise ValueError("refit=False but the model is not fitted; fit it or use refit='auto'.")
    proxy = _DistributedRanking(model, client, _scatter_model(client, model), n_partitions)
    result = evaluate(proxy, train, test, k, exclude=exclude, relevance_threshold=relevance_threshold, users=users,
                      refit=False, gain=gain, chunk_size=chunk_size, show_progress=show_progress)
    result.fit_seconds = fit_seconds
    return result
