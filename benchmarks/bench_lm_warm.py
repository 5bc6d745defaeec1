"""Warm start: do language-model hybrids beat their tuned CF part? And do they change the fairness gaps?

Protocols (each split's docstring says which published protocol it follows):

* **MSR Recommenders, ml-100k**: ``stratified_split(ds, 0.75, random_state=42)``; every
  test rating relevant; top-10 over every item not rated in train. Parameters are chosen
  on a validation split carved out of train the same way
  (``stratified_split(train, 0.75, random_state=7)``); the chosen model is refitted on
  the whole train and scored once on test.
* **RecBole, ml-1m**: ratings >= 3, ``user_random_split(ds, (0.8, 0.1, 0.1),
  random_state=42)``; models fitted on train, chosen on valid (mask = train), scored on
  test with mask = train + valid (no refit).
* **Boratto et al. fairness, ml-1m** (``--fairness``): ``temporal_split(ds, (0.7, 0.1,
  0.2))``; chosen on valid, refitted on train + valid, scored on test (mask = train +
  valid); gender gap = men - women, age gap = under 35 - 35+, NDCG@10, two-sided
  Mann-Whitney U per gap; the hybrid's gap change vs EASE by ``gap_change``.

Rows: Popularity, EASE, ALS, ContentToCF (when the package has it), content cosine (the
original design: user profile · item vector), and three ways to add the LM to EASE:
``Hybrid`` (EASE + content, per-user normalised blend), ``ContentAwareHybrid`` (the same,
with more content for items with few ratings) and ``EASESide`` (EASE whose closed form
also reconstructs the item text vectors). Every parameter is chosen by
``ft.tune`` on validation NDCG@10; weight 0 is in every hybrid grid, so validation can
switch the LM off, and the hybrids are tuned with ``ft.tune_blend``: the validation winner
is kept only if it beats the same hybrid with the LM off (= tuned EASE) in a paired test on
the validation users (p < .05), so a gain inside the noise never switches the LM on. Each
hybrid is compared with its tuned CF part (EASE) by
``compare_models`` (paired Wilcoxon, bootstrap CI, Holm across the three hybrids).

Items with few ratings: items with < 5 ratings in the final training data. Two metrics,
both over the users who have at least one such item in test (other users excluded):
``tail_ndcg@10`` keeps the usual full ranking (every unseen item) but counts only those
items as relevant; ``tailonly_ndcg@10`` ranks only the rare items (every other item is
masked), relevant = the user's rare test items.

Item text vectors: the package's default encoder (all-MiniLM-L6-v2) on the default item
documents with TMDB overviews attached (``attach_overviews`` + ``embed_items``; cached).

Usage::

    python benchmarks/bench_lm_warm.py [--quick] [--protocol msr|recbole|both] [--fairness] [--out PREFIX]

``--quick``: ml-100k MSR only with two-point grids (a smoke run). From Python:
``bench_lm_warm.run(protocols=("msr",), quick=True)`` returns the tables as DataFrames.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass, field

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import filmrec_toolkit as ft  # noqa: E402

K = 10
METRIC = f"ndcg@{K}"
TAIL_MAX = 5  # items with fewer training ratings than this are "rare"
CF_PART = "EASE"
HYBRIDS = ("Hybrid (EASE + MiniLM)", "ContentAwareHybrid (EASE + MiniLM)", "EASESide (MiniLM)")

#: Grids (every point evaluated on validation). ``None`` entries are filled from the tuned EASE.
GRIDS = {
    "EASE": {"l2": [100.0, 200.0, 400.0, 700.0, 1200.0, 2000.0]},
    "ALS": {"factors": [64, 128], "regularization": [0.1, 1.0, 10.0]},
    "Content": {"profiler": ["rating_weighted", "mean"]},
    "Hybrid": [{"weights": [(1.0, 0.0), (1.0, 0.1), (1.0, 0.2), (1.0, 0.4)]},
               {"weights": [(1.0, 0.2)], "normalization": ["minmax", "rank"]}],
    "ContentAwareHybrid": {"content_weight": [0.0, 0.1, 0.2], "tail_weight": [0.0, 1.0]},
    "EASESide": {"side_weight": [0.0, 0.03, 0.1, 0.3, 1.0]},  # x the tuned EASE l2
}
QUICK_GRIDS = {
    "EASE": {"l2": [200.0, 500.0]},
    "ALS": {"factors": [32], "regularization": [1.0]},
    "Content": {"profiler": ["rating_weighted"]},
    "Hybrid": {"weights": [(1.0, 0.0), (1.0, 0.2)]},
    "ContentAwareHybrid": {"content_weight": [0.0, 0.1], "tail_weight": [0.0, 1.0]},
    "EASESide": {"side_weight": [0.0, 0.1]},
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------- protocols
@dataclass
class WarmProtocol:
    """Splits of one protocol: tune on (tune_train, valid), score the final fit on (train, test)."""

    name: str
    tune_train: ft.Dataset
    valid: ft.Dataset
    train: ft.Dataset            # the final models are fitted here
    test: ft.Dataset
    valid_exclude: object = True  # history mask at validation (True = tune_train, see ft.exclusion_matrix)
    test_exclude: object = True   # history mask at test (True = train)
    metrics: tuple = ("precision@10", "recall@10", "ndcg@10", "map@10")
    users: pd.DataFrame | None = field(default=None, repr=False)


def msr_protocol(ds: ft.Dataset, random_state: int = 42, valid_state: int = 7) -> WarmProtocol:
    """MSR Recommenders ml-100k protocol, with validation carved out of train the same way."""
    train, test = ft.stratified_split(ds, 0.75, random_state=random_state)
    sub, valid = ft.stratified_split(train, 0.75, random_state=valid_state)
    return WarmProtocol("msr", sub, valid, train, test, users=ds.users)


def recbole_protocol(ds: ft.Dataset, random_state: int = 42) -> WarmProtocol:
    """RecBole ml-1m protocol: ratings >= 3, per-user random 8:1:1, test mask = train + valid, no refit."""
    pos = ds.filter(min_rating=3)
    train, valid, test = ft.user_random_split(pos, (0.8, 0.1, 0.1), random_state=random_state)
    return WarmProtocol("recbole", train, valid, train, test, test_exclude=ft.Dataset.concat([train, valid]),
                        metrics=("recall@10", "ndcg@10", "mrr@10", "hit@10"), users=ds.users)


def boratto_protocol(ds: ft.Dataset) -> WarmProtocol:
    """Boratto et al. (ECIR 2022): per-user temporal 70/10/20, refit on train + valid."""
    train, valid, test = ft.temporal_split(ds, (0.7, 0.1, 0.2))
    seen = ft.Dataset.concat([train, valid])
    return WarmProtocol("boratto", train, valid, seen, test, test_exclude=seen, metrics=("ndcg@10",),
                        users=ds.users)


# ----------------------------------------------------------------------------- models
def _tune(proto: WarmProtocol, label: str, estimator, grid, off: dict | None = None
          ) -> tuple[ft.Recommender, dict, float, pd.DataFrame]:
    """``ft.tune`` (or ``ft.tune_blend`` when ``off`` names the content-off setting of a hybrid)."""
    start = time.perf_counter()
    kwargs = dict(metric=METRIC, refit=proto.train, exclude=proto.valid_exclude)
    if off is None:
        res = ft.tune(estimator, grid, proto.tune_train, proto.valid, **kwargs)
        extra = ""
    else:
        res = ft.tune_blend(estimator, grid, proto.tune_train, proto.valid, off=off, **kwargs)
        sw = res.results.attrs["switch"]
        extra = (f"; LM {'on' if sw['switched_on'] else 'off'}: validation gain of the best point "
                 f"{sw['diff']:+.4f}, paired p={sw['p_value']:.2g}")
    log(f"{proto.name} {label}: chose {_short(res.best_params)} (valid {METRIC} {res.best_score:.4f}, "
        f"{len(res.results)} point(s), {time.perf_counter() - start:.0f}s{extra})")
    return res.best_estimator, res.best_params, res.best_score, res.results


def _short(params: dict) -> str:
    out = []
    for k, v in params.items():
        if isinstance(v, ft.UserProfiler):
            v = v.strategy
        out.append(f"{k}={v}")
    return ", ".join(out)


def tuned_models(proto: WarmProtocol, features: ft.ItemEmbeddings, grids: dict,
                 only: tuple[str, ...] | None = None, random_state: int = 42) -> dict:
    """Every row of the table, tuned on validation and fitted for test: name -> (model, params, valid score)."""
    out = {}

    def want(name: str) -> bool:
        return only is None or name in only

    if want("Popularity"):
        out["Popularity"] = _tune(proto, "Popularity", ft.Popularity(), [{}])[:3]
    ease, ease_p, score, _ = _tune(proto, "EASE", ft.EASE(), grids["EASE"])
    out["EASE"] = (ease, ease_p, score)
    l2 = ease_p["l2"]
    if want("ALS"):
        out["ALS"] = _tune(proto, "ALS", ft.ALS(iterations=15, random_state=random_state), grids["ALS"])[:3]
    if want("ContentToCF") and hasattr(ft, "ContentToCF"):
        out["ContentToCF (MiniLM)"] = _tune(proto, "ContentToCF", ft.ContentToCF(features), [{}])[:3]
    profilers = {"profiler": [ft.UserProfiler(s) for s in grids["Content"]["profiler"]]}
    content, content_p, score, _ = _tune(proto, "Content", ft.ContentRecommender(features), profilers)
    if want("Content cosine (MiniLM)"):
        out["Content cosine (MiniLM)"] = (content, content_p, score)
    cf, ct = ft.EASE(l2=l2), ft.ContentRecommender(features, content_p["profiler"])
    normalization = "zscore"
    if want(HYBRIDS[0]) or want(HYBRIDS[1]):
        hyb = _tune(proto, "Hybrid", ft.Hybrid([cf, ct]), grids["Hybrid"], off={"weights": (1.0, 0.0)})
        normalization = hyb[1].get("normalization", "zscore")
        if want(HYBRIDS[0]):
            out[HYBRIDS[0]] = hyb[:3]
    if want(HYBRIDS[1]):
        out[HYBRIDS[1]] = _tune(proto, "ContentAwareHybrid",
                                ft.ContentAwareHybrid(cf, ct, normalization=normalization),
                                grids["ContentAwareHybrid"], off={"content_weight": 0.0, "tail_weight": 0.0})[:3]
    if want(HYBRIDS[2]):
        side = {"side_weight": [w * l2 for w in grids["EASESide"]["side_weight"]]}
        out[HYBRIDS[2]] = _tune(proto, "EASESide", ft.EASESide(features, l2=l2), side, off={"side_weight": 0.0})[:3]
    return out


# ----------------------------------------------------------------------------- evaluation
def rare_items(train: ft.Dataset, max_ratings: int = TAIL_MAX) -> np.ndarray:
    """Boolean mask over the item vocabulary: fewer than ``max_ratings`` ratings in ``train``."""
    return train.item_counts() < max_ratings


def _history(proto: WarmProtocol) -> sp.csr_matrix:
    ex = proto.test_exclude
    return proto.train.matrix if ex is True else ex.matrix


def tail_evaluations(model, proto: WarmProtocol, rare: np.ndarray) -> dict[str, ft.EvaluationResult]:
    """Both rare-item metrics (see the module docstring) for a model fitted on ``proto.train``.

    Empty when no test rating is on a rare item (nothing to measure).
    """
    test_rare = proto.test.subset(rare[proto.test.item_rows])
    if test_rare.n_ratings == 0:
        return {}
    full = ft.evaluate(model, proto.train, test_rare, k=(K,), exclude=proto.test_exclude, refit=False)
    users = np.flatnonzero(np.diff(test_rare.matrix.indptr) > 0)
    n_other = int((~rare).sum())
    mask = sp.csr_matrix((np.ones(len(users) * n_other, bool),
                          (np.repeat(users, n_other), np.tile(np.flatnonzero(~rare), len(users)))),
                         shape=proto.train.matrix.shape)
    seen = _history(proto).copy()
    seen.data = np.ones_like(seen.data)  # by structure: a stored 0 rating is seen too
    mask = ((mask + seen) != 0).tocsr()
    only = ft.evaluate(model, proto.train, test_rare, k=(K,), exclude=mask, refit=False)
    return {"tail": full, "tailonly": only}


@dataclass
class WarmResult:
    """Tables of one protocol (all DataFrames)."""

    table: pd.DataFrame          # one row per model: test metrics, rare-item metrics, valid score, params
    tests: pd.DataFrame          # each hybrid vs EASE, paired, per metric (overall and rare items)
    per_user: dict = field(default_factory=dict, repr=False)   # (metric family, model) -> per-user frame


def run_protocol(proto: WarmProtocol, features: ft.ItemEmbeddings, grids: dict = GRIDS,
                 only: tuple[str, ...] | None = None) -> WarmResult:
    """Tune every model on validation, score on test (overall and on rare items), test hybrids vs EASE."""
    models = tuned_models(proto, features, grids, only)
    rare = rare_items(proto.train)
    rows, per_user = [], {}
    for name, (model, params, valid_score) in models.items():
        res = ft.evaluate(model, proto.train, proto.test, k=(K,), exclude=proto.test_exclude, refit=False)
        tails = tail_evaluations(model, proto, rare)
        per_user[("all", name)] = res.per_user
        row = {"model": name, **{m: res.means[m] for m in proto.metrics}}
        for fam, ev in tails.items():
            per_user[(fam, name)] = ev.per_user
            row[f"{fam}_{METRIC}"] = ev.means[METRIC]
            row[f"{fam}_recall@{K}"] = ev.means[f"recall@{K}"]
        row.update({"n_users": res.n_users, "tail_users": tails["tail"].n_users if tails else 0,
                    f"valid_{METRIC}": valid_score, "params": _short(params)})
        rows.append(row)
        log(f"{proto.name} {name}: test {METRIC} {row[METRIC]:.4f}, rare items "
            f"{row.get(f'tail_{METRIC}', np.nan):.4f} / {row.get(f'tailonly_{METRIC}', np.nan):.4f}")
    table = pd.DataFrame(rows)
    tests = []
    hybrids = [h for h in HYBRIDS if h in models]
    for fam in ("all", "tail", "tailonly"):
        if not hybrids or (fam, CF_PART) not in per_user:
            continue
        frames = {h: per_user[(fam, h)] for h in hybrids}
        frames[CF_PART] = per_user[(fam, CF_PART)]
        t = ft.compare_models(frames, metric=METRIC, baseline=CF_PART)
        t.insert(0, "items", {"all": "all items", "tail": f"< {TAIL_MAX} ratings, full ranking",
                              "tailonly": f"< {TAIL_MAX} ratings, ranked among them"}[fam])
        t["verdict"] = ft.paired_verdicts(t)
        tests.append(t)
    tests = pd.concat(tests, ignore_index=True) if tests else pd.DataFrame()
    return WarmResult(table, tests, per_user)


# ----------------------------------------------------------------------------- fairness
def fairness(proto: WarmProtocol, features: ft.ItemEmbeddings, grids: dict = GRIDS,
             n_resamples: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Boratto gaps of EASE and of the best hybrid (by validation NDCG@10), and the gap change.

    Returns ``(models, gaps, best)``: per model NDCG@10, gender and age gaps with
    Mann-Whitney p; per attribute the gap change of the best hybrid vs EASE
    (:func:`filmrec_toolkit.gap_change`); the best hybrid's name.
    """
    models = tuned_models(proto, features, grids, only=("EASE", *HYBRIDS))
    best = max(HYBRIDS, key=lambda h: models[h][2])
    log(f"{proto.name}: best hybrid on validation: {best} ({models[best][2]:.4f} vs EASE {models['EASE'][2]:.4f})")
    attrs = ft.user_attributes(proto.train, proto.users)
    per_user, rows = {}, []
    for name in (CF_PART, best):
        res = ft.evaluate(models[name][0], proto.train, proto.test, k=(K,), exclude=proto.test_exclude,
                          refit=False)
        per_user[name] = res.per_user
        joined = res.per_user.merge(attrs, on="user_id")
        row = {"model": name, METRIC: res.means[METRIC], "params": _short(models[name][1])}
        for attr, hi, lo in (("gender", "M", "F"), ("age_35", "<35", "35+")):
            a = joined.loc[joined[attr] == hi, METRIC]
            b = joined.loc[joined[attr] == lo, METRIC]
            row[f"{attr}_gap"] = a.mean() - b.mean()
            row[f"{attr}_p"] = ft.mann_whitney(a, b).p_value
        rows.append(row)
    gaps = pd.DataFrame([ft.gap_change(per_user[best], per_user[CF_PART], attrs, attr, hi, lo, metric=METRIC,
                                       n_resamples=n_resamples)
                         for attr, hi, lo in (("gender", "M", "F"), ("age_35", "<35", "35+"))])
    gaps.insert(0, "model_a", best)
    gaps.insert(1, "model_b", CF_PART)
    return pd.DataFrame(rows), gaps, best


def fairness_sentence(gaps: pd.DataFrame) -> str:
    """The finding in words, from the ``gap_change`` rows."""
    parts = []
    for _, g in gaps.iterrows():
        parts.append(f"the {g['attribute']} gap ({g['high']} - {g['low']}) is {g['gap_a']:+.4f} for {g['model_a']} "
                     f"vs {g['gap_b']:+.4f} for {g['model_b']}: {g['verdict']} (|gap| change {g['change']:+.4f}, "
                     f"95% CI [{g['ci_low']:+.4f}, {g['ci_high']:+.4f}])")
    return "; ".join(parts) + "."


def hybrid_sentence(result: WarmResult, protocol: str) -> str:
    """Each hybrid vs EASE on all items and on rare items, in words (from the paired tests)."""
    lines = []
    for _, t in result.tests.iterrows():
        lines.append(f"{protocol}, {t['items']}: {t['model_a']} vs EASE {t['mean_a']:.4f} vs {t['mean_b']:.4f} "
                     f"(diff {t['diff']:+.4f}, p_holm {t['p_holm']:.2g}): {t['verdict']}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- driver
def load_features(ds: ft.Dataset) -> ft.ItemEmbeddings:
    """Default-encoder vectors of the default item documents with TMDB overviews (cached)."""
    start = time.perf_counter()
    emb = ft.embed_items(ft.attach_overviews(ds))
    log(f"embeddings {emb} in {time.perf_counter() - start:.0f}s")
    return emb


def _show(title: str, frame: pd.DataFrame) -> None:
    print(f"\n=== {title} ===")
    with pd.option_context("display.width", 250, "display.max_colwidth", 60, "display.max_columns", 40):
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def run(protocols=("msr", "recbole"), quick: bool = False, with_fairness: bool = False) -> dict[str, pd.DataFrame]:
    """Run the benchmark; returns the tables by name (``msr``, ``msr_tests``, ``recbole``, ..., ``fairness``)."""
    grids = QUICK_GRIDS if quick else GRIDS
    out = {}
    if "msr" in protocols:
        ds = ft.load_movielens("ml-100k")
        res = run_protocol(msr_protocol(ds), load_features(ds), grids)
        out["msr"], out["msr_tests"] = res.table, res.tests
        _show("ml-100k, MSR protocol (test; rare = items with < 5 training ratings)", res.table)
        _show("ml-100k MSR: each hybrid vs its tuned CF part (EASE), paired Wilcoxon, Holm", res.tests)
        print(hybrid_sentence(res, "ml-100k MSR"))
    if "recbole" in protocols or with_fairness:
        ds = ft.load_movielens("ml-1m")
        features = load_features(ds)
        if "recbole" in protocols:
            res = run_protocol(recbole_protocol(ds), features, grids)
            out["recbole"], out["recbole_tests"] = res.table, res.tests
            _show("ml-1m, RecBole protocol (test, mask train + valid; rare = < 5 training ratings)", res.table)
            _show("ml-1m RecBole: each hybrid vs its tuned CF part (EASE), paired Wilcoxon, Holm", res.tests)
            print(hybrid_sentence(res, "ml-1m RecBole"))
        if with_fairness:
            models, gaps, best = fairness(boratto_protocol(ds), features, grids)
            out["fairness"], out["fairness_gaps"] = models, gaps
            _show("ml-1m, Boratto protocol: NDCG@10 and gaps (Mann-Whitney p)", models)
            _show(f"Does {best} narrow or widen the gaps vs EASE? (|gap| change, paired bootstrap over users)", gaps)
            print(fairness_sentence(gaps))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", choices=["msr", "recbole", "both", "none"], default="both")
    ap.add_argument("--fairness", action="store_true", help="also the Boratto fairness question on ml-1m")
    ap.add_argument("--quick", action="store_true", help="ml-100k MSR only, two-point grids")
    ap.add_argument("--out", default=None, help="write every table as PREFIX_<name>.csv")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    start = time.perf_counter()
    protocols = {"msr": ("msr",), "recbole": ("recbole",), "both": ("msr", "recbole"), "none": ()}[args.protocol]
    if args.quick:
        protocols, args.fairness = ("msr",), False
    tables = run(protocols, quick=args.quick, with_fairness=args.fairness)
    if args.out:
        for name, frame in tables.items():
            frame.to_csv(f"{args.out}_{name}.csv", index=False)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f}s on {os.cpu_count()} CPU(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
