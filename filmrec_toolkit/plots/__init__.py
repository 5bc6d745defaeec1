"""Matplotlib figures: every function takes ``ax=`` and returns the Figure."""

from . import audit, maps, report
from .audit import *  # noqa: F401,F403
from .maps import *  # noqa: F401,F403
from .report import *  # noqa: F401,F403

__all__ = [*maps.__all__, *audit.__all__, *report.__all__]
