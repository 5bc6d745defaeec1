"""Dataset.from_frames and the splits refuse or repair bad input with clear messages (issue 14)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import Dataset
from filmrec_toolkit.profiles.user import profile_weights

SECONDS = np.array([946684800, 947548800, 946684800, 946771200], dtype=np.int64)  # 2000-01-01, +10 d, +0, +1 d


def _ratings(timestamps) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [10, 20, 10, 30], "rating": [4.0, 5.0, 3.0, 2.0],
                         "timestamp": timestamps})


# ---------------------------------------------------------------- 4. timestamps
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime64_timestamps_become_epoch_seconds(unit):
    dates = pd.Series(pd.to_datetime(SECONDS, unit="s")).astype(f"datetime64[{unit}]")
    ds = Dataset.from_frames(_ratings(dates))
    assert ds.ratings["timestamp"].tolist() == SECONDS.tolist()
    assert ds.ratings["timestamp"].dtype == np.int64


def test_timezone_aware_datetimes_are_converted_to_utc_seconds():
    dates = pd.Series(pd.to_datetime(SECONDS, unit="s", utc=True)).dt.tz_convert("Europe/Paris")
    assert Dataset.from_frames(_ratings(dates)).ratings["timestamp"].tolist() == SECONDS.tolist()


def test_time_decay_weights_do_not_depend_on_the_timestamp_type():
    expected = profile_weights(Dataset.from_frames(_ratings(SECONDS)), "time_decay", half_life_days=10).toarray()
    assert expected[0].tolist() == [0.5, 1.0, 0.0]  # 10 days before the latest rating: half weight
    dates = pd.Series(pd.to_datetime(SECONDS, unit="s")).astype("datetime64[us]")
    with_dates = profile_weights(Dataset.from_frames(_ratings(dates)), "time_decay", half_life_days=10)
    np.testing.assert_allclose(with_dates.toarray(), expected)
    with pytest.warns(UserWarning, match="milliseconds"):
        with_ms = Dataset.from_frames(_ratings(SECONDS * 1000))
    np.testing.assert_allclose(profile_weights(with_ms, "time_decay", half_life_days=10).toarray(), expected)


def test_global_time_split_works_with_datetime_column():
    dates = pd.Series(pd.to_datetime(SECONDS, unit="s"))
    train, test = ft.global_time_split(Dataset.from_frames(_ratings(dates)), timestamp=946771200)
    assert (train.n_ratings, test.n_ratings) == (2, 2)
    train, test = ft.global_time_split(Dataset.from_frames(_ratings(dates)), quantile=0.5)
    assert train.n_ratings + test.n_ratings == 4


@pytest.mark.parametrize("factor,unit", [(1000, "milliseconds"), (1_000_000, "microseconds"),
                                         (1_000_000_000, "nanoseconds")])
def test_sub_second_epochs_are_detected_and_converted(factor, unit):
    with pytest.warns(UserWarning, match=f"{unit}.*divided by {factor:,}"):
        ds = Dataset.from_frames(_ratings(SECONDS * factor))
    assert ds.ratings["timestamp"].tolist() == SECONDS.tolist()
    s = ds.summary()
    assert (s["first_rating"], s["last_rating"]) == ("2000-01-01", "2000-01-11")


def test_millisecond_epochs_keep_sub_second_order():
    ms = SECONDS * 1000 + np.array([1, 999, 0, 0])
    with pytest.warns(UserWarning, match="milliseconds"):
        ds = Dataset.from_frames(_ratings(ms))
    np.testing.assert_allclose(ds.ratings["timestamp"].to_numpy(), ms / 1000)


def test_seconds_are_kept_as_they_are():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = Dataset.from_frames(_ratings(SECONDS))
        small = Dataset.from_frames(_ratings([1, 2, 3, 4]))  # synthetic clocks are fine
    assert ds.ratings["timestamp"].tolist() == SECONDS.tolist()
    assert small.ratings["timestamp"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("bad", [["2000-01-01"] * 4, [True, False, True, True], [0, np.inf, 1, 2]])
def test_unusable_timestamps_are_refused_with_a_fix(bad):
    with pytest.raises((TypeError, ValueError), match=r"ratings\['timestamp'\].*(pd.to_datetime|finite)"):
        Dataset.from_frames(_ratings(bad))


# ---------------------------------------------------------------- 9. mixed ids
def test_mixed_int_and_str_ids_are_named():
    ratings = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, "2", 3], "rating": 1.0})
    with pytest.raises(TypeError, match=r"ratings\['item_id'\] mixes.*int.*str.*astype\(str\)"):
        Dataset.from_frames(ratings)
    ratings = pd.DataFrame({"user_id": ["a", 2, 3], "item_id": [1, 2, 3], "rating": 1.0})
    with pytest.raises(TypeError, match=r"ratings\['user_id'\] mixes"):
        Dataset.from_frames(ratings)


def test_mixed_ids_in_a_kept_side_table_are_named(tiny_frames):
    ratings, items, _ = tiny_frames
    items = items.astype({"item_id": object})
    items.loc[4, "item_id"] = "50"
    with pytest.raises(TypeError, match=r"items\['item_id'\] mixes"):
        Dataset.from_frames(ratings, items, keep_unrated_items=True)


# ---------------------------------------------------------------- 10. silent data problems
def test_rating_overflowing_float32_is_refused():
    ratings = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [4.0, 1e39]})
    with pytest.raises(ValueError, match=r"ratings\['rating'\].*float32.*1e\+39"):
        Dataset.from_frames(ratings)


def test_string_keyed_item_table_is_matched_to_integer_ids(tiny_frames):
    ratings, items, users = tiny_frames
    items = items.assign(item_id=items["item_id"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = Dataset.from_frames(ratings, items, users.assign(user_id=users["user_id"].astype(str)))
    assert ds.items["title"].tolist() == ["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Delta (1993)",
                                          "Epsilon (1994)"]
    assert ds.users["gender"].notna().all()


def test_integer_keyed_item_table_is_matched_to_string_ids(tiny_frames):
    ratings, items, _ = tiny_frames
    ds = Dataset.from_frames(ratings.assign(item_id=ratings["item_id"].astype(str)), items)
    assert ds.items["title"].notna().all() and ds.item_ids.tolist() == ["10", "20", "30", "40", "50"]


def test_item_table_that_cannot_match_is_refused(tiny_frames):
    ratings, items, _ = tiny_frames
    items = items.assign(item_id=[f"m{i}" for i in items["item_id"]])
    with pytest.raises(TypeError, match=r"items\['item_id'\] holds text.*ratings\['item_id'\] holds numbers"):
        Dataset.from_frames(ratings, items)


def test_rated_items_missing_from_the_item_table_are_reported(tiny_frames):
    ratings, items, users = tiny_frames
    with pytest.warns(UserWarning, match=r"2 of 5 rated item\(s\) have no row in items.*\[40, 50\]"):
        ds = Dataset.from_frames(ratings, items.iloc[:3], users)
    assert ds.items["title"].isna().sum() == 2
    with pytest.warns(UserWarning, match=r"1 of 4 rated user\(s\) have no row in users.*\[4\]"):
        Dataset.from_frames(ratings, items, users.iloc[:3])


# ---------------------------------------------------------------- 8/9. split parameters
@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    rows = [(u, i, float(rng.integers(1, 6)), int(100 * u + i)) for u in range(1, 9) for i in range(1, 11)]
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]))


@pytest.mark.parametrize("bad", [1.7, 0, -1, "2", True, np.nan])
def test_temporal_split_last_n_must_be_a_positive_integer(small, bad):
    with pytest.raises((TypeError, ValueError), match=r"last_n.*integer >= 1.*e\.g\. last_n=1"):
        ft.temporal_split(small, last_n=bad)


def test_temporal_split_accepts_numpy_integers(small):
    train, test = ft.temporal_split(small, last_n=np.int64(2))
    assert test.n_ratings == 16


def test_user_random_split_accepts_a_scalar_ratio(small):
    train, test = ft.user_random_split(small, 0.8)
    assert (train.n_ratings, test.n_ratings) == (64, 16)
    for bad in (1.5, "0.8", (0.5, 0.6)):
        with pytest.raises(ValueError, match=r"ratios=.*e\.g\. 0\.8 or \(0\.8, 0\.1, 0\.1\)"):
            ft.user_random_split(small, bad)


def test_stratified_split_random_state_kinds(small):
    a = ft.stratified_split(small, random_state=np.random.default_rng(3))
    b = ft.stratified_split(small, random_state=np.random.default_rng(3))
    assert a[1].ratings.equals(b[1].ratings)
    c = ft.stratified_split(small, random_state=np.random.RandomState(5))
    d = ft.stratified_split(small, random_state=5)
    assert c[1].ratings.equals(d[1].ratings)
    with pytest.raises(TypeError, match=r"random_state=.*int.*None.*Generator.*e\.g\. random_state=42"):
        ft.stratified_split(small, random_state="seed")
