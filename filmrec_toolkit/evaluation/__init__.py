"""Evaluation: full-ranking evaluate() and protocol helpers."""

__all__: list[str] = []
