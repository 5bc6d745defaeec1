"""Files the package writes and reads: no code runs from a data file, atomic writes, validated caches."""

from __future__ import annotations

import ast
import logging
import os
import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import UnsafeFileError
from filmrec_toolkit._io import (
    STALE_TEMP_AGE_S,
    atomic_save_npz,
    atomic_write,
    atomic_write_text,
    clean_stale_temps,
    load_npy,
    load_npz,
)
from filmrec_toolkit.features import ItemEmbeddings

PACKAGE = Path(ft.__file__).parent


class _Payload:
    """Unpickling this object creates ``marker`` (stands in for a shell command)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted_embeddings(path: Path, marker: Path) -> Path:
    """An .npz shaped like ItemEmbeddings.save output whose item_ids unpickle to a side effect."""
    ids = np.empty(2, dtype=object)
    ids[0], ids[1] = _Payload(marker), "B (1991)"
    np.savez(path, matrix=np.eye(2, dtype=np.float32), item_ids=ids, text_hashes=np.asarray([], dtype=str),
             model_id=np.asarray("toy"), meta=np.asarray("{}"))
    return path


# ---------------------------------------------------------------- 1. code execution from a data file
def test_crafted_pickle_in_embeddings_file_is_refused_without_running(tmp_path):
    marker = tmp_path / "PWNED"
    path = _crafted_embeddings(tmp_path / "emb.npz", marker)
    with pytest.raises(UnsafeFileError, match="pickle.*nothing in it was executed"):
        ItemEmbeddings.load(path)
    assert not marker.exists()


def test_raw_pickle_posing_as_npz_or_npy_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    for name in ("emb.npz", "coords.npy"):
        (tmp_path / name).write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(UnsafeFileError):
        ItemEmbeddings.load(tmp_path / "emb.npz")
    with pytest.raises(UnsafeFileError):
        load_npy(tmp_path / "coords.npy")
    with pytest.raises(UnsafeFileError):
        load_npz(tmp_path / "emb.npz")
    assert not marker.exists()


@pytest.mark.parametrize("ids", [
    np.array(["Toy Story (1995)", "Café, Le (2000)", "Heat (1995)"], dtype=object),  # ml-1m pack: titles as ids
    np.array(["Toy Story (1995)", "Café, Le (2000)", "Heat (1995)"]),
    np.array([1, 2, 50], dtype=np.int64),
])
def test_embeddings_round_trip_without_pickle(tmp_path, ids):
    emb = ItemEmbeddings(np.arange(6, dtype=np.float32).reshape(3, 2), ids, "toy",
                         np.asarray(["a" * 64, "b" * 64, "c" * 64]), {"pooling": "mean"},
                         {"mean": np.ones(2, dtype=np.float32)})
    path = emb.save(tmp_path / "emb")
    with np.load(path, allow_pickle=False) as data:  # every member readable without pickle
        assert all(not data[k].dtype.hasobject for k in data.files)
    back = ItemEmbeddings.load(path)
    assert back.item_ids.tolist() == ids.tolist()
    np.testing.assert_array_equal(back.matrix, emb.matrix)
    assert back.meta == {"pooling": "mean"} and back.model_id == "toy"
    np.testing.assert_array_equal(back.transform_state["mean"], np.ones(2))
    assert back.text_hashes.tolist() == ["a" * 64, "b" * 64, "c" * 64]


def test_string_ids_align_to_a_dataset_after_loading(tmp_path):
    import pandas as pd

    ratings = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["B (1991)", "A (1990)", "A (1990)"], "rating": 1.0})
    ds = ft.Dataset.from_frames(ratings)
    emb = ItemEmbeddings(np.eye(2, dtype=np.float32), ds.item_ids, "toy")
    back = ItemEmbeddings.load(emb.save(tmp_path / "e"))
    np.testing.assert_array_equal(back.align(ds).matrix, emb.matrix)


def test_embeddings_file_with_wrong_shapes_is_refused(tmp_path):
    np.savez(tmp_path / "bad.npz", matrix=np.ones((3, 2), dtype=np.float32), item_ids=np.arange(2),
             text_hashes=np.asarray([], dtype=str), model_id=np.asarray("x"), meta=np.asarray("{}"))
    with pytest.raises(ValueError, match="rows must match ids"):
        ItemEmbeddings.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", foo=np.ones(3))
    with pytest.raises(ValueError, match="not an ItemEmbeddings file.*matrix"):
        ItemEmbeddings.load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="junk.npz"):
        ItemEmbeddings.load(tmp_path / "junk.npz")


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return f"{_name(func.value)}.{func.attr}"
    if isinstance(func, ast.Name):
        return func.id
    return "?"


def _package_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_no_loader_in_the_package_can_unpickle():
    """Static check: nothing in the package loads pickle, and every array load goes through _io."""
    offenders = []
    for rel, tree in _package_sources():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "cPickle", "dill", "joblib", "cloudpickle", "shelve", "marshal")
                       for n in names):
                    offenders.append(f"{rel}:{node.lineno} imports a pickle module")
        for call in _calls(tree):
            name = _name(call.func)
            kw = {k.arg: k.value for k in call.keywords}
            if name in ("eval", "exec"):
                offenders.append(f"{rel}:{call.lineno} {name}()")
            if name.endswith("read_pickle"):
                offenders.append(f"{rel}:{call.lineno} read_pickle")
            if "allow_pickle" in kw and not (isinstance(kw["allow_pickle"], ast.Constant)
                                             and kw["allow_pickle"].value is False):
                offenders.append(f"{rel}:{call.lineno} allow_pickle is not False")
            if name in ("np.load", "numpy.load") and rel != "_io.py":
                offenders.append(f"{rel}:{call.lineno} np.load outside _io.py (use _io.load_npz/load_npy)")
            if "trust_remote_code" in kw and not (isinstance(kw["trust_remote_code"], ast.Constant)
                                                  and kw["trust_remote_code"].value is False):
                offenders.append(f"{rel}:{call.lineno} trust_remote_code is not False")
            if name.endswith("torch.load") and not (isinstance(kw.get("weights_only"), ast.Constant)
                                                    and kw["weights_only"].value is True):
                offenders.append(f"{rel}:{call.lineno} torch.load without weights_only=True")
    assert offenders == []


#: Writes that are not plain files of the package: model folders written by transformers into a
#: temporary folder that is renamed as a whole (features/encoder.py, convert_smollm2).
_FOLDER_WRITES = {("features/encoder.py", "save_pretrained"), ("features/encoder.py", "write_text"),
                  ("features/encoder.py", "mkdtemp")}


def test_every_file_write_goes_through_the_atomic_helper():
    offenders = []
    for rel, tree in _package_sources():
        if rel == "_io.py":
            continue
        for call in _calls(tree):
            name = _name(call.func)
            last = name.rsplit(".", 1)[-1]
            if last in ("save", "savez", "savez_compressed") and name.split(".")[0] in ("np", "numpy"):
                offenders.append(f"{rel}:{call.lineno} {name}")
            elif last in ("write_text", "write_bytes", "to_csv", "to_parquet", "to_pickle", "dump", "tofile",
                          "save_pretrained", "mkstemp", "mkdtemp", "NamedTemporaryFile"):
                if (rel, last) not in _FOLDER_WRITES:
                    offenders.append(f"{rel}:{call.lineno} {name}")
            elif last == "savefig" and not (call.args and isinstance(call.args[0], ast.Name)
                                            and call.args[0].id in ("buf", "buffer")):
                offenders.append(f"{rel}:{call.lineno} savefig to a file")
            elif name in ("open", "io.open", "os.open", "os.fdopen") or last == "open" and "Path" in name:
                mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"),
                                                                    None)
                if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+"):
                    offenders.append(f"{rel}:{call.lineno} open(..., {mode.value!r})")
    assert offenders == []


# ---------------------------------------------------------------- 13. atomic writes, unique temporaries
def test_atomic_write_leaves_old_file_on_error_and_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(ValueError, match="mode='r'"):
        with atomic_write(target, "r"):
            pass


def test_atomic_write_gives_the_permissions_of_a_plain_new_file(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic_write_text(tmp_path / "atomic.txt", "x")
    assert (tmp_path / "atomic.txt").stat().st_mode == plain.stat().st_mode


def test_atomic_save_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="dtype object"):
        atomic_save_npz(tmp_path / "x.npz", ids=np.array(["a", 1], dtype=object))
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_are_cleaned_and_fresh_ones_kept(tmp_path):
    old = tmp_path / ".tmp-emb.npz.abc"
    old.write_bytes(b"left by kill -9")
    old_dir = tmp_path / ".tmp-model"
    old_dir.mkdir()
    (old_dir / "config.json").write_text("{}")
    past = time.time() - STALE_TEMP_AGE_S - 60
    os.utime(old, (past, past))
    os.utime(old_dir, (past, past))
    young = tmp_path / ".tmp-other.npz.def"  # a writer still at work
    young.write_bytes(b"x")
    keep = tmp_path / "emb.npz"
    keep.write_bytes(b"y")
    os.utime(keep, (past, past))
    ItemEmbeddings(np.eye(2), np.array([1, 2])).save(tmp_path / "new")  # any write cleans its folder
    assert not old.exists() and not old_dir.exists()
    assert young.exists() and keep.exists()
    assert clean_stale_temps(tmp_path) == 0


def test_concurrent_embedding_saves_do_not_collide(tmp_path, monkeypatch):
    """Two writers of one file: each uses its own temporary, the result is one complete file."""
    import filmrec_toolkit._io as io_mod

    names = []
    real = io_mod.tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        names.append(name)
        return fd, name

    monkeypatch.setattr(io_mod.tempfile, "mkstemp", spy)
    a = ItemEmbeddings(np.zeros((200, 64)), np.arange(200), "a")
    b = ItemEmbeddings(np.ones((200, 64)), np.arange(200), "b")
    errors = []

    def write(emb):
        try:
            for _ in range(5):
                emb.save(tmp_path / "emb")
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=write, args=(e,)) for e in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(names)) == len(names) == 10
    back = ItemEmbeddings.load(tmp_path / "emb")
    assert back.model_id in ("a", "b") and np.all(back.matrix == (0.0 if back.model_id == "a" else 1.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.npz"]


@pytest.mark.filterwarnings("ignore:.*no recommendation list")
def test_html_report_uses_unique_temporaries(tiny, tmp_path, monkeypatch):
    import pandas as pd

    import filmrec_toolkit._io as io_mod
    from filmrec_toolkit.audit import audit

    recs = pd.DataFrame({"user_id": [1, 1], "item_id": [40, 50], "score": [2.0, 1.0], "rank": [1, 2]})
    rep = audit(recs, tiny, tiny, k=2, n_resamples=20)
    # a fixed temporary name of another writer must not be touched
    fixed = tmp_path / "audit.html.tmp"
    fixed.write_text("another writer's half page")
    seen = []
    real = io_mod.atomic_write

    def spy(path, *args, **kwargs):
        seen.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(io_mod, "atomic_write", spy)
    path = rep.to_html(tmp_path / "audit.html", figures={})
    assert seen == [tmp_path / "audit.html"]
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert fixed.read_text() == "another writer's half page"


# ---------------------------------------------------------------- 7. cached projections validated
@pytest.mark.parametrize("damage", ["wrong_shape", "garbage", "nan", "pickle", "wrong_dtype"])
def test_bad_cached_projection_is_rebuilt(caplog, damage, tmp_path):
    from filmrec_toolkit._config import get_data_home
    from filmrec_toolkit.profiles import project_2d

    x = np.random.default_rng(0).normal(size=(30, 5)).astype(np.float32)
    good = project_2d(x, method="pca", random_state=0)
    [path] = (get_data_home() / "projections").glob("pca-*.npy")
    marker = tmp_path / "PWNED"
    if damage == "wrong_shape":
        np.save(path, np.zeros((7, 3), dtype=np.float32))
    elif damage == "garbage":
        path.write_bytes(b"\x93NUMPY garbage")
    elif damage == "nan":
        np.save(path, np.full((30, 2), np.nan, dtype=np.float32))
    elif damage == "wrong_dtype":
        np.save(path, np.zeros((30, 2), dtype="U3"))
    else:
        path.write_bytes(pickle.dumps(_Payload(marker)))
    with caplog.at_level(logging.WARNING, logger="filmrec_toolkit.profiles.projection"):
        again = project_2d(x, method="pca", random_state=0)
    assert "rebuilt" in caplog.text
    np.testing.assert_allclose(again, good, rtol=1e-5, atol=1e-6)
    assert again.shape == (30, 2) and again.dtype == np.float32
    np.testing.assert_allclose(load_npy(path), good, rtol=1e-5, atol=1e-6)  # the file was repaired
    assert not marker.exists()


# ---------------------------------------------------------------- 13. compact never drops a new chunk
def test_compact_keeps_chunks_written_after_it_started(tmp_path, monkeypatch):
    from filmrec_toolkit.features import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "c")
    key = {"model": "toy"}
    folder = cache._ensure_dir(key)
    rng = np.random.default_rng(0)
    for i in range(3):
        cache._write_chunk(folder, np.asarray([f"{i:064d}"]), rng.normal(size=(1, 4)))
    late_hash = "f" * 64
    real_read = cache._read_chunk
    state = {"written": False}

    def read_then_another_process_writes(path, dim):
        out = real_read(path, dim)
        if not state["written"]:  # another process adds a chunk while compact is reading
            state["written"] = True
            cache._write_chunk(folder, np.asarray([late_hash]), np.ones((1, 4)))
        return out

    monkeypatch.setattr(cache, "_read_chunk", read_then_another_process_writes)
    cache.compact(key, 4)
    monkeypatch.undo()
    table, n_corrupt = cache.load(key, 4)
    assert n_corrupt == 0
    assert late_hash in table and len(table) == 4


# ---------------------------------------------------------------- 9. offline-model advice names a real command
def test_missing_model_advice_names_the_installed_cli():
    import shutil
    import sys

    pytest.importorskip("huggingface_hub")
    from filmrec_toolkit.features import TextEncoder

    with pytest.raises(ValueError, match=r"`hf download some-org/not-a-real-model`") as info:
        TextEncoder(model="some-org/not-a-real-model").fit()
    assert "huggingface-cli" not in str(info.value)
    # the command the advice names is the one huggingface_hub installs
    assert shutil.which("hf", path=str(Path(sys.executable).parent)) or shutil.which("hf")


def test_embedding_cache_load_removes_stale_temporaries(tmp_path):
    from filmrec_toolkit.features import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "c")
    key = {"model": "toy"}
    folder = cache._ensure_dir(key)
    orphan = folder / ".tmp-chunk-killed.npz"
    orphan.write_bytes(b"half a chunk")
    past = time.time() - STALE_TEMP_AGE_S - 60
    os.utime(orphan, (past, past))
    assert cache.load(key) == ({}, 0)
    assert not orphan.exists()
