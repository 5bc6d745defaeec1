"""Ranked lists: the one home of the ``user_id, item_id, score, rank`` frame.

Every recommender, the evaluation, the audits, the metrics and the widgets exchange top-k
lists as a long frame with these four columns (``TOPK_COLUMNS``). This module builds the
frame from top-k arrays (:func:`topk_frame`), parses and validates one
(:func:`ranked_rows`), and reads which items are excluded from a ranking by the sparsity
structure of a users x items matrix (:func:`stored_entries`). The top-k selection itself
is :func:`filmrec_toolkit._topk.topk`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._config import ITEM_COL, RANK_COL, SCORE_COL, TOPK_COLUMNS, USER_COL
from .datasets.dataset import Dataset
from .exceptions import check_frame

__all__ = ["TOPK_COLUMNS", "topk_frame", "ranked_rows", "stored_entries"]


def topk_frame(user_ids: np.ndarray, item_ids: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> pd.DataFrame:
    """Long ``user_id, item_id, score, rank`` frame from top-k arrays; ``-inf`` entries dropped."""
    n, k = cols.shape
    valid = np.isfinite(vals)
    rank = np.broadcast_to(np.arange(1, k + 1), (n, k))
    return pd.DataFrame({
        USER_COL: np.repeat(np.asarray(user_ids), k).reshape(n, k)[valid],
        ITEM_COL: np.asarray(item_ids)[cols[valid]],
        SCORE_COL: vals[valid].astype(np.float32),
        RANK_COL: rank[valid].astype(np.int64),
    })


def ranked_rows(recommendations: pd.DataFrame, train: Dataset, k: int | None = None,
               param: str = "recommendations") -> pd.DataFrame:
    """A ranked-list frame validated and mapped to item rows: ``user_id, item_row, rank``.

    Sorted by (user, rank) and cut at ``rank <= k``; raises, naming ``param``, when a
    column is missing, ``k`` is not a positive integer, an item is recommended twice to
    one user or an item id is not in ``train``'s vocabulary. The one parser of ranked
    lists: metrics, audits and calibration read lists through it.
    """
    check_frame(recommendations, (USER_COL, ITEM_COL, RANK_COL), param,
                "Pass the top-k frame returned by model.recommend(...).")
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k == {k!r}, must be an integer >= 1 (or None for the whole list).")
    frame = recommendations[[USER_COL, ITEM_COL, RANK_COL]]
    if k is not None:
        frame = frame.loc[frame[RANK_COL] <= k]
    if frame.duplicated([USER_COL, ITEM_COL]).any():
        dup = frame.loc[frame.duplicated([USER_COL, ITEM_COL]), [USER_COL, ITEM_COL]].head(3).to_dict("records")
        raise ValueError(f"{param} recommends an item twice to one user, e.g. {dup}; a top-k list has unique items.")
    rows = train.item_vocab.to_rows(frame[ITEM_COL].to_numpy(), param=f"{param}.item_id") if len(frame) else \
        np.empty(0, dtype=np.int64)
    out = pd.DataFrame({USER_COL: frame[USER_COL].to_numpy(), "item_row": rows,
                        RANK_COL: frame[RANK_COL].to_numpy()})
    return out.sort_values([USER_COL, RANK_COL], kind="mergesort").reset_index(drop=True)


def stored_entries(matrix: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of every STORED entry of a sparse matrix, whatever its value.

    Seen-item exclusion goes by sparsity structure, never by value: a rating of 0
    ("watched, disliked") or an implicit weight of 0 is still an interaction, while
    ``matrix.nonzero()`` would drop it. Duplicate entries are returned once.
    """
    m = sp.csr_matrix(matrix)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()  # merges duplicates; keeps explicit zeros (it never eliminates them)
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    return rows, m.indices.astype(np.int64, copy=False)
