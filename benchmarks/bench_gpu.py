"""GPU paths (issue 15), one script: MiniLM texts/s, EASE fit, content top-10, each against its target.

Runs on whatever ``--device`` resolves to ("auto": cuda, then mps, then cpu) and prints the
device name first; without a CUDA device it prints a line starting ``not run on a GPU:`` and
times the same torch code on the CPU (numbers then say nothing about the GPU targets).

1. **Encoder** -- ``TextEncoder(device=D, dtype=...)`` (all-MiniLM-L6-v2 from its installed
   pack, offline) on short texts (title + year + genres of a synthetic catalogue, ~15
   tokens), length-sorted batches (512 on CUDA); float16 and bfloat16 on CUDA, float32 on the
   CPU; vectors compared with CPU float32 (min cosine over the first 256 texts).
   Target: float16 >= 20,000 texts/s.
2. **EASE fit** -- ``EASE(device=D, dtype=...)`` on ``--ease-items`` items of
   ``make_synthetic_interactions`` (float64, then float32): sparse Gram in column blocks,
   Cholesky inverse, B back to NumPy. Checked first on a small catalogue against the NumPy
   fit (max |B difference|, lists differing). Target: 20,000 items < 10 s.
3. **Content top-10** -- ``ContentRecommender.recommend_rows(k=10, device=D)`` with random
   384-d item vectors, ``--users`` x ``--items``; users/s and lists differing from the NumPy
   path on a sample of users. Target: 200,000 users x 87,000 items < 30 s.

Each part runs in its own ``try``: a failure is printed and the next part still runs (the
exit status is 1 then). EASE data: 138,000 users x 20,000 items x 10,000,000 interactions
(ML-20M-like). Full sizes should take about 2-4 min on one H100 with 16 cores: the
synthetic data took 15 s (100k x 20k x 5M) and 23 s (200k x 87k x 8M) to generate on a
loaded 2-core CPU, the content fit 7 s, the NumPy check of 2,000 users 5 s.

``--compare-ease-cpu`` instead times the EASE fit on the CPU with NumPy vs torch (float64,
float32) in interleaved rounds (``_interleave``: each run its own subprocess, rotated order)
and prints the median ratios.

Usage::

    .venv/bin/python benchmarks/bench_gpu.py                        # full sizes, on the GPU when there is one
    .venv/bin/python benchmarks/bench_gpu.py --quick                # tiny sizes on the CPU (smoke test)
    .venv/bin/python benchmarks/bench_gpu.py --quick --device cuda  # tiny sizes on the GPU (a first check there)
    .venv/bin/python benchmarks/bench_gpu.py --compare-ease-cpu --ease-items 5000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _interleave  # noqa: E402

TARGET_TEXTS_PER_S = 20_000
TARGET_EASE_S = 10.0
TARGET_CONTENT_S = 30.0


def device_name(dev) -> str:
    import platform

    import torch

    if dev.type == "cuda":
        free, total = torch.cuda.mem_get_info(dev)
        return f"cuda: {torch.cuda.get_device_name(dev)}, {total / 2**30:.0f} GiB ({free / 2**30:.0f} GiB free)"
    if dev.type == "mps":
        return "mps: Apple GPU"
    return f"cpu: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores"


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def verdict(ok: bool, on_gpu: bool) -> str:
    if not on_gpu:
        return "not judged: not on a GPU"
    return "MET" if ok else "MISSED"


def part_encoder(args, dev, on_gpu, summary) -> None:
    import filmrec_toolkit as ft

    cat = ft.make_synthetic_interactions(max(1, args.texts // 20), min(args.texts, 20_000),
                                         max(args.texts // 20, 2 * min(args.texts, 20_000)), random_state=1)
    docs = ft.build_item_documents(cat, fields=("title", "year", "genres"))
    texts = (docs * (args.texts // len(docs) + 1))[: args.texts]
    ref = ft.TextEncoder(device="cpu", dtype="float32").fit()
    n_tok = float(np.mean([len(t) for t in ref.tokenize(texts[:2000])]))
    ref_vec = ref.transform(texts[:256])
    print(f"texts: {len(texts):,} short texts (mean {n_tok:.1f} tokens), e.g. {texts[0]!r}", flush=True)
    dtypes = ["float16", "bfloat16"] if dev.type == "cuda" else ["float32"]
    for dtype in dtypes:
        t = time.perf_counter()
        enc = ft.TextEncoder(device=str(dev), dtype=dtype).fit()
        load = time.perf_counter() - t
        enc.transform(texts[: 2 * enc.batch_size_])  # warm-up: kernels, allocator
        _sync(dev)
        t = time.perf_counter()
        vec = enc.transform(texts)
        _sync(dev)
        secs = time.perf_counter() - t
        cos = float((vec[:256] * ref_vec).sum(1).min())
        rate = len(texts) / secs
        line = (f"TextEncoder {dtype:9s} on {dev}, batch {enc.batch_size_}: {len(texts):,} texts in {secs:.2f} s = "
                f"{rate:,.0f} texts/s (model load {load:.1f} s); min cosine to CPU float32 {cos:.4f}")
        if dtype in ("float16", "float32"):
            line += f"  [target >= {TARGET_TEXTS_PER_S:,}/s in float16: {verdict(rate >= TARGET_TEXTS_PER_S, on_gpu)}]"
            summary.append(f"encoder {dtype}: {rate:,.0f} texts/s vs >= {TARGET_TEXTS_PER_S:,}/s: "
                           f"{verdict(rate >= TARGET_TEXTS_PER_S, on_gpu)}")
        print(line, flush=True)
        del enc


def part_ease(args, dev, on_gpu, summary) -> None:
    import filmrec_toolkit as ft

    small = ft.make_synthetic_interactions(args.ease_check_users, args.ease_check_items,
                                           20 * args.ease_check_users, random_state=2)
    ref = ft.EASE(l2=200.0).fit(small)
    ref_lists = ref.recommend_rows(np.arange(small.n_users), 10)[0]
    for dtype in ("float64", "float32"):
        got = ft.EASE(l2=200.0, device=str(dev), dtype=dtype).fit(small)
        diff = float(np.abs(got.B_ - ref.B_).max() / np.abs(ref.B_).max())
        lists = got.recommend_rows(np.arange(small.n_users), 10)[0]
        n_diff = int((lists != ref_lists).any(axis=1).sum())
        print(f"EASE check, {small.n_items:,} items: torch {dtype} B vs NumPy: max |diff| / max |B| = {diff:.1e}; "
              f"lists differing from NumPy: {n_diff} of {small.n_users:,} users", flush=True)

    t = time.perf_counter()
    ds = ft.make_synthetic_interactions(args.ease_users, args.ease_items, args.ease_interactions, random_state=3)
    ds.matrix  # noqa: B018 - built once, as any model would
    print(f"EASE data: {ds!r} generated in {time.perf_counter() - t:.1f} s", flush=True)
    ft.EASE(l2=200.0, device=str(dev)).fit(small)  # warm-up: CUDA context, cuSPARSE / cuSOLVER handles
    for dtype in ("float64", "float32"):
        _sync(dev)
        t = time.perf_counter()
        model = ft.EASE(l2=200.0, device=str(dev), dtype=dtype).fit(ds)
        _sync(dev)
        secs = time.perf_counter() - t
        ok = secs < TARGET_EASE_S
        print(f"EASE fit on {model.fit_device_} in {dtype}: {ds.n_items:,} items, {ds.n_users:,} users, "
              f"{ds.n_ratings:,} interactions in {secs:.2f} s  [target < {TARGET_EASE_S:.0f} s at 20,000 items: "
              f"{verdict(ok, on_gpu)}]", flush=True)
        summary.append(f"EASE fit {dtype}, {ds.n_items:,} items: {secs:.2f} s vs < {TARGET_EASE_S:.0f} s: "
                       f"{verdict(ok, on_gpu)}")
        del model


def part_content(args, dev, on_gpu, summary) -> None:
    import filmrec_toolkit as ft

    t = time.perf_counter()
    ds = ft.make_synthetic_interactions(args.users, args.items, args.interactions, random_state=0)
    ds.matrix  # noqa: B018
    print(f"content data: {ds!r} generated in {time.perf_counter() - t:.1f} s", flush=True)
    rng = np.random.default_rng(0)
    vec = rng.standard_normal((ds.n_items, 384), dtype=np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    model = ft.ContentRecommender(ft.ItemEmbeddings(vec, ds.item_ids, model_id="random-384d")).fit(ds)
    model.recommend_rows(np.arange(min(1000, ds.n_users)), 10, device=dev)  # warm-up
    _sync(dev)
    t = time.perf_counter()
    cols, _ = model.recommend_rows(np.arange(ds.n_users), 10, device=dev)
    _sync(dev)
    secs = time.perf_counter() - t
    sample = np.arange(0, ds.n_users, max(1, ds.n_users // 2000))
    ref_cols, _ = model.recommend_rows(sample, 10)
    n_diff = int((cols[sample] != ref_cols).any(axis=1).sum())
    ok = secs < TARGET_CONTENT_S
    print(f"Content top-10 on {dev}: {ds.n_users:,} users x {ds.n_items:,} items in {secs:.2f} s = "
          f"{ds.n_users / secs:,.0f} users/s; lists differing from NumPy: {n_diff} of {len(sample):,} sampled users  "
          f"[target < {TARGET_CONTENT_S:.0f} s at 200,000 x 87,000: {verdict(ok, on_gpu)}]", flush=True)
    summary.append(f"content top-10, {ds.n_users:,} x {ds.n_items:,}: {secs:.2f} s vs < {TARGET_CONTENT_S:.0f} s: "
                   f"{verdict(ok, on_gpu)}")


# ----------------------------------------------------------------- EASE on the CPU: NumPy vs torch
EASE_METHODS = {"numpy": (None, "float64"), "torch64": ("cpu", "float64"), "torch32": ("cpu", "float32")}
EASE_NAMES = {"numpy": "EASE(device=None): NumPy float64", "torch64": "EASE(device='cpu'): torch float64",
              "torch32": "EASE(device='cpu', dtype='float32')"}


def ease_child(method: str, outdir: Path, args) -> None:
    import filmrec_toolkit as ft

    device, dtype = EASE_METHODS[method]
    ds = ft.make_synthetic_interactions(args.ease_users, args.ease_items, args.ease_interactions, random_state=3)
    ds.matrix  # noqa: B018
    t = time.perf_counter()
    model = ft.EASE(l2=200.0, device=device, dtype=dtype).fit(ds)
    secs = time.perf_counter() - t
    if args.round == 0:
        np.save(outdir / f"{method}.npy", model.B_)
    _interleave.report(secs)


def compare_ease_cpu(args) -> int:
    methods = list(EASE_METHODS)
    outdir = Path(tempfile.mkdtemp(prefix="bench_gpu-ease-"))
    fwd = ["--ease-users", str(args.ease_users), "--ease-items", str(args.ease_items),
           "--ease-interactions", str(args.ease_interactions)]
    print(f"EASE fit on the CPU, {args.ease_users:,} users x {args.ease_items:,} items x "
          f"{args.ease_interactions:,} interactions (synthetic); threads: OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    _interleave.run_rounds(__file__, methods, "numpy", args.rounds, fwd, outdir, label="EASE fit, CPU",
                           names=EASE_NAMES)
    ref = np.load(outdir / "numpy.npy")
    scale = float(np.abs(ref).max())
    for m in methods[1:]:
        print(f"{EASE_NAMES[m]}: max |B - B_numpy| / max |B| = {np.abs(np.load(outdir / f'{m}.npy') - ref).max() / scale:.1e}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="'auto' (default), 'cuda', 'cpu'; --quick: 'cpu'")
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=87_000)
    parser.add_argument("--interactions", type=int, default=8_000_000)
    parser.add_argument("--ease-users", type=int, default=138_000)
    parser.add_argument("--ease-items", type=int, default=20_000)
    parser.add_argument("--ease-interactions", type=int, default=10_000_000)
    parser.add_argument("--ease-check-users", type=int, default=5_000)
    parser.add_argument("--ease-check-items", type=int, default=2_000)
    parser.add_argument("--skip-encoder", action="store_true", help="no MiniLM part (e.g. without the model pack)")
    parser.add_argument("--compare-ease-cpu", action="store_true",
                        help="EASE fit NumPy vs torch on the CPU in interleaved rounds, nothing else")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes on the CPU: 256 texts, EASE 1,000 items, content 3,000 x 1,500")
    _interleave.add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.texts, args.users, args.items, args.interactions = 256, 3_000, 1_500, 60_000
        args.ease_users, args.ease_items, args.ease_interactions = 3_000, 1_000, 60_000
        args.ease_check_users, args.ease_check_items, args.rounds = 1_000, 300, 2
        args.device = args.device or "cpu"
    if args.child:
        ease_child(args.child, Path(args.outdir), args)
        return 0
    if args.compare_ease_cpu:
        return compare_ease_cpu(args)

    import torch

    from filmrec_toolkit.recommenders.device import resolve_device

    dev = resolve_device(args.device or "auto")
    print(f"bench_gpu.py  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  torch {torch.__version__}  "
          f"device {device_name(dev)}", flush=True)
    on_gpu = dev.type == "cuda"
    if not on_gpu:
        why = (f"--device {args.device} asked" if args.device not in (None, "auto") else
               f"torch {torch.__version__} sees no CUDA device (torch.cuda.is_available() is False)")
        print(f"not run on a GPU: {why}; the same torch code is timed on {dev.type}, so the numbers below are "
              "not judged against the GPU targets.", flush=True)
    summary: list[str] = []
    failed = []
    parts = [("EASE fit", part_ease), ("content top-10", part_content)]
    if args.skip_encoder:
        print("encoder skipped (--skip-encoder)", flush=True)
    else:
        parts.insert(0, ("encoder", part_encoder))
    start = time.perf_counter()
    for name, fn in parts:
        t = time.perf_counter()
        print(f"\n## {name}", flush=True)
        try:
            fn(args, dev, on_gpu, summary)
        except Exception:  # noqa: BLE001 - report and go on to the next part
            failed.append(name)
            print(f"FAILED: {name}\n{traceback.format_exc()}", flush=True)
        print(f"({name}: {time.perf_counter() - t:.1f} s wall)", flush=True)
    print(f"\n## summary on {device_name(dev)} ({time.perf_counter() - start:.0f} s in all)")
    for line in summary:
        print(line)
    if failed:
        print(f"FAILED parts: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
