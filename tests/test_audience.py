"""audience_for / audience_recall_lift / score_new_items on planted data with a known answer.

Three taste segments of 20 users each; every user rates 4 of the 6 films of their own
segment's genre. A planted new film of genre 1 (film 99) is rated, in test only, by exactly
the 20 users of segment 1. With ``top_share = 1/3`` its predicted audience must be exactly
segment 1: recall 1, lift 3, segment 1 share 100 % (lift 3) and the others 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import (
    AudienceRecall,
    AudienceResult,
    ContentRecommender,
    Dataset,
    ItemEmbeddings,
    Popularity,
    UserActivity,
    audience_for,
    audience_recall_lift,
    audience_sentence,
    compare_audience_recall,
)

N_SEG, PER_SEG, PER_GENRE, NEW = 3, 20, 6, 99
GENRES = ["Comedy", "Horror", "Western"]


class AxisEncoder:
    """Text -> 3-d vector: one axis per genre word it contains (+ a little of every axis)."""

    def transform(self, texts):
        out = np.full((len(texts), N_SEG), 0.05, dtype=np.float32)
        for n, t in enumerate(texts):
            for g, name in enumerate(GENRES):
                out[n, g] += name.lower() in t.lower()
        return out


def planted(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(N_SEG * PER_SEG):
        seg = u // PER_SEG
        for i in rng.choice(PER_GENRE, 4, replace=False):
            rows.append((u, seg * PER_GENRE + int(i), float(rng.integers(3, 6))))
    rows += [(u, NEW, 5.0) for u in range(PER_SEG, 2 * PER_SEG)]  # segment 1 watches the new film
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    ids = list(range(N_SEG * PER_GENRE)) + [NEW]
    genre = [i // PER_GENRE for i in range(N_SEG * PER_GENRE)] + [1]
    items = pd.DataFrame({"item_id": ids, "title": [f"{GENRES[g]} film {i} (2000)" for i, g in zip(ids, genre)],
                          "genres": [[GENRES[g]] for g in genre]})
    users = pd.DataFrame({"user_id": np.arange(N_SEG * PER_SEG),
                          "gender": ["F" if u % 2 else "M" for u in range(N_SEG * PER_SEG)]})
    ds = Dataset.from_frames(ratings, items, users, name="planted")
    test_mask = (ds.ratings["item_id"] == NEW).to_numpy()
    train, test = ds.subset(~test_mask, "train"), ds.subset(test_mask, "test")
    vec = AxisEncoder().transform([f"{t} {g[0]}" for t, g in zip(ds.items["title"], ds.items["genres"])])
    vec += rng.normal(0, 0.02, vec.shape).astype(np.float32)
    emb = ItemEmbeddings(ft.l2_normalize(vec), ds.item_ids, "axis")
    labels = np.arange(N_SEG * PER_SEG) // PER_SEG
    return ds, train, test, emb, labels


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.fixture(scope="module")
def model(data):
    _, train, _, emb, _ = data
    return ContentRecommender(emb, profiler=ft.UserProfiler("mean")).fit(train)


# ------------------------------------------------------------------ score_new_items
def test_score_new_items_equals_catalogue_scores(model, data):
    _, train, _, emb, _ = data
    col = train.item_vocab.to_rows(3)
    got = model.score_new_items(emb.matrix[col] * 7.0)  # any scale: rows are normalised
    assert got.shape == (train.n_users, 1)
    np.testing.assert_allclose(got[:, 0], model.score(np.arange(train.n_users))[:, col], rtol=1e-5, atol=1e-6)
    sub = model.score_new_items(emb.matrix[[col, col]], users=[5, 45])
    np.testing.assert_allclose(sub, got[[5, 45]][:, [0, 0]], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dimension 4"):
        model.score_new_items(np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        model.score_new_items(np.array([np.nan, 1, 0]))


def test_recommend_new_items_uses_score_new_items(model):
    new = ItemEmbeddings(AxisEncoder().transform(["a comedy", "a western"]), np.array(["c", "w"]), "axis")
    recs = model.recommend_new_items(new, users=[0, 45], k=1)
    assert recs.set_index("user_id")["item_id"].to_dict() == {0: "c", 45: "w"}


# ------------------------------------------------------------------ audience_for
def test_planted_text_film_audience_is_exactly_its_segment(model, data):
    _, train, _, _, labels = data
    res = audience_for(model, text="A dark horror film", labels=labels, top_share=1 / 3, encoder=AxisEncoder())
    assert isinstance(res, AudienceResult)
    assert res.n_top == PER_SEG and res.n_candidates == N_SEG * PER_SEG and res.n_excluded == 0
    assert list(res.users.columns) == ["user_id", "score", "rank", "segment"]
    assert set(res.users["user_id"]) == set(range(PER_SEG, 2 * PER_SEG))
    assert res.users["rank"].tolist() == list(range(1, PER_SEG + 1))
    assert res.users["score"].is_monotonic_decreasing
    seg = res.segments.set_index("segment")
    assert list(res.segments.columns[:7]) == ["segment", "description", "n", "share", "population_n",
                                              "population_share", "lift"]
    assert res.segments["segment"].iloc[0] == 1  # most over-represented first
    assert seg.loc[1, "n"] == PER_SEG and seg.loc[1, "share"] == pytest.approx(1.0)
    assert seg.loc[1, "population_share"] == pytest.approx(1 / 3) and seg.loc[1, "lift"] == pytest.approx(3.0)
    assert seg.loc[0, "n"] == 0 and seg.loc[2, "lift"] == pytest.approx(0.0)
    # every user rated 4 films: a typical audience looks like the population
    assert seg.loc[1, "typical_share"] == pytest.approx(1 / 3) and seg.loc[1, "typical_lift"] == pytest.approx(3.0)
    assert seg.loc[1, "description"] == "Horror"  # describe_segments' label: the top-lift genre
    # P(all 20 drawn from the 20 of segment 1) = 1 / C(60, 20)
    from math import comb

    assert seg.loc[1, "p_value"] == pytest.approx(1 / comb(60, 20), rel=1e-6)
    assert "over-represents segment 1 (Horror) ×3.00, 100% of the audience vs 33% of users (×3.00 vs a typical " \
        "film's audience)" in res.sentence
    truth = res.recall(list(range(PER_SEG, 2 * PER_SEG)) + [0, 0])  # 21 distinct viewers, 20 in the audience
    assert truth["n_raters"] == 21 and truth["hits"] == 20 and truth["lift"] == pytest.approx(20 / 21 * 3)
    assert truth["precision"] == 1.0 and truth["base_rate"] == pytest.approx(21 / 60)
    html = res._repr_html_()
    assert "Audience for" in html and "×3.00" in html and "Most likely viewers" in html


def test_catalogue_film_by_title_excludes_its_raters(model, data):
    _, train, _, _, labels = data
    raters = set(train.ratings.loc[train.ratings["item_id"] == 12, "user_id"])
    others = PER_SEG - len(raters)  # western fans who have not rated film 12
    res = audience_for(model, item="Western film 12 (2000)", labels=labels, top_share=others / (60 - len(raters)))
    assert res.n_excluded == len(raters) and not raters & set(res.users["user_id"])
    assert res.n_top == others and set(res.users["segment"]) == {2}  # exactly the other western fans
    assert res.film == "Western film 12 (2000)"
    keep = audience_for(model, item=12, labels=labels, top_share=0.2, exclude_raters=False)
    assert keep.n_excluded == 0 and raters <= set(keep.users["user_id"]) | raters


def test_features_path_and_no_labels(model):
    res = audience_for(model, features=AxisEncoder().transform(["comedy"])[0], top_share=0.05, name="Pilot")
    assert res.n_top == 3 and set(res.users["user_id"]) < set(range(PER_SEG))
    assert len(res.segments) == 0 and "no labels given" in res.sentence and res.sentence.startswith(
        "The predicted audience of Pilot (top 5%: 3 of 60 users)")


def test_audience_for_bad_input(model, data):
    labels = data[4]
    with pytest.raises(ValueError, match="exactly one of text=, item= or features="):
        audience_for(model)
    with pytest.raises(ValueError, match="exactly one of"):
        audience_for(model, text="x", item=1, encoder=AxisEncoder())
    with pytest.raises(ValueError, match=r"top_share == 0, must be a number in \(0, 1\]"):
        audience_for(model, item=1, top_share=0)
    with pytest.raises(ValueError, match="labels has shape \\(3,\\) but the model knows 60 users"):
        audience_for(model, item=1, labels=[0, 1, 2])
    with pytest.raises(ft.UnknownIdError, match="neither an item id nor a title"):
        audience_for(model, item="No Such Film")
    with pytest.raises(TypeError, match="cannot score a film it has never seen"):
        audience_for(Popularity().fit(model.train_), text="a comedy", encoder=AxisEncoder(), labels=labels)
    with pytest.raises(ValueError, match="score_new_items uses the text features only; drop metadata="):
        audience_for(model, text="a comedy", metadata={"genres": ["Comedy"]}, encoder=AxisEncoder())
    with pytest.raises(ValueError, match="non-empty description"):
        audience_for(model, text="  ", encoder=AxisEncoder())


def test_ties_are_broken_at_random_not_by_user_order(data):
    _, train, _, _, labels = data
    pop = Popularity().fit(train)  # every user gets the same score for a film
    a = audience_for(pop, item=NEW, labels=labels, top_share=1 / 3, random_state=0)
    b = audience_for(pop, item=NEW, labels=labels, top_share=1 / 3, random_state=0)
    assert a.users["user_id"].tolist() == b.users["user_id"].tolist()
    assert a.users["user_id"].tolist() != list(range(PER_SEG))  # not simply the first user rows
    assert set(a.users["segment"]) == {0, 1, 2}


def test_audience_sentence_says_plainly_when_nothing_stands_out():
    seg = pd.DataFrame({"segment": [0, 1], "description": ["Drama", "Comedy"], "n": [6, 4], "share": [0.6, 0.4],
                        "population_n": [50, 50], "population_share": [0.5, 0.5], "lift": [1.2, 0.8],
                        "p_value": [0.38, 0.83], "p_holm": [0.76, 0.83]})
    text = audience_sentence("'X'", seg, 10, 100)
    assert "matches the population: no segment is over-represented beyond chance" in text
    seg.loc[0, "p_holm"] = 0.001
    assert "over-represents segment 0 (Drama) ×1.20, 60% of the audience vs 50% of users" in \
        audience_sentence("'X'", seg, 10, 100)


# ------------------------------------------------------------------ recall lift
def test_recall_lift_on_the_planted_film(model, data):
    _, train, test, _, _ = data
    res = audience_recall_lift(model, train, test, top_share=1 / 3)
    assert isinstance(res, AudienceRecall)
    row = res.per_item.iloc[0]
    assert res.per_item["item_id"].tolist() == [NEW]
    assert (row["n_raters"], row["n_candidates"], row["n_top"], row["hits"]) == (PER_SEG, 60, PER_SEG, PER_SEG)
    assert row["recall"] == pytest.approx(1.0) and res.mean_lift == pytest.approx(3.0)
    assert res.pooled_lift == pytest.approx(3.0)
    assert res.summary()["max_lift"] == pytest.approx(3.0)
    # a popularity model ranks users at random for this film: 20 users drawn from 60, hits ~ hypergeometric
    pop = audience_recall_lift(Popularity().fit(train), train, test, top_share=1 / 3)
    assert pop.mean_lift < 2.0


def test_recall_lift_hand_computed():
    """4 users, scores fixed by hand; film rated in test by users 0 and 3; top half = users 0, 1 -> recall 1/2."""

    ds = Dataset.from_frames(pd.DataFrame({"user_id": [0, 1, 2, 3, 0, 3], "item_id": [1, 1, 1, 1, 7, 7],
                                           "rating": [1.0] * 6}))
    mask = (ds.ratings["item_id"] == 7).to_numpy()
    train, test = ds.subset(~mask), ds.subset(mask)

    class Two(ft.Recommender):
        def _fit(self, train):
            pass

        def _score(self, user_rows):
            s = np.array([[0.0, 0.9], [0.0, 0.8], [0.0, 0.1], [0.0, 0.2]], dtype=np.float32)
            return s[user_rows]

    res = audience_recall_lift(Two().fit(train), train, test, top_share=0.5)
    row = res.per_item.set_index("item_id").loc[7]
    assert row["hits"] == 1 and row["recall"] == pytest.approx(0.5) and row["lift"] == pytest.approx(1.0)
    # film 1 has no rater in test: only film 7 is evaluated
    assert res.per_item["item_id"].tolist() == [7]
    with pytest.raises(ValueError, match="min_raters=3"):
        audience_recall_lift(Two().fit(train), train, test, min_raters=3)
    other = Dataset.from_frames(pd.DataFrame({"user_id": [0], "item_id": [7], "rating": [1.0]}))
    with pytest.raises(ValueError, match="share the model's user and item vocabularies"):
        audience_recall_lift(Two().fit(train), train, other)


# ------------------------------------------------------------------ SegmentExplorer
def test_segment_explorer_finds_a_new_films_audience(model, data):
    pytest.importorskip("ipywidgets")
    from filmrec_toolkit.widgets import SegmentExplorer

    _, train, _, _, labels = data
    segments = ft.describe_segments(train, labels)
    ex = SegmentExplorer(train, labels, segments, min_size=5, model=model, encoder=AxisEncoder(), top_share=1 / 3)
    assert ex.audience.value == "" and ex.error.value == ""
    ex.new_film.value = "A frightening horror story"
    assert ex.error.value == ""
    page = ex.audience.value
    assert "Audience by segment" in page and "over-represents segment 1 (Horror) ×3.00" in page
    assert "Horror</td>" in page and ">3</td>" in page  # the table row of segment 1: lift 3
    assert ex.audience_.segments.set_index("segment").loc[1, "n"] == PER_SEG
    ex.segment.value = 1  # the selected segment's line follows the dropdown
    assert "Selected segment 1 (Horror): 20 of the 20 users" in ex.audience.value
    ex.catalogue_film.value = "Comedy film 2 (2000)"
    assert ex.error.value == "" and "Comedy film 2 (2000)" in ex.audience.value
    ex.catalogue_film.value = "no such film"  # a bad title is shown in the error area, not raised
    assert "neither an item id nor a title" in ex.error.value
    # ContentToCF joins genres: the explorer passes the "its genres" / "its year" controls
    cf = ft.ContentToCF(data[3], metadata=("genres",), factors=3, alpha=1.0, random_state=0).fit(train)
    ex2 = SegmentExplorer(train, labels, segments, min_size=5, model=cf, encoder=AxisEncoder(), top_share=1 / 3)
    ex2.new_genres.value = ("Western",)
    ex2.new_film.value = "a western"
    assert ex2.error.value == "" and "over-represents segment 2 (Western)" in ex2.audience.value
    bare = SegmentExplorer(train, labels, segments, min_size=5)
    bare.new_film.value = "a western"
    assert "built without model=" in bare.error.value


def test_user_activity_baseline_ranks_heavy_raters_first():
    # user 0 rated 3 films, user 1 two, users 2 and 3 one; film 9 is rated in test by users 0 and 2
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [0, 0, 0, 1, 1, 2, 3, 0, 2],
                                           "item_id": [1, 2, 3, 1, 2, 1, 2, 9, 9], "rating": [4.0] * 9}))
    mask = (ds.ratings["item_id"] == 9).to_numpy()
    train, test = ds.subset(~mask), ds.subset(mask)
    act = UserActivity().fit(train)
    np.testing.assert_array_equal(act.score([0, 3])[:, 0], [3, 1])
    np.testing.assert_array_equal(act.score_new_items(np.ones((2, 5)), users=[1]), [[2, 2]])
    res = audience_for(act, item=9, top_share=0.5, labels=np.array([0, 0, 1, 1]))
    assert res.users["user_id"].tolist() == [0, 1]
    seg = res.segments.set_index("segment")
    # segment 0 (users 0, 1) made 5 of the 7 training ratings: typical share 5/7, lift (2/2) / (5/7) = 1.4
    assert seg.loc[0, "typical_share"] == pytest.approx(5 / 7) and seg.loc[0, "typical_lift"] == pytest.approx(1.4)
    assert seg.loc[0, "lift"] == pytest.approx(2.0)
    rec = audience_recall_lift(act, train, test, top_share=0.5)
    assert rec.per_item["hits"].tolist() == [1] and rec.mean_lift == pytest.approx(1.0)


def test_compare_audience_recall_verdicts():
    films = np.arange(30)
    good = AudienceRecall(pd.DataFrame({"item_id": films, "lift": np.linspace(5, 9, 30)}), 0.05, "good")
    same = AudienceRecall(pd.DataFrame({"item_id": films, "lift": np.linspace(5, 9, 30)[::-1]}), 0.05, "same")
    low = AudienceRecall(pd.DataFrame({"item_id": films, "lift": np.linspace(5, 9, 30) - 2.0}), 0.05, "low")
    table = compare_audience_recall({"good": good, "same": same, "low": low}, baseline="good").set_index("model_a")
    assert table.loc["low", "diff"] == pytest.approx(-2.0) and table.loc["low", "n_items"] == 30
    assert table.loc["low", "verdict"].startswith("low puts fewer of a film's real raters in its audience than good")
    assert table.loc["same", "verdict"].startswith("No significant difference between same and good")
    with pytest.raises(ValueError, match="baseline='x' is not one of"):
        compare_audience_recall({"good": good, "low": low}, baseline="x")


def test_content_to_cf_audience_with_metadata(data):
    """ContentToCF joins text vectors with genres: a text-only film needs its genres (metadata=)."""
    _, train, test, emb, labels = data
    cf = ft.ContentToCF(emb, metadata=("genres",), factors=3, alpha=1.0, random_state=0).fit(train)
    res = audience_for(cf, text="a horror film", metadata={"genres": ["Horror"]}, labels=labels, top_share=1 / 3,
                       encoder=AxisEncoder())
    assert set(res.users["segment"]) == {1}
    with pytest.raises(ValueError, match="metadata has 2 rows"):
        audience_for(cf, text="a horror film", metadata=pd.DataFrame({"genres": [["Horror"]] * 2}),
                     encoder=AxisEncoder())
    assert audience_recall_lift(cf, train, test, top_share=1 / 3).mean_lift == pytest.approx(3.0)
