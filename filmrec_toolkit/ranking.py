"""Ranked lists: the one home of the ``user_id, item_id, score, rank`` frame.

Every recommender, the evaluation, the audits, the metrics and the widgets exchange top-k
lists as a long frame with these four columns (``TOPK_COLUMNS``). This module builds the
frame from top-k arrays (:func:`topk_frame`), parses and validates one
(:func:`ranked_rows`), and reads which items are excluded from a ranking by the sparsity
structure of a users x items matrix (:func:`stored_entries`). The top-k selection itself
is :func:`filmrec_toolkit._topk.topk`.

It is also the one home of what may be ranked: :func:`exclusion_matrix` turns the
``exclude_seen`` of :meth:`Recommender.recommend <filmrec_toolkit.recommenders.Recommender.recommend>`
and the ``exclude`` of :func:`filmrec_toolkit.evaluate` into the items removed from each
user's ranking (one meaning per value), and
:func:`candidate_mask` turns ``candidates`` into the items allowed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._config import ITEM_COL, RANK_COL, SCORE_COL, TOPK_COLUMNS, USER_COL
from ._validation import check_k
from .datasets.dataset import Dataset, ensure_dataset
from .datasets.vocab import Vocabulary
from .exceptions import check_frame

__all__ = ["TOPK_COLUMNS", "topk_frame", "ranked_rows", "stored_entries", "exclusion_matrix", "candidate_mask"]


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
    k = check_k(k, allow_none=True)
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


def exclusion_matrix(exclude, train: Dataset, param: str = "exclude") -> sp.csr_matrix | None:
    """The users x items matrix whose stored entries are removed from each user's ranking.

    The one reading of the exclusion parameters of :meth:`Recommender.recommend` /
    :meth:`Recommender.recommend_rows` (``exclude_seen``) and :func:`filmrec_toolkit.evaluate`
    (``exclude``). Every stored entry is excluded whatever its value (see
    :func:`stored_entries`): a rating of 0 or a negative rating is still an interaction.

    ============== =====================================================================
    ``exclude``    items removed from user ``u``'s ranking
    ============== =====================================================================
    ``True``       ``u``'s interactions in ``train`` (returns ``train.matrix`` itself)
    ``False``      none (returns ``None``)
    ``None``       none, as ``False`` (returns ``None``)
    Dataset        ``u``'s interactions in it; it must share ``train``'s vocabularies
    sparse matrix  the stored entries of row ``u``; shape ``(n_users, n_items)`` of ``train``
    ============== =====================================================================

    ``evaluate(exclude=None)`` used to mean the training items; until that is removed it
    still does, with a FutureWarning that says to pass ``True``.

    Parameters
    ----------
    exclude : bool, None, Dataset or scipy sparse matrix
        See the table.
    train : Dataset
        The training data: its interactions for ``True``, its vocabularies for the rest.
    param : str
        The caller's parameter name, used in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix or None
        ``None`` when nothing is excluded.

    Raises
    ------
    ValueError
        A Dataset with other vocabularies, or a matrix of another shape.
    TypeError
        Any other value, or a ``train`` that is not a Dataset.
    """
    train = ensure_dataset(train, "train")
    if exclude is True or (isinstance(exclude, np.bool_) and bool(exclude)):
        return train.matrix
    if exclude is None or exclude is False or isinstance(exclude, np.bool_):
        return None
    if isinstance(exclude, Dataset):
        if exclude.user_vocab != train.user_vocab or exclude.item_vocab != train.item_vocab:
            raise ValueError(f"{param}: the Dataset must share the training vocabularies (a split of the same data, "
                             f"e.g. Dataset.concat([train, valid])); got {exclude.n_users} users x {exclude.n_items} "
                             f"items vs {train.n_users} x {train.n_items} in train.")
        return exclude.matrix
    if sp.issparse(exclude):
        m = sp.csr_matrix(exclude)
        if m.shape != (train.n_users, train.n_items):
            raise ValueError(f"{param} matrix has shape {m.shape}, expected {(train.n_users, train.n_items)} "
                             "(users x items of the training vocabularies).")
        return m
    raise TypeError(f"{param} must be True (the training interactions), False or None (nothing), a Dataset or a "
                    f"users x items sparse matrix, got {type(exclude).__name__}.")


def candidate_mask(candidates, item_vocab: Vocabulary, user_ids: Sequence | np.ndarray | None = None,
                   param: str = "candidates") -> sp.csr_matrix | np.ndarray | None:
    """Boolean mask of the items that may be ranked, from ``candidates`` given as item ids.

    ============================== =========================================================
    ``candidates``                  returns
    ============================== =========================================================
    ``None``                        ``None``: every item may be ranked
    array-like of item ids          ``(n_items,)`` bool array, the same items for every user
    DataFrame ``user_id, item_id``  ``(len(user_ids), n_items)`` bool CSR, row ``i`` = the items
                                    allowed for ``user_ids[i]`` (users not listed: none)
    dict user id -> item ids        as the DataFrame
    ============================== =========================================================

    Parameters
    ----------
    candidates : None, array-like, DataFrame or dict
        See the table. Item ids must be in ``item_vocab``; rows of a per-user frame whose
        user is not in ``user_ids`` are ignored.
    item_vocab : Vocabulary
        The item vocabulary (``model.item_vocab_``, ``dataset.item_vocab``).
    user_ids : array-like, optional
        The users of the ranking, in order; required for per-user candidates.
    param : str
        The caller's parameter name, used in error messages.

    Returns
    -------
    None, ndarray of bool or scipy.sparse.csr_matrix of bool
    """
    if candidates is None:
        return None
    if not isinstance(item_vocab, Vocabulary):
        raise TypeError(f"item_vocab must be a Vocabulary (e.g. dataset.item_vocab), got {type(item_vocab).__name__}.")
    if isinstance(candidates, dict):
        candidates = pd.DataFrame([(u, i) for u, its in candidates.items() for i in its], columns=[USER_COL, ITEM_COL])
    if isinstance(candidates, pd.DataFrame):
        check_frame(candidates, (USER_COL, ITEM_COL), param,
                    "Pass a frame of allowed (user_id, item_id) pairs, a dict user -> item ids, or item ids.")
        if user_ids is None:
            raise ValueError(f"{param} are given per user: pass user_ids (the users of the ranking, in order).")
        user_ids = np.atleast_1d(np.asarray(user_ids))
        pos = pd.Index(user_ids).get_indexer(candidates[USER_COL])
        keep = pos >= 0
        cols = item_vocab.to_rows(candidates[ITEM_COL].to_numpy()[keep], param=f"{param}.item_id")
        mask = sp.csr_matrix((np.ones(len(cols), bool), (pos[keep], cols)), shape=(len(user_ids), len(item_vocab)))
        mask.sum_duplicates()
        return mask
    if isinstance(candidates, str):
        raise TypeError(f"{param}={candidates!r}: a single string is not a list of item ids; wrap it in a list.")
    try:
        ids = list(candidates)
    except TypeError:
        raise TypeError(f"{param} must be None, item ids, a DataFrame (user_id, item_id) or a dict user -> item ids, "
                        f"got {type(candidates).__name__}.") from None
    mask = np.zeros(len(item_vocab), dtype=bool)
    mask[item_vocab.to_rows(ids, param=param)] = True
    return mask
