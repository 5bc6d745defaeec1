"""Pure render functions: data in, an HTML string out (no widget, no state, no I/O).

The inspectors compose ipywidgets and call these; tests and static reports call them
directly. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import traceback
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "render_error", "render_genre_profile", "render_history", "render_kv", "render_notice",
    "render_recommendations", "render_segment", "render_table", "render_tabs", "render_side_by_side",
    "static_user_view", "static_segment_view", "static_wish_view",
]

_TABLE = ("style='border-collapse:collapse;font-size:12px;margin:2px 0'")
_TH = "style='text-align:left;border-bottom:1px solid #999;padding:2px 6px'"
_TD = "style='border-bottom:1px solid #eee;padding:2px 6px;vertical-align:top'"


def _fmt(value, digits: int = 3) -> str:
    """One cell as escaped text: lists joined, floats rounded, missing values blank."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index)):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return html.escape(", ".join(f"{k}: {_plain(v, digits)}" for k, v in value.items()))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        return html.escape(_plain(value, digits))
    return html.escape(str(value))


def _plain(value, digits: int = 3) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}g}" if abs(value) >= 1 else f"{float(value):.{digits}f}"
    return str(value)


def render_table(frame: pd.DataFrame, columns: Iterable[str] | None = None, max_rows: int | None = None,
                 css_class: str = "filmrec-table", digits: int = 3) -> str:
    """A small HTML table of ``frame`` (selected ``columns``, first ``max_rows`` rows)."""
    if frame is None or len(frame) == 0:
        return "<p><i>(empty)</i></p>"
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    rows = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th {_TH}>{html.escape(str(c))}</th>" for c in cols)
    columns = [rows[c].tolist() for c in cols]  # per column: ints stay ints (iterrows would upcast)
    body = "".join(
        "<tr>" + "".join(f"<td {_TD}>{_fmt(col[i], digits)}</td>" for col in columns) + "</tr>"
        for i in range(len(rows))
    )
    more = "" if max_rows is None or len(frame) <= max_rows else \
        f"<p style='font-size:11px;color:#666'>… {len(frame) - max_rows} more row(s)</p>"
    return f"<table class='{css_class}' {_TABLE}><tr>{head}</tr>{body}</table>{more}"


def render_kv(pairs: Mapping[str, object], title: str | None = None, digits: int = 3) -> str:
    """Key/value list as a two-column table, e.g. a list's diversity numbers."""
    rows = "".join(f"<tr><td {_TD}><b>{html.escape(str(k))}</b></td><td {_TD}>{_fmt(v, digits)}</td></tr>"
                   for k, v in pairs.items())
    head = f"<h4 style='margin:4px 0'>{html.escape(title)}</h4>" if title else ""
    return f"{head}<table class='filmrec-kv' {_TABLE}>{rows}</table>"


def render_notice(message: str, kind: str = "info") -> str:
    """A coloured one-paragraph notice (``kind`` in info / warning / error)."""
    colours = {"info": "#eef4fb", "warning": "#fff4e0", "error": "#fdecea"}
    return (f"<div class='filmrec-{kind}' style='background:{colours.get(kind, '#eee')};padding:6px;"
            f"border-radius:4px'>{html.escape(message)}</div>")


def render_error(exc: BaseException, context: str = "") -> str:
    """An exception as a visible error box: type, message and the last frames of its traceback."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-4:])
    where = f" while {html.escape(context)}" if context else ""
    return (f"<div class='filmrec-error' style='background:#fdecea;color:#611a15;padding:6px;border-radius:4px'>"
            f"<b>Error{where}: {html.escape(type(exc).__name__)}</b>: {html.escape(str(exc))}"
            f"<details><summary>traceback</summary><pre style='font-size:11px'>{html.escape(tb)}</pre>"
            f"</details></div>")


def render_history(history: pd.DataFrame, user_id, max_rows: int = 12) -> str:
    """A user's rated films (title, rating, genres), most recent first."""
    if history is None or len(history) == 0:
        return f"<h4>User {html.escape(str(user_id))}</h4><p><i>no ratings</i></p>"
    mean = float(history["rating"].mean()) if "rating" in history else float("nan")
    cols = [c for c in ("title", "rating", "genres") if c in history.columns]
    return (f"<h4 style='margin:4px 0'>User {html.escape(str(user_id))}: {len(history)} ratings, "
            f"mean {mean:.2f}</h4>" + render_table(history, cols, max_rows, "filmrec-history"))


def render_genre_profile(table: pd.DataFrame, max_rows: int = 6) -> str:
    """Top genres of a user vs the population: columns genre, user, population, lift."""
    if table is None or len(table) == 0:
        return "<p><i>no genre information</i></p>"
    return ("<h4 style='margin:4px 0'>Profile: top genres vs population</h4>"
            + render_table(table, ["genre", "user", "population", "lift"], max_rows, "filmrec-profile", 2))


def render_segment(row: Mapping | pd.Series | None, label=None, skip: Iterable[str] = ()) -> str:
    """One segment's description (a row of ``describe_segments``) as a key/value table."""
    if row is None:
        return "<p><i>no segment information</i></p>"
    row = dict(row)
    name = row.get("label", row.get("name", label))
    title = f"Segment {label}" + (f": {name}" if name is not None and name != label else "")
    shown = {k: v for k, v in row.items() if k not in set(skip) and not isinstance(v, pd.DataFrame)}
    frames = "".join(f"<h5 style='margin:4px 0'>{html.escape(str(k))}</h5>" + render_table(v, max_rows=8)
                     for k, v in row.items() if isinstance(v, pd.DataFrame) and k not in set(skip))
    return render_kv(shown, title) + frames


def render_recommendations(frame: pd.DataFrame, metrics: Mapping[str, object] | None = None,
                           title: str = "Recommendations") -> str:
    """A top-k list (rank, title, score, genres, explanation) with its list-level numbers."""
    cols = [c for c in ("rank", "title", "score", "genres", "explanation") if c in frame.columns]
    out = f"<h4 style='margin:4px 0'>{html.escape(title)}</h4>" + render_table(frame, cols, None, "filmrec-recs")
    if metrics:
        out += render_kv(metrics, "This list")
    return out


def render_tabs(panes: Mapping[str, str], group: str = "tabs") -> str:
    """Tabs that work in a static page with no script: one hidden radio button per pane.

    ``panes`` maps a tab label (escaped) to the pane's HTML (inserted as is: give it the
    output of the other ``render_*`` functions). ``group`` names the radio group; use a
    different one for each set of tabs on a page.
    """
    import re

    gid = "filmrec-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(group))
    rules, inputs, panels = [], [], []
    for i, (label, body) in enumerate(panes.items()):
        tid = f"{gid}-{i}"
        checked = " checked" if i == 0 else ""
        inputs.append(f"<input type='radio' name='{gid}' id='{tid}' class='filmrec-tab-input'{checked}>"
                      f"<label for='{tid}' class='filmrec-tab-label'>{html.escape(str(label))}</label>")
        panels.append(f"<div class='filmrec-tab-panel {tid}'>{body}</div>")
        rules.append(f"#{tid}:checked ~ .filmrec-tab-panels .{tid}{{display:block}}"
                     f"#{tid}:checked + label{{background:#fff;border-bottom-color:#fff;font-weight:600}}")
    style = ("<style>"
             f"#{gid} .filmrec-tab-input{{position:absolute;opacity:0;pointer-events:none}}"
             f"#{gid} .filmrec-tab-label{{display:inline-block;padding:4px 10px;margin:0 2px -1px 0;"
             "border:1px solid #ccc;border-radius:4px 4px 0 0;background:#f3f3f3;cursor:pointer;font-size:13px}"
             f"#{gid} .filmrec-tab-panels{{border:1px solid #ccc;padding:8px;max-width:100%;overflow-x:auto}}"
             f"#{gid} .filmrec-tab-panel{{display:none}}" + "".join(f"#{gid} {r}" if not r.startswith("#")
                                                                   else r for r in rules) + "</style>")
    return (f"<div class='filmrec-tabs' id='{gid}'>{style}{''.join(inputs)}"
            f"<div class='filmrec-tab-panels'>{''.join(panels)}</div></div>")


def render_side_by_side(left: str, right: str) -> str:
    """Two panes next to each other (they wrap below each other on a narrow page)."""
    cell = "style='flex:1 1 420px;min-width:0;overflow-x:auto'"
    return f"<div style='display:flex;flex-wrap:wrap;gap:12px'><div {cell}>{left}</div><div {cell}>{right}</div></div>"


def static_user_view(inspector, user_id, mmr: float = 0.5, model: str | None = None) -> str:
    """What the UserInspector shows for ``user_id``, as static HTML, with the list before and after MMR.

    Sets the inspector's user (its observers render history, profile and segment), then
    renders the same model's top-k at MMR λ = 1 (the model's order) and at ``mmr``, side by
    side, with their diversity and calibration numbers and the per-film explanations
    where the model gives them.
    """
    inspector.user.value = user_id
    name = model or inspector.model.value
    before, before_n = inspector.recommend(user_id, name, mmr=1.0)
    after, after_n = inspector.recommend(user_id, name, mmr=mmr)
    lists = render_side_by_side(
        render_recommendations(before, before_n, f"{name}: top {len(before)}, no re-ranking (MMR λ = 1)"),
        render_recommendations(after, after_n, f"{name}: after MMR re-ranking (λ = {mmr:g}, more diverse)"))
    return (render_side_by_side(inspector.history.value, inspector.profile.value + inspector.segment.value)
            + lists)


def static_wish_view(inspector, wishes: Iterable[str]) -> str:
    """The wish pane (cold-start recommendations from free text) for each of ``wishes``."""
    parts = []
    for wish in wishes:
        inspector.wish.value = wish
        parts.append(inspector.wish_results.value or inspector.error.value)  # a failure stays visible
    inspector.wish.value = ""
    return "".join(parts)


def static_segment_view(explorer, label) -> str:
    """What the SegmentExplorer shows for segment ``label`` (description, composition, films, export)."""
    explorer.segment.value = label
    return (render_side_by_side(explorer.description.value, explorer.films.value)
            + explorer.composition.value + explorer.export.value)
