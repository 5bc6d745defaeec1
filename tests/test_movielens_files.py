"""MovieLens files: decoy members, missing or damaged members, cached zips checked (issue 14)."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import ChecksumError, Dataset
from filmrec_toolkit.datasets import load_movielens_from_path
from filmrec_toolkit.datasets import movielens as ml

FLAGS = "|".join(["0"] * 18 + ["1"])
DATA = "".join(f"{u}\t{i}\t{(u + i) % 5 + 1}\t{881250949 + 10 * u + i}\n" for u in (1, 2, 3) for i in (1, 2, 3))
ITEM = "".join(f"{i}|Film {i} (199{i})|01-Jan-199{i}||http://x|{FLAGS}\n" for i in (1, 2, 3))
USER = "1|24|M|technician|85711\n2|53|F|other|94043\n3|33|M|writer|11111\n"
DECOY_DATA = "1\t1\t1\t1\n"  # one rating: the wrong file
DECOY_ITEM = f"1|Decoy (2001)|01-Jan-2001||http://x|{FLAGS}\n"


def _members(extra: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> dict[str, str]:
    files = {"ml-100k/u.data": DATA, "ml-100k/u.item": ITEM, "ml-100k/u.user": USER}
    files = {k: v for k, v in files.items() if k.rsplit("/", 1)[-1] not in skip}
    files.update(extra or {})
    return files


def _zip(path: Path, members: dict[str, str], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, text in members.items():
            z.writestr(name, text.encode("latin-1"))
    return path


def _folder(root: Path, members: dict[str, str]) -> Path:
    for name, text in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode("latin-1"))
    return root


# ---------------------------------------------------------------- 3. decoy files
def test_macosx_member_of_a_zip_is_never_loaded(tmp_path):
    path = _zip(tmp_path / "ml-100k.zip", _members({"__MACOSX/ml-100k/u.data": DECOY_DATA,
                                                    "__MACOSX/ml-100k/._u.item": "junk"}))
    ds = load_movielens_from_path(path)
    assert ds.n_ratings == 9


def test_hidden_member_is_never_loaded(tmp_path):
    path = _zip(tmp_path / "ml-100k.zip", _members({"ml-100k/.backup/u.data": DECOY_DATA}))
    assert load_movielens_from_path(path).n_ratings == 9


def test_decoy_in_a_subfolder_loses_to_the_canonical_layout(tmp_path):
    root = _folder(tmp_path / "ml-100k", _members({"old/u.item": DECOY_ITEM, "ml-100k/old/u.data": DECOY_DATA}))
    ds = load_movielens_from_path(root)
    assert ds.n_ratings == 9
    assert ds.items["title"].tolist() == ["Film 1 (1991)", "Film 2 (1992)", "Film 3 (1993)"]


def test_two_candidates_at_the_same_depth_are_refused_by_name(tmp_path):
    path = _zip(tmp_path / "x.zip", _members({"copy/u.data": DECOY_DATA, "copy/u.item": ITEM, "copy/u.user": USER}))
    with pytest.raises(ValueError, match=r"ambiguous.*copy/u\.data.*ml-100k/u\.data"):
        load_movielens_from_path(path)


def test_members_come_from_the_folder_of_the_ratings_file(tmp_path):
    path = _zip(tmp_path / "x.zip", _members({"elsewhere/deep/u.item": DECOY_ITEM}, skip=("u.item",)))
    with pytest.raises(FileNotFoundError, match=r"no u\.item next to.*ml-100k/.*elsewhere/deep/u\.item"):
        load_movielens_from_path(path)


# ---------------------------------------------------------------- 9. missing / damaged members
def test_folder_missing_u_item_is_explained(tmp_path):
    root = _folder(tmp_path / "ml-100k", {"u.data": DATA, "u.user": USER})
    with pytest.raises(FileNotFoundError, match=r"no u\.item next to.*u\.data.*official ml-100k.*u\.item"):
        load_movielens_from_path(root)


def test_damaged_zip_member_is_explained(tmp_path):
    path = _zip(tmp_path / "ml-100k.zip", _members({"ml-100k/u.data": DATA * 50}))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("ml-100k/u.data")
    start = info.header_offset + 30 + len(info.filename)
    for k in range(start + 5, start + 60):
        raw[k] ^= 0xA5
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match=r"ml-100k/u\.data.*damaged.*Download it again.*load_movielens\('ml-100k', source='download'\)"):
        load_movielens_from_path(path)


# ---------------------------------------------------------------- 7. cached zips are verified
@pytest.fixture
def fake_pack(monkeypatch, tmp_path):
    """Stand-in for the offline ml-100k pack (a 1-rating dataset), so no real data is read."""
    pack = Dataset.from_frames(pd.DataFrame({"user_id": [7], "item_id": [7], "rating": [4.0]}), name="pack")
    monkeypatch.setattr(ml, "pack_folder", lambda name: tmp_path if name == "ml-100k" else None)
    monkeypatch.setattr(ml, "_load_pack", lambda name: pack)
    return pack


def _cache_zip(home: Path, name: str, data: bytes) -> Path:
    folder = home / "movielens"
    folder.mkdir(parents=True)
    (folder / f"{name}.zip").write_bytes(data)
    return folder / f"{name}.zip"


def test_cached_zip_that_is_not_the_official_one_is_not_loaded(tmp_path, fake_pack, caplog):
    fixture = _zip(tmp_path / "fixture.zip", _members()).read_bytes()
    home = tmp_path / "home"
    path = _cache_zip(home, "ml-100k", fixture)
    with caplog.at_level(logging.WARNING, logger="filmrec_toolkit.datasets.movielens"):
        ds = ft.load_movielens("ml-100k", data_home=home)
    assert ds is fake_pack
    assert "does not match" in caplog.text and "offline pack" in caplog.text and str(path) in caplog.text
    with pytest.raises(ChecksumError, match=r"source='download'"):
        ft.load_movielens("ml-100k", source="cache", data_home=home)


def test_truncated_cached_zip_falls_back_to_the_pack(tmp_path, fake_pack, caplog):
    fixture = _zip(tmp_path / "fixture.zip", _members()).read_bytes()
    home = tmp_path / "home"
    _cache_zip(home, "ml-100k", fixture[: len(fixture) // 2])
    with caplog.at_level(logging.WARNING, logger="filmrec_toolkit.datasets.movielens"):
        assert ft.load_movielens("ml-100k", data_home=home) is fake_pack
    assert "source='download'" in caplog.text


def test_truncated_cached_zip_without_a_pack_raises_with_advice(tmp_path, fake_pack):
    fixture = _zip(tmp_path / "fixture.zip", _members()).read_bytes()
    home = tmp_path / "home"
    _cache_zip(home, "ml-latest-small", fixture[:100])
    with pytest.raises(ChecksumError, match=r"ml-latest-small\.zip.*does not match.*sha256.*"
                                            r"load_movielens\('ml-latest-small', source='download'\)"):
        ft.load_movielens("ml-latest-small", data_home=home)


def test_cached_zip_matching_the_given_or_recorded_hash_is_loaded(tmp_path, fake_pack):
    fixture = _zip(tmp_path / "fixture.zip", _members()).read_bytes()
    digest = hashlib.sha256(fixture).hexdigest()
    home = tmp_path / "home"
    _cache_zip(home, "ml-100k", fixture)
    assert ft.load_movielens("ml-100k", data_home=home, sha256=digest).n_ratings == 9
    # the hash recorded by a verified download (private mirror) is used when none is given
    (home / "movielens" / "ml-100k.zip.sha256").write_text(digest + "\n")
    assert ft.load_movielens("ml-100k", data_home=home).n_ratings == 9
