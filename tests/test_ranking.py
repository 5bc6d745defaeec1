"""The one home of ranked lists: build, parse and validate the user_id, item_id, score, rank frame."""

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
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
