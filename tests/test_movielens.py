"""MovieLens loaders: real offline packs (realdata), official layouts, verified downloads on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import ChecksumError
from filmrec_toolkit.datasets import download_movielens, load_movielens_from_path


# ------------------------------------------------------------------ real packs
@pytest.mark.realdata
def test_ml100k_exact_counts(ml100k):
    s = ml100k.summary()
    assert (s["n_ratings"], s["n_users"], s["n_items"]) == (100_000, 943, 1_682)
    assert (s["n_male_users"], s["n_female_users"]) == (670, 273)
    assert (s["rating_min"], s["rating_max"]) == (1.0, 5.0)
    assert set(ml100k.ratings["rating"].unique()) == {1, 2, 3, 4, 5}
    assert list(ml100k.ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]


@pytest.mark.realdata
def test_ml100k_items_and_users_are_normalised(ml100k):
    items = ml100k.items.set_index("item_id")
    assert items.loc[1, "title"] == "Toy Story (1995)"
    assert items.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    all_genres = {g for gs in ml100k.items["genres"] for g in gs}
    assert "unkonwn" not in all_genres and "unknown" in all_genres
    assert all_genres <= set(ft._config.CANONICAL_GENRES)
    assert {"user_id", "gender", "age", "age_group", "occupation", "zip_code"} <= set(ml100k.users.columns)
    assert ml100k.users.set_index("user_id").loc[1, "age_group"] == "18-24"  # age 24


@pytest.mark.realdata
def test_ml1m_exact_counts(ml1m):
    s = ml1m.summary()
    assert (s["n_ratings"], s["n_users"], s["n_items"]) == (1_000_209, 6_040, 3_706)
    assert (s["n_male_users"], s["n_female_users"]) == (4_331, 1_709)
    assert (s["rating_min"], s["rating_max"]) == (1.0, 5.0)


@pytest.mark.realdata
def test_ml1m_labels_keep_codes(ml1m):
    users = ml1m.users.set_index("user_id")
    assert users.loc[1, "age"] == "Under 18" and users.loc[1, "age_code"] == 1
    assert users.loc[1, "occupation"] == "K-12 student" and users.loc[1, "occupation_code"] == 10
    items = ml1m.items.set_index("item_id")
    assert items.loc["Toy Story (1995)", "title"] == "Toy Story (1995)"
    assert items.loc["Toy Story (1995)", "year"] == 1995
    assert not any("\r" in g for gs in ml1m.items["genres"] for g in gs)


@pytest.mark.realdata
def test_msr_split_of_real_ml100k(ml100k):
    train, test = ft.stratified_split(ml100k, 0.75, random_state=42)
    assert train.n_ratings + test.n_ratings == 100_000
    # every user has >= 20 ratings, so every user has test items
    assert (test.user_counts() > 0).all()


# ------------------------------------------------------------ official layouts
def _write_ml100k_zip(path: Path) -> Path:
    """A tiny archive in the official ml-100k layout (made-up rows, not MovieLens data)."""
    data = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n"
    flags = ["0"] * 19
    g1 = flags.copy()
    g1[3] = g1[5] = "1"  # Animation, Comedy
    g2 = flags.copy()
    g2[0] = "1"  # unknown
    item = (f"1|Film One (1995)|01-Jan-1995||http://x|{'|'.join(g1)}\n"
            f"2|Film Two (1996)|01-Jan-1996||http://y|{'|'.join(g2)}\n")
    user = "1|24|M|technician|85711\n2|53|F|other|94043\n"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ml-100k/u.data", data)
        z.writestr("ml-100k/u.item", item.encode("latin-1"))
        z.writestr("ml-100k/u.user", user)
    return path


def test_load_official_100k_layout(tmp_path):
    ds = load_movielens_from_path(_write_ml100k_zip(tmp_path / "ml-100k.zip"))
    assert (ds.n_ratings, ds.n_users, ds.n_items) == (3, 2, 2)
    assert ds.items["genres"].tolist() == [["Animation", "Comedy"], ["unknown"]]
    assert ds.items["year"].tolist() == [1995, 1996]
    assert ds.users["age_group"].tolist() == ["18-24", "50-55"]


def test_load_official_1m_layout(tmp_path):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::10::5::978300760\n2::10::3::978300761\n2::20::4::978300762\n")
    (folder / "movies.dat").write_bytes("10::Film (1995)::Comedy|Drama\n20::Café, Le (2000)::Sci-Fi\n".encode("latin-1"))
    (folder / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n")
    ds = load_movielens_from_path(folder)
    assert ds.name == "ml-1m" and ds.n_ratings == 3
    assert ds.items["title"].tolist() == ["Film (1995)", "Café, Le (2000)"]
    assert ds.items["genres"].tolist() == [["Comedy", "Drama"], ["Sci-Fi"]]
    assert ds.users["age"].tolist() == ["Under 18", "56+"]
    assert ds.users["occupation"].tolist() == ["K-12 student", "self-employed"]


def test_load_csv_layout_with_tags(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.5,964982703\n2,1,3.0,964982704\n")
    (folder / "movies.csv").write_text('movieId,title,genres\n1,"Toy Story (1995)",Animation|Children|Comedy\n')
    (folder / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,1,pixar,1\n2,1,Pixar,2\n2,1,fun,3\n")
    ds = load_movielens_from_path(folder)
    assert ds.name == "ml-latest-small"
    assert ds.items["genres"].iloc[0] == ["Animation", "Children's", "Comedy"]
    assert ds.items["tags"].iloc[0] == "pixar, fun"
    assert ds.ratings["rating"].tolist() == [4.5, 3.0]


def test_unknown_layout_and_name_are_explained(tmp_path):
    (tmp_path / "x.txt").write_text("nothing")
    with pytest.raises(ValueError, match="u.data, ratings.dat or ratings.csv"):
        load_movielens_from_path(tmp_path)
    with pytest.raises(ValueError, match="ml-100k"):
        ft.load_movielens("ml-7m")
    with pytest.raises(FileNotFoundError):
        load_movielens_from_path(tmp_path / "missing.zip")


# -------------------------------------------------------- downloads (loopback)
@pytest.fixture
def server(tmp_path):
    """http.server on 127.0.0.1 serving tmp_path/www; counts requests."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_caches(server, tmp_path):
    root, url, requests = server
    zpath = _write_ml100k_zip(root / "ml-100k.zip")
    digest = hashlib.sha256(zpath.read_bytes()).hexdigest()
    home = tmp_path / "home"
    ds = ft.load_movielens("ml-100k", source="download", data_home=home, base_url=url, sha256=digest)
    assert ds.n_ratings == 3 and requests == ["/ml-100k.zip"]
    assert (home / "movielens" / "ml-100k.zip").exists()
    # second call: served from the cache, no request sent
    again = ft.load_movielens("ml-100k", data_home=home, base_url=url, sha256=digest)
    assert again.n_ratings == 3 and requests == ["/ml-100k.zip"]


def test_wrong_checksum_is_refused_and_nothing_cached(server, tmp_path):
    root, url, requests = server
    _write_ml100k_zip(root / "ml-100k.zip")
    home = tmp_path / "home"
    with pytest.raises(ChecksumError, match="does not match"):
        download_movielens("ml-100k", data_home=home, base_url=url, sha256="0" * 64)
    assert list((home / "movielens").iterdir()) == []


def test_pinned_hash_rejects_a_fixture_posing_as_official(server, tmp_path):
    root, url, _ = server
    _write_ml100k_zip(root / "ml-100k.zip")  # not the real zip: the pinned sha256 must refuse it
    with pytest.raises(ChecksumError):
        ft.load_movielens("ml-100k", source="download", data_home=tmp_path / "h", base_url=url)


def test_unpinned_dataset_checks_grouplens_md5(server, tmp_path):
    root, url, requests = server
    zpath = _write_ml100k_zip(root / "ml-32m.zip")
    (root / "ml-32m.zip.md5").write_text(hashlib.md5(zpath.read_bytes()).hexdigest() + "  ml-32m.zip\n")
    path = download_movielens("ml-32m", data_home=tmp_path / "h", base_url=url)
    assert path.exists() and "/ml-32m.zip.md5" in requests
    (root / "ml-32m.zip.md5").write_text("f" * 32 + "  ml-32m.zip\n")
    with pytest.raises(ChecksumError):
        download_movielens("ml-32m", data_home=tmp_path / "h2", base_url=url)


def test_cache_source_without_cache_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="not in the cache"):
        ft.load_movielens("ml-25m", source="cache", data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match="no offline pack"):
        ft.load_movielens("ml-25m", source="pack", data_home=tmp_path)
