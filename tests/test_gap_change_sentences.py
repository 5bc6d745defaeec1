"""ft.gap_change_sentences: the sentence of a gap_change row, from its numbers."""

from __future__ import annotations

import pandas as pd
import pytest

import filmrec_toolkit as ft


def _row(**kw):
    base = {"attribute": "gender", "high": "M", "low": "F", "gap_a": 0.021, "gap_b": 0.025, "change": -0.004,
            "ci_low": -0.012, "ci_high": 0.004, "verdict": "no significant change"}
    return {**base, **kw}


def test_sentences_quote_the_numbers_and_the_verdict():
    table = pd.DataFrame([_row(), _row(attribute="age_35", high="<35", low="35+", gap_a=0.05, gap_b=0.03,
                                       change=0.02, ci_low=0.01, ci_high=0.03, verdict="wider")])
    out = ft.gap_change_sentences(table, "EASESide (LM)", "EASE")
    assert out == [
        "Gender gap (men minus women): +0.021 with EASESide (LM) vs +0.025 with EASE; no significant change "
        "(|gap| change -0.004, 95 % bootstrap CI -0.012 to +0.004).",
        "Age (under / over 35) gap (users under 35 minus users aged 35 and over): +0.050 with EASESide (LM) vs "
        "+0.030 with EASE; the gap is wider (|gap| change +0.020, 95 % bootstrap CI +0.010 to +0.030).",
    ]


def test_model_names_from_the_table_and_narrower():
    table = pd.DataFrame([_row(verdict="narrower", change=-0.01, ci_low=-0.02, ci_high=-0.001)]).assign(
        model_a="A", model_b="B")
    (sentence,) = ft.gap_change_sentences(table)
    assert "with A vs" in sentence and "with B;" in sentence and "the gap is narrower" in sentence


def test_errors():
    with pytest.raises(ValueError, match="columns of gap_change"):
        ft.gap_change_sentences(pd.DataFrame({"attribute": ["gender"]}), "A", "B")
    with pytest.raises(ValueError, match="model_a"):
        ft.gap_change_sentences(pd.DataFrame([_row()]))
