"""``SegmentExplorer``: choose an audience segment, see who is in it, export it safely."""

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

    Attributes
    ----------
    segment, include_ids : the controls (set ``.value`` from code or tests).
    description, composition, films, export, error : ipywidgets.HTML panes.
    """

    def __init__(self, dataset: Dataset, labels, segments: pd.DataFrame, *, min_size: int = 50,
                 include_ids: bool = False) -> None:
        self.dataset = ensure_dataset(dataset)
        self.labels = np.asarray(labels)
        if len(self.labels) != self.dataset.n_users:
            raise ValueError(f"labels has {len(self.labels)} entries but the dataset has {self.dataset.n_users} "
                             "users; pass one label per user in user-vocabulary order.")
        self.segments = segments
        self.min_size = min_size
        self._init_errors()
        self.segment = W.Dropdown(description="segment", options=self._options())
        self.include_ids = W.Checkbox(description="include user ids in the export", value=include_ids)
        self.description = W.HTML()
        self.composition = W.HTML()
        self.films = W.HTML()
        self.export = W.HTML()
        self.root = W.VBox([
            W.HBox([self.segment, self.include_ids]), self.error,
            W.HBox([W.VBox([self.description], layout=W.Layout(width="45%")),
                    W.VBox([self.composition, self.films], layout=W.Layout(width="55%"))]),
            self.export,
        ])
        self._observe(self.segment, self._on_segment, "describing the segment")
        self._observe(self.include_ids, self._on_export, "exporting the audience")
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

    # ---------------------------------------------------------------- callbacks
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
