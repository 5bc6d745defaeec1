"""Where int8 error comes from in all-MiniLM-L6-v2: fake-quantised torch layers vs float32 (issue 15).

Usage::

    .venv/bin/python benchmarks/int8_error_sources.py [--dataset ml-1m] [--limit N]

Every Linear layer of the transformer gets its input and/or weight rounded to int8 levels
in float arithmetic (no int8 kernel, so no kernel effects such as int16 saturation), one
factor at a time, and the item documents' vectors are compared with float32: minimum cosine
and nearest-neighbour overlap@10 (as ``bench_embed.py --quality``). Rows:

* weights per output channel (8 and 7 bits), activations float32;
* activations with one scale per tensor (ONNX Runtime ``quantize_dynamic``'s choice), per token
  (the package's recipe), per token with the [CLS] row kept apart, symmetric per token;
* both together, as ``TextEncoder(quantize="int8")`` runs them (7-bit weights, per token).

It also prints the median largest |activation| of the [CLS] token and of the other tokens at
each layer's inputs, the reason one scale per tensor fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def weights(W, bits: int):
    top = 2 ** (bits - 1) - 1
    s = W.abs().amax(1, keepdim=True).clamp(min=1e-12) / top  # torch Linear weight: (out, in)
    return (W / s).round().clamp(-top, top) * s


def per_tensor(x):
    import torch

    lo, hi = torch.clamp(x.min(), max=0), torch.clamp(x.max(), min=0)
    s = ((hi - lo) / 255).clamp(min=1e-12)
    zp = (-lo / s).round()
    return ((x / s).round() + zp).clamp(0, 255).sub(zp) * s


def per_token(x):
    lo, hi = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    s, mid = ((hi - lo) / 255).clamp(min=1e-8), (hi + lo) / 2
    return ((x - mid) / s).round().clamp(-128, 127) * s + mid


def per_token_symmetric(x):
    s = (x.abs().amax(-1, keepdim=True) / 127).clamp(min=1e-8)
    return (x / s).round().clamp(-128, 127) * s


def cls_apart(x):
    import torch

    return torch.cat([per_tensor(x[:, :1]), per_tensor(x[:, 1:])], dim=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of N documents")
    args = parser.parse_args(argv)

    import torch
    from bench_embed import min_cosine, neighbour_overlap

    from filmrec_toolkit import build_item_documents, load_movielens
    from filmrec_toolkit.features import TextEncoder

    docs = build_item_documents(load_movielens(args.dataset))
    if args.limit and args.limit < len(docs):
        keep = np.sort(np.random.default_rng(0).choice(len(docs), size=args.limit, replace=False))
        docs = [docs[i] for i in keep]
    enc = TextEncoder(device="cpu").fit()
    ref = enc.transform(docs)
    linears = {name: m for name, m in enc.model_.named_modules()
               if isinstance(m, torch.nn.Linear) and "encoder.layer" in name}
    original = {name: m.weight.data.clone() for name, m in linears.items()}

    # the activations at the layers' inputs: [CLS] vs the other tokens
    seen: dict[str, torch.Tensor] = {}
    hooks = [m.register_forward_pre_hook(lambda mod, inp, name=name: seen.__setitem__(name, inp[0].detach()))
             for name, m in linears.items()]
    batch = enc.tokenizer_(docs[:64], padding=True, return_tensors="pt")
    with torch.no_grad():
        enc.model_(**batch)
    for h in hooks:
        h.remove()
    real = batch["attention_mask"].bool().clone()
    real[:, 0] = False
    print(f"all-MiniLM-L6-v2 on {len(docs):,} {args.dataset} documents (title + genres)\n")
    print("median over 64 documents of the largest |activation| per token at each layer input")
    print(f"{'layer input':48s} {'[CLS]':>7s} {'others':>7s}")
    for name, x in seen.items():
        amax = x.abs().amax(-1)
        print(f"{name:48s} {amax[:, 0].median():7.2f} {amax[real].median():7.2f}")

    rows = [("float32", None, None), ("weights 8-bit, per channel", 8, None), ("weights 7-bit, per channel", 7, None),
            ("activations per tensor", None, per_tensor), ("activations per tensor, [CLS] apart", None, cls_apart),
            ("activations per token, symmetric", None, per_token_symmetric),
            ("activations per token", None, per_token), ("weights 8-bit + activations per tensor", 8, per_tensor),
            ("weights 7-bit + activations per token", 7, per_token)]
    print(f"\n{'fake-quantised':42s} {'min cos':>8s} {'overlap@10':>10s}")
    for label, bits, act in rows:
        for name, m in linears.items():
            m.weight.data = weights(original[name], bits) if bits else original[name].clone()
        hooks = [m.register_forward_pre_hook(lambda mod, inp, f=act: (f(inp[0]),)) for m in linears.values()] if act else []
        out = enc.transform(docs)
        for h in hooks:
            h.remove()
        print(f"{label:42s} {min_cosine(ref, out):8.4f} {neighbour_overlap(ref, out):10.3f}")
    for name, m in linears.items():
        m.weight.data = original[name]
    return 0


if __name__ == "__main__":
    sys.exit(main())
