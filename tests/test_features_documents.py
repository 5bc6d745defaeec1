"""Item documents, overview joins, genre/TF-IDF baselines and similar_items on tiny data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from filmrec_toolkit import Dataset
from filmrec_toolkit.exceptions import UnknownIdError
from filmrec_toolkit.features import (
    DEFAULT_FIELDS,
    DOCUMENT_TEMPLATES,
    GenreEncoder,
    ItemEmbeddings,
    TfidfEncoder,
    attach_overviews,
    build_item_documents,
    embed_items,
    normalize_title,
    overview_coverage,
    similar_items,
)


@pytest.fixture
def films():
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3], "item_id": [1, 2, 2, 3, 3, 4],
                            "rating": [5.0, 4, 3, 2, 1, 5]})
    items = pd.DataFrame({
        "item_id": [1, 2, 3, 4],
        "title": ["Toy Story (1995)", "American President, The (1995)", "Heat", None],
        "year": [1995, 1995, 1995, np.nan],
        "genres": [["Animation", "Children's", "Comedy"], ["Comedy", "Drama"], [], np.nan],
        "overview": ["Toys come alive.", np.nan, "  ", "A film about nothing"],
        "tags": [["pixar", "buddy"], None, "heist|cops", "nan"],
        "director": ["Lasseter", None, "Mann", "Nobody"],
    })
    return Dataset.from_frames(ratings, items, name="films")


def test_documents_missing_fields_left_out_cleanly(films):
    docs = build_item_documents(films)  # default: genres first, title without its year
    assert docs == [
        "Genres: Animation, Children's, Comedy. Toy Story. Plot: Toys come alive. Tags: pixar, buddy.",
        "Genres: Comedy, Drama. American President, The.",
        "Heat. Tags: heist, cops.",           # blank overview and empty genres dropped
        "Plot: A film about nothing.",        # no title, no genres, "nan" tag dropped
    ]
    assert not any("nan" in d.lower() or "Plot: ." in d or "1995" in d for d in docs)


def test_documents_year_only_when_listed(films):
    docs = build_item_documents(films, fields=("title", "year", "genres", "overview", "tags"))
    assert docs == [
        "Toy Story (1995). Genres: Animation, Children's, Comedy. Plot: Toys come alive. Tags: pixar, buddy.",
        "American President, The (1995). Genres: Comedy, Drama.",
        "Heat (1995). Tags: heist, cops.",   # year added to a title without it
        "Plot: A film about nothing.",
    ]
    assert build_item_documents(films, "title_year_genres") == docs  # a template name
    assert build_item_documents(films, "title_genres")[0] == "Toy Story. Genres: Animation, Children's, Comedy. " \
                                                             "Plot: Toys come alive. Tags: pixar, buddy."
    assert build_item_documents(films, "genres")[:2] == ["Genres: Animation, Children's, Comedy.",
                                                         "Genres: Comedy, Drama."]
    assert build_item_documents(films, fields=("tags", "title"))[2] == "Tags: heist, cops. Heat."  # order kept
    assert DEFAULT_FIELDS == DOCUMENT_TEMPLATES["genres_title"]


def test_documents_fields_custom_column_and_template(films):
    assert build_item_documents(films, fields=("title", "director"))[:2] == [
        "Toy Story. Director: Lasseter.", "American President, The."]
    docs = build_item_documents(films, template="{title} directed by {director}. Plot: {overview}")
    assert docs[0] == "Toy Story (1995) directed by Lasseter. Plot: Toys come alive."
    assert docs[1] == "American President, The (1995) directed by."  # empty "Plot:" removed
    assert build_item_documents(films, template=lambda r: r["director"] or "?")[1] == "?"
    with pytest.raises(ValueError, match="synopsis"):
        build_item_documents(films, fields=("title", "synopsis"))
    with pytest.raises(ValueError, match="budget"):
        build_item_documents(films, template="{title} {budget}")


def test_documents_order_follows_vocabulary(tiny):
    docs = build_item_documents(tiny, fields=("title", "year"))
    assert docs == [f"{t}." for t in tiny.items["title"]]
    assert len(docs) == tiny.n_items


def test_normalize_title():
    assert normalize_title("American President, The (1995)") == normalize_title("The American President")
    assert normalize_title("City of Lost Children, The (Cité des enfants perdus, La) (1995)") == "city of lost children"
    assert normalize_title("Léon: The Professional") == "leon the professional"
    assert normalize_title(np.nan) == ""


def test_attach_overviews_from_frame_by_id_and_title(films):
    base = films.items.drop(columns="overview")
    ds = Dataset(films.ratings, base, films.users, films.user_vocab, films.item_vocab)
    out = attach_overviews(ds, frame=pd.DataFrame({"item_id": [1, 3], "plot": ["P1", None]}), text_col="plot")
    assert out.items["overview"].tolist()[:1] == ["P1"] and out.items["overview"].isna().sum() == 3
    cov = out.items.attrs["overview_coverage"]
    # 1 of 4 items; item 1 has 1 of 6 ratings
    assert (cov["n_items"], cov["item_share"], cov["rating_share"]) == (1, 0.25, pytest.approx(1 / 6))
    assert "overview" not in ds.items.columns  # input untouched
    assert out.item_vocab == ds.item_vocab and out.n_ratings == ds.n_ratings

    table = pd.DataFrame({"title": ["The American President", "American President"], "year": [1996, 1970],
                          "overview": ["A widower president.", "wrong year"]})
    out2 = attach_overviews(ds, frame=table, on="title")
    assert out2.items["overview"].tolist()[1] == "A widower president."  # year within +-1 wins
    assert overview_coverage(out2)["n_items"] == 1


def test_attach_overviews_never_overwrites_silently(films):
    frame = pd.DataFrame({"item_id": [1, 2], "overview": ["NEW1", "NEW2"]})
    with pytest.raises(ValueError, match="already holds text"):
        attach_overviews(films, frame=frame)
    filled = attach_overviews(films, frame=frame, overwrite="fill")
    assert filled.items["overview"].tolist()[:2] == ["Toys come alive.", "NEW2"]
    replaced = attach_overviews(films, frame=frame, overwrite=True)
    assert replaced.items["overview"].tolist()[:2] == ["NEW1", "NEW2"]


@pytest.mark.realdata
def test_tmdb_overview_coverage_ml100k(ml100k):
    out = attach_overviews(ml100k)
    cov = out.items.attrs["overview_coverage"]
    assert cov["rating_share"] >= 0.30, cov
    toy = out.items.loc[out.items["title"] == "Toy Story (1995)", "overview"].iloc[0]
    assert "Woody" in toy
    assert "Plot: " in build_item_documents(out)[0]


def test_genre_encoder_multihot(tiny):
    emb = embed_items(tiny, encoder=GenreEncoder())
    assert emb.model_id == "genres" and emb.matrix.dtype == np.float32
    enc = GenreEncoder().fit(tiny)
    assert enc.genres_ == ["Action", "Comedy", "Drama", "Sci-Fi"]
    # item 30 = Comedy + Drama -> [0, 1, 1, 0] / sqrt(2)
    row = tiny.item_vocab.to_rows(30)
    np.testing.assert_allclose(emb.matrix[row], [0, 1 / np.sqrt(2), 1 / np.sqrt(2), 0], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(emb.matrix, axis=1), 1, rtol=1e-6)
    assert emb.text_hashes is not None and len(emb.text_hashes) == tiny.n_items


def test_tfidf_encoder(tiny):
    emb = embed_items(tiny, encoder=TfidfEncoder(min_df=1, stop_words=None))
    assert emb.model_id == "tfidf" and emb.matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb.matrix, axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(emb.item_ids, tiny.item_ids)
    # Alpha and Gamma share "Comedy"; Alpha and Delta share nothing but the "Genres" label
    sim = emb.matrix @ emb.matrix.T
    a, g, d = tiny.item_vocab.to_rows([10, 30, 40])
    assert sim[a, g] > sim[a, d]


def _toy_embeddings():
    # 4 items on the unit circle: cos(A,B)=0.8, cos(A,C)=0, cos(A,D)=-1
    m = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32)
    return ItemEmbeddings(m, np.array(["A (1990)", "B (1991)", "C (1992)", "A (2001)"]), "toy")


def test_similar_items_by_id_and_title():
    emb = _toy_embeddings()
    out = similar_items(emb, "B (1991)", k=2)
    assert out["item_id"].tolist() == ["A (1990)", "C (1992)"]  # cos 0.8, 0.6
    np.testing.assert_allclose(out["score"], [0.8, 0.6], rtol=1e-6)
    assert out["rank"].tolist() == [1, 2]
    assert similar_items(emb, "c", k=10)["item_id"].tolist() == ["B (1991)", "A (1990)", "A (2001)"]  # k capped
    with pytest.raises(UnknownIdError, match="ambiguous.*A \\(1990\\).*A \\(2001\\)"):
        similar_items(emb, "A")
    with pytest.raises(UnknownIdError, match="Close matches: 'B \\(1991\\)'"):
        similar_items(emb, "B (1919)")
    with pytest.raises(ValueError, match="k == 0"):
        similar_items(emb, "B (1991)", k=0)


def test_similar_items_with_dataset_titles(tiny):
    emb = embed_items(tiny, encoder=GenreEncoder())
    out = similar_items(emb, "gamma", k=2, dataset=tiny)
    # Gamma = Comedy+Drama: Alpha (Comedy) and Beta (Drama) both at 1/sqrt(2); tie -> vocabulary order
    assert out["title"].tolist() == ["Alpha (1990)", "Beta (1991)"]
    assert similar_items(emb, 30, k=1, dataset=tiny)["item_id"].tolist() == [10]
