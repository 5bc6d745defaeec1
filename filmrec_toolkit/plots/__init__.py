"""plots."""

__all__: list[str] = []
