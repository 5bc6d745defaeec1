"""Interactive inspectors (ipywidgets). Imported lazily by the top-level package."""

__all__: list[str] = []
