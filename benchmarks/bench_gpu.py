"""GPU paths (issue 15): MiniLM texts/s and content top-10 users/s with torch on a device.

Runs on whatever ``--device`` resolves to ("auto": cuda, then mps, then cpu) and prints
the device name first, so a CPU run says plainly that no GPU was used.

1. ``TextEncoder(device=D, dtype=...)`` on short texts (ml-1m title + genres documents,
   repeated to ``--texts``); float16 and bfloat16 on CUDA, float32 on CPU. Large
   length-sorted batches (``batch_size`` default 512 on CUDA). Vectors are compared with
   float32 on the CPU (min cosine on the first 256 texts).
2. ``ContentRecommender.recommend(k=10, device=D)`` on random 384-d item vectors over
   ``make_synthetic_interactions`` users x items; users/s and the share of lists identical
   to the NumPy path on a sample of users.

Targets when a GPU is there: MiniLM fp16 >= 20,000 short texts/s; content top-10 for
200k x 87k < 30 s.

Usage::

    .venv/bin/python benchmarks/bench_gpu.py                      # full sizes on the GPU
    .venv/bin/python benchmarks/bench_gpu.py --quick              # tiny sizes (CPU smoke run)
    .venv/bin/python benchmarks/bench_gpu.py --device cpu --users 20000 --items 8700
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def device_name(dev) -> str:
    import platform

    import torch

    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "mps: Apple GPU"
    return f"cpu: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores (no GPU used)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=87_000)
    parser.add_argument("--interactions", type=int, default=8_000_000)
    parser.add_argument("--quick", action="store_true", help="256 texts, 5,000 users x 2,000 items")
    args = parser.parse_args(argv)
    if args.quick:
        args.texts, args.users, args.items, args.interactions = 256, 5_000, 2_000, 100_000

    import torch

    import filmrec_toolkit as ft
    from filmrec_toolkit._device import resolve_device

    dev = resolve_device(args.device)
    print(f"bench_gpu.py  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  torch {torch.__version__}  "
          f"device {device_name(dev)}", flush=True)
    if dev.type == "cpu":
        print("GPU not run: no GPU on this machine; the same torch code path is timed on the CPU.", flush=True)

    # 1. encoder
    docs = ft.build_item_documents(ft.load_movielens("ml-1m"))
    texts = (docs * (args.texts // len(docs) + 1))[: args.texts]
    ref = ft.TextEncoder(device="cpu").fit().transform(texts[:256])
    dtypes = ["float16", "bfloat16"] if dev.type == "cuda" else ["float32"]
    for dtype in dtypes:
        enc = ft.TextEncoder(device=str(dev), dtype=dtype).fit()
        enc.transform(texts[:512])  # warm-up: kernels, allocator
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        X = enc.transform(texts)
        secs = time.perf_counter() - t
        cos = float((X[:256] * ref).sum(1).min())
        print(f"TextEncoder {dtype:9s} batch {enc.batch_size_:4d}: {len(texts):,} short texts in {secs:.2f} s = "
              f"{len(texts) / secs:,.0f} texts/s; min cosine to CPU float32 {cos:.4f}", flush=True)

    # 2. content top-10
    ds = ft.make_synthetic_interactions(args.users, args.items, args.interactions, random_state=0)
    rng = np.random.default_rng(0)
    vec = rng.standard_normal((ds.n_items, 384), dtype=np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    model = ft.ContentRecommender(ft.ItemEmbeddings(vec, ds.item_ids, model_id="random-384d")).fit(ds)
    model.recommend_rows(np.arange(min(1000, ds.n_users)), 10, device=dev)  # warm-up
    t = time.perf_counter()
    cols, _ = model.recommend_rows(np.arange(ds.n_users), 10, device=dev)
    secs = time.perf_counter() - t
    sample = np.arange(0, ds.n_users, max(1, ds.n_users // 2000))
    ref_cols, _ = model.recommend_rows(sample, 10)
    same = float((cols[sample] == ref_cols).all(axis=1).mean())
    print(f"ContentRecommender top-10 on {dev}: {ds.n_users:,} users x {ds.n_items:,} items in {secs:.2f} s = "
          f"{ds.n_users / secs:,.0f} users/s; lists identical to NumPy on {same:.1%} of {len(sample)} sampled users",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
