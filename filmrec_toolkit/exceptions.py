"""Exception types shared across the package."""

from __future__ import annotations


class NotFittedError(RuntimeError, AttributeError):
    """Raised when an estimator is used before ``fit``."""


class UnknownIdError(KeyError):
    """Raised when a user or item id is not in a vocabulary.

    ``str()`` gives the full message (``KeyError`` would add quotes).
    """

    def __str__(self) -> str:  # pragma: no cover - trivial
        return str(self.args[0]) if self.args else ""


class ChecksumError(ValueError):
    """Raised when a downloaded or cached file does not match its pinned hash, or is damaged."""


class UnsafeFileError(ValueError):
    """Raised when a file would need pickle (which can run code) to be read; it is never loaded."""


def check_fitted(estimator, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet: call fit first."
        )


def check_positive_int(value, name: str, example: int = 1) -> int:
    """Validate that ``value`` is an integer >= 1 and return it as ``int``.

    The error names the parameter, the value received, the valid range and an example.
    """
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r} ({type(value).__name__}); "
                        f"e.g. {name}={example}.")
    if value < 1:
        raise ValueError(f"{name} == {value}, must be >= 1: give an integer >= 1, e.g. {name}={example}.")
    return int(value)


def check_frame(frame, columns, param: str, hint: str = ""):
    """Raise unless ``frame`` is a DataFrame with every name in ``columns``; return it.

    The message names the parameter, the missing columns and the columns it has.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{param} must be a pandas DataFrame with columns {list(columns)}, "
                        f"got {type(frame).__name__}.{(' ' + hint) if hint else ''}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{param} is missing column(s) {missing}; it has {list(frame.columns)}."
                         f"{(' ' + hint) if hint else ''}")
    return frame
