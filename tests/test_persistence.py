"""ft.save / ft.load: identical behaviour after a round trip, and no file that loads can run code."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft


@pytest.fixture(scope="module")
def data():
    ds = ft.make_synthetic_interactions(n_users=80, n_items=60, n_interactions=1500, random_state=0)
    train, test = ft.random_split(ds, 0.8, random_state=0)
    emb = ft.embed_items(ds, encoder=ft.GenreEncoder(), cache=False)
    return ds, train, test, emb


def _models(emb):
    return {
        "popularity": ft.Popularity(),
        "itemknn": ft.ItemKNN(),
        "ease": ft.EASE(l2=50.0),
        "als": ft.ALS(factors=8, iterations=3, random_state=0),
        "content": ft.ContentRecommender(emb),
        "hybrid": ft.Hybrid([ft.EASE(l2=50.0), ft.ContentRecommender(emb)], weights=[1.0, 0.5]),
        "content_aware": ft.ContentAwareHybrid(ft.EASE(l2=50.0), ft.ContentRecommender(emb)),
        "content_to_cf": ft.ContentToCF(emb, metadata=("genres", "year"), factors=8, cf="svd", alpha=1.0),
        "content_to_cf_mlp": ft.ContentToCF(emb, metadata=("genres", "year"), factors=8, cf="svd",
                                            mapper="mlp", hidden=16, epochs=5),
        "ease_side": ft.EASESide(emb, l2=50.0, side_weight=5.0),
    }


@pytest.mark.parametrize("name", list(_models(None)))
def test_round_trip_gives_identical_recommendations(name, data, tmp_path):
    ds, train, test, emb = data
    model = _models(emb)[name].fit(train)
    path = ft.save(model, tmp_path / name)
    assert path.suffix == ".npz" and path.exists()
    loaded = ft.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params().keys() == model.get_params().keys()
    a, b = model.recommend(k=10), loaded.recommend(k=10)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(model.score(np.arange(5)), loaded.score(np.arange(5)))


def test_content_to_cf_scores_new_items_the_same_after_a_round_trip(data, tmp_path):
    ds, train, test, emb = data
    new_items = pd.DataFrame({"genres": [["Western"], ["Comedy", "Drama"], []], "year": [1890, 1995, None]})
    for mapper in ("ridge", "mlp"):
        model = ft.ContentToCF(emb, metadata=("genres", "year"), factors=8, cf="svd", mapper=mapper,
                               alpha=1.0 if mapper == "ridge" else "auto", hidden=16, epochs=5).fit(train)
        loaded = ft.load(ft.save(model, tmp_path / mapper))
        vectors = emb.matrix[:3]
        np.testing.assert_array_equal(model.score_new_items(vectors, items=new_items),
                                      loaded.score_new_items(vectors, items=new_items))


def test_metadata_year_basis_is_the_fitted_spline_transformer():
    from sklearn.preprocessing import SplineTransformer

    items = pd.DataFrame({"genres": [["A"]] * 6, "year": [1950, 1960, 1975, 1990, 1999, 2010]})
    enc = ft.MetadataEncoder(genres=False, n_knots=4).fit(items)
    years = np.array([1900.0, 1950, 1963.5, 1999, 2010, 2030])  # inside and outside the fitted range
    reference = SplineTransformer(n_knots=4, degree=3, knots="quantile", extrapolation="constant").fit(
        items[["year"]].to_numpy(float)).transform(years[:, None])
    ours = enc.transform(pd.DataFrame({"genres": [[]] * 6, "year": years}))
    norms = np.linalg.norm(reference, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, reference / norms, rtol=1e-6, atol=1e-7)
    assert enc.year_knots_.shape == (4 + 2 * 3,)


def test_shared_objects_are_stored_once_and_shared_again(data, tmp_path):
    _, train, _, emb = data
    hyb = ft.Hybrid([ft.EASE(l2=50.0), ft.ContentRecommender(emb)]).fit(train)
    loaded = ft.load(ft.save(hyb, tmp_path / "h.npz"))
    assert loaded.models_[0].train_ is loaded.models_[1].train_ is loaded.train_


def test_dataset_embeddings_segments_profiler_round_trip(data, tmp_path):
    ds, train, _, emb = data
    ds2 = ft.load(ft.save(ds, tmp_path / "ds"))
    pd.testing.assert_frame_equal(ds.ratings, ds2.ratings)
    pd.testing.assert_frame_equal(ds.items, ds2.items)
    assert ds2.item_vocab == ds.item_vocab and (ds2.matrix != ds.matrix).nnz == 0
    emb2 = ft.load(ft.save(emb, tmp_path / "emb"))
    np.testing.assert_array_equal(emb.matrix, emb2.matrix)
    np.testing.assert_array_equal(emb.item_ids, emb2.item_ids)
    prof = ft.UserProfiler("mean").fit(train, emb)
    prof2 = ft.load(ft.save(prof, tmp_path / "prof"))
    np.testing.assert_array_equal(prof.transform(), prof2.transform())
    seg = ft.segment_users(prof.transform(), n_segments=3, random_state=0)
    seg2 = ft.load(ft.save(seg, tmp_path / "seg"))
    np.testing.assert_array_equal(seg.labels, seg2.labels)
    pd.testing.assert_series_equal(seg.silhouette, seg2.silhouette)


def test_string_ids_and_list_cells_without_pickle(tmp_path):
    ratings = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["Heat (1995)", "Up (2009)", "Up (2009)"],
                            "rating": [4.0, 5.0, 3.0]})
    items = pd.DataFrame({"item_id": ["Heat (1995)", "Up (2009)"], "genres": [["Crime"], ["Animation", "Comedy"]]})
    ds = ft.Dataset.from_frames(ratings, items)
    path = ft.save(ft.Popularity().fit(ds), tmp_path / "pop")
    with np.load(path, allow_pickle=False) as npz:  # every array loads without pickle
        assert all(npz[k].dtype != object for k in npz.files)
    loaded = ft.load(path)
    assert loaded.train_.items["genres"].tolist() == [["Crime"], ["Animation", "Comedy"]]
    assert list(loaded.item_vocab_.ids) == ["Heat (1995)", "Up (2009)"]


def test_pickled_payload_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    payload = np.empty(1, dtype=object)
    payload[0] = Boom()
    path = tmp_path / "evil.npz"
    header = {"format": "filmrec_toolkit", "format_version": 1, "root": {"$array": "a0"}}
    np.savez(path, __header__=np.asarray(json.dumps(header)), a0=payload)
    with pytest.raises(ft.UnsafeFileError, match="pickle"):
        ft.load(path)
    assert not marker.exists()


def test_foreign_class_newer_format_and_garbage_refused(tmp_path):
    def write(header, name):
        p = tmp_path / name
        np.savez(p, __header__=np.asarray(json.dumps(header)))
        return p

    evil = write({"format": "filmrec_toolkit", "format_version": 1,
                  "root": {"$object": "os:system", "params": {"command": "true"}, "state": {}}}, "cls.npz")
    with pytest.raises(ValueError, match="outside filmrec_toolkit"):
        ft.load(evil)
    newer = write({"format": "filmrec_toolkit", "format_version": 99, "package_version": "9.0", "root": None},
                  "new.npz")
    with pytest.raises(ValueError, match="newer"):
        ft.load(newer)
    np.savez(tmp_path / "plain.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not a filmrec_toolkit file"):
        ft.load(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="damaged|not a readable"):
        ft.load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        ft.load(tmp_path / "missing.npz")
    assert zipfile.is_zipfile(newer)


def test_unsaveable_attribute_named(tmp_path):
    model = ft.Popularity()
    model.handle_ = object()
    with pytest.raises(TypeError, match="handle_"):
        ft.save(model, tmp_path / "x")
    assert not list(tmp_path.iterdir())
