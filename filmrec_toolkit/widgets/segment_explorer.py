"""``SegmentExplorer``: choose an audience segment, see who is in it, export it safely, find a film's audience."""

from __future__ import annotations

import logging

import ipywidgets as W
import numpy as np
import pandas as pd

from ..datasets.dataset import Dataset, ensure_dataset
from ._base import InspectorBase
from .render import render_kv, render_notice, render_segment, render_table

logger = logging.getLogger(__name__)

#: describe_segments columns shown as "representative films" (column -> heading)
FILM_COLUMNS = {"closest_films": "closest to the segment's taste", "most_watched": "most watched in the segment"}


class SegmentExplorer(InspectorBase):
    """Browse segments: description, demographic composition, representative films, export.

    Parameters
    ----------
    dataset : Dataset
        The users and ratings the segments were computed on.
    labels : array (user-vocabulary order)
        One segment label per user (``segment_users(...).labels_`` or equivalent).
    segments : DataFrame
        ``describe_segments(dataset, labels, embeddings)`` output, one row per segment.
    min_size : int
        Privacy guard passed to ``export_audience``: smaller segments are refused.
    include_ids : bool
        Initial value of the "include user ids" checkbox of the export.
    model : fitted Recommender, optional
        Enables the "audience for a film" panel (:func:`~filmrec_toolkit.audience_for`):
        describe a new film (needs a model with ``score_new_items``, e.g.
        ``ContentRecommender``) or name a catalogue film, and see which segments its
        predicted audience comes from. Fitted on ``dataset`` or a split of it.
    encoder : object with ``transform(list[str])``, optional
        The encoder of the model's item vectors (default ``TextEncoder()``).
    top_share : float
        Share of users kept as the film's audience.

    Attributes
    ----------
    segment, include_ids, new_film, new_genres, new_year, catalogue_film : the controls (set ``.value``
        from code or tests; genres and year are shown when the model uses them).
    description, composition, films, export, audience, error : ipywidgets.HTML panes.
    audience_ : AudienceResult or None
        The last computed audience.
    """

    def __init__(self, dataset: Dataset, labels, segments: pd.DataFrame, *, min_size: int = 50,
                 include_ids: bool = False, model=None, encoder=None, top_share: float = 0.05) -> None:
        self.dataset = ensure_dataset(dataset)
        self.labels = np.asarray(labels)
        if len(self.labels) != self.dataset.n_users:
            raise ValueError(f"labels has {len(self.labels)} entries but the dataset has {self.dataset.n_users} "
                             "users; pass one label per user in user-vocabulary order.")
        self.segments = segments
        self.min_size = min_size
        self.model = model
        self.encoder = encoder
        self.top_share = top_share
        self.audience_ = None
        self._init_errors()
        self.segment = W.Dropdown(description="segment", options=self._options())
        self.include_ids = W.Checkbox(description="include user ids in the export", value=include_ids)
        self.description = W.HTML()
        self.composition = W.HTML()
        self.films = W.HTML()
        self.export = W.HTML()
        self.new_film = W.Textarea(description="new film", placeholder="describe a new film: its plot, genre, tone",
                                   continuous_update=False, layout=W.Layout(width="70%", height="70px"))
        genres = sorted({g for gs in self.dataset.items.get("genres", pd.Series(dtype=object))
                         if isinstance(gs, (list, tuple, np.ndarray)) for g in gs})
        years = pd.to_numeric(self.dataset.items.get("year", pd.Series(dtype=float)), errors="coerce").dropna()
        self.new_genres = W.SelectMultiple(description="its genres", options=genres, rows=min(6, max(1, len(genres))))
        self.new_year = W.BoundedIntText(description="its year", min=1800, max=2100,
                                         value=int(years.median()) if len(years) else 2000)
        self.catalogue_film = W.Text(description="or a film", placeholder="title or item id from the catalogue",
                                     continuous_update=False, layout=W.Layout(width="70%"))
        self.audience = W.HTML()
        panel = [] if model is None else [
            W.HTML(f"<h4 style='margin:4px 0'>Audience for a film (top {top_share:.0%} of users by "
                   f"{getattr(model, 'name', type(model).__name__)})</h4>"),
            self.new_film, *([W.HBox([self.new_genres, self.new_year])] if self._uses_metadata() else []),
            self.catalogue_film, self.audience]
        self.root = W.VBox([
            W.HBox([self.segment, self.include_ids]), self.error,
            W.HBox([W.VBox([self.description], layout=W.Layout(width="45%")),
                    W.VBox([self.composition, self.films], layout=W.Layout(width="55%"))]),
            self.export, *panel,
        ])
        self._observe(self.segment, self._on_segment, "describing the segment")
        self._observe(self.include_ids, self._on_export, "exporting the audience")
        self._observe(self.new_film, self._on_new_film, "finding the new film's audience")
        self._observe(self.new_genres, self._on_new_film, "finding the new film's audience")
        self._observe(self.new_year, self._on_new_film, "finding the new film's audience")
        self._observe(self.catalogue_film, self._on_catalogue_film, "finding the film's audience")
        self._guarded(self._on_segment, "describing the segment")()

    def __repr__(self) -> str:
        return (f"SegmentExplorer({self.dataset.name!r}, {len(self.segments)} segments, "
                f"segment={self.segment.value!r}, min_size={self.min_size})")

    def _options(self) -> list[tuple[str, object]]:
        out = []
        for label in self.segments.index:
            row = self.segments.loc[label]
            name = row.get("label", row.get("name", ""))
            size = row.get("size", int((self.labels == label).sum()))
            out.append((f"{label}: {name} ({size} users)", label))
        return out

    # ------------------------------------------------------------------ queries
    def composition_table(self, label) -> pd.DataFrame:
        """Demographic composition of one segment vs the population (``describe_segments``' tables).

        Columns ``attribute, value, count, share, population_share, lift`` (suppressed cells,
        when ``describe_segments`` had ``min_cell``, stay NaN).
        """
        comps = self.segments.attrs.get("compositions", {})
        parts = []
        for attribute, table in comps.items():
            part = table.loc[table["segment"] == label].drop(columns="segment")
            parts.append(part.assign(attribute=attribute))
        if not parts:
            return pd.DataFrame()
        out = pd.concat(parts, ignore_index=True)
        cols = ["attribute", "value", "count", "share", "population_share", "lift"]
        return out[[c for c in cols if c in out.columns]]

    def export_frame(self, label):
        """The privacy-guarded export (``export_audience``); raises if the segment is too small."""
        from ..profiles import export_audience

        return export_audience(self.labels, label, min_size=self.min_size, include_ids=self.include_ids.value,
                               dataset=self.dataset)

    def _uses_metadata(self) -> bool:
        """Whether the model joins text with genres/year for new films (ContentToCF's default)."""
        import inspect

        fn = getattr(self.model, "score_new_items", None)
        if fn is None or "items" not in inspect.signature(fn).parameters:
            return False
        return getattr(self.model, "metadata_encoder_", None) is not None

    def audience_for(self, text: str | None = None, item=None):
        """:func:`~filmrec_toolkit.audience_for` with this explorer's model, labels and descriptions.

        For a new film, the "its genres" / "its year" controls are passed as ``metadata``
        when the model uses them.
        """
        from ..recommenders.audience import audience_for

        if self.model is None:
            raise ValueError("SegmentExplorer was built without model=; pass a fitted recommender "
                             "(e.g. model=ft.ContentToCF(embeddings).fit(train)) to find a film's audience.")
        metadata = None
        if text is not None and self._uses_metadata():
            metadata = {"genres": list(self.new_genres.value), "year": int(self.new_year.value)}
        return audience_for(self.model, text=text, item=item, metadata=metadata, labels=self.labels,
                            descriptions=self.segments, top_share=self.top_share, encoder=self.encoder)

    # ---------------------------------------------------------------- callbacks
    def _show_audience(self, result) -> None:
        self.audience_ = result
        label = self.segment.value
        row = result.segments.loc[result.segments["segment"] == label]
        note = ""
        if len(row):
            r = row.iloc[0]
            note = render_notice(f"Selected segment {label} ({r['description']}): {int(r['n'])} of the "
                                 f"{result.n_top} users of this audience ({r['share']:.0%} vs {r['population_share']:.0%} "
                                 f"of all users, lift ×{r['lift']:.2f}).", "info")
        table = render_table(result.segments, ["segment", "description", "n", "share", "population_share", "lift",
                                               "p_holm", "typical_lift"], max_rows=None)
        self.audience.value = (render_notice(result.sentence, "info") + note
                               + "<h5 style='margin:4px 0'>Audience by segment</h5>" + table)

    def _on_new_film(self, change=None) -> None:
        text = self.new_film.value.strip()
        if text:
            self._show_audience(self.audience_for(text=text))

    def _on_catalogue_film(self, change=None) -> None:
        film = self.catalogue_film.value.strip()
        if film:
            item = film
            if film not in self.model.item_vocab_ and film.lstrip("-").isdigit() and int(film) in self.model.item_vocab_:
                item = int(film)
            self._show_audience(self.audience_for(item=item))

    def _on_segment(self, change=None) -> None:
        label = self.segment.value
        if label is None:
            return
        row = self.segments.loc[label]
        skip = [k for k in row.index if k in FILM_COLUMNS]
        self.description.value = render_segment(row, label, skip=skip)
        comp = self.composition_table(label)
        self.composition.value = ("<h4 style='margin:4px 0'>Demographic composition</h4>"
                                  + render_table(comp, max_rows=20))
        films = {FILM_COLUMNS[k]: str(row[k]).replace(" | ", "; ") for k in FILM_COLUMNS
                 if k in row.index and str(row[k])}
        self.films.value = render_kv(films, "Representative films")
        self._on_export()
        if self.audience_ is not None:
            self._show_audience(self.audience_)

    def _on_export(self, change=None) -> None:
        label = self.segment.value
        try:
            exported = self.export_frame(label)
        except ValueError as exc:  # the privacy guard's refusal is an answer, not a crash
            self.export.value = render_notice(f"Export refused: {exc}", "warning")
            return
        if isinstance(exported, pd.DataFrame):
            body = render_table(exported, max_rows=10)
            size = int(exported["size"].iloc[0]) if "size" in exported.columns else len(exported)
        else:
            body = render_kv(dict(exported))
            size = dict(exported).get("size", "")
        self.export.value = f"<h4 style='margin:4px 0'>Audience export ({size} users)</h4>" + body
