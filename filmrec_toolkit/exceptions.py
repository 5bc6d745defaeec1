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
    """Raised when a downloaded file does not match its pinned hash."""


def check_fitted(estimator, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet: call fit first."
        )


def check_positive_int(value, name: str) -> int:
    """Validate that ``value`` is an integer >= 1 and return it as ``int``."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{name} == {value}, must be >= 1.")
    return int(value)
