"""All-user top-10 at ML-32M scale: in-process vs a 2-worker Dask LocalCluster.

Data: ``make_synthetic_interactions`` (200,000 users x 87,000 items by default). Models:

* content: ``ContentRecommender`` over 384-d item vectors. The vectors are random unit
  vectors (seeded): scoring cost does not depend on what the vectors mean, and encoding
  87,000 texts with a language model is the features benchmark's business.
* ItemKNN: the recommender package's ``ItemKNN`` (sparse top-``n_neighbors`` cosine).

For each model and path it prints wall time, users/s and the peak resident memory of
each process (sampled every 20 ms while ranking; workers sample themselves), then how
in-process time and memory grow from 10k to 50k to 200k users: time grows linearly,
memory does not (ranking streams over user chunks of ``default_chunk_size``).
``differing_lists`` is the number of users whose Dask list (items or scores) is not the
in-process one (``count_differing_lists``; 0 is the guarantee, see ``filmrec_toolkit._topk``).

Run (2 cores, ~24 GiB; about 20-30 minutes)::

    .venv/bin/python benchmarks/bench_scale.py
    .venv/bin/python benchmarks/bench_scale.py --quick      # 20k users x 8.7k items, ~1 minute
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time

import numpy as np
import psutil

GIB = 2**30


class PeakRSS:
    """Max resident set size of this process while the ``with`` block runs (sampled)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval

    def __enter__(self):
        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


# --- worker-side memory sampling (run in every worker via client.run; state kept on the worker) -----
def _worker_sampler_start(dask_worker):
    state = {"peak": psutil.Process().memory_info().rss, "stop": threading.Event()}

    def run():
        proc = psutil.Process()
        while not state["stop"].is_set():
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            state["stop"].wait(0.02)

    state["thread"] = threading.Thread(target=run, daemon=True)
    state["thread"].start()
    dask_worker._bench_rss = state


def _worker_sampler_stop(dask_worker):
    state = dask_worker._bench_rss
    state["stop"].set()
    state["thread"].join()
    return state["peak"]


def _cpu() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


def _worker_cpu() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


def _content_model(ds, dim: int, seed: int):
    from filmrec_toolkit import ContentRecommender, ItemEmbeddings

    rng = np.random.default_rng(seed)
    vec = rng.standard_normal((ds.n_items, dim), dtype=np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return ContentRecommender(ItemEmbeddings(vec, ds.item_ids, model_id=f"random-unit-{dim}d"))


def _row(table, **kw):
    table.append(kw)
    line = "  ".join(f"{k}={v}" for k, v in kw.items())
    print("   ", line, flush=True)


def _fmt(table, cols):
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in table)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols), "  ".join("-" * widths[c] for c in cols)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols) for r in table]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-users", type=int, default=200_000)
    parser.add_argument("--n-items", type=int, default=87_000)
    parser.add_argument("--n-interactions", type=int, default=32_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaling", default="10000,50000", help="extra in-process user counts (content model)")
    parser.add_argument("--models", default="content,itemknn")
    parser.add_argument("--dask-users", default="", help="user counts also run on Dask (default: all users only)")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--quick", action="store_true", help="20k users x 8.7k items x 1M interactions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.n_users, args.n_items, args.n_interactions, args.scaling = 20_000, 8_700, 1_000_000, "2000,5000"
        args.dask_users = args.dask_users or "5000"

    from filmrec_toolkit import ItemKNN, count_differing_lists, default_chunk_size, make_synthetic_interactions
    from filmrec_toolkit.scale import local_client

    print(f"cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f}), RAM {psutil.virtual_memory().total / GIB:.1f} GiB",
          flush=True)
    t0 = time.perf_counter()
    with PeakRSS() as mem:
        ds = make_synthetic_interactions(args.n_users, args.n_items, args.n_interactions, random_state=args.seed)
        ds.matrix  # noqa: B018 - build the CSR once, as any model would
    print(f"data: {ds!r} in {time.perf_counter() - t0:.1f} s, peak RSS {mem.peak / GIB:.2f} GiB", flush=True)
    chunk = default_chunk_size(ds.n_items)
    print(f"user chunk: {chunk} users (128 MiB of float32 scores)", flush=True)

    models = {}
    for name in args.models.split(","):
        t0 = time.perf_counter()
        with PeakRSS() as mem:
            if name == "content":
                model = _content_model(ds, args.dim, args.seed).fit(ds)
            elif name == "itemknn":
                model = ItemKNN(n_neighbors=100).fit(ds)
            else:
                raise SystemExit(f"unknown model {name!r}; use content and/or itemknn")
        models[name] = model
        print(f"fit {name}: {time.perf_counter() - t0:.1f} s, peak RSS {mem.peak / GIB:.2f} GiB", flush=True)

    results = []
    all_users = ds.user_ids
    cluster = None if args.skip_dask else local_client(n_workers=args.workers, threads_per_worker=1)
    try:
        for name, model in models.items():
            counts = [int(c) for c in args.scaling.split(",") if c] if name == "content" else []
            dask_counts = [int(c) for c in args.dask_users.split(",") if c] or [len(all_users)]
            for n in [*counts, len(all_users)]:
                users = all_users[:n]
                base = psutil.Process().memory_info().rss
                cpu0, t0 = _cpu(), time.perf_counter()
                with PeakRSS() as mem:
                    in_process = model.recommend(users, k=args.k)
                wall = time.perf_counter() - t0
                _row(results, model=name, path="in-process", users=n, wall_s=round(wall, 1),
                     cpu_s=round(_cpu() - cpu0, 1), users_per_s=int(n / wall), peak_rss_gib=round(mem.peak / GIB, 2),
                     scoring_extra_gib=round((mem.peak - base) / GIB, 3))
                if cluster is None or (n not in dask_counts and n != len(all_users)):
                    continue
                client = cluster
                client.run(_worker_sampler_start)
                wcpu0 = sum(client.run(_worker_cpu).values())
                cpu0, t0 = _cpu(), time.perf_counter()
                with PeakRSS() as mem:
                    recs = model.recommend(users, k=args.k, client=client)
                wall = time.perf_counter() - t0
                wcpu = sum(client.run(_worker_cpu).values()) - wcpu0
                worker_peaks = client.run(_worker_sampler_stop)
                _row(results, model=name, path=f"dask {args.workers}x1", users=n, wall_s=round(wall, 1),
                     cpu_s=round(_cpu() - cpu0 + wcpu, 1), users_per_s=int(n / wall),
                     peak_rss_gib=round(mem.peak / GIB, 2),
                     worker_peak_rss_gib="/".join(f"{v / GIB:.2f}" for v in worker_peaks.values()),
                     differing_lists=count_differing_lists(recs, in_process))
                del recs
            del in_process
    finally:
        if cluster is not None:
            cluster.close()

    cols = ["model", "path", "users", "wall_s", "cpu_s", "users_per_s", "peak_rss_gib", "scoring_extra_gib",
            "worker_peak_rss_gib", "differing_lists"]
    print("\n## top-%d, %s users x %s items, %s interactions (cpu_s = CPU seconds of every process involved)"
          % (args.k, f"{ds.n_users:,}", f"{ds.n_items:,}", f"{ds.n_ratings:,}"))
    print(_fmt(results, cols))
    for r in results:
        if r["path"] == "in-process":
            continue
        base = next(b for b in results if b["model"] == r["model"] and b["users"] == r["users"]
                    and b["path"] == "in-process")
        print(f"{r['model']} @ {r['users']:,} users: dask / in-process wall = {r['wall_s'] / base['wall_s']:.2f}x "
              f"(target <= 1.5x), cpu = {r['cpu_s'] / max(base['cpu_s'], 1e-9):.2f}x")
    print(f"\nprocess lifetime peak RSS (data generation included): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
