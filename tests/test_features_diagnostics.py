"""document_diagnostics and its metric parts on hand-computable data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from filmrec_toolkit import Dataset, ItemEmbeddings
from filmrec_toolkit.features import (
    choose_document,
    co_rating_neighbors,
    document_diagnostics,
    document_sentences,
    genre_agreement,
    nearest_neighbors,
    neighbor_overlap,
    same_value_rate,
)


def test_nearest_neighbors_excludes_self_and_zero_rows():
    x = np.array([[1, 0], [0.9, 0.1], [0, 1], [0, 0], [0.1, 0.9]], dtype=np.float32)
    nb = nearest_neighbors(x, k=2)
    assert nb.tolist() == [[1, 4], [0, 4], [4, 1], [-1, -1], [2, 1]]
    assert nearest_neighbors(x, k=10).shape == (5, 4)  # capped at n - 1
    assert nearest_neighbors(x, k=2, chunk_size=2).tolist() == nb.tolist()  # chunking changes nothing
    with pytest.raises(ValueError, match="k == 0"):
        nearest_neighbors(x, k=0)


def test_nearest_neighbors_ties_go_to_the_lower_row():
    x = np.array([[1, 0], [1, 0], [1, 0], [1, 0]], dtype=np.float32)
    assert nearest_neighbors(x, k=2).tolist() == [[1, 2], [0, 2], [0, 1], [0, 1]]


def test_same_value_rate_by_hand():
    nb = np.array([[1, 2], [0, 2], [0, 1]])
    assert same_value_rate(nb, [1990, 1990, 2001]) == pytest.approx(1 / 3)  # (1/2 + 1/2 + 0) / 3
    # missing values and padding are skipped: item 2 has no value, item 1 has one valid neighbour
    assert same_value_rate(np.array([[1, 2], [0, -1], [0, 1]]), [1990, 1990, None]) == 1.0
    assert math.isnan(same_value_rate(np.array([[-1], [-1]]), [1, 1]))
    with pytest.raises(ValueError, match="one value per item"):
        same_value_rate(nb, [1, 2])


def test_genre_agreement_by_hand():
    nb = np.array([[1, 2], [0, 2], [0, 1]])
    share, jac = genre_agreement(nb, [["A", "B"], ["B"], "C|D"])
    # item 0: {B} shares, {C,D} not -> 1/2; jaccards 1/2, 0 -> 1/4
    # item 1: {A,B} shares, {C,D} not -> 1/2; jaccards 1/2, 0 -> 1/4
    # item 2: none shares -> 0; jaccards 0
    assert share == pytest.approx(1 / 3) and jac == pytest.approx(1 / 6)
    share, jac = genre_agreement(np.array([[1], [0], [0]]), [["A"], ["A"], []])  # no genres: skipped
    assert (share, jac) == (1.0, 1.0)


def test_neighbor_overlap_by_hand():
    assert neighbor_overlap(np.array([[1, 2], [0, 2]]), np.array([[2, 3], [3, -1]])) == 0.25
    assert neighbor_overlap(np.array([[1, 2]]), np.array([[2, 1]])) == 1.0
    with pytest.raises(ValueError, match="one row per item"):
        neighbor_overlap(np.array([[1]]), np.array([[1], [0]]))


def test_co_rating_neighbors_by_hand():
    # users x items: items 0 and 1 rated by the same users, item 2 by user 2 only with item 3
    x = sp.csr_matrix(np.array([[5, 4, 0, 0], [3, 1, 0, 0], [1, 0, 2, 0.0], [0, 0, 4, 4]]))
    x.data[x.data == 0] = 0  # values do not matter: any stored rating counts
    nb = co_rating_neighbors(x, k=2)
    # cos(0,1) = 2/sqrt(3*2); cos(0,2) = 1/sqrt(3*2); cos(2,3) = 1/sqrt(2*1); cos(1,2) = 0
    assert nb.tolist() == [[1, 2], [0, -1], [3, 0], [2, -1]]
    with pytest.raises(TypeError, match="scipy.sparse"):
        co_rating_neighbors(np.eye(3), k=1)


@pytest.fixture
def years_ds():
    """6 films: 3 comedies (1990, 1990, 2000) and 3 dramas (1990, 2000, 2000); two rating blocks."""
    items = pd.DataFrame({"item_id": range(6), "title": [f"F{i}" for i in range(6)],
                          "year": [1990, 1990, 2000, 1990, 2000, 2000],
                          "genres": [["Comedy"]] * 3 + [["Drama"]] * 3})
    ratings = pd.DataFrame({"user_id": [0, 0, 0, 1, 1, 1], "item_id": [0, 1, 2, 3, 4, 5], "rating": 4.0})
    return Dataset.from_frames(ratings, items)


def test_document_diagnostics_year_vector_vs_genre_vector(years_ds):
    ids = years_ds.item_ids
    year_vec = ItemEmbeddings(np.array([[1, 0], [1, 0], [0, 1], [1, 0], [0, 1], [0, 1]], np.float32), ids, "year")
    table = document_diagnostics(years_ds, {"by year": year_vec}, k=2)
    row = table.iloc[0]
    assert list(table.columns)[:4] == ["representation", "model_id", "k", "n_items"]
    # year vectors: neighbours are the 2 other films of the same year (3 per year) -> 1.0
    assert row["same_year"] == 1.0
    # genre flags: neighbours are the 2 other films of the genre: comedy 0 -> {1 same, 2 not} ...
    # items 0,1: 1/2; item 2: 0; item 3: 0; items 4,5: 1/2 -> 2/6
    assert row["same_year_genre_base"] == pytest.approx(1 / 3)
    assert row["year_ratio"] == pytest.approx(3.0)
    # genre agreement of the year vectors: 0 -> {1 C, 3 D} 1/2; 1 -> {0, 3} 1/2; 2 -> {4, 5} 0;
    # 3 -> {0, 1} 0; 4 -> {2 C, 5 D} 1/2; 5 -> {2, 4} 1/2  -> 2/6
    assert row["genre_agreement"] == pytest.approx(1 / 3)
    # co-rating neighbours = same genre block: year vectors overlap 1/2,1/2,0,0,1/2,1/2 -> 1/3
    assert row["co_rating_overlap"] == pytest.approx(1 / 3)
    assert row["co_rating_chance"] == pytest.approx(2 / 5)


def test_document_diagnostics_inputs(years_ds):
    ids = years_ds.item_ids
    emb = ItemEmbeddings(np.eye(6, dtype=np.float32), ids[::-1], "eye")  # any item order is aligned
    table = document_diagnostics(years_ds, [emb, emb], k=1, co_rating=False)
    assert table["representation"].tolist() == ["eye", "eye (2)"] and table["co_rating_overlap"].isna().all()
    with pytest.raises(ValueError, match="lacks 1 item"):
        document_diagnostics(years_ds, ItemEmbeddings(np.eye(5), ids[:5], "x"))
    with pytest.raises(TypeError, match="ItemEmbeddings"):
        document_diagnostics(years_ds, {"x": np.eye(6)})
    with pytest.raises(ValueError, match="genre_column='nope'"):
        document_diagnostics(years_ds, emb, genre_column="nope")


def _table():
    return pd.DataFrame({
        "representation": ["a", "b", "c", "tf-idf: a", "genre flags"], "template": ["a", "b", "c", "a", ""],
        "kind": ["lm", "lm", "lm", "tf-idf", "genres"], "k": 5,
        "same_year": [0.5, 0.06, 0.05, 0.05, 0.05], "same_year_genre_base": 0.05,
        "year_ratio": [10.0, 1.2, 1.0, 1.0, 1.0], "genre_agreement": [0.9, 0.95, 0.79, 0.99, 1.0],
        "co_rating_overlap": [0.07, 0.05, 0.06, 0.09, 0.03]})


def test_choose_document_and_sentences():
    table = _table()
    assert choose_document(table) == "b"   # a: too much year; c: genre agreement below .80; tf-idf not a candidate
    assert choose_document(table, min_genre_agreement=0.7) == "c"   # higher co-rating overlap than b
    assert choose_document(table, max_year_ratio=0.5) is None
    sentences = document_sentences(table, default="b")
    assert sentences[0].startswith("'a': 50.0% of each film's 5 nearest neighbours share its release year "
                                   "(10.0x the genre-flag rate of 5.0%)")
    assert "1 of 3 templates meet both targets" in sentences[3] and "'b' has the highest" in sentences[3]
    assert sentences[4].startswith("'a' overlaps more with co-rating neighbours (0.070) but fails the targets "
                                   "(same-year rate 10.0x that of genre flags, genre agreement 0.90). Its neighbours "
                                   "follow the release year")
    assert sentences[5] == ("'c' overlaps more with co-rating neighbours (0.060) but fails the targets (same-year "
                            "rate 1.0x that of genre flags, genre agreement 0.79).")
    assert sentences[6] == "It is the package default."
    assert document_sentences(table, default="a")[-1] == "The package default is 'a', not the measured choice."
    assert document_sentences(table, max_year_ratio=0.5)[-1].startswith("No template meets both targets")
    with pytest.raises(ValueError, match="missing column"):
        choose_document(table.drop(columns="year_ratio"))
