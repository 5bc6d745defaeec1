"""Jinja2 templates of the static pages (audit, demo index) and the helpers that feed them.

Templates live next to this file (``*.html.j2``) and are rendered with autoescaping on:
any text from data is escaped; only tables built by :func:`format_frame` (pandas escapes
their cells) and figure data URIs are passed as safe markup.
"""

from __future__ import annotations

import base64
import io
import math
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd

from .._format import format_number, format_p, format_percent

__all__ = ["render", "format_frame", "format_value", "figure_data_uri", "PERCENT_COLUMNS"]

#: columns shown as percentages
PERCENT_COLUMNS = {"coverage", "relative", "exposure_share", "catalog_share", "interaction_share", "share",
                   "population_share", "aplt", "entropy_normalized", "mainstreaminess"}
_P_COLUMNS = {"p", "p_value", "p_holm", "pvalue"}


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("filmrec_toolkit", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True,
                                                   default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_number
    env.filters["pct"] = format_percent
    env.filters["pval"] = format_p
    return env


def render(template: str, **context) -> str:
    """Render one of the package's templates (autoescaped) with ``context``."""
    return _environment().get_template(template).render(**context)


def format_value(column: str, value) -> str:
    """One cell for people: 3 significant figures, percentages for shares, "< 0.001" for small p."""
    col = str(column)
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index)):
        return ", ".join(format_value(col, v) if isinstance(v, (float, np.floating)) else str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(col, v)}" for k, v in value.items())
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (int, np.integer)):
        return format_number(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return ""
        if col in _P_COLUMNS or col.endswith("_p"):
            return format_p(v).split(" ", 1)[1].replace("= ", "")
        if col in PERCENT_COLUMNS or col.startswith("hit@") or col.endswith("_share"):
            return format_percent(v, digits=3)
        return format_number(v)
    return str(value)


def format_frame(frame: pd.DataFrame | None, max_rows: int | None = None, css_class: str = "t"):
    """An HTML table of ``frame`` for people, as safe markup (cells escaped by pandas).

    Index levels that carry information become columns; rows flagged ``small`` get
    "too small to compare" and cells of rows flagged ``suppressed`` read "suppressed".
    """
    from markupsafe import Markup

    if frame is None or len(frame) == 0:
        return Markup("<p><i>(empty)</i></p>")
    f = frame
    if not isinstance(f.index, pd.RangeIndex):
        f = f.reset_index()
    if max_rows is not None:
        f = f.head(max_rows)
    shown = pd.DataFrame({c: [format_value(c, v) for v in f[c].tolist()] for c in f.columns}, index=f.index)
    if "small" in f.columns:
        shown["small"] = ["n < 20: not compared" if bool(v) else "" for v in f["small"].tolist()]
    if "suppressed" in f.columns:
        sup = f["suppressed"].fillna(False).astype(bool).to_numpy()
        for c in f.columns:
            if c == "suppressed":
                continue
            missing = f[c].isna().to_numpy() & sup
            shown.loc[missing, c] = "suppressed"
        shown["suppressed"] = ["suppressed (small cell)" if s else "" for s in sup]
    html = shown.to_html(index=False, border=0, classes=css_class, escape=True, na_rep="")
    return Markup(f"<div class='scroll'>{html}</div>")


def figure_data_uri(figure, dpi: int = 100) -> str:
    """A matplotlib Figure (or PNG bytes, or an existing data URI) as a ``data:image/png;base64`` URI.

    Figures made through ``pyplot`` are closed after encoding.
    """
    if isinstance(figure, str) and figure.startswith("data:image/"):
        return figure
    if isinstance(figure, (bytes, bytearray)):
        data = bytes(figure)
    else:
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        data = buf.getvalue()
        try:
            import matplotlib.pyplot as plt

            plt.close(figure)
        except Exception:  # a Figure outside pyplot's registry needs no closing
            pass
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def nav_items(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in items]
