"""Full-ranking evaluation of a recommender on a held-out split.

Protocol (the default): every item not seen in training is ranked for every test user
(MSR Recommenders ``remove_seen=True`` / RecBole full ranking); a user's relevant items
are all their test ratings (or those >= ``relevance_threshold``); metrics come from
:mod:`filmrec_toolkit.metrics.accuracy`, per user, and are averaged over users with at
least one relevant test item. Users without one are excluded and counted.

Relevance and hits are consistent, and both go by sparsity structure, never by value:

* every stored test interaction is relevant (with ``relevance_threshold``: those rated
  >= it), whatever its value -- a rating of 0 or a negative rating is an interaction;
* a recommended item is a hit exactly when it is one of the user's relevant items, so a
  relevant item rated 0 counts as a hit in the binary metrics;
* test interactions that ``exclude`` removes from the ranking can never be hits: they are
  not counted as relevant, and a warning says how many there were;
* graded gains (``ndcg_graded@k``) use the rating clipped at 0, so a rating <= 0 adds
  nothing to DCG or to the ideal DCG (a user whose relevant ratings are all <= 0 gets
  ``ndcg_graded = 0``).

When no user is left to evaluate (an empty test split, a threshold above every test
rating, ``users`` without test items) :func:`evaluate` raises instead of returning NaN.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import USER_COL
from .._validation import check_k, check_number, check_option
from ..datasets.dataset import Dataset, ensure_dataset
from ..metrics.accuracy import ranking_metrics
from ..ranking import candidate_mask, exclusion_matrix, topk_frame
from ..recommenders.base import Recommender, default_chunk_size

logger = logging.getLogger(__name__)

__all__ = ["evaluate", "EvaluationResult"]


@dataclass
class EvaluationResult:
    """What :func:`evaluate` returns.

    Attributes
    ----------
    per_user : DataFrame
        ``user_id, n_test`` and one column per ``metric@k`` (``precision@10``,
        ``recall@10``, ``ndcg@10``, ``map@10`` (MSR ``map``: ÷ n_rel), ``map_at_k@10``
        (MSR ``map_at_k``: ÷ min(k, n_rel)), ``mrr@10``, ``hit@10``, ``ndcg_graded@10``).
    means : Series
        Column means of ``per_user`` metrics (over evaluated users).
    n_users_excluded : int
        Users of the vocabulary (or of ``users``) with no relevant test item: not
        evaluated, only counted.
    recommendations : DataFrame
        ``user_id, item_id, score, rank`` top-``max(k)`` of every evaluated user.
    fit_seconds, score_seconds : float
        Training time (0 when the model was already fitted on ``train``) and the
        time to rank every evaluated user.
    model_name : str
    ks : tuple of int
    """

    per_user: pd.DataFrame
    means: pd.Series
    n_users_excluded: int
    recommendations: pd.DataFrame
    fit_seconds: float
    score_seconds: float
    model_name: str = ""
    ks: tuple = ()
    params: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        """Number of evaluated users."""
        return len(self.per_user)

    def summary(self, k: int | None = None) -> pd.Series:
        """Means (optionally only the ``@k`` columns) plus counts and times."""
        means = self.means if k is None else self.means[[c for c in self.means.index if c.endswith(f"@{k}")]]
        extra = pd.Series({"n_users": self.n_users, "n_users_excluded": self.n_users_excluded,
                           "fit_seconds": self.fit_seconds, "score_seconds": self.score_seconds})
        return pd.concat([means, extra]).rename(self.model_name)

    def __repr__(self) -> str:
        k = 10 if 10 in self.ks else (self.ks[0] if self.ks else None)
        shown = ", ".join(f"{c}={v:.4f}" for c, v in self.means.items() if k is not None and c.endswith(f"@{k}"))
        return (f"EvaluationResult({self.model_name}: {self.n_users} users, {self.n_users_excluded} excluded; "
                f"{shown})")


def _relevant_entries(test_matrix: sp.csr_matrix, threshold: float | None,
                      mask: sp.csr_matrix | None,
                      allowed: np.ndarray | None = None) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """Relevant test interactions, by sparsity structure.

    Returns ``(index, gains, n_masked)``: ``index`` is a users x items CSR holding, for each
    relevant interaction, its number + 1 (so a lookup gives 0 for "not relevant"); ``gains``
    the graded gain of each (the rating clipped at 0); ``n_masked`` the interactions dropped
    because ``mask`` removes them from every ranking (they could never be hits). Items outside
    ``allowed`` (the ``candidates`` of :func:`evaluate`) are never ranked either, so they are
    not relevant (not counted in ``n_masked``: restricting candidates is the caller's choice).
    """
    test_m = sp.csr_matrix(test_matrix, copy=True)
    test_m.sum_duplicates()
    test_m.sort_indices()
    keep = np.ones(test_m.nnz, dtype=bool)
    if threshold is not None:
        keep &= test_m.data >= threshold
    if allowed is not None:
        keep &= allowed[test_m.indices]
    n_masked = 0
    if mask is not None:
        numbered = sp.csr_matrix((np.arange(1, test_m.nnz + 1, dtype=np.int64), test_m.indices, test_m.indptr),
                                 shape=test_m.shape)
        m = sp.csr_matrix(mask, copy=True)
        m.data = np.ones(len(m.data), dtype=np.int64)  # structure only: a stored zero masks too
        both = numbered.multiply(m).tocsr()
        masked = np.zeros(test_m.nnz, dtype=bool)
        masked[both.data[both.data > 0] - 1] = True
        n_masked = int((masked & keep).sum())
        keep &= ~masked
    rows = np.repeat(np.arange(test_m.shape[0]), np.diff(test_m.indptr))[keep]
    index = sp.csr_matrix((np.arange(1, int(keep.sum()) + 1, dtype=np.int64), (rows, test_m.indices[keep])),
                          shape=test_m.shape)
    index.sort_indices()
    gains = np.maximum(test_m.data[keep].astype(np.float64), 0.0)
    return index, gains, n_masked


def _evaluation_candidates(candidates, train: Dataset, test: Dataset) -> np.ndarray | None:
    """Boolean item mask of ``evaluate(candidates=...)``: None, "test" or item ids shared by every user."""
    if candidates is None:
        return None
    if isinstance(candidates, str):
        if candidates != "test":
            raise ValueError(f"candidates={candidates!r}: use None, 'test' (items occurring in test, the cold-item "
                             "protocol) or an array of item ids, e.g. candidates=test.item_ids[:100].")
        return test.item_counts() > 0
    if isinstance(candidates, (dict, pd.DataFrame)):
        raise TypeError("evaluate's candidates are the same items for every user: None, 'test' or an array of item "
                        f"ids, got a {type(candidates).__name__}; rank per-user candidates with "
                        "model.recommend(candidates=...) and score the lists with the metrics functions.")
    mask = candidate_mask(candidates, train.item_vocab, param="candidates")
    if not mask.any():
        raise ValueError("candidates is empty; pass at least one item id, 'test', or None for every item.")
    return mask


def evaluate(model: Recommender, train: Dataset, test: Dataset, k: int | Iterable[int] = (5, 10, 20),
             exclude=True, relevance_threshold: float | None = None, users=None, refit: bool | str = "auto",
             gain: str = "linear", chunk_size: int | None = None, show_progress: bool = False,
             candidates=None, *, client=None, n_partitions: int | None = None) -> EvaluationResult:
    """Fit (if needed), rank every unseen item for each test user, and score the lists.

    Parameters
    ----------
    model : Recommender
    train, test : Dataset
        Splits of one Dataset (shared vocabularies), e.g. from ``stratified_split``.
    k : int or iterable of int
        Cut-offs; the lists have length ``max(k)``.
    exclude : bool, Dataset or sparse matrix
        Items removed from each user's ranking, read by :func:`filmrec_toolkit.exclusion_matrix`
        (the same meanings as ``Recommender.recommend(exclude_seen=...)``). ``True`` (default):
        the interactions of ``train`` (MSR protocol, RecBole validation). For RecBole's
        test phase pass ``Dataset.concat([train, valid])``; a users x items sparse matrix
        removes exactly its stored entries. ``False``: rank everything. ``None`` is
        deprecated here: it still means the training items, with a FutureWarning (it
        will mean "nothing", as everywhere else); pass ``True``.
    relevance_threshold : float, optional
        Test ratings >= this are relevant; default every test rating (MSR protocol),
        including ratings of 0 and negative ratings (see the module docstring).
    users : array-like of user ids, optional
        Restrict evaluation to these users.
    refit : True, False or "auto"
        ``"auto"`` fits unless the model is already fitted on this very ``train``.
    gain : {"linear", "exponential"}
        Gain of ``ndcg_graded@k``: ``g`` or ``2**g - 1`` with grade ``g`` = the test
        rating clipped at 0.
    chunk_size : int, optional
        Users ranked at once.
    candidates : None, "test" or array-like of item ids
        Items that may be ranked (after ``exclude``). ``None``: every item. ``"test"``:
        only the items that occur in ``test`` — the item cold-start protocol (see
        :func:`~filmrec_toolkit.cold_item_split`), where each user ranks the held-out items.
        An array of item ids restricts every list to those items (relevant test items
        outside it still count as relevant, e.g. in recall's denominator).
    client : distributed.Client, optional
        ``None`` (default): rank in this process. A Dask client: the test users are ranked
        on its workers by ``model.recommend_rows(..., client=client)`` (the same ranking
        function); every field of the result is identical except ``score_seconds``.
        Fitting (``refit``) always happens here, once.
    n_partitions : int, optional
        Ranking tasks with ``client`` (default 4 x the cluster's threads).

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ValueError
        When no user has a relevant test item (every metric would be NaN), or for a bad
        ``k``, ``gain``, ``relevance_threshold`` or ``refit``.
    """
    train = ensure_dataset(train, "train")
    test = ensure_dataset(test, "test")
    if not isinstance(model, Recommender):
        raise TypeError(f"model must be a filmrec_toolkit Recommender, got {type(model).__name__}.")
    if test.user_vocab != train.user_vocab or test.item_vocab != train.item_vocab:
        raise ValueError("train and test must share vocabularies: split one Dataset "
                         "(stratified_split, user_random_split, ...) instead of loading them separately.")
    ks = tuple(sorted({check_k(v) for v in ([k] if np.ndim(k) == 0 else k)}))
    if not ks:
        raise ValueError("k is empty; give at least one cut-off, e.g. k=(10,).")
    if refit not in (True, False, "auto"):
        raise ValueError(f"refit={refit!r} must be True, False or 'auto'.")
    check_option(gain, "gain", ("linear", "exponential"), example='gain="linear"')
    check_number(relevance_threshold, "relevance_threshold", allow_none=True, example="relevance_threshold=4")
    if client is None and n_partitions is not None:
        raise ValueError(f"n_partitions={n_partitions!r} is only used with client=...; pass a distributed.Client "
                         "or leave n_partitions=None.")
    if client is not None:  # checked before any fit; dask is imported on this path only
        from ..cluster import ensure_client

        client = ensure_client(client)
    if exclude is None:
        warnings.warn("evaluate(exclude=None) means the training items here, but None means 'exclude nothing' "
                      "everywhere else (Recommender.recommend(exclude_seen=None), filmrec_toolkit.exclusion_matrix) "
                      "and will mean that here too; pass exclude=True for the training items (the default) or "
                      "exclude=False for nothing.", FutureWarning, stacklevel=2)
        exclude = True
    mask = exclusion_matrix(exclude, train, param="exclude")
    allowed = _evaluation_candidates(candidates, train, test)
    needs_fit = refit is True or (refit == "auto" and getattr(model, "train_", None) is not train)
    if needs_fit:
        model.fit(train)
        fit_seconds = float(getattr(model, "fit_seconds_", np.nan))
    else:
        if not hasattr(model, "train_"):
            raise ValueError("refit=False but the model is not fitted; fit it or use refit='auto'.")
        if model.item_vocab_ != train.item_vocab or model.user_vocab_ != train.user_vocab:
            raise ValueError("refit=False: the model was fitted on data with other vocabularies than train.")
        fit_seconds = 0.0

    rel, gains_all, n_masked = _relevant_entries(test.matrix, relevance_threshold, mask, allowed)
    if n_masked:
        warnings.warn(f"{n_masked} test interaction(s) are also in `exclude` and can never be recommended; "
                      "they are not counted as relevant. Remove them from `exclude` (e.g. exclude=True for "
                      "the training items only) or deduplicate the splits.", UserWarning, stacklevel=2)
    n_rel_all = np.diff(rel.indptr)
    if users is None:
        test_user_rows = np.arange(train.n_users)
    else:
        test_user_rows = np.unique(train.user_vocab.to_rows(np.atleast_1d(np.asarray(users)), param="users"))
    has_rel = n_rel_all[test_user_rows] > 0
    excluded = int((~has_rel).sum())
    rows = test_user_rows[has_rel]
    if excluded:
        logger.info("%d test user(s) have no relevant test item and are excluded", excluded)
    if len(rows) == 0:
        raise ValueError(
            f"no user has a relevant test item: test has {test.n_ratings} rating(s), relevance_threshold="
            f"{relevance_threshold!r}, users={'all' if users is None else len(test_user_rows)}, "
            f"{n_masked} test interaction(s) masked by `exclude`. Every metric would be NaN; pass a non-empty "
            "test split (e.g. stratified_split(ds, (0.8, 0.2))) or lower relevance_threshold.")
    kmax = max(ks)

    start = time.perf_counter()
    # the model's own training matrix is passed as True: on a cluster the workers use their copy of it
    exclude_seen = True if mask is model.train_.matrix else (False if mask is None else mask)
    backend = {} if client is None else {"client": client, "n_partitions": n_partitions}
    cols, vals = model.recommend_rows(rows, kmax, exclude_seen=exclude_seen, candidate_mask=allowed,
                                      chunk_size=chunk_size or default_chunk_size(model.n_items_),
                                      show_progress=show_progress, **backend)
    score_seconds = time.perf_counter() - start

    valid = np.isfinite(vals)
    sub = rel[rows]
    if cols.shape[1]:
        # entry number + 1 of each ranked item in the relevance structure (0 = not relevant): hits go by
        # structure, so a relevant rating of 0 is still a hit
        found = np.asarray(sub[np.arange(len(rows))[:, None], cols].todense(), dtype=np.int64).reshape(cols.shape)
    else:
        found = np.zeros(cols.shape, dtype=np.int64)
    hits = (found > 0) & valid
    grades = np.where(hits, gains_all[np.maximum(found - 1, 0)], 0.0)
    ideal = np.split(gains_all[sub.data - 1], sub.indptr[1:-1])
    metrics = ranking_metrics(hits, n_rel_all[rows], ks, gains=grades, ideal_gains=ideal, gain=gain)
    per_user = pd.DataFrame({USER_COL: train.user_vocab.to_ids(rows), "n_test": n_rel_all[rows].astype(np.int64),
                             **metrics})
    means = per_user.drop(columns=[USER_COL, "n_test"]).mean()
    recs = topk_frame(train.user_vocab.to_ids(rows), train.item_ids, cols, vals)
    return EvaluationResult(per_user, means, excluded, recs, fit_seconds, score_seconds,
                            model_name=getattr(model, "name", type(model).__name__), ks=ks,
                            params={k_: v for k_, v in model.get_params().items()
                                    if isinstance(v, (int, float, str, bool, type(None)))})
