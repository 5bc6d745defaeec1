"""Embedding speed on the ml-1m item documents, in interleaved rounds (issues 3 and 15).

Usage::

    .venv/bin/python benchmarks/bench_embed.py [--rounds 5] [--sets short,overview] [--limit N]
    .venv/bin/python benchmarks/bench_embed.py --quality [--variants int8,onnx8a]  # vs float32, every ml-1m document
    .venv/bin/python benchmarks/bench_embed.py --quick        # smoke test: tiny sizes, both backends, checks agreement

Sets: ``short`` = ``build_item_documents(ml1m)`` (title + genres, 3,706 texts);
``overview`` = the same after ``attach_overviews(ml1m)`` (TMDB plot text where covered).
``--limit N`` times a seeded random sample of N documents of each set (says so).

Methods, all on the all-MiniLM-L6-v2 folder of the offline pack, each run in its own
subprocess (peak RSS is its own), in rotated rounds (``--methods``, default ``st enc onnx int8a onnx8a``):

``st``     sentence-transformers ``SentenceTransformer(folder).encode(texts, batch_size=64)`` (float32; the baseline);
``enc``    ``TextEncoder()`` through an empty ``EmbeddingCache`` (what ``embed_items`` runs: hashing and
           cache writes included); the same call again must return the same vectors from the cache (checked);
``int8`` / ``int8a`` / ``int8f``  ``TextEncoder(quantize="int8" | "int8-attention" | "int8-ffn-out-fp32")``
           (torch dynamic int8, per-channel weights, full-range activations);
``onnx``   ``TextEncoder(backend="onnx")`` (ONNX Runtime, float32 graph exported once into the data home);
``onnx8`` / ``onnx8a`` / ``onnx8f``  the same with ``quantize=...`` (the package's recipe: activations scaled per
           token, 7-bit weights per channel, one single-threaded session per core);
``onnx8t`` / ``onnx8at``  ``"int8"`` / ``"int8-attention"`` with one activation scale per tensor (ONNX Runtime
           ``quantize_dynamic``, the recipe before format 2); ``onnx8_1s``: ``onnx8`` on one multi-threaded session;
``onnxf*`` / ``*_s0`` / ``onnx8a_plain``  explicit graph and session variants (see ``VARIANTS``);
``loop``   the original design's loop, one text per forward pass with autograd on (timed on
           ``--sample-a`` texts and extrapolated to the set).

Threads: every method uses ``torch.set_num_threads(n)``, n = the cores this process may use.
Every timed method first encodes 8 texts untimed (one-off kernel set-up; ``loop`` excepted).
Ratios are per round (st time / method time) and judged on their median (see ``_interleave``).

``--quality`` (in-process, all 3,706 short documents, vectors cached in the data home):
minimum and 1st-percentile cosine of each variant's vectors to torch float32, nearest-neighbour
overlap@10 (|top-10 neighbours fp32 ∩ int8| / 10, averaged over items), NDCG@10 of
``ContentRecommender`` on an ml-1m stratified split with each set of vectors and, where
the package has it, the cold-item NDCG@10 of ``ContentToCF``, paired over the same users
(Wilcoxon signed-rank).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _interleave  # noqa: E402

#: Timed TextEncoder variants: method -> constructor arguments.
VARIANTS = {
    "int8": {"backend": "torch", "quantize": "int8"},
    "int8a": {"backend": "torch", "quantize": "int8-attention"},
    "int8f": {"backend": "torch", "quantize": "int8-ffn-out-fp32"},
    "onnx": {"backend": "onnx"},
    "onnx8": {"backend": "onnx", "quantize": "int8"},
    "onnx8a": {"backend": "onnx", "quantize": "int8-attention"},
    "onnx8f": {"backend": "onnx", "quantize": "int8-ffn-out-fp32"},
    # the per-tensor recipe (ONNX Runtime quantize_dynamic; the package's until format 2), one session
    "onnx8t": {"backend": "onnx", "quantize": "int8", "_per_tensor": True, "_spinning": False},
    "onnx8at": {"backend": "onnx", "quantize": "int8-attention", "_per_tensor": True, "_spinning": False},
    # the per-token recipe on one 2-thread session instead of one single-thread session per core
    "onnx8_1s": {"backend": "onnx", "quantize": "int8", "_sessions": 1},
    # explicit graph / session variants, whatever the defaults are: "f" = ONNX Runtime's BERT
    # fusion (Attention -> QAttention, EmbedLayerNormalization, SkipLayerNormalization, BiasGelu)
    # before quantisation; "_s0" = intra-op threads sleep instead of busy-waiting; "_plain" =
    # unfused graph with spinning threads (the recipe before issue 15's fusion)
    "onnxf": {"backend": "onnx", "_fused": True, "_spinning": True},
    "onnxf8": {"backend": "onnx", "quantize": "int8", "_fused": True, "_spinning": True},
    "onnxf8a": {"backend": "onnx", "quantize": "int8-attention", "_fused": True, "_spinning": True},
    "onnxf8f": {"backend": "onnx", "quantize": "int8-ffn-out-fp32", "_fused": True, "_spinning": True},
    "onnx8a_plain": {"backend": "onnx", "quantize": "int8-attention", "_fused": False, "_spinning": True},
    "onnx8a_s0": {"backend": "onnx", "quantize": "int8-attention", "_fused": False, "_spinning": False},
    "onnxf8a_s0": {"backend": "onnx", "quantize": "int8-attention", "_fused": True, "_spinning": False},
}
NAMES = {"st": "st: sentence-transformers fp32", "enc": "enc: TextEncoder fp32 (embed_items)",
         "int8": "int8: torch quantize='int8'", "int8a": "int8a: torch 'int8-attention'",
         "int8f": "int8f: torch 'int8-ffn-out-fp32'", "onnx": "onnx: ORT fp32",
         "onnx8": "onnx8: ORT 'int8'", "onnx8a": "onnx8a: ORT 'int8-attention'",
         "onnx8f": "onnx8f: ORT 'int8-ffn-out-fp32'", "onnx8t": "onnx8t: ORT 'int8' per tensor",
         "onnx8at": "onnx8at: ORT 'int8-attention' per tensor", "onnx8_1s": "onnx8_1s: onnx8, one session", "onnxf": "onnxf: ORT fp32 fused",
         "onnxf8": "onnxf8: ORT fused 'int8'", "onnxf8a": "onnxf8a: ORT fused 'int8-attention'",
         "onnxf8f": "onnxf8f: ORT fused 'int8-ffn-out-fp32'", "onnx8a_s0": "onnx8a_s0: onnx8a, no spinning",
         "onnxf8a_s0": "onnxf8a_s0: onnxf8a, no spinning", "onnx8a_plain": "onnx8a_plain: unfused, spinning",
         "loop": "loop: 1 text/pass, grad (extrapol.)"}


def _variant_encoder(method: str):
    """The fitted ``TextEncoder`` of a variant; ``_fused`` / ``_spinning`` rebuild its ONNX Runtime session."""
    from filmrec_toolkit._config import get_data_home
    from filmrec_toolkit.features import TextEncoder, onnx_backend

    spec = VARIANTS[method]
    enc = TextEncoder(**{k: v for k, v in spec.items() if not k.startswith("_")}).fit()
    if "_fused" in spec or "_per_tensor" in spec:
        fused, spinning, per_tensor = spec.get("_fused", False), spec["_spinning"], spec.get("_per_tensor", False)
        name = Path(str(enc.model_id_)).name
        path = onnx_backend._build_onnx_model(enc.model_, get_data_home(), name, enc.fingerprint_, enc.quantize_,
                                              fused=fused, per_tensor=per_tensor)
        record = onnx_backend._onnx_paths(get_data_home(), name, enc.fingerprint_, enc.quantize_, fused,
                                          per_tensor)[1]
        enc.session_ = onnx_backend._load_onnx_session(path, record, enc.fingerprint_, enc.quantize_,
                                                       enc._threads(), fused=fused, spinning=spinning,
                                                       per_tensor=per_tensor)
        enc.sessions_ = [enc.session_]
        enc.onnx_path_ = path
    elif "_sessions" in spec:  # the package's int8 file on one session with every core
        name = Path(str(enc.model_id_)).name
        record = onnx_backend._onnx_paths(get_data_home(), name, enc.fingerprint_, enc.quantize_)[1]
        enc.session_ = onnx_backend._load_onnx_session(enc.onnx_path_, record, enc.fingerprint_, enc.quantize_,
                                                       enc._threads(), spinning=False)
        enc.sessions_ = [enc.session_]
    return enc


def _documents(dataset: str, which: str, limit: int | None):
    from filmrec_toolkit import attach_overviews, build_item_documents, load_movielens

    ds = load_movielens(dataset)
    if which == "overview":
        ds = attach_overviews(ds)
    docs = build_item_documents(ds)
    if limit and limit < len(docs):
        keep = np.sort(np.random.default_rng(0).choice(len(docs), size=limit, replace=False))
        docs = [docs[i] for i in keep]
    return ds, docs


def child(method: str, outdir: Path, args) -> None:
    import torch

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    from filmrec_toolkit.features import EmbeddingCache, TextEncoder, default_model_path

    _, docs = _documents(args.dataset, args.set, args.limit)
    extra = {"n": len(docs)}
    if method == "st":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(default_model_path()), device="cpu")
        st.encode(docs[:8], batch_size=64)  # like every method: the first call pays one-off kernel set-up
        t = time.perf_counter()
        X = st.encode(docs, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        secs = time.perf_counter() - t
    elif method == "enc":
        enc = TextEncoder().fit()
        enc.transform(docs[:8])  # warm-up, outside the cache
        cache = EmbeddingCache(Path(tempfile.mkdtemp(dir=outdir)))  # empty: every text is encoded and written
        t = time.perf_counter()
        X = enc.finalize(cache.encode(enc, docs))
        secs = time.perf_counter() - t
        t = time.perf_counter()
        again = enc.finalize(cache.encode(enc, docs))
        extra["cache_hit_secs"] = time.perf_counter() - t
        extra["cache_hit_identical"] = bool(np.array_equal(again, X)) and cache.last_stats_["n_encoded"] == 0
    elif method in VARIANTS:
        enc = _variant_encoder(method)  # backend="onnx": exported once into the data home
        enc.transform(docs[:8])  # first call pays one-off kernel set-up
        t = time.perf_counter()
        X = enc.transform(docs)
        secs = time.perf_counter() - t
    elif method == "loop":
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(default_model_path())
        model = AutoModel.from_pretrained(default_model_path())
        rng = np.random.default_rng(0)
        sample = [docs[i] for i in rng.choice(len(docs), size=min(args.sample_a, len(docs)), replace=False)]
        t = time.perf_counter()
        for text in sample:  # the original loop: one text per forward pass, autograd on
            inputs = tok(text, return_tensors="pt", truncation=True, max_length=256)
            model(**inputs).last_hidden_state.mean(dim=1).detach().numpy()
        secs = (time.perf_counter() - t) / len(sample) * len(docs)
        X = None
        extra["note"] = f"{len(sample)} texts timed, extrapolated"
    else:
        raise SystemExit(f"unknown method {method!r}")
    if X is not None and args.round == 0:
        np.save(outdir / f"{method}.npy", np.asarray(X, dtype=np.float32))
    _interleave.report(secs, **extra)


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest row-wise cosine between two sets of vectors of the same texts."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(1).min())


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10, block: int = 1024) -> float:
    """Mean |top-k cosine neighbours under a ∩ under b| / k over all rows (self excluded)."""
    from filmrec_toolkit._topk import topk

    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    total = 0.0
    for s in range(0, len(a), block):
        rows = np.arange(s, min(s + block, len(a)))
        sa, sb = a[rows] @ a.T, b[rows] @ b.T
        sa[np.arange(len(rows)), rows] = -np.inf
        sb[np.arange(len(rows)), rows] = -np.inf
        na, nb = topk(sa, k)[0], topk(sb, k)[0]
        total += sum(len(set(x) & set(y)) for x, y in zip(na.tolist(), nb.tolist()))
    return total / (len(a) * k)


def quality(dataset: str, methods: list[str]) -> None:
    """Variants vs float32 on every document of ``dataset``: cosine, neighbour overlap, downstream NDCG@10."""
    from scipy.stats import wilcoxon

    import filmrec_toolkit as ft

    ds = ft.load_movielens(dataset)
    vecs = {"fp32": ft.embed_items(ds)}
    for m in methods:  # private options are not in the cache key: those variants are not cached
        private = any(k.startswith("_") for k in VARIANTS[m])
        vecs[m] = ft.embed_items(ds, encoder=_variant_encoder(m), cache=False if private else True)
    train, test = ft.stratified_split(ds, 0.8, random_state=0)
    per_user = {}
    for name, emb in vecs.items():
        res = ft.evaluate(ft.ContentRecommender(emb), train, test, k=10)
        per_user[name] = res.per_user.set_index("user_id")["ndcg@10"]
    print(f"\n## variants vs torch float32 on all {ds.n_items:,} {dataset} documents (title + genres)")
    for m in methods:
        print(f"  {m}: TextEncoder({', '.join(f'{k}={v!r}' for k, v in VARIANTS[m].items())})")
    print(f"{'vectors':16s} {'min cos':>8s} {'p1 cos':>8s} {'overlap@10':>10s} {'NDCG@10':>8s} {'vs fp32':>8s} "
          f"{'Wilcoxon p':>10s}")
    a = vecs["fp32"].matrix
    for name, emb in vecs.items():
        b = emb.matrix
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        nd = per_user[name]
        base = per_user["fp32"].loc[nd.index]
        p = float("nan") if name == "fp32" else float(wilcoxon(nd, base, zero_method="zsplit").pvalue)
        print(f"{name:16s} {cos.min():8.4f} {np.percentile(cos, 1):8.4f} {neighbour_overlap(a, b):10.3f} "
              f"{nd.mean():8.4f} {nd.mean() / base.mean() - 1:+8.2%} {p:10.3g}")
    if hasattr(ft, "ContentToCF") and hasattr(ft, "cold_item_split"):  # the LM issue's cold-start model
        train, test = ft.cold_item_split(ds, item_share=0.2, random_state=0)
        cold = {}
        for name, emb in vecs.items():
            res = ft.evaluate(ft.ContentToCF(emb, random_state=0), train, test, k=10, candidates="test")
            cold[name] = res.per_user.set_index("user_id")["ndcg@10"]
        print("\nContentToCF cold-item NDCG@10 (cold_item_split item_share=0.2, seed 0; held-out items ranked)")
        for name, nd in cold.items():
            base = cold["fp32"].loc[nd.index]
            p = float("nan") if name == "fp32" else float(wilcoxon(nd, base, zero_method="zsplit").pvalue)
            print(f"{name:16s} NDCG@10 {nd.mean():.4f}  vs fp32 {nd.mean() / base.mean() - 1:+.2%}  Wilcoxon p {p:.3g}")
    else:
        print("ContentToCF not available in this checkout: cold-start NDCG not measured")
    print("targets: min cos >= .99, overlap@10 >= .9, cold-start NDCG within 2 % of fp32")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sets", default="short,overview")
    parser.add_argument("--set", default="short", help=argparse.SUPPRESS)
    parser.add_argument("--methods", default="st,enc,onnx,int8a,onnx8a")
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--limit", type=int, default=None, help="time a seeded sample of N documents per set")
    parser.add_argument("--sample-a", type=int, default=64, help="texts timed for the loop, then extrapolated")
    parser.add_argument("--quality", action="store_true", help="variants vs float32 quality table only")
    parser.add_argument("--variants", default="int8,int8a,onnx8,onnx8a",
                        help=f"--quality: variants compared with float32, of {sorted(VARIANTS)}")
    parser.add_argument("--quick", action="store_true", help="smoke test: ml-100k, 40 texts, 2 rounds, no loop")
    _interleave.add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.outdir), args)
        return 0
    if args.quality:
        quality(args.dataset, args.variants.split(","))
        return 0
    if args.quick:
        args.dataset, args.limit, args.rounds, args.sets, args.methods = "ml-100k", 40, 2, "short", "st,enc,int8,onnx8a"

    import platform

    import torch

    print(f"bench_embed.py  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  python "
          f"{platform.python_version()}  torch {torch.__version__}  cores={len(os.sched_getaffinity(0))}  "
          f"dataset {args.dataset}{f', sample of {args.limit} documents per set' if args.limit else ''}")
    methods = args.methods.split(",")
    ok = True
    for which in args.sets.split(","):
        outdir = Path(tempfile.mkdtemp(prefix="bench_embed-"))
        fwd = ["--dataset", args.dataset, "--set", which, "--sample-a", str(args.sample_a)]
        if args.limit:
            fwd += ["--limit", str(args.limit)]
        results = _interleave.run_rounds(__file__, methods, "st", args.rounds, fwd, outdir,
                                         label=f"set {which!r}", names=NAMES)
        st = np.load(outdir / "st.npy")
        for m in methods:
            if m in ("st", "loop"):
                continue
            X = np.load(outdir / f"{m}.npy")
            cos = min_cosine(st, X)
            floor = 0.999 if m in ("enc", "onnx") else 0.8  # int8 is checked for quality by --quality
            ok &= cos >= floor
            print(f"{which}: {m} vs st vectors: min cosine {cos:.5f} ({'agree' if cos >= floor else 'DISAGREE'}, "
                  f"floor {floor})")
        hits = [r for r in results if r["method"] == "enc"]
        if hits:
            ok &= all(r["cache_hit_identical"] for r in hits)
            print(f"{which}: enc again through the cache: identical vectors in every round: "
                  f"{all(r['cache_hit_identical'] for r in hits)}; median {np.median([r['cache_hit_secs'] for r in hits]):.3f} s")
        if "enc" in methods:
            print(f"{which}: TARGET enc >= 1.0x st (median): {_interleave.median_ratio(results, 'enc'):.2f}x")
        if "onnx" in methods:
            print(f"{which}: onnx (ORT fp32) vs st (median): {_interleave.median_ratio(results, 'onnx'):.2f}x")
        for m in methods:
            if which == "short" and m in VARIANTS and "quantize" in VARIANTS[m]:
                print(f"{which}: TARGET {m} >= 2.0x st fp32 (median): {_interleave.median_ratio(results, m):.2f}x")
    print("paths agree" if ok else "PATHS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
