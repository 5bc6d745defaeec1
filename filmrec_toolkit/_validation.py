"""Parameter checks with messages that name the parameter, the value, the valid range and a fix.

Bounds and types are checked by :func:`sklearn.utils.check_scalar`; on top of it these
helpers refuse what it lets through for hyper-parameters: ``nan`` and ``inf`` (every
comparison with ``nan`` is false, so it passes any bound), booleans given for numbers,
and strings given for numbers. Estimators call them at ``fit`` (and at use where a
parameter is read again after fitting), never in ``__init__``.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

from sklearn.utils import check_scalar

__all__ = ["check_number", "check_option", "check_bool", "check_k"]


def _range_text(integer: bool, low, high, low_open: bool, high_open: bool) -> str:
    what = "an integer" if integer else "a finite number"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    return what + (" " + " and ".join(parts) if parts else "")


def check_number(value, name: str, *, integer: bool = False, low=None, high=None, low_open: bool = False,
                 high_open: bool = False, example: str = "", allow_none: bool = False):
    """Validate a scalar hyper-parameter and return it as ``int`` / ``float`` (or None).

    Parameters
    ----------
    value : object
        The value received.
    name : str
        The parameter's name, as the user spells it.
    integer : bool
        Require an integer (``numbers.Integral``, not ``bool``); else any finite real.
    low, high : number, optional
        Bounds; ``low_open`` / ``high_open`` exclude them.
    example : str
        A call that works, shown after "e.g." (``"EASE(l2=500.0)"``).
    allow_none : bool
        Accept ``None`` (returned as is).

    Raises
    ------
    TypeError
        Wrong type (a string, a bool, a float where an integer is needed).
    ValueError
        ``nan``, ``inf`` or out of range.
    """
    if value is None and allow_none:
        return None
    valid = _range_text(integer, low, high, low_open, high_open)
    if allow_none:
        valid = "None or " + valid
    hint = f"; e.g. {example}" if example else ""
    target = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, target):
        raise TypeError(f"{name} must be {valid}, got {value!r} ({type(value).__name__}){hint}.")
    if not integer and not math.isfinite(float(value)):
        raise ValueError(f"{name} == {value!r}, must be {valid}{hint}.")
    bounds = "both" if not (low_open or high_open) else (
        "neither" if (low_open and high_open) else ("right" if low_open else "left"))
    if bounds in ("left", "right") and (low is None or high is None):
        bounds = "neither" if (low_open or high_open) else "both"  # an open side with no bound: not checked
    try:
        check_scalar(value, name, target, min_val=low, max_val=high, include_boundaries=bounds)
    except ValueError:
        raise ValueError(f"{name} == {value!r}, must be {valid}{hint}.") from None
    return int(value) if integer else float(value)


def check_option(value, name: str, options: Sequence, example: str = ""):
    """Validate that ``value`` is one of ``options`` (compared with ``==``, type included)."""
    hint = f"; e.g. {example}" if example else ""
    if not any(type(value) is type(o) and value == o for o in options):
        raise ValueError(f"{name} == {value!r}, must be one of {list(options)}{hint}.")
    return value


def check_bool(value, name: str, example: str = "") -> bool:
    """Validate a flag: ``True`` / ``False`` (numpy booleans too)."""
    import numpy as np

    hint = f"; e.g. {example}" if example else ""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}){hint}.")
    return bool(value)


def check_k(k, name: str = "k", *, allow_none: bool = False, example: int = 10):
    """Validate a list length ``k`` (an integer >= 1, or None where the whole list is meant).

    The one check of ``k`` in the package (metrics, re-rankers, audits, neighbours, cold
    start); messages in the style of :func:`sklearn.utils.check_scalar`, e.g.
    ``"k == 0, must be an integer >= 1; e.g. k=10."``.

    Parameters
    ----------
    k : object
        The value received.
    name : str
        The parameter's name (``"k"``, ``"n"``, ...).
    allow_none : bool
        Accept ``None`` (returned as is), for "no cut-off".
    example : int
        Shown in the fix, ``e.g. k=10``.

    Returns
    -------
    int or None
    """
    return check_number(k, name, integer=True, low=1, example=f"{name}={example}", allow_none=allow_none)
