"""Item cold start and few-shot users: splits, candidates="test", ContentToCF, feature joins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import Dataset


@pytest.fixture
def catalogue():
    """12 users x 10 items, two taste groups; items carry genres and years."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(12):
        liked = range(0, 5) if u < 6 else range(5, 10)
        for i in liked:
            if rng.random() < 0.8:
                rows.append((u, i, float(rng.integers(3, 6))))
        rows.append((u, int(rng.integers(0, 10)), 1.0))
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"]).drop_duplicates(["user_id", "item_id"])
    items = pd.DataFrame({"item_id": range(10),
                          "title": [f"Film {i}" for i in range(10)],
                          "year": [1990, 1991, 1992, 1993, 1994, 2000, 2001, 2002, 2003, 2004],
                          "genres": [["Comedy"]] * 5 + [["Horror"]] * 5})
    return Dataset.from_frames(ratings, items, name="cat")


def _pairs(ds):
    return set(zip(ds.ratings["user_id"], ds.ratings["item_id"]))


# ----------------------------------------------------------------- cold_item_split
def test_cold_item_split_holds_out_whole_items(catalogue):
    train, valid, test = ft.cold_item_split(catalogue, 0.2, valid_share=0.2, random_state=1)
    tr, va, te = (set(p.ratings["item_id"]) for p in (train, valid, test))
    assert len(te) == 2 and len(va) == 2  # round(0.2 * 10)
    assert not tr & te and not tr & va and not va & te
    assert sum(p.n_ratings for p in (train, valid, test)) == catalogue.n_ratings
    for p in (train, valid, test):
        assert p.item_vocab == catalogue.item_vocab and p.user_vocab == catalogue.user_vocab
    # every rating of a test item is in test
    held = catalogue.ratings["item_id"].isin(te)
    assert _pairs(test) == set(zip(catalogue.ratings.loc[held, "user_id"], catalogue.ratings.loc[held, "item_id"]))
    assert [_pairs(p) for p in ft.cold_item_split(catalogue, 0.2, valid_share=0.2, random_state=1)] == \
        [_pairs(p) for p in (train, valid, test)]


def test_cold_item_split_two_parts_and_errors(catalogue):
    train, test = ft.cold_item_split(catalogue, 0.3, random_state=0)
    assert len(set(test.ratings["item_id"])) == 3
    with pytest.raises(ValueError, match="item_share=1.5"):
        ft.cold_item_split(catalogue, 1.5)
    with pytest.raises(ValueError, match="valid_share"):
        ft.cold_item_split(catalogue, 0.2, valid_share=0)
    with pytest.raises(ValueError, match="must be < 1"):
        ft.cold_item_split(catalogue, 0.6, valid_share=0.5)
    with pytest.raises(ValueError, match="selects no element"):
        ft.cold_item_split(catalogue, 0.01)


# ----------------------------------------------------------------- cold_user_split
def test_cold_user_split_keeps_n_given(catalogue):
    train, test = ft.cold_user_split(catalogue, user_share=0.5, n_given=2, random_state=3)
    held = set(test.ratings["user_id"])
    assert len(held) == 6  # half of the 12 users (all have > 2 ratings)
    counts = train.ratings["user_id"].value_counts()
    for u in held:
        assert counts[u] == 2
    full = catalogue.ratings["user_id"].value_counts()
    for u in set(catalogue.user_ids) - held:
        assert counts[u] == full[u]
    assert not _pairs(train) & _pairs(test)
    assert len(_pairs(train)) + len(_pairs(test)) == catalogue.n_ratings
    assert train.user_vocab == catalogue.user_vocab


def test_cold_user_split_zero_given_and_errors(catalogue):
    train, test = ft.cold_user_split(catalogue, user_share=0.25, n_given=0, random_state=0)
    assert not set(test.ratings["user_id"]) & set(train.ratings["user_id"])
    with pytest.raises(ValueError, match="n_given=-1"):
        ft.cold_user_split(catalogue, n_given=-1)
    with pytest.raises(ValueError, match="n_given=2.5"):
        ft.cold_user_split(catalogue, n_given=2.5)
    with pytest.raises(ValueError, match="user_share=0"):
        ft.cold_user_split(catalogue, user_share=0)
    with pytest.raises(ValueError, match="no user has more than"):
        ft.cold_user_split(catalogue, n_given=50)


# ----------------------------------------------------------------- evaluate(candidates=)
def test_candidates_test_ranks_only_test_items(catalogue):
    train, test = ft.cold_item_split(catalogue, 0.3, random_state=0)
    held = set(test.ratings["item_id"])
    res = ft.evaluate(ft.Popularity(), train, test, k=(5,), candidates="test")
    assert set(res.recommendations["item_id"]) <= held
    assert res.recommendations.groupby("user_id").size().max() == len(held)
    # an explicit array of ids does the same
    res2 = ft.evaluate(ft.Popularity(), train, test, k=(5,), candidates=sorted(held))
    pd.testing.assert_frame_equal(res.per_user, res2.per_user)
    with pytest.raises(ValueError, match="candidates='valid'"):
        ft.evaluate(ft.Popularity(), train, test, candidates="valid")
    with pytest.raises(ValueError, match="empty"):
        ft.evaluate(ft.Popularity(), train, test, candidates=[])


def test_candidates_hand_computed_ndcg():
    """One user, test items {3, 4}; the model ranks 4 above 3 above everything: NDCG@1 = 1."""
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 2, 1], "item_id": [1, 2, 1, 2, 4, 4],
                            "rating": [1.0] * 6})
    ds = Dataset.from_frames(ratings)
    train = ds.subset(ds.ratings["item_id"].isin([1, 2]).to_numpy())
    test = ds.subset(ds.ratings["item_id"].isin([4]).to_numpy())
    res = ft.evaluate(ft.Popularity(), train, test, k=(1,), candidates="test")
    # only item 4 is a candidate, so it is ranked first for both users: NDCG@1 = 1
    assert res.per_user["ndcg@1"].tolist() == [1.0, 1.0]


def test_test_items_outside_the_candidates_are_not_relevant():
    """User 1's test items are {3, 4}; only 4 is a candidate: 3 can never be a hit, so n_rel = 1, recall@1 = 1."""
    ratings = pd.DataFrame({"user_id": [1, 1, 1, 2, 2], "item_id": [1, 3, 4, 1, 2], "rating": [1.0] * 5})
    ds = Dataset.from_frames(ratings)
    train = ds.subset(ds.ratings["item_id"].isin([1, 2]).to_numpy())
    test = ds.subset(ds.ratings["item_id"].isin([3, 4]).to_numpy())
    res = ft.evaluate(ft.Popularity(), train, test, k=(1,), candidates=[4])
    assert res.per_user["n_test"].tolist() == [1]
    assert res.per_user["recall@1"].tolist() == [1.0]


# ----------------------------------------------------------------- features
def test_concat_embeddings_weights_and_alignment():
    a = ft.ItemEmbeddings(np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([10, 20]), "a")
    b = ft.ItemEmbeddings(np.array([[0.0, 2.0], [5.0, 0.0]]), np.array([20, 10]), "b")  # other order
    joined = ft.concat_embeddings(a, b, weights=[1.0, 4.0])
    assert joined.model_id == "a+b"
    np.testing.assert_allclose(joined.matrix, [[0.6, 0.8, 2.0, 0.0], [1.0, 0.0, 0.0, 2.0]], atol=1e-6)
    with pytest.raises(ValueError, match="one per block"):
        ft.concat_embeddings(a, b, weights=[1.0])
    with pytest.raises(ValueError, match=">= 0"):
        ft.concat_embeddings(a, b, weights=[1.0, -1.0])
    c = ft.ItemEmbeddings(np.ones((1, 2)), np.array([10]), "c")
    with pytest.raises(KeyError, match="no vector"):
        ft.concat_embeddings(a, c)


def test_item_metadata_features(catalogue):
    meta = ft.item_metadata_features(catalogue)
    assert meta.model_id == "genres+year"
    genres_part = meta.matrix[:, :2]
    np.testing.assert_allclose(genres_part[:5, 0], 1.0)  # Comedy (canonical order first), unit block
    year_part = meta.matrix[:, 2:]
    np.testing.assert_allclose(np.linalg.norm(year_part, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(year_part[0], year_part[9])
    enc = ft.MetadataEncoder().fit(catalogue)
    new = enc.transform(pd.DataFrame({"genres": [["Horror"]], "year": [np.nan]}))
    assert new.shape == (1, meta.dim) and np.allclose(new[0, 2:], 0) and new[0, 1] == 1.0
    with pytest.raises(ValueError, match="both are False"):
        ft.item_metadata_features(catalogue, genres=False, year=False)


# ----------------------------------------------------------------- ContentToCF
def _text_embeddings(ds, same_as=None):
    """Two-cluster text vectors; ``same_as`` maps item id -> item id whose vector it copies."""
    rng = np.random.default_rng(1)
    ids = ds.item_ids
    base = np.where(np.asarray(ids)[:, None] < 5, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    m = base + 0.1 * rng.standard_normal((len(ids), 3))
    for new, old in (same_as or {}).items():
        m[list(ids).index(new)] = m[list(ids).index(old)]
    return ft.ItemEmbeddings(m, ids, "toy")


def test_cold_item_with_a_warm_items_text_gets_its_factors(catalogue):
    """Cold item 9 has item 8's exact text: with map_warm the two get identical factors and
    scores; without it, item 9 gets what the map predicts for item 8's text."""
    emb = _text_embeddings(catalogue, same_as={9: 8})
    train = catalogue.subset((catalogue.ratings["item_id"] != 9).to_numpy())
    model = ft.ContentToCF(emb, metadata=(), factors=3, alpha=0.1, map_warm=True).fit(train)
    col8, col9 = catalogue.item_vocab.to_rows([8, 9])
    assert not model.warm_[col9] and model.warm_[col8]
    np.testing.assert_allclose(model.item_factors_[col9], model.item_factors_[col8], rtol=1e-5, atol=1e-6)
    scores = model.score(np.arange(train.n_users))
    np.testing.assert_allclose(scores[:, col9], scores[:, col8], rtol=1e-5, atol=1e-6)
    # score_new_items on item 8's text gives the same column
    new = model.score_new_items(ft.ItemEmbeddings(emb.matrix[[col8]], np.array([99]), "toy"))
    np.testing.assert_allclose(new[:, 0], scores[:, col8], rtol=1e-5, atol=1e-6)


def test_contenttocf_ranks_cold_items_by_taste(catalogue):
    """Cold items 4 (Comedy text) and 9 (Horror text): each taste group gets its own first."""
    emb = _text_embeddings(catalogue)
    is_cold = catalogue.ratings["item_id"].isin([4, 9]).to_numpy()
    train, test = catalogue.subset(~is_cold), catalogue.subset(is_cold)
    model = ft.ContentToCF(emb, metadata=(), factors=2, alpha=0.01, random_state=0).fit(train)
    comedy, horror = catalogue.item_vocab.to_rows([4, 9])
    s = model.score(catalogue.user_vocab.to_rows(np.arange(12)))
    assert (s[:6, comedy] > s[:6, horror]).all() and (s[6:, horror] > s[6:, comedy]).all()
    res = ft.evaluate(model, train, test, k=(1,), candidates="test", refit=False)
    assert set(res.recommendations["item_id"]) == {4, 9}
    # alpha="auto" picks one of the candidates and reports their held-out scores
    auto = ft.ContentToCF(emb, factors=2, alphas=(0.1, 10.0), random_state=0).fit(train)
    assert auto.alpha_ in (0.1, 10.0) and list(auto.alpha_scores_.index) == [0.1, 10.0]


def test_contenttocf_parameters_are_validated(catalogue):
    emb = _text_embeddings(catalogue)
    bad = [
        (dict(embeddings=None, metadata=()), "no features"),
        (dict(metadata=("plot",)), "unknown field"),
        (dict(mapper="tree"), "mapper='tree'"),
        (dict(alpha=-1), "alpha=-1"),
        (dict(alphas=[]), "alphas"),
        (dict(cf="pca"), "cf='pca'"),
        (dict(factors=0), "factors"),
        (dict(metadata_weight=-2), "metadata_weight"),
        (dict(valid_share=2), "valid_share"),
        (dict(embeddings=np.ones((3, 3))), "ItemEmbeddings"),
    ]
    for params, match in bad:
        kwargs = {"embeddings": emb, **params}
        with pytest.raises((ValueError, TypeError), match=match):
            ft.ContentToCF(**kwargs).fit(catalogue)


def test_contenttocf_score_new_items_shapes_and_errors(catalogue):
    emb = _text_embeddings(catalogue)
    model = ft.ContentToCF(emb, factors=2, alpha=1.0).fit(catalogue)
    # text vectors of catalogue items: metadata found by id
    out = model.score_new_items(emb, users=[0, 1, 2])
    assert out.shape == (3, catalogue.n_items) and out.dtype == np.float32
    # text vectors of unknown items need their metadata
    unknown = ft.ItemEmbeddings(emb.matrix[:2], np.array([100, 101]), "toy")
    with pytest.raises(ValueError, match="items=DataFrame"):
        model.score_new_items(unknown)
    items = pd.DataFrame({"genres": [["Comedy"], ["Horror"]], "year": [1995, 2001]})
    assert model.score_new_items(unknown, items=items).shape == (catalogue.n_users, 2)
    full = model.features_[:4]
    assert model.score_new_items(full).shape == (catalogue.n_users, 4)
    with pytest.raises(ValueError, match="dimension 7"):
        model.score_new_items(np.ones((2, 7)))
    with pytest.raises(ft.NotFittedError):
        ft.ContentToCF(emb).score_new_items(emb)


def test_contenttocf_metadata_only_explain_and_recommend(catalogue):
    model = ft.ContentToCF(None, metadata=("genres",), factors=2, alpha=1.0).fit(catalogue)
    assert model.features_.shape == (catalogue.n_items, 2)
    recs = model.recommend(users=[0], k=3)
    assert len(recs) == 3
    item = recs["item_id"].iloc[0]
    exp = model.explain(0, item)
    assert "recommended to user 0" in exp.sentence or "no positive support" in exp.sentence
    assert np.isclose(exp.frame["contribution"].sum(), exp.score, rtol=1e-4) or len(exp.frame) < 5


def test_contenttocf_als_and_tune(catalogue):
    emb = _text_embeddings(catalogue)
    train, valid, test = ft.cold_item_split(catalogue, 0.2, valid_share=0.2, random_state=0)
    model = ft.ContentToCF(emb, cf="als", factors=2, alpha=1.0, random_state=0).fit(train)
    assert model.item_factors_.shape == (catalogue.n_items, 2)
    res = ft.tune(ft.ContentToCF(emb, factors=2), {"metadata_weight": [0.0, 1.0]}, train, valid,
                  metric="ndcg@1", candidates="test")
    assert set(res.results["metadata_weight"]) == {0.0, 1.0}


@pytest.mark.parametrize("mapper", ["ridge", "mlp"])
def test_contenttocf_is_reproducible_and_picklable(catalogue, mapper):
    """Same seed, same factors; a pickled model (as the scale paths ship it) scores the same."""
    import pickle

    emb = _text_embeddings(catalogue)
    kw = dict(mapper=mapper, factors=2, epochs=3, hidden=8, random_state=0)
    a = ft.ContentToCF(emb, **kw).fit(catalogue)
    b = ft.ContentToCF(emb, **kw).fit(catalogue)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_)
    c = pickle.loads(pickle.dumps(a))
    new = emb.matrix[:2]
    np.testing.assert_allclose(c.score_new_items(new, items=catalogue.items.iloc[:2]),
                               a.score_new_items(new, items=catalogue.items.iloc[:2]))
    assert not [k for k in vars(a) if k.startswith("_")]


# ----------------------------------------------------------------- real data
@pytest.mark.realdata
def test_cold_items_ml100k_contenttocf_beats_content_cosine(ml100k):
    train, test = ft.cold_item_split(ml100k, 0.2, random_state=0)
    meta = ft.ContentToCF(None, factors=32)
    genres = ft.embed_items(ml100k, encoder=ft.GenreEncoder(), cache=False)
    res = ft.evaluate(meta, train, test, k=(10,), candidates="test")
    cos = ft.evaluate(ft.ContentRecommender(genres), train, test, k=(10,), candidates="test")
    assert res.n_users == cos.n_users > 500
    assert res.means["ndcg@10"] > cos.means["ndcg@10"]
    assert set(res.recommendations["item_id"]) <= set(test.ratings["item_id"])


@pytest.mark.realdata
def test_cold_user_split_ml100k(ml100k):
    train, test = ft.cold_user_split(ml100k, 0.2, n_given=3, random_state=0)
    held = test.ratings["user_id"].unique()
    assert len(held) == round(0.2 * ml100k.n_users)
    assert (train.ratings["user_id"].value_counts()[held] == 3).all()
    res = ft.evaluate(ft.Popularity(), train, test, k=(10,))
    assert res.n_users == len(held)


# ----------------------------------------------------------------- describe_comparison
def test_describe_comparison_says_better_worse_or_no_difference():
    users = np.arange(60)
    rng = np.random.default_rng(0)
    base = rng.random(60)
    frames = {
        "Up": pd.DataFrame({"user_id": users, "ndcg@10": base + 0.2}),
        "Base": pd.DataFrame({"user_id": users, "ndcg@10": base}),
        "Same": pd.DataFrame({"user_id": users, "ndcg@10": base + rng.normal(0, 1e-3, 60)}),
    }
    table = ft.compare_models(frames, baseline="Base")
    up, same = ft.describe_comparison(table)
    assert up.startswith("Up is more accurate than Base: NDCG@10") and "0.200" in up and "60 users" in up
    assert "p < 0.001" in up  # never "p = 0"
    assert same.startswith("No significant difference between Same and Base")
    down = ft.describe_comparison(ft.compare_models({"Base": frames["Base"], "Up": frames["Up"]}))[0]
    assert down.startswith("Up is more accurate than Base")
    # numbers follow the sentence's order: the better model's mean first, a positive difference
    assert "NDCG@10 " in down and "difference 0.2" in down
    mean_up, mean_base = frames["Up"]["ndcg@10"].mean(), frames["Base"]["ndcg@10"].mean()
    assert down.index(f"{mean_up:.3f}") < down.index(f"{mean_base:.3f}")
    assert "unadjusted p" in ft.describe_comparison(table, p_column="p_value")[0]
    with pytest.raises(ValueError, match="compare_models"):
        ft.describe_comparison(pd.DataFrame({"x": [1]}))


def test_plot_model_means_bars_and_errors():
    import matplotlib

    matplotlib.use("Agg")
    frames = {"A": pd.DataFrame({"user_id": [1, 2], "ndcg@5": [0.0, 1.0]}),
              "B": pd.DataFrame({"user_id": [1, 2], "ndcg@5": [1.0, 1.0]})}
    fig = ft.plot_model_means(frames, metric="ndcg@5")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [0.5, 1.0]
    with pytest.raises(ValueError, match="no column"):
        ft.plot_model_means(frames, metric="ndcg@10")


def test_contenttocf_without_metadata_columns():
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 2, 3, 1], "rating": [1.0] * 5})
    ds = Dataset.from_frames(ratings)
    emb = ft.ItemEmbeddings(np.eye(3), ds.item_ids, "toy")
    with pytest.raises(ValueError, match="metadata=\\(\\)"):
        ft.ContentToCF(emb).fit(ds)
    model = ft.ContentToCF(emb, metadata=(), factors=1, alpha=1.0).fit(ds)
    assert model.score([0]).shape == (1, 3)
