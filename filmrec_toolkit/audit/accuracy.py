"""Per-user accuracy of any top-k frame (e.g. a re-ranked list) against a test split."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._config import RANK_COL, USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..metrics.accuracy import ranking_metrics
from ..ranking import ranked_rows

__all__ = ["accuracy_per_user"]


def accuracy_per_user(recommendations: pd.DataFrame, train: Dataset, test: Dataset, k=(10,)) -> pd.DataFrame:
    """Accuracy metrics of a top-k frame, per test user, as in :func:`filmrec_toolkit.evaluate`.

    Every test rating is relevant (docs/protocols.md); users with at least one test rating
    are evaluated (a user without a list scores 0); metrics come from
    :func:`filmrec_toolkit.metrics.ranking_metrics` (``ndcg@k`` = binary NDCG,
    ``recall@k``, ``precision@k``, ``map@k``, ``mrr@k``, ``hit@k``). Use it to score
    re-ranked lists, which ``evaluate`` (which ranks with a model) cannot.

    Returns
    -------
    DataFrame ``user_id, n_test, <metric>@<k> ...``
    """
    train = ensure_dataset(train, "train")
    test = ensure_dataset(test, "test")
    if test.item_vocab != train.item_vocab or test.user_vocab != train.user_vocab:
        raise ValueError("test must share train's vocabularies (two parts of one split).")
    ks = [k] if np.ndim(k) == 0 else list(k)
    rows = ranked_rows(recommendations, train)
    rel = test.matrix
    n_rel = np.diff(rel.indptr)
    users = np.flatnonzero(n_rel > 0)
    width = int(max(max(ks), rows[RANK_COL].max() if len(rows) else 0))
    hits = np.zeros((len(users), width), dtype=bool)
    if len(rows):
        pos = pd.Index(train.user_vocab.ids[users]).get_indexer(rows[USER_COL].to_numpy())
        keep = pos >= 0
        urow = users[pos[keep]]
        irow = rows["item_row"].to_numpy()[keep]
        rank = rows[RANK_COL].to_numpy()[keep].astype(np.int64)
        ok = rank <= width
        hit = np.asarray(rel[urow[ok], irow[ok]]).ravel() != 0
        hits[pos[keep][ok], rank[ok] - 1] = hit
    listed = np.isin(train.user_vocab.ids[users], rows[USER_COL].unique()) if len(rows) else np.zeros(len(users), bool)
    if not listed.all():
        warnings.warn(
            f"{int((~listed).sum())} of {len(users)} test user(s) have no recommendation list and score 0; "
            "if you recommended for a sample of users, restrict test to them "
            "(test.subset(test.ratings['user_id'].isin(sample)))",
            UserWarning, stacklevel=2)
    metrics = ranking_metrics(hits, n_rel[users], ks)
    return pd.DataFrame({USER_COL: train.user_vocab.ids[users], "n_test": n_rel[users].astype(np.int64), **metrics})
