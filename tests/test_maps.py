"""project_2d caching and the map / segment plots (headless Agg)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from filmrec_toolkit._config import get_data_home  # noqa: E402
from filmrec_toolkit.plots import maps  # noqa: E402
from filmrec_toolkit.plots.maps import (  # noqa: E402
    main_genres,
    plot_demographics,
    plot_genre_lift,
    plot_item_map,
    plot_segment_lifts,
    plot_silhouette,
    plot_user_map,
)
from filmrec_toolkit.profiles import demographic_composition, genre_lift, project_2d, segment_users  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _points(fig) -> int:
    return sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections)


def test_public_names():
    assert set(maps.__all__) >= {"plot_item_map", "plot_user_map", "plot_silhouette", "plot_genre_lift",
                                 "plot_demographics"}


def test_project_2d_pca_is_cached(monkeypatch):
    x = np.random.default_rng(0).normal(size=(30, 5)).astype(np.float32)
    a = project_2d(x, method="pca", random_state=0)
    assert a.shape == (30, 2) and a.dtype == np.float32
    files = list((get_data_home() / "projections").glob("pca-*.npy"))
    assert len(files) == 1
    # a second call reads the file instead of recomputing
    import sklearn.decomposition

    def boom(*args, **kwargs):
        raise AssertionError("PCA recomputed")

    monkeypatch.setattr(sklearn.decomposition, "PCA", boom)
    np.testing.assert_array_equal(project_2d(x, method="pca", random_state=0), a)
    # another matrix gets another key
    with pytest.raises(AssertionError, match="recomputed"):
        project_2d(x + 1, method="pca", random_state=0)
    with pytest.raises(ValueError, match="method='tsne'"):
        project_2d(x, method="tsne")


@pytest.mark.slow
def test_project_2d_umap_tiny():
    x = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    a = project_2d(x, method="umap", random_state=0, n_neighbors=5)
    assert a.shape == (40, 2) and np.isfinite(a).all()
    files = list((get_data_home() / "projections").glob("umap-*.npy"))
    assert files
    np.testing.assert_array_equal(project_2d(x, method="umap", random_state=0, n_neighbors=5), a)


def test_main_genres():
    g = [["Drama", "War"], ["Comedy"], [], ["Drama"], ["Horror"]]
    assert main_genres(g, n_colours=1).tolist() == ["Drama", "other", "other", "Drama", "other"]


def test_item_map_points_and_labels(tiny):
    coords = np.random.default_rng(0).normal(size=(tiny.n_items, 2))
    fig = plot_item_map(coords, tiny, label=2)
    ax = fig.axes[0]
    # first collection holds the films; the others are legend handles with no points
    assert len(ax.collections[0].get_offsets()) == tiny.n_items
    assert _points(fig) == tiny.n_items
    assert len(ax.texts) == 2
    fig2, ax2 = plt.subplots()
    assert plot_item_map(coords, tiny, label=[0], ax=ax2) is fig2
    with pytest.raises(ValueError, match="but 5 were expected"):
        plot_item_map(coords[:3], tiny)


def test_user_map_silhouette_and_segment_charts(tiny):
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(tiny.n_users, 2))
    labels = np.array([0, 1, 0, 1])
    fig = plot_user_map(coords, labels, names={0: "comedy fans", 1: "action fans"})
    assert _points(fig) == tiny.n_users
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["0: comedy fans", "1: action fans"]
    x = rng.normal(size=(30, 4))
    res = segment_users(x, n_segments_range=range(2, 5), random_state=0)
    fig = plot_silhouette(res)
    line = fig.axes[0].lines[0]
    assert len(line.get_xdata()) == 3
    lift = genre_lift(tiny, labels)
    fig = plot_genre_lift(lift, 0)
    assert len(fig.axes[0].patches) == (lift.loc[0] > 0).sum()
    # bars grow from 1 on a log axis centred on 1 (a lift of x0.5 is as long as x2)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and all(p.get_x() == pytest.approx(1.0) for p in ax.patches)
    lo, hi = ax.get_xlim()
    assert lo * hi == pytest.approx(1.0)
    heat = plot_segment_lifts(lift, names={0: "a", 1: "b"})
    assert heat.axes[0].images and heat.axes[0].images[0].norm.vcenter == 0.0
    comp = demographic_composition(tiny, labels, "gender")
    fig = plot_demographics(comp, 1)
    assert len(fig.axes[0].patches) == 2 * 2   # population + segment bar per gender
    with pytest.raises(ValueError, match="segment=9"):
        plot_demographics(comp, 9)


def test_plots_accept_series():
    fig = plot_silhouette(pd.Series({2: 0.1, 3: 0.3, 4: 0.2}), chosen=3)
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "chosen k = 3"
