"""evaluate(): full ranking, exclusion masks, excluded users, hand-computed metrics."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_recommenders_fixtures import FixedScores

from filmrec_toolkit import Dataset, EvaluationResult, Popularity, evaluate


@pytest.fixture
def splits():
    # items a..f (rows 0..5); fixed ranking a > b > c > d > e > f
    r = pd.DataFrame({
        "user_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
        "item_id": ["a", "c", "e", "b", "d", "f", "a", "b", "c"],
        "rating": [5.0, 4.0, 2.0, 5.0, 3.0, 5.0, 4.0, 4.0, 4.0],
        "part": ["train", "test", "test", "train", "test", "valid", "train", "train", "train"],
    })
    ds = Dataset.from_frames(r.drop(columns="part"))
    parts = r["part"].to_numpy()
    return ds.subset(parts == "train"), ds.subset(parts == "valid"), ds.subset(parts == "test")


SCORES = [6, 5, 4, 3, 2, 1]


def test_hand_computed(splits):
    train, valid, test = splits
    res = evaluate(FixedScores(SCORES), train, test, k=(2, 10))
    assert isinstance(res, EvaluationResult)
    # user 3 has no test item -> excluded and counted; users 1, 2 evaluated
    assert res.n_users_excluded == 1 and res.per_user["user_id"].tolist() == [1, 2]
    pu = res.per_user.set_index("user_id")
    # user 1: train {a}; ranking b, c, d, e, f; test {c, e} -> hits at ranks 2 and 4
    assert pu.loc[1, "n_test"] == 2
    assert pu.loc[1, "precision@2"] == pytest.approx(1 / 2)
    assert pu.loc[1, "ndcg@2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert pu.loc[1, "map@10"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert pu.loc[1, "mrr@10"] == pytest.approx(1 / 2)
    # k = 10 > 5 candidate items: precision still divides by 10
    assert pu.loc[1, "precision@10"] == pytest.approx(2 / 10)
    # graded: gains c=4 at rank 2, e=2 at rank 4; ideal 4, 2
    assert pu.loc[1, "ndcg_graded@10"] == pytest.approx((4 / math.log2(3) + 2 / math.log2(5)) / (4 + 2 / math.log2(3)))
    # user 2: train {b}; ranking a, c, d, e, f; test {d} -> rank 3
    assert pu.loc[2, "hit@2"] == 0 and pu.loc[2, "mrr@10"] == pytest.approx(1 / 3)
    assert res.means["mrr@10"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert set(res.recommendations.columns) == {"user_id", "item_id", "score", "rank"}
    assert res.recommendations.groupby("user_id").size().tolist() == [5, 5]
    assert res.fit_seconds >= 0 and res.score_seconds >= 0
    assert "ndcg@10" in res.summary(10).index


def test_exclusion_mask_train_plus_valid(splits):
    train, valid, test = splits
    model = FixedScores(SCORES).fit(train)
    res = evaluate(model, train, test, k=10, exclude=Dataset.concat([train, valid]))
    assert res.fit_seconds == 0.0  # already fitted on this train
    recs = res.recommendations
    assert "f" not in set(recs.loc[recs["user_id"] == 2, "item_id"])  # user 2's valid item is masked
    no_mask = evaluate(model, train, test, k=10, exclude=False).recommendations
    assert "a" in set(no_mask.loc[no_mask["user_id"] == 1, "item_id"])


def test_relevance_threshold_excludes_users(splits):
    train, _, test = splits
    res = evaluate(FixedScores(SCORES), train, test, k=5, relevance_threshold=4)
    # user 1 keeps c (4); user 2's d (3) is not relevant -> excluded
    assert res.per_user["user_id"].tolist() == [1] and res.n_users_excluded == 2
    assert res.per_user["n_test"].tolist() == [1]


def test_ties_broken_by_lower_item_row(splits):
    train, _, test = splits
    res = evaluate(FixedScores([1, 1, 1, 1, 1, 1]), train, test, k=2)
    recs = res.recommendations
    assert recs.loc[recs["user_id"] == 1, "item_id"].tolist() == ["b", "c"]


def test_errors(splits, tiny):
    train, _, test = splits
    with pytest.raises(ValueError, match="k == 0"):
        evaluate(Popularity(), train, test, k=0)
    with pytest.raises(ValueError, match="share vocabularies"):
        evaluate(Popularity(), train, tiny, k=5)
    with pytest.raises(TypeError, match="must be a filmrec_toolkit Recommender"):
        evaluate(object(), train, test)
    with pytest.raises(ValueError, match="refit=False but the model is not fitted"):
        evaluate(Popularity(), train, test, refit=False)


def test_users_subset_and_summary(splits):
    train, _, test = splits
    res = evaluate(FixedScores(SCORES), train, test, k=5, users=[1, 3])
    assert res.per_user["user_id"].tolist() == [1] and res.n_users_excluded == 1  # user 3 has no test item
    assert res.summary()["n_users"] == 1
    assert "fixed: 1 users, 1 excluded" in repr(res)


def test_evaluate_candidates_are_shared_items(splits):
    train, _, test = splits
    model = FixedScores(SCORES)
    res = evaluate(model, train, test, k=10, candidates=["c", "d", "f"])
    # user 1 ranks c, d, f (a is seen); user 2 ranks c, d, f (b is seen)
    assert res.recommendations.groupby("user_id")["item_id"].apply(list).to_dict() == {1: ["c", "d", "f"],
                                                                                      2: ["c", "d", "f"]}
    with pytest.raises(TypeError, match="same items for every user"):
        evaluate(model, train, test, k=10, candidates={1: ["c"]})
    with pytest.raises(ValueError, match="candidates is empty"):
        evaluate(model, train, test, k=10, candidates=[])
