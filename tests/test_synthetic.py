"""make_synthetic_interactions: exact sizes, power-law popularity, clustered tastes, texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from filmrec_toolkit.datasets import Dataset, make_synthetic_interactions


@pytest.fixture(scope="module")
def ds():
    return make_synthetic_interactions(2000, 1000, 60_000, n_clusters=10, random_state=0)


def test_exact_sizes_and_vocabularies(ds):
    assert isinstance(ds, Dataset)
    assert (ds.n_users, ds.n_items, ds.n_ratings) == (2000, 1000, 60_000)
    assert list(ds.user_ids[:3]) == [1, 2, 3] and list(ds.item_ids[-1:]) == [1000]
    assert ds.user_counts().min() >= 1
    assert not ds.ratings.duplicated(["user_id", "item_id"]).any()
    assert ds.matrix.nnz == 60_000
    # same Dataset as building it from its own frames
    rebuilt = Dataset.from_frames(ds.ratings, ds.items, ds.users, keep_unrated_items=True)
    assert rebuilt.item_vocab == ds.item_vocab and rebuilt.user_vocab == ds.user_vocab
    assert (rebuilt.matrix != ds.matrix).nnz == 0


def test_reproducible_and_seed_dependent():
    a = make_synthetic_interactions(100, 50, 1500, random_state=3)
    b = make_synthetic_interactions(100, 50, 1500, random_state=3)
    c = make_synthetic_interactions(100, 50, 1500, random_state=4)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert not a.ratings[["user_id", "item_id"]].equals(c.ratings[["user_id", "item_id"]])


def test_power_law_popularity(ds):
    counts = np.sort(ds.item_counts())[::-1]
    top_share = counts[:100].sum() / counts.sum()  # top 10 % of items
    assert top_share > 0.35  # uniform popularity would give ~0.10
    # popularity is not tied to the id order
    assert abs(np.corrcoef(np.arange(ds.n_items), ds.item_counts())[0, 1]) < 0.2


def test_popularity_exponent_zero_is_flatter():
    flat = make_synthetic_interactions(500, 200, 10_000, popularity_exponent=0.0, taste_strength=0.0, random_state=0)
    counts = np.sort(flat.item_counts())[::-1]
    assert counts[:20].sum() / counts.sum() < 0.15  # ~0.10 for uniform


def test_clustered_tastes(ds):
    user_cluster = ds.users["taste_cluster"].to_numpy()[ds.user_rows]
    item_cluster = ds.items["taste_cluster"].to_numpy()[ds.item_rows]
    own = (user_cluster == item_cluster).mean()
    # taste_strength 0.7 (less for heavy users who exhaust their ~100-film cluster); 1/10 without clusters
    assert own > 0.45
    # own-cluster films are rated higher
    r = ds.ratings["rating"].to_numpy()
    assert r[user_cluster == item_cluster].mean() > r[user_cluster != item_cluster].mean() + 0.4


def test_ratings_timestamps_and_tables(ds):
    r = ds.ratings
    assert r["rating"].dtype == np.float32
    assert r["rating"].between(0.5, 5.0).all() and ((r["rating"] * 2) % 1 == 0).all()
    assert r["timestamp"].dtype == np.int64
    assert r["timestamp"].min() >= 820_454_400 and r["timestamp"].max() <= 1_696_118_400
    items = ds.items
    assert list(items.columns) == ["item_id", "title", "year", "genres", "overview", "taste_cluster"]
    assert items["title"].str.match(r"^.+ \(\d{4}\)$").all()
    assert items["genres"].map(lambda g: isinstance(g, list) and 1 <= len(g) <= 3 and len(set(g)) == len(g)).all()
    assert items["overview"].str.len().gt(20).all()
    # films of one cluster share their primary genre
    primary = items["genres"].str[0]
    assert items.groupby("taste_cluster").apply(lambda g: primary[g.index].nunique(), include_groups=False).eq(1).all()
    users = ds.users
    assert set(users["gender"]) == {"M", "F"}
    assert users["age_group"].notna().all()


def test_small_catalogue_heavy_users_get_exact_counts():
    # 5 items, 10 users, 45 interactions: most users must rate (almost) every item
    small = make_synthetic_interactions(10, 5, 45, random_state=1)
    assert small.n_ratings == 45 and small.user_counts().max() <= 5
    assert not small.ratings.duplicated(["user_id", "item_id"]).any()
    full = make_synthetic_interactions(4, 3, 12, random_state=1)  # every pair
    assert full.matrix.nnz == 12


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_users=0), "n_users == 0"),
    (dict(n_items=2.5), "n_items must be an integer"),
    (dict(n_users=10, n_items=5, n_interactions=51), "n_interactions=51 must be between"),
    (dict(n_users=10, n_interactions=5), "n_interactions=5 must be between"),
    (dict(taste_strength=1.5), "taste_strength=1.5"),
    (dict(popularity_exponent=-1), "popularity_exponent=-1"),
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_synthetic_interactions(**{"n_users": 20, "n_items": 10, "n_interactions": 100, **kwargs})


def test_exported_at_top_level():
    import filmrec_toolkit as ft

    assert ft.make_synthetic_interactions is make_synthetic_interactions
