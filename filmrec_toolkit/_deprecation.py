"""Deprecations: the one way the package keeps an old name working with a ``FutureWarning``.

* :func:`deprecated_alias` — an old function name that calls the new one;
* :func:`warn_replaced` — an old function, method or import path kept as a shim that
  forwards to its replacement;
* :func:`renamed_argument` — an old keyword argument spelling (given as its own parameter
  with default ``None``, or collected by ``**kwargs`` and read with
  :func:`pop_renamed_kwarg`).

Every warning has the form ``"<old> is deprecated (<reason>); use <new>."`` so that it says
what changed, why, and what to write instead.
"""

from __future__ import annotations

import functools
import warnings
from typing import Callable, MutableMapping

__all__ = ["deprecated_alias", "pop_renamed_kwarg", "renamed_argument", "warn_replaced"]

#: Marks "the old spelling was not given" (``None`` can be a real value of some parameters).
NOT_GIVEN = type("NotGiven", (), {"__repr__": lambda self: "NOT_GIVEN", "__bool__": lambda self: False})()


def deprecated_alias(new: Callable, old_name: str, reason: str) -> Callable:
    """A function named ``old_name`` that warns (``FutureWarning``) and calls ``new``.

    Parameters
    ----------
    new : callable
        The function to call.
    old_name : str
        The deprecated name (the alias's ``__name__``).
    reason : str
        Why the name changed, e.g. ``"its name did not say its denominator"``.

    Examples
    --------
    >>> def area(r): return 3 * r * r
    >>> surface = deprecated_alias(area, "surface", "a clearer name")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     surface(2), str(w[0].message)
    (12, 'surface is deprecated (a clearer name); use area (same result).')
    """
    @functools.wraps(new)
    def alias(*args, **kwargs):
        warnings.warn(f"{old_name} is deprecated ({reason}); use {new.__name__} (same result).",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"Deprecated alias of :func:`{new.__name__}` (same result, a FutureWarning)."
    return alias


def renamed_argument(owner: str, old_name: str, old_value, new_name: str, new_value, *, default, reason: str,
                     stacklevel: int = 3):
    """The value of a renamed keyword argument; the old spelling still works, with a ``FutureWarning``.

    Parameters
    ----------
    owner : str
        The function or class whose argument was renamed (``"segment_users"``).
    old_name, new_name : str
        The old and new spellings.
    old_value
        What was passed under the old spelling; ``None`` or :data:`NOT_GIVEN` = not given.
    new_value
        What was passed under the new spelling.
    default
        The new spelling's default: both spellings given with different values raises.
    reason : str
        Why the name changed.
    stacklevel : int
        Of the warning; 3 points at the caller of the function that calls this one.

    Returns
    -------
    ``new_value`` when the old spelling was not given, else ``old_value``.

    Raises
    ------
    ValueError
        Both spellings were given, with different values.
    """
    if old_value is None or old_value is NOT_GIVEN:
        return new_value
    warnings.warn(f"{owner}({old_name}=...) is deprecated ({reason}); use {new_name}=.",
                  FutureWarning, stacklevel=stacklevel)
    if new_value != default and new_value != old_value:
        raise ValueError(f"{owner} got both {old_name}={old_value!r} and {new_name}={new_value!r}; "
                         f"give only {new_name}.")
    return old_value


def pop_renamed_kwarg(owner: str, kwargs: MutableMapping, old_name: str):
    """Take the old spelling ``old_name`` out of ``**kwargs`` (:data:`NOT_GIVEN` if absent).

    Any other keyword left in ``kwargs`` is refused, as Python would refuse it.

    Raises
    ------
    TypeError
        ``kwargs`` holds a keyword other than ``old_name``.
    """
    unknown = sorted(set(kwargs) - {old_name})
    if unknown:
        raise TypeError(f"{owner}() got unexpected keyword argument(s) {unknown}.")
    return kwargs.pop(old_name, NOT_GIVEN)


def warn_replaced(old: str, new: str, reason: str = "", *, stacklevel: int = 2) -> None:
    """Warn (``FutureWarning``) that the shim ``old`` will be removed and ``new`` replaces it.

    The message is ``"<old> is deprecated and will be removed (<reason>); use <new>."``;
    ``stacklevel`` counts from the shim that calls this (2: the shim's caller).
    """
    why = f" ({reason})" if reason else ""
    warnings.warn(f"{old} is deprecated and will be removed{why}; use {new}.", FutureWarning,
                  stacklevel=stacklevel + 1)
