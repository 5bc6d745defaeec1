"""``embed_items``: documents + encoder + cache -> :class:`ItemEmbeddings` in vocabulary order."""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ..datasets.dataset import Dataset, ensure_dataset
from .cache import EmbeddingCache, text_sha256
from .documents import DEFAULT_FIELDS, build_item_documents
from .embeddings import ItemEmbeddings
from .encoder import TextEncoder

logger = logging.getLogger(__name__)


def embed_items(
    dataset: Dataset,
    encoder=None,
    cache: EmbeddingCache | bool | None = True,
    documents: Sequence[str] | None = None,
    fields: Sequence[str] = DEFAULT_FIELDS,
    show_progress: bool = False,
) -> ItemEmbeddings:
    """Embed every item of ``dataset`` and return the vectors aligned to its item vocabulary.

    Parameters
    ----------
    dataset : Dataset
    encoder : TextEncoder, TfidfEncoder, GenreEncoder, optional
        Default ``TextEncoder()`` (all-MiniLM-L6-v2 from the offline pack). A TextEncoder
        that is not fitted yet is loaded here. Baselines (``TfidfEncoder``, ``GenreEncoder``)
        are fitted on this catalogue and never cached.
    cache : EmbeddingCache, True, False or None
        ``True`` (default): ``EmbeddingCache()`` under the data home; ``None``/``False``: no
        cache. Only texts whose sha256 is not cached for this encoder key are encoded.
    documents : sequence of str, optional
        One text per item in vocabulary order; default ``build_item_documents(dataset, fields)``.
    fields : sequence of str
        Passed to :func:`build_item_documents` when ``documents`` is not given.
    show_progress : bool
        ``tqdm.auto`` progress while encoding.

    Returns
    -------
    ItemEmbeddings
        ``matrix`` (n_items, d) float32, L2-normalised; ``item_ids`` = ``dataset.item_ids``;
        ``model_id``; ``text_hashes`` (sha256 per row); ``meta`` (pooling, max_length,
        postprocess, fingerprint, and the cache's ``n_encoded``/``n_cached``);
        ``transform_state`` (the fitted post-processing arrays, if any).

    Notes
    -----
    The cache holds raw pooled vectors; ``postprocess`` ("center"/"whiten") is fitted here on
    the whole catalogue's raw vectors and then applied, so it is stored with the returned
    embeddings (``transform_state``, ``meta["postprocess"]``) rather than in the cache key.
    """
    dataset = ensure_dataset(dataset)
    if documents is None:
        documents = build_item_documents(dataset, fields=fields)
    documents = list(documents)
    if len(documents) != dataset.n_items:
        raise ValueError(f"documents has {len(documents)} texts but the dataset has {dataset.n_items} items; "
                         "pass one text per item in vocabulary order (build_item_documents(dataset)).")
    hashes = np.asarray([text_sha256(str(t)) for t in documents], dtype="U64")
    if encoder is None:
        encoder = TextEncoder(show_progress=show_progress)

    if hasattr(encoder, "embed_dataset"):  # baselines fitted on this catalogue, never cached
        emb = encoder.embed_dataset(dataset, documents)
        emb.text_hashes = hashes
        return emb
    if not (hasattr(encoder, "encode_raw") and hasattr(encoder, "finalize")):
        raise TypeError(f"encoder must be a TextEncoder, TfidfEncoder or GenreEncoder (or offer embed_dataset / "
                        f"encode_raw + finalize), got {type(encoder).__name__}.")
    if not hasattr(encoder, "model_"):
        encoder.fit()

    if cache is True:
        cache = EmbeddingCache()
    if cache is None or cache is False:
        raw = encoder.encode_raw(documents, show_progress=show_progress)
        stats = {"n_texts": len(documents), "n_cached": 0, "n_encoded": len(documents)}
    elif isinstance(cache, EmbeddingCache):
        raw = cache.encode(encoder, documents, show_progress=show_progress)
        stats = {k: v for k, v in cache.last_stats_.items() if k != "directory"}
    else:
        raise TypeError(f"cache must be an EmbeddingCache, True, False or None, got {type(cache).__name__}.")

    state = None
    if encoder.postprocess_ is not None:
        encoder.fit_postprocess(raw)
        state = encoder.postprocessor_.state()
    matrix = encoder.finalize(raw)
    meta = {**encoder.cache_key(), "postprocess": encoder.postprocess_, "normalize": bool(encoder.normalize),
            "n_items": dataset.n_items, **stats}
    return ItemEmbeddings(matrix, dataset.item_ids, encoder.model_id_, hashes, meta, state)
