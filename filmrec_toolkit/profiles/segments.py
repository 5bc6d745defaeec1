"""Audience segments: K-Means on user profiles, described for marketing and content teams."""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .._config import RATING_COL, USER_COL
from .._deprecation import renamed_argument
from ..datasets.dataset import Dataset, ensure_dataset
from ..exceptions import check_positive_int
from ..features.embeddings import ItemEmbeddings, l2_normalize

logger = logging.getLogger(__name__)

#: Demographic columns ``describe_segments`` looks for in ``dataset.users``.
DEMOGRAPHICS = ("gender", "age_group", "occupation")


@dataclass
class SegmentResult:
    """Output of :func:`segment_users`.

    Attributes
    ----------
    labels : ndarray (n_users,) int
        Segment of each user row (0 .. k-1).
    centroids : ndarray (k, d) float32
        K-Means centres in profile space.
    k : int
        Number of segments.
    silhouette : Series
        Mean silhouette per tried k (index ``k``); one value when k was given.
    inertia : Series
        K-Means inertia per tried k.
    sample_size : int or None
        Users the silhouettes were computed on.
    """

    labels: np.ndarray
    centroids: np.ndarray
    k: int
    silhouette: pd.Series
    inertia: pd.Series
    sample_size: int | None = None
    random_state: object = None
    meta: dict = field(default_factory=dict)

    @property
    def n_segments(self) -> int:
        """Number of segments (the same as ``k``)."""
        return self.k

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.k)

    def __repr__(self) -> str:
        return f"SegmentResult(k={self.k}, sizes={self.sizes.tolist()})"


def _as_profiles(profiles) -> np.ndarray:
    if hasattr(profiles, "transform") and hasattr(profiles, "profiles_"):
        profiles = profiles.transform()
    x = np.asarray(profiles, dtype=np.float32)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"profiles must be a 2-D array (n_users, d) with at least 2 rows, got shape {x.shape}; "
                         "pass UserProfiler().fit(dataset, embeddings).transform().")
    if not np.isfinite(x).all():
        raise ValueError("profiles contains NaN or inf values; check the embeddings and the profiler.")
    return x


def segment_users(profiles, n_segments: int | str = "auto", n_segments_range: Iterable[int] = range(2, 13),
                  random_state=None, sample_size: int | None = 3000, n_init: int | str = "auto",
                  center: bool = True, normalize: bool = True, *, k=None, k_range=None) -> SegmentResult:
    """Cluster users into audience segments with K-Means.

    With ``n_segments="auto"`` every k of ``n_segments_range`` is fitted and the one with the highest mean
    silhouette (Rousseeuw 1987, cosine distance) is kept. The silhouette is computed on one
    random sample of ``sample_size`` users shared by every k (exact when ``None`` or when
    there are fewer users), which makes the choice O(sample_size^2) instead of O(n^2).

    Parameters
    ----------
    profiles : ndarray (n_users, d) or fitted UserProfiler
    n_segments : int or "auto"
        Number of segments (``k`` elsewhere in the package means a list length).
    n_segments_range : iterable of int
        Candidates for ``"auto"`` (each >= 2 and < n_users).
    random_state : int, Generator or None
        Seeds K-Means and the silhouette sample.
    sample_size : int or None
    n_init : int or "auto"
        K-Means restarts per k (``"auto"``: scikit-learn's default, one k-means++ run).
    center : bool
        Subtract the mean profile first. Language-model vectors share a large common
        direction (every profile is close to "the average film"), so without centring
        the cosine silhouettes are compressed and segments split by how mainstream a
        user is rather than by taste.
    normalize : bool
        L2-normalise (after centring), so Euclidean K-Means ranks like cosine.
    k, k_range
        Deprecated spellings of ``n_segments`` and ``n_segments_range`` (a FutureWarning;
        they will be removed in a later version).

    Notes
    -----
    :attr:`SegmentResult.centroids` live in the transformed (centred, normalised) space.
    On data without clear clusters the silhouette often peaks at the smallest k; the
    scores are returned so the trade-off with a finer, more descriptive k can be seen.

    Returns
    -------
    SegmentResult
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    why = "{} means a list length elsewhere in filmrec_toolkit"
    n_segments = renamed_argument("segment_users", "k", k, "n_segments", n_segments, default="auto",
                                  reason=why.format("k"))
    n_segments_range = renamed_argument("segment_users", "k_range", k_range, "n_segments_range", n_segments_range,
                                        default=range(2, 13), reason=why.format("k_range"))
    x = _as_profiles(profiles)
    if center:
        x = x - x.mean(axis=0, keepdims=True)
    if normalize:
        x = l2_normalize(x)
    n = len(x)
    if isinstance(n_segments, str):
        if n_segments != "auto":
            raise ValueError(f"n_segments={n_segments!r} must be a positive integer or 'auto', e.g. n_segments=6.")
        ks = sorted({int(v) for v in n_segments_range})
        if not ks:
            raise ValueError("n_segments_range is empty; give candidates such as range(2, 13).")
        bad = [v for v in ks if v < 2 or v >= n]
        if bad:
            raise ValueError(f"n_segments_range contains {bad}; each must be >= 2 and < n_users={n} for the "
                             "silhouette, e.g. n_segments_range=range(2, 13).")
    else:
        if isinstance(n_segments, bool) or not isinstance(n_segments, numbers.Integral) or not 1 <= n_segments <= n:
            raise ValueError(f"n_segments == {n_segments!r}, must be an integer in [1, n_users={n}] or 'auto', "
                             "e.g. n_segments=6.")
        ks = [int(n_segments)]
    rng = np.random.default_rng(random_state)
    seed = int(rng.integers(2**31 - 1))
    if sample_size is not None:
        check_positive_int(sample_size, "sample_size")
    sample = np.sort(rng.choice(n, sample_size, replace=False)) if sample_size and sample_size < n else np.arange(n)
    dist = None
    sil, inertia, fits = {}, {}, {}
    for kk in ks:
        km = KMeans(n_clusters=kk, n_init=n_init, random_state=seed).fit(x)
        fits[kk] = km
        inertia[kk] = float(km.inertia_)
        labels_s = km.labels_[sample]
        if 2 <= kk and len(np.unique(labels_s)) >= 2:
            if dist is None:
                xs = x[sample]
                dist = np.maximum(1.0 - xs @ xs.T, 0.0).astype(np.float64)
                np.fill_diagonal(dist, 0.0)
            sil[kk] = float(silhouette_score(dist, labels_s, metric="precomputed"))
        else:
            sil[kk] = np.nan
    scores = pd.Series(sil, name="silhouette", dtype=float)
    scores.index.name = "k"
    chosen = ks[0] if len(ks) == 1 else int(scores.idxmax())
    best = fits[chosen]
    logger.info("segment_users: k=%d (silhouette %.4f)", chosen, scores.get(chosen, np.nan))
    return SegmentResult(
        labels=best.labels_.astype(np.int64), centroids=best.cluster_centers_.astype(np.float32), k=chosen,
        silhouette=scores, inertia=pd.Series(inertia, name="inertia", dtype=float).rename_axis("k"),
        sample_size=len(sample), random_state=random_state, meta={"center": center, "normalize": normalize})


# ---------------------------------------------------------------- statistics
def composition_lift(segment_counts, population_counts) -> pd.Series:
    """Lift of each category: share in the segment / share in the population.

    ``lift_c = (n_seg,c / n_seg) / (n_pop,c / n_pop)``; 1 = as common as in the whole
    population, 2 = twice as common. Categories absent from the population get NaN.
    """
    seg = pd.Series(segment_counts, dtype=float)
    pop = pd.Series(population_counts, dtype=float).reindex(seg.index.union(pd.Series(population_counts).index))
    seg = seg.reindex(pop.index).fillna(0.0)
    seg_share = seg / seg.sum() if seg.sum() > 0 else seg * np.nan
    pop_share = pop / pop.sum()
    return (seg_share / pop_share.where(pop_share > 0)).rename("lift")


def composition_chi2(segment_counts, rest_counts) -> tuple[float, float, int]:
    """Chi-square test of independence of the segment-vs-rest 2 x C table.

    Categories empty in both rows are dropped. Returns ``(chi2, p_value, dof)`` from
    :func:`scipy.stats.chi2_contingency` (Yates' correction only applies when dof = 1);
    ``(nan, nan, 0)`` when fewer than two categories remain.
    """
    from scipy.stats import chi2_contingency

    table = np.vstack([np.asarray(segment_counts, float), np.asarray(rest_counts, float)])
    table = table[:, table.sum(0) > 0]
    if table.shape[1] < 2 or (table.sum(1) == 0).any():
        return float("nan"), float("nan"), 0
    res = chi2_contingency(table)
    return float(res[0]), float(res[1]), int(res[2])


def _labels_array(labels, n_users: int | None = None) -> np.ndarray:
    if isinstance(labels, SegmentResult):
        labels = labels.labels
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one segment per user row), got shape {labels.shape}.")
    if n_users is not None and len(labels) != n_users:
        raise ValueError(f"labels has {len(labels)} entries but the dataset has {n_users} users; "
                         "give one label per user row, in user-vocabulary order.")
    return labels


def _attribute_order(users: pd.DataFrame, attribute: str) -> list:
    col = users[attribute]
    if attribute == "age_group" and "age_code" in users.columns:
        return users.drop_duplicates(attribute).sort_values("age_code")[attribute].dropna().tolist()
    return sorted(col.dropna().unique().tolist(), key=str)


def demographic_composition(dataset: Dataset, labels, attribute: str, min_cell: int | None = None) -> pd.DataFrame:
    """Long table of one attribute per segment: counts, shares and lift vs the population.

    Columns ``segment, value, count, share, population_share, lift``. With ``min_cell``,
    cells holding fewer than ``min_cell`` users get NaN count/share/lift and
    ``suppressed=True`` (a privacy guard for published breakdowns).
    """
    dataset = ensure_dataset(dataset)
    labels = _labels_array(labels, dataset.n_users)
    if attribute not in dataset.users.columns:
        raise KeyError(f"attribute {attribute!r} is not a column of dataset.users; it has {list(dataset.users.columns)}.")
    values = dataset.users[attribute].to_numpy()
    order = _attribute_order(dataset.users, attribute)
    ct = pd.crosstab(pd.Series(labels, name="segment"), pd.Series(values, name="value")).reindex(columns=order,
                                                                                                   fill_value=0)
    pop = ct.sum(0)
    rows = []
    for seg in ct.index:
        lift = composition_lift(ct.loc[seg], pop)
        for v in order:
            rows.append((seg, v, int(ct.loc[seg, v]), ct.loc[seg, v] / max(ct.loc[seg].sum(), 1),
                         pop[v] / pop.sum(), lift[v]))
    out = pd.DataFrame(rows, columns=["segment", "value", "count", "share", "population_share", "lift"])
    out["suppressed"] = False
    if min_cell is not None:
        check_positive_int(min_cell, "min_cell")
        small = out["count"] < min_cell
        out.loc[small, ["count", "share", "lift"]] = np.nan
        out["suppressed"] = small
    return out


def genre_lift(dataset: Dataset, labels) -> pd.DataFrame:
    """Segments x genres lift of the ratings' genre shares.

    ``share_s,g`` = share of the segment's ratings whose film has genre ``g`` (a film with
    several genres counts for each); ``lift = share_s,g / share_all,g``.
    """
    dataset = ensure_dataset(dataset)
    labels = _labels_array(labels, dataset.n_users)
    table, names = dataset.genre_matrix("binary", "genres")
    seg_of_rating = labels[dataset.user_rows]
    segs = np.unique(labels)
    counts = np.zeros((len(segs), len(names)))
    per_item = pd.crosstab(seg_of_rating, dataset.item_rows).reindex(index=segs, fill_value=0)
    counts = per_item.to_numpy(float) @ table[per_item.columns.to_numpy()]
    n_seg = np.bincount(np.searchsorted(segs, seg_of_rating), minlength=len(segs)).astype(float)
    share = counts / np.maximum(n_seg, 1)[:, None]
    pop = counts.sum(0) / max(n_seg.sum(), 1)
    return pd.DataFrame(share / np.where(pop > 0, pop, np.nan), index=pd.Index(segs, name="segment"), columns=names)


def _segment_centroid(dataset, seg_mask, emb, profiles) -> np.ndarray | None:
    if profiles is not None:
        return l2_normalize(np.asarray(profiles, np.float32)[seg_mask].mean(0, keepdims=True))[0]
    if emb is None:
        return None
    in_seg = seg_mask[dataset.user_rows]
    counts = np.bincount(dataset.item_rows[in_seg], minlength=dataset.n_items).astype(np.float32)
    return l2_normalize((counts[:, None] * emb).sum(0, keepdims=True))[0]


def _fmt_comp(lift: pd.Series, share: pd.Series, suppressed: pd.Series, top: int) -> str:
    parts = []
    order = lift.fillna(-np.inf).sort_values(ascending=False, kind="mergesort").index
    for v in list(order)[:top]:
        if suppressed[v]:
            parts.append(f"{v} (suppressed)")
        else:
            parts.append(f"{v} {share[v]:.0%} ×{lift[v]:.2f}")
    return ", ".join(parts)


#: readable names of demographic values in segment labels
_VALUE_NAMES = {("gender", "F"): "women", ("gender", "M"): "men"}


def _value_name(attribute: str, value) -> str:
    if (attribute, str(value)) in _VALUE_NAMES:
        return _VALUE_NAMES[(attribute, str(value))]
    if attribute == "age_group":
        return f"aged {value}" if value != "Under 18" else "under 18"
    if attribute == "occupation":
        return f"{value}s" if value not in ("other", "none") else f"occupation '{value}'"
    return f"{attribute} {value}"


def segment_label(genre_lift: pd.Series, genre_p: pd.Series | None = None, traits: Sequence[tuple[str, float]] = (),
                  min_lift: float = 1.2, alpha: float = 0.05, n_genres: int = 3) -> tuple[str, str]:
    """A segment's short label, claiming only what the numbers support.

    Rule: a genre enters the label only when its lift is at least ``min_lift`` (×1.2 by
    default: a genre 20 % more common than in the whole population) AND its test is
    significant (``genre_p < alpha``); up to ``n_genres`` such genres, highest lift first,
    joined by " · ". Without one, the label is the strongest significant trait of
    ``traits`` (``(text, p)`` pairs such as activity or a demographic; smallest p wins),
    and otherwise "mixed tastes".

    Returns ``(label, reason)``, the reason saying which rule applied, with the numbers.
    """
    lift = pd.Series(genre_lift, dtype=float).dropna()
    p = pd.Series(genre_p, dtype=float).reindex(lift.index) if genre_p is not None else pd.Series(0.0, lift.index)
    keep = lift[(lift >= min_lift) & (p < alpha)].sort_values(ascending=False, kind="mergesort").head(n_genres)
    if len(keep):
        return (" · ".join(keep.index.astype(str)),
                "genres with lift ≥ ×%g and p < %g: " % (min_lift, alpha)
                + ", ".join(f"{g} ×{v:.2f} (p = {p[g]:.2g})" for g, v in keep.items()))
    best = [(text, pv) for text, pv in traits if pv is not None and not np.isnan(pv) and pv < alpha]
    top = lift.sort_values(ascending=False).head(1)
    why = (f"no genre reaches lift ×{min_lift:g} with p < {alpha:g}"
           + (f" (highest: {top.index[0]} ×{top.iloc[0]:.2f})" if len(top) else ""))
    if best:
        text, pv = min(best, key=lambda t: t[1])
        return text, f"{why}; strongest significant trait (p = {pv:.2g})"
    return "mixed tastes", f"{why}, and no activity or demographic trait is significant"


def genre_share_tests(dataset: Dataset, labels) -> pd.DataFrame:
    """Segments x genres p-values: is the segment's per-user share of each genre different from the rest's?

    Each user's share of ratings whose film has the genre is compared between the
    segment's users and all other users with a two-sided Mann-Whitney U test; p-values are
    Holm-adjusted across the genres of each segment. Users, not ratings, are the
    independent units.
    """
    from scipy.stats import mannwhitneyu

    from ..metrics.fairness import holm_correction

    dataset = ensure_dataset(dataset)
    labels = _labels_array(labels, dataset.n_users)
    table, names = dataset.genre_matrix("binary", "genres")
    counts = np.zeros((dataset.n_users, len(names)))
    np.add.at(counts, dataset.user_rows, table[dataset.item_rows])
    n = np.bincount(dataset.user_rows, minlength=dataset.n_users).astype(float)
    share = counts / np.maximum(n, 1)[:, None]
    rated = n > 0
    segs = np.unique(labels)
    out = np.full((len(segs), len(names)), np.nan)
    for i, seg in enumerate(segs):
        a, b = (labels == seg) & rated, (labels != seg) & rated
        if a.sum() < 1 or b.sum() < 1:
            continue
        res = mannwhitneyu(share[a], share[b], alternative="two-sided", axis=0)
        out[i] = holm_correction(np.where(np.isnan(res.pvalue), 1.0, res.pvalue))
    return pd.DataFrame(out, index=pd.Index(segs, name="segment"), columns=names)


def segment_structure_note(segments, threshold: float = 0.25) -> str:
    """A warning sentence when the segmentation is weak (mean silhouette below ``threshold``), else "".

    ``segments`` is a :class:`SegmentResult` or a silhouette value. Kaufman & Rousseeuw
    (1990) read a mean silhouette below .25 as "no substantial structure".
    """
    value = segments.silhouette.get(segments.k, np.nan) if isinstance(segments, SegmentResult) else float(segments)
    if value is None or np.isnan(value) or value >= threshold:
        return ""
    return (f"Weak structure: the mean silhouette is {value:.2f} (below {threshold:g}), so these segments overlap "
            "heavily. Read them as tendencies within one continuous audience, not as distinct groups.")


def describe_segments(dataset: Dataset, labels, embeddings: ItemEmbeddings | None = None, profiles=None,
                      min_cell: int | None = None, attributes: Sequence[str] = DEMOGRAPHICS,
                      n_genres: int = 3, n_films: int = 3, min_genre_share: float = 0.02,
                      top_values: int = 2, min_lift: float = 1.2, alpha: float = 0.05) -> pd.DataFrame:
    """One row per segment: who they are, what they watch, and a short label.

    Columns (in order):

    - ``label``: :func:`segment_label`: the genres with lift ≥ ``min_lift`` and a significant
      per-user test (:func:`genre_share_tests`), joined by " · " (e.g. "Children's ·
      Animation · Musical"); otherwise the strongest significant trait (heavy / light
      raters, an over-represented demographic) or "mixed tastes". ``label_reason`` says
      which rule applied, with its numbers.
    - ``size``, ``share``: users in the segment and share of all users.
    - for each demographic attribute present in ``dataset.users`` (``gender``, ``age_group``,
      ``occupation``): ``<attr>`` = the ``top_values`` most over-represented values as
      "value share ×lift", and ``<attr>_p`` = p-value of the chi-square test of the segment's
      composition against the rest of the population (:func:`composition_chi2`).
    - ``top_genres``: genres with the highest lift of rating share (genres below
      ``min_genre_share`` of the segment's ratings are skipped as too rare to characterise it).
    - ``closest_films``: films whose embeddings are closest (cosine) to the segment centroid
      (the mean of ``profiles`` when given, else of the embeddings of the films the segment
      rated); empty when neither is given.
    - ``most_watched``: the most-rated films inside the segment.
    - ``mean_rating``, ``ratings_per_user``: mean rating of the segment's ratings and mean
      number of ratings per user.

    Parameters
    ----------
    dataset : Dataset
    labels : array (n_users,) or SegmentResult
    embeddings : ItemEmbeddings, optional
    profiles : ndarray (n_users, d) or fitted profiler, optional
    min_cell : int, optional
        Demographic cells with fewer users are shown as "(suppressed)" and the segment's
        size is hidden (NaN) when the segment itself is smaller.
    attributes : sequence of str
    n_genres, n_films, top_values : int
    min_genre_share : float
    min_lift, alpha : float
        The label rule of :func:`segment_label`.

    Returns
    -------
    DataFrame indexed by segment. ``.attrs["compositions"]`` holds the full long tables of
    :func:`demographic_composition`, ``.attrs["genre_lift"]`` the segments x genres lift,
    ``.attrs["genre_p"]`` their Holm-adjusted p-values; when ``labels`` is a
    :class:`SegmentResult`, ``.attrs["silhouette"]`` and ``.attrs["structure_note"]``
    (:func:`segment_structure_note`, "" when the structure is not weak).
    """
    result = labels if isinstance(labels, SegmentResult) else None
    dataset = ensure_dataset(dataset)
    labels = _labels_array(labels, dataset.n_users)
    if min_cell is not None:
        check_positive_int(min_cell, "min_cell")
    emb = None
    if embeddings is not None:
        if not isinstance(embeddings, ItemEmbeddings):
            raise TypeError(f"embeddings must be ItemEmbeddings, got {type(embeddings).__name__}.")
        emb = embeddings.align(dataset).matrix
    if profiles is not None:
        profiles = _as_profiles(profiles)
        if len(profiles) != dataset.n_users:
            raise ValueError(f"profiles has {len(profiles)} rows but the dataset has {dataset.n_users} users.")
    titles = dataset.items["title"].astype(str).to_numpy() if "title" in dataset.items.columns \
        else np.asarray(dataset.item_ids).astype(str)
    segs = np.unique(labels)
    n_users = dataset.n_users
    attrs = [a for a in attributes if a in dataset.users.columns]
    comps = {a: demographic_composition(dataset, labels, a, min_cell=min_cell) for a in attrs}
    values = {a: dataset.users[a].to_numpy() for a in attrs}
    has_genres = "genres" in dataset.items.columns
    lift = genre_lift(dataset, labels) if has_genres else None
    genre_p = genre_share_tests(dataset, labels) if has_genres else None
    if has_genres:
        table, names = dataset.genre_matrix("binary", "genres")
    from scipy.stats import mannwhitneyu

    per_user_n = np.bincount(dataset.user_rows, minlength=n_users)
    seg_of_rating = labels[dataset.user_rows]
    ratings = dataset.ratings[RATING_COL].to_numpy(float)
    rows = []
    for seg in segs:
        mask = labels == seg
        size = int(mask.sum())
        row = {"segment": seg}
        in_seg = seg_of_rating == seg
        if has_genres:
            counts = np.bincount(dataset.item_rows[in_seg], minlength=dataset.n_items) @ table
            share = counts / max(in_seg.sum(), 1)
            lifts = lift.loc[seg].where(share >= min_genre_share).dropna().sort_values(ascending=False,
                                                                                       kind="mergesort")
            top = lifts.head(n_genres)
        row["label"] = f"segment {seg}"
        hidden = min_cell is not None and size < min_cell
        row["size"] = np.nan if hidden else size
        row["share"] = np.nan if hidden else size / n_users
        for a in attrs:
            c = comps[a].loc[comps[a]["segment"] == seg].set_index("value")
            row[a] = _fmt_comp(c["lift"], c["share"], c["suppressed"], top_values)
            order = c.index
            seg_counts = pd.Series(values[a][mask]).value_counts().reindex(order, fill_value=0)
            rest_counts = pd.Series(values[a][~mask]).value_counts().reindex(order, fill_value=0)
            row[f"{a}_p"] = composition_chi2(seg_counts.to_numpy(), rest_counts.to_numpy())[1]
        traits = []
        if mask.any() and (~mask).any():
            mine, rest = per_user_n[mask], per_user_n[~mask]
            p_act = mannwhitneyu(mine, rest, alternative="two-sided").pvalue
            ratio = np.median(mine) / max(np.median(rest), 1)
            word = "heavy raters" if np.median(mine) > np.median(rest) else "light raters"
            traits.append((f"{word} (median {np.median(mine):.0f} ratings vs {np.median(rest):.0f}, ×{ratio:.2f})",
                           float(p_act)))
        for a in attrs:
            c = comps[a].loc[(comps[a]["segment"] == seg) & ~comps[a]["suppressed"]].dropna(subset=["lift"])
            if len(c) and row.get(f"{a}_p") is not None:
                best = c.sort_values("lift", ascending=False, kind="mergesort").iloc[0]
                if best["lift"] >= min_lift:
                    traits.append((f"{_value_name(a, best['value'])} over-represented "
                                   f"({best['share']:.0%}, ×{best['lift']:.2f})", float(row[f"{a}_p"])))
        if has_genres:
            row["label"], row["label_reason"] = segment_label(
                lift.loc[seg].where(share >= min_genre_share), genre_p.loc[seg], traits, min_lift, alpha, n_genres)
            row["top_genres"] = ", ".join(f"{g} ×{v:.2f}" for g, v in top.items())
        else:
            row["label"], row["label_reason"] = segment_label(pd.Series(dtype=float), None, traits, min_lift, alpha)
        centroid = _segment_centroid(dataset, mask, emb, profiles)
        if centroid is not None and emb is not None:
            sims = emb @ centroid
            row["closest_films"] = " | ".join(titles[np.argsort(-sims, kind="stable")[:n_films]])
        else:
            row["closest_films"] = ""
        watched = np.bincount(dataset.item_rows[in_seg], minlength=dataset.n_items)
        row["most_watched"] = " | ".join(titles[np.argsort(-watched, kind="stable")[:n_films]])
        row["mean_rating"] = float(ratings[in_seg].mean()) if in_seg.any() else np.nan
        row["ratings_per_user"] = in_seg.sum() / max(size, 1)
        rows.append(row)
    out = pd.DataFrame(rows).set_index("segment")
    out = out[["label", *(c for c in out.columns if c != "label")]]
    out.attrs["compositions"] = comps
    if lift is not None:
        out.attrs["genre_lift"] = lift
        out.attrs["genre_p"] = genre_p
    if result is not None:
        out.attrs["silhouette"] = float(result.silhouette.get(result.k, np.nan))
        out.attrs["structure_note"] = segment_structure_note(result)
    return out


# ------------------------------------------------------------------ privacy
def export_audience(labels, segment, min_size: int = 50, include_ids: bool = False, user_ids=None,
                    dataset: Dataset | None = None) -> pd.DataFrame:
    """Export one segment as an audience, refusing segments too small to stay anonymous.

    Parameters
    ----------
    labels : array (n_users,) or SegmentResult
    segment : label
        The segment to export.
    min_size : int
        Smallest audience that may leave the toolkit (default 50).
    include_ids : bool
        ``False`` (default): a one-row summary (segment, size, share) with no identities.
        ``True``: one row per member with its ``user_id`` (needs ``dataset`` or ``user_ids``).
    user_ids : array (n_users,), optional
        Ids in user-row order (default ``dataset.user_ids``).
    dataset : Dataset, optional

    Raises
    ------
    ValueError
        If the segment has fewer than ``min_size`` members, or does not exist.
    """
    check_positive_int(min_size, "min_size")
    labels = _labels_array(labels, None if dataset is None else dataset.n_users)
    present = np.unique(labels)
    if segment not in set(present.tolist()):
        raise ValueError(f"segment={segment!r} is not one of the segments {present.tolist()}.")
    members = np.flatnonzero(labels == segment)
    if len(members) < min_size:
        raise ValueError(
            f"segment {segment!r} has {len(members)} users, fewer than min_size={min_size}: exporting it could "
            "single out individuals. Merge it with a neighbouring segment (e.g. a smaller k) instead; lowering "
            "min_size should be a deliberate, reviewed decision.")
    if not include_ids:
        return pd.DataFrame({"segment": [segment], "size": [len(members)], "share": [len(members) / len(labels)]})
    if user_ids is None:
        if dataset is None:
            raise ValueError("include_ids=True needs dataset= or user_ids= to turn user rows into user ids.")
        user_ids = dataset.user_ids
    user_ids = np.asarray(user_ids)
    if len(user_ids) != len(labels):
        raise ValueError(f"user_ids has {len(user_ids)} entries but labels has {len(labels)}.")
    return pd.DataFrame({USER_COL: user_ids[members], "segment": segment})


__all__ = ["SegmentResult", "segment_users", "describe_segments", "demographic_composition", "genre_lift",
           "composition_lift", "composition_chi2", "export_audience", "segment_label", "genre_share_tests",
           "segment_structure_note"]
