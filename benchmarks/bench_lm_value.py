"""Where does the language model earn its place? Cold items and few-shot users (``make reproduce``).

Columns (NDCG@10, every rating an interaction, binary relevance):

* **cold items** — ``cold_item_split(ds, 0.2, valid_share=0.1, random_state=seed)``: 20 % of
  the items held out with all their ratings (DropoutNet / CLCRec item cold start, see the
  protocols document); each user with a held-out rating ranks only the held-out items
  (``evaluate(..., candidates="test")``). Tuning on the validation items, then the chosen
  model is refitted on train + validation and scored once on test.
* **few-shot users, n_given = 1, 3, 5** — ``cold_user_split(ds, 0.2, n_given, seed)``: the
  held-out users keep ``n_given`` random ratings; full ranking of their unrated items.
  Validation: a second few-shot split of the training users
  (``cold_user_split(train, 0.25, n_given, seed + 1)``); the chosen model is refitted on
  the whole training part.

Rows: Popularity, EASE, ALS, the original content cosine (``ContentRecommender`` on
MiniLM), ``ContentToCF`` on genres, genres + year, TF-IDF, MiniLM, SmolLM2 (text alone),
and ``ContentToCF()`` with its default settings on MiniLM (text + genres + year). Every
parameter is chosen with ``ft.tune`` on validation NDCG@10 (grids below; the default row
has none: its internal ridge penalty is chosen on held-out training items). In each
column the best LM row and the best non-LM row (chosen by *validation* NDCG@10) are
compared on the same test users with ``ft.compare_models`` (paired Wilcoxon, bootstrap CI),
and ``ft.describe_comparison`` states the result.

In the few-shot columns every item has training ratings, so the ``ContentToCF`` rows
score like their rank-k SVD (features only place cold items) and rows that differ only
in features coincide; the LM then reaches the few-shot users only through the content
cosine row.

When ``benchmarks/bench_lm_warm.py`` exists (warm protocols, hybrids, fairness), it is
run afterwards with the same ``--quick`` choice, so one command prints every column.

Usage::

    python benchmarks/bench_lm_value.py [--datasets ml-1m ml-100k] [--quick] [--small-grids] [--no-smollm2]
                                        [--smollm2-datasets ml-100k] [--n-given 1 3 5] [--no-warm] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pandas as pd  # noqa: E402

import filmrec_toolkit as ft  # noqa: E402

HERE = Path(__file__).resolve().parent
METRIC = "ndcg@10"

#: grids tried by ft.tune (full run / --quick)
GRIDS = {
    "EASE": {"l2": [100.0, 300.0, 1000.0, 3000.0]},
    "ALS": {"factors": [32, 64, 128], "regularization": [0.1, 1.0, 10.0]},
    "cosine": {"profiler": [None, ft.UserProfiler("mean")]},
    "c2cf": {"factors": [32, 64, 128]},
}
QUICK_GRIDS = {
    "EASE": {"l2": [300.0, 1000.0]},
    "ALS": {"factors": [32, 64]},
    "cosine": {"profiler": [None]},
    "c2cf": {"factors": [32, 64]},
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def model_rows(features: dict, grids: dict, seed: int) -> list[tuple[str, object, dict, bool]]:
    """(row name, estimator, grid, uses a language model) for the features available."""
    rows = [
        ("Popularity", ft.Popularity(), {}, False),
        ("EASE", ft.EASE(), grids["EASE"], False),
        ("ALS", ft.ALS(random_state=seed), grids["ALS"], False),
    ]
    if features.get("MiniLM") is not None:
        rows.append(("Content cosine (MiniLM)", ft.ContentRecommender(features["MiniLM"]), grids["cosine"], True))
    rows += [
        ("ContentToCF genres", ft.ContentToCF(None, metadata=("genres",), random_state=seed), grids["c2cf"], False),
        ("ContentToCF genres+year", ft.ContentToCF(None, random_state=seed), grids["c2cf"], False),
    ]
    for name, is_lm in (("TF-IDF", False), ("MiniLM", True), ("SmolLM2", True)):
        if features.get(name) is not None:
            rows.append((f"ContentToCF {name}", ft.ContentToCF(features[name], metadata=(), random_state=seed),
                         grids["c2cf"], is_lm))
    if features.get("MiniLM") is not None:
        rows.append(("ContentToCF default (MiniLM+genres+year)", ft.ContentToCF(features["MiniLM"]), {}, True))
        rows.append(("ContentToCF MLP map (MiniLM+genres+year)",
                     ft.ContentToCF(features["MiniLM"], mapper="mlp", random_state=seed), {}, True))
    return rows


def _run_column(rows, tune_train, valid, fit_on, test, eval_kwargs: dict) -> tuple[pd.DataFrame, dict]:
    """Tune each row on (tune_train, valid), refit on ``fit_on``, score ``test``."""
    table, per_user = [], {}
    for name, estimator, grid, is_lm in rows:
        start = time.perf_counter()
        res = ft.tune(estimator, grid or {}, tune_train, valid, metric=METRIC, refit=fit_on, **eval_kwargs)
        ev = ft.evaluate(res.best_estimator, fit_on, test, k=(10,), refit=False, **eval_kwargs)
        per_user[name] = ev.per_user
        table.append({"model": name, "lm": is_lm, "valid": res.best_score, "test": float(ev.means[METRIC]),
                      "n_users": ev.n_users, "params": _short(res.best_params),
                      "seconds": round(time.perf_counter() - start, 1)})
        log(f"  {name:42s} valid {res.best_score:.4f}  test {ev.means[METRIC]:.4f}  {_short(res.best_params)}")
    return pd.DataFrame(table), per_user


def _short(params: dict) -> str:
    return ", ".join(f"{k}={getattr(v, 'strategy', v)}" for k, v in params.items()) or "-"


def _paired(table: pd.DataFrame, per_user: dict) -> dict:
    """Best LM row vs best non-LM row, both chosen on validation, paired on test users."""
    lm, other = table[table["lm"]], table[~table["lm"]]
    if lm.empty or other.empty:
        return {}
    a = lm.sort_values("valid", ascending=False, kind="mergesort")["model"].iloc[0]
    b = other.sort_values("valid", ascending=False, kind="mergesort")["model"].iloc[0]
    cmp = ft.compare_models({a: per_user[a], b: per_user[b]}, metric=METRIC, baseline=b)
    row = cmp.iloc[0]
    return {"best_lm": a, "best_non_lm": b, "diff": float(row["diff"]), "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]), "p_value": float(row["p_value"]), "n_users": int(row["n_users"]),
            "sentence": ft.describe_comparison(cmp)[0]}


def run_dataset(ds, features: dict, grids: dict, n_givens=(1, 3, 5), seed: int = 0, cold: bool = True) -> dict:
    """Every column for one dataset: tables, paired tests and the cold-item ratios."""
    rows = model_rows(features, grids, seed)
    out = {"dataset": ds.name, "seed": seed, "columns": {}}
    if cold:
        log(f"{ds.name}: cold items (20 % held out, 10 % validation items)")
        train, valid, test = ft.cold_item_split(ds, 0.2, valid_share=0.1, random_state=seed)
        table, per_user = _run_column(rows, train, valid, ft.Dataset.concat([train, valid]), test,
                                      {"candidates": "test"})
        out["columns"]["cold items"] = {"table": table, "paired": _paired(table, per_user), "per_user": per_user}
    for n_given in n_givens:
        log(f"{ds.name}: few-shot users, n_given={n_given}")
        f_train, f_test = ft.cold_user_split(ds, 0.2, n_given=n_given, random_state=seed)
        t_train, t_valid = ft.cold_user_split(f_train, 0.25, n_given=n_given, random_state=seed + 1)
        table, per_user = _run_column(rows, t_train, t_valid, f_train, f_test, {})
        out["columns"][f"few-shot n={n_given}"] = {"table": table, "paired": _paired(table, per_user),
                                                   "per_user": per_user}
    default = "ContentToCF default (MiniLM+genres+year)"
    if cold and default in out["columns"]["cold items"]["table"]["model"].to_numpy():
        cold_test = out["columns"]["cold items"]["table"].set_index("model")["test"]
        pu = out["columns"]["cold items"]["per_user"]
        targets = {}
        for base, goal in (("ContentToCF genres+year", 1.5), ("Content cosine (MiniLM)", 3.0)):
            cmp = ft.compare_models({default: pu[default], base: pu[base]}, metric=METRIC, baseline=base).iloc[0]
            targets[base] = {"ratio": float(cold_test[default] / cold_test[base]), "goal": goal,
                             "p_value": float(cmp["p_value"]), "sentence": ft.describe_comparison(cmp.to_frame().T)[0]}
        out["cold_targets"] = targets
    return out


def feature_sets(ds, smollm2: bool) -> dict:
    """MiniLM (default document, cached), TF-IDF on the same documents, SmolLM2 (optional)."""
    feats = {"MiniLM": ft.embed_items(ds), "TF-IDF": ft.embed_items(ds, encoder=ft.TfidfEncoder(), cache=False)}
    if smollm2:
        start = time.perf_counter()
        feats["SmolLM2"] = ft.embed_items(ds, encoder=ft.TextEncoder(model="smollm2-135m"))
        log(f"SmolLM2 embeddings of {ds.name}: {time.perf_counter() - start:.0f} s")
    return feats


def summary_table(results: list[dict]) -> pd.DataFrame:
    """Rows = models, columns = (dataset, column) test NDCG@10."""
    cols = {}
    for res in results:
        for col, data in res["columns"].items():
            cols[(res["dataset"], col)] = data["table"].set_index("model")["test"]
    return pd.DataFrame(cols)


def to_json(results: list[dict], args: dict) -> dict:
    out = {"args": args, "metric": METRIC, "datasets": []}
    for res in results:
        entry = {"dataset": res["dataset"], "seed": res["seed"], "cold_targets": res.get("cold_targets", {}),
                 "columns": {}}
        for col, data in res["columns"].items():
            entry["columns"][col] = {"table": data["table"].to_dict(orient="records"), "paired": data["paired"]}
        out["datasets"].append(entry)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=None, help="default ml-1m ml-100k (--quick: ml-100k)")
    parser.add_argument("--quick", action="store_true", help="ml-100k, small grids, no SmolLM2")
    parser.add_argument("--no-smollm2", action="store_true")
    parser.add_argument("--smollm2-datasets", nargs="*", default=None,
                        help="datasets on which SmolLM2 rows run (default: all)")
    parser.add_argument("--n-given", nargs="*", type=int, default=[1, 3, 5],
                        help="few-shot columns (none: cold items only)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-item column")
    parser.add_argument("--small-grids", action="store_true", help="the --quick grids on any dataset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-overviews", action="store_true",
                        help="do not attach the offline TMDB plot overviews (the README pipeline attaches them)")
    parser.add_argument("--no-warm", action="store_true", help="do not run benchmarks/bench_lm_warm.py")
    parser.add_argument("--out", default=str(Path("reports") / "bench_lm_value.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    datasets = args.datasets or (["ml-100k"] if args.quick else ["ml-1m", "ml-100k"])
    grids = QUICK_GRIDS if args.quick or args.small_grids else GRIDS
    results = []
    for name in datasets:
        ds = ft.load_movielens(name)
        if not args.no_overviews:
            ds = ft.attach_overviews(ds)  # as the README pipeline does: plots where the offline pack has them
        smol = not (args.quick or args.no_smollm2) and (args.smollm2_datasets is None or name in args.smollm2_datasets)
        results.append(run_dataset(ds, feature_sets(ds, smol), grids, tuple(args.n_given), args.seed,
                                   cold=not args.no_cold))
    table = summary_table(results)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\nNDCG@10 on test (parameters chosen on validation)\n")
        print(table.round(4).to_string())
    for res in results:
        print(f"\n{res['dataset']}: best LM row vs best non-LM row (chosen on validation), paired on test users")
        for col, data in res["columns"].items():
            if data["paired"]:
                print(f"  [{col}] {data['paired']['sentence']}")
        for base, t in res.get("cold_targets", {}).items():
            met = "met" if t["ratio"] >= t["goal"] and t["p_value"] < 0.01 else "NOT met"
            print(f"  cold-item target vs {base}: ratio {t['ratio']:.2f} (goal >= {t['goal']}, p < .01): {met}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(to_json(results, vars(args)), indent=2, default=str))
    print(f"\nwrote {out}")
    warm = HERE / "bench_lm_warm.py"
    if warm.exists() and not args.no_warm:
        print("\nrunning benchmarks/bench_lm_warm.py (warm protocols, hybrids, fairness)", flush=True)
        return subprocess.call([sys.executable, str(warm), *(["--quick"] if args.quick else [])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
