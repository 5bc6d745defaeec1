"""Placeholder replaced by its issue's work."""

__all__: list[str] = []
