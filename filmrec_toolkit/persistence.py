"""Saving and loading fitted objects without pickle: ``.npz`` arrays + a JSON header.

:func:`save` walks the object — a fitted recommender, :class:`ItemEmbeddings`, a
:class:`Dataset`, a profiler, a :class:`SegmentResult` — and writes every array
(numeric, boolean or unicode; sparse matrices as their CSR parts; DataFrame columns)
into one ``.npz`` file, with a JSON header describing how they fit together: the format
version, the package version, each estimator's class and parameters, the vocabularies.
:func:`load` reads it back with ``allow_pickle=False``: it never unpickles anything, and
it only instantiates classes defined inside ``filmrec_toolkit``, so no file it loads can
run code. An object shared by several others (the training Dataset of a hybrid and of its
members) is stored once and shared again after loading.

Objects that hold something with no array form (a loaded torch model, an ``implicit``
model object) are refused at save time with the name of the attribute.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import logging
import numbers
import os
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._io import atomic_save_npz, load_npz

logger = logging.getLogger(__name__)

__all__ = ["save", "load", "FORMAT_VERSION", "artefact_key", "artefact_path", "load_or_fit", "fit_or_load"]

#: Version of the file layout written by :func:`save`; :func:`load` refuses newer ones.
FORMAT_VERSION = 1
_MAGIC = "filmrec_toolkit"
_HEADER = "__header__"
_PACKAGE = "filmrec_toolkit"


_NOT_SCALAR = object()


def _plain_scalar(value):
    """None, bool, str, int or float as a JSON value (a non-finite float as ``{"$float": repr}``);
    ``_NOT_SCALAR`` for anything else. Shared by the file header and the artefact keys."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return v if np.isfinite(v) else {"$float": repr(v)}
    return _NOT_SCALAR


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, dict] = {}
        self.keep_alive: list = []

    def array(self, value: np.ndarray, where: str) -> dict:
        arr = np.asarray(value)
        if arr.dtype == object:
            arr = _object_to_plain(arr, where)
        if arr.dtype.kind not in "biufUSM" or arr.dtype.hasobject:
            raise TypeError(f"save: {where} has dtype {arr.dtype}, which cannot be stored without pickle.")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr
        return {"$array": key}

    def encode(self, value, where: str):
        plain = _plain_scalar(value)
        if plain is not _NOT_SCALAR:
            return plain
        if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) > 0:
            return self.array(value, where)
        if isinstance(value, np.generic):
            return self.encode(value.item(), where)
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"$tuple": items}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                return {"$dict_items": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")]
                                        for k, v in value.items()]}
            return {"$dict": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
        if isinstance(value, range):
            return {"$range": [value.start, value.stop, value.step]}
        if id(value) in self.memo:
            return {"$ref": self.memo[id(value)]["$id"]}
        ref = {"$id": len(self.memo)}
        self.memo[id(value)] = ref
        self.keep_alive.append(value)
        return {**ref, **self._encode_object(value, where)}

    def _encode_object(self, value, where: str) -> dict:
        from .datasets.dataset import Dataset
        from .datasets.vocab import Vocabulary

        if sp.issparse(value):
            m = sp.csr_matrix(value)
            return {"$csr": {"data": self.array(m.data, where), "indices": self.array(m.indices, where),
                             "indptr": self.array(m.indptr, where), "shape": list(m.shape)}}
        if isinstance(value, pd.DataFrame):
            return {"$frame": {"columns": [self.encode(c, where) for c in value.columns],
                               "data": [self.array(value[c].to_numpy(), f"{where}[{c!r}]") for c in value.columns],
                               "index": self._index(value.index, where)}}
        if isinstance(value, pd.Series):
            return {"$series": {"name": self.encode(value.name, where), "data": self.array(value.to_numpy(), where),
                                "index": self._index(value.index, where)}}
        if isinstance(value, Vocabulary):
            return {"$vocab": {"ids": self.array(value.ids, where), "name": value.name}}
        if isinstance(value, Dataset):
            return {"$dataset": {"ratings": self.encode(value.ratings, f"{where}.ratings"),
                                 "items": self.encode(value.items, f"{where}.items"),
                                 "users": self.encode(value.users, f"{where}.users"),
                                 "user_vocab": self.encode(value.user_vocab, where),
                                 "item_vocab": self.encode(value.item_vocab, where), "name": value.name}}
        cls = type(value)
        if not cls.__module__.startswith(_PACKAGE + ".") and cls.__module__ != _PACKAGE:
            raise TypeError(f"save: {where} is a {cls.__module__}.{cls.__qualname__}, which has no array form; "
                            "only filmrec_toolkit objects, arrays, frames and plain values can be saved.")
        path = f"{cls.__module__}:{cls.__qualname__}"
        if dataclasses.is_dataclass(value):
            fields = {f.name: self.encode(getattr(value, f.name), f"{where}.{f.name}")
                      for f in dataclasses.fields(value)}
            return {"$dataclass": path, "fields": fields}
        params = _init_params(value)
        state = {k: v for k, v in vars(value).items() if k not in params}
        return {"$object": path,
                "params": {k: self.encode(v, f"{where}.{k}") for k, v in params.items()},
                "state": {k: self.encode(v, f"{where}.{k}") for k, v in state.items()}}

    def _index(self, index: pd.Index, where: str):
        if isinstance(index, pd.RangeIndex):
            return {"$range": [index.start, index.stop, index.step], "name": self.encode(index.name, where)}
        return {"data": self.array(index.to_numpy(), f"{where}.index"), "name": self.encode(index.name, where)}


def _init_params(obj) -> dict:
    sig = inspect.signature(type(obj).__init__)
    return {p: getattr(obj, p) for p, par in sig.parameters.items()
            if p != "self" and par.kind not in (par.VAR_POSITIONAL, par.VAR_KEYWORD) and hasattr(obj, p)}


def _object_to_plain(arr: np.ndarray, where: str) -> np.ndarray:
    """Object arrays as unicode (all strings) or as a JSON string per cell (lists, None, NaN)."""
    flat = arr.ravel()
    if all(isinstance(v, str) for v in flat):
        return arr.astype(str)
    try:
        encoded = [json.dumps(_jsonable(v)) for v in flat]
    except TypeError as exc:
        raise TypeError(f"save: {where} holds values that are neither strings nor JSON-like ({exc}).") from None
    out = np.asarray(encoded, dtype=str).reshape(arr.shape)
    return np.char.add("\x00json:", out) if out.size else out


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _restore_cells(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind == "U" and arr.size and str(arr.ravel()[0]).startswith("\x00json:"):
        flat = [json.loads(str(v)[6:]) for v in arr.ravel()]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(arr.shape)
    if arr.dtype.kind == "U":
        return arr.astype(object)  # pandas keeps strings as object columns
    return arr


class _Reader:
    def __init__(self, arrays) -> None:
        self.arrays = arrays
        self.objects: dict[int, object] = {}

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise ValueError(f"load: unexpected header node {node!r}.")
        if "$array" in node:
            return self.arrays[node["$array"]]
        if "$float" in node:
            return float(node["$float"])
        if "$tuple" in node:
            return tuple(self.decode(v) for v in node["$tuple"])
        if "$dict" in node:
            return {k: self.decode(v) for k, v in node["$dict"].items()}
        if "$dict_items" in node:
            return {self._key(self.decode(k)): self.decode(v) for k, v in node["$dict_items"]}
        if "$range" in node and "name" not in node:
            return range(*node["$range"])
        if "$ref" in node:
            return self.objects[node["$ref"]]
        obj = self._decode_object(node)
        if "$id" in node:
            self.objects[node["$id"]] = obj
        return obj

    @staticmethod
    def _key(k):
        return tuple(k) if isinstance(k, list) else k

    def _index(self, node) -> pd.Index:
        if "$range" in node:
            return pd.RangeIndex(*node["$range"], name=self.decode(node["name"]))
        return pd.Index(_restore_cells(self.decode(node["data"])), name=self.decode(node["name"]))

    def _decode_object(self, node):
        from .datasets.dataset import Dataset
        from .datasets.vocab import Vocabulary

        if "$csr" in node:
            c = node["$csr"]
            return sp.csr_matrix((self.decode(c["data"]), self.decode(c["indices"]), self.decode(c["indptr"])),
                                 shape=tuple(c["shape"]))
        if "$frame" in node:
            f = node["$frame"]
            cols = [self.decode(c) for c in f["columns"]]
            data = {i: _restore_cells(self.decode(d)) for i, d in enumerate(f["data"])}
            frame = pd.DataFrame(data, index=self._index(f["index"]))
            frame.columns = cols
            return frame
        if "$series" in node:
            s = node["$series"]
            return pd.Series(_restore_cells(self.decode(s["data"])), index=self._index(s["index"]),
                             name=self.decode(s["name"]))
        if "$vocab" in node:
            v = node["$vocab"]
            ids = self.decode(v["ids"])
            return Vocabulary(ids.astype(object) if ids.dtype.kind == "U" else ids, name=v["name"])
        if "$dataset" in node:
            d = node["$dataset"]
            return Dataset(self.decode(d["ratings"]), self.decode(d["items"]), self.decode(d["users"]),
                           self.decode(d["user_vocab"]), self.decode(d["item_vocab"]), name=d["name"])
        if "$dataclass" in node:
            cls = _package_class(node["$dataclass"])
            if not dataclasses.is_dataclass(cls):
                raise ValueError(f"load: {node['$dataclass']} is not a dataclass of filmrec_toolkit.")
            fields = {k: self.decode(v) for k, v in node["fields"].items()}
            init = {f.name: fields.pop(f.name) for f in dataclasses.fields(cls) if f.init and f.name in fields}
            obj = cls(**init)
            for k, v in fields.items():
                setattr(obj, k, v)
            return obj
        if "$object" in node:
            cls = _package_class(node["$object"])
            obj = cls(**{k: self.decode(v) for k, v in node["params"].items()})
            for k, v in node["state"].items():
                setattr(obj, k, self.decode(v))
            return obj
        raise ValueError(f"load: unknown header node with keys {sorted(node)}.")


def _package_class(path: str) -> type:
    """The class named ``module:qualname`` — only inside filmrec_toolkit (nothing else is ever imported)."""
    module, _, qualname = path.partition(":")
    if not (module == _PACKAGE or module.startswith(_PACKAGE + ".")) or not qualname:
        raise ValueError(f"load: the file names class {path!r}, outside filmrec_toolkit; refusing to load it.")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ValueError(f"load: class {path!r} does not exist in this version of filmrec_toolkit.")
    if not isinstance(obj, type):
        raise ValueError(f"load: {path!r} is not a class.")
    return obj


def save(obj, path) -> Path:
    """Save a fitted object (or any filmrec_toolkit object) to ``path`` (``.npz`` added if missing).

    Parameters
    ----------
    obj : Recommender, ItemEmbeddings, Dataset, UserProfiler, SegmentResult, ...
        Anything built from filmrec_toolkit objects, arrays, sparse matrices, frames and
        plain values. A fitted :class:`TextEncoder` (it holds a torch model) cannot be
        saved — save its :class:`ItemEmbeddings` instead.
    path : str or Path

    Returns
    -------
    Path of the written file. The write is atomic: a reader never sees half a file.
    """
    from . import __version__

    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    writer = _Writer()
    root = writer.encode(obj, type(obj).__name__)
    header = {"format": _MAGIC, "format_version": FORMAT_VERSION, "package_version": __version__,
              "type": f"{type(obj).__module__}:{type(obj).__qualname__}", "root": root}
    atomic_save_npz(path, **{_HEADER: np.asarray(json.dumps(header))}, **writer.arrays)
    logger.info("saved %s to %s (%d arrays)", header["type"], path.name, len(writer.arrays))
    return path


def load(path):
    """Load an object written by :func:`save`.

    Never unpickles (``allow_pickle=False``) and only instantiates filmrec_toolkit classes.

    Raises
    ------
    FileNotFoundError
        No such file.
    UnsafeFileError
        The file holds pickled objects (refused: nothing in it runs).
    ValueError
        Not a filmrec_toolkit file, a file of a newer format (upgrade the package), or a
        damaged file.
    """
    path = Path(path)
    if not path.exists() and path.suffix != ".npz" and path.with_name(path.name + ".npz").exists():
        path = path.with_name(path.name + ".npz")
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {str(path)!r}; give the path that save() returned.")
    arrays = load_npz(path)  # never unpickles: a pickled array raises UnsafeFileError
    if _HEADER not in arrays:
        raise ValueError(f"load: {path.name} is not a filmrec_toolkit file (no header); it was not written "
                         "by filmrec_toolkit.save.")
    header = json.loads(str(arrays.pop(_HEADER)))
    if not isinstance(header, dict) or header.get("format") != _MAGIC:
        raise ValueError(f"load: {path.name} is not a filmrec_toolkit file.")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"load: {path.name} has format version {version!r}, newer than this package reads "
                         f"({FORMAT_VERSION}); upgrade filmrec_toolkit (file written by version "
                         f"{header.get('package_version')}).")
    return _Reader(arrays).decode(header["root"])


# ------------------------------------------------------------------ artefacts in the data home
def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()


def _array_digest(arr) -> str:
    arr = np.asarray(arr)
    if arr.dtype == object:
        arr = np.asarray([repr(v) for v in arr.ravel()], dtype=str)
    arr = np.ascontiguousarray(arr)
    return _digest(str(arr.dtype).encode(), str(arr.shape).encode(), arr.tobytes())


def _frame_digest(frame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    names = frame.columns if isinstance(frame, pd.DataFrame) else [frame.name]
    return _digest(json.dumps([str(c) for c in names]).encode(), hashed.tobytes())


def _key_part(value, where: str):
    """A JSON value that changes whenever ``value`` does (arrays and data by content hash)."""
    from .datasets.dataset import Dataset
    from .datasets.vocab import Vocabulary
    from .features.embeddings import ItemEmbeddings

    plain = _plain_scalar(value)
    if plain is not _NOT_SCALAR:
        return plain
    if isinstance(value, np.generic):
        return _key_part(value.item(), where)
    if isinstance(value, (list, tuple, range)):
        return [_key_part(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"$dict": sorted([[json.dumps(_key_part(k, where), sort_keys=True), _key_part(v, f"{where}[{k!r}]")]
                                 for k, v in value.items()])}
    if isinstance(value, np.ndarray):
        return {"$array": _array_digest(value)}
    if sp.issparse(value):
        m = sp.csr_matrix(value)
        return {"$csr": _digest(_array_digest(m.data).encode(), _array_digest(m.indices).encode(),
                                _array_digest(m.indptr).encode(), str(m.shape).encode())}
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return {"$frame": _frame_digest(value)}
    if isinstance(value, Vocabulary):
        return {"$vocab": _array_digest(value.ids)}
    if isinstance(value, Dataset):
        return {"$dataset": value.name, "ratings": _frame_digest(value.ratings),
                "items": _array_digest(value.item_vocab.ids), "users": _array_digest(value.user_vocab.ids)}
    if isinstance(value, ItemEmbeddings):  # by content: its meta also holds cache statistics of the run
        return {"$embeddings": str(value.model_id), "matrix": _array_digest(value.matrix),
                "item_ids": _array_digest(value.item_ids)}
    cls = type(value)
    if cls.__module__ == _PACKAGE or cls.__module__.startswith(_PACKAGE + "."):
        if dataclasses.is_dataclass(value):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        else:
            fields = _init_params(value)
        return {"$class": f"{cls.__module__}:{cls.__qualname__}",
                "params": {k: _key_part(v, f"{where}.{k}") for k, v in sorted(fields.items())}}
    raise TypeError(f"artefact key: {where} is a {cls.__module__}.{cls.__qualname__}, which cannot be keyed; "
                    "give plain values, arrays, frames, Datasets or filmrec_toolkit objects.")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()[:48] or "x"


def artefact_key(name: str, dataset, params=None) -> str:
    """The hex key of an artefact: a sha256 of its name, data, parameters and the package version.

    Parameters
    ----------
    name : str
        What the artefact is, e.g. ``"segments"`` or a model name.
    dataset : str or Dataset
        The data it was computed from. A :class:`Dataset` is keyed by the content of its
        ratings and vocabularies, so two splits never share a key.
    params : optional
        Everything else the artefact depends on: plain values, lists, dicts, arrays,
        frames, :class:`ItemEmbeddings` (by content) and estimators (by class and
        parameters). Any change gives another key, so a stale file is never reused.
    """
    from . import __version__

    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name={name!r} must be a non-empty string, e.g. name='segments'.")
    payload = {"name": name, "dataset": _key_part(dataset, "dataset"), "params": _key_part(params, "params"),
               "format_version": FORMAT_VERSION, "package_version": __version__}
    return _digest(json.dumps(payload, sort_keys=True).encode())


def artefact_path(name: str, dataset, params=None, *, data_home: str | os.PathLike | None = None) -> Path:
    """Where the artefact ``name`` of ``dataset`` with ``params`` lives: ``<data home>/artefacts/``.

    The file name is ``<name>-<dataset>-<key>.npz`` with the first 16 hex digits of
    :func:`artefact_key`; the data home is ``data_home``, ``FILMREC_DATA_HOME`` or
    ``~/.cache/filmrec_toolkit`` (:func:`filmrec_toolkit.get_data_home` order).
    """
    from ._config import get_data_home

    key = artefact_key(name, dataset, params)
    label = dataset if isinstance(dataset, str) else getattr(dataset, "name", type(dataset).__name__)
    folder = get_data_home(data_home) / "artefacts"
    return folder / f"{_slug(name)}-{_slug(label)}-{key[:16]}.npz"


def load_or_fit(name: str, factory: Callable[[], object], *, dataset, params=None,
                data_home: str | os.PathLike | None = None, refresh: bool = False):
    """Load the artefact from the data home when it is there, otherwise build it with ``factory`` and save it.

    The file is :func:`artefact_path` ``(name, dataset, params)``: keyed by the data and
    every parameter, so changing one builds (and saves) a new artefact instead of reusing
    a stale one. What happened is logged at INFO level (logger
    ``filmrec_toolkit.persistence``): "loaded ... from ..." or "computed ... and saved".

    Parameters
    ----------
    name : str
        What the artefact is (part of the key and of the file name).
    factory : callable with no arguments
        Builds the artefact (e.g. ``lambda: model.fit(train)``); called only when no file exists.
    dataset : str or Dataset
    params : optional
        Everything else the result depends on (see :func:`artefact_key`).
    data_home : path, optional
    refresh : bool
        Build and overwrite even when a file exists.

    Returns
    -------
    The loaded or newly built object. A file that cannot be read (damaged, written by a
    newer format) is logged as a warning and rebuilt; an object that :func:`save` refuses
    (something inside it has no array form) is returned unsaved, with a warning.
    """
    if not callable(factory):
        raise TypeError(f"factory must be a callable with no arguments (e.g. lambda: model.fit(train)), "
                        f"got {type(factory).__name__}.")
    if not isinstance(refresh, bool):
        raise TypeError(f"refresh={refresh!r} must be True or False.")
    path = artefact_path(name, dataset, params, data_home=data_home)
    if path.exists() and not refresh:
        try:
            obj = load(path)
        except (ValueError, OSError, KeyError) as exc:
            logger.warning("artefact %r: %s could not be read (%s); computing it again", name, path.name, exc)
        else:
            logger.info("artefact %r: loaded %s from %s", name, type(obj).__name__, path)
            return obj
    obj = factory()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        save(obj, path)
    except TypeError as exc:  # something inside has no array form (e.g. a scikit-learn transformer)
        logger.warning("artefact %r: computed %s but could not save it, so it is computed again next time (%s)",
                       name, type(obj).__name__, exc)
        return obj
    logger.info("artefact %r: computed %s and saved it to %s", name, type(obj).__name__, path)
    return obj


def fit_or_load(estimator, *fit_args, name: str | None = None, data_home: str | os.PathLike | None = None,
                refresh: bool = False):
    """``estimator.fit(*fit_args)`` through :func:`load_or_fit`: a fitted copy, loaded when saved before.

    The key holds the estimator's class and parameters and every fit argument (a
    :class:`Dataset` and :class:`ItemEmbeddings` by content), so the same unfitted
    estimator fitted on the same data is loaded from the data home, in any notebook.
    ``estimator`` itself is never fitted or changed (a clone is).

    Parameters
    ----------
    estimator : filmrec_toolkit estimator
        Unfitted, e.g. ``ft.EASE()`` or ``ft.UserProfiler("rating_weighted")``.
    *fit_args
        Passed to ``fit``; the first is the training :class:`Dataset`.
    name : str, optional
        Label of the artefact (default: the class name).
    data_home, refresh
        As for :func:`load_or_fit`.

    Examples
    --------
    >>> ease = ft.fit_or_load(ft.EASE(), train)                      # doctest: +SKIP
    >>> profiler = ft.fit_or_load(ft.UserProfiler(), ds, embeddings)  # doctest: +SKIP
    """
    from ._params import ParamsMixin, clone

    if not hasattr(estimator, "fit"):
        raise TypeError(f"estimator must have a fit method (e.g. ft.EASE()), got {type(estimator).__name__}.")
    if not fit_args:
        raise ValueError("fit_or_load needs the fit arguments, e.g. fit_or_load(ft.EASE(), train).")
    label = name or type(estimator).__name__

    def factory():
        copy = clone(estimator) if isinstance(estimator, ParamsMixin) else _copy_unfitted(estimator)
        return copy.fit(*fit_args)

    return load_or_fit(label, factory, dataset=fit_args[0],
                       params={"estimator": estimator, "fit_args": list(fit_args[1:])},
                       data_home=data_home, refresh=refresh)


def _copy_unfitted(estimator):
    return type(estimator)(**_init_params(estimator))
