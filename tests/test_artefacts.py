"""Artefacts in the data home: ft.artefact_key / artefact_path / load_or_fit / fit_or_load."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft


@pytest.fixture(scope="module")
def data():
    ds = ft.make_synthetic_interactions(n_users=60, n_items=40, n_interactions=1000, random_state=0)
    train, test = ft.random_split(ds, 0.8, random_state=0)
    emb = ft.embed_items(ds, encoder=ft.GenreEncoder(), cache=False)
    return ds, train, test, emb


@pytest.mark.parametrize("name", ["EASE", "Content (LM)", "Hybrid (EASE + LM)", "ALS"])
def test_fit_then_load_gives_identical_recommendations(name, data, tmp_path, caplog):
    ds, train, test, emb = data
    estimator = ft.standard_models(emb, random_state=0)[name]
    with caplog.at_level(logging.INFO, logger="filmrec_toolkit.persistence"):
        fitted = ft.fit_or_load(estimator, train, name=name, data_home=tmp_path)
        assert "computed" in caplog.text and "loaded" not in caplog.text
        caplog.clear()
        loaded = ft.fit_or_load(estimator, train, name=name, data_home=tmp_path)
        assert "loaded" in caplog.text
    assert loaded is not fitted and not hasattr(estimator, "train_")  # the estimator given is left unfitted
    users = train.user_ids[:20]
    pd.testing.assert_frame_equal(loaded.recommend(users=users, k=5), fitted.recommend(users=users, k=5))
    files = list((tmp_path / "artefacts").glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith(ft.persistence._slug(name))


def test_factory_is_called_only_when_the_file_is_missing(tmp_path):
    calls = []

    def factory():
        calls.append(1)
        return {"x": np.arange(3)}

    a = ft.load_or_fit("thing", factory, dataset="ml-100k", params={"n": 3}, data_home=tmp_path)
    b = ft.load_or_fit("thing", factory, dataset="ml-100k", params={"n": 3}, data_home=tmp_path)
    assert len(calls) == 1 and np.array_equal(a["x"], b["x"])
    ft.load_or_fit("thing", factory, dataset="ml-100k", params={"n": 3}, data_home=tmp_path, refresh=True)
    assert len(calls) == 2
    ft.load_or_fit("thing", factory, dataset="ml-100k", params={"n": 4}, data_home=tmp_path)  # new key
    assert len(calls) == 3


def test_a_changed_parameter_or_dataset_gives_another_key(data, tmp_path):
    ds, train, test, emb = data
    base = ft.artefact_key("m", train, {"estimator": ft.EASE(l2=500.0)})
    assert base == ft.artefact_key("m", train, {"estimator": ft.EASE(l2=500.0)})  # deterministic
    assert base != ft.artefact_key("m", train, {"estimator": ft.EASE(l2=100.0)})  # a parameter
    assert base != ft.artefact_key("m", test, {"estimator": ft.EASE(l2=500.0)})  # other data
    assert base != ft.artefact_key("n", train, {"estimator": ft.EASE(l2=500.0)})  # other name
    other_split, _ = ft.random_split(ds, 0.8, random_state=1)
    assert base != ft.artefact_key("m", other_split, {"estimator": ft.EASE(l2=500.0)})  # same size, other ratings
    shifted = ft.ItemEmbeddings(emb.matrix[::-1].copy(), emb.item_ids, model_id=emb.model_id)
    assert (ft.artefact_key("c", train, ft.ContentRecommender(emb))
            != ft.artefact_key("c", train, ft.ContentRecommender(shifted)))  # embeddings by content
    same = ft.ItemEmbeddings(emb.matrix.copy(), emb.item_ids, model_id=emb.model_id, meta={"n_cached": 60})
    assert ft.artefact_key("c", train, emb) == ft.artefact_key("c", train, same)  # not by the run's cache statistics
    assert ft.artefact_key("s", "ml-100k", {"k": [3, 4]}) != ft.artefact_key("s", "ml-100k", {"k": [3, 4, 5]})
    assert ft.artefact_key("s", "ml-100k", {"a": 1, "b": 2}) == ft.artefact_key("s", "ml-100k", {"b": 2, "a": 1})
    p1 = ft.artefact_path("m", train, {"estimator": ft.EASE(l2=500.0)}, data_home=tmp_path)
    assert p1.parent.name == "artefacts" and p1.suffix == ".npz" and base[:16] in p1.name


def test_fit_or_load_profiler_and_segments(data, tmp_path):
    ds, _, _, emb = data
    profiler = ft.fit_or_load(ft.UserProfiler("rating_weighted"), ds, emb, data_home=tmp_path)
    again = ft.fit_or_load(ft.UserProfiler("rating_weighted"), ds, emb, data_home=tmp_path)
    np.testing.assert_array_equal(profiler.transform(), again.transform())
    seg = ft.load_or_fit("segments", lambda: ft.segment_users(profiler.transform(), n_segments=3, random_state=0),
                         dataset=ds, params={"profiles": profiler.transform(), "n_segments": 3}, data_home=tmp_path)
    seg2 = ft.load_or_fit("segments", lambda: pytest.fail("should be loaded"), dataset=ds,
                          params={"profiles": again.transform(), "n_segments": 3}, data_home=tmp_path)
    np.testing.assert_array_equal(seg.labels, seg2.labels)
    assert seg2.k == 3


def test_a_damaged_file_is_rebuilt(tmp_path):
    path = ft.artefact_path("thing", "d", None, data_home=tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a zip file")
    assert ft.load_or_fit("thing", lambda: {"v": 1}, dataset="d", data_home=tmp_path) == {"v": 1}
    assert ft.load(path) == {"v": 1}


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="factory"):
        ft.load_or_fit("x", 3, dataset="d", data_home=tmp_path)
    with pytest.raises(ValueError, match="name"):
        ft.artefact_key("", "d")
    with pytest.raises(TypeError, match="cannot be keyed"):
        ft.artefact_key("x", "d", {"f": object()})
    with pytest.raises(ValueError, match="fit arguments"):
        ft.fit_or_load(ft.EASE(), data_home=tmp_path)


def test_an_object_save_refuses_is_returned_unsaved_with_a_warning(tmp_path, caplog):
    class Opaque:  # not a filmrec_toolkit class: save() refuses it
        pass

    calls = []

    def factory():
        calls.append(1)
        return {"model": Opaque()}

    with caplog.at_level(logging.WARNING, logger="filmrec_toolkit.persistence"):
        out = ft.load_or_fit("opaque", factory, dataset="d", data_home=tmp_path)
    assert isinstance(out["model"], Opaque) and "could not save" in caplog.text
    assert not list((tmp_path / "artefacts").glob("*.npz"))
    ft.load_or_fit("opaque", factory, dataset="d", data_home=tmp_path)
    assert len(calls) == 2  # nothing saved, so computed again
