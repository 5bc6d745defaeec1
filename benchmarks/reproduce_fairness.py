"""Reproduce Boratto et al. (ECIR 2022): men and users under 35 are better served on ml-1m.

Protocol (docs/protocols.md, "User-group fairness, ml-1m"):
- per-user temporal split 70/10/20 (``temporal_split(ds, (0.7, 0.1, 0.2))``; timestamp
  ties broken by item row, then input row);
- hyper-parameters chosen by mean NDCG@10 on valid (models fitted on train, train items
  excluded); the chosen configuration is refitted on train + valid (``Dataset.concat``)
  and scored on test with train + valid items excluded; full ranking; every test rating
  relevant; NDCG@10 per user;
- gender gap = mean NDCG(M) - mean NDCG(F); age gap = mean NDCG(age codes 1, 18, 25)
  - mean NDCG(codes 35, 45, 50, 56); two-sided Mann-Whitney U per gap.

Models: Popularity, ItemKNN, EASE, Content (all-MiniLM-L6-v2 embeddings of the item
documents, ``embed_items``) and Hybrid (EASE + Content, z-scored scores). Published
numbers (their Table 2) are printed beside ours. A second table gives, per model, the
audit's beyond-accuracy means and the group tests with Holm correction.

Usage::

    .venv/bin/python benchmarks/reproduce_fairness.py [--html reports/fairness_ml1m.html] [--no-content]
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd

import filmrec_toolkit as ft

# Boratto et al., ECIR 2022 (package data): NDCG@10, gender gap, age gap, keyed by our model names
_OURS = {"TopPopular": "Popularity"}
PUBLISHED = (ft.published_gap_table("ml-1m")[["ndcg@10", "gender", "age_35"]]
             .rename(index=lambda m: _OURS.get(m, m))
             .set_axis(["pub_ndcg@10", "pub_gender_gap", "pub_age_gap"], axis=1))
UNDER_35 = {1, 18, 25}


def tune(name, factory, grid, train, valid):
    """Best parameters by mean NDCG@10 on valid (fitted on train)."""
    best, best_score, log = None, -np.inf, []
    for params in grid:
        t = time.perf_counter()
        res = ft.evaluate(factory(**params), train, valid, k=(10,))
        score = float(res.means["ndcg@10"])
        log.append(f"    {name} {params}: valid NDCG@10 {score:.4f} ({time.perf_counter() - t:.1f}s)")
        if score > best_score:
            best, best_score = params, score
    return best, best_score, log


def gaps(per_user: pd.DataFrame, users: pd.DataFrame) -> dict:
    joined = per_user.merge(users[["user_id", "gender", "age_code"]], on="user_id", how="left")
    nd = joined["ndcg@10"]
    men, women = nd[joined["gender"] == "M"], nd[joined["gender"] == "F"]
    young, old = nd[joined["age_code"].isin(UNDER_35)], nd[~joined["age_code"].isin(UNDER_35)]
    g = ft.mann_whitney(men, women)
    a = ft.mann_whitney(young, old)
    return {"ndcg@10": nd.mean(), "gender_gap": men.mean() - women.mean(), "gender_p": g.p_value,
            "age_gap": young.mean() - old.mean(), "age_p": a.p_value, "n_users": len(joined),
            "n_men": len(men), "n_women": len(women), "n_under35": len(young), "n_35plus": len(old)}


def gap_difference(a: pd.DataFrame, b: pd.DataFrame, users: pd.DataFrame, gap: str, n_resamples: int = 1000,
                   random_state=0) -> tuple[float, float, float]:
    """gap(model a) - gap(model b) with a paired percentile bootstrap over users (same resampled users)."""
    joined = a[["user_id", "ndcg@10"]].merge(b[["user_id", "ndcg@10"]], on="user_id", suffixes=("_a", "_b"))
    joined = joined.merge(users[["user_id", "gender", "age_code"]], on="user_id", how="left")
    group = (joined["gender"] == "M") if gap == "gender_gap" else joined["age_code"].isin(UNDER_35)
    g = group.to_numpy()
    x = joined["ndcg@10_a"].to_numpy() - joined["ndcg@10_b"].to_numpy()

    def stat(idx):
        gi, xi = g[idx], x[idx]
        return xi[gi].mean() - xi[~gi].mean()

    rng = np.random.default_rng(random_state)
    boots = np.array([stat(rng.integers(0, len(x), len(x))) for _ in range(n_resamples)])
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(stat(np.arange(len(x)))), float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", default=None, help="write the audit report of the test lists here")
    parser.add_argument("--no-content", action="store_true", help="skip the MiniLM content and hybrid models")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    ds = ft.load_movielens("ml-1m")
    train, valid, test = ft.temporal_split(ds, (0.7, 0.1, 0.2))
    trainval = ft.Dataset.concat([train, valid], name="ml-1m:train+valid")
    print(f"ml-1m: {ds.n_ratings:,} ratings, {ds.n_users:,} users, {ds.n_items:,} items; "
          f"train {train.n_ratings:,} / valid {valid.n_ratings:,} / test {test.n_ratings:,}")

    models = {
        "Popularity": (ft.Popularity, [{}]),
        "ItemKNN": (ft.ItemKNN, [{"n_neighbors": n, "shrink": s} for n in (50, 100, 200) for s in (0.0, 10.0)]),
        "EASE": (ft.EASE, [{"l2": v} for v in (100.0, 500.0, 2000.0)]),
    }
    if not args.no_content:
        t = time.perf_counter()
        emb = ft.embed_items(ds)
        print(f"MiniLM item embeddings: {emb.matrix.shape} in {time.perf_counter() - t:.1f}s "
              f"(model {emb.model_id})")
        strategies = ("rating_weighted", "mean")
        models["Content (MiniLM)"] = (
            lambda strategy: ft.ContentRecommender(emb, ft.UserProfiler(strategy)),
            [{"strategy": s} for s in strategies])

    chosen, tune_log, results, recs, per_user = {}, [], [], {}, {}
    for name, (factory, grid) in models.items():
        best, score, log = tune(name, factory, grid, train, valid)
        tune_log += log
        chosen[name] = (factory, best)
        tune_log.append(f"  -> {name}: {best} (valid NDCG@10 {score:.4f})")
    if not args.no_content:
        ease_f, ease_p = chosen["EASE"]
        cont_f, cont_p = chosen["Content (MiniLM)"]

        def hybrid(w):
            return ft.Hybrid([ease_f(**ease_p), cont_f(**cont_p)], weights=(1.0, w))

        best, score, log = tune("Hybrid", hybrid, [{"w": w} for w in (0.0, 0.1, 0.3, 1.0)], train, valid)
        tune_log += log
        chosen["Hybrid (EASE+MiniLM)"] = (hybrid, best)
        tune_log.append(f"  -> Hybrid: {best} (valid NDCG@10 {score:.4f})")
    print("Tuning on valid:")
    print("\n".join(tune_log))

    for name, (factory, params) in chosen.items():
        t = time.perf_counter()
        res = ft.evaluate(factory(**params), trainval, test, k=(10,))
        row = {"model": name, "params": params, **gaps(res.per_user, ds.users)}
        row["seconds"] = time.perf_counter() - t
        results.append(row)
        recs[name] = res.recommendations
        per_user[name] = res.per_user

    table = pd.DataFrame(results).set_index("model")
    out = table.join(PUBLISHED, how="left")
    cols = ["ndcg@10", "pub_ndcg@10", "gender_gap", "pub_gender_gap", "gender_p", "age_gap", "pub_age_gap", "age_p"]
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print("\nTest (refit on train+valid), NDCG@10 per user; gaps = men - women, <35 - 35+; "
              "two-sided Mann-Whitney p. pub_* = Boratto et al. ECIR 2022:")
        print(out[cols].to_string())
        print("\nGroup sizes:", table[["n_users", "n_men", "n_women", "n_under35", "n_35plus"]].iloc[0].to_dict())
        rel = out[["gender_gap", "age_gap"]].div(out["ndcg@10"], axis=0).rename(columns=lambda c: c + "_rel")
        print("\nGaps relative to the model's NDCG@10:")
        print(rel.to_string())
        if "Content (MiniLM)" in out.index:
            print("\nDoes the LM content model narrow or widen the gaps? Gap difference vs EASE, paired bootstrap "
                  "over users (1000 resamples, 95% CI); relative = gap / model NDCG@10:")
            diffs = []
            for other in ("Content (MiniLM)", "Hybrid (EASE+MiniLM)"):
                for gap in ("gender_gap", "age_gap"):
                    d, lo, hi = gap_difference(per_user[other], per_user["EASE"], ds.users, gap)
                    a, b = out.loc[other], out.loc["EASE"]
                    rel_a, rel_b = a[gap] / a["ndcg@10"], b[gap] / b["ndcg@10"]
                    verdict = ("narrower" if hi < 0 else "wider" if lo > 0 else "no significant change")
                    diffs.append({"model": other, "gap": gap, "model_gap": a[gap], "EASE_gap": b[gap],
                                  "difference": d, "ci_low": lo, "ci_high": hi, "absolute": verdict,
                                  "model_rel": rel_a, "EASE_rel": rel_b,
                                  "relative": "narrower" if rel_a < rel_b else "wider"})
            print(pd.DataFrame(diffs).to_string(index=False))

        t = time.perf_counter()
        users = ds.users.copy()
        report = ft.audit(recs, trainval, test, users=users, k=10, per_user=per_user, by=["gender", "age_35"],
                          group_metrics=["ndcg@10", "novelty", "miscalibration"], n_resamples=1000)
        print(f"\nAudit of the test lists ({time.perf_counter() - t:.1f}s): beyond-accuracy means")
        print(report.summary[["ndcg@10", "novelty", "ild", "miscalibration", "arp", "aplt", "popularity_lift",
                              "coverage", "gini"]].to_string())
        print("\nGroup tests (Mann-Whitney, Holm across the 2 attributes per metric and model):")
        print(report.tests[["model", "metric", "attribute", "high_group", "low_group", "gap", "p_value",
                            "p_holm"]].to_string(index=False))
    if args.html:
        print("HTML report:", report.to_html(args.html, title="Fairness audit, ml-1m temporal 70/10/20",
                                                     figures=ft.plots.audit_figures(report)))
    print(f"\nTotal run time: {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
