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
from .base import Recommender, default_chunk_size, topk_frame
from .cold_start import recommend_for_profile, resolve_items
from .content import ContentRecommender
from .content_to_cf import ContentToCF
from .ease import EASE
from .explain import Explanation, explain
from .hybrid import ContentAwareHybrid, Hybrid, normalize_scores
from .itemknn import ItemKNN, item_cosine_neighbors
from .mf import ALS, BPR
from .popularity import Popularity

__all__ = [
    "Recommender", "default_chunk_size", "topk_frame",
    "ContentRecommender", "ContentToCF", "Popularity", "ItemKNN", "item_cosine_neighbors", "EASE", "ALS", "BPR",
    "Hybrid", "ContentAwareHybrid", "normalize_scores",
    "recommend_for_profile", "resolve_items", "Explanation", "explain",
    "AudienceResult", "AudienceRecall", "UserActivity", "audience_for", "audience_recall_lift", "audience_sentence",
    "compare_audience_recall",
]
