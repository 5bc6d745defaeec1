"""Computed verdicts: paired model comparisons and user-group gap changes, on hand-made numbers."""

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft


def test_paired_verdicts_by_hand():
    table = pd.DataFrame({"diff": [0.1, -0.1, 0.1, 0.2], "p_holm": [0.01, 0.01, 0.2, np.nan]})
    assert ft.paired_verdicts(table).tolist() == ["better", "worse", "no significant difference",
                                                  "no significant difference"]
    assert ft.paired_verdicts(table, alpha=0.3).tolist()[2] == "better"
    with pytest.raises(ValueError, match="alpha == 2"):
        ft.paired_verdicts(table, alpha=2)
    with pytest.raises(ValueError, match="missing column 'p_value'"):
        ft.paired_verdicts(table, p_column="p_value")


def _frames():
    users = pd.DataFrame({"user_id": range(8), "gender": ["M"] * 4 + ["F"] * 4})
    unequal = pd.DataFrame({"user_id": range(8), "ndcg@10": [1.0] * 4 + [0.0] * 4})   # gap 1
    equal = pd.DataFrame({"user_id": range(8), "ndcg@10": [0.5] * 8})                  # gap 0
    return users, unequal, equal


def test_gap_change_by_hand():
    users, unequal, equal = _frames()
    res = ft.gap_change(equal, unequal, users, "gender", "M", "F", n_resamples=200)
    assert res["gap_a"] == 0.0 and res["gap_b"] == 1.0 and res["change"] == -1.0
    assert res["verdict"] == "narrower" and res["n_high"] == 4 and res["n_low"] == 4
    assert res["p_b"] < 0.05 and res["p_a"] == 1.0
    assert ft.gap_change(unequal, equal, users, "gender", "M", "F", n_resamples=200)["verdict"] == "wider"
    same = ft.gap_change(unequal, unequal, users, "gender", "M", "F", n_resamples=200)
    assert same["change"] == 0.0 and same["verdict"] == "no significant change"


def test_gap_change_errors():
    users, unequal, equal = _frames()
    with pytest.raises(ValueError, match="both groups"):
        ft.gap_change(equal, unequal, users, "gender", "M", "X")
    with pytest.raises(ValueError, match="'age_35' column"):
        ft.gap_change(equal, unequal, users, "age_35", "<35", "35+")
