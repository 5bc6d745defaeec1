"""Embedding speed benchmark on the ml-1m item documents (issue 3, item 8).

Usage::

    .venv/bin/python benchmarks/bench_embed.py [--sample-a 64] [--smollm2-sample 0] [--sets short,overview]

Sets: ``short`` = ``build_item_documents(ml1m)`` (title + genres, 3,706 texts);
``overview`` = the same after ``attach_overviews(ml1m)`` (TMDB plot text for the films it covers).

Methods, all on the same all-MiniLM-L6-v2 folder of the offline pack, each in its own
subprocess so its peak RSS is its own:

(a) the original design's loop: one text per forward pass, no ``no_grad``
    (timed on a random sample of ``--sample-a`` texts and extrapolated: says so in the table);
(b) ``embed_items(ds, TextEncoder(), cache=<empty EmbeddingCache>)``: our full pipeline,
    including hashing and cache writes;
(c) ``sentence_transformers.SentenceTransformer(folder).encode(texts, batch_size=64)``;
(d) the same ``embed_items`` call again: every text hits the cache (``n_encoded`` must be 0).

Threads: every method runs with ``torch.set_num_threads(n)``, n = the cores this process may
use (``len(os.sched_getaffinity(0))``), which is also ``TextEncoder``'s default. Ratios are
measured in the same run; on a shared machine absolute numbers move, ratios less so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _documents(which: str):
    from filmrec_toolkit import attach_overviews, build_item_documents, load_movielens

    ds = load_movielens("ml-1m")
    if which == "overview":
        ds = attach_overviews(ds)
    return ds, build_item_documents(ds)


def child(method: str, sets: list[str], sample_a: int, outdir: Path) -> None:
    import torch

    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(cores)
    from filmrec_toolkit.features import EmbeddingCache, TextEncoder, default_model_path, embed_items

    results = []
    t0 = time.perf_counter()
    if method == "a":
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(default_model_path())
        model = AutoModel.from_pretrained(default_model_path())
    elif method == "c":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(default_model_path()), device="cpu")
    else:
        enc = TextEncoder().fit()
    load_s = time.perf_counter() - t0
    for which in sets:
        ds, docs = _documents(which)
        n_tokens = None
        if method == "a":
            rng = np.random.default_rng(0)
            sample = [docs[i] for i in rng.choice(len(docs), size=min(sample_a, len(docs)), replace=False)]
            t = time.perf_counter()
            for text in sample:  # the original loop: one text per forward pass, autograd on
                inputs = tok(text, return_tensors="pt", truncation=True, max_length=256)
                out = model(**inputs).last_hidden_state.mean(dim=1)
                out.detach().numpy()
            secs = time.perf_counter() - t
            results.append({"set": which, "method": "a", "timed": len(sample), "n": len(docs), "secs": secs,
                            "note": f"sample of {len(sample)}, extrapolated"})
        elif method == "c":
            t = time.perf_counter()
            X = st.encode(docs, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            secs = time.perf_counter() - t
            np.save(outdir / f"c_{which}.npy", X)
            results.append({"set": which, "method": "c", "timed": len(docs), "n": len(docs), "secs": secs, "note": ""})
        else:
            n_tokens = int(sum(len(s) for s in enc.tokenize(docs)))
            cache = EmbeddingCache(Path(tempfile.mkdtemp(dir=outdir)))  # empty cache for each set
            t = time.perf_counter()
            emb = embed_items(ds, encoder=enc, cache=cache, documents=docs)
            secs = time.perf_counter() - t
            np.save(outdir / f"b_{which}.npy", emb.matrix)
            results.append({"set": which, "method": "b", "timed": len(docs), "n": len(docs), "secs": secs,
                            "note": f"n_encoded={emb.meta['n_encoded']}, {n_tokens} tokens"})
            t = time.perf_counter()
            again = embed_items(ds, encoder=enc, cache=cache, documents=docs)
            secs = time.perf_counter() - t
            results.append({"set": which, "method": "d", "timed": len(docs), "n": len(docs), "secs": secs,
                            "note": f"n_encoded={again.meta['n_encoded']}"})
        for r in results:
            r.setdefault("rss", _peak_rss_mib())
    for r in results:
        r["load_s"] = load_s
        r["threads"] = cores
    print("RESULT " + json.dumps(results))


def smollm2_comparison(n_sample: int) -> list[str]:
    """Nearest-neighbour genre agreement on a sample of ml-1m items: MiniLM vs SmolLM2 vs baselines."""
    from filmrec_toolkit import load_movielens
    from filmrec_toolkit.features import GenreEncoder, TextEncoder, TfidfEncoder, build_item_documents

    ds = load_movielens("ml-1m")
    docs = build_item_documents(ds)
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(ds.n_items, size=min(n_sample, ds.n_items), replace=False))
    sub_docs = [docs[i] for i in rows]
    genres = [set(ds.items["genres"].iloc[i]) for i in rows]

    def agreement(X):
        S = X @ X.T
        np.fill_diagonal(S, -np.inf)
        nn = S.argmax(1)
        return float(np.mean([bool(genres[i] & genres[j]) for i, j in enumerate(nn)]))

    lines = [f"Nearest-neighbour genre agreement on {len(rows)} random ml-1m items (title+genres documents; "
             "higher = neighbours share a genre):"]
    encoders = [("genres multi-hot", None), ("tfidf", TfidfEncoder()), ("MiniLM (mean)", TextEncoder()),
                ("SmolLM2-135M (mean, raw)", TextEncoder(model="smollm2-135m", postprocess=None)),
                ("SmolLM2-135M (mean, centred)", TextEncoder(model="smollm2-135m", postprocess="center"))]
    for name, enc in encoders:
        t = time.perf_counter()
        if enc is None:
            X = GenreEncoder().fit(ds).transform([ds.items["genres"].iloc[i] for i in rows])
        else:
            X = enc.fit_transform(sub_docs)
        lines.append(f"  {name:30s} {agreement(X):.3f}   ({time.perf_counter() - t:.1f} s)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample-a", type=int, default=64, help="texts timed for (a), then extrapolated")
    parser.add_argument("--sets", default="short,overview")
    parser.add_argument("--smollm2-sample", type=int, default=0,
                        help="also compare SmolLM2 with MiniLM on N random items (0 = skip; slow on CPU)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--outdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sets = args.sets.split(",")
    if args.child:
        child(args.child, sets, args.sample_a, Path(args.outdir))
        return

    import platform

    import torch

    outdir = Path(tempfile.mkdtemp(prefix="bench_embed-"))
    rows = []
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for method in ("c", "b", "a"):  # (b) next to (c) in time; (d) runs inside (b)'s process, after it
        proc = subprocess.run([sys.executable, __file__, "--child", method, "--sets", args.sets,
                               "--sample-a", str(args.sample_a), "--outdir", str(outdir)],
                              capture_output=True, text=True)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            sys.stderr.write(proc.stderr[-3000:])
            raise SystemExit(f"method {method} failed (exit {proc.returncode})")
        rows.extend(json.loads(line[0][len("RESULT "):]))

    print(f"bench_embed.py  {started}  python {platform.python_version()}  torch {torch.__version__}  "
          f"cores={len(os.sched_getaffinity(0))} (torch threads = cores for every method)  "
          f"load avg at end {os.getloadavg()[0]:.1f}")
    print("Model: all-MiniLM-L6-v2 (offline pack), ml-1m item documents. Model load time excluded from texts/s.")
    header = f"{'set':9s} {'method':36s} {'timed':>6s} {'secs':>8s} {'texts/s':>9s} {'peakRSS MiB':>11s} " \
             f"{'x (a)':>7s} {'x (c)':>7s}  note"
    names = {"a": "(a) original loop, 1 text/pass, grad", "b": "(b) TextEncoder via embed_items",
             "c": "(c) sentence-transformers encode", "d": "(d) embed_items again (cache hit)"}
    for which in sets:
        print()
        print(header)
        rate = {r["method"]: r["timed"] / r["secs"] for r in rows if r["set"] == which}
        for m in "abcd":
            r = next(x for x in rows if x["set"] == which and x["method"] == m)
            tps = rate[m]
            print(f"{which:9s} {names[m]:36s} {r['timed']:6d} {r['secs']:8.2f} {tps:9.1f} {r['rss']:11.0f} "
                  f"{tps / rate['a']:7.2f} {tps / rate['c']:7.2f}  {r['note']}")
        b = np.load(outdir / f"b_{which}.npy")
        c = np.load(outdir / f"c_{which}.npy")
        print(f"{which}: (b) vs (c) vectors: max |diff| = {np.abs(b - c).max():.2e}, "
              f"min cosine = {float((b * c).sum(1).min()):.6f}")
        print(f"{which}: TARGETS (b) >= 1.0x (c): {rate['b'] / rate['c']:.2f}x; (b) >= 2.5x (a): "
              f"{rate['b'] / rate['a']:.2f}x; (d) encodes zero texts: "
              f"{next(x for x in rows if x['set'] == which and x['method'] == 'd')['note']}")
    if args.smollm2_sample:
        print()
        for line in smollm2_comparison(args.smollm2_sample):
            print(line)


if __name__ == "__main__":
    main()
