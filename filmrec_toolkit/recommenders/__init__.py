"""Recommenders sharing one interface (fit / score / recommend), cold start and explanations."""

from .audience import (
    AudienceRecall,
    AudienceResult,
    UserActivity,
    audience_for,
    audience_recall_lift,
    audience_sentence,
    compare_audience_recall,
)
from .base import Recommender, count_differing_lists, default_chunk_size, topk_frame
from .cold_start import (
    genre_precision,
    load_wish_queries,
     recommend_for_profile,
    resolve_items,
    wish_genre_precision,
    wish_query,
)
from .content import ContentRecommender
from .content_to_cf import ContentToCF
from .ease import EASE
from .ease_side import EASESide
from .explain import Explanation, explain
from .hybrid import ContentAwareHybrid, Hybrid, normalize_scores
from .itemknn import ItemKNN, item_cosine_neighbors
from .mf import ALS, BPR
from .popularity import Popularity
from .standard import LM_HYBRID_GRIDS, STANDARD_MODEL_NAMES, standard_models

__all__ = [
    "Recommender", "default_chunk_size", "topk_frame", "count_differing_lists",
    "ContentRecommender", "ContentToCF", "Popularity", "ItemKNN", "item_cosine_neighbors", "EASE", "EASESide", "ALS", "BPR",
    "Hybrid", "ContentAwareHybrid", "normalize_scores",
    "recommend_for_profile", "resolve_items", "Explanation", "explain",
    "genre_precision", "load_wish_queries", "wish_genre_precision", "wish_query",
    "AudienceResult", "AudienceRecall", "UserActivity", "audience_for", "audience_recall_lift", "audience_sentence",
    "compare_audience_recall",
    "STANDARD_MODEL_NAMES", "LM_HYBRID_GRIDS", "standard_models",
]

_MOVED = {"tune_blend": "filmrec_toolkit.evaluation"}


def __getattr__(name: str):
    # tune_blend evaluates models, so it lives in the evaluation layer; the old path keeps working
    if name in _MOVED:
        import importlib

        from .._deprecation import warn_replaced

        warn_replaced(f"filmrec_toolkit.recommenders.{name}", f"{_MOVED[name]}.{name} (also ft.{name})",
                      "it moved to the evaluation layer")
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
