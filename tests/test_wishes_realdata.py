"""Free-text wishes on real ml-100k: genre precision@10 of the shipped wish query set."""

from __future__ import annotations

import pytest

import filmrec_toolkit as ft

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def minilm_model(ml100k):
    encoder = ft.TextEncoder().fit()
    return ft.ContentRecommender(ft.embed_items(ml100k, encoder=encoder)).fit(ml100k), encoder


def test_wishes_reach_the_genre_asked_for(minilm_model):
    model, encoder = minilm_model
    queries = ft.load_wish_queries()
    test = queries[queries["split"] == "test"]  # the defaults were chosen on the validation phrasings
    out = ft.wish_genre_precision(model, encoder, test, k=10)
    assert out["precision"].mean() >= 0.85, out[["genre", "precision"]]
    raw = ft.wish_genre_precision(model, encoder, test, k=10, intent=None)  # the wish's embedding alone
    assert raw["precision"].mean() < out["precision"].mean()


def test_wish_text_end_to_end(minilm_model):
    model, encoder = minilm_model
    recs = ft.recommend_for_profile(model, text="a frightening film full of monsters", k=10, encoder=encoder)
    genres = model.train_.items.set_index("item_id").loc[recs["item_id"], "genres"]
    assert sum("Horror" in g for g in genres) >= 8, recs


def test_tfidf_matches_words_not_meaning(ml100k):
    docs = ft.build_item_documents(ml100k)
    tfidf = ft.TfidfEncoder()
    model = ft.ContentRecommender(ft.embed_items(ml100k, encoder=tfidf, documents=docs)).fit(ml100k)
    queries = ft.load_wish_queries()
    out = ft.wish_genre_precision(model, tfidf, queries[queries["split"] == "test"], k=10)
    assert out["precision"].mean() < 0.5
