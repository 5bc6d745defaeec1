"""Re-rankers: candidate top-N frame in, top-k frame out.

All re-rankers share one interface::

    reranker.fit(train)                      # learns histories / features; returns self
    reranker.rerank(candidates, k=10)        # -> DataFrame[user_id, item_id, score, rank]

``candidates`` is a top-N frame (``model.recommend(users, k=N)``), N >= k. The output
keeps the model's ``score`` of each chosen item and numbers the new order in ``rank``.
Relevance is min-max normalised per user over the candidates (all equal -> 1) so that
``lam`` (λ) means the same for every model. Ties go to the better original rank.
Parameters are checked at ``fit`` and again at every ``rerank`` (``set_params`` after
``fit`` cannot slip an invalid value through).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL, USER_COL
from .._deprecation import pop_renamed_kwarg, renamed_argument
from .._params import ParamsMixin
from .._validation import check_k
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_fitted, check_frame
from ..features.embeddings import l2_normalize
from ..metrics.beyond import head_items, item_features
from ..metrics.calibration import STECK_ALPHA, genre_matrix, kl_miscalibration, user_genre_distribution

logger = logging.getLogger(__name__)

__all__ = ["Reranker", "MMRReranker", "CalibratedReranker", "ExplorationReranker"]


def _check_unit(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not 0 <= value <= 1:
        raise ValueError(f"{name} == {value!r}, must be a number in [0, 1], e.g. {name}=0.5.")
    return float(value)


def _renamed_lam(owner: str, lam, deprecated: dict):
    """``lam``, or the deprecated ``lambda_`` spelling (a FutureWarning); other keywords are refused."""
    return renamed_argument(owner, "lambda_", pop_renamed_kwarg(owner, deprecated, "lambda_"), "lam", lam,
                            default=0.5, reason="a trailing _ marks fitted attributes", stacklevel=4)


class Reranker(ParamsMixin):
    """Base class: subclasses implement ``_fit(train)`` and ``_select(user_id, item_rows, rel, k)``."""

    def _fit(self, train: Dataset) -> None:  # pragma: no cover - hook
        pass

    def _check_params(self) -> None:
        """Validate the parameters; called by ``fit`` and by every ``rerank`` (at use)."""

    def _start(self) -> None:
        """Called once at the start of each :meth:`rerank` (e.g. to seed a generator)."""

    def _select(self, user_id, item_rows: np.ndarray, rel: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def fit(self, train: Dataset) -> "Reranker":
        """Store the training data (histories, item vocabulary); returns self."""
        train = ensure_dataset(train, "train")
        self._check_params()
        self._fit(train)
        self.train_ = train
        return self

    def rerank(self, candidates: pd.DataFrame, k: int = 10) -> pd.DataFrame:
        """Re-order each user's candidates and keep ``k`` (fewer if a user has fewer candidates)."""
        check_fitted(self, "train_")
        self._check_params()
        k = check_k(k)
        check_frame(candidates, (USER_COL, ITEM_COL, SCORE_COL), "candidates",
                    "Pass the top-N frame of model.recommend(users, k=N) with N >= k.")
        if candidates.duplicated([USER_COL, ITEM_COL]).any():
            raise ValueError("candidates lists an item twice for one user; give unique (user_id, item_id) pairs.")
        if RANK_COL in candidates.columns:
            cand = candidates.sort_values([USER_COL, RANK_COL], kind="mergesort")
        else:  # no rank: best score first
            cand = candidates.sort_values([USER_COL, SCORE_COL], ascending=[True, False], kind="mergesort")
        users = cand[USER_COL].to_numpy()
        items = self.train_.item_vocab.to_rows(cand[ITEM_COL].to_numpy(), param="candidates.item_id") \
            if len(cand) else np.empty(0, dtype=np.int64)
        scores = cand[SCORE_COL].to_numpy(dtype=float)
        self._start()
        out_u, out_i, out_s, out_r = [], [], [], []
        if len(cand):
            starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
            ends = np.r_[starts[1:], len(users)]
            for s, e in zip(starts, ends):
                sc = scores[s:e]
                finite = np.isfinite(sc)
                lo, hi = (sc[finite].min(), sc[finite].max()) if finite.any() else (0.0, 0.0)
                rel = np.where(finite, (sc - lo) / (hi - lo) if hi > lo else 1.0, 0.0)
                kk = min(k, e - s)
                chosen = np.asarray(self._select(users[s], items[s:e], rel, kk), dtype=np.int64)
                out_u.append(np.repeat(users[s:s + 1], len(chosen)))
                out_i.append(items[s:e][chosen])
                out_s.append(sc[chosen])
                out_r.append(np.arange(1, len(chosen) + 1))
        if not out_u:
            return pd.DataFrame({USER_COL: users[:0], ITEM_COL: cand[ITEM_COL].to_numpy()[:0],
                                 SCORE_COL: np.empty(0, np.float32), RANK_COL: np.empty(0, np.int64)})
        return pd.DataFrame({
            USER_COL: np.concatenate(out_u),
            ITEM_COL: self.train_.item_vocab.to_ids(np.concatenate(out_i)),
            SCORE_COL: np.concatenate(out_s).astype(np.float32),
            RANK_COL: np.concatenate(out_r).astype(np.int64),
        })


class MMRReranker(Reranker):
    """Maximal Marginal Relevance (Carbonell & Goldstein, SIGIR 1998) for intra-list diversity.

    Greedily adds ``argmax_{i not in S} lam * rel(i) - (1 - lam) * max_{j in S} cos(f_i, f_j)``,
    with ``rel`` the min-max normalised model score and ``f`` the item features
    (``"genres"``, an ``ItemEmbeddings``, ...; see :func:`filmrec_toolkit.metrics.item_features`).
    ``lam = 1`` keeps the model's order; smaller values trade relevance for diversity.

    Parameters
    ----------
    lam : float in [0, 1]
        λ (``lambda_=`` is a deprecated spelling).
    features : str, ItemEmbeddings, DataFrame or array
    """

    def __init__(self, lam: float = 0.5, features="genres", **deprecated) -> None:
        self.lam = _renamed_lam("MMRReranker", lam, deprecated)
        self.features = features

    def _check_params(self) -> None:
        _check_unit(self.lam, "lam")

    def _fit(self, train: Dataset) -> None:
        self.unit_features_ = l2_normalize(item_features(train, self.features), dtype=np.float64)

    def _select(self, user_id, item_rows, rel, k):
        lam = float(self.lam)
        f = self.unit_features_[item_rows]
        sim = f @ f.T
        n = len(item_rows)
        chosen: list[int] = []
        available = np.ones(n, dtype=bool)
        max_sim = np.zeros(n)
        for _ in range(k):
            obj = lam * rel - (1 - lam) * max_sim if chosen else rel.copy()
            obj[~available] = -np.inf
            j = int(np.argmax(obj))
            chosen.append(j)
            available[j] = False
            max_sim = np.maximum(max_sim, sim[:, j])
        return np.array(chosen)


class CalibratedReranker(Reranker):
    """Calibrated recommendations (Steck, RecSys 2018), greedy.

    Greedily builds ``S`` maximising ``(1 - lam) * sum_{i in S} rel(i) - lam * C_KL(p, q~(S))``
    with ``p`` the user's training genre distribution and ``q~`` the smoothed genre
    distribution of ``S`` (see :func:`filmrec_toolkit.metrics.miscalibration`; ``alpha = 0.01``,
    ``p(g|i) = 1 / |genres(i)|``). Steck's greedy algorithm (his sec. 3), with relevance
    min-max normalised per user. ``lam = 0`` keeps the model's order. Users without a
    genre history keep the model's order.

    Parameters
    ----------
    lam : float in [0, 1]
        λ (``lambda_=`` is a deprecated spelling).
    alpha : float
        Smoothing of ``q`` (Steck: 0.01).
    weights : {"uniform", "rating"}
        History weights of ``p(g|u)``.
    """

    def __init__(self, lam: float = 0.5, alpha: float = STECK_ALPHA, weights: str = "uniform",
                 **deprecated) -> None:
        self.lam = _renamed_lam("CalibratedReranker", lam, deprecated)
        self.alpha = alpha
        self.weights = weights

    def _check_params(self) -> None:
        _check_unit(self.lam, "lam")

    def _fit(self, train: Dataset) -> None:
        self.pgi_, self.genres_ = genre_matrix(train)
        self.p_ = user_genre_distribution(train, self.weights)
        self.user_index_ = train.user_vocab.index

    def _select(self, user_id, item_rows, rel, k):
        lam = float(self.lam)
        p = self.p_[self.user_index_.get_loc(user_id)] if user_id in self.user_index_ else None
        n = len(item_rows)
        if p is None or np.isnan(p).any() or lam == 0:
            return np.arange(k)
        g = self.pgi_[item_rows]
        mass = np.zeros(g.shape[1])
        chosen: list[int] = []
        available = np.ones(n, dtype=bool)
        for _ in range(k):
            cand_mass = mass[None, :] + g
            total = cand_mass.sum(axis=1, keepdims=True)
            q = np.divide(cand_mass, total, out=np.zeros_like(cand_mass), where=total > 0)
            kl = kl_miscalibration(np.broadcast_to(p, q.shape), q, self.alpha)
            obj = (1 - lam) * rel - lam * kl
            obj[~available] = -np.inf
            j = int(np.argmax(obj))
            chosen.append(j)
            available[j] = False
            mass = mass + g[j]
        return np.array(chosen)


class ExplorationReranker(Reranker):
    """Epsilon-greedy exploration slots for out-of-taste or long-tail items.

    Each of the ``k`` slots is, with probability ``epsilon`` (a seeded draw per slot),
    an exploration slot: it takes the most relevant remaining candidate that is
    *exploratory*; other slots take the most relevant remaining candidate. An item is
    exploratory when (``mode="genre"``) none of its genres is among the user's usual
    genres - the smallest set of the user's top genres holding ``usual_share`` of their
    ``p(g|u)`` history mass -, (``mode="tail"``) it is outside the popularity head
    (:func:`filmrec_toolkit.metrics.head_items`), or (``mode="either"``) either holds.
    If no exploratory candidate remains the slot exploits. Candidates stay the model's
    top-N, so explored items are still ones the model finds relevant. ``epsilon = 0``
    keeps the model's order. The generator is seeded by ``random_state`` at each
    :meth:`rerank`, so a call is reproducible.

    Parameters
    ----------
    epsilon : float in [0, 1]
    random_state : int, Generator or None
    mode : {"either", "genre", "tail"}
    usual_share : float in (0, 1]
    head_share : float
    """

    def __init__(self, epsilon: float = 0.2, random_state=None, mode: str = "either", usual_share: float = 0.8,
                 head_share: float = 0.2) -> None:
        self.epsilon = epsilon
        self.random_state = random_state
        self.mode = mode
        self.usual_share = usual_share
        self.head_share = head_share

    def _check_params(self) -> None:
        _check_unit(self.epsilon, "epsilon")
        if self.mode not in ("either", "genre", "tail"):
            raise ValueError(f"mode={self.mode!r} is not one of 'either', 'genre', 'tail'; e.g. mode='either'.")
        if isinstance(self.usual_share, bool) or not isinstance(self.usual_share, (int, float, np.number)) \
                or not 0 < self.usual_share <= 1:
            raise ValueError(f"usual_share == {self.usual_share!r}, must be in (0, 1], e.g. usual_share=0.8.")

    def _fit(self, train: Dataset) -> None:
        self.pgi_, self.genres_ = genre_matrix(train)
        p = user_genre_distribution(train)
        usual = np.zeros(p.shape, dtype=bool)
        for u in range(p.shape[0]):
            if np.isnan(p[u]).any():
                continue
            order = np.argsort(-p[u], kind="mergesort")
            cum = np.cumsum(p[u][order])
            n = int(np.searchsorted(cum, self.usual_share - 1e-12)) + 1
            usual[u, order[:n]] = True
        self.usual_ = usual
        self.tail_ = ~head_items(train, self.head_share)
        self.user_index_ = train.user_vocab.index

    def _check_params(self) -> None:
        """Validate the parameters; called by ``fit`` and by every ``rerank`` (at use)."""

    def _start(self) -> None:
        self.rng_ = np.random.default_rng(self.random_state)

    def _exploratory(self, user_id, item_rows) -> np.ndarray:
        tail = self.tail_[item_rows]
        if user_id in self.user_index_ and self.usual_[self.user_index_.get_loc(user_id)].any():
            usual = self.usual_[self.user_index_.get_loc(user_id)]
            g = self.pgi_[item_rows] > 0
            outside = g.any(axis=1) & ~(g & usual[None, :]).any(axis=1)
        else:
            outside = np.zeros(len(item_rows), dtype=bool)
        return {"genre": outside, "tail": tail, "either": outside | tail}[self.mode]

    def _select(self, user_id, item_rows, rel, k):
        explore_slot = self.rng_.random(k) < float(self.epsilon)
        exploratory = self._exploratory(user_id, item_rows)
        order = np.lexsort((np.arange(len(rel)), -rel))
        taken = np.zeros(len(rel), dtype=bool)
        chosen: list[int] = []
        for slot in range(k):
            pool = order[~taken[order]]
            if explore_slot[slot]:
                ex = pool[exploratory[pool]]
                if len(ex):
                    pool = ex
            j = int(pool[0])
            chosen.append(j)
            taken[j] = True
        return np.array(chosen)
