"""Audience for a title: which users a model expects to watch a film, and which segments they come from.

The question a content or marketing analyst asks first about a new (or catalogue) film:
who is its audience? :func:`audience_for` ranks every known user by the model's score of
the film, keeps the top ``top_share`` of them, and compares the segment mix of that
audience with the population (size, share, lift and a one-sided hypergeometric test per
segment). :func:`audience_recall_lift` checks the answer the honest way on held-out films:
the share of a film's real raters that land in its predicted top ``top_share`` of users,
divided by ``top_share`` (1 = a random audience, ``1 / top_share`` = every rater found).
"""

from __future__ import annotations

import html
import inspect
import logging
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RANK_COL, SCORE_COL, USER_COL
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import NotFittedError, check_fitted, check_positive_int
from ..metrics.fairness import holm_correction, paired_bootstrap_ci, paired_wilcoxon
from ..profiles.segments import SegmentResult, describe_segments
from .base import Recommender, as_user_rows, default_chunk_size
from .cold_start import resolve_items

logger = logging.getLogger(__name__)

__all__ = ["AudienceResult", "AudienceRecall", "UserActivity", "audience_for", "audience_recall_lift",
           "audience_sentence", "compare_audience_recall"]

SEGMENT_COLUMNS = ["segment", "description", "n", "share", "population_n", "population_share", "lift",
                   "p_value", "p_holm", "typical_share", "typical_lift"]


# ------------------------------------------------------------------ validation
def _check_top_share(top_share) -> float:
    if isinstance(top_share, bool) or not isinstance(top_share, numbers.Real) or not 0 < top_share <= 1:
        raise ValueError(f"top_share == {top_share!r}, must be a number in (0, 1]: the share of users kept as the "
                         "film's audience, e.g. top_share=0.05 for the top 5 %.")
    return float(top_share)


def _labels(labels, n_users: int) -> np.ndarray | None:
    if labels is None:
        return None
    if isinstance(labels, SegmentResult):
        labels = labels.labels
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n_users:
        raise ValueError(f"labels has shape {labels.shape} but the model knows {n_users} users; pass one segment "
                         "label per user in the training user-vocabulary order, e.g. labels=segment_users(...) "
                         "computed on profiles of the same dataset (splits share the vocabulary).")
    return labels


def _n_top(n_candidates: int, top_share: float) -> int:
    return int(min(n_candidates, max(1, round(top_share * n_candidates))))


def _rank_users(scores: np.ndarray, candidates: np.ndarray, n_top: int, tie_key: np.ndarray) -> np.ndarray:
    """Rows of the ``n_top`` best candidates, best first; ties broken by ``tie_key`` (a random order)."""
    rows = np.flatnonzero(candidates)
    s = np.asarray(scores, dtype=np.float64)[rows]
    s = np.where(np.isfinite(s), s, -np.inf)
    order = np.lexsort((tie_key[rows], -s))
    return rows[order[:n_top]]


def _item_scores(model, item_rows: np.ndarray) -> np.ndarray:
    """``model.score(all users)[:, item_rows]`` in bounded memory: ``(n_users, len(item_rows))``."""
    n_users = len(model.user_vocab_)
    out = np.empty((n_users, len(item_rows)), dtype=np.float32)
    chunk = default_chunk_size(model.n_items_)
    for start in range(0, n_users, chunk):
        rows = np.arange(start, min(start + chunk, n_users))
        out[rows] = model.score(rows)[:, item_rows]
    return out


# ------------------------------------------------------------------ baseline
class UserActivity(Recommender):
    """Score(u, i) = the number of training ratings of user u, the same for every film.

    The baseline every audience prediction must beat: heavy raters rate more of every
    film, so ranking users by activity alone already puts many of a film's raters in
    its "audience" (:func:`audience_recall_lift` well above 1) without knowing anything
    about the film. Ties are broken at random by :func:`audience_for`.
    """

    name = "User activity"

    def __init__(self) -> None:
        pass

    def _fit(self, train: Dataset) -> None:
        self.activity_ = train.user_counts().astype(np.float32)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return np.repeat(self.activity_[user_rows][:, None], self.n_items_, axis=1)

    def score_new_items(self, features, users=None) -> np.ndarray:
        """The same activity score for any new film (its features are not used)."""
        n_new = 1 if np.ndim(features) < 2 else int(np.shape(features)[0])
        rows = as_user_rows(self, users)
        return np.repeat(self.activity_[rows][:, None], n_new, axis=1)


# ------------------------------------------------------------------ result
@dataclass
class AudienceResult:
    """Output of :func:`audience_for`.

    Attributes
    ----------
    users : DataFrame
        The predicted audience, best first: ``user_id, score, rank`` (and ``segment``
        when labels were given), ``n_top`` rows.
    segments : DataFrame
        One row per segment, most over-represented first: ``segment, description, n``
        (audience members in the segment), ``share`` (of the audience),
        ``population_n``, ``population_share`` (of the ranked users), ``lift = share /
        population_share``, ``p_value`` (one-sided hypergeometric test of
        over-representation), ``p_holm`` (Holm-adjusted across segments), and
        ``typical_share`` (the segment's share of the ranked users' training ratings:
        what the audience of a typical film looks like, since heavy raters watch more of
        everything) with ``typical_lift = share / typical_share`` (above 1: this film
        draws the segment more than films in general do).
    film : str
        What was scored (the catalogue title, or the start of the description).
    top_share : float
        Requested share of users kept.
    n_candidates : int
        Users ranked (all known users minus those who already rated the film).
    n_excluded : int
        Users left out because they already rated the film.
    sentence : str
        The finding in one sentence, computed from the table.
    """

    users: pd.DataFrame
    segments: pd.DataFrame
    film: str
    top_share: float
    n_candidates: int
    n_excluded: int = 0
    sentence: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def n_top(self) -> int:
        return len(self.users)

    def recall(self, raters) -> pd.Series:
        """How many of the film's real viewers (``raters``: user ids) are in this audience.

        Returns ``n_raters`` (those among the ranked users), ``hits``, ``recall = hits /
        n_raters`` and ``lift = recall / (n_top / n_candidates)`` (1 = a random audience of
        this size, ``n_candidates / n_top`` = every viewer found), as in
        :func:`audience_recall_lift`; and ``precision = hits / n_top`` beside ``base_rate =
        n_raters / n_candidates`` (the precision of a random audience). A film seen by more
        users than the audience holds cannot reach full recall (its lift is at most
        ``n_candidates / n_raters``); precision is the fairer reading then.
        """
        raters = pd.unique(np.atleast_1d(np.asarray(raters)))
        excluded = set(self.meta.get("excluded_ids", ()))
        raters = np.asarray([r for r in raters if r not in excluded]) if excluded else raters
        hits = int(np.isin(raters, self.users[USER_COL].to_numpy()).sum())
        recall = hits / len(raters) if len(raters) else np.nan
        return pd.Series({"n_raters": len(raters), "hits": hits, "recall": recall,
                          "lift": recall / (self.n_top / self.n_candidates), "precision": hits / self.n_top,
                          "base_rate": len(raters) / self.n_candidates})

    def __repr__(self) -> str:
        return (f"AudienceResult({self.film!r}, top {self.n_top} of {self.n_candidates} users, "
                f"{len(self.segments)} segments)")

    def _repr_html_(self) -> str:
        seg = self.segments.copy()
        for col in ("share", "population_share", "typical_share"):
            if col in seg:
                seg[col] = seg[col].map(lambda v: f"{v:.1%}")
        for col in ("lift", "typical_lift"):
            if col in seg:
                seg[col] = seg[col].map(lambda v: f"×{v:.2f}")
        for col in ("p_value", "p_holm"):
            if col in seg:
                seg[col] = seg[col].map(lambda v: f"{v:.2g}")
        head = (f"<h4 style='margin:4px 0'>Audience for {html.escape(self.film)}: top {self.n_top} of "
                f"{self.n_candidates} users ({self.n_top / max(self.n_candidates, 1):.1%})</h4>"
                f"<p>{html.escape(self.sentence)}</p>")
        body = seg.to_html(index=False, escape=True, classes="filmrec-audience") if len(seg) else ""
        users = self.users.head(10).to_html(index=False, escape=True, float_format=lambda v: f"{v:.3f}")
        return head + body + "<h5 style='margin:4px 0'>Most likely viewers</h5>" + users


def _segment_table(labels: np.ndarray, candidates: np.ndarray, top_rows: np.ndarray,
                   descriptions: pd.DataFrame | None, activity: np.ndarray) -> pd.DataFrame:
    from scipy.stats import hypergeom

    n_cand = int(candidates.sum())
    n_top = len(top_rows)
    segs = np.unique(labels)
    pop = pd.Series(labels[candidates]).value_counts().reindex(segs, fill_value=0)
    top = pd.Series(labels[top_rows]).value_counts().reindex(segs, fill_value=0)
    out = pd.DataFrame({"segment": segs, "n": top.to_numpy(np.int64), "population_n": pop.to_numpy(np.int64)})
    out["share"] = out["n"] / max(n_top, 1)
    out["population_share"] = out["population_n"] / max(n_cand, 1)
    out["lift"] = out["share"] / out["population_share"].where(out["population_share"] > 0)
    # P(X >= n) for X ~ hypergeometric(n_cand users, population_n in the segment, n_top drawn)
    out["p_value"] = hypergeom.sf(out["n"] - 1, n_cand, out["population_n"], n_top)
    out["p_holm"] = holm_correction(out["p_value"].to_numpy())
    # a typical film's audience follows rating volume: the segment's share of the candidates' ratings
    volume = pd.Series(activity[candidates], dtype=float).groupby(labels[candidates]).sum().reindex(segs, fill_value=0)
    out["typical_share"] = volume.to_numpy() / max(volume.sum(), 1.0)
    out["typical_lift"] = out["share"] / out["typical_share"].where(out["typical_share"] > 0)
    if descriptions is not None and "label" in descriptions.columns:
        names = descriptions["label"].reindex(segs)
        out["description"] = names.where(names.notna(), [f"segment {s}" for s in segs]).astype(str).to_numpy()
    else:
        out["description"] = [f"segment {s}" for s in segs]
    out = out.sort_values(["lift", "segment"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    return out[SEGMENT_COLUMNS]


def audience_sentence(film: str, segments: pd.DataFrame, n_top: int, n_candidates: int,
                      alpha: float = 0.05) -> str:
    """One sentence on who the audience is, computed from :attr:`AudienceResult.segments`.

    Segments are named as over-represented only when their Holm-adjusted one-sided
    p-value is below ``alpha``; otherwise the sentence says no segment stands out. Each
    named segment also gets its ``typical_lift`` (share vs its share of all ratings), which
    separates a film-specific draw from "heavy raters are in every audience".
    """
    share = n_top / max(n_candidates, 1)
    start = f"The predicted audience of {film} (top {share:.0%}: {n_top} of {n_candidates} users)"
    if segments is None or len(segments) == 0:
        return start + " was not split by segment (no labels given)."
    sig = segments.loc[(segments["p_holm"] < alpha) & (segments["lift"] > 1)]
    if not len(sig):
        return start + (f" matches the population: no segment is over-represented beyond chance "
                        f"(Holm-adjusted p >= {alpha:g}).")
    parts = [f"segment {r.segment} ({r.description}) ×{r.lift:.2f}, {r.share:.0%} of the audience vs "
             f"{r.population_share:.0%} of users"
             + (f" (×{r.typical_lift:.2f} vs a typical film's audience)"
                if "typical_lift" in segments.columns and np.isfinite(r.typical_lift) else "")
             for r in sig.itertuples()]
    return start + " over-represents " + "; ".join(parts) + f" (Holm-adjusted p < {alpha:g})."


# ------------------------------------------------------------------ public API
def audience_for(model, text: str | None = None, item=None, *, features=None, metadata=None,
                 name: str | None = None, labels=None,
                 descriptions: pd.DataFrame | None = None, top_share: float = 0.05, encoder=None,
                 exclude_raters: bool = True, random_state=0, alpha: float = 0.05) -> AudienceResult:
    """The users most likely to watch a film, and the audience segments they come from.

    Give exactly one of ``item`` (a catalogue film: id or title), ``text`` (a film that has
    only a description) or ``features`` (its vector, already encoded).

    Parameters
    ----------
    model : fitted Recommender
        Catalogue films: any recommender (``model.score(users)[:, item]``). New films
        (``text``/``features``): a model with ``score_new_items(features, users=None)``,
        e.g. :class:`~filmrec_toolkit.ContentRecommender` or :class:`~filmrec_toolkit.ContentToCF`.
    text : str, optional
        The new film's description, encoded with ``encoder.transform([text])``.
    item : item id or title, optional
    features : array (d,) or (1, d), optional
        The new film's features, for models fitted on features no text encoder produces
        alone (e.g. text vectors concatenated with genres and year).
    metadata : dict or one-row DataFrame, optional
        What else is known about the new film (e.g. ``{"genres": ["Drama"], "year": 1998}``),
        passed as ``items=`` to ``model.score_new_items`` for models that join text
        features with catalogue metadata (``ContentToCF``'s default).
    name : str, optional
        How the film is named in the result (default: its title, or the start of ``text``).
    labels : array (n_users,) or SegmentResult, optional
        Segment of each user row of the model's training data (``segment_users(...)``).
    descriptions : DataFrame, optional
        ``describe_segments(...)`` output; its ``label`` column names the segments.
        Default: computed on ``model.train_`` when ``labels`` are given.
    top_share : float in (0, 1]
        Share of the ranked users kept as the audience (default the top 5 %).
    encoder : object with ``transform(list[str])``, optional
        The encoder that produced the model's item vectors. Default
        :class:`~filmrec_toolkit.TextEncoder` (the package's default model).
    exclude_raters : bool
        Leave out users who already rated the catalogue film (they have seen it: the
        question is who else would). New films have no raters.
    random_state : int, Generator or None
        Breaks ties between equal scores (e.g. a popularity model scores every user alike).
    alpha : float
        Significance level of the sentence (Holm-adjusted).

    Returns
    -------
    AudienceResult
        ``.users`` (user_id, score, rank[, segment]), ``.segments`` (segment, description,
        n, share, population_n, population_share, lift, p_value, p_holm, typical_share,
        typical_lift), ``.sentence``;
        displays as an HTML table in a notebook.

    Examples
    --------
    >>> seg = ft.segment_users(profiles, n_segments=6, random_state=0)            # doctest: +SKIP
    >>> ft.audience_for(model, text="A retired spy ...", labels=seg)      # doctest: +SKIP
    """
    check_fitted(model, "train_")
    top_share = _check_top_share(top_share)
    given = [name for name, v in (("text", text), ("item", item), ("features", features)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"audience_for needs exactly one of text=, item= or features=, got {given or 'none'}; "
                         "e.g. audience_for(model, text='A retired spy is pulled back ...').")
    n_users = len(model.user_vocab_)
    labels = _labels(labels, n_users)
    candidates = np.ones(n_users, dtype=bool)
    if item is not None:
        row = int(resolve_items(model.train_, [item])[0])
        scores = _item_scores(model, np.array([row]))[:, 0]
        film = str(model.train_.items["title"].iat[row]) if "title" in model.train_.items.columns else str(item)
        if exclude_raters:
            candidates[model.train_.matrix[:, row].nonzero()[0]] = False
    else:
        if not hasattr(model, "score_new_items"):
            raise TypeError(f"{type(model).__name__} cannot score a film it has never seen; use a model with "
                            "score_new_items (ContentRecommender, ContentToCF), or pass item= for a catalogue film.")
        if text is not None:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"text={text!r} must be a non-empty description of the film.")
            if encoder is None:
                from ..features.encoder import TextEncoder

                encoder = TextEncoder()
            if not hasattr(encoder, "transform"):
                raise TypeError(f"encoder must have .transform(list_of_texts), got {type(encoder).__name__}; "
                                "pass the encoder that embedded the items, e.g. ft.TextEncoder().")
            try:
                features = encoder.transform([text])
            except NotFittedError:
                features = encoder.fit().transform([text])  # an unfitted TextEncoder: load its model once
            film = repr(text if len(text) <= 60 else text[:57] + "...")
        else:
            film = "the new film"
        features = np.asarray(features, dtype=np.float32)
        if features.ndim == 2 and features.shape[0] != 1:
            raise ValueError(f"features has {features.shape[0]} rows; give the vector of one film, shape (d,) or "
                             "(1, d).")
        kwargs = {}
        if metadata is not None:
            if "items" not in inspect.signature(model.score_new_items).parameters:
                raise ValueError(f"metadata= was given but {type(model).__name__}.score_new_items uses the text "
                                 "features only; drop metadata= (or use ContentToCF, which joins genres and year).")
            kwargs["items"] = pd.DataFrame([metadata]) if isinstance(metadata, dict) else pd.DataFrame(metadata)
            if len(kwargs["items"]) != 1:
                raise ValueError(f"metadata has {len(kwargs['items'])} rows; give the one new film's fields, e.g. "
                                 "metadata={'genres': ['Drama'], 'year': 1998}.")
        scores = np.asarray(model.score_new_items(features.reshape(1, -1), **kwargs), dtype=np.float32)[:, 0]
    n_cand = int(candidates.sum())
    if n_cand == 0:
        raise ValueError("every user already rated this film; there is no one left to rank "
                         "(pass exclude_raters=False to rank them anyway).")
    n_top = _n_top(n_cand, top_share)
    tie_key = np.random.default_rng(random_state).permutation(n_users)
    top_rows = _rank_users(scores, candidates, n_top, tie_key)
    users = pd.DataFrame({USER_COL: model.user_vocab_.to_ids(top_rows), SCORE_COL: scores[top_rows],
                          RANK_COL: np.arange(1, n_top + 1, dtype=np.int64)})
    if labels is not None:
        users["segment"] = labels[top_rows]
        if descriptions is None:
            descriptions = describe_segments(model.train_, labels)
        segments = _segment_table(labels, candidates, top_rows, descriptions, model.train_.user_counts())
    else:
        segments = pd.DataFrame(columns=SEGMENT_COLUMNS)
    if name is not None:
        film = str(name)
    sentence = audience_sentence(film, segments, n_top, n_cand, alpha)
    logger.info("audience_for: %s", sentence)
    meta = {"model": getattr(model, "name", type(model).__name__), "alpha": alpha,
            "excluded_ids": model.user_vocab_.to_ids(np.flatnonzero(~candidates))}
    return AudienceResult(users, segments, film, top_share, n_cand, n_users - n_cand, sentence, meta)


@dataclass
class AudienceRecall:
    """Output of :func:`audience_recall_lift`.

    Attributes
    ----------
    per_item : DataFrame
        One row per evaluated film: ``item_id, n_raters, n_candidates, n_top, hits``
        (real raters inside the predicted audience), ``recall = hits / n_raters`` and
        ``lift = recall / (n_top / n_candidates)`` (1 = random, ``1 / top_share`` = perfect).
    top_share : float
    model : str
    """

    per_item: pd.DataFrame
    top_share: float
    model: str = ""

    @property
    def mean_recall(self) -> float:
        return float(self.per_item["recall"].mean())

    @property
    def mean_lift(self) -> float:
        """Mean of the per-film lifts (every film counts once): the headline number."""
        return float(self.per_item["lift"].mean())

    @property
    def pooled_lift(self) -> float:
        """All raters pooled: Σ hits / Σ raters over the mean audience share (popular films weigh more)."""
        p = self.per_item
        share = float((p["n_top"] / p["n_candidates"]).mean())
        return float(p["hits"].sum() / max(p["n_raters"].sum(), 1) / share)

    def summary(self) -> pd.Series:
        return pd.Series({"model": self.model, "n_items": len(self.per_item), "top_share": self.top_share,
                          "mean_recall": self.mean_recall, "recall_lift": self.mean_lift,
                          "pooled_lift": self.pooled_lift, "max_lift": 1.0 / self.top_share})

    def __repr__(self) -> str:
        return (f"AudienceRecall({self.model!r}, {len(self.per_item)} films, top {self.top_share:.0%}: "
                f"recall lift {self.mean_lift:.2f} (perfect {1 / self.top_share:.0f}))")


def audience_recall_lift(model, train: Dataset, test: Dataset, top_share: float = 0.05, *, items=None,
                         min_raters: int = 1, exclude_raters: bool = True, random_state=0) -> AudienceRecall:
    """How many of a film's real raters fall in its predicted audience, relative to chance.

    For each film of ``test`` (e.g. the held-out films of ``cold_item_split``), every
    user is ranked by ``model.score(users)[:, film]`` (users who rated the film in
    ``train`` are left out when ``exclude_raters``; cold films have none), the top
    ``top_share`` are its predicted audience, and ``recall`` is the share of the film's
    ``test`` raters inside it. ``lift = recall / (audience size / users ranked)``: a
    random audience has lift 1 in expectation, a perfect one ``1 / top_share`` (20 for
    the top 5 %).

    Parameters
    ----------
    model : fitted Recommender
        Fitted on ``train``; it must score every film of ``test`` (a content model, or a
        content-to-CF map for films without training ratings).
    train, test : Dataset
        Splits of one dataset (shared vocabularies).
    top_share : float in (0, 1]
    items : array-like of item ids, optional
        Films to evaluate; default every film with at least ``min_raters`` raters in ``test``.
    min_raters : int
    exclude_raters : bool
    random_state : int, Generator or None
        Breaks score ties (the same user order for every film).

    Returns
    -------
    AudienceRecall
        ``.per_item`` (one row per film), ``.mean_lift`` (the headline), ``.pooled_lift``,
        ``.summary()``. Per-film values of two models on the same films pair for a
        Wilcoxon test.
    """
    check_fitted(model, "train_")
    top_share = _check_top_share(top_share)
    min_raters = check_positive_int(min_raters, "min_raters")
    train = ensure_dataset(train, "train")
    test = ensure_dataset(test, "test")
    if test.user_vocab != model.user_vocab_ or test.item_vocab != model.item_vocab_:
        raise ValueError("test must share the model's user and item vocabularies (a split of the dataset the "
                         "model was fitted on, e.g. train, test = ft.cold_item_split(ds)).")
    if train.user_vocab != model.user_vocab_ or train.item_vocab != model.item_vocab_:
        raise ValueError("train must share the model's vocabularies (the split the model was fitted on).")
    counts = np.asarray(test.item_counts())
    if items is None:
        cols = np.flatnonzero(counts >= min_raters)
    else:
        cols = model.item_vocab_.to_rows(np.atleast_1d(np.asarray(items)), param="items")
        cols = cols[counts[cols] >= min_raters]
    if len(cols) == 0:
        raise ValueError(f"no film of test has >= min_raters={min_raters} raters; lower min_raters or check items.")
    scores = _item_scores(model, cols)
    n_users = len(model.user_vocab_)
    tie_key = np.random.default_rng(random_state).permutation(n_users)
    test_m = test.matrix.tocsc()
    train_m = train.matrix.tocsc()
    rows = []
    for j, col in enumerate(cols):
        candidates = np.ones(n_users, dtype=bool)
        if exclude_raters:
            candidates[train_m[:, col].indices] = False
        raters = test_m[:, col].indices
        raters = raters[candidates[raters]]
        n_cand = int(candidates.sum())
        if len(raters) < min_raters or n_cand == 0:
            continue
        n_top = _n_top(n_cand, top_share)
        top = _rank_users(scores[:, j], candidates, n_top, tie_key)
        hits = int(np.isin(raters, top).sum())
        recall = hits / len(raters)
        rows.append((model.item_vocab_.to_ids([col])[0], len(raters), n_cand, n_top, hits, recall,
                     recall / (n_top / n_cand)))
    per_item = pd.DataFrame(rows, columns=[ITEM_COL, "n_raters", "n_candidates", "n_top", "hits", "recall", "lift"])
    result = AudienceRecall(per_item, top_share, getattr(model, "name", type(model).__name__))
    logger.info("audience_recall_lift: %r", result)
    return result


def compare_audience_recall(results, baseline: str | None = None, alpha: float = 0.05, n_resamples: int = 1000,
                            random_state=42) -> pd.DataFrame:
    """Paired comparison of audience recall lifts of several models on the same films.

    Parameters
    ----------
    results : mapping name -> AudienceRecall
        :func:`audience_recall_lift` of each model on the same split.
    baseline : str, optional
        Compare every model with this one; default: every model with the first.
    alpha : float
        Level of the verdict (Holm-adjusted across the pairs of the table).

    Returns
    -------
    DataFrame, one row per pair: ``model_a, model_b, n_items, lift_a, lift_b`` (mean per-film
    lifts over the films both evaluated), ``diff, ci_low, ci_high`` (mean paired difference
    with its bootstrap CI over films), ``p_value`` (Wilcoxon signed-rank on per-film lifts),
    ``p_holm`` and ``verdict``: a sentence that says "higher"/"lower" only when
    ``p_holm < alpha`` and otherwise that there is no significant difference.
    """
    names = list(results)
    if len(names) < 2:
        raise ValueError(f"results needs at least two models, got {names}.")
    for name in names:
        if not isinstance(results[name], AudienceRecall):
            raise TypeError(f"results[{name!r}] must be an AudienceRecall (from audience_recall_lift), "
                            f"got {type(results[name]).__name__}.")
    baseline = names[0] if baseline is None else baseline
    if baseline not in results:
        raise ValueError(f"baseline={baseline!r} is not one of {names}.")
    rows = []
    for name in names:
        if name == baseline:
            continue
        a = results[name].per_item[[ITEM_COL, "lift"]]
        b = results[baseline].per_item[[ITEM_COL, "lift"]]
        joined = a.merge(b, on=ITEM_COL, suffixes=("_a", "_b"))
        x, y = joined["lift_a"].to_numpy(float), joined["lift_b"].to_numpy(float)
        diff, lo, hi = paired_bootstrap_ci(x, y, n_resamples, 0.95, random_state)
        rows.append({"model_a": name, "model_b": baseline, "n_items": len(joined),
                     "lift_a": float(x.mean()) if len(x) else np.nan, "lift_b": float(y.mean()) if len(y) else np.nan,
                     "diff": diff, "ci_low": lo, "ci_high": hi, "p_value": paired_wilcoxon(x, y).p_value})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm_correction(out["p_value"].to_numpy())
    out["verdict"] = [_verdict(r, alpha) for r in out.itertuples()]
    return out


def _verdict(r, alpha: float) -> str:
    numbers_ = (f"mean recall lift {r.lift_a:.2f} vs {r.lift_b:.2f} over {r.n_items} films, "
                f"paired Wilcoxon p_holm = {r.p_holm:.2g}")
    if not np.isnan(r.p_holm) and r.p_holm < alpha:
        word = "more" if r.diff > 0 else "fewer"
        return f"{r.model_a} puts {word} of a film's real raters in its audience than {r.model_b} ({numbers_})."
    return f"No significant difference between {r.model_a} and {r.model_b} ({numbers_})."
