"""Shared widget plumbing: the root box, the error area, guarded observers."""

from __future__ import annotations

import functools
import logging

import ipywidgets as W

from .render import render_error

logger = logging.getLogger(__name__)


class InspectorBase:
    """Composition base: subclasses build ``self.root`` and call :meth:`_observe`.

    Every observer runs inside :meth:`_guarded`: an exception is shown in
    ``self.error`` (an HTML area inside the widget), stored in ``self.last_error_`` and
    logged with its traceback; a successful run clears the area. Nothing is swallowed.
    """

    root: W.Box

    def _init_errors(self) -> None:
        self.error = W.HTML(value="", layout=W.Layout(width="100%"))
        self.last_error_: BaseException | None = None

    def _guarded(self, fn, context: str):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # shown in the widget, logged, kept
                self.last_error_ = exc
                self.error.value = render_error(exc, context)
                logger.exception("error while %s", context)
                return None
            self.error.value = ""
            self.last_error_ = None
            return result

        return run

    def _observe(self, widget: W.Widget, fn, context: str) -> None:
        widget.observe(self._guarded(fn, context), names="value")

    # the widget displays as its root box; the text fallback (static reports) says what it is
    def _repr_mimebundle_(self, **kwargs):
        bundle = self.root._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict) and "text/plain" in bundle:
            bundle["text/plain"] = f"{self!r} (interactive: needs a live Jupyter kernel)"
        return bundle
