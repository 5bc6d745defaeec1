"""2-D projections of item or user vectors (UMAP or PCA), cached on disk."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from .._config import get_data_home
from .._io import atomic_save_npy, load_npy

logger = logging.getLogger(__name__)

METHODS = ("umap", "pca")


def _cache_key(matrix: np.ndarray, params: dict) -> str:
    h = hashlib.sha256()
    h.update(str(matrix.shape).encode())
    h.update(str(matrix.dtype).encode())
    h.update(np.ascontiguousarray(matrix).tobytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def project_2d(matrix, method: str = "umap", random_state: int | None = 42, cache: bool = True,
               n_neighbors: int = 15, min_dist: float = 0.1, metric: str = "cosine",
               data_home=None) -> np.ndarray:
    """Project rows to 2-D coordinates, computed once and reused from disk.

    Parameters
    ----------
    matrix : array (n, d)
        Item embeddings or user profiles.
    method : {"umap", "pca"}
        UMAP (McInnes et al. 2018; ``n_neighbors``, ``min_dist``, ``metric``) or PCA.
    random_state : int or None
        Seed of UMAP / PCA. ``None`` disables the cache (the result would not be reproducible).
    cache : bool
        Read/write ``get_data_home(data_home)/projections/<method>-<hash>.npy``; the hash
        covers the exact matrix bytes and every parameter, so a changed input never reads a
        stale file. Files are written atomically; a cached file that is not a finite float
        ``(n, 2)`` array (damaged, truncated, edited) is logged, ignored and rebuilt.
    n_neighbors, min_dist, metric :
        UMAP parameters (ignored by PCA).
    data_home : path, optional

    Returns
    -------
    ndarray (n, 2) float32
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}.")
    x = np.asarray(matrix, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise ValueError(f"matrix must be 2-D with at least 3 rows, got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("matrix contains NaN or inf values.")
    params = {"method": method, "random_state": random_state}
    if method == "umap":
        import umap

        params.update(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric, umap=umap.__version__)
    path = None
    if cache and random_state is not None:
        folder = get_data_home(data_home) / "projections"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{method}-{_cache_key(x, params)}.npy"
        if path.exists():
            cached = _read_cached(path, len(x))
            if cached is not None:
                logger.info("project_2d: reusing %s", path)
                return cached
    if method == "pca":
        from sklearn.decomposition import PCA

        coords = PCA(n_components=2, random_state=random_state).fit_transform(x)
    else:
        import umap

        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, len(x) - 1), min_dist=min_dist,
                            metric=metric, random_state=random_state, n_jobs=1 if random_state is not None else -1)
        coords = reducer.fit_transform(x)
    coords = np.asarray(coords, dtype=np.float32)
    if path is not None:
        atomic_save_npy(path, coords)
    return coords


def _read_cached(path: Path, n_rows: int) -> np.ndarray | None:
    """The cached coordinates if the file is a finite float ``(n_rows, 2)`` array, else None (logged)."""
    try:
        coords = load_npy(path)
        problem = None
        if coords.shape != (n_rows, 2):
            problem = f"shape {coords.shape}, expected ({n_rows}, 2)"
        elif coords.dtype.kind != "f":
            problem = f"dtype {coords.dtype}, expected float32"
        elif not np.isfinite(coords).all():
            problem = "NaN or infinite values"
    except (ValueError, OSError) as err:  # damaged, truncated or pickled: never used
        problem = f"{type(err).__name__}: {err}"
    if problem is not None:
        logger.warning("project_2d: the cached file %s is unusable (%s); it is ignored and rebuilt.", path, problem)
        return None
    return coords.astype(np.float32, copy=False)


__all__ = ["project_2d"]
