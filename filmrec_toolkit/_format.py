"""Numbers for people: significant figures, p-values and percentages, one way everywhere.

Used by the audit findings (sentences), the HTML templates (tables) and the widgets; a
leaf module (imports nothing of the package), so any layer may use it.
"""

from __future__ import annotations

import math

__all__ = ["format_number", "format_p", "format_percent"]


def format_number(value, digits: int = 3) -> str:
    """``digits`` significant figures, no exponent for everyday magnitudes (0.000123 stays plain)."""
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    mag = math.floor(math.log10(abs(v)))
    if mag >= digits or mag < -6:
        return f"{v:.{digits - 1}e}"
    decimals = max(digits - 1 - mag, 0)
    return f"{v:,.{decimals}f}".replace("-", "−")


def format_p(p, prefix: str = "p") -> str:
    """``p < 0.001`` below one in a thousand, else two significant figures (``p = 0.013``, ``p = 0.42``)."""
    try:
        v = float(p)
    except (TypeError, ValueError):
        return f"{prefix} = –"
    if math.isnan(v):
        return f"{prefix} = –"
    if v < 0.001:
        return f"{prefix} < 0.001"
    if v >= 0.995:
        return f"{prefix} = 1"
    text = f"{v:.2g}" if v < 0.1 else f"{v:.2f}"
    if (float(text) < 0.05) != (v < 0.05) or (float(text) < 0.01) != (v < 0.01):  # never round across a threshold
        text = f"{v:.3g}" if v >= 0.0495 or v < 0.0105 else f"{v:.4f}"
        if (float(text) < 0.05) != (v < 0.05):
            text = f"{v:.4f}"
    return f"{prefix} = {text}"


def format_percent(value, digits: int = 2, signed: bool = False) -> str:
    """A share as a percentage with ``digits`` significant figures (``0.0291 -> 2.9 %``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(v):
        return "–"
    pct = 100 * v
    if pct == 0:
        text = "0"
    else:
        mag = math.floor(math.log10(abs(pct)))
        decimals = max(digits - 1 - mag, 0)
        text = f"{abs(pct):.{decimals}f}"
    sign = ("+" if pct > 0 else "−" if pct < 0 else "±") if signed else ("−" if pct < 0 else "")
    return f"{sign}{text} %"
