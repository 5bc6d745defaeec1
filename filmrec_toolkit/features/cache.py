"""``EmbeddingCache``: raw text vectors on disk, keyed by model and by the exact text.

Layout (under ``<data home>/embeddings`` unless ``path`` is given)::

    <slug>-<keyhash>/key.json            # the encoder's cache_key(): model, weights fingerprint,
                                         # pooling, max_length, dtype
    <slug>-<keyhash>/chunk-*.npz         # hashes (sha256 of each text) + float32 vectors + checksum

Every chunk is written atomically (``filmrec_toolkit._io``), so a run killed mid-way leaves only
complete chunks: the next run reuses them and encodes the rest. A chunk that cannot be read
or whose checksum does not match is logged, moved aside to ``*.corrupt`` and its texts are
encoded again: it is never used.

The cache stores *raw* pooled vectors (before ``postprocess`` and normalisation). Centring
and whitening are fitted on the whole catalogue and applied after reading, so one cache
serves every ``postprocess``/``normalize`` setting and the key does not include them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from pathlib import Path
from typing import Sequence

import numpy as np

from .._config import get_data_home
from .._io import atomic_save_npz, atomic_write_bytes, clean_stale_temps, load_npz

logger = logging.getLogger(__name__)


def text_sha256(text: str) -> str:
    """Hex sha256 of the exact UTF-8 text (the per-row cache key)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checksum(hashes: np.ndarray, vectors: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update("\n".join(hashes.tolist()).encode())
    h.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    h.update(str(vectors.shape).encode())
    return h.hexdigest()


class EmbeddingCache:
    """Disk cache of raw text vectors, shared by every run with the same encoder key.

    Parameters
    ----------
    path : str or path, optional
        Root folder; default ``<data home>/embeddings`` (``FILMREC_DATA_HOME`` or
        ``~/.cache/filmrec_toolkit``), resolved when first used.
    chunk_size : int
        Texts encoded and written per chunk file. A killed run loses at most one chunk.
    compact_after : int
        Merge the chunk files of a key into one (atomically) once there are more than this.

    Attributes
    ----------
    last_stats_ : dict
        Of the latest :meth:`encode`: ``n_texts``, ``n_unique``, ``n_cached``, ``n_encoded``,
        ``n_corrupt_files``.

    Examples
    --------
    >>> cache = EmbeddingCache()  # doctest: +SKIP
    >>> emb = embed_items(dataset, cache=cache)  # doctest: +SKIP
    >>> cache.last_stats_["n_encoded"]  # 0 on the second call  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike | None = None, chunk_size: int = 512, compact_after: int = 16) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self.compact_after = compact_after

    def __repr__(self) -> str:
        return f"EmbeddingCache(path={str(self.root)!r}, chunk_size={self.chunk_size})"

    @property
    def root(self) -> Path:
        return Path(self.path).expanduser() if self.path is not None else get_data_home() / "embeddings"

    # ------------------------------------------------------------ key level
    @staticmethod
    def key_hash(key: dict) -> str:
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def directory(self, key: dict) -> Path:
        """Folder holding the vectors for one encoder key."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", str(key.get("model", "model")))[-40:].strip("-") or "model"
        return self.root / f"{slug}-{self.key_hash(key)}"

    def _ensure_dir(self, key: dict) -> Path:
        folder = self.directory(key)
        folder.mkdir(parents=True, exist_ok=True)
        key_file = folder / "key.json"
        if not key_file.is_file():
            self._atomic_write_bytes(key_file, json.dumps(key, sort_keys=True, indent=1, default=str).encode())
        return folder

    @staticmethod
    def _atomic_write_bytes(path: Path, data: bytes) -> None:
        atomic_write_bytes(path, data)

    # ------------------------------------------------------------ chunks
    def _write_chunk(self, folder: Path, hashes: np.ndarray, vectors: np.ndarray, name: str | None = None) -> Path:
        hashes = np.asarray(hashes, dtype="U64")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        final = folder / (name or f"chunk-{uuid.uuid4().hex}.npz")
        return atomic_save_npz(final, hashes=hashes, vectors=vectors, checksum=np.asarray(_checksum(hashes, vectors)))

    def _read_chunk(self, path: Path, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
        data = load_npz(path)
        hashes, vectors, checksum = data["hashes"], data["vectors"], str(data["checksum"])
        if hashes.dtype.kind != "U" or vectors.dtype != np.float32:
            raise ValueError(f"dtypes hashes {hashes.dtype}, vectors {vectors.dtype}; expected unicode and float32")
        if vectors.ndim != 2 or len(hashes) != len(vectors):
            raise ValueError(f"shape mismatch: {len(hashes)} hashes, vectors {vectors.shape}")
        if dim is not None and vectors.shape[1] != dim:
            raise ValueError(f"vector width {vectors.shape[1]} != {dim}")
        if _checksum(hashes, vectors) != checksum:
            raise ValueError("checksum mismatch")
        return hashes, vectors

    def load(self, key: dict, dim: int | None = None) -> tuple[dict[str, np.ndarray], int]:
        """All valid cached vectors of ``key`` as ``{text_sha256: vector}`` and the number of corrupt files.

        A corrupt or truncated chunk is logged at WARNING level and renamed to ``*.corrupt``
        (kept for inspection, never read again); its texts count as not cached. Temporary
        files left by a crashed writer more than a day ago are deleted.
        """
        folder = self.directory(key)
        if not folder.is_dir():
            return {}, 0
        clean_stale_temps(folder)
        table, n_corrupt, _ = self._load_files(sorted(folder.glob("chunk-*.npz")), dim)
        return table, n_corrupt

    def _load_files(self, files: Sequence[Path], dim: int | None) -> tuple[dict[str, np.ndarray], int, list[Path]]:
        """Vectors of ``files``, the number of corrupt ones (set aside) and the files actually read."""
        table: dict[str, np.ndarray] = {}
        n_corrupt = 0
        read: list[Path] = []
        for path in files:
            try:
                hashes, vectors = self._read_chunk(path, dim)
            except FileNotFoundError:  # removed meanwhile by another process's compact
                continue
            except Exception as err:  # noqa: BLE001 - any read failure means the file is unusable
                n_corrupt += 1
                logger.warning("embedding cache file %s is corrupt or truncated (%s: %s); it is set aside as "
                               "%s and its texts will be encoded again.", path, type(err).__name__, err,
                               path.name + ".corrupt")
                try:
                    os.replace(path, path.with_name(path.name + ".corrupt"))
                except OSError:  # pragma: no cover - read-only folder
                    pass
                continue
            read.append(path)
            for h, v in zip(hashes.tolist(), vectors):
                table[h] = v
        return table, n_corrupt, read

    def compact(self, key: dict, dim: int | None = None) -> None:
        """Merge a key's chunk files into one file (written atomically before the old ones are removed).

        Only the files listed *before* reading are merged and then removed: a chunk another
        process writes meanwhile is neither read nor deleted.
        """
        folder = self.directory(key)
        files = sorted(folder.glob("chunk-*.npz"))
        if len(files) <= 1:
            return
        table, _, read = self._load_files(files, dim)
        if table:
            hashes = np.asarray(list(table), dtype="U64")
            merged = self._write_chunk(folder, hashes, np.stack([table[h] for h in hashes.tolist()]),
                                       name=f"chunk-{uuid.uuid4().hex}.npz")
            for path in read:
                if path != merged:
                    path.unlink(missing_ok=True)

    def clear(self, key: dict | None = None) -> None:
        """Delete the vectors of one key (or the whole cache folder)."""
        import shutil

        target = self.directory(key) if key is not None else self.root
        if target.exists():
            shutil.rmtree(target)

    # ------------------------------------------------------------ encoding
    def encode(self, encoder, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Raw vectors for ``texts`` (input order), encoding only the texts not cached.

        ``encoder`` needs ``cache_key()``, ``encode_raw(texts, show_progress=...)`` and
        ``dim_`` (a fitted :class:`TextEncoder`). New vectors are written chunk by chunk.
        """
        from ..exceptions import check_positive_int

        check_positive_int(self.chunk_size, "chunk_size")
        texts = list(texts)
        key = encoder.cache_key()
        dim = int(encoder.dim_)
        hashes = [text_sha256(t) for t in texts]
        table, n_corrupt = self.load(key, dim)
        todo: dict[str, str] = {}
        for h, t in zip(hashes, texts):
            if h not in table and h not in todo:
                todo[h] = t
        n_unique = len(set(hashes))
        logger.info("embedding cache %s: %d texts, %d cached, %d to encode", self.directory(key).name,
                    len(texts), n_unique - len(todo), len(todo))
        if todo:
            folder = self._ensure_dir(key)
            # longest texts first, so each chunk holds texts of similar length and pads little
            pending = sorted(todo.items(), key=lambda item: -len(item[1]))
            chunks = range(0, len(pending), self.chunk_size)
            if show_progress:
                from tqdm.auto import tqdm

                chunks = tqdm(chunks, total=len(chunks), desc="encoding (cached in chunks)", unit="chunk")
            for start in chunks:
                part = pending[start:start + self.chunk_size]
                vectors = np.asarray(encoder.encode_raw([t for _, t in part], show_progress=False), dtype=np.float32)
                part_hashes = np.asarray([h for h, _ in part], dtype="U64")
                self._write_chunk(folder, part_hashes, vectors)
                for h, v in zip(part_hashes.tolist(), vectors):
                    table[h] = v
            if len(list(folder.glob("chunk-*.npz"))) > self.compact_after:
                self.compact(key, dim)
        self.last_stats_ = {"n_texts": len(texts), "n_unique": n_unique, "n_cached": n_unique - len(todo),
                            "n_encoded": len(todo), "n_corrupt_files": n_corrupt,
                            "directory": str(self.directory(key))}
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([table[h] for h in hashes]).astype(np.float32, copy=False)
