"""ft.standard_models: the one named model set of the notebooks, unfitted, with its documented defaults."""

from __future__ import annotations

import pytest

import filmrec_toolkit as ft


@pytest.fixture(scope="module")
def features():
    ds = ft.make_synthetic_interactions(n_users=40, n_items=30, n_interactions=600, random_state=0)
    return ds, ft.embed_items(ds, encoder=ft.GenreEncoder(), cache=False)


def test_names_and_classes(features):
    ds, emb = features
    models = ft.standard_models(emb, genre_features=emb, random_state=7)
    assert list(models) == list(ft.STANDARD_MODEL_NAMES)
    assert [type(m).__name__ for m in models.values()] == [
        "Popularity", "ItemKNN", "EASE", "ALS", "ContentRecommender", "ContentRecommender",
        "ContentAwareHybrid", "EASESide"]
    assert models["ALS"].random_state == 7
    assert models["Content (LM)"].embeddings is emb and models["EASESide (LM)"].features is emb
    hybrid = models["Hybrid (EASE + LM)"]
    assert type(hybrid.cf).__name__ == "EASE" and hybrid.content.embeddings is emb
    assert all(not hasattr(m, "train_") for m in models.values())  # unfitted


def test_without_embeddings_only_the_collaborative_models(features):
    assert list(ft.standard_models()) == ["Popularity", "ItemKNN", "EASE", "ALS"]


def test_each_call_builds_new_objects(features):
    _, emb = features
    a, b = ft.standard_models(emb), ft.standard_models(emb)
    assert all(a[n] is not b[n] for n in a)
    a["EASE"].fit(features[0])
    assert not hasattr(b["EASE"], "train_")


def test_include_and_hybrid_params(features):
    _, emb = features
    models = ft.standard_models(emb, include=["Hybrid (EASE + LM)", "EASE"],
                                hybrid_params={"Hybrid (EASE + LM)": {"content_weight": 0.0, "tail_weight": 1.0}})
    assert list(models) == ["EASE", "Hybrid (EASE + LM)"]  # the standard order
    assert models["Hybrid (EASE + LM)"].content_weight == 0.0 and models["Hybrid (EASE + LM)"].tail_weight == 1.0


def test_errors_name_the_problem(features):
    _, emb = features
    with pytest.raises(ValueError, match="SVD"):
        ft.standard_models(emb, include=["SVD"])
    with pytest.raises(ValueError, match="embeddings is None"):
        ft.standard_models(include=["Content (LM)"])
    with pytest.raises(ValueError, match="genre_features is None"):
        ft.standard_models(emb, include=["Content (genres)"])
    with pytest.raises(ValueError, match="not LM hybrids"):
        ft.standard_models(emb, hybrid_params={"EASE": {"l2": 1.0}})
    with pytest.raises(TypeError, match="ItemEmbeddings"):
        ft.standard_models(emb.matrix)


def test_tune_lm_hybrids_chooses_from_the_grid(features):
    ds, emb = features
    train, valid = ft.random_split(ds, 0.75, random_state=0)
    tuned = ft.tune_lm_hybrids(emb, train, valid, metric="ndcg@5")
    assert list(tuned) == list(ft.LM_HYBRID_GRIDS)
    for name, result in tuned.items():
        grid, off = ft.LM_HYBRID_GRIDS[name]
        assert result.metric == "ndcg@5"
        assert all(result.best_params[p] in values for p, values in grid.items())
        assert len(result.results) == {"Hybrid (EASE + LM)": 3 * 2, "EASESide (LM)": 4}[name]  # every grid point
        built = ft.standard_models(emb, hybrid_params={name: result.best_params})[name]
        assert built.get_params().keys() == result.best_estimator.get_params().keys()
        assert all(built.get_params()[p] == v for p, v in result.best_params.items())


def test_tune_lm_hybrids_cache_loads_the_second_time(features, monkeypatch):
    import filmrec_toolkit.evaluation.blend as standard

    ds, emb = features
    train, valid = ft.random_split(ds, 0.75, random_state=0)
    first = ft.tune_lm_hybrids(emb, train, valid, metric="ndcg@5", cache=True)
    monkeypatch.setattr(standard, "tune_blend", lambda *a, **kw: pytest.fail("tuned again instead of loading"))
    again = ft.tune_lm_hybrids(emb, train, valid, metric="ndcg@5", cache=True)
    assert {n: r.best_params for n, r in again.items()} == {n: r.best_params for n, r in first.items()}
    assert all(again[n].best_score == pytest.approx(first[n].best_score) for n in first)
    with pytest.raises(AssertionError, match="tuned again"):  # another metric is another key: tuned again
        try:
            ft.tune_lm_hybrids(emb, train, valid, metric="ndcg@3", cache=True)
        except pytest.fail.Exception as exc:
            raise AssertionError(str(exc)) from None
    with pytest.raises(TypeError, match="cache"):
        ft.tune_lm_hybrids(emb, train, valid, cache="yes")


def test_tune_blend_old_path_warns_and_is_the_same_function():
    import filmrec_toolkit.recommenders as recommenders

    with pytest.warns(FutureWarning, match="filmrec_toolkit.evaluation.tune_blend"):
        assert recommenders.tune_blend is ft.tune_blend
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        recommenders.nope  # noqa: B018
