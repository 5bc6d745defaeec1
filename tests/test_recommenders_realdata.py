"""Real MovieLens checks under the MSR protocol (ml-100k): issue 4's acceptance numbers."""

from __future__ import annotations

import pytest

import filmrec_toolkit as ft

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def msr_split(ml100k):
    return ft.stratified_split(ml100k, 0.75, random_state=42)


@pytest.fixture(scope="module")
def popularity_ndcg(msr_split):
    train, test = msr_split
    return ft.evaluate(ft.Popularity(), train, test, k=10).means["ndcg@10"]


def test_ease_reaches_published_level(msr_split):
    train, test = msr_split
    res = ft.evaluate(ft.EASE(l2=500), train, test, k=10)  # l2 chosen on a validation split inside train
    assert res.n_users_excluded == 0 and res.n_users == 943
    assert res.means["ndcg@10"] >= 0.40
    assert res.means["precision@10"] > 0.38 and res.means["map@10"] < res.means["map_at_k@10"]


@pytest.mark.parametrize("model", [
    ft.ItemKNN(n_neighbors=200, shrink=10), ft.EASE(l2=500),
    ft.ALS(factors=32, alpha=5, regularization=0.1, random_state=42),
    ft.BPR(factors=64, learning_rate=0.01, iterations=100, random_state=42),
], ids=lambda m: type(m).__name__)
def test_every_cf_model_beats_popularity(model, msr_split, popularity_ndcg):
    train, test = msr_split
    assert ft.evaluate(model, train, test, k=10).means["ndcg@10"] > popularity_ndcg


@pytest.mark.slow  # encodes 1,682 documents with MiniLM unless FILMREC_TEST_DATA_HOME holds the cache
def test_minilm_content_beats_genre_content(ml100k):
    ds = ft.attach_overviews(ml100k)  # MiniLM reads title, genres and the TMDB plot where there is one
    train, test = ft.stratified_split(ds, 0.75, random_state=42)
    lm = ft.evaluate(ft.ContentRecommender(ft.embed_items(ds)), train, test, k=10).means["ndcg@10"]
    genres = ft.evaluate(ft.ContentRecommender(ft.embed_items(ds, encoder=ft.GenreEncoder())), train, test,
                         k=10).means["ndcg@10"]
    assert lm > genres
