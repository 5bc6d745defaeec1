"""Collaborative filtering at ML-32M catalogue size: ItemKNN and ALS fit + all-user top-10 (issue 15).

Data: ``make_synthetic_interactions`` (default 200,000 users x 87,000 items x 8,000,000
interactions). For each model it prints the fit wall time and peak RSS, then the top-10
for every user in-process and on a 2-worker Dask ``LocalCluster`` (wall time, users/s,
peak RSS of the client and of each worker, and whether both frames are identical).
EASE is asked to fit too: at 87,000 items it must refuse with its memory estimate.

* ItemKNN: sparse top-100 cosine neighbours from chunked sparse products (never a dense
  n_items x n_items matrix);
* ALS: ``implicit``'s conjugate-gradient ALS, 64 factors, 15 iterations.

Targets: fit < 10 min each, peak RSS < 6 GiB, top-10 for all users < 10 min, Dask 2
workers <= 1.5x in-process.

Usage::

    .venv/bin/python benchmarks/bench_cf_scale.py                       # full size (~30-60 min on 2 cores)
    .venv/bin/python benchmarks/bench_cf_scale.py --fraction 0.25       # 50k users x 87k items x 2M
    .venv/bin/python benchmarks/bench_cf_scale.py --quick [--skip-dask] # smoke test: 3k x 2k x 60k
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import PeakRSS, _fmt, _worker_sampler_start, _worker_sampler_stop  # noqa: E402

GIB = 2**30


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-users", type=int, default=200_000)
    parser.add_argument("--n-items", type=int, default=87_000)
    parser.add_argument("--n-interactions", type=int, default=8_000_000)
    parser.add_argument("--fraction", type=float, default=1.0, help="scale users and interactions (items kept)")
    parser.add_argument("--models", default="itemknn,als")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3,000 users x 2,000 items x 60,000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_users, args.n_items, args.n_interactions = 3_000, 2_000, 60_000
    n_users = int(args.n_users * args.fraction)
    n_inter = int(args.n_interactions * args.fraction)

    import filmrec_toolkit as ft

    print(f"bench_cf_scale.py  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  cores "
          f"{len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}, RAM "
          f"{psutil.virtual_memory().total / GIB:.1f} GiB ({psutil.virtual_memory().available / GIB:.1f} available)",
          flush=True)
    t0 = time.perf_counter()
    with PeakRSS() as mem:
        ds = ft.make_synthetic_interactions(n_users, args.n_items, n_inter, random_state=args.seed)
        ds.matrix  # noqa: B018 - build the CSR once, as any model would
    print(f"data: {ds!r} in {time.perf_counter() - t0:.1f} s, peak RSS {mem.peak / GIB:.2f} GiB"
          f"{'' if args.fraction == 1 else f' (fraction {args.fraction} of the full size)'}", flush=True)

    from filmrec_toolkit.recommenders.ease import check_ease_memory

    for n_items in sorted({ds.n_items, 87_000}):
        try:  # the check EASE.fit runs first; fitting EASE itself is not benchmarked here
            need = check_ease_memory(n_items)
            print(f"EASE on {n_items:,} items would fit: about {need / GIB:.1f} GiB", flush=True)
        except MemoryError as err:
            print(f"EASE refuses: {err}", flush=True)

    fits, results = [], []
    client = None if args.skip_dask else ft.local_client(n_workers=args.workers, threads_per_worker=1)
    try:
        for name in args.models.split(","):
            model = {"itemknn": lambda: ft.ItemKNN(n_neighbors=100),
                     "als": lambda: ft.ALS(factors=64, iterations=15, random_state=args.seed)}[name]()
            t0 = time.perf_counter()
            with PeakRSS() as mem:
                model.fit(ds)
            fits.append({"model": name, "fit_s": round(time.perf_counter() - t0, 1),
                         "peak_rss_gib": round(mem.peak / GIB, 2)})
            print(f"fit {name}: {fits[-1]}", flush=True)
            t0 = time.perf_counter()
            with PeakRSS() as mem:
                local = model.recommend(k=args.k)
            wall = time.perf_counter() - t0
            results.append({"model": name, "path": "in-process", "users": ds.n_users, "wall_s": round(wall, 1),
                            "users_per_s": int(ds.n_users / wall), "peak_rss_gib": round(mem.peak / GIB, 2)})
            print("   ", results[-1], flush=True)
            if client is not None:
                client.run(_worker_sampler_start)
                t0 = time.perf_counter()
                with PeakRSS() as mem:
                    dist = model.recommend(k=args.k, client=client)
                wall = time.perf_counter() - t0
                peaks = client.run(_worker_sampler_stop)
                results.append({"model": name, "path": f"dask {args.workers}x1", "users": ds.n_users,
                                "wall_s": round(wall, 1), "users_per_s": int(ds.n_users / wall),
                                "peak_rss_gib": round(mem.peak / GIB, 2),
                                "worker_peak_rss_gib": "/".join(f"{v / GIB:.2f}" for v in peaks.values()),
                                "identical": bool(dist.equals(local))})
                print("   ", results[-1], flush=True)
                del dist
            del local, model
    finally:
        if client is not None:
            client.close()

    print(f"\n## fit, {ds.n_users:,} users x {ds.n_items:,} items, {ds.n_ratings:,} interactions "
          "(targets: fit < 600 s, peak RSS < 6 GiB)")
    print(_fmt(fits, ["model", "fit_s", "peak_rss_gib"]))
    print(f"\n## top-{args.k} for every user (targets: < 600 s; dask <= 1.5x in-process)")
    print(_fmt(results, ["model", "path", "users", "wall_s", "users_per_s", "peak_rss_gib", "worker_peak_rss_gib",
                         "identical"]))
    for r in results:
        if r["path"] != "in-process":
            base = next(b for b in results if b["model"] == r["model"] and b["path"] == "in-process")
            print(f"{r['model']}: dask / in-process wall = {r['wall_s'] / max(base['wall_s'], 1e-9):.2f}x")
    if client is None:
        print("dask not run (--skip-dask); in-process lists identical to themselves by construction")
    print(f"process lifetime peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
