"""``ItemEmbeddings``: an item matrix aligned to a Dataset's item vocabulary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.dataset import Dataset


def l2_normalize(matrix: np.ndarray, eps: float = 1e-12, *, dtype=np.float32) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero): the one row normaliser of the package.

    Parameters
    ----------
    matrix : array-like of shape (n, d)
    eps : float
        Norms below ``eps`` are taken as ``eps`` (so a zero row stays zero).
    dtype : numpy dtype
        Of the result: float32 (embeddings, the default) or float64 (metrics that sum many
        cosines, e.g. intra-list diversity).
    """
    matrix = np.asarray(matrix, dtype=dtype)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, eps)).astype(dtype, copy=False)


@dataclass
class ItemEmbeddings:
    """Item vectors with their ids, in one vocabulary order.

    Attributes
    ----------
    matrix : ndarray (n_items, d) float32
        L2-normalised rows (row ``i`` belongs to ``item_ids[i]``).
    item_ids : ndarray (n_items,)
    model_id : str
        What produced the vectors (HF id or path, ``"tfidf"``, ``"genres"``...).
    text_hashes : ndarray of str, optional
        sha256 of the exact text each row was computed from.
    meta : dict
        Free-form provenance (pooling, max_length, postprocess, ...).
    transform_state : dict of str -> ndarray, optional
        Arrays of the catalogue-level post-processing fitted with these vectors (``mean``,
        ``components`` for ``postprocess="center"|"whiten"``), to map new texts the same way.
    """

    matrix: np.ndarray
    item_ids: np.ndarray
    model_id: str = "unknown"
    text_hashes: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    transform_state: dict | None = None

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, dtype=np.float32)
        self.item_ids = np.asarray(self.item_ids)
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.item_ids):
            raise ValueError(f"matrix has shape {self.matrix.shape} but there are {len(self.item_ids)} item_ids; "
                             "rows must match ids one to one.")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.item_ids)

    def __repr__(self) -> str:
        return f"ItemEmbeddings({self.model_id!r}, n_items={len(self)}, dim={self.dim})"

    def align(self, dataset: Dataset) -> "ItemEmbeddings":
        """Rows reordered to ``dataset.item_vocab``; raises if an item has no vector."""
        ids = dataset.item_ids
        if len(ids) == len(self.item_ids) and np.array_equal(ids, self.item_ids):
            return self
        import pandas as pd

        pos = pd.Index(self.item_ids).get_indexer(ids)
        if (pos < 0).any():
            missing = ids[pos < 0][:5].tolist()
            raise KeyError(f"{int((pos < 0).sum())} item(s) of the dataset have no embedding, e.g. {missing}; "
                           "embed the dataset's items (embed_items(dataset, ...)) first.")
        hashes = None if self.text_hashes is None else np.asarray(self.text_hashes)[pos]
        return ItemEmbeddings(self.matrix[pos], ids, self.model_id, hashes, dict(self.meta), self.transform_state)

    def save(self, path) -> Path:
        """Write ``<path>.npz`` (matrix, ids, hashes, meta as JSON) atomically, without pickle.

        String ids (the ml-1m pack keys items by "Title (Year)") are stored as a unicode
        array, integer ids as int64: the file never holds Python objects, so :meth:`load`
        reads it with ``allow_pickle=False``.
        """
        from .._io import atomic_save_npz

        path = Path(path).with_suffix(".npz")
        atomic_save_npz(path, matrix=self.matrix, item_ids=_plain_ids(self.item_ids),
                        text_hashes=np.asarray([] if self.text_hashes is None else self.text_hashes, dtype=str),
                        model_id=np.asarray(str(self.model_id)), meta=np.asarray(json.dumps(self.meta, default=str)),
                        **{f"transform_{k}": np.asarray(v) for k, v in (self.transform_state or {}).items()})
        return path

    @classmethod
    def load(cls, path) -> "ItemEmbeddings":
        """Read a file written by :meth:`save`; it is never unpickled.

        Raises
        ------
        UnsafeFileError
            The file holds pickled Python objects (it could run code; nothing is executed).
        ValueError
            The file is damaged or is not an ``ItemEmbeddings`` file (missing arrays, shapes
            that do not match, a non-numeric matrix).
        """
        from .._io import load_npz

        path = Path(path).with_suffix(".npz")
        data = load_npz(path)
        missing = [k for k in ("matrix", "item_ids") if k not in data]
        if missing:
            raise ValueError(f"{str(path)!r} is not an ItemEmbeddings file: it lacks {missing} (it has "
                             f"{sorted(data)}); write one with ItemEmbeddings.save.")
        matrix = data["matrix"]
        if matrix.dtype.kind not in "fiu" or matrix.ndim != 2:
            raise ValueError(f"{str(path)!r}: 'matrix' must be a 2-D numeric array, got dtype {matrix.dtype} "
                             f"and shape {matrix.shape}.")
        ids = data["item_ids"]
        if ids.dtype.kind == "U":  # back to Python str, like the ids of a Dataset
            ids = ids.astype(object)
        hashes = data.get("text_hashes", np.asarray([], dtype=str))
        state = {k[len("transform_"):]: v for k, v in data.items() if k.startswith("transform_")}
        meta = json.loads(str(data["meta"])) if "meta" in data else {}
        model_id = str(data["model_id"]) if "model_id" in data else "unknown"
        try:
            return cls(matrix, ids, model_id, hashes if len(hashes) else None, meta, state or None)
        except ValueError as err:
            raise ValueError(f"{str(path)!r} is damaged: {err}") from None


def _plain_ids(ids: np.ndarray) -> np.ndarray:
    """Ids as a unicode or int64 array (never dtype object, which numpy would pickle)."""
    ids = np.asarray(ids)
    if not ids.dtype.hasobject:
        return ids
    values = ids.tolist()
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    kinds = sorted({type(v).__name__ for v in values})
    raise TypeError(f"item_ids mix types {kinds}; use one type, e.g. item_ids.astype(str).")
