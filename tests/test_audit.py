"""Re-rankers, group fairness, exposure, model comparison and the AuditReport, on tiny data.

``tiny`` (tests/conftest.py): u1: 10, 20, 30 | u2: 10, 40 | u3: 20, 30, 50 | u4: 50;
genres 10 C | 20 D | 30 C+D | 40 A | 50 A+S; head (20 % of interactions) = {10}.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmrec_toolkit.audit import (
    AuditReport,
    CalibratedReranker,
    ExplorationReranker,
    MMRReranker,
    accuracy_per_user,
    audit,
    compare_models,
    exposure_by_group,
    group_fairness,
    tradeoff_curve,
    user_attributes,
)
from filmrec_toolkit.exceptions import NotFittedError


def frame(lists: dict, scores: dict | None = None) -> pd.DataFrame:
    rows = []
    for u, items in lists.items():
        for r, i in enumerate(items):
            s = scores[u][r] if scores else float(len(items) - r)
            rows.append((u, i, s, r + 1))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


def split(tiny):
    held = ((tiny.ratings.user_id == 1) & (tiny.ratings.item_id == 30)) | \
           ((tiny.ratings.user_id == 3) & (tiny.ratings.item_id == 50))
    return tiny.subset(~held.to_numpy()), tiny.subset(held.to_numpy())


# ------------------------------------------------------------------ re-rankers
def test_mmr_hand(tiny):
    # rel (min-max) A=10: 1, B=20: .9, C=30: 0; features 10=(1,0), 20=(1,0), 30=(0,1)
    # after 10: obj(20) = .5*.9 - .5*1 = -.05, obj(30) = .5*0 - .5*0 = 0 -> 30, then 20
    feats = np.array([[1, 0], [1, 0], [0, 1], [1, 1], [1, 1]], dtype=float)
    cand = frame({1: [10, 20, 30]}, {1: [1.0, 0.9, 0.0]})
    out = MMRReranker(0.5, feats).fit(tiny).rerank(cand, k=3)
    assert out["item_id"].tolist() == [10, 30, 20]
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["score"].tolist() == pytest.approx([1.0, 0.0, 0.9])  # the model's scores are kept
    # lambda 1 keeps the model order
    assert MMRReranker(1.0, feats).fit(tiny).rerank(cand, k=3)["item_id"].tolist() == [10, 20, 30]


def test_calibrated_hand(tiny):
    # u1 p = (A 0, C .5, D .5, S 0). step 1: [10] and [20] both KL 1.9585, [50] KL ln 100 -> rel picks 10
    # step 2: {10, 50}: q = (.25,.5,0,.25) -> KL = .5 ln(.5/.005) = 2.30; {10, 20}: q = p -> KL 0 -> 20
    cand = frame({1: [10, 50, 20]}, {1: [1.0, 0.9, 0.0]})
    out = CalibratedReranker(0.99).fit(tiny).rerank(cand, k=2)
    assert out["item_id"].tolist() == [10, 20]
    assert CalibratedReranker(0.0).fit(tiny).rerank(cand, k=2)["item_id"].tolist() == [10, 50]


def test_exploration_hand(tiny):
    # tail mode: head = {10}. epsilon 1: slot 1 explores -> 20 (tail); slot 2 finds no tail item left -> 10
    cand = frame({1: [10, 20]})
    assert ExplorationReranker(1.0, 0, mode="tail").fit(tiny).rerank(cand, 2)["item_id"].tolist() == [20, 10]
    assert ExplorationReranker(0.0, 0, mode="tail").fit(tiny).rerank(cand, 2)["item_id"].tolist() == [10, 20]
    # genre mode: u1 usual genres {Comedy, Drama} (80 % of mass) -> 40 (Action) is outside
    cand = frame({1: [10, 30, 40]})
    assert ExplorationReranker(1.0, 0, mode="genre").fit(tiny).rerank(cand, 2)["item_id"].tolist() == [40, 10]


def test_exploration_seeded_share(tiny):
    # many users, epsilon .5: same seed -> same lists; share of explored slots near .5
    users = {u: [10, 20, 30, 40, 50] for u in [1, 2, 3, 4]}
    cand = frame(users)
    r1 = ExplorationReranker(0.5, 7, mode="tail").fit(tiny).rerank(cand, 5)
    r2 = ExplorationReranker(0.5, 7, mode="tail").fit(tiny).rerank(cand, 5)
    pd.testing.assert_frame_equal(r1, r2)


def test_reranker_edges_and_errors(tiny):
    cand = frame({1: [10, 20], 2: [40]})
    out = MMRReranker(0.5).fit(tiny).rerank(cand, k=10)  # k > candidates: all kept
    assert out.groupby("user_id").size().to_dict() == {1: 2, 2: 1}
    empty = MMRReranker(0.5).fit(tiny).rerank(cand.iloc[:0], k=3)
    assert len(empty) == 0 and list(empty.columns) == ["user_id", "item_id", "score", "rank"]
    with pytest.raises(NotFittedError, match="fit"):
        MMRReranker().rerank(cand, 2)
    with pytest.raises(ValueError, match="lam == 2"):
        MMRReranker(2).fit(tiny)
    fitted = MMRReranker(0.5).fit(tiny)
    with pytest.raises(ValueError, match="lam == 2"):  # checked at use too: set_params after fit
        fitted.set_params(lam=2).rerank(cand, 2)
    with pytest.warns(FutureWarning, match="lam="):  # the old spelling still works
        assert MMRReranker(lambda_=0.3).lam == 0.3
    with pytest.raises(TypeError, match="lamda"):
        MMRReranker(lamda=0.3)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['score'\]"):
        MMRReranker().fit(tiny).rerank(cand.drop(columns="score"), 2)


RERANKERS = [MMRReranker(0.3), CalibratedReranker(0.7), ExplorationReranker(0.5, random_state=3)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from([1, 2, 3, 4]),
                       st.lists(st.sampled_from([10, 20, 30, 40, 50]), min_size=1, max_size=5, unique=True),
                       min_size=1),
       st.integers(1, 6), st.sampled_from([0, 1, 2]))
def test_rerankers_return_k_unique_candidates(tiny, lists, k, which):
    cand = frame(lists)
    out = RERANKERS[which].fit(tiny).rerank(cand, k)
    for u, items in lists.items():
        got = out.loc[out.user_id == u, "item_id"].tolist()
        assert len(got) == min(k, len(items))
        assert len(set(got)) == len(got) and set(got) <= set(items)
        assert out.loc[out.user_id == u, "rank"].tolist() == list(range(1, len(got) + 1))


def test_tradeoff_curve(tiny):
    train, test = split(tiny)
    cand = frame({1: [30, 40, 50], 3: [10, 50, 40]})
    curve = tradeoff_curve(MMRReranker(), cand, train, test, values=(0.0, 1.0), k=2)
    assert curve["reranker"].tolist() == ["none", "MMRReranker", "MMRReranker"]
    assert {"ndcg@2", "ild", "miscalibration", "novelty", "aplt", "coverage"} <= set(curve.columns)
    # lambda 1 = the model's top-2 = the baseline row
    assert curve.iloc[2]["ndcg@2"] == pytest.approx(curve.iloc[0]["ndcg@2"])
    eps = tradeoff_curve(ExplorationReranker(random_state=0), cand, train, test, values=(0.5,), k=2)
    assert eps["param"].iloc[1] == "epsilon"


# ------------------------------------------------------------------ accuracy of frames
def test_accuracy_per_user_hand(tiny):
    # test: u1 {30}, u3 {50}. u1 [30, 50] hit at 1 -> NDCG 1; u3 [10, 50] hit at 2 -> 1/log2(3)
    train, test = split(tiny)
    acc = accuracy_per_user(frame({1: [30, 50], 3: [10, 50]}), train, test, k=2).set_index("user_id")
    assert acc.loc[1, "ndcg@2"] == pytest.approx(1.0)
    assert acc.loc[3, "ndcg@2"] == pytest.approx(1 / math.log2(3))
    assert acc.loc[3, "recall@2"] == 1.0 and acc.loc[3, "precision@2"] == 0.5
    # a test user without a list scores 0, and the caller is warned
    with pytest.warns(UserWarning, match="1 of 2 test user"):
        acc = accuracy_per_user(frame({1: [30]}), train, test, k=2).set_index("user_id")
    assert acc.loc[3, "ndcg@2"] == 0.0


# ------------------------------------------------------------------ user groups
def test_user_attributes_hand(tiny):
    att = user_attributes(tiny).set_index("user_id")
    # counts 3, 2, 3, 1; top 20 % of 4 users -> round(.8) = 1 -> u1 (ties by row)
    assert att["activity"].to_dict() == {1: "high", 2: "low", 3: "low", 4: "low"}
    # head = {10}: u1 1/3, u2 1/2, u3 0, u4 0
    assert att["mainstreaminess"].to_dict() == pytest.approx({1: 1 / 3, 2: 0.5, 3: 0.0, 4: 0.0})
    assert att["mainstreaminess_group"].to_dict() == {1: "diverse", 2: "blockbuster", 3: "niche", 4: "diverse"}
    assert att["gender"].tolist() == ["M", "F", "M", "F"]


def test_user_attributes_age_35(tiny):
    # Boratto et al.: bands Under 18, 18-24, 25-34 -> "<35"; a missing band stays missing
    users = pd.DataFrame({"user_id": [1, 2, 3, 4], "age_group": ["25-34", "35-44", None, "Under 18"]})
    att = user_attributes(tiny, users).set_index("user_id")
    assert att.loc[[1, 2, 4], "age_35"].tolist() == ["<35", "35+", "<35"]
    assert pd.isna(att.loc[3, "age_35"])


def test_group_fairness_hand():
    # M {1, .8} mean .9, F {.5, .2} mean .35 -> gap .55; Mann-Whitney U = 4, exact p = 2/C(4,2) = 1/3
    per_user = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg@10": [1.0, 0.5, 0.8, 0.2]})
    att = pd.DataFrame({"user_id": [1, 2, 3, 4], "gender": ["M", "F", "M", "F"], "activity": ["a", "a", "b", "c"]})
    res = group_fairness(per_user, att, by=["gender", "activity"], n_resamples=200)
    g = res.groups.set_index(["attribute", "group"])
    assert g.loc[("gender", "M"), "mean"] == pytest.approx(0.9)
    assert g.loc[("gender", "F"), "diff_vs_rest"] == pytest.approx(0.35 - 0.9)
    assert 0.8 <= g.loc[("gender", "M"), "ci_low"] <= 0.9 <= g.loc[("gender", "M"), "ci_high"] <= 1.0
    t = res.tests.set_index("attribute")
    assert t.loc["gender", "gap"] == pytest.approx(0.55)
    assert (t.loc["gender", "high_group"], t.loc["gender", "low_group"]) == ("M", "F")
    assert t.loc["gender", "test"] == "mann-whitney" and t.loc["gender", "p_value"] == pytest.approx(1 / 3)
    assert t.loc["activity", "test"] == "kruskal-wallis"
    # Holm over the 2 attributes: the smaller p doubles
    ps = t["p_value"].sort_values()
    assert t.loc[ps.index[0], "p_holm"] == pytest.approx(min(1, 2 * ps.iloc[0]))
    with pytest.raises(ValueError, match="not columns of per_user"):
        group_fairness(per_user, att, metrics=["recall@10"])


# ------------------------------------------------------------------ exposure
def test_exposure_by_popularity_hand(tiny):
    # counts: 20, 40, 50 once each; tiers head {10}, mid {20,30,50}, tail {40}
    out = exposure_by_group(frame({1: [40, 50], 2: [20]}), tiny, "popularity", discount=None).set_index("group")
    assert out["exposure_share"].tolist() == pytest.approx([0, 2 / 3, 1 / 3])
    assert out["catalog_share"].tolist() == pytest.approx([.2, .6, .2])
    assert out["interaction_share"].tolist() == pytest.approx([2 / 9, 6 / 9, 1 / 9])
    # log2 discount: 40 (rank 1) 1, 50 (rank 2) 1/log2 3, 20 (rank 1) 1
    d = exposure_by_group(frame({1: [40, 50], 2: [20]}), tiny).set_index("group")
    total = 2 + 1 / math.log2(3)
    assert d.loc["mid", "exposure_share"] == pytest.approx((1 + 1 / math.log2(3)) / total)


def test_exposure_by_genre_hand(tiny):
    # exposure 20 (D), 40 (A), 50 (A/2, S/2) -> A 1.5, C 0, D 1, S .5 over 3
    out = exposure_by_group(frame({1: [40, 50], 2: [20]}), tiny, "genre", discount=None).set_index("group")
    assert out["exposure_share"].to_dict() == pytest.approx({"Action": .5, "Comedy": 0, "Drama": 1 / 3,
                                                             "Sci-Fi": 1 / 6})
    # catalogue: A 1 + .5, C 1 + .5, D 1 + .5, S .5 over 5
    assert out["catalog_share"].to_dict() == pytest.approx({"Action": .3, "Comedy": .3, "Drama": .3, "Sci-Fi": .1})
    labels = pd.Series(["x", "x", "y", "y", "y"], index=[10, 20, 30, 40, 50])
    custom = exposure_by_group(frame({1: [40, 50], 2: [20]}), tiny, labels, discount=None).set_index("group")
    assert custom["exposure_share"].to_dict() == pytest.approx({"x": 1 / 3, "y": 2 / 3})


# ------------------------------------------------------------------ model comparison
def test_compare_models_hand():
    a = pd.DataFrame({"user_id": [1, 2, 3, 4, 5], "ndcg@10": [2, 4, 6, 8, 10.0]})
    b = pd.DataFrame({"user_id": [1, 2, 3, 4, 5, 6], "ndcg@10": [1, 2, 3, 4, 5, 9.0]})
    out = compare_models({"a": a, "b": b}).iloc[0]
    # paired on users 1..5: differences 1..5 -> mean 3; Wilcoxon W = 0, exact p = 2/32
    assert out["n_users"] == 5 and out["diff"] == pytest.approx(3.0)
    assert out["p_value"] == pytest.approx(0.0625) and out["ci_low"] <= 3 <= out["ci_high"]
    with pytest.raises(ValueError, match="at least two"):
        compare_models({"a": a})


# ------------------------------------------------------------------ audit + html
def test_audit_report_and_html(tiny, tmp_path):
    train, test = split(tiny)
    recs = {"A": frame({1: [30, 40], 3: [50, 10]}), "B": frame({1: [40, 50], 3: [10, 40]})}
    rep = audit(recs, train, test, k=2, n_resamples=50, by=["gender", "activity"])
    assert isinstance(rep, AuditReport) and rep.models == ["A", "B"]
    assert rep.summary.loc["A", "ndcg@2"] == pytest.approx((1 + 1) / 2)
    assert rep.summary.loc["B", "ndcg@2"] == pytest.approx(0.0)
    assert {"coverage", "gini", "novelty", "ild", "miscalibration", "aplt"} <= set(rep.summary.columns)
    # test users 1 and 3 are both men: one gender group -> a group row but no test; activity high/low -> tested
    assert set(rep.groups["attribute"]) == {"gender", "activity"}
    assert set(rep.tests["attribute"]) == {"activity"}
    assert rep.comparisons.iloc[0]["diff"] == pytest.approx(1.0)
    assert list(rep.item_exposure.columns) == ["A", "B"]
    assert set(rep.popularity["source"]) == {"A", "B", "consumed (test)"}
    from filmrec_toolkit.plots import audit_figures, plot_audit

    for kind in ("lorenz", "popularity", "group_gaps"):
        assert plot_audit(rep, kind).axes
    with pytest.warns(FutureWarning, match="plot_audit"):
        assert rep.plot_lorenz().axes  # deprecated shim, same figure
    path = rep.to_html(tmp_path / "audit.html", figures=audit_figures(rep))
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("data:image/png;base64,") >= 3
    for external in ("http://", "https://", "<script", "<link", "src=\"/"):
        assert external not in text
    with pytest.raises(ValueError, match="tradeoff"):
        plot_audit(rep, "tradeoff")
    with pytest.raises(ValueError, match="kind='pie'.*lorenz"):
        plot_audit(rep, "pie")


def test_audit_accepts_evaluation_results(tiny):
    from filmrec_toolkit import Popularity, evaluate

    train, test = split(tiny)
    res = evaluate(Popularity(), train, test, k=(2,))
    rep = audit({"Popularity": res}, train, test, k=2, n_resamples=20, by=["gender"])
    # evaluate's per-user ndcg@2 is merged and agrees with the audit's own computation
    assert rep.summary.loc["Popularity", "ndcg@2"] == pytest.approx(res.means["ndcg@2"])
    assert "map_at_k@2" in rep.per_user.columns
    with pytest.raises(TypeError, match="EvaluationResult"):
        audit({"x": [1, 2]}, train, test)


def test_plot_functions_take_ax_and_return_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from filmrec_toolkit.plots import plot_group_gaps, plot_lorenz_curves, plot_popularity_distribution, plot_tradeoff

    fig, ax = plt.subplots()
    assert plot_lorenz_curves({"m": np.array([0, 1, 3])}, ax=ax) is fig
    groups = pd.DataFrame({"metric": ["ndcg@10"] * 2, "attribute": ["gender"] * 2, "group": ["F", "M"],
                           "mean": [.3, .4], "ci_low": [.2, .35], "ci_high": [.4, .45]})
    assert plot_group_gaps(groups, "ndcg@10", ax=ax) is fig
    with pytest.raises(ValueError, match="no rows for metric"):
        plot_group_gaps(groups, "recall@10", ax=ax)
    curve = pd.DataFrame({"reranker": ["none", "MMRReranker", "MMRReranker"], "param": [None, "lam", "lam"],
                          "value": [np.nan, 0.5, 1.0], "ild": [.5, .7, .5], "ndcg@10": [.4, .35, .4]})
    assert plot_tradeoff(curve, ax=ax) is fig
    pop = pd.DataFrame({"source": ["a", "a", "consumed (test)"], "popularity": [10, 100, 1]})
    assert plot_popularity_distribution(pop, ax=ax) is fig
    plt.close(fig)
