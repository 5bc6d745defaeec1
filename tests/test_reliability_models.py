"""Issue 14, models half: regression tests for the defects found by the hostile probe.

Each test reproduced its defect before the fix (see the issue's closing table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from test_recommenders_fixtures import FixedScores, near_tie_dataset, nudged_vectors

import filmrec_toolkit as ft
from filmrec_toolkit import EASE, Dataset, ItemKNN, Popularity, evaluate
from filmrec_toolkit.recommenders import Recommender


@pytest.fixture
def zeros_ds():
    """User 1 rated item 10 with 0 (watched, disliked), user 2 item 12 with 0, user 3 item 11 with -1."""
    r = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 11, 10, 12, 11],
                      "rating": [0.0, 5.0, 3.0, 0.0, -1.0]})
    return Dataset.from_frames(r)


# ------------------------------------------------------------------ defect 2: stored zeros
def test_dataset_matrix_keeps_stored_zeros(zeros_ds):
    m = zeros_ds.matrix
    assert m.nnz == 5  # the zeros are stored entries, not dropped


@pytest.mark.parametrize("make", [Popularity, EASE, ItemKNN, lambda: FixedScores([3.0, 2.0, 1.0])],
                         ids=["Popularity", "EASE", "ItemKNN", "fixed"])
def test_rated_zero_or_negative_is_never_recommended_back(zeros_ds, make):
    recs = make().fit(zeros_ds).recommend(k=5)
    for uid, grp in recs.groupby("user_id"):
        seen = set(zeros_ds.user_history(uid)["item_id"])
        assert not seen & set(grp["item_id"]), f"user {uid} got a rated item back: {grp['item_id'].tolist()}"


def test_exclusion_matrix_with_explicit_zeros_excludes_by_structure(zeros_ds):
    model = FixedScores([3.0, 2.0, 1.0]).fit(zeros_ds)
    mask = sp.csr_matrix((np.zeros(2, np.float32), ([0, 1], [0, 1])), shape=(3, 3))  # two stored zeros
    assert mask.nnz == 2
    cols, vals = model.recommend_rows(np.arange(3), 3, exclude_seen=mask)
    assert 0 not in cols[0][np.isfinite(vals[0])] and 1 not in cols[1][np.isfinite(vals[1])]


def test_distributed_padding_excludes_by_structure():
    from filmrec_toolkit.recommenders.base import _padded_exclusion

    sub = sp.csr_matrix((np.array([0.0, 2.0], np.float32), ([0, 1], [2, 0])), shape=(2, 4))
    padded = _padded_exclusion(sub, np.array([3, 5]), 6)
    assert {(3, 2), (5, 0)} == set(zip(*padded.nonzero()))


# ------------------------------------------------------------------ defect 2: evaluate relevance vs hits
@pytest.fixture
def zero_test_splits():
    # items a..d; train: user 1 {a}, user 2 {a, d}; test: user 1 rates b with 0 and c with 4, user 2 b with -2
    r = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2], "item_id": ["a", "b", "c", "a", "b", "d"],
                      "rating": [5.0, 0.0, 4.0, 5.0, -2.0, 3.0]})
    ds = Dataset.from_frames(r)
    test = np.array([False, True, True, False, True, False])
    return ds.subset(~test), ds.subset(test)


def test_evaluate_zero_and_negative_test_ratings_are_relevant_and_hits(zero_test_splits):
    train, test = zero_test_splits
    res = evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, test, k=(1, 2))
    pu = res.per_user.set_index("user_id")
    # user 1: ranking b, c, d; relevant {b (0), c (4)}: both are hits
    assert pu.loc[1, "n_test"] == 2
    assert pu.loc[1, "precision@2"] == pytest.approx(1.0) and pu.loc[1, "hit@1"] == 1
    # graded gains use the rating clipped at 0: b gives 0, c gives 4 at rank 2; ideal 4 at rank 1
    assert pu.loc[1, "ndcg_graded@2"] == pytest.approx((4 / np.log2(3)) / 4)
    # user 2: b (-2) is relevant and recommended first: a hit; graded gain 0 -> 0
    assert pu.loc[2, "hit@1"] == 1 and pu.loc[2, "recall@1"] == 1
    assert pu.loc[2, "ndcg_graded@1"] == 0


def test_evaluate_threshold_zero_keeps_zero_ratings(zero_test_splits):
    train, test = zero_test_splits
    res = evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, test, k=2, relevance_threshold=0)
    pu = res.per_user.set_index("user_id")
    assert pu.loc[1, "n_test"] == 2 and pu.loc[1, "precision@2"] == pytest.approx(1.0)
    assert res.n_users_excluded == 1  # user 2's -2 is below the threshold


def test_evaluate_does_not_count_excluded_test_items(zero_test_splits):
    """A test item also masked by ``exclude`` can never be a hit: it is not counted as relevant."""
    train, test = zero_test_splits
    coo = train.matrix.tocoo()  # plus user 1's test item b, as a stored zero: structure counts
    mask = sp.csr_matrix((np.r_[coo.data, 0.0], (np.r_[coo.row, 0], np.r_[coo.col, 1])), shape=coo.shape)
    assert mask.nnz == train.matrix.nnz + 1
    with pytest.warns(UserWarning, match="1 test interaction"):
        res = evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, test, k=2, exclude=mask)
    pu = res.per_user.set_index("user_id")
    # user 1: ranking c, d; relevant {c} only
    assert pu.loc[1, "n_test"] == 1 and pu.loc[1, "precision@2"] == pytest.approx(1 / 2)
    assert pu.loc[1, "recall@2"] == pytest.approx(1.0)


# ------------------------------------------------------------------ defect 11: empty test set
def test_evaluate_empty_test_raises_clearly(zero_test_splits):
    train, test = zero_test_splits
    empty = test.subset(np.zeros(test.n_ratings, dtype=bool))
    with pytest.raises(ValueError, match="no user has a relevant test item"):
        evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, empty, k=2)
    with pytest.raises(ValueError, match="relevance_threshold=10"):
        evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, test, k=2, relevance_threshold=10)


# ------------------------------------------------------------------ defect 5: stale list in the inspector
class Boom(Recommender):
    """Scores fine for every user except user row 1, where it raises."""

    name = "boom"

    def _fit(self, train):
        pass

    def _score(self, user_rows):
        if 1 in np.asarray(user_rows):
            raise RuntimeError("scoring exploded for user row 1")
        return np.arange(self.n_items_, dtype=np.float32)[None, :].repeat(len(user_rows), 0)


def test_inspector_clears_the_list_when_the_model_raises(tiny):
    pytest.importorskip("ipywidgets")
    from filmrec_toolkit.widgets import UserInspector

    ins = UserInspector(tiny, {"boom": Boom().fit(tiny)}, k=2)
    assert "Top 2 from boom" in ins.recommendations.value  # user 1 (row 0) has a list
    ins.user.value = 2  # row 1 raises
    assert "scoring exploded" in ins.error.value
    assert "User 2" in ins.history.value  # the new user's history is shown ...
    assert "Top 2 from boom" not in ins.recommendations.value  # ... and no stale list beside it
    ins.user.value = 3
    assert "Top 2 from boom" in ins.recommendations.value and ins.error.value == ""


# ------------------------------------------------------------------ defect 6: explanation HTML
def test_explanation_html_escapes_the_sentence_and_the_frame():
    from filmrec_toolkit.recommenders.explain import Explanation

    frame = pd.DataFrame({"item_id": [1], "title": ["<img src=x onerror=alert(1)>"]})
    html = Explanation(frame, "'<b>Evil</b> & co' is recommended because of '<script>x</script>'", 1.0)._repr_html_()
    assert "<script>" not in html and "<b>Evil" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in html


def test_explanation_of_a_markup_title_is_escaped_end_to_end():
    r = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 2], "rating": [5.0, 4.0, 3.0]})
    items = pd.DataFrame({"item_id": [1, 2], "title": ["<script>alert(1)</script>", "Fine (1999)"]})
    model = Popularity().fit(Dataset.from_frames(r, items))
    html = model.explain(2, 1)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


# ------------------------------------------------------------------ defect 8: invalid parameters
@pytest.fixture
def small(tiny):
    return tiny


@pytest.mark.parametrize("make, match", [
    (lambda: EASE(l2=float("inf")), r"l2 == inf, must be a finite number > 0.*e\.g\. EASE\(l2=500"),
    (lambda: EASE(l2=float("nan")), r"l2 == nan, must be a finite number > 0"),
    (lambda: EASE(l2=0), r"l2 == 0, must be a finite number > 0"),
    (lambda: ItemKNN(shrink=float("nan")), r"shrink == nan, must be a finite number >= 0.*e\.g\. ItemKNN\(shrink=10"),
    (lambda: ItemKNN(shrink=-1.0), r"shrink == -1.0, must be a finite number >= 0"),
    (lambda: ItemKNN(n_neighbors=0), r"n_neighbors == 0, must be an integer >= 1.*e\.g\. ItemKNN\(n_neighbors=100"),
    (lambda: ft.ALS(factors=0), r"factors == 0, must be an integer >= 1.*e\.g\. ALS\(factors=64"),
    (lambda: ft.ALS(iterations=0), r"iterations == 0, must be an integer >= 1.*e\.g\. ALS\(iterations=15"),
    (lambda: ft.ALS(iterations=-1), r"iterations == -1, must be an integer >= 1"),
    (lambda: ft.ALS(regularization=float("nan")), r"regularization == nan, must be a finite number >= 0"),
    (lambda: ft.ALS(alpha=float("inf")), r"alpha == inf, must be a finite number >= 0"),
    (lambda: ft.BPR(factors=0), r"factors == 0, must be an integer >= 1.*e\.g\. BPR\(factors=64"),
    (lambda: ft.BPR(learning_rate=0.0), r"learning_rate == 0.0, must be a finite number > 0"),
    (lambda: ft.BPR(iterations=0), r"iterations == 0, must be an integer >= 1"),
    (lambda: Popularity(min_rating=float("nan")), r"min_rating == nan, must be None or a finite number"),
], ids=["ease-l2-inf", "ease-l2-nan", "ease-l2-0", "knn-shrink-nan", "knn-shrink-neg", "knn-neighbors-0",
        "als-factors-0", "als-iter-0", "als-iter-neg", "als-reg-nan", "als-alpha-inf", "bpr-factors-0",
        "bpr-lr-0", "bpr-iter-0", "pop-min-nan"])
def test_invalid_numeric_parameters_rejected_at_fit(small, make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(small)


@pytest.mark.parametrize("make, match", [
    (lambda: EASE(l2="500"), r"l2 must be a finite number > 0, got '500' \(str\); e\.g\. EASE\(l2=500"),
    (lambda: ItemKNN(shrink="10"), r"shrink must be a finite number >= 0, got '10' \(str\)"),
    (lambda: ItemKNN(n_neighbors=2.5), r"n_neighbors must be an integer >= 1, got 2.5 \(float\)"),
    (lambda: ft.ALS(factors=True), r"factors must be an integer >= 1, got True \(bool\)"),
    (lambda: ft.ALS(factors=8.0), r"factors must be an integer >= 1, got 8.0 \(float\)"),
    (lambda: EASE(implicit="yes"), r"implicit must be True or False, got 'yes' \(str\)"),
], ids=["ease-l2-str", "knn-shrink-str", "knn-neighbors-float", "als-factors-bool", "als-factors-float",
        "ease-implicit-str"])
def test_wrong_type_parameters_rejected_at_fit(small, make, match):
    with pytest.raises(TypeError, match=match):
        make().fit(small)


def test_numpy_scalars_are_accepted(small):
    EASE(l2=np.float32(100.0)).fit(small)
    ItemKNN(n_neighbors=np.int64(3), shrink=np.int32(0)).fit(small)


def test_als_factors_zero_prints_nothing(small, capfd):
    with pytest.raises(ValueError, match="factors"):
        ft.ALS(factors=0).fit(small)
    out, err = capfd.readouterr()
    assert "BLAS" not in out + err and "parameter" not in out


def test_parameters_changed_after_fit_are_checked_at_use(small):
    model = EASE().fit(small)
    model.set_params(implicit="no")
    with pytest.raises(TypeError, match="implicit must be True or False"):
        model.recommend_for_profile([10], k=2)


@pytest.mark.parametrize("gain", ["bogus", "Linear", None, 2])
def test_evaluate_rejects_unknown_gain(zero_test_splits, gain):
    train, test = zero_test_splits
    with pytest.raises(ValueError, match=r"gain == .*, must be one of \['linear', 'exponential'\].*e\.g\. gain="):
        evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, test, k=2, gain=gain)


@pytest.mark.parametrize("threshold", [float("nan"), "4", float("inf")])
def test_evaluate_rejects_bad_relevance_threshold(zero_test_splits, threshold):
    train, test = zero_test_splits
    with pytest.raises((TypeError, ValueError), match="relevance_threshold"):
        evaluate(FixedScores([4.0, 3.0, 2.0, 1.0]), train, test, k=2, relevance_threshold=threshold)


# ------------------------------------------------------------------ defects 11 and 12: layout-independent lists
@pytest.fixture(scope="module")
def near_tie_data():
    return near_tie_dataset()


@pytest.mark.parametrize("chunk_size", [1, 7, 13])
def test_content_lists_do_not_depend_on_chunk_size(near_tie_data, chunk_size):
    ds, emb = near_tie_data
    model = ft.ContentRecommender(emb).fit(ds)
    # before the fix: 11 (chunk 1) and 7 (chunk 7) of 40 lists differed from the default chunking
    assert ft.count_differing_lists(model.recommend(k=10), model.recommend(k=10, chunk_size=chunk_size)) == 0


def test_als_lists_do_not_depend_on_chunk_size(near_tie_data):
    ds, _ = near_tie_data
    model = ft.ALS(factors=4, iterations=1, random_state=0).fit(ds)
    vecs = nudged_vectors()
    model.item_factors_ = vecs[: ds.n_items].copy()
    model.user_factors_ = np.random.default_rng(2).standard_normal((ds.n_users, vecs.shape[1])).astype(np.float32)
    assert ft.count_differing_lists(model.recommend(k=10), model.recommend(k=10, chunk_size=1)) == 0


def test_count_differing_lists_counts_items_scores_and_missing_users():
    a = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [5, 6, 5, 6, 7], "score": [2.0, 1.0, 2.0, 1.0, 1.0],
                      "rank": [1, 2, 1, 2, 1]})
    b = a.copy()
    assert ft.count_differing_lists(a, b) == 0
    b.loc[[0, 1], "item_id"] = [6, 5]  # user 1: two items swapped
    b.loc[2, "score"] = np.nextafter(np.float32(2.0), np.float32(3.0))  # user 2: one ulp
    assert ft.count_differing_lists(a, b) == 2
    assert ft.count_differing_lists(a, b, scores=False) == 1
    assert ft.count_differing_lists(a, b[b["user_id"] != 3]) == 3


def test_topk_refined_equals_ranking_of_exact_scores():
    from filmrec_toolkit._topk import pair_dots, topk, topk_refined

    vecs = nudged_vectors(40, 32)
    users = np.random.default_rng(3).standard_normal((9, 32)).astype(np.float32)
    exact = np.stack([pair_dots(np.repeat(u[None], len(vecs), 0), vecs) for u in users])
    for noisy in (users @ vecs.T, np.stack([vecs @ u for u in users])):  # gemm and gemv roundings
        noisy = noisy.copy()
        noisy[:, ::5] = -np.inf  # excluded columns stay excluded
        slack = np.full(len(users), 1e-4)
        cols, vals = topk_refined(noisy, 10, lambda r, c: pair_dots(users[r], vecs[c]), slack)
        masked = np.where(np.isfinite(noisy), exact, -np.inf)
        e_cols, e_vals = topk(masked, 10)
        assert np.array_equal(cols, e_cols) and np.array_equal(vals, e_vals)


def test_inspector_clears_the_list_when_showing_the_user_raises(tiny, monkeypatch):
    pytest.importorskip("ipywidgets")
    from filmrec_toolkit.widgets import UserInspector

    ins = UserInspector(tiny, {"pop": Popularity().fit(tiny)}, k=2)
    assert "Top 2 from pop" in ins.recommendations.value

    def broken(uid):
        raise RuntimeError("genre profile failed")

    monkeypatch.setattr(ins, "genre_profile", broken)
    ins.user.value = 2
    assert "genre profile failed" in ins.error.value
    assert "Top 2 from pop" not in ins.recommendations.value
