"""All-user top-k on a Dask cluster: ``model.recommend(..., client=client)``.

The client backend lives in :meth:`~filmrec_toolkit.recommenders.Recommender.recommend_rows`:
the model is shipped once, users are partitioned, and each partition is ranked on a worker
by the function that ranks in-process, over the same user chunks (partitions start at
multiples of ``chunk_size``), through the shared top-k of :mod:`filmrec_toolkit._topk`
(ties broken by item row). Lists and scores are identical to ``model.recommend``, also
for dense dot-product models whose float32 BLAS sums depend on the thread count: their
list heads are re-ranked with reproducible float64 dot products
(:func:`filmrec_toolkit._topk.topk_refined`). Other models whose scores come from BLAS
(e.g. a hybrid of a content model) can still swap near-tied items between layouts;
:func:`~filmrec_toolkit.recommenders.count_differing_lists` counts such lists.

Memory (measured with tracemalloc, ``tests/test_scale_memory.py``). In one process,
ranking ``n`` users over ``m`` items in chunks of ``c`` users peaks at about::

    c * m * 17.4 bytes        float32 scores + their negated copy (4 + 4), argpartition's
                              int64 indices (8), a boolean mask (~1), all freed per chunk
    + n * k * 12 bytes        the int64 item rows and float32 scores returned
    + model state             (item vectors / similarity, training Dataset)

The first term does not depend on ``n``: with the default ``c = default_chunk_size(m)``
(128 MiB of scores) it is about 560 MiB whatever the catalogue. On the cluster each
worker holds one copy of the model plus the same chunk term per thread; the client holds
only the ``(n, k)`` results.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .._deprecation import warn_replaced
from ..recommenders.base import Recommender
from .cluster import ensure_client

logger = logging.getLogger(__name__)

__all__ = ["recommend_distributed", "recommend_rows_distributed"]


def _deprecated(old: str, new: str) -> None:
    warn_replaced(old, new, "the same result, the same code", stacklevel=3)


def recommend_rows_distributed(model: Recommender, rows: np.ndarray, k: int, client, *, exclude_seen=True,
                               candidate_mask=None, chunk_size: int | None = None,
                               n_partitions: int | None = None, model_future=None,
                               show_progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Deprecated: ``model.recommend_rows(rows, k, ..., client=client)``.

    ``client=None`` here means the current client. ``model_future`` is no longer used
    (``recommend_rows`` sends the model once per call).
    """
    _deprecated("recommend_rows_distributed(model, rows, k, client)", "model.recommend_rows(rows, k, client=client)")
    return model.recommend_rows(rows, k, exclude_seen, candidate_mask, chunk_size, show_progress,
                                client=ensure_client(client), n_partitions=n_partitions)


def recommend_distributed(model: Recommender, users=None, k: int = 10, client=None, *, exclude_seen=True,
                          candidates=None, chunk_size: int | None = None, n_partitions: int | None = None,
                          show_progress: bool = False) -> pd.DataFrame:
    """Deprecated: ``model.recommend(users, k, ..., client=client)``, the same frame.

    Parameters
    ----------
    model : Recommender
        A fitted recommender (picklable: any class importable on the workers).
    users, k, exclude_seen, candidates, chunk_size, n_partitions, show_progress
        As in :meth:`Recommender.recommend`.
    client : distributed.Client, optional
        Default: the current client (``recommend(client=None)`` ranks in-process instead).

    Returns
    -------
    DataFrame
        ``user_id, item_id, score, rank``.
    """
    _deprecated("recommend_distributed(model, users, k, client)", "model.recommend(users, k, client=client)")
    client = ensure_client(client)
    return model.recommend(users, k, exclude_seen, candidates, chunk_size, show_progress,
                           client=client, n_partitions=n_partitions)
