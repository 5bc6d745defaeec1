"""segment_users, describe_segments, lift / chi-square and the privacy guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from filmrec_toolkit import Dataset
from filmrec_toolkit.features import ItemEmbeddings
from filmrec_toolkit.profiles import (
    SegmentResult,
    composition_chi2,
    composition_lift,
    demographic_composition,
    describe_segments,
    export_audience,
    genre_lift,
    segment_label,
    segment_structure_note,
    segment_users,
)


def planted(k=4, per=100, d=16, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    truth = np.repeat(np.arange(k), per)
    x = centres[truth] / np.linalg.norm(centres[truth], axis=1, keepdims=True) + rng.normal(scale=noise, size=(k * per, d))
    return x.astype(np.float32), truth


@pytest.mark.parametrize("k", [3, 4, 6])
def test_auto_finds_planted_k(k):
    x, truth = planted(k=k, per=40)
    res = segment_users(x, n_segments="auto", n_segments_range=range(2, 9), random_state=0, sample_size=200)
    assert isinstance(res, SegmentResult)
    assert res.k == k
    assert adjusted_rand_score(truth, res.labels) >= 0.9
    assert list(res.silhouette.index) == list(range(2, 9))
    assert res.silhouette.idxmax() == k
    assert res.centroids.shape == (k, 16)
    assert res.sample_size == min(200, 40 * k)


def test_fixed_k_recovers_clusters_and_is_reproducible():
    x, truth = planted(k=4)
    a = segment_users(x, n_segments=4, random_state=1)
    b = segment_users(x, n_segments=4, random_state=1)
    assert adjusted_rand_score(truth, a.labels) >= 0.9
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.sizes.sum() == 400


def test_segment_users_bad_input():
    x, _ = planted(k=2, per=5)
    with pytest.raises(ValueError, match="n_segments_range contains \\[10\\]"):
        segment_users(x, n_segments_range=[2, 10])
    with pytest.raises(ValueError, match="n_segments == 0"):
        segment_users(x, n_segments=0)
    with pytest.raises(ValueError, match="n_segments='best'"):
        segment_users(x, n_segments="best")
    with pytest.raises(ValueError, match="2-D"):
        segment_users(np.ones(5))


def test_k_is_a_deprecated_spelling_of_n_segments():
    x, _ = planted(k=3, per=20)
    with pytest.warns(FutureWarning, match="n_segments"):
        old = segment_users(x, k=3, random_state=0)
    new = segment_users(x, n_segments=3, random_state=0)
    np.testing.assert_array_equal(old.labels, new.labels)
    with pytest.warns(FutureWarning, match="n_segments_range"):
        assert segment_users(x, k_range=range(2, 5), random_state=0).k in (2, 3, 4)
    with pytest.raises(ValueError, match="give only n_segments"), pytest.warns(FutureWarning):
        segment_users(x, n_segments=4, k=3)


def test_lift_and_chi2_hand_table():
    # segment: M 30, F 10 (75 % / 25 %); population M 60, F 40 (60 % / 40 %)
    lift = composition_lift({"M": 30, "F": 10}, {"M": 60, "F": 40})
    assert lift["M"] == pytest.approx(0.75 / 0.60)   # 1.25
    assert lift["F"] == pytest.approx(0.25 / 0.40)   # 0.625
    # segment vs rest: [[30, 10], [30, 30]], N = 100, row sums 40 / 60, column sums 60 / 40
    # expected [[24, 16], [36, 24]], |O - E| = 6 everywhere; Yates: (6 - 0.5)^2 = 30.25
    # chi2 = 30.25 * (1/24 + 1/16 + 1/36 + 1/24) = 5.2517, dof 1, p = 0.0219
    chi2, p, dof = composition_chi2([30, 10], [30, 30])
    assert chi2 == pytest.approx(30.25 * (1 / 24 + 1 / 16 + 1 / 36 + 1 / 24))
    assert dof == 1
    assert p == pytest.approx(0.02193, abs=1e-4)
    # a category empty in both rows is dropped; a single category gives no test
    assert composition_chi2([30, 10, 0], [30, 30, 0])[2] == 1
    assert np.isnan(composition_chi2([5], [7])[1])


@pytest.fixture
def seg_data():
    """8 users: segment 0 = users 1-4 (3 F, 1 M) rating Animation films,
    segment 1 = users 5-8 (all M) rating Action films."""
    rows = []
    for u in (1, 2, 3, 4):
        rows += [(u, "toon1", 5.0), (u, "toon2", 4.0)]
    for u in (5, 6, 7, 8):
        rows += [(u, "bang1", 3.0), (u, "bang2", 2.0)]
    rows += [(1, "bang1", 4.0)]
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    items = pd.DataFrame({"item_id": ["toon1", "toon2", "bang1", "bang2"],
                          "title": ["Toon One (1995)", "Toon Two (1996)", "Bang One (1990)", "Bang Two (1991)"],
                          "genres": [["Animation", "Children's"], ["Animation"], ["Action"], ["Action", "Thriller"]]})
    users = pd.DataFrame({"user_id": range(1, 9), "gender": ["F", "F", "F", "M", "M", "M", "M", "M"],
                          "age_group": ["18-24"] * 4 + ["35-44"] * 4,
                          "age_code": [18] * 4 + [35] * 4,
                          "occupation": ["artist", "artist", "writer", "writer", "other", "other", "other", "other"]})
    ds = Dataset.from_frames(ratings, items, users)
    emb = ItemEmbeddings(np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], np.float32), items.item_id)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    return ds, emb, labels


def test_genre_lift_by_hand(seg_data):
    ds, _, labels = seg_data
    lift = genre_lift(ds, labels)
    # 17 ratings: segment 0 has 9 (8 Animation, 4 Children's, 1 Action), segment 1 has 8 (8 Action, 4 Thriller)
    # Animation: share 8/9 in segment 0, 8/17 overall -> lift (8/9) / (8/17) = 17/9
    assert lift.loc[0, "Animation"] == pytest.approx(17 / 9)
    assert lift.loc[1, "Animation"] == 0
    # Action: segment 1 share 8/8, overall 9/17 -> 17/9
    assert lift.loc[1, "Action"] == pytest.approx(17 / 9)


def test_describe_segments_rows(seg_data):
    ds, emb, labels = seg_data
    out = describe_segments(ds, labels, emb, min_genre_share=0.0)
    assert list(out.index) == [0, 1]
    assert out["size"].tolist() == [4, 4] and out["share"].tolist() == [0.5, 0.5]
    # segment 0: Animation and Children's lift 17/9 ...
    assert out.loc[0, "top_genres"].startswith("Animation ×1.89, Children's ×1.89")
    # ... but with 4 users against 4, no genre test survives Holm over the 4 genres (exact MWU p = 2/70,
    # x 4 > .05): the label may not claim a genre and falls back to a significant trait
    assert "Animation" not in out.loc[0, "label"] and "no genre reaches" in out.loc[0, "label_reason"]
    # gender: segment 0 is 3 F / 1 M vs population 3 F / 5 M -> F lift (3/4)/(3/8) = 2
    assert out.loc[0, "gender"].startswith("F 75% ×2.00")
    # chi-square of [[3, 1], [0, 4]] (segment vs rest, F/M) -> scipy with Yates
    from scipy.stats import chi2_contingency
    assert out.loc[0, "gender_p"] == pytest.approx(chi2_contingency([[3, 1], [0, 4]])[1])
    assert out.loc[0, "most_watched"].startswith("Toon One (1995)")
    assert out.loc[0, "closest_films"].split(" | ")[0] in {"Toon One (1995)", "Toon Two (1996)"}
    assert out.loc[1, "mean_rating"] == pytest.approx(2.5)
    assert out.loc[0, "ratings_per_user"] == pytest.approx(9 / 4)
    for col in ("gender_p", "age_group_p", "occupation_p", "top_genres"):
        assert col in out.columns
    assert set(out.attrs["compositions"]) == {"gender", "age_group", "occupation"}


def test_min_cell_suppresses_small_cells(seg_data):
    ds, emb, labels = seg_data
    comp = demographic_composition(ds, labels, "gender", min_cell=2)
    cell = comp.set_index(["segment", "value"])
    assert cell.loc[(0, "M"), "suppressed"] and np.isnan(cell.loc[(0, "M"), "count"])
    assert cell.loc[(0, "F"), "count"] == 3
    out = describe_segments(ds, labels, emb, min_cell=2, top_values=2)
    assert "M (suppressed)" in out.loc[0, "gender"]
    assert "writer (suppressed)" not in out.loc[0, "occupation"]  # 2 writers >= min_cell
    hidden = describe_segments(ds, labels, emb, min_cell=5)
    assert hidden["size"].isna().all()
    with pytest.raises(KeyError, match="'income'"):
        demographic_composition(ds, labels, "income")


def test_describe_segments_checks_labels(seg_data):
    ds, emb, _ = seg_data
    with pytest.raises(ValueError, match="labels has 3 entries but the dataset has 8 users"):
        describe_segments(ds, [0, 1, 0], emb)


def test_export_audience_privacy():
    labels = np.array([0] * 60 + [1] * 10)
    with pytest.raises(ValueError, match="segment 1 has 10 users, fewer than min_size=50"):
        export_audience(labels, 1)
    with pytest.raises(ValueError, match="segment=7 is not one of the segments"):
        export_audience(labels, 7)
    summary = export_audience(labels, 0)
    assert summary.to_dict("records") == [{"segment": 0, "size": 60, "share": 60 / 70}]
    assert "user_id" not in summary.columns
    ids = export_audience(labels, 0, include_ids=True, user_ids=np.arange(100, 170))
    assert ids["user_id"].tolist() == list(range(100, 160))
    assert len(export_audience(labels, 1, min_size=10)) == 1
    with pytest.raises(ValueError, match="needs dataset= or user_ids="):
        export_audience(labels, 0, include_ids=True)
    with pytest.raises(ValueError, match="min_size == 0"):
        export_audience(labels, 0, min_size=0)


def test_segment_label_refuses_a_weak_lift():
    # x1.02 is no taste, however small its p; x1.18 misses the x1.2 bar; x1.5 with p = .3 is not significant
    lift = pd.Series({"Western": 1.02, "Horror": 1.18, "Sci-Fi": 1.5, "Drama": 0.9})
    p = pd.Series({"Western": 1e-9, "Horror": 1e-9, "Sci-Fi": 0.3, "Drama": 1e-9})
    label, reason = segment_label(lift, p)
    assert label == "mixed tastes" and "no genre reaches lift ×1.2" in reason
    traits = [("heavy raters (median 153 ratings vs 22, ×6.95)", 1e-12), ("women over-represented (40%, ×1.4)", 0.01)]
    assert segment_label(lift, p, traits)[0].startswith("heavy raters")  # the strongest significant trait
    assert segment_label(lift, p, [("women over-represented", 0.2)])[0] == "mixed tastes"
    # a real taste: x1.3 and significant enters; genres ordered by lift
    p["Sci-Fi"] = 0.001
    lift["Western"] = 1.3
    assert segment_label(lift, p)[0] == "Sci-Fi · Western"


def test_describe_segments_labels_genres_on_enough_users(seg_data):
    # the seg_data pattern repeated 10 times: 40 users per segment -> the genre tests are significant
    ds, emb, _ = seg_data
    r = ds.ratings
    big = pd.concat([r.assign(user_id=r["user_id"] + 100 * c) for c in range(10)], ignore_index=True)
    users = pd.concat([ds.users.assign(user_id=ds.users["user_id"] + 100 * c) for c in range(10)], ignore_index=True)
    big_ds = Dataset.from_frames(big, ds.items, users)
    labels = np.array([0 if (u % 100) <= 4 else 1 for u in big_ds.user_ids])
    out = describe_segments(big_ds, labels, emb, min_genre_share=0.0)
    assert out.loc[0, "label"] == "Animation · Children's"
    assert out.loc[1, "label"] == "Thriller · Action"  # Thriller only here: lift 2.12 > Action 1.89
    assert out.attrs["genre_p"].loc[0, "Animation"] < 0.001
    assert "lift ≥ ×1.2 and p < 0.05" in out.loc[0, "label_reason"]


def test_weak_structure_note():
    res = SegmentResult(labels=np.array([0, 1]), centroids=np.zeros((2, 2)), k=2,
                        silhouette=pd.Series({2: 0.11}), inertia=pd.Series({2: 1.0}))
    note = segment_structure_note(res)
    assert note.startswith("Weak structure: the mean silhouette is 0.11 (below 0.25)")
    assert segment_structure_note(0.4) == ""
