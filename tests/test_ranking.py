"""The one home of ranked lists: build, parse and validate the user_id, item_id, score, rank frame."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import filmrec_toolkit as ft
from filmrec_toolkit import evaluate
from filmrec_toolkit.ranking import TOPK_COLUMNS, ranked_rows, topk_frame


def test_topk_frame_drops_excluded_entries(tiny):
    cols = np.array([[0, 2], [1, 0]])
    vals = np.array([[0.9, -np.inf], [0.5, 0.4]], dtype=np.float32)
    frame = topk_frame(np.array([1, 2]), tiny.item_ids, cols, vals)
    assert list(frame.columns) == list(TOPK_COLUMNS)
    assert frame.to_dict("list") == {"user_id": [1, 2, 2], "item_id": [10, 20, 10],
                                     "score": pytest.approx([0.9, 0.5, 0.4]), "rank": [1, 1, 2]}


def test_ranked_rows_sorts_cuts_and_maps_to_rows(tiny):
    recs = pd.DataFrame({"user_id": [2, 1, 1, 2], "item_id": [40, 30, 10, 50], "score": [1.0, 0.5, 0.9, 0.8],
                         "rank": [2, 2, 1, 1]})
    rows = ranked_rows(recs, tiny, k=1)
    # user 1: item 10 (row 0) at rank 1; user 2: item 50 (row 4) at rank 1
    assert rows.to_dict("list") == {"user_id": [1, 2], "item_row": [0, 4], "rank": [1, 1]}
    assert len(ranked_rows(recs, tiny)) == 4


def test_ranked_rows_refuses_bad_lists(tiny):
    recs = pd.DataFrame({"user_id": [1, 1], "item_id": [10, 10], "score": [1.0, 0.5], "rank": [1, 2]})
    with pytest.raises(ValueError, match="twice"):
        ranked_rows(recs, tiny)
    with pytest.raises(ValueError, match="rank"):
        ranked_rows(recs.drop(columns="rank"), tiny)
    with pytest.raises(ValueError, match="k == 0"):
        ranked_rows(recs.head(1), tiny, k=0)
    with pytest.raises(ft.UnknownIdError):
        ranked_rows(recs.head(1).assign(item_id=99), tiny)


def test_stored_entries_keep_explicit_zeros():
    import scipy.sparse as sp

    m = sp.csr_matrix((np.array([0.0, 3.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    r, c = ft.stored_entries(m)
    assert list(zip(r, c)) == [(0, 1), (1, 0)]


# ------------------------------------------------------------------ exclusion: one meaning per value
# tiny: users 1..4 = rows 0..3, items 10..50 = rows 0..4; train interactions (user row, item row):
TINY_SEEN = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 3), (2, 1), (2, 2), (2, 4), (3, 4)}


def _entries(m):
    return set(zip(*(a.tolist() for a in ft.stored_entries(m))))


def test_exclusion_matrix_true_is_the_training_interactions(tiny):
    assert ft.exclusion_matrix(True, tiny) is tiny.matrix
    assert _entries(ft.exclusion_matrix(True, tiny)) == TINY_SEEN
    assert ft.exclusion_matrix(np.bool_(True), tiny) is tiny.matrix


@pytest.mark.parametrize("value", [False, None, np.bool_(False)])
def test_exclusion_matrix_false_and_none_exclude_nothing(tiny, value):
    assert ft.exclusion_matrix(value, tiny) is None


def test_exclusion_matrix_dataset_and_matrix_are_exactly_their_stored_entries(tiny):
    part = tiny.subset(tiny.ratings["user_id"].isin([2, 4]).to_numpy())  # user 2: 10, 40; user 4: 50
    assert _entries(ft.exclusion_matrix(part, tiny)) == {(1, 0), (1, 3), (3, 4)}
    # a stored 0 is excluded too ("watched, disliked"); a value-less position is not
    m = sp.csr_matrix((np.array([0.0, -1.0], np.float32), ([0, 3], [3, 0])), shape=(4, 5))
    assert _entries(ft.exclusion_matrix(m, tiny)) == {(0, 3), (3, 0)}
    assert _entries(ft.exclusion_matrix(m.tocoo(), tiny, param="exclude_seen")) == {(0, 3), (3, 0)}


def test_exclusion_matrix_errors_name_the_parameter(tiny):
    with pytest.raises(ValueError, match=r"exclude_seen matrix has shape \(4, 4\), expected \(4, 5\)"):
        ft.exclusion_matrix(sp.csr_matrix((4, 4)), tiny, param="exclude_seen")
    other = ft.Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [10], "rating": [1.0]}))
    with pytest.raises(ValueError, match="exclude: the Dataset must share the training vocabularies"):
        ft.exclusion_matrix(other, tiny)
    with pytest.raises(TypeError, match=r"exclude must be True .* got list"):
        ft.exclusion_matrix([10, 20], tiny)


def test_recommend_and_evaluate_read_each_exclusion_value_the_same_way(tiny):
    """FixedScores ranks 10 > 20 > 30 > 40 > 50 for everyone; the exclusion decides what is left."""
    from test_recommenders_fixtures import FixedScores

    held_out = ((tiny.ratings["user_id"] == 1) & (tiny.ratings["item_id"] == 30)) | \
        ((tiny.ratings["user_id"] == 3) & (tiny.ratings["item_id"] == 50))
    train, test = tiny.subset(~held_out.to_numpy()), tiny.subset(held_out.to_numpy())
    # train: user 1 {10, 20}, user 3 {20, 30}; test: user 1 {30}, user 3 {50}
    model = FixedScores([5.0, 4.0, 3.0, 2.0, 1.0]).fit(train)
    extra = sp.csr_matrix((np.ones(2, np.float32), ([0, 2], [4, 0])), shape=(4, 5))  # user 1: 50, user 3: 10
    expected = {  # (user 1's list, user 3's list)
        "True": ([30, 40, 50], [10, 40, 50]),
        "False": ([10, 20, 30, 40, 50], [10, 20, 30, 40, 50]),
        "None": ([10, 20, 30, 40, 50], [10, 20, 30, 40, 50]),
        "Dataset": ([30, 40, 50], [10, 40, 50]),
        "matrix": ([10, 20, 30, 40], [20, 30, 40, 50]),
    }
    values = {"True": True, "False": False, "None": None, "Dataset": train, "matrix": extra}
    for key, value in values.items():
        recs = model.recommend([1, 3], k=5, exclude_seen=value)
        assert recs.groupby("user_id")["item_id"].apply(list).to_dict() == dict(zip((1, 3), expected[key])), key
        if value is None:  # evaluate(exclude=None) is deprecated: still the training items, with advice
            with pytest.warns(FutureWarning, match="pass exclude=True for the training items"):
                res = evaluate(model, train, test, k=5, exclude=None)
            want = expected["True"]
        else:
            res = evaluate(model, train, test, k=5, exclude=value)
            want = expected[key]
        assert res.recommendations.groupby("user_id")["item_id"].apply(list).to_dict() == dict(zip((1, 3), want)), key


# ------------------------------------------------------------------ candidate masks over vocabularies
def test_candidate_mask_shared_items(tiny):
    assert ft.candidate_mask(None, tiny.item_vocab) is None
    np.testing.assert_array_equal(ft.candidate_mask([30, 10], tiny.item_vocab), [True, False, True, False, False])
    np.testing.assert_array_equal(ft.candidate_mask(np.array([50]), tiny.item_vocab, user_ids=[1, 2]),
                                  [False, False, False, False, True])
    assert not ft.candidate_mask([], tiny.item_vocab).any()


def test_candidate_mask_per_user_rows_follow_user_ids(tiny):
    by_dict = ft.candidate_mask({2: [40], 1: [10, 20]}, tiny.item_vocab, user_ids=[1, 2, 3])
    assert sp.issparse(by_dict) and by_dict.shape == (3, 5)
    np.testing.assert_array_equal(by_dict.toarray(), [[1, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]])
    # users not in user_ids are ignored; a pair given twice is one allowed item; order of user_ids is kept
    frame = pd.DataFrame({"user_id": [3, 9, 3, 1], "item_id": [50, 10, 50, 30]})
    by_frame = ft.candidate_mask(frame, tiny.item_vocab, user_ids=np.array([3, 1]))
    np.testing.assert_array_equal(by_frame.toarray(), [[0, 0, 0, 0, 1], [0, 0, 1, 0, 0]])


def test_candidate_mask_errors(tiny):
    with pytest.raises(ValueError, match="pass user_ids"):
        ft.candidate_mask({1: [10]}, tiny.item_vocab)
    with pytest.raises(ft.UnknownIdError, match="candidates"):
        ft.candidate_mask([10, 99], tiny.item_vocab)
    with pytest.raises(TypeError, match="wrap it in a list"):
        ft.candidate_mask("10", tiny.item_vocab)
    with pytest.raises(TypeError, match="candidates must be None, item ids"):
        ft.candidate_mask(10, tiny.item_vocab)
    with pytest.raises(ValueError, match="candidates"):
        ft.candidate_mask(pd.DataFrame({"item_id": [10]}), tiny.item_vocab, user_ids=[1])


def test_recommend_uses_the_candidate_mask(tiny):
    from test_recommenders_fixtures import FixedScores

    model = FixedScores([5.0, 4.0, 3.0, 2.0, 1.0]).fit(tiny)
    recs = model.recommend([1, 2], k=5, exclude_seen=False, candidates={2: [40, 50], 1: [20]})
    assert recs.groupby("user_id")["item_id"].apply(list).to_dict() == {1: [20], 2: [40, 50]}
    mask = ft.candidate_mask({2: [40, 50], 1: [20]}, model.item_vocab_, user_ids=[1, 2])
    cols, vals = model.recommend_rows([0, 1], 5, exclude_seen=False, candidate_mask=mask)
    assert cols[0, 0] == 1 and np.isinf(vals[0, 1:]).all() and cols[1, :2].tolist() == [3, 4]
    with pytest.raises(ValueError, match=r"candidate_mask must be a \(5,\) bool array"):
        model.recommend_rows([0, 1], 5, candidate_mask=np.ones(4, bool))
    with pytest.raises(ValueError, match=r"sparse \(2, 5\) matrix"):
        model.recommend_rows([0, 1], 5, candidate_mask=mask[:1])
