"""Pure metric functions: accuracy, beyond-accuracy, calibration, fairness statistics."""

from . import accuracy, beyond, calibration, fairness
from .accuracy import *  # noqa: F401,F403
from .beyond import *  # noqa: F401,F403
from .calibration import *  # noqa: F401,F403
from .fairness import *  # noqa: F401,F403

__all__ = [*accuracy.__all__, *beyond.__all__, *calibration.__all__, *fairness.__all__]
