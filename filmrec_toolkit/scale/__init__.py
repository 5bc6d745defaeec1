"""Scale-out on Dask (extra `scale`). Imported lazily by the top-level package."""

__all__: list[str] = []
