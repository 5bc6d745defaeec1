"""Top-10 for every user with ContentRecommender vs the original loop vs a bare GEMM, in interleaved rounds.

Four ways to produce the same lists (profile = rating-weighted mean of MiniLM vectors),
each run in its own subprocess, in rotated order over ``--rounds`` rounds (see ``_interleave``):

``ours``   ``ContentRecommender.recommend(k=10)``: chunked ``profiles @ items.T``, seen items
           masked, shared top-k (bounded memory) -- the baseline of the ratios;
``torch``  the same call with ``device="cpu"``: scoring and top-k through torch (the GPU code path);
``bare``   one ``profiles @ items.T`` for all users at once + mask + ``argpartition`` (the floor;
           no chunking, no checks, all scores in memory);
``loop``   the original design: for each user a Python loop over every film calling
           ``torch.cosine_similarity``, then a sort -- timed on ``--sample`` users, extrapolated.

Each child times one call after one warm-up call (page faults, thread pools). Targets
(issue 4), on the per-round medians: loop / ours >= 100x; ours / bare <= 3x.

Usage::

    .venv/bin/python benchmarks/bench_recommend.py [--dataset ml-1m] [--rounds 5] [--sample 20] [--encoder minilm|genres]
    .venv/bin/python benchmarks/bench_recommend.py --quick   # smoke test: synthetic data, checks the lists agree
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _interleave  # noqa: E402
import numpy as np  # noqa: E402

NAMES = {"ours": "ours: ContentRecommender.recommend", "torch": "torch: recommend(device='cpu')",
         "bare": "bare: one GEMM + argpartition", "loop": "loop: per-film cosine (extrapol.)"}


def _data(args):
    import filmrec_toolkit as ft

    if args.dataset == "synthetic":
        ds = ft.make_synthetic_interactions(2000, 1500, 40_000, random_state=0)
        rng = np.random.default_rng(0)
        vec = rng.standard_normal((ds.n_items, 32)).astype(np.float32)
        emb = ft.ItemEmbeddings(vec / np.linalg.norm(vec, axis=1, keepdims=True), ds.item_ids, model_id="random-32d")
    else:
        ds = ft.load_movielens(args.dataset)
        emb = ft.embed_items(ds) if args.encoder == "minilm" else ft.embed_items(ds, encoder=ft.GenreEncoder())
    return ds, ft.ContentRecommender(emb).fit(ds)


def original_loop(profiles, items, seen, user_rows, k=10):
    """The original design: one torch.cosine_similarity call per (user, film)."""
    import torch

    films = torch.from_numpy(items)
    out = []
    for u in user_rows:
        p = torch.from_numpy(profiles[u])
        scores = []
        for j in range(films.shape[0]):
            if j in seen[u]:
                continue
            scores.append((float(torch.cosine_similarity(p, films[j], dim=0)), j))
        scores.sort(key=lambda t: (-t[0], t[1]))
        out.append([j for _, j in scores[:k]])
    return out


def bare(profiles, items, matrix, k=10):
    scores = profiles @ items.T
    r, c = matrix.nonzero()
    scores[r, c] = -np.inf
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def child(method: str, outdir: Path, args) -> None:
    ds, model = _data(args)
    profiles = model.profiler_.transform()
    items = model.embeddings_.matrix
    extra = {}
    if method == "loop":
        rng = np.random.default_rng(0)
        sample = rng.choice(ds.n_users, size=min(args.sample, ds.n_users), replace=False)
        m = ds.matrix
        seen = {int(u): set(m.indices[m.indptr[u]:m.indptr[u + 1]].tolist()) for u in sample}
        t = time.perf_counter()
        lists = original_loop(profiles, items, seen, sample)
        secs = (time.perf_counter() - t) / len(sample) * ds.n_users
        out = np.full((ds.n_users, 10), -1, dtype=np.int64)
        out[sample] = lists
        extra["note"] = f"{len(sample)} users timed, extrapolated"
    else:
        if method == "ours":
            def fn():
                return model.recommend_rows(np.arange(ds.n_users), 10)[0]
        elif method == "torch":
            def fn():
                return model.recommend_rows(np.arange(ds.n_users), 10, device="cpu")[0]
        elif method == "bare":
            def fn():
                return bare(profiles, items, ds.matrix)
        else:
            raise SystemExit(f"unknown method {method!r}")
        t = time.perf_counter()
        fn()
        extra["first_secs"] = time.perf_counter() - t
        t = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t
    if args.round == 0:
        np.save(outdir / f"{method}.npy", out)
    _interleave.report(secs, **extra)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-1m", help="a MovieLens name or 'synthetic'")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--methods", default="ours,torch,bare,loop")
    parser.add_argument("--sample", type=int, default=20, help="users timed with the original loop")
    parser.add_argument("--encoder", choices=["minilm", "genres"], default="minilm")
    parser.add_argument("--quick", action="store_true", help="synthetic 2,000 x 1,500, 2 rounds, 3 loop users")
    _interleave.add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.outdir), args)
        return 0
    if args.quick:
        args.dataset, args.rounds, args.sample = "synthetic", 2, 3
    methods = args.methods.split(",")
    outdir = Path(tempfile.mkdtemp(prefix="bench_recommend-"))
    print(f"bench_recommend.py  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  dataset {args.dataset}  "
          f"encoder {args.encoder if args.dataset != 'synthetic' else 'random 32-d'}  top-10 for every user")
    fwd = ["--dataset", args.dataset, "--sample", str(args.sample), "--encoder", args.encoder]
    results = _interleave.run_rounds(__file__, methods, "ours", args.rounds, fwd, outdir,
                                     label="top-10 for every user", names=NAMES)
    ref = np.load(outdir / "ours.npy")
    ok = True
    for m in methods:
        if m == "ours":
            continue
        got = np.load(outdir / f"{m}.npy")
        rows = np.flatnonzero(got[:, 0] >= 0)
        same = float(np.mean([(got[r] == ref[r]).all() for r in rows]))
        ok &= same >= 0.99
        print(f"identical top-10 lists, {m} vs ours: {same:.1%} of {len(rows)} users "
              "(differences only from float32 rounding of near-equal scores)")
    by_round = {}
    for r in results:
        by_round.setdefault(r["round"], {})[r["method"]] = r["secs"]
    if "loop" in methods:
        sp = statistics.median(v["loop"] / v["ours"] for v in by_round.values())
        print(f"speed-up vs original loop (median over rounds): {sp:,.0f}x   (target >= 100x)")
    if "bare" in methods:
        rel = [v["ours"] / v["bare"] for v in by_round.values()]
        print(f"ours / bare GEMM time: median {statistics.median(rel):.2f}x, spread {min(rel):.2f}-{max(rel):.2f}   "
              "(target <= 3x)")
    if "torch" in methods:
        rel = [v["torch"] / v["ours"] for v in by_round.values()]
        print(f"torch on cpu / ours time: median {statistics.median(rel):.2f}x")
    print("paths agree" if ok else "PATHS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
