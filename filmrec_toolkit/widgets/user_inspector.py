"""``UserInspector``: one user's history, profile, segment and live recommendations."""

from __future__ import annotations

import logging
from typing import Callable, Mapping

import ipywidgets as W
import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL, USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import UnknownIdError
from ..features.embeddings import ItemEmbeddings
from ._base import InspectorBase
from .render import (
    render_genre_profile,
    render_history,
    render_notice,
    render_recommendations,
    render_segment,
)

logger = logging.getLogger(__name__)

ALL = "(all)"


def _as_label_series(labels, dataset: Dataset) -> pd.Series | None:
    """Segment labels as a Series indexed by user id (array input: user-vocabulary order)."""
    if labels is None:
        return None
    if isinstance(labels, pd.Series):
        return labels
    labels = np.asarray(labels)
    if len(labels) != dataset.n_users:
        raise ValueError(f"labels has {len(labels)} entries but the dataset has {dataset.n_users} users; "
                         "pass one label per user in user-vocabulary order, or a Series indexed by user_id.")
    return pd.Series(labels, index=dataset.user_ids, name="segment")


def _explains(model) -> bool:
    """Whether ``model`` overrides ``Recommender.explain`` (hybrids and MF models do not)."""
    from ..recommenders import Recommender

    method = getattr(type(model), "explain", None)
    return method is not None and method is not getattr(Recommender, "explain", None)


class UserInspector(InspectorBase):
    """Inspect one user: history, profile vs population, segment, recommendations.

    Parameters
    ----------
    dataset : Dataset
        The data the models were fitted on (histories are shown from it and seen items
        are excluded from the lists).
    models : Recommender or dict of name -> fitted Recommender
        Chosen in the "model" dropdown.
    embeddings : ItemEmbeddings, optional
        Item features for the MMR re-ranker and the list's intra-list diversity.
    labels : array (user-vocabulary order) or Series indexed by user id, optional
        Segment of each user (from ``segment_users``); enables the segment filter.
    segments : DataFrame, optional
        ``describe_segments`` output (one row per segment, indexed or keyed by segment).
    cold_start : callable(text, k) -> DataFrame[item_id, score], optional
        Recommendations for a free-text wish, e.g.
        ``lambda text, k: recommend_for_profile(model, text=text, k=k)``.
    k : int
        List length.
    n_candidates : int
        Candidate pool the re-rankers choose the k items from.
    history_rows : int
        History rows shown.

    Attributes
    ----------
    user, search, segment_filter, gender_filter, age_filter, model, mmr, calibration, wish
        The controls (set ``.value`` to drive the inspector from code or tests).
    history, profile, segment, recommendations, wish_results, error : ipywidgets.HTML
        The panes; ``error`` shows any exception raised inside a callback.
    root : ipywidgets.VBox
        What is displayed.
    """

    def __init__(self, dataset: Dataset, models, *, embeddings: ItemEmbeddings | None = None,
                 labels=None, segments: pd.DataFrame | None = None,
                 cold_start: Callable[[str, int], pd.DataFrame] | None = None,
                 k: int = 10, n_candidates: int = 50, history_rows: int = 12) -> None:
        self.dataset = ensure_dataset(dataset)
        self.models = dict(models) if isinstance(models, Mapping) else {getattr(models, "name", "model"): models}
        if not self.models:
            raise ValueError("models is empty; pass at least one fitted recommender.")
        self.embeddings = None if embeddings is None else embeddings.align(self.dataset)
        self.labels = _as_label_series(labels, self.dataset)
        self.segments = segments
        self.cold_start = cold_start
        self.k = k
        self.n_candidates = n_candidates
        self.history_rows = history_rows
        self._genre_shares = None
        self._rerankers: dict = {}
        self._build()

    def __repr__(self) -> str:
        return (f"UserInspector({self.dataset.name!r}, models={list(self.models)}, user={self.user.value!r}, "
                f"k={self.k})")

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        users = self.dataset.users
        self._init_errors()
        wide = W.Layout(width="auto")
        self.segment_filter = W.Dropdown(description="segment", options=[ALL] + (
            [] if self.labels is None else sorted(pd.unique(self.labels).tolist())), layout=wide)
        self.gender_filter = W.Dropdown(description="gender", options=[ALL] + (
            sorted(users["gender"].dropna().unique().tolist()) if "gender" in users else []), layout=wide)
        self.age_filter = W.Dropdown(description="age", options=[ALL] + (
            sorted(users["age_group"].dropna().astype(str).unique().tolist()) if "age_group" in users else []),
            layout=wide)
        self.search = W.Text(description="find id", placeholder="user id, Enter", continuous_update=False,
                             layout=wide)
        self.user = W.Dropdown(description="user", options=self._user_options(), layout=wide)
        self.model = W.Dropdown(description="model", options=list(self.models), layout=wide)
        self.mmr = W.FloatSlider(description="MMR λ", min=0.0, max=1.0, step=0.1, value=1.0,
                                 continuous_update=False, tooltip="1 = the model's order; lower = more diverse")
        self.calibration = W.FloatSlider(description="calib. λ", min=0.0, max=1.0, step=0.1, value=0.0,
                                         continuous_update=False,
                                         tooltip="0 = the model's order; higher = closer to the user's genre mix")
        self.wish = W.Text(description="wish", placeholder="a free-text wish, Enter",
                           continuous_update=False, layout=W.Layout(width="60%"),
                           disabled=self.cold_start is None)
        self.history = W.HTML()
        self.profile = W.HTML()
        self.segment = W.HTML()
        self.recommendations = W.HTML()
        self.recommendations.add_class("filmrec-recommendations")  # a handle for browser tests
        self.wish_results = W.HTML()
        left = W.VBox([self.history, self.profile, self.segment], layout=W.Layout(width="50%"))
        right = W.VBox([self.recommendations], layout=W.Layout(width="50%"))
        self.root = W.VBox([
            W.HBox([self.segment_filter, self.gender_filter, self.age_filter]),
            W.HBox([self.search, self.user, self.model]),
            W.HBox([self.mmr, self.calibration]),
            self.error,
            W.HBox([left, right]),
            W.HBox([self.wish]),
            self.wish_results,
        ])
        for control in (self.segment_filter, self.gender_filter, self.age_filter):
            self._observe(control, self._on_filter, "filtering users")
        self._observe(self.search, self._on_search, "searching a user")
        self._observe(self.user, self._on_user, "showing the user")
        for control in (self.model, self.mmr, self.calibration):
            self._observe(control, self._on_list, "recommending")
        self._observe(self.wish, self._on_wish, "recommending for the wish")
        if self.user.value is not None:
            self._guarded(self._on_user, "showing the user")()

    # ----------------------------------------------------------------- queries
    def filtered_users(self) -> np.ndarray:
        """User ids matching the segment / gender / age filters, in vocabulary order."""
        users = self.dataset.users
        keep = np.ones(len(users), dtype=bool)
        seg = getattr(self, "segment_filter", None)
        if seg is not None and seg.value != ALL and self.labels is not None:
            keep &= self.labels.reindex(users[USER_COL]).to_numpy() == seg.value
        gender = getattr(self, "gender_filter", None)
        if gender is not None and gender.value != ALL:
            keep &= users["gender"].to_numpy() == gender.value
        age = getattr(self, "age_filter", None)
        if age is not None and age.value != ALL:
            keep &= users["age_group"].astype(str).to_numpy() == age.value
        return users[USER_COL].to_numpy()[keep]

    def _user_options(self) -> list:
        return self.filtered_users().tolist()

    def _parse_user_id(self, text: str):
        ids = self.dataset.user_ids
        value = text.strip()
        if ids.dtype.kind in "iu":
            try:
                value = int(value)
            except ValueError:
                raise ValueError(f"user id {text!r} is not an integer; this dataset's user ids are integers "
                                 f"({ids.min()}..{ids.max()}).") from None
        if value not in self.dataset.user_vocab:
            raise UnknownIdError(f"user id {value!r} is not in the dataset ({len(ids)} users).")
        return value

    def genre_profile(self, user_id) -> pd.DataFrame:
        """The user's genre shares p(g|u) (Steck 2018) vs the population's mean, with their ratio (lift)."""
        if self._genre_shares is None:
            from ..metrics import genre_matrix, user_genre_distribution

            self._genre_names = genre_matrix(self.dataset)[1]
            self._genre_shares = user_genre_distribution(self.dataset)
        shares = self._genre_shares
        user = shares[self.dataset.user_vocab.to_rows([user_id], param="user")[0]]
        population = np.nanmean(shares, axis=0)
        frame = pd.DataFrame({"genre": self._genre_names, "user": user, "population": population})
        frame["lift"] = frame["user"] / frame["population"].where(frame["population"] > 0)
        return frame.sort_values("user", ascending=False, kind="mergesort").reset_index(drop=True)

    def _reranker(self, kind: str):
        """The fitted re-ranker (fitted once on the dataset; lambda is set per call)."""
        if kind not in self._rerankers:
            from ..audit import CalibratedReranker, MMRReranker

            if kind == "mmr":
                if self.embeddings is None:
                    raise ValueError("MMR re-ranking needs item features: pass embeddings= to UserInspector.")
                self._rerankers[kind] = MMRReranker(lam=1.0, features=self.embeddings).fit(self.dataset)
            else:
                self._rerankers[kind] = CalibratedReranker(lam=0.0).fit(self.dataset)
        return self._rerankers[kind]

    def recommend(self, user_id, model: str | None = None, mmr: float = 1.0, calibration: float = 0.0):
        """Top-k list of one user after the optional re-rankers, and the list's numbers.

        ``mmr`` is MMR's lambda (1 = the model's order, lower = more diverse); ``calibration``
        is the calibrated re-ranker's lambda (0 = the model's order). The model's top
        ``n_candidates`` are calibrated first (kept whole), then MMR picks ``k`` of them.

        Returns (frame: rank, item_id, score, title, genres, explanation; dict of list metrics).
        """
        from ..metrics import intra_list_diversity, miscalibration

        name = model or self.model.value
        if name not in self.models:
            raise KeyError(f"model {name!r} is not one of {list(self.models)}.")
        est = self.models[name]
        top = est.recommend(users=[user_id], k=max(self.k, self.n_candidates))
        if calibration > 0:
            top = self._reranker("calibration").set_params(lam=calibration).rerank(top, k=len(top))
        if mmr < 1:
            top = self._reranker("mmr").set_params(lam=mmr).rerank(top, k=self.k)
        top = top.sort_values(RANK_COL, kind="mergesort").head(self.k).reset_index(drop=True)
        items = self.dataset.items.set_index(ITEM_COL)
        frame = top[[RANK_COL, ITEM_COL, SCORE_COL]].join(
            items[[c for c in ("title", "genres") if c in items.columns]], on=ITEM_COL)
        if _explains(est):
            frame["explanation"] = [est.explain(user_id, i).sentence for i in frame[ITEM_COL]]
        numbers = {"miscalibration (KL)": miscalibration(top, self.dataset),
                   "intra-list diversity (genres)": intra_list_diversity(top, self.dataset)}
        if self.embeddings is not None:
            numbers["intra-list diversity (embeddings)"] = intra_list_diversity(top, self.dataset, self.embeddings)
        return frame, numbers

    # ---------------------------------------------------------------- callbacks
    def _on_filter(self, change=None) -> None:
        options = self._user_options()
        current = self.user.value
        self.user.options = options
        if current in options:
            self.user.value = current
        if not options:
            raise ValueError("no user matches these filters; widen the segment, gender or age filter.")

    def _on_search(self, change=None) -> None:
        if not self.search.value.strip():
            return
        uid = self._parse_user_id(self.search.value)
        if uid not in self.user.options:
            for control in (self.segment_filter, self.gender_filter, self.age_filter):
                control.value = ALL
        self.user.value = uid

    def _on_user(self, change=None) -> None:
        uid = self.user.value
        if uid is None:
            return
        # every pane is rendered first and then shown together (no blank flash between users);
        # if a step raises, the previous user's panes are cleared, never left beside this one's
        try:
            history = render_history(self.dataset.user_history(uid), uid, self.history_rows)
            profile = render_genre_profile(self.genre_profile(uid))
            segment = ""
            if self.labels is not None:
                label = self.labels.get(uid)
                if self.segments is not None and label in self.segments.index:
                    row = self.segments.loc[label]
                else:
                    row = {"users": int((self.labels == label).sum())}
                segment = render_segment(row, label)
        except Exception:
            self.history.value = self.profile.value = self.segment.value = self.recommendations.value = ""
            raise
        self.history.value, self.profile.value, self.segment.value = history, profile, segment
        self._on_list()

    def _on_list(self, change=None) -> None:
        uid = self.user.value
        if uid is None:
            return
        try:
            frame, numbers = self.recommend(uid, self.model.value, self.mmr.value, self.calibration.value)
        except Exception:
            # never leave the previous user's (or setting's) list beside this user's history
            self.recommendations.value = render_notice(
                f"No recommendations for user {uid}: {self.model.value} raised an error (shown above).", "warning")
            raise
        title = (f"Top {self.k} from {self.model.value} (MMR λ={self.mmr.value:.1f}, "
                 f"calibration λ={self.calibration.value:.1f})")
        self.recommendations.value = render_recommendations(frame, numbers, title)

    def _on_wish(self, change=None) -> None:
        text = self.wish.value.strip()
        if not text:
            self.wish_results.value = ""
            return
        if self.cold_start is None:
            self.wish_results.value = render_notice("No cold-start model was given (cold_start=...).", "warning")
            return
        recs = self.cold_start(text, self.k).copy()
        if RANK_COL not in recs.columns:
            recs[RANK_COL] = np.arange(1, len(recs) + 1)
        items = self.dataset.items.set_index(ITEM_COL)
        recs = recs.join(items[[c for c in ("title", "genres") if c in items.columns and c not in recs.columns]],
                         on=ITEM_COL)
        self.wish_results.value = render_recommendations(recs, None, f"For the wish “{text}”")

