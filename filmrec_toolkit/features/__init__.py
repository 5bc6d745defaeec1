"""Item features: documents, text encoders, embedding cache, TF-IDF and genre baselines."""

from .baselines import GenreEncoder, TfidfEncoder
from .cache import EmbeddingCache, text_sha256
from .combine import MetadataEncoder, concat_embeddings, item_metadata_features
from .diagnostics import (
    choose_document,
    co_rating_neighbors,
    compare_documents,
    document_diagnostics,
    document_sentences,
    genre_agreement,
    nearest_neighbors,
    neighbor_overlap,
    same_value_rate,
)
from .documents import DEFAULT_FIELDS, DOCUMENT_TEMPLATES, build_item_documents
from .embeddings import ItemEmbeddings, l2_normalize
from .encoder import PRESETS, TextEncoder, convert_smollm2, default_model_path, fingerprint_model, pool_hidden_states
from .items import embed_items
from .overviews import attach_overviews, load_tmdb_overviews, normalize_title, overview_coverage
from .postprocess import EmbeddingPostprocessor
from .similar import resolve_item, similar_items

__all__ = [
    "DEFAULT_FIELDS", "DOCUMENT_TEMPLATES", "PRESETS", "EmbeddingCache", "EmbeddingPostprocessor", "GenreEncoder",
    "ItemEmbeddings", "choose_document", "co_rating_neighbors", "compare_documents", "document_diagnostics",
    "document_sentences", "genre_agreement", "nearest_neighbors", "neighbor_overlap", "same_value_rate",
    "MetadataEncoder", "concat_embeddings", "item_metadata_features",
    "TextEncoder", "TfidfEncoder", "attach_overviews", "build_item_documents", "convert_smollm2",
    "default_model_path", "embed_items", "fingerprint_model", "l2_normalize", "load_tmdb_overviews",
    "normalize_title", "overview_coverage", "pool_hidden_states", "resolve_item", "similar_items", "text_sha256",
]
