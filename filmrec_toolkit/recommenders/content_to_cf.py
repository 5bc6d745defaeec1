"""ContentToCF: item features mapped to collaborative-filtering item factors (item cold start).

A film without ratings has no CF factors; a map learned on the films that have them
(item features -> CF item factors) gives it some. This is the idea of CB2CF (Barkan et
al., RecSys 2019) and of the content side of DropoutNet (Volkovs et al., NeurIPS 2017),
here with a closed-form ridge map by default.
"""

from __future__ import annotations

import logging
import numbers
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._config import ITEM_COL
from .._params import clone
from .._topk import topk
from ..datasets.dataset import Dataset
from ..exceptions import check_fitted, check_positive_int
from ..features.combine import MetadataEncoder
from ..features.embeddings import ItemEmbeddings, l2_normalize
from ..metrics.accuracy import ranking_metrics
from .base import Recommender, as_user_rows
from .explain import Explanation, history_explanation, user_history_arrays

logger = logging.getLogger(__name__)

__all__ = ["ContentToCF"]

_METADATA = ("genres", "year")
_CF = ("svd", "als")
_MAPPERS = ("ridge", "mlp")
#: Ridge penalties tried by ``alpha="auto"``.
DEFAULT_ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _implicit(matrix: sp.csr_matrix) -> sp.csr_matrix:
    x = matrix.astype(np.float64, copy=True)
    x.data[:] = 1.0
    return x


def _svd_factors(x: sp.csr_matrix, factors: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Truncated SVD X ≈ U S Vᵀ of a users x items 0/1 matrix: user factors U, item factors V S."""
    from sklearn.utils.extmath import randomized_svd

    k = max(1, min(factors, min(x.shape) - 1))
    u, s, vt = randomized_svd(x, k, n_iter=7, random_state=seed)
    return u.astype(np.float64), (vt.T * s).astype(np.float64)


class _RidgePath:
    """Ridge regressions of Y on F for several penalties from one SVD of the centred features."""

    def __init__(self, features: np.ndarray, targets: np.ndarray) -> None:
        self.f_mean = features.mean(axis=0)
        self.y_mean = targets.mean(axis=0)
        u, s, vt = np.linalg.svd(features - self.f_mean, full_matrices=False)
        self.s, self.vt = s, vt
        self.uty = u.T @ (targets - self.y_mean)

    def coef(self, alpha: float) -> np.ndarray:
        """``(d, k)`` weights W: prediction = (f - f_mean) W + y_mean."""
        return self.vt.T @ ((self.s / (self.s ** 2 + alpha))[:, None] * self.uty)

    def predict(self, alpha: float, features: np.ndarray) -> np.ndarray:
        return (features - self.f_mean) @ self.coef(alpha) + self.y_mean


def _fit_mlp(features: np.ndarray, targets: np.ndarray, hidden: int, epochs: int, weight_decay: float,
             seed: int):
    """A one-hidden-layer torch MLP features -> targets / scale (MSE, AdamW).

    Returns the layers' weights and biases ``[W1, b1, W2, b2]`` as float32 arrays and the scale.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.tensor(features, dtype=torch.float32)
    scale = float(targets.std()) or 1.0
    y = torch.tensor(targets / scale, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(), torch.nn.Dropout(0.3),
                              torch.nn.Linear(hidden, y.shape[1]))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=weight_decay)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), 256):
            idx = perm[start:start + 256]
            loss = ((net(x[idx]) - y[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    first, last = net[0], net[3]
    weights = [p.detach().numpy().astype(np.float32).copy()
               for p in (first.weight, first.bias, last.weight, last.bias)]
    return weights, scale


class ContentToCF(Recommender):
    """CF item factors for every film, the cold ones predicted from their features.

    Fitting: (1) a CF model on the training ratings (every rating an interaction)
    gives user factors and factors for the *warm* items (those with a training
    rating); (2) a map from item features to those item factors is learned on the warm
    items; (3) items without a training rating (cold items) get the mapped factors
    (``map_warm=True``: every item does). Score = user factors · item factors.

    The features are ``embeddings`` (e.g. MiniLM ``embed_items(ds)``) joined with
    catalogue metadata (``metadata``: genre multi-hot and a spline basis of the release
    year, :class:`~filmrec_toolkit.MetadataEncoder`), each block L2-normalised. The
    defaults were chosen on a validation item set of ml-1m (see
    ``benchmarks/bench_lm_value.py``): text + genres + year features, a rank-64 SVD
    of the 0/1 rating matrix, ridge with its penalty chosen on held-out warm items.

    Parameters
    ----------
    embeddings : ItemEmbeddings or None
        Item vectors covering every item of the training data. ``None``: metadata only
        (e.g. the genres + year baseline).
    metadata : sequence of {"genres", "year"}
        Metadata blocks joined to the embeddings (needs those columns in ``items``);
        ``()`` for the embeddings alone.
    metadata_weight : float >= 0
        Weight of each metadata block relative to the embeddings
        (:func:`~filmrec_toolkit.concat_embeddings`).
    cf : {"svd", "als"} or Recommender
        ``"svd"``: truncated SVD of the 0/1 users x warm-items matrix (user factors U,
        item factors V·S). ``"als"``: :class:`~filmrec_toolkit.ALS` factors. A
        recommender with ``user_factors_`` and ``item_factors_`` after fitting (e.g.
        ``ALS(factors=128)``) is cloned and fitted on the training data.
    factors : int >= 1
        Rank of the CF model for ``"svd"`` / ``"als"``.
    mapper : {"ridge", "mlp"}
        Closed-form ridge regression (default) or a small torch MLP (one hidden layer,
        ``hidden`` units, dropout, AdamW with weight decay ``alpha``).
    alpha : "auto" or float > 0
        Ridge penalty (for ``"mlp"``: weight decay). ``"auto"``: for ridge, each value
        of ``alphas`` is scored on held-out warm items — ``valid_share`` of them are
        hidden, the CF model is refitted without them, their factors are predicted from
        features and they are ranked for their raters (NDCG@10, the cold-item protocol)
        — and the best is used on all warm items; for the MLP, 1e-4.
    alphas : sequence of float > 0
        Penalties tried by ``alpha="auto"``.
    valid_share : float in (0, 1)
        Share of warm items held out by ``alpha="auto"``.
    map_warm : bool
        Give warm items the mapped factors too (pure content scores) instead of their
        CF factors.
    hidden, epochs : int
        MLP size and training passes.
    random_state : int, Generator or None
        Seeds the SVD, the held-out items and the MLP.

    Attributes
    ----------
    user_factors_ : ndarray (n_users, k)
    item_factors_ : ndarray (n_items, k)
        CF factors for warm items, mapped ones for cold items (all mapped with ``map_warm``).
    features_ : ndarray (n_items, d)
        The joined item features in training-vocabulary order.
    warm_ : ndarray of bool (n_items,)
        Items with at least one training rating.
    alpha_ : float
        The penalty used.
    alpha_scores_ : Series
        Held-out NDCG@10 per tried penalty (``alpha="auto"`` with ridge), else empty.
    coef_, feature_mean_, factor_mean_ : ndarray
        The ridge map: factors = (features - feature_mean_) @ coef_ + factor_mean_.
    mlp_weights_, mlp_scale_ : list of ndarray, float
        The MLP map (``mapper="mlp"``): weights and biases of its two layers
        ``[W1, b1, W2, b2]`` (float32 arrays, so a fitted model saves without pickle);
        factors = (GELU(features @ W1.T + b1) @ W2.T + b2) * mlp_scale_.
    metadata_encoder_ : MetadataEncoder or None
    """

    name = "ContentToCF"

    def __init__(self, embeddings: ItemEmbeddings | None = None, metadata: Sequence[str] = ("genres", "year"),
                 metadata_weight: float = 1.0, cf="svd", factors: int = 64, mapper: str = "ridge",
                 alpha="auto", alphas: Sequence[float] = DEFAULT_ALPHAS, valid_share: float = 0.1,
                 map_warm: bool = False, hidden: int = 256, epochs: int = 100, random_state=0) -> None:
        self.embeddings = embeddings
        self.metadata = metadata
        self.metadata_weight = metadata_weight
        self.cf = cf
        self.factors = factors
        self.mapper = mapper
        self.alpha = alpha
        self.alphas = alphas
        self.valid_share = valid_share
        self.map_warm = map_warm
        self.hidden = hidden
        self.epochs = epochs
        self.random_state = random_state

    # ------------------------------------------------------------ validation
    def _check_params(self) -> None:
        if self.embeddings is not None and not isinstance(self.embeddings, ItemEmbeddings):
            raise TypeError(f"embeddings must be ItemEmbeddings (embed_items, TfidfEncoder, GenreEncoder ...) or None, "
                            f"got {type(self.embeddings).__name__}.")
        meta = (self.metadata,) if isinstance(self.metadata, str) else tuple(self.metadata or ())
        bad = [m for m in meta if m not in _METADATA]
        if bad:
            raise ValueError(f"metadata={self.metadata!r}: unknown field(s) {bad}; use a subset of {_METADATA}, "
                             "e.g. metadata=('genres', 'year') or ().")
        if self.embeddings is None and not meta:
            raise ValueError("ContentToCF has no features: embeddings=None and metadata=(); pass item embeddings "
                             "and/or metadata=('genres', 'year').")
        w = self.metadata_weight
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) or w < 0:
            raise ValueError(f"metadata_weight={w!r} must be a finite number >= 0, e.g. 1.0.")
        if not (self.cf in _CF or (isinstance(self.cf, Recommender))):
            raise ValueError(f"cf={self.cf!r} must be one of {_CF} or a Recommender exposing user_factors_ and "
                             "item_factors_ after fit, e.g. cf=ft.ALS(factors=128).")
        check_positive_int(self.factors, "factors")
        if self.mapper not in _MAPPERS:
            raise ValueError(f"mapper={self.mapper!r} must be one of {_MAPPERS}, e.g. mapper='ridge'.")
        if not (isinstance(self.alpha, str) and self.alpha == "auto"):
            if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real) or not self.alpha > 0:
                raise ValueError(f"alpha={self.alpha!r} must be 'auto' or a number > 0, e.g. alpha=1.0.")
        alphas = np.atleast_1d(np.asarray(self.alphas, dtype=float))
        if alphas.size == 0 or not (np.isfinite(alphas) & (alphas > 0)).all():
            raise ValueError(f"alphas={self.alphas!r} must be a non-empty sequence of numbers > 0, "
                             f"e.g. {DEFAULT_ALPHAS}.")
        vs = self.valid_share
        if isinstance(vs, bool) or not isinstance(vs, numbers.Real) or not 0 < vs < 1:
            raise ValueError(f"valid_share={vs!r} must be in (0, 1), e.g. 0.1.")
        check_positive_int(self.hidden, "hidden")
        check_positive_int(self.epochs, "epochs")

    # --------------------------------------------------------------- features
    def _metadata_fields(self) -> tuple[str, ...]:
        return (self.metadata,) if isinstance(self.metadata, str) else tuple(self.metadata or ())

    def _join(self, text: np.ndarray | None, meta_blocks: list[np.ndarray]) -> np.ndarray:
        parts = [] if text is None else [l2_normalize(text)]
        scale = np.sqrt(float(self.metadata_weight))
        parts += [scale * b for b in meta_blocks]
        return np.hstack(parts).astype(np.float64)

    def _build_features(self, train: Dataset) -> np.ndarray:
        text = None if self.embeddings is None else self.embeddings.align(train).matrix
        fields = self._metadata_fields()
        self.metadata_encoder_ = None
        blocks: list[np.ndarray] = []
        missing = [f for f in fields if f not in train.items.columns]
        if missing:
            raise ValueError(f"metadata={fields!r} but the items table has no {missing} column(s) (columns: "
                             f"{list(train.items.columns)}); pass metadata=() to use the embeddings alone.")
        if fields:
            self.metadata_encoder_ = MetadataEncoder(genres="genres" in fields, year="year" in fields).fit(train)
            blocks = self.metadata_encoder_.transform_blocks(train)
        return self._join(text, blocks)

    # -------------------------------------------------------------------- CF
    def _cf_factors(self, x: sp.csr_matrix, train: Dataset | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """User factors and item factors of the columns of ``x`` (0/1 users x items)."""
        if self.cf == "svd":
            return _svd_factors(x, int(self.factors), seed)
        if self.cf == "als":
            from .mf import ALS

            model = ALS(factors=int(self.factors), random_state=seed)
        else:
            model = clone(self.cf)
        if train is None:  # internal validation: a dataset with only the kept columns' ratings
            raise RuntimeError("internal: CF recommender needs a Dataset")
        model.fit(train)
        if not (hasattr(model, "user_factors_") and hasattr(model, "item_factors_")):
            raise TypeError(f"cf={type(model).__name__} has no user_factors_/item_factors_ after fit; use 'svd', "
                            "'als' or a matrix-factorisation recommender such as ft.ALS().")
        return np.asarray(model.user_factors_, np.float64), np.asarray(model.item_factors_, np.float64)

    def _factors_for(self, train: Dataset, items: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """CF fitted on the ratings of ``items`` only; item factors returned for those items."""
        if self.cf == "svd":
            return self._cf_factors(_implicit(train.matrix)[:, items], None, seed)
        keep = np.zeros(train.n_items, dtype=bool)
        keep[items] = True
        sub = train.subset(keep[train.item_rows])
        u, v = self._cf_factors(None, sub, seed)
        return u, v[items]

    # --------------------------------------------------------------- mapping
    def _choose_alpha(self, train: Dataset, features: np.ndarray, warm: np.ndarray, rng) -> tuple[float, pd.Series]:
        alphas = [float(a) for a in np.atleast_1d(np.asarray(self.alphas, dtype=float))]
        if len(alphas) == 1:
            return alphas[0], pd.Series(dtype=float)
        n_hold = int(round(float(self.valid_share) * len(warm)))
        if n_hold < 1 or len(warm) - n_hold < 2:
            logger.info("ContentToCF: too few warm items to choose alpha; using %s", alphas[len(alphas) // 2])
            return alphas[len(alphas) // 2], pd.Series(dtype=float)
        perm = rng.permutation(warm)
        held, kept = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
        u, v = self._factors_for(train, kept, int(rng.integers(2**31 - 1)))
        path = _RidgePath(features[kept], v)
        rel = _implicit(train.matrix)[:, held].tocsr()
        n_rel = np.diff(rel.indptr)
        users = np.flatnonzero(n_rel > 0)
        k = min(10, len(held))
        scores = {}
        for a in alphas:
            s = (u[users] @ path.predict(a, features[held]).T).astype(np.float32)
            cols, _ = topk(s, k)
            hits = np.asarray(rel[users][np.arange(len(users))[:, None], cols].todense()).reshape(cols.shape) > 0
            scores[a] = float(np.nanmean(ranking_metrics(hits, n_rel[users], (k,))[f"ndcg@{k}"]))
        table = pd.Series(scores, name=f"held-out ndcg@{k}")
        table.index.name = "alpha"
        best = float(table.idxmax())
        logger.info("ContentToCF alpha chosen on %d held-out warm items: %s (ndcg@%d %.4f)", n_hold, best, k,
                    table.max())
        return best, table

    def _fit(self, train: Dataset) -> None:
        self._check_params()
        rng = np.random.default_rng(self.random_state)
        features = self._build_features(train)
        warm = np.flatnonzero(train.item_counts() > 0)
        if len(warm) < 2:
            raise ValueError(f"train has {len(warm)} rated item(s); ContentToCF needs at least 2 to learn a map.")
        u, v_warm = self._factors_for(train, warm, int(rng.integers(2**31 - 1)))
        if self.mapper == "ridge":
            if self.alpha == "auto":
                alpha, table = self._choose_alpha(train, features, warm, rng)
            else:
                alpha, table = float(self.alpha), pd.Series(dtype=float)
            path = _RidgePath(features[warm], v_warm)
            self.coef_ = path.coef(alpha)
            self.feature_mean_, self.factor_mean_ = path.f_mean, path.y_mean
            mapped = self._predict(features)
        else:
            alpha = 1e-4 if self.alpha == "auto" else float(self.alpha)
            table = pd.Series(dtype=float)
            self.mlp_weights_, self.mlp_scale_ = _fit_mlp(features[warm], v_warm, int(self.hidden), int(self.epochs),
                                                  alpha, int(rng.integers(2**31 - 1)))
            mapped = self._predict(features)
        item_factors = mapped.copy()
        if not self.map_warm:
            item_factors[warm] = v_warm
        is_warm = np.zeros(train.n_items, dtype=bool)
        is_warm[warm] = True
        self.alpha_ = alpha
        self.alpha_scores_ = table
        self.features_ = features.astype(np.float32)
        self.warm_ = is_warm
        self.user_factors_ = u.astype(np.float32)
        self.item_factors_ = item_factors.astype(np.float32)

    def _predict(self, features: np.ndarray) -> np.ndarray:
        if self.mapper == "ridge":
            return (features - self.feature_mean_) @ self.coef_ + self.factor_mean_
        import torch

        w1, b1, w2, b2 = (torch.from_numpy(np.asarray(w, dtype=np.float32)) for w in self.mlp_weights_)
        with torch.no_grad():
            hidden = torch.nn.functional.gelu(torch.nn.functional.linear(
                torch.tensor(features, dtype=torch.float32), w1, b1))
            out = torch.nn.functional.linear(hidden, w2, b2).numpy()
        return out.astype(np.float64) * self.mlp_scale_

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[user_rows] @ self.item_factors_.T

    # ------------------------------------------------------------- new items
    def _new_features(self, features, items: pd.DataFrame | None) -> np.ndarray:
        dim = self.features_.shape[1]
        matrix = features.matrix if isinstance(features, ItemEmbeddings) else np.asarray(features, dtype=np.float64)
        if matrix.ndim != 2:
            raise ValueError(f"features must be 2-D (n_new, d), got shape {matrix.shape}.")
        if self.metadata_encoder_ is None and matrix.shape[1] == dim:
            return self._join(matrix, [])
        if matrix.shape[1] == dim:  # already joined with the metadata (e.g. rows of features_)
            return matrix.astype(np.float64)
        text_dim = None if self.embeddings is None else self.embeddings.dim
        if text_dim is None or matrix.shape[1] != text_dim:
            raise ValueError(f"features have dimension {matrix.shape[1]}; this model's feature space has {dim}"
                             + ("" if text_dim is None else f" (or pass the {text_dim}-d text embeddings alone)")
                             + ". Embed the new items with the encoder used for the training items.")
        blocks: list[np.ndarray] = []
        if self.metadata_encoder_ is not None:
            if items is None and isinstance(features, ItemEmbeddings):
                known = self.train_.items.set_index(ITEM_COL)
                if pd.Index(known.index).isin(features.item_ids).sum() == len(features.item_ids):
                    items = known.loc[features.item_ids].reset_index()
            if items is None:
                raise ValueError("features hold text embeddings only, but the model also uses metadata "
                                 f"{self._metadata_fields()}; pass items=DataFrame with those columns (one row per "
                                 "new item, same order) or features already joined with the metadata.")
            if len(items) != len(matrix):
                raise ValueError(f"items has {len(items)} rows for {len(matrix)} feature rows; give one per new item.")
            blocks = self.metadata_encoder_.transform_blocks(items.reset_index(drop=True))
        return self._join(matrix, blocks)

    def score_new_items(self, features, users=None, *, items: pd.DataFrame | None = None) -> np.ndarray:
        """Scores of items the model has never seen, for known users: ``(n_users, n_new)``.

        Parameters
        ----------
        features : ItemEmbeddings or ndarray (n_new, d)
            Either vectors in the model's full feature space (``features_`` width), or
            text embeddings from the model's encoder; then the metadata block comes from
            ``items`` (or from the training catalogue when the ids are known there).
        users : array-like of user ids, optional
            Default every training user, in vocabulary order.
        items : DataFrame, optional
            ``genres`` / ``year`` of the new items, one row per feature row.

        Returns
        -------
        ndarray (n_users, n_new) float32
            On the same scale as :meth:`score`, so the two can be ranked together.
        """
        check_fitted(self, "item_factors_")
        rows = as_user_rows(self, users)
        mapped = self._predict(self._new_features(features, items))
        return (self.user_factors_[rows] @ mapped.T.astype(np.float32)).astype(np.float32)

    # ----------------------------------------------------------- explanation
    def explain(self, user, item, n: int = 5) -> Explanation:
        """The user's rated films most similar to ``item`` in feature space.

        ``similarity`` is the cosine of the joined features; ``weight`` is the model's
        score of the history film for the user (how much the CF side says they like
        it); contributions are similarity × weight over the positive weights, rescaled
        to sum to the item's score. For a cold item this shows which of the user's films
        its predicted factors resemble; it is a reading aid, not an exact decomposition.
        """
        row, hist, ratings = user_history_arrays(self, user)
        col = self.item_vocab_.to_rows(item, param="item")
        feats = l2_normalize(self.features_)
        sim = (feats[hist] @ feats[col]).astype(np.float64)
        weight = (self.item_factors_[hist] @ self.user_factors_[row]).astype(np.float64)
        terms = sim * np.maximum(weight, 0.0)
        score = float(self.score([row])[0, col])
        total = terms.sum()
        contrib = terms * (score / total) if abs(total) > 1e-12 else terms
        how = "similar features, cold item" if not self.warm_[col] else "similar features"
        return history_explanation(self, user, item, hist, ratings, weight, sim, contrib, score, n, how)
