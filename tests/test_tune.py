"""tune(): parameters chosen on validation, estimator left untouched; clone()."""

import numpy as np
import pytest

import filmrec_toolkit as ft


def test_clone_copies_parameters_and_nested_estimators():
    ease = ft.EASE(l2=7.0)
    hyb = ft.Hybrid([ease, ft.Popularity()], weights=[1.0, 0.0])
    c = ft.clone(hyb)
    assert c is not hyb and c.models[0] is not ease
    assert c.models[0].l2 == 7.0 and c.weights == [1.0, 0.0]
    assert ft.clone(ease, l2=3.0).l2 == 3.0 and ease.l2 == 7.0
    with pytest.raises(ValueError, match="not parameters of EASE"):
        ft.clone(ease, lam=1.0)
    with pytest.raises(TypeError, match="estimator"):
        ft.clone(object())


def test_tune_picks_the_validation_best_and_leaves_estimator_unfitted(tiny):
    train, valid = ft.random_split(tiny, 0.6, random_state=0)
    est = ft.EASE(l2=1.0)
    res = ft.tune(est, {"l2": [1.0, 10.0, 100.0]}, train, valid, metric="ndcg@2")
    assert not hasattr(est, "train_")
    assert len(res.results) == 3 and "ndcg@2" in res.results
    best = res.results["ndcg@2"].max()
    assert res.best_score == pytest.approx(best)
    first_best = res.results.loc[res.results["ndcg@2"] == best, "l2"].iloc[0]
    assert res.best_params == {"l2": first_best}
    assert res.best_estimator.l2 == first_best and not hasattr(res.best_estimator, "train_")
    refit = ft.tune(est, {"l2": [1.0]}, train, valid, metric="ndcg@2", refit=train)
    assert refit.best_estimator.train_ is train
    assert np.isfinite(refit.best_score)


def test_tune_bad_metric(tiny):
    train, valid = ft.random_split(tiny, 0.6, random_state=0)
    with pytest.raises(ValueError, match="metric"):
        ft.tune(ft.EASE(), {"l2": [1.0]}, train, valid, metric="ndcg")
    with pytest.raises(ValueError, match="param_grid"):
        ft.tune(ft.EASE(), [], train, valid)
