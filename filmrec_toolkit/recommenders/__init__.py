"""Recommenders sharing one interface (fit / score / recommend)."""

from .base import Recommender, default_chunk_size, topk_frame

__all__ = ["Recommender", "default_chunk_size", "topk_frame"]
