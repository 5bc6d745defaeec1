"""Maps of films and users, silhouette curves and segment profile charts.

Every function takes ``ax=None`` (a new figure is made when omitted) and returns the Figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets.cells import parse_genres
from ..datasets.movielens import ML1M_AGE_LABELS

__all__ = ["main_genres", "plot_item_map", "plot_user_map", "plot_silhouette", "plot_genre_lift",
           "plot_segment_lifts", "plot_demographics"]

_OTHER = "other"


def _axes(ax, figsize=(9, 6)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _check_coords(coords, n: int | None = None, name: str = "coords") -> np.ndarray:
    coords = np.asarray(coords, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {coords.shape}; use project_2d(matrix).")
    if n is not None and len(coords) != n:
        raise ValueError(f"{name} has {len(coords)} rows but {n} were expected (one per row of the dataset).")
    return coords


def main_genres(genres, n_colours: int = 9) -> np.ndarray:
    """Main genre of each film: its first listed genre (cells read by :func:`~filmrec_toolkit.parse_genres`);
    genres outside the ``n_colours`` most common main genres become ``"other"`` (so the legend stays readable)."""
    first = pd.Series([(parse_genres(g) or [_OTHER])[0] for g in genres])
    keep = first[first != _OTHER].value_counts().index[:n_colours]
    return first.where(first.isin(keep), _OTHER).to_numpy()


def plot_item_map(coords, dataset=None, genres=None, titles=None, label=8, ax=None, point_size: float = 6,
                  n_colours: int = 9):
    """Films in 2-D, coloured by main genre, with a few titles written on the map.

    Parameters
    ----------
    coords : array (n_items, 2)
        From :func:`~filmrec_toolkit.project_2d`, in item-vocabulary order.
    dataset : Dataset, optional
        Gives genres, titles and (for ``label=int``) the popularity used to pick titles.
    genres, titles : sequence, optional
        Override the dataset's columns.
    label : int or sequence of int
        Number of most-rated films to label, or the item rows to label.
    """
    coords = _check_coords(coords, None if dataset is None else dataset.n_items)
    if genres is None and dataset is not None and "genres" in dataset.items.columns:
        genres = dataset.items["genres"].tolist()
    if titles is None and dataset is not None and "title" in dataset.items.columns:
        titles = dataset.items["title"].astype(str).tolist()
    fig, ax = _axes(ax)
    main = main_genres(genres, n_colours) if genres is not None else np.full(len(coords), _OTHER)
    if len(main) != len(coords):
        raise ValueError(f"genres has {len(main)} entries but coords has {len(coords)} rows.")
    cats = [c for c in pd.Series(main).value_counts().index if c != _OTHER] + ([_OTHER] if _OTHER in main else [])
    palette = _palette(len(cats))
    colour = {c: ("lightgrey" if c == _OTHER else palette[i]) for i, c in enumerate(cats)}
    ax.scatter(coords[:, 0], coords[:, 1], c=[colour[m] for m in main], s=point_size, linewidths=0, alpha=0.8)
    for c in cats:
        ax.scatter([], [], c=[colour[c]], s=20, label=c)
    ax.legend(title="main genre", fontsize="small", markerscale=1.2, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              frameon=False)
    if titles is not None:
        if isinstance(label, (int, np.integer)):
            pop = dataset.item_counts() if dataset is not None else np.zeros(len(coords))
            rows = np.argsort(-pop, kind="stable")[: int(label)]
        else:
            rows = np.asarray(label, dtype=int)
        texts = [ax.text(coords[r, 0], coords[r, 1], str(titles[r]), fontsize=7) for r in rows]
        if texts:  # push overlapping titles apart (adjustText), with a thin line to their point
            from adjustText import adjust_text

            adjust_text(texts, ax=ax, arrowprops=dict(arrowstyle="-", color="grey", lw=0.5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Films by main genre")
    fig.tight_layout()
    return fig


def _palette(n: int):
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_user_map(coords, labels, names=None, ax=None, point_size: float = 4):
    """Users in 2-D coloured by segment.

    Parameters
    ----------
    coords : array (n_users, 2)
    labels : array (n_users,) or SegmentResult
        With a SegmentResult whose mean silhouette is below .25, the title says the
        structure is weak (with the value).
    names : mapping segment -> str, optional
        Legend text (e.g. the ``label`` column of :func:`describe_segments`).
    """
    result = labels if hasattr(labels, "silhouette") and hasattr(labels, "k") else None
    labels = np.asarray(getattr(labels, "labels", labels))
    coords = _check_coords(coords, len(labels))
    fig, ax = _axes(ax)
    segs = np.unique(labels)
    palette = _palette(len(segs))
    ax.scatter(coords[:, 0], coords[:, 1], c=[palette[i] for i in np.searchsorted(segs, labels)], s=point_size,
               linewidths=0, alpha=0.8)
    for i, s in enumerate(segs):
        text = f"{s}" if names is None else f"{s}: {dict(names).get(s, s)}"
        ax.scatter([], [], c=[palette[i]], s=20, label=text)
    ax.legend(title="segment", fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    title = "Users by segment"
    if result is not None:
        sil = float(result.silhouette.get(result.k, np.nan))
        if sil < 0.25:  # Kaufman & Rousseeuw: below .25 there is no substantial structure
            title += f"\nweak structure: mean silhouette {sil:.2f} < 0.25, segments overlap"
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_silhouette(scores, chosen=None, ax=None):
    """Mean silhouette against k, the chosen k marked.

    ``scores`` is a SegmentResult or a Series indexed by k.
    """
    if hasattr(scores, "silhouette"):
        chosen = scores.k if chosen is None else chosen
        scores = scores.silhouette
    scores = pd.Series(scores).sort_index()
    fig, ax = _axes(ax, (6, 4))
    ax.plot(scores.index, scores.to_numpy(), marker="o")
    if chosen is not None and chosen in scores.index:
        ax.scatter([chosen], [scores[chosen]], s=120, facecolors="none", edgecolors="red", zorder=3,
                   label=f"chosen k = {chosen}")
        ax.legend(frameon=False)
    ax.set_xlabel("k (number of segments)")
    ax.set_ylabel("mean silhouette (sampled)")
    ax.set_title("Choosing k")
    return fig


def plot_genre_lift(lift, segment, top: int = 10, ax=None):
    """One segment's genre lift as bars growing from 1 (= as common as in the whole population).

    The axis is logarithmic and centred on 1, so ×0.8 and ×1.25 are equally far from it;
    blue = over-represented, red = under-represented. ``lift`` is the segments x genres
    frame of :func:`~filmrec_toolkit.genre_lift` (or ``describe_segments(...).attrs["genre_lift"]``);
    the ``top`` genres farthest from 1 are shown. :func:`plot_segment_lifts` shows every segment.
    """
    row = pd.DataFrame(lift).loc[segment].dropna()
    row = row[row > 0]
    row = row.reindex(np.log(row).abs().sort_values(ascending=False, kind="mergesort").index[:top])
    row = row.sort_values()
    fig, ax = _axes(ax, (6, 4))
    ax.barh(row.index.astype(str), row.to_numpy() - 1.0, left=1.0,
            color=["tab:blue" if v >= 1 else "tab:red" for v in row])
    ax.set_xscale("log")
    span = float(np.exp(np.abs(np.log(row.to_numpy())).max())) * 1.15 if len(row) else 2.0
    ax.set_xlim(1 / span, span)
    ax.axvline(1.0, color="black", linewidth=0.8)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"×{v:.2g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    for y, v in enumerate(row.to_numpy()):
        ax.text(v, y, f" ×{v:.2f} " if v >= 1 else f" ×{v:.2f} ", va="center", ha="left" if v >= 1 else "right",
                fontsize=7)
    ax.set_xlabel("lift vs all users (log scale, 1 = same as everyone)")
    ax.set_title(f"Segment {segment}: genres")
    return fig


def plot_segment_lifts(lift, names=None, p_values=None, alpha: float = 0.05, ax=None):
    """Every segment's genre lift as one heat map on a diverging scale centred on ×1.

    Colour = log2 lift (blue over-, red under-represented, white = as in the population);
    each cell shows its ×lift, greyed when ``p_values`` (segments x genres, e.g.
    ``describe_segments(...).attrs["genre_p"]``) is not below ``alpha``. ``names`` maps a
    segment to its label for the row names.
    """
    from matplotlib.colors import TwoSlopeNorm

    frame = pd.DataFrame(lift).astype(float)
    logs = np.log2(frame.where(frame > 0)).to_numpy()
    bound = float(np.nanmax(np.abs(logs))) if np.isfinite(logs).any() else 1.0
    bound = max(bound, 0.1)
    fig, ax = _axes(ax, (min(1.0 + 0.55 * frame.shape[1], 14), 1.2 + 0.45 * frame.shape[0]))
    im = ax.imshow(np.nan_to_num(logs, nan=0.0), cmap="RdBu", norm=TwoSlopeNorm(0.0, -bound, bound), aspect="auto")
    for i in range(frame.shape[0]):
        for j in range(frame.shape[1]):
            v = frame.iat[i, j]
            if np.isnan(v):
                continue
            weak = p_values is not None and not (pd.DataFrame(p_values).reindex_like(frame).iat[i, j] < alpha)
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6,
                    color="grey" if weak else ("white" if abs(logs[i, j]) > 0.6 * bound else "black"))
    ax.set_xticks(range(frame.shape[1]))
    ax.set_xticklabels(frame.columns.astype(str), rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(frame.shape[0]))
    ax.set_yticklabels([f"{s}: {dict(names).get(s, '')}" if names is not None else str(s) for s in frame.index],
                       fontsize=7)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    ticks = [t for t in (-2, -1, -0.5, 0, 0.5, 1, 2) if abs(t) <= bound]
    cbar.set_ticks(ticks)
    cbar.set_ticklabels([f"×{2 ** t:.2g}" for t in ticks])
    cbar.set_label("lift (log scale)", fontsize=7)
    ax.set_title("Genre lift of every segment (1 = as in the whole population"
                 + ("; grey numbers: not significant" if p_values is not None else "") + ")", fontsize=9)
    return fig


def plot_demographics(composition, segment, ax=None):
    """Segment share vs population share of each value of one attribute.

    ``composition`` is the long table of :func:`~filmrec_toolkit.demographic_composition`
    (or ``describe_segments(...).attrs["compositions"][attribute]``); suppressed cells are
    drawn empty and marked.
    """
    comp = pd.DataFrame(composition)
    comp = comp.loc[comp["segment"] == segment]
    if comp.empty:
        raise ValueError(f"segment={segment!r} is not in the composition table.")
    age_order = list(ML1M_AGE_LABELS.values())
    if set(comp["value"].astype(str)) <= set(age_order):  # age bands in age order, not alphabetical
        comp = comp.assign(_o=comp["value"].astype(str).map(age_order.index)).sort_values("_o")
    fig, ax = _axes(ax, (7, 4))
    x = np.arange(len(comp))
    ax.bar(x - 0.2, comp["population_share"], width=0.4, color="lightgrey", label="all users")
    ax.bar(x + 0.2, comp["share"].fillna(0.0), width=0.4, color="tab:blue", label=f"segment {segment}")
    for xi, sup in zip(x, comp["suppressed"]):
        if sup:
            ax.text(xi + 0.2, 0, "n<min", rotation=90, fontsize=6, ha="center", va="bottom")
    ax.set_xticks(x)
    ax.set_xticklabels(comp["value"].astype(str), rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("share of users")
    ax.legend(frameon=False)
    ax.set_title(f"Segment {segment}: composition")
    fig.tight_layout()
    return fig
