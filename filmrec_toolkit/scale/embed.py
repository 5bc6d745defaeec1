"""Item-text embedding on a Dask cluster, landing in the usual :class:`EmbeddingCache`.

The texts that the cache does not hold yet are cut into batches; each worker process
loads the encoder once (a process-local registry keyed by the encoder's class and
parameters) and returns raw pooled vectors. The client then hands those vectors to
:func:`filmrec_toolkit.features.embed_items`, which writes them to the cache in its own
chunk format and applies the catalogue-level post-processing, so the result -- and the
cache on disk -- are what the in-process ``embed_items`` produces.
"""

from __future__ import annotations

import inspect
import logging
from typing import Sequence

import numpy as np

from ..datasets.dataset import Dataset
from ..exceptions import check_positive_int
from ..features import DEFAULT_FIELDS, EmbeddingCache, ItemEmbeddings, TextEncoder, build_item_documents, embed_items
from ..features.cache import text_sha256
from .cluster import ensure_client

logger = logging.getLogger(__name__)

__all__ = ["embed_items_distributed"]

#: Encoders loaded in this (worker) process, keyed by class and parameters.
_WORKER_ENCODERS: dict[tuple, object] = {}


def _encoder_params(encoder) -> dict:
    sig = inspect.signature(type(encoder).__init__)
    return {p: getattr(encoder, p) for p in sig.parameters if p != "self" and hasattr(encoder, p)}


def _worker_encoder(cls, params: dict):
    """The encoder for ``(cls, params)`` in this process, loaded on first use."""
    key = (cls.__module__, cls.__qualname__, repr(sorted(params.items())))
    enc = _WORKER_ENCODERS.get(key)
    if enc is None:
        params = dict(params)
        if "num_threads" in params and params["num_threads"] is None:
            try:  # as many torch threads as the worker has task threads, not every core
                from distributed import get_worker

                params["num_threads"] = int(get_worker().state.nthreads)
            except (ImportError, ValueError):
                pass
        if "show_progress" in params:
            params["show_progress"] = False
        enc = cls(**params)
        enc.fit()
        _WORKER_ENCODERS[key] = enc
    return enc


def _encode_batch(cls, params: dict, texts: list[str]) -> tuple[dict, np.ndarray]:
    """Worker task: the cache key of the worker's encoder and the raw vectors of ``texts``."""
    enc = _worker_encoder(cls, params)
    return enc.cache_key(), np.asarray(enc.encode_raw(texts, show_progress=False), dtype=np.float32)


class _Precomputed:
    """The fitted encoder, except that ``encode_raw`` returns vectors computed on the cluster."""

    def __init__(self, encoder, table: dict[str, np.ndarray]) -> None:
        self._encoder = encoder
        self._table = table

    def encode_raw(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, int(self._encoder.dim_)), dtype=np.float32)
        return np.stack([self._table[text_sha256(str(t))] for t in texts])

    def __getattr__(self, name):
        return getattr(self._encoder, name)


def embed_items_distributed(data: Dataset | Sequence[str], encoder=None, client=None, *,
                            cache: EmbeddingCache | bool | None = True, fields: Sequence[str] = DEFAULT_FIELDS,
                            batch_size: int | None = None, show_progress: bool = False):
    """Embed item texts on a Dask cluster; same result and cache as ``embed_items``.

    Parameters
    ----------
    data : Dataset or sequence of str
        A Dataset (its items are embedded as ``build_item_documents(data, fields)``, in
        vocabulary order) or the documents themselves.
    encoder : TextEncoder-like, optional
        Default ``TextEncoder()``. It must be rebuildable from its ``__init__`` parameters
        on the workers (any class importable there); each worker process loads it once
        and keeps it for later calls. The client loads it too, for the cache key and the
        catalogue-level post-processing. Baselines fitted on the catalogue
        (``TfidfEncoder``, ``GenreEncoder``) run in-process (nothing to distribute).
    client : distributed.Client, optional
        Default: the current client.
    cache : EmbeddingCache, True, False or None
        As in ``embed_items``: only texts missing from the cache are sent to the workers,
        and their vectors are written to it in the same chunk files.
    fields : sequence of str
        Document fields when ``data`` is a Dataset.
    batch_size : int, optional
        Texts per task (default: the cache's ``chunk_size``, else 512).
    show_progress : bool
        Progress bar over finished batches.

    Returns
    -------
    ItemEmbeddings (for a Dataset) or ndarray (n_texts, d) float32 (for documents),
    post-processed and normalised as ``encoder.transform`` would.
    """
    client = ensure_client(client)
    if isinstance(data, Dataset):
        dataset, documents = data, [str(t) for t in build_item_documents(data, fields=fields)]
    elif isinstance(data, str):
        raise TypeError("data must be a Dataset or a sequence of texts, got a single str; wrap it in a list.")
    else:
        dataset, documents = None, [str(t) for t in data]
    if encoder is None:
        encoder = TextEncoder(show_progress=False)
    if hasattr(encoder, "embed_dataset"):
        if dataset is None:
            raise TypeError(f"{type(encoder).__name__} is fitted on a catalogue; pass a Dataset, not documents.")
        return embed_items(dataset, encoder, cache=cache, documents=documents, show_progress=show_progress)
    if not (hasattr(encoder, "encode_raw") and hasattr(encoder, "cache_key")):
        raise TypeError(f"encoder must be a TextEncoder-like object (encode_raw, cache_key, finalize), "
                        f"got {type(encoder).__name__}.")
    if not hasattr(encoder, "model_"):
        encoder.fit()
    if cache is True:
        cache = EmbeddingCache()
    key = encoder.cache_key()
    cached = cache.load(key, int(encoder.dim_))[0] if isinstance(cache, EmbeddingCache) else {}
    todo: dict[str, str] = {}
    for text in documents:
        h = text_sha256(text)
        if h not in cached and h not in todo:
            todo[h] = text
    del cached
    batch = batch_size or (cache.chunk_size if isinstance(cache, EmbeddingCache) else 512)
    batch = check_positive_int(batch, "batch_size")
    pending = list(todo.values())
    cls, params = type(encoder), _encoder_params(encoder)
    futures = [client.submit(_encode_batch, cls, params, pending[s:s + batch], pure=False)
               for s in range(0, len(pending), batch)]
    logger.info("embed_items_distributed: %d texts, %d to encode in %d tasks", len(documents), len(pending),
                len(futures))
    if show_progress and futures:
        from distributed import as_completed
        from tqdm.auto import tqdm

        for _ in tqdm(as_completed(futures), total=len(futures), desc="encoding (dask)", unit="batch"):
            pass
    table: dict[str, np.ndarray] = {}
    for s, (worker_key, vectors) in zip(range(0, len(pending), batch), client.gather(futures)):
        if worker_key != key:
            raise RuntimeError(f"a worker's encoder has cache key {worker_key} but this process has {key}: the "
                               "workers load other model files; install the same model on every worker.")
        for text, vec in zip(pending[s:s + batch], vectors):
            table[text_sha256(text)] = vec
    proxy = _Precomputed(encoder, table)
    if dataset is not None:
        emb: ItemEmbeddings = embed_items(dataset, proxy, cache=cache, documents=documents)
        return emb
    if isinstance(cache, EmbeddingCache):
        raw = cache.encode(proxy, documents)
    else:
        raw = proxy.encode_raw(documents)
    if getattr(encoder, "postprocess_", None) is not None:
        encoder.fit_postprocess(raw)
    return encoder.finalize(raw)
