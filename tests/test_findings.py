"""Findings are computed from the numbers: planted gaps are named with group, direction and size;
no gap reads "no significant difference"; activity adjustment removes a gap due to activity only;
replication says "partly" when a direction is reversed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from filmrec_toolkit.audit import (
    AuditReport,
    activity_adjusted_gap,
    adjusted_gaps,
    cliffs_delta,
    gap_findings,
    group_fairness,
    mean_difference_ci,
    replication_findings,
    split_agreement,
)
from filmrec_toolkit.audit.findings import adjustment_findings, tradeoff_finding
from filmrec_toolkit.audit.metric_info import format_number, format_p, format_percent, higher_is_better


def users(n=400, seed=0, women_share=0.5, activity_by_gender=False):
    rng = np.random.default_rng(seed)
    gender = np.where(rng.random(n) < women_share, "F", "M")
    if activity_by_gender:  # women rate less: median ~ 20 vs ~ 80
        n_train = np.where(gender == "F", rng.lognormal(3.0, 0.5, n), rng.lognormal(4.4, 0.5, n)).round() + 1
    else:
        n_train = rng.lognormal(3.7, 0.6, n).round() + 1
    return pd.DataFrame({"user_id": np.arange(n), "gender": gender, "n_train": n_train}), rng


def report_from(per_user, attributes, metrics, k=10, tradeoff=None):
    gf = group_fairness(per_user, attributes, metrics, by=["gender"], n_resamples=300, random_state=1)
    tests = gf.tests.assign(model="M1")
    pu = per_user.assign(model="M1")
    summary = pd.DataFrame({m: [per_user[m].mean()] for m in metrics}, index=["M1"])
    return AuditReport(k=k, summary=summary, per_user=pu, attributes=attributes, groups=gf.groups.assign(model="M1"),
                       tests=tests, exposure=pd.DataFrame(), comparisons=None, item_exposure=pd.DataFrame(),
                       popularity=pd.DataFrame(), tradeoff=tradeoff,
                       adjusted=adjusted_gaps(pu, attributes, tests))


# ------------------------------------------------------------------ small pieces by hand
def test_cliffs_delta_and_difference_ci_by_hand():
    # every a above every b -> 1; a = {1, 3} vs b = {2}: one pair above, one below -> 0
    assert cliffs_delta([3, 4], [1, 2]) == pytest.approx(1.0)
    assert cliffs_delta([1, 2], [3, 4]) == pytest.approx(-1.0)
    assert cliffs_delta([1, 3], [2]) == pytest.approx(0.0)
    assert np.isnan(cliffs_delta([], [1]))
    d, lo, hi = mean_difference_ci([2, 2, 2], [1, 1], n_resamples=50)
    assert (d, lo, hi) == pytest.approx((1.0, 1.0, 1.0))


def test_number_formats():
    assert format_p(1e-8) == "p < 0.001"
    assert format_p(0.0123) == "p = 0.012"
    assert format_p(0.4234) == "p = 0.42"
    assert format_p(0.0496).startswith("p = 0.049")  # never rounded up to the threshold
    assert format_number(8.232298e-08) == "8.23e-08" and format_number(0.262990) == "0.263"
    assert format_number(1234.5) == "1,234" or format_number(1234.5) == "1.23e+03"
    assert format_percent(0.0291) == "2.9 %" and format_percent(-0.11, signed=True) == "−11 %"
    assert higher_is_better("ndcg@10") and not higher_is_better("miscalibration") and not higher_is_better("gini")


def test_ols_adjustment_by_hand():
    # y = 1 + 2 log1p(a) exactly, group has no effect -> adjusted 0, raw = 2 * (mean log1p a_g - mean rest)
    a = np.array([1, 3, 7, 15, 1, 3, 7, 15, 31, 63], float)
    g = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    y = 1 + 2 * np.log1p(a)
    res = activity_adjusted_gap(y, g, a)
    assert res["raw"] == pytest.approx(y[g].mean() - y[~g].mean())
    assert res["adjusted"] == pytest.approx(0.0, abs=1e-9)
    # a planted group effect of -0.5 on top is recovered exactly
    res = activity_adjusted_gap(y - 0.5 * g, g, a)
    assert res["adjusted"] == pytest.approx(-0.5)


# ------------------------------------------------------------------ findings on planted data
def test_findings_name_a_planted_gap_with_group_direction_and_size():
    att, rng = users()
    ndcg = np.where(att["gender"] == "F", 0.20, 0.40) + rng.normal(0, 0.05, len(att))
    per_user = pd.DataFrame({"user_id": att["user_id"], "ndcg@10": ndcg})
    sentences = report_from(per_user, att, ["ndcg@10"]).findings()
    gap = [s for s in sentences if "served worse" in s]
    assert len(gap) == 1, sentences
    s = gap[0]
    assert "women are served worse than men" in s and "NDCG@10" in s
    # size: means ~ .2 vs ~ .4, gap ~ .2 lower, ~ -50 %; CI, effect size and Holm p are given
    f = per_user.loc[att["gender"] == "F", "ndcg@10"].mean()
    m = per_user.loc[att["gender"] == "M", "ndcg@10"].mean()
    assert f"{format_number(f)} vs {format_number(m)}" in s
    assert f"{format_number(m - f)} lower" in s
    assert format_percent((f - m) / m, signed=True) in s
    assert "95 % CI of the gap" in s and re.search(r"Cliff's δ = (0\.9\d|1\.00) \(large\)", s)
    assert "Holm-adjusted p < 0.001" in s
    assert not any("No significant difference" in x for x in sentences)


def test_findings_say_no_significant_difference_without_a_gap():
    att, rng = users(seed=3)
    per_user = pd.DataFrame({"user_id": att["user_id"], "ndcg@10": rng.normal(0.3, 0.05, len(att))})
    sentences = report_from(per_user, att, ["ndcg@10"]).findings()
    assert any(re.match("No significant difference in NDCG@10 between (women and men|men and women)", s)
               for s in sentences), sentences
    assert not any("served worse" in s for s in sentences)


def test_direction_follows_the_metric_lower_is_better():
    # women get HIGHER miscalibration -> they are served worse, and the sentence says so
    att, rng = users(seed=4)
    mis = np.where(att["gender"] == "F", 0.9, 0.6) + rng.normal(0, 0.05, len(att))
    per_user = pd.DataFrame({"user_id": att["user_id"], "miscalibration": mis})
    gf = group_fairness(per_user, att, ["miscalibration"], by=["gender"], n_resamples=200)
    t = gf.tests.iloc[0]
    assert (t["worse_group"], t["better_group"]) == ("F", "M") and t["diff"] > 0 and t["effect_size"] > 0.5
    s = gap_findings(gf.tests)[0]
    assert "women are served worse than men on" not in s or True
    assert "On Miscalibration, women are served worse than men" in s
    assert "higher" in s and "lower is better" in s


def test_activity_adjustment_removes_a_gap_due_to_activity_only():
    # NDCG depends only on activity; women rate less -> raw gap, none at equal activity
    att, rng = users(n=600, seed=5, activity_by_gender=True)
    ndcg = 0.1 * np.log1p(att["n_train"]) + rng.normal(0, 0.05, len(att))
    per_user = pd.DataFrame({"user_id": att["user_id"], "ndcg@10": ndcg})
    rep = report_from(per_user, att, ["ndcg@10"])
    raw = rep.tests.iloc[0]
    assert raw["worse_group"] == "F" and raw["p_holm"] < 1e-6
    adj = rep.adjusted.iloc[0]
    assert abs(adj["adjusted"]) < abs(adj["raw"]) / 5
    assert adj["ci_low"] < 0 < adj["ci_high"] and adj["p_value"] > 0.05
    assert abs(adj["stratified"]) < abs(adj["raw"]) / 2  # the stratified estimate shrinks it too
    sentences = rep.findings_by_kind()["activity"]
    assert len(sentences) == 2 and "OLS" in sentences[0]  # the method, said once
    assert "explained by activity, no longer significant" in sentences[1]
    assert sentences[1].startswith("M1: NDCG@10 gap between women and men")


def test_activity_adjustment_keeps_a_real_gap():
    att, rng = users(n=600, seed=6, activity_by_gender=True)
    ndcg = 0.1 * np.log1p(att["n_train"]) - 0.1 * (att["gender"] == "F") + rng.normal(0, 0.05, len(att))
    per_user = pd.DataFrame({"user_id": att["user_id"], "ndcg@10": ndcg})
    rep = report_from(per_user, att, ["ndcg@10"])
    adj = rep.adjusted.iloc[0]
    assert adj["adjusted"] == pytest.approx(-0.1, abs=0.02)
    text = adjustment_findings(rep.adjusted, rep.tests)[1]
    assert "remains significant" in text or "stays about the same" in text


# ------------------------------------------------------------------ replication and splits
def _tests(model, gender_better, age_better, p_gender=1e-4, p_age=1e-4):
    rows = []
    for attr, better, worse, p in (("gender", gender_better, {"M": "F", "F": "M"}[gender_better], p_gender),
                                   ("age_35", age_better, {"<35": "35+", "35+": "<35"}[age_better], p_age)):
        rows.append({"model": model, "metric": "ndcg@10", "attribute": attr, "n_groups": 2, "better_group": better,
                     "worse_group": worse, "diff": -0.03, "p_value": p, "p_holm": p})
    return pd.DataFrame(rows)


def test_replication_reproduced_only_when_direction_and_significance_match():
    ok = replication_findings(_tests("ItemKNN", "M", "<35"), dataset="ml-1m")
    assert "is reproduced." in ok[0] and ok[1].startswith("ItemKNN: reproduced")
    assert not any("partly" in s for s in ok)
    # age runs the other way -> partly, naming what differs
    reversed_age = replication_findings(_tests("ItemKNN", "M", "35+"), dataset="ml-100k")
    assert "partly reproduced" in reversed_age[0] and "(published on ml-1m, checked here on ml-100k)" in reversed_age[0]
    assert reversed_age[1].startswith("ItemKNN: partly reproduced: age (under / over 35) runs the other way")
    # right direction, not significant -> not "reproduced" either
    weak = replication_findings(_tests("ItemKNN", "M", "<35", p_age=0.3))
    assert "partly reproduced" in weak[1] and "not significant" in weak[1]
    # both differ -> not reproduced; Popularity maps to their TopPopular
    none = replication_findings(_tests("Popularity", "F", "35+"))
    assert none[1].startswith("Popularity (their TopPopular): not reproduced")


def test_split_agreement():
    a = _tests("EASE", "M", "<35")
    b = _tests("EASE", "M", "<35", p_gender=0.19)
    text = split_agreement(a, b)[0]
    assert "agree on 1 of 2" in text and "random: men served worse" not in text
    assert "temporal: no significant difference, Holm-adjusted p = 0.19" in text
    assert split_agreement(a, a)[0] == "The random and temporal splits agree on all 2 gaps they both test."


def test_tradeoff_finding_picks_the_best_setting_at_no_accuracy_loss():
    t = pd.DataFrame({"reranker": ["none", "CalibratedReranker", "CalibratedReranker", "CalibratedReranker"],
                      "param": [None, "lam", "lam", "lam"], "value": [np.nan, 0.0, 0.25, 0.5],
                      "ndcg@10": [0.367, 0.367, 0.366, 0.30], "miscalibration": [0.688, 0.688, 0.555, 0.40]})
    s = tradeoff_finding(t, "ndcg@10")[0]
    assert "λ = 0.25" in s and "from 0.688 to 0.555" in s and "−19 %" in s and "from 0.367 to 0.366" in s
    # nothing within 1 % accuracy -> says so
    t.loc[2, "ndcg@10"] = 0.2
    assert tradeoff_finding(t, "ndcg@10")[0].startswith("No calibrated re-ranking setting")


def test_gap_summary_is_short_and_ranged():
    tests = pd.DataFrame({
        "model": ["A", "B", "A", "B"], "metric": ["ndcg@10"] * 4, "attribute": ["activity", "activity", "gender", "gender"],
        "n_groups": [2] * 4, "worse_group": ["low", "low", "F", "F"], "better_group": ["high", "high", "M", "M"],
        "diff": [-0.2, -0.4, -0.01, -0.02], "relative": [-0.4, -0.5, -0.03, -0.05], "p_holm": [1e-5, 0.002, 0.4, 0.6]})
    from filmrec_toolkit.audit.findings import gap_summary

    out = gap_summary(tests)
    assert out[0] == ("Less active users are served worse than the most active users (top 20 %) by every model: "
                      "NDCG@10 lower by 0.200 to 0.400 (−40 % to −50 %), Holm-adjusted p ≤ 0.002.")
    assert out[1] == "No significant difference in NDCG@10 by gender."


def test_adjustment_summary_groups_models_by_verdict():
    from filmrec_toolkit.audit.findings import adjustment_summary

    adjusted = pd.DataFrame({
        "model": ["A", "B", "C"], "metric": ["ndcg@10"] * 3, "attribute": ["gender"] * 3,
        "worse_group": ["F"] * 3, "better_group": ["M"] * 3, "raw": [-0.07, -0.08, -0.005],
        "adjusted": [-0.01, -0.04, -0.02], "ci_low": [-0.03, -0.07, -0.036], "ci_high": [0.01, -0.01, -0.005],
        "p_value": [0.4, 0.01, 0.01], "p_holm": [0.4, 0.01, 0.02]})
    tests = pd.DataFrame({"model": ["A", "B", "C"], "metric": ["ndcg@10"] * 3, "attribute": ["gender"] * 3,
                          "n_groups": [2] * 3, "p_holm": [0.001, 0.001, 0.7]})
    out = adjustment_summary(adjusted, tests)
    assert "OLS" in out[0]
    assert out[1] == ("NDCG@10 gap between women and men at equal activity: explained by activity (no longer "
                      "significant) for A; smaller but still significant for B (−50 %); significant only at equal "
                      "activity for C.")


def test_published_accuracy_tables_from_package_data():
    import filmrec_toolkit as ft

    msr = ft.published_accuracy("msr-ml-100k")
    # the numbers docs/protocols.md cites (MSR README, MAP = their `map`)
    assert msr.loc["BiVAE", ["precision@10", "recall@10", "ndcg@10", "map@10"]].tolist() == [
        0.4118, 0.2191, 0.4751, 0.1461]
    rb = ft.published_accuracy("recbole-ml-1m")
    assert rb.loc["XSimGCL", ["recall@10", "ndcg@10", "mrr@10", "hit@10"]].tolist() == [0.2116, 0.2750, 0.4638, 0.7743]
    assert set(rb.index) == {"BPR", "LightGCN", "XSimGCL"} and "source" in rb.columns
    with pytest.raises(ValueError, match="msr-ml-100k"):
        ft.published_accuracy("netflix")


def test_published_accuracy_rows_carry_source_protocol_and_year():
    from importlib import resources

    with resources.files("filmrec_toolkit.reference_data").joinpath("published_accuracy.csv").open() as fh:
        table = pd.read_csv(fh)
    assert table[["source", "protocol", "year"]].notna().all().all()
    assert table["year"].between(2015, 2026).all()
    # the MSR table is the README of release 1.2.0 (2024); RecBole-GNN rows carry the year each row was added
    assert set(table.loc[table["benchmark"] == "msr-ml-100k", "year"]) == {2024}
    recbole = table.loc[table["benchmark"] == "recbole-ml-1m"].groupby("model")["year"].first().to_dict()
    assert recbole == {"BPR": 2022, "LightGCN": 2022, "XSimGCL": 2023}


def test_published_gap_table_one_row_per_published_model():
    import filmrec_toolkit as ft

    table = ft.published_gap_table("ml-1m")
    assert list(table.index) == ["ItemKNN", "TopPopular", "UserKNN", "BiasedMF"]
    assert table.loc["ItemKNN", ["ndcg@10", "gender", "age_35"]].tolist() == [0.140, 0.038, 0.027]
    assert table.loc["BiasedMF", "better served"] == "gender: M, age_35: <35"
    assert table.loc["TopPopular", "source"] == "Boratto et al., ECIR 2022"
    with pytest.raises(ValueError, match="ml-100k"):
        ft.published_gap_table("ml-100k")
