"""Item features: documents, text encoders, embedding cache, TF-IDF and genre baselines."""

from .embeddings import ItemEmbeddings, l2_normalize

__all__ = ["ItemEmbeddings", "l2_normalize"]
