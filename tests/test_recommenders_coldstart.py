"""Cold start (new users from films or text, new items from text) and explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_recommenders_fixtures import BLOCK, FakeEncoder, block_dataset, block_embeddings, block_frames

from filmrec_toolkit import (
    ALS,
    EASE,
    ContentAwareHybrid,
    ContentRecommender,
    Dataset,
    Explanation,
    Hybrid,
    ItemEmbeddings,
    ItemKNN,
    Popularity,
    UnknownIdError,
    explain,
    recommend_for_profile,
)


@pytest.fixture(scope="module")
def blocks():
    return block_dataset()


@pytest.fixture(scope="module")
def content(blocks):
    return ContentRecommender(block_embeddings(blocks)).fit(blocks)


# --------------------------------------------------------------------- new users
def test_new_user_from_liked_titles(content):
    recs = content.recommend_for_profile(["Comedy film 0 (2000)", "comedy film 1 (2000)"], k=3)
    assert list(recs.columns) == ["item_id", "title", "score", "rank"]
    assert set(recs["item_id"]) <= set(range(2, BLOCK))  # other comedies; liked ones excluded
    assert recs["rank"].tolist() == [1, 2, 3]


def test_new_user_from_text_only(content):
    recs = recommend_for_profile(content, text="something scary, a horror night", k=4, encoder=FakeEncoder())
    assert set(recs["item_id"]) <= set(range(BLOCK, 2 * BLOCK))


def test_text_and_films_combined(content):
    recs = content.recommend_for_profile([0], text="a funny comedy", k=3, encoder=FakeEncoder())
    assert 0 not in set(recs["item_id"]) and set(recs["item_id"]) <= set(range(BLOCK))
    keep = content.recommend_for_profile([0], k=20, exclude_liked=False)
    assert 0 in set(keep["item_id"])


def test_cf_models_cold_start_from_films(blocks):
    for model in (EASE(l2=5.0), ItemKNN(n_neighbors=5)):
        recs = model.fit(blocks).recommend_for_profile([9, 10, 11], k=3)
        assert set(recs["item_id"]) <= set(range(BLOCK, 2 * BLOCK)), type(model).__name__
    pop = Popularity().fit(blocks).recommend_for_profile([0], k=2)
    assert len(pop) == 2


def test_cold_start_errors(content, blocks):
    with pytest.raises(ValueError, match="needs liked_items and/or text"):
        content.recommend_for_profile()
    with pytest.raises(ValueError, match="pass encoder="):
        content.recommend_for_profile(text="funny")
    with pytest.raises(UnknownIdError, match="Close titles"):
        content.recommend_for_profile(["Comedy flm 0 (2000)"])

    class WrongDim:
        def transform(self, texts):
            return np.ones((len(texts), 7))

    with pytest.raises(ValueError, match="dimension 7"):
        content.recommend_for_profile(text="funny", encoder=WrongDim())
    with pytest.raises(ValueError, match="EASE cannot use text"):
        EASE(l2=5.0).fit(blocks).recommend_for_profile([0], text="x", encoder=FakeEncoder())
    with pytest.raises(TypeError, match="cannot score a new user's profile"):
        Hybrid([ALS(factors=2, random_state=0)]).fit(blocks).recommend_for_profile([0])


def test_hybrids_cold_start_with_films_and_text(blocks):
    emb = block_embeddings(blocks)
    for model in (Hybrid([EASE(l2=5.0), ContentRecommender(emb)]),
                  ContentAwareHybrid(EASE(l2=5.0), ContentRecommender(emb))):
        model.fit(blocks)
        films = model.recommend_for_profile([9, 10], k=3)
        assert set(films["item_id"]) <= set(range(BLOCK, 2 * BLOCK)), type(model).__name__
        text = model.recommend_for_profile(text="a funny comedy", k=3, encoder=FakeEncoder())
        assert set(text["item_id"]) <= set(range(BLOCK)), type(model).__name__


# --------------------------------------------------------------------- new items
def _with_new_item():
    ratings, items = block_frames()
    new = pd.DataFrame({"item_id": [99], "title": ["Brand New Laughs (2025)"], "genres": [["Comedy"]],
                        "overview": ["A very funny comedy"]})
    items = pd.concat([items, new], ignore_index=True)
    ds = Dataset.from_frames(ratings, items, keep_unrated_items=True)
    old = block_embeddings(block_dataset())  # rated films: noisy vectors around their genre axis
    new_vector = FakeEncoder().transform(ds.items["overview"].iloc[[-1]].tolist())  # the new film: its text only
    vectors = np.vstack([old.matrix, new_vector / np.linalg.norm(new_vector)])
    return ds, ItemEmbeddings(vectors, np.append(old.item_ids, 99), "fake")


def test_brand_new_item_is_recommended_by_content():
    ds, emb = _with_new_item()
    assert ds.item_counts()[ds.item_vocab.to_rows(99)] == 0  # no rating at all
    recs = ContentRecommender(emb).fit(ds).recommend(k=3)
    with_new = set(recs.loc[recs["item_id"] == 99, "user_id"])
    assert with_new == set(range(10))  # in the top 3 of every comedy fan, of no horror fan
    hybrid = ContentAwareHybrid(EASE(l2=5.0), ContentRecommender(emb), content_weight=0.0, tail_weight=1.0,
                                shrink=1.0).fit(ds)
    assert hybrid.item_content_weight_[ds.item_vocab.to_rows(99)] == 1.0  # never rated -> the full tail weight
    assert 99 in set(hybrid.recommend(users=[0, 1, 2], k=3)["item_id"])
    assert 99 not in set(EASE(l2=5.0).fit(ds).recommend(users=[0, 1, 2], k=3)["item_id"])


def test_recommend_new_items_outside_vocabulary(content, blocks):
    enc = FakeEncoder()
    new = ItemEmbeddings(enc.transform(["funny comedy", "scary horror"]), np.array(["n1", "n2"]), "fake")
    recs = content.recommend_new_items(new, users=[0, 15], k=1)
    assert recs.set_index("user_id")["item_id"].to_dict() == {0: "n1", 15: "n2"}
    with pytest.raises(ValueError, match="dimension 3"):
        content.recommend_new_items(ItemEmbeddings(np.eye(3), np.arange(3), "x"))


# ------------------------------------------------------------------ explanations
def test_content_explanation_sums_to_score(content, blocks):
    hist = set(blocks.user_history(0)["item_id"])
    target = sorted(set(range(BLOCK)) - hist)[0]
    frame, sentence, score = content.explain(0, target, n=10)
    assert score == pytest.approx(float(content.score([0])[0, target]), rel=1e-5)
    assert frame["contribution"].sum() == pytest.approx(score, rel=1e-4)
    assert set(frame["item_id"]) == hist
    assert frame["contribution"].is_monotonic_decreasing
    assert all(g == ["Comedy"] for g in frame["shared_genres"])
    assert f"Comedy film {target} (2000)" in sentence and "shared genres: Comedy" in sentence


def test_itemknn_and_ease_explanations(blocks):
    knn = ItemKNN(n_neighbors=5, shrink=1.0).fit(blocks)
    target = int(knn.recommend(users=[15], k=1)["item_id"].iat[0])
    exp = explain(knn, 15, target, n=10)
    assert isinstance(exp, Explanation)
    assert exp.frame["contribution"].sum() == pytest.approx(float(knn.score([15])[0, target]), rel=1e-5)
    assert "neighbour contributions" in exp.sentence and "Horror" in exp.sentence
    ease = EASE(l2=5.0).fit(blocks)
    e = ease.explain(15, target, n=10)
    assert e.frame["contribution"].sum() == pytest.approx(float(ease.score([15])[0, target]), rel=1e-4)
    assert "because it is popular" in Popularity().fit(blocks).explain(15, target).sentence
    with pytest.raises(UnknownIdError):
        knn.explain(12345, target)
    with pytest.raises(TypeError, match="does not support explain"):
        Hybrid([EASE()]).fit(blocks).explain(0, 1)


# ------------------------------------------------------------------- free-text wishes
def test_whitespace_wish_is_refused(content):
    for text in ("", "   ", "\n\t"):
        with pytest.raises(ValueError, match="empty or only whitespace"):
            content.recommend_for_profile(text=text, encoder=FakeEncoder())
    with pytest.raises(TypeError, match="text must be a str"):
        recommend_for_profile(content, text=["funny"], encoder=FakeEncoder())
    with pytest.raises(ValueError, match="intent='bogus'"):
        recommend_for_profile(content, text="funny", encoder=FakeEncoder(), intent="bogus")


def test_wish_query_reads_the_genre_asked_for():
    from filmrec_toolkit.recommenders.cold_start import wish_query

    enc = FakeEncoder()
    # "a scary night" embeds on the horror axis; the genre part adds the "Genres: Horror." vector
    q = wish_query("a scary night", enc, ["Comedy", "Horror"], temperature=0.01, wish_weight=0.0)
    np.testing.assert_allclose(q, enc.transform(["Genres: Horror."])[0] / np.linalg.norm(
        enc.transform(["Genres: Horror."])[0]), atol=1e-5)
    # wish_weight=1: the wish plus the genre part, then unit norm
    w = enc.transform(["a scary night"])[0]
    g = enc.transform(["Genres: Horror."])[0]
    expected = w / np.linalg.norm(w) + g / np.linalg.norm(g)
    np.testing.assert_allclose(wish_query("a scary night", enc, ["Comedy", "Horror"], temperature=0.01),
                               expected / np.linalg.norm(expected), atol=1e-5)
    # no genres: the wish alone; a list gives one row per wish
    np.testing.assert_allclose(wish_query("a scary night", enc, []), w / np.linalg.norm(w), atol=1e-6)
    assert wish_query(["funny", "scary"], enc, ["Comedy", "Horror"]).shape == (2, 4)
    # a high temperature spreads the genre part evenly between the genres
    flat = wish_query("a scary night", enc, ["Comedy", "Horror"], temperature=1e6, wish_weight=0.0)
    assert flat[0] == pytest.approx(flat[1], rel=1e-4)
    with pytest.raises(ValueError, match="temperature=0"):
        wish_query("x", enc, ["Comedy"], temperature=0)
    with pytest.raises(ValueError, match="wish_weight=-1"):
        wish_query("x", enc, ["Comedy"], wish_weight=-1)


def test_genre_precision_by_hand():
    from filmrec_toolkit import genre_precision

    assert genre_precision([["Horror"], ["Comedy", "Horror"], ["Drama"], []], "Horror") == 0.5
    assert genre_precision(["Horror|Comedy", "Drama"], "Horror") == 0.5
    assert genre_precision([], "Horror") == 0.0


def test_wish_genre_precision_on_blocks(content):
    from filmrec_toolkit import load_wish_queries, wish_genre_precision

    queries = pd.DataFrame({"genre": ["Comedy", "Horror", "Comedy"],
                            "query": ["something funny", "a scary night", "a western"]})
    out = wish_genre_precision(content, FakeEncoder(), queries, k=4)
    # FakeEncoder: "funny" -> comedy axis, "scary" -> horror axis; "a western" -> the third axis,
    # whose closest label is chosen by the softmax: half the genre part each -> mixed list
    assert out["precision"].tolist()[:2] == [1.0, 1.0]
    assert out["titles"].map(len).tolist() == [4, 4, 4]
    # k larger than the catalogue: the missing places count as misses
    assert wish_genre_precision(content, FakeEncoder(), queries.iloc[:1], k=32)["precision"].iat[0] == 0.25
    shipped = load_wish_queries()
    assert len(shipped) == 36
    assert all(sorted(s) == ["test", "validation"] for s in shipped.groupby("genre")["split"].apply(list))
    assert shipped["genre"].nunique() == 18
    # no query names its genre: the words must be understood, not matched
    assert not any(g.lower().replace("-", " ") in q.lower() for g, q in zip(shipped["genre"], shipped["query"]))
    with pytest.raises(ValueError, match="missing column"):
        wish_genre_precision(content, FakeEncoder(), queries.drop(columns="genre"))


# ------------------------------------------------------------------- ambiguous titles
def test_ambiguous_liked_title_uses_every_copy_with_a_warning():
    ratings, items = block_frames()
    items = items.copy()
    items.loc[items["item_id"] == 1, "title"] = items.loc[items["item_id"] == 0, "title"].iat[0]  # a duplicate
    ds = Dataset.from_frames(ratings, items)
    title = ds.items["title"].iat[0]
    model = ContentRecommender(block_embeddings(ds)).fit(ds)
    with pytest.warns(UserWarning, match=r"names 2 items \(item_id \[0, 1\]\)"):
        recs = model.recommend_for_profile([title], k=20, ratings=[5.0])
    assert not {0, 1} & set(recs["item_id"])   # both copies excluded, not only the first
    with pytest.warns(UserWarning, match="Pass one item_id"):
        from filmrec_toolkit import resolve_items

        assert resolve_items(ds, [title]).tolist() == [0, 1]
    assert resolve_items(ds, [0]).tolist() == [0]  # an id is never ambiguous
