"""Top-10 for every ml-1m user with ContentRecommender vs the original loop vs a bare GEMM.

Three ways to produce the same lists (profile = rating-weighted mean of MiniLM vectors):

1. ``ContentRecommender.recommend(k=10)`` — chunked ``profiles @ items.T``, seen items
   masked, ``argpartition`` top-k (bounded memory).
2. The original design: for each user, a Python loop over every film calling
   ``torch.cosine_similarity(profile, film, dim=0)``, then a sort — timed on a sample of
   users and extrapolated to all users (in the same run).
3. Bare: one ``profiles @ items.T`` for all users at once + mask + ``argpartition`` (the
   floor; no chunking, no checks, all scores in memory).

Targets (issue 4): (2) / (1) >= 100x; (1) / (3) <= 3x, each timed as the best of 3 calls (the first
call, which also pays one-off warm-up, is printed too). Prints peak traced memory
(tracemalloc, numpy allocations included) of (1) and (3) and the process' max RSS.

Usage: ``python benchmarks/bench_recommend.py [--dataset ml-1m] [--sample 20] [--encoder minilm|genres]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

import filmrec_toolkit as ft  # noqa: E402


def best_time(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls (the first call also pays one-off warm-up: page faults, BLAS threads)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def timed_peak(fn):
    """One call under tracemalloc: (result, seconds, peak traced bytes)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, secs, peak


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="ml-1m")
    ap.add_argument("--sample", type=int, default=20, help="users timed with the original loop")
    ap.add_argument("--encoder", choices=["minilm", "genres"], default="minilm")
    args = ap.parse_args(argv)

    ds = ft.load_movielens(args.dataset)
    t = time.perf_counter()
    emb = ft.embed_items(ds) if args.encoder == "minilm" else ft.embed_items(ds, encoder=ft.GenreEncoder())
    print(f"{ds}; {emb} ({time.perf_counter() - t:.1f}s, cached after the first run)")

    model = ft.ContentRecommender(emb)
    _, fit_s, _ = timed_peak(lambda: model.fit(ds))
    recs, ours_first_s, ours_peak = timed_peak(lambda: model.recommend(k=10))
    ours_s = best_time(lambda: model.recommend(k=10))
    print(f"ContentRecommender: fit {fit_s:.2f}s; recommend top-10 for {ds.n_users} users {ours_s:.2f}s (best of 3; first call "
          f"{ours_first_s:.2f}s); peak traced memory {ours_peak / 2**20:.0f} MiB")

    profiles = model.profiler_.transform()
    items = model.embeddings_.matrix
    top, bare_first_s, bare_peak = timed_peak(lambda: bare(profiles, items, ds.matrix))
    bare_s = best_time(lambda: bare(profiles, items, ds.matrix))
    print(f"bare profiles @ items.T + argpartition: {bare_s:.2f}s (best of 3; first call {bare_first_s:.2f}s); peak traced memory {bare_peak / 2**20:.0f} MiB")

    rng = np.random.default_rng(0)
    sample = rng.choice(ds.n_users, size=min(args.sample, ds.n_users), replace=False)
    m = ds.matrix
    seen = {int(u): set(m.indices[m.indptr[u]:m.indptr[u + 1]].tolist()) for u in sample}
    start = time.perf_counter()
    loop_lists = original_loop(profiles, items, seen, sample)
    loop_sample_s = time.perf_counter() - start
    loop_s = loop_sample_s / len(sample) * ds.n_users
    print(f"original per-film torch.cosine_similarity loop: {loop_sample_s:.2f}s for {len(sample)} users "
          f"-> {loop_s:.0f}s extrapolated to {ds.n_users} users")

    ours_lists = recs.groupby("user_id", sort=False)["item_id"].apply(list)
    agree_bare = np.mean([list(ds.item_vocab.to_rows(ours_lists.loc[uid])) == list(top[u])
                          for u, uid in enumerate(ds.user_ids)])
    agree_loop = np.mean([list(ds.item_vocab.to_rows(ours_lists.loc[ds.user_ids[u]])) == loop_lists[n]
                          for n, u in enumerate(sample)])
    print(f"identical top-10 lists: vs bare {agree_bare:.1%}, vs loop {agree_loop:.1%} "
          "(differences only from float32 ties)")
    print(f"\nspeed-up vs original loop: {loop_s / ours_s:,.0f}x   (target >= 100x)")
    print(f"ContentRecommender / bare GEMM time: {ours_s / bare_s:.2f}x   (target <= 3x)")
    print(f"peak traced memory: ContentRecommender {ours_peak / 2**20:.0f} MiB vs bare {bare_peak / 2**20:.0f} MiB; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
