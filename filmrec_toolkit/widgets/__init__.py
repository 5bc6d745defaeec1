"""Interactive inspectors (ipywidgets). Imported lazily by the top-level package.

The only subpackage that imports ipywidgets. Each inspector is a plain class that
composes widgets, renders with the pure functions of :mod:`.render` and displays as its
root box; errors raised inside callbacks are shown in the widget's error area.
"""

from .segment_explorer import SegmentExplorer
from .user_inspector import UserInspector

__all__ = ["SegmentExplorer", "UserInspector"]
