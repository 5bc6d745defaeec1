"""The one way the package writes files, and the one way it reads arrays back.

Every file the package writes (embedding files and caches, 2-D projections, HTML reports,
cache keys) goes through :func:`atomic_write`:

* the data goes to a temporary file with a *unique* name (``.tmp-<target>.<random>``) in the
  target's own folder, so two writers never share a temporary file and the final rename
  stays on one file system;
* the temporary file is flushed and ``fsync``-ed, then renamed over the target with
  :func:`os.replace` (atomic on POSIX and Windows): a reader sees the old file or the new
  one, never half of one, and a process killed mid-write leaves the target untouched;
* on any error the temporary file is removed; temporary files left by a crash (``kill -9``,
  power loss) are deleted by the next write into that folder once they are older than
  :data:`STALE_TEMP_AGE_S` (a day, so a slow concurrent writer is never disturbed).

Arrays are read back with :func:`load_npz` / :func:`load_npy`, which never unpickle
(``allow_pickle=False``): a file holding Python objects is refused with
:class:`~filmrec_toolkit.exceptions.UnsafeFileError` before anything in it can run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from .exceptions import UnsafeFileError

logger = logging.getLogger(__name__)

#: Prefix of every temporary file or folder the package creates next to a target.
TMP_PREFIX = ".tmp-"
#: Temporary files older than this (seconds) are leftovers of a crashed writer.
STALE_TEMP_AGE_S = 24 * 3600


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: ``mkstemp`` creates files readable by their owner only; the final file gets the usual
#: permissions of a new file instead (``0o666`` less the umask, read once at import).
_FILE_MODE = 0o666 & ~_current_umask()


def clean_stale_temps(folder: str | os.PathLike, max_age_s: float = STALE_TEMP_AGE_S) -> int:
    """Delete ``.tmp-*`` files and folders in ``folder`` older than ``max_age_s``; return how many.

    Younger ones may belong to a writer still at work and are kept. Errors (a file removed
    by another process meanwhile, a read-only folder) are ignored.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    now = time.time()
    removed = 0
    for entry in folder.glob(f"{TMP_PREFIX}*"):
        try:
            if now - entry.lstat().st_mtime < max_age_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:  # pragma: no cover - raced with another cleaner, or read-only
            continue
    if removed:
        logger.info("removed %d stale temporary file(s) left by an interrupted write in %s", removed, folder)
    return removed


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file to write ``path`` atomically; the rename happens on a clean exit.

    Parameters
    ----------
    path : str or path
        The final file. Its folder is created if missing.
    mode : {"wb", "w"}
        Binary or text.
    encoding : str, optional
        Text encoding (default UTF-8 in text mode).

    Examples
    --------
    >>> with atomic_write(folder / "report.html", "w") as fh:  # doctest: +SKIP
    ...     fh.write(page)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode={mode!r} is not supported; use 'wb' (bytes) or 'w' (text), e.g. mode='wb'.")
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(folder)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name[:80]}.", dir=folder)
    try:
        kwargs = {"encoding": encoding or "utf-8", "newline": ""} if mode == "w" else {}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
        _fsync_dir(folder)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def _check_no_objects(arrays: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    out = {}
    for name, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise TypeError(f"array {name!r} for {str(path)!r} has dtype object, which would be stored with "
                            "pickle; convert it first (strings: np.asarray(values, dtype=str), numbers: "
                            ".astype(np.int64) or .astype(np.float32)).")
        out[name] = arr
    return out


def atomic_save_npz(path: str | os.PathLike, **arrays) -> Path:
    """``np.savez`` of ``arrays`` to ``path`` atomically; object arrays (pickle) are refused."""
    path = Path(path)
    checked = _check_no_objects(arrays, path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **checked)
    return path


def atomic_save_npy(path: str | os.PathLike, array) -> Path:
    """``np.save`` of one array to ``path`` atomically; an object array (pickle) is refused."""
    path = Path(path)
    checked = _check_no_objects({"array": array}, path)
    with atomic_write(path, "wb") as fh:
        np.save(fh, checked["array"], allow_pickle=False)
    return path


def _unsafe(path: Path, err: Exception) -> UnsafeFileError:
    return UnsafeFileError(
        f"{str(path)!r} is not a plain array file: reading it would need pickle (Python objects), and loading "
        "pickle can run arbitrary code, so the file was refused and nothing in it was executed. Only files "
        "holding plain numeric or text arrays are read. If you wrote this file yourself with an older version "
        f"of filmrec_toolkit, create it again with the current version (ItemEmbeddings.save stores ids as text). "
        f"({err})"
    )


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read without pickle.

    Raises
    ------
    UnsafeFileError
        The file (or one of its arrays) is pickled Python objects.
    ValueError
        The file is not a readable ``.npz`` archive (truncated, garbage).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:  # our handle: closed even when numpy fails half-way
            head = fh.read(4)
            fh.seek(0)
            if head[:2] != b"PK" and head[:1] != b"\x80" and head[:4] != b"\x93NUM":
                raise ValueError(f"{str(path)!r} is damaged or not an .npz file (it does not start like a zip "
                                 "archive); write it again.")
            data = np.load(fh, allow_pickle=False)
            if not hasattr(data, "files"):
                raise ValueError(f"{str(path)!r} holds a single array, not an .npz archive of named arrays.")
            with data:
                return {name: data[name] for name in data.files}
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise _unsafe(path, err) from None
        raise ValueError(f"{str(path)!r} is not a readable .npz file ({err}).") from err
    except (OSError, EOFError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{str(path)!r} is not a readable .npz file ({type(err).__name__}: {err}).") from err
    except Exception as err:  # noqa: BLE001 - zipfile.BadZipFile, zlib.error... on a damaged archive
        raise ValueError(f"{str(path)!r} is damaged or not an .npz file ({type(err).__name__}: {err}).") from err


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """One array of an ``.npy`` file, read without pickle (see :func:`load_npz` for the errors)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            arr = np.load(fh, allow_pickle=False)
            if not isinstance(arr, np.ndarray):
                arr.close()
                raise ValueError("it is an .npz archive, not a single .npy array")
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise _unsafe(path, err) from None
        raise ValueError(f"{str(path)!r} is not a readable .npy file ({err}).") from err
    except FileNotFoundError:
        raise
    except (OSError, EOFError) as err:
        raise ValueError(f"{str(path)!r} is not a readable .npy file ({type(err).__name__}: {err}).") from err
    return arr


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks (checksums of downloads and caches)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
