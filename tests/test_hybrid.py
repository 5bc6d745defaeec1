"""Hybrids never worse than their CF part by construction, and EASE with side-information."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_recommenders_fixtures import block_dataset, block_embeddings

import filmrec_toolkit as ft
from filmrec_toolkit import EASE, ContentAwareHybrid, ContentRecommender, Dataset, EASESide, Hybrid, ItemEmbeddings


@pytest.fixture(scope="module")
def synth():
    ds = ft.make_synthetic_interactions(120, 60, 2400, n_clusters=4, random_state=0)
    return ds


def noise_embeddings(ds: Dataset, dim: int = 8, seed: int = 0) -> ItemEmbeddings:
    """Item vectors that carry no information about who watches what."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(ds.n_items, dim)).astype(np.float32)
    return ItemEmbeddings(m / np.linalg.norm(m, axis=1, keepdims=True), ds.item_ids, "noise")


# ------------------------------------------------------------- weight 0 is the CF part, exactly
@pytest.mark.parametrize("make", [
    lambda emb: Hybrid([EASE(l2=20.0), ContentRecommender(emb)], weights=[1.0, 0.0]),
    lambda emb: Hybrid([EASE(l2=20.0), ContentRecommender(emb)], weights=[2.5, 0.0], normalization="rank"),
    lambda emb: ContentAwareHybrid(EASE(l2=20.0), ContentRecommender(emb), content_weight=0.0, tail_weight=0.0),
])
def test_weight_zero_is_the_cf_model_exactly(synth, make):
    emb = noise_embeddings(synth)
    hybrid = make(emb).fit(synth)
    ease = EASE(l2=20.0).fit(synth)
    rows = np.arange(synth.n_users)
    np.testing.assert_array_equal(hybrid.score(rows), ease.score(rows))
    pd.testing.assert_frame_equal(hybrid.recommend(k=10), ease.recommend(k=10))


def test_nonzero_weight_changes_the_ranking(synth):
    emb = noise_embeddings(synth)
    a = Hybrid([EASE(l2=20.0), ContentRecommender(emb)], weights=[1.0, 1.0]).fit(synth).recommend(k=10)
    b = EASE(l2=20.0).fit(synth).recommend(k=10)
    assert not a[["user_id", "item_id"]].equals(b[["user_id", "item_id"]])


def test_members_are_cloned_never_fitted_in_place(synth):
    ease, content = EASE(l2=20.0), ContentRecommender(noise_embeddings(synth))
    for model in (Hybrid([ease, content], weights=[1.0, 0.3]), ContentAwareHybrid(ease, content)):
        model.fit(synth)
        assert not hasattr(ease, "train_") and not hasattr(content, "train_")
    hybrid = Hybrid([ease, content], weights=[1.0, 0.3]).fit(synth)
    assert hybrid.models_[0] is not ease and hybrid.models_[0].l2 == 20.0
    cah = ContentAwareHybrid(ease, content).fit(synth)
    assert cah.cf_ is not ease and cah.content_ is not content
    prefit = EASE(l2=20.0).fit(synth)
    fitted_at = prefit.fit_seconds_
    reuse = Hybrid([prefit, content], weights=[1.0, 0.3], refit=False).fit(synth)
    assert reuse.models_[0] is prefit and prefit.fit_seconds_ == fitted_at  # read-only, not refitted
    assert reuse.models_[1] is not content and not hasattr(content, "train_")  # unfitted -> clone fitted


# ------------------------------------------------------------------------------- validation
def test_weights_validated_at_fit_with_a_useful_message(synth):
    members = [EASE(), Popularity_()]
    with pytest.raises(ValueError, match=r"weights\[1\] == nan: must be a finite number >= 0.*e\.g\. weights="):
        Hybrid(members, weights=[1, float("nan")]).fit(synth)
    with pytest.raises(ValueError, match=r"weights\[0\] == -1"):
        Hybrid(members, weights=[-1, 1]).fit(synth)
    with pytest.raises(ValueError, match="at least one weight must be > 0"):
        Hybrid(members, weights=[0, 0]).fit(synth)
    with pytest.raises(ValueError, match="weights has 3 value"):
        Hybrid(members, weights=[1, 1, 1]).fit(synth)
    with pytest.raises(TypeError, match=r"models\[1\] must be a filmrec_toolkit Recommender"):
        Hybrid([EASE(), "EASE"]).fit(synth)
    with pytest.raises(TypeError, match="refit"):
        Hybrid(members, refit="yes").fit(synth)
    for name, bad in (("content_weight", float("inf")), ("tail_weight", -0.5), ("shrink", 0)):
        with pytest.raises(ValueError, match=f"{name} == "):
            ContentAwareHybrid(EASE(), Popularity_(), **{name: bad}).fit(synth)


def test_parameters_validated_at_use(synth):
    hybrid = Hybrid([EASE(l2=20.0), Popularity_()], weights=[1.0, 0.5]).fit(synth)
    hybrid.set_params(weights=[1.0, float("nan")])
    with pytest.raises(ValueError, match=r"weights\[1\] == nan"):
        hybrid.recommend(k=5)
    cah = ContentAwareHybrid(EASE(l2=20.0), Popularity_()).fit(synth)
    cah.set_params(normalization="softmax")
    with pytest.raises(ValueError, match="normalization='softmax'"):
        cah.score([0])


def Popularity_():  # noqa: N802 - a short factory keeps the parametrised tests readable
    return ft.Popularity()


# ------------------------------------------------------------------------ normalisation, gating
def test_rank_normalisation_by_hand():
    r = ft.normalize_scores(np.array([[3.0, 1.0, 2.0], [5.0, 5.0, 5.0]]), "rank")
    np.testing.assert_allclose(r, [[1.0, 1 / 3, 2 / 3], [2 / 3, 2 / 3, 2 / 3]], atol=1e-6)


def test_item_support_gating_by_hand(synth):
    cah = ContentAwareHybrid(EASE(l2=20.0), ContentRecommender(noise_embeddings(synth)), content_weight=0.1,
                             tail_weight=1.0, shrink=5.0).fit(synth)
    n = synth.item_counts()
    np.testing.assert_allclose(cah.item_content_weight_, 0.1 + 5.0 / (5.0 + n), rtol=1e-6)
    rows = np.arange(4)
    cf = ft.normalize_scores(cah.cf_.score(rows))
    ct = ft.normalize_scores(cah.content_.score(rows))
    np.testing.assert_allclose(cah.score(rows), cf + (0.1 + 5.0 / (5.0 + n)) * ct, atol=1e-5)


# ------------------------------------------------------------------- tuning switches noise off
def test_tuning_picks_weight_zero_when_content_is_noise(synth):
    train, valid = ft.stratified_split(synth, 0.8, random_state=0)
    emb = noise_embeddings(synth)
    res = ft.tune(Hybrid([EASE(l2=20.0), ContentRecommender(emb)]),
                  {"weights": [(1.0, 0.0), (1.0, 0.5), (1.0, 2.0)]}, train, valid, metric="ndcg@10")
    assert res.best_params == {"weights": (1.0, 0.0)}, res.results
    res = ft.tune(ContentAwareHybrid(EASE(l2=20.0), ContentRecommender(emb)),
                  {"content_weight": [0.0, 1.0], "tail_weight": [0.0, 2.0]}, train, valid, metric="ndcg@10")
    assert res.best_params == {"content_weight": 0.0, "tail_weight": 0.0}, res.results


def test_tuning_keeps_content_when_it_is_the_signal():
    """Block data: with content that knows the blocks, a content weight > 0 is never worse on validation."""
    ds = block_dataset()
    train, valid = ft.random_split(ds, 0.6, random_state=0)
    res = ft.tune(Hybrid([ft.Popularity(), ContentRecommender(block_embeddings(ds))]),
                  {"weights": [(1.0, 0.0), (1.0, 1.0)]}, train, valid, metric="ndcg@3")
    assert res.best_params == {"weights": (1.0, 1.0)}, res.results


# ------------------------------------------------------------------------------- EASESide
def _two_items():
    """One user who rated film a; film b has no rating but the same one-number content as a."""
    ratings = pd.DataFrame({"user_id": [1], "item_id": ["a"], "rating": [4.0]})
    items = pd.DataFrame({"item_id": ["a", "b"], "title": ["A (2000)", "B (2000)"]})
    ds = Dataset.from_frames(ratings, items, keep_unrated_items=True)
    feats = ItemEmbeddings(np.ones((2, 1), np.float32), np.array(["a", "b"]), "one")
    return ds, feats


def test_ease_side_by_hand():
    # X = [1, 0], F = [1, 1]ᵀ, side_weight 1, l2 1: G = [[1,0],[0,0]] + [[1,1],[1,1]] + I = [[3,1],[1,2]]
    # P = G⁻¹ = [[2,-1],[-1,3]] / 5; B_ab = -P_ab / P_bb = 1/3, B_ba = -P_ba / P_aa = 1/2
    ds, feats = _two_items()
    model = EASESide(feats, l2=1.0, side_weight=1.0).fit(ds)
    np.testing.assert_allclose(model.B_, [[0, 1 / 3], [1 / 2, 0]], atol=1e-6)
    assert model.score([0])[0, 1] == pytest.approx(1 / 3)  # the unrated film b is scored through a's content
    assert EASE(l2=1.0).fit(ds).score([0])[0, 1] == 0.0  # plain EASE cannot reach it


def test_ease_side_weight_zero_is_ease_exactly(synth):
    emb = noise_embeddings(synth)
    side = EASESide(emb, l2=20.0, side_weight=0.0).fit(synth)
    ease = EASE(l2=20.0).fit(synth)
    np.testing.assert_array_equal(side.B_, ease.B_)
    pd.testing.assert_frame_equal(side.recommend(k=10), ease.recommend(k=10))
    assert not np.array_equal(EASESide(emb, l2=20.0, side_weight=5.0).fit(synth).B_, ease.B_)


def test_ease_side_validation(synth):
    emb = noise_embeddings(synth)
    with pytest.raises(ValueError, match=r"side_weight == nan: must be a finite number >= 0.*e\.g\."):
        EASESide(emb, side_weight=float("nan")).fit(synth)
    with pytest.raises(ValueError, match="l2 == 0"):
        EASESide(emb, l2=0.0).fit(synth)
    with pytest.raises(TypeError, match="features must be ItemEmbeddings"):
        EASESide(np.zeros((3, 2))).fit(synth)
    with pytest.raises(KeyError, match="have no embedding"):
        EASESide(ItemEmbeddings(emb.matrix[:5], emb.item_ids[:5], "partial")).fit(synth)
    model = EASESide(emb, l2=20.0, side_weight=1.0).fit(synth)
    model.set_params(side_weight=-1.0)
    with pytest.raises(ValueError, match="side_weight == -1"):
        model.recommend(k=3)


def test_ease_side_is_exported():
    assert ft.EASESide is EASESide and "EASESide" in ft.__all__


# ------------------------------------------------------------------ tune_blend: on only if significant
def test_tune_blend_keeps_content_off_without_a_significant_validation_gain(synth):
    train, valid = ft.stratified_split(synth, 0.8, random_state=0)
    emb = noise_embeddings(synth)
    res = ft.tune_blend(Hybrid([EASE(l2=20.0), ContentRecommender(emb)]),
                        {"weights": [(1.0, 0.0), (1.0, 0.001), (1.0, 2.0)]}, train, valid, off={"weights": (1.0, 0.0)})
    assert res.best_params == {"weights": (1.0, 0.0)}
    assert res.results.attrs["switch"]["switched_on"] is False
    assert len(res.results) == 3 and res.best_estimator.weights == (1.0, 0.0)


def test_tune_blend_switches_content_on_for_a_significant_gain():
    ds = block_dataset()
    train, valid = ft.random_split(ds, 0.6, random_state=0)
    res = ft.tune_blend(Hybrid([ft.Popularity(), ContentRecommender(block_embeddings(ds))]),
                        {"weights": [(1.0, 0.0), (1.0, 1.0)]}, train, valid, off={"weights": (1.0, 0.0)},
                        metric="ndcg@3", refit=train)
    switch = res.results.attrs["switch"]
    assert res.best_params == {"weights": (1.0, 1.0)} and switch["switched_on"] and switch["p_value"] < 0.05
    assert res.best_estimator.train_ is train


def test_tune_blend_validation(synth):
    train, valid = ft.stratified_split(synth, 0.8, random_state=0)
    with pytest.raises(ValueError, match="off =="):
        ft.tune_blend(EASE(), {"l2": [1.0]}, train, valid, off={})
    with pytest.raises(ValueError, match="not parameters of EASE"):
        ft.tune_blend(EASE(), {"l2": [1.0]}, train, valid, off={"side_weight": 0.0})
    with pytest.raises(ValueError, match="alpha == 0"):
        ft.tune_blend(EASESide(noise_embeddings(synth)), {"side_weight": [0.0]}, train, valid,
                      off={"side_weight": 0.0}, alpha=0)
