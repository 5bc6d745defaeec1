"""Dataset, vocabularies and validation errors on tiny hand-made data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import Dataset, UnknownIdError, Vocabulary


def test_from_frames_builds_sorted_vocabularies_and_csr(tiny):
    assert tiny.user_ids.tolist() == [1, 2, 3, 4]
    assert tiny.item_ids.tolist() == [10, 20, 30, 40, 50]
    m = tiny.matrix.toarray()
    assert m.shape == (4, 5) and m.dtype == np.float32
    # user 1 rated items 10, 20, 30 with 5, 3, 1
    assert m[0].tolist() == [5, 3, 1, 0, 0]
    # user 4 rated item 50 with 1
    assert m[3].tolist() == [0, 0, 0, 0, 1]
    assert tiny.item_counts().tolist() == [2, 2, 2, 1, 2]
    assert tiny.user_counts().tolist() == [3, 2, 3, 1]


def test_tables_are_aligned_to_vocabularies(tiny_frames):
    ratings, items, users = tiny_frames
    ds = Dataset.from_frames(ratings, items.iloc[::-1], users.iloc[::-1])
    assert ds.items["item_id"].tolist() == [10, 20, 30, 40, 50]
    assert ds.items["title"].iloc[0] == "Alpha (1990)"
    assert ds.users["gender"].tolist() == ["M", "F", "M", "F"]


def test_side_tables_without_rated_rows_are_dropped_unless_asked(tiny_frames):
    ratings, items, users = tiny_frames
    extra = pd.concat([items, pd.DataFrame({"item_id": [60], "title": ["New (2024)"], "year": [2024],
                                            "genres": [["Drama"]]})], ignore_index=True)
    assert Dataset.from_frames(ratings, extra).n_items == 5
    ds = Dataset.from_frames(ratings, extra, keep_unrated_items=True)
    assert ds.n_items == 6 and ds.item_counts()[-1] == 0


def test_vocabulary_round_trip_and_unknown_ids():
    v = Vocabulary(["b", "a", "c"], name="item_id")
    assert v.to_rows(["c", "b"]).tolist() == [2, 0]
    assert v.to_rows("a") == 1
    assert v.to_ids([0, 2]).tolist() == ["b", "c"]
    with pytest.raises(UnknownIdError, match="unknown"):
        v.to_rows(["zz"])
    with pytest.raises(ValueError, match="unique"):
        Vocabulary([1, 1, 2])


def test_unknown_user_in_history_names_the_id(tiny):
    with pytest.raises(UnknownIdError, match="99"):
        tiny.user_history(99)


def test_user_history_joins_titles_newest_first(tiny):
    h = tiny.user_history(1)
    assert h["title"].tolist() == ["Gamma (1992)", "Beta (1991)", "Alpha (1990)"]


@pytest.mark.parametrize("drop", ["user_id", "item_id", "rating"])
def test_missing_columns_are_named(tiny_frames, drop):
    ratings = tiny_frames[0].drop(columns=[drop])
    with pytest.raises(ValueError, match=f"missing required column.*'{drop}'"):
        Dataset.from_frames(ratings)


def test_non_numeric_ratings_are_refused(tiny_frames):
    ratings = tiny_frames[0].copy()
    ratings["rating"] = ratings["rating"].astype(object)
    ratings.loc[0, "rating"] = "five"
    with pytest.raises(ValueError, match="must be numeric.*five"):
        Dataset.from_frames(ratings)


def test_nan_ratings_are_refused(tiny_frames):
    ratings = tiny_frames[0].copy()
    ratings.loc[2, "rating"] = np.nan
    with pytest.raises(ValueError, match="1 NaN"):
        Dataset.from_frames(ratings)


def test_nan_ids_are_refused(tiny_frames):
    ratings = tiny_frames[0].copy()
    ratings["user_id"] = ratings["user_id"].astype(float)
    ratings.loc[0, "user_id"] = np.nan
    with pytest.raises(ValueError, match="user_id.*missing"):
        Dataset.from_frames(ratings)


def test_empty_ratings_are_refused():
    with pytest.raises(ValueError, match="empty"):
        Dataset.from_frames(pd.DataFrame(columns=["user_id", "item_id", "rating"]))


def test_not_a_dataframe_is_refused():
    with pytest.raises(TypeError, match="DataFrame"):
        Dataset.from_frames([(1, 2, 3.0)])


def test_duplicates_raise_by_default_and_resolve_explicitly(tiny_frames):
    ratings = tiny_frames[0]
    dup = pd.concat([ratings, pd.DataFrame({"user_id": [1], "item_id": [10], "rating": [1.0],
                                            "timestamp": [999]})], ignore_index=True)
    with pytest.raises(ValueError, match="duplicates='last'"):
        Dataset.from_frames(dup)
    last = Dataset.from_frames(dup, duplicates="last")
    assert last.matrix[0, 0] == 1.0 and last.n_ratings == 9
    mean = Dataset.from_frames(dup, duplicates="mean")
    assert mean.matrix[0, 0] == pytest.approx(3.0)  # (5 + 1) / 2
    first = Dataset.from_frames(dup, duplicates="first")
    assert first.matrix[0, 0] == 5.0
    with pytest.raises(ValueError, match="duplicates='bogus'"):
        Dataset.from_frames(dup, duplicates="bogus")
    # the caller's frame is untouched
    assert len(dup) == 10


def test_side_table_with_duplicate_ids_is_refused(tiny_frames):
    ratings, items, _ = tiny_frames
    with pytest.raises(ValueError, match="duplicated ids"):
        Dataset.from_frames(ratings, pd.concat([items, items.iloc[:1]]))


def test_filter_is_an_iterated_k_core(tiny):
    # min_rating=3 keeps 6 ratings: u1:{10,20} u2:{10} u3:{20,30,50}
    f = tiny.filter(min_rating=3)
    assert f.n_ratings == 6
    # then users need >= 2 ratings: u2 (only item 10) drops; u1 {10, 20} and u3 {20, 30, 50} stay
    core = tiny.filter(min_rating=3, min_user_ratings=2, min_item_ratings=1)
    assert set(core.user_ids) == {1, 3}
    with pytest.raises(ValueError, match="removed every rating"):
        tiny.filter(min_user_ratings=10)


def test_to_implicit_keeps_vocabularies(tiny):
    imp = tiny.to_implicit(4)
    assert imp.n_ratings == 4 and set(imp.ratings["rating"]) == {1.0}
    assert imp.user_vocab == tiny.user_vocab and imp.item_vocab == tiny.item_vocab


def test_summary_counts(tiny):
    s = tiny.summary()
    assert s["n_ratings"] == 9 and s["n_users"] == 4 and s["n_items"] == 5
    assert s["n_male_users"] == 2 and s["rating_min"] == 1.0


def test_concat_refuses_overlap(tiny):
    a, b = ft.random_split(tiny, 0.5, random_state=0)
    assert Dataset.concat([a, b]).n_ratings == tiny.n_ratings
    with pytest.raises(ValueError, match="overlap"):
        Dataset.concat([a, a])


def test_top_level_names():
    for name in ("load_movielens", "Dataset", "random_split", "stratified_split", "temporal_split",
                 "leave_last_one_out", "global_time_split", "user_random_split"):
        assert hasattr(ft, name)
    from filmrec_toolkit.datasets import load_movielens  # noqa: F401
