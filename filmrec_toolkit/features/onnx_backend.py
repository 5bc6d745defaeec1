"""ONNX Runtime backend of :class:`~filmrec_toolkit.features.TextEncoder` (``backend="onnx"``).

The transformer is exported at run time from the local model folder (``torch.onnx.export``,
nothing is downloaded), optionally int8-quantised (:func:`_per_token_int8`: 7-bit weights per
output channel, 8-bit activations with one scale per token), and cached in the data home
under ``onnx/<model>-<fingerprint>-v<format>/``, keyed by the model fingerprint, the
quantisation mode and the format version. Each ``.onnx`` file has a ``.json``
record next to it (written by :func:`_build_onnx_model`: sha256 of the file, model
fingerprint, mode, versions); :func:`_load_onnx_session` refuses any file whose bytes or
record do not match, so a file not produced here is never run. An ONNX file is a protobuf
graph of standard operators (no pickled code); the loader also refuses operators outside
the standard ``ai.onnx`` and ONNX Runtime's ``com.microsoft`` domains, and never registers
custom-operator libraries.

How the int8 recipe was chosen (``benchmarks/bench_embed.py`` on ml-1m, 2 cores, AVX2 without
VNNI; quality = min cosine / neighbour overlap@10 / ContentToCF cold-item NDCG@10 vs torch
float32 on all 3,706 documents, targets >= .99 / >= .9 / within 2 %; speed = median ratio to
sentence-transformers float32 on 1,000 short documents, interleaved rounds, target >= 2):

* torch's dynamic int8 Linear: activations quantised to 7 bits (``reduce_range=True``,
  hard-coded), .947 / .642 / -3.3 %; 1.55-1.63x.
* ONNX Runtime ``quantize_dynamic`` (format 1; still built with ``per_tensor=True`` for the
  benchmark): one activation scale per tensor, .985 / .795 / -2.9 %; 1.67-2.04x in this
  session's runs. Neither ONNX Runtime's BERT fusion (``fused=True``) nor keeping the
  feed-forward layers in float32 reached both targets.
  Where the error comes from (``benchmarks/int8_error_sources.py``: fake-quantised torch layers,
  min cosine / overlap@10): 8-bit weights alone .999 / .969; activations per tensor .987 / .801;
  per token .999 / .934. At most query/key/value and feed-forward inputs the [CLS] token's
  largest activation is 2-9x the other tokens', and one scale per tensor leaves the other
  tokens few levels. SmoothQuant-style per-channel rescaling (calibrated on ml-100k documents;
  an exploratory script, not kept) made it worse (.940 / .694): the outliers are per token,
  not per channel.
* per token (format 2, :func:`_per_token_int8`): ``.996 / .917 / -0.4 %``; 2.24-2.31x (medians
  of three runs; 1.97-2.22x in three earlier runs with batches of 64 texts instead of 32) with
  one single-threaded session per core encoding different batches (one
  2-thread session was slower, 1.81x vs 2.16x in one run: the per-token steps are small
  operators that mostly run on one thread). 8-bit weights were worse (.946 / .827): x86
  u8 x s8 kernels without VNNI add pairs of products in int16 (``vpmaddubsw``), which
  saturates with full-range per-token activations; 7-bit weights (``255 * 63 * 2 < 32767``)
  do not, and the clipping ratio of each column is searched. A text's vector does not depend
  on its batch mates (each token is quantised alone). ONNX Runtime's ``MatMulNBits`` (8-bit
  blocks of 32, int8 compute; exploratory) was as accurate (.999 / .962) but slower than
  float32 on this CPU.

Sessions are made with ``session.intra_op.allow_spinning=0`` (idle threads sleep; same
vectors, faster on a shared, loaded machine).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .._io import atomic_write_text, sha256_file

logger = logging.getLogger(__name__)

#: Bump when the export or quantisation recipe changes: old cached files are then rebuilt.
ONNX_FORMAT_VERSION = 2  # 2: int8 activations scaled per token on plain graphs (was per tensor)

#: ``quantize`` modes of the ONNX backend -> ``MatMul`` nodes kept in float32 (name patterns
#: of the exported graph). ``None`` = float32 model.
ONNX_QUANTIZE_EXCLUDE = {
    None: None,
    "int8": (),
    # every MatMul except the feed-forward down-projection (``layer.N.output.dense``), whose
    # input (after GELU) has the widest activation range and the largest int8 error
    "int8-ffn-out-fp32": (r"/layer\.\d+/output/dense/",),
    "int8-attention": (r"/layer\.\d+/intermediate/", r"/layer\.\d+/output/dense/"),
}

_ALLOWED_DOMAINS = {"", "ai.onnx", "com.microsoft", "ai.onnx.ml"}


def _versions() -> dict:
    import onnx
    import onnxruntime
    import torch

    return {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


def _onnx_paths(cache_dir: Path, model_name: str, fingerprint: str, quantize: str | None,
                fused: bool = False, per_tensor: bool = False) -> tuple[Path, Path]:
    """``(model.onnx, record.json)`` for one model fingerprint, quantisation mode and graph kind."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("_")[-60:] or "model"
    folder = Path(cache_dir) / "onnx" / f"{safe}-{fingerprint}-v{ONNX_FORMAT_VERSION}"
    stem = (quantize or "fp32") + ("-fused" if fused else "-per-tensor" if per_tensor and quantize else "")
    return folder / f"{stem}.onnx", folder / f"{stem}.json"


def _expected_record(fingerprint: str, quantize: str | None, fused: bool = False, per_tensor: bool = False) -> dict:
    fuse = {"fused": True} if fused else {}  # plain graphs keep the records written before fusion existed
    scales = {"activation_scales": "per tensor" if fused or per_tensor else "per token"} if quantize else {}
    return {"producer": "filmrec_toolkit", "format": ONNX_FORMAT_VERSION, "fingerprint": fingerprint,
            "quantize": quantize, **fuse, **scales, **_versions()}


def _verify_onnx_file(path: Path, record_path: Path, fingerprint: str, quantize: str | None,
                      fused: bool = False, per_tensor: bool = False) -> str | None:
    """Why ``path`` may not be loaded (``None`` when it is ours and intact).

    Checks that the record exists, names this model fingerprint, mode, format and library
    versions, and that the file's sha256 equals the recorded one.
    """
    if not path.is_file():
        return "no exported file"
    if not record_path.is_file():
        return f"no record {record_path.name} next to it (not produced by filmrec_toolkit)"
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as err:
        return f"unreadable record {record_path.name} ({type(err).__name__})"
    if bool(record.get("fused", False)) != fused:
        return f"record {record_path.name} has fused={record.get('fused', False)!r}, expected {fused!r}"
    expected = _expected_record(fingerprint, quantize, fused, per_tensor)
    for key, value in expected.items():
        if record.get(key) != value:
            return f"record {record_path.name} has {key}={record.get(key)!r}, expected {value!r}"
    digest = sha256_file(path)
    if record.get("sha256") != digest:
        return f"sha256 {digest[:12]}... differs from the recorded {str(record.get('sha256'))[:12]}... (file changed)"
    return None


def _export_fp32(model, dst: Path, opset: int = 17, eager: bool = False) -> None:
    """``torch.onnx.export`` of ``model(input_ids, attention_mask) -> last_hidden_state`` with dynamic axes.

    ``eager=True`` exports the eager (matmul-softmax-matmul) attention instead of the
    scaled-dot-product one, the pattern ONNX Runtime's transformer optimiser fuses.
    """
    import torch

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]

    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    previous = getattr(model.config, "_attn_implementation", None)
    if eager and previous not in (None, "eager"):
        model.set_attn_implementation("eager")
    try:
        _torch_export(model, _Wrapper, ids, mask, dst, opset)
    finally:
        if eager and previous not in (None, "eager"):
            model.set_attn_implementation(previous)


def _torch_export(model, wrapper, ids, mask, dst: Path, opset: int) -> None:
    import warnings

    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper(model).eval(), (ids, mask), str(dst), dynamo=False, opset_version=opset,
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "hidden": {0: "batch", 1: "seq"}})


def _fuse(src: Path, dst: Path, config) -> None:
    """ONNX Runtime's BERT graph fusion (Attention, EmbedLayerNormalization, SkipLayerNormalization, BiasGelu)."""
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(str(src), model_type="bert", num_heads=int(config.num_attention_heads),
                         hidden_size=int(config.hidden_size), opt_level=1, use_gpu=False)
    opt.save_model_to_file(str(dst))
    ops = [n.op_type for n in onnx.load(str(dst), load_external_data=False).graph.node]
    n_layers = int(config.num_hidden_layers)
    if ops.count("Attention") != n_layers:
        raise ValueError(f"the transformer optimiser fused {ops.count('Attention')} Attention nodes, expected "
                         f"{n_layers} (one per layer); use the plain graph (fused=False) for this model.")


def _quantize(src: Path, dst: Path, quantize: str, per_tensor: bool = False) -> None:
    """Int8 quantisation of the MatMul weights of ``src`` named by ``quantize`` (minus excluded nodes).

    ``per_tensor=False`` (plain graphs, the recipe ``TextEncoder`` uses): :func:`_per_token_int8`.
    ``per_tensor=True`` (fused graphs, and the per-tensor recipe of ``ONNX_FORMAT_VERSION`` 1,
    kept for ``benchmarks/bench_embed.py``): ONNX Runtime's ``quantize_dynamic``, per-channel
    int8 weights and one activation scale per tensor; on a fused graph the ``Attention`` nodes
    (query, key and value in one weight) become ``QAttention``.
    """
    import onnx

    patterns = ONNX_QUANTIZE_EXCLUDE[quantize]
    model = onnx.load(str(src), load_external_data=False)
    exclude = [n.name for n in model.graph.node
               if n.op_type == "MatMul" and any(re.search(p, n.name) for p in patterns)]
    if not per_tensor:
        onnx.save(_per_token_int8(model, exclude), str(dst))
        return
    from onnxruntime.quantization import QuantType, quantize_dynamic

    hint = _DropRecord("pre-processing before quantization")  # onnxruntime's generic advice, on the root logger
    logging.getLogger().addFilter(hint)
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=exclude,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().removeFilter(hint)


#: Weight bits of the per-token recipe: 7, so that ``255 * 63 * 2`` fits the int16 pair sums of
#: the u8 x s8 kernels of x86 CPUs without VNNI (``vpmaddubsw`` saturates with 8-bit weights).
PER_TOKEN_WEIGHT_BITS = 7
#: Clipping ratios tried per weight column (the one with the least squared error is kept).
_CLIP_RATIOS = np.linspace(0.6, 1.0, 17)


def quantize_weight_columns(W: np.ndarray, bits: int = PER_TOKEN_WEIGHT_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-column integer weights: ``(Wq int8 (k, m), scale float32 (m,))``, ``W ~ Wq * scale``.

    Each column's scale is ``max|w| * r / (2**(bits-1) - 1)`` with the clipping ratio ``r`` (of
    ``_CLIP_RATIOS``) that gives that column the least squared rounding error.
    """
    W = np.asarray(W, dtype=np.float64)
    top = 2 ** (bits - 1) - 1
    amax = np.maximum(np.abs(W).max(axis=0), 1e-12)
    best_scale, best_err = amax / top, np.full(W.shape[1], np.inf)
    for r in _CLIP_RATIOS:
        scale = amax * r / top
        err = ((np.clip(np.round(W / scale), -top, top) * scale - W) ** 2).sum(axis=0)
        better = err < best_err
        best_err, best_scale = np.where(better, err, best_err), np.where(better, scale, best_scale)
    Wq = np.clip(np.round(W / best_scale), -top, top).astype(np.int8)
    return Wq, best_scale.astype(np.float32)


def _per_token_int8(model, exclude: list[str]):
    """The graph with every MatMul by a constant 2-D weight (not in ``exclude``) in int8, activations per token.

    For an activation ``X`` (``(..., k)``, viewed as ``(n, k)``) and a weight ``W`` (``(k, m)``),
    each row (token) gets its own uint8 grid: ``s = (max - min) / 255``,
    ``z = clip(round(-min / s), 0, 255)``, ``q = QuantizeLinear(X, s, z, axis=0)``, so
    ``X ~ s * (q - z)``. With ``Wq, w_scale`` from :func:`quantize_weight_columns` and
    ``c = colsum(Wq * w_scale)``:
    ``X @ W + b ~ MatMulIntegerToFloat(q, Wq, s, w_scale, 128) + [s * (128 - z), 1] @ [c; b]``,
    the last term one ``Gemm`` that also adds the bias of the ``Add`` that followed the MatMul
    (that ``Add`` is removed). ``s`` of shape ``(n, 1)`` scales the rows inside
    ``MatMulIntegerToFloat`` where this ONNX Runtime does so (:func:`_row_scales_supported`), a
    ``Mul`` after it otherwise. MatMuls reading the same activation (query, key, value) share
    one quantised copy of it.
    Why per token: at most query/key/value and feed-forward inputs of all-MiniLM-L6-v2 the [CLS]
    token's largest activation is 2-9x the other tokens', so one scale per tensor
    (``quantize_dynamic``) leaves the other tokens few levels (ml-1m documents: neighbour
    overlap@10 .795 vs .917 per token; ``benchmarks/bench_embed.py --quality``). Standard operators
    plus ONNX Runtime's ``com.microsoft.MatMulIntegerToFloat``.
    """
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    floats = {i.name: i for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    weights = {name: i for name, i in floats.items() if len(i.dims) == 2}
    groups: dict[str, list] = {}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
        if node.op_type == "MatMul" and node.input[1] in weights and node.name not in exclude:
            groups.setdefault(node.input[0], []).append(node)
    if not groups:
        raise ValueError("the graph has no MatMul by a constant weight to quantise")
    row_scales = _row_scales_supported()

    def const(name, value, dtype=np.float32):
        graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def bias_add(matmul, m: int):
        """The ``Add`` of a bias (1-D constant of length ``m``) that alone reads the MatMul's output."""
        readers = consumers.get(matmul.output[0], [])
        if len(readers) != 1 or readers[0].op_type != "Add":
            return None, None
        other = [i for i in readers[0].input if i != matmul.output[0]]
        if len(other) != 1 or other[0] not in floats or list(floats[other[0]].dims) != [m]:
            return None, None
        return readers[0], numpy_helper.to_array(floats[other[0]])

    one, zp128, eps = const("pt/one", 1.0), const("pt/zp128", 128, np.uint8), const("pt/eps", 1e-8)
    inv255, c128 = const("pt/inv255", 1 / 255), const("pt/128", 128.0)
    lo, hi = const("pt/lo", 0.0), const("pt/hi", 255.0)
    first, last = const("pt/first", [0], np.int64), const("pt/last", [-1], np.int64)  # last: also "flatten"
    nodes, dropped = list(graph.node), set()
    for g, (x, users) in enumerate(groups.items()):
        p = f"pt/{g}/"
        rows = const(p + "rows", [-1, int(weights[users[0].input[1]].dims[0])], np.int64)
        new = [helper.make_node("Shape", [x], [p + "shape"]),
               helper.make_node("Slice", [p + "shape", first, last], [p + "lead"]),  # (...,) of (..., k)
               helper.make_node("Reshape", [x, rows], [p + "x"]),
               helper.make_node("ReduceMax", [p + "x"], [p + "max"], axes=[-1], keepdims=1),
               helper.make_node("ReduceMin", [p + "x"], [p + "min"], axes=[-1], keepdims=1),
               helper.make_node("Sub", [p + "max", p + "min"], [p + "range"]),
               helper.make_node("Mul", [p + "range", inv255], [p + "s_raw"]),
               helper.make_node("Max", [p + "s_raw", eps], [p + "s"]),  # (n, 1)
               helper.make_node("Div", [p + "min", p + "s"], [p + "min_s"]),
               helper.make_node("Neg", [p + "min_s"], [p + "z_raw"]),
               helper.make_node("Round", [p + "z_raw"], [p + "z_round"]),
               helper.make_node("Clip", [p + "z_round", lo, hi], [p + "z"]),
               helper.make_node("Cast", [p + "z"], [p + "z_u8"], to=onnx.TensorProto.UINT8),
               helper.make_node("Reshape", [p + "z_u8", last], [p + "z_row"]),
               helper.make_node("Reshape", [p + "s", last], [p + "s_row"]),
               helper.make_node("QuantizeLinear", [p + "x", p + "s_row", p + "z_row"], [p + "q"], axis=0),
               helper.make_node("Sub", [c128, p + "z"], [p + "shift"]),
               helper.make_node("Mul", [p + "shift", p + "s"], [p + "offset"]),  # s * (128 - z), (n, 1)
               helper.make_node("Shape", [p + "offset"], [p + "offset_shape"]),
               helper.make_node("ConstantOfShape", [p + "offset_shape"], [p + "ones"],
                                value=numpy_helper.from_array(np.ones(1, np.float32))),
               helper.make_node("Concat", [p + "offset", p + "ones"], [p + "offset_1"], axis=1)]  # (n, 2)
        for j, node in enumerate(users):
            Wq, w_scale = quantize_weight_columns(numpy_helper.to_array(weights[node.input[1]]))
            m = Wq.shape[1]
            add, bias = bias_add(node, m)
            out = node.output[0]
            if add is not None:
                out = add.output[0]
                dropped.add(id(add))
            colsum = (Wq.astype(np.float64) * w_scale).sum(axis=0)
            w = f"{p}{j}/"
            const(w + "Wq", Wq, np.int8), const(w + "scale", w_scale), const(w + "m", [m], np.int64)
            const(w + "colsum_bias", np.stack([colsum, np.zeros(m) if bias is None else bias]))
            if row_scales:
                new.append(helper.make_node("MatMulIntegerToFloat", [p + "q", w + "Wq", p + "s", w + "scale", zp128],
                                            [w + "rows"], domain="com.microsoft", name=node.name + "/int8"))
            else:
                new += [helper.make_node("MatMulIntegerToFloat", [p + "q", w + "Wq", one, w + "scale", zp128],
                                         [w + "int"], domain="com.microsoft", name=node.name + "/int8"),
                        helper.make_node("Mul", [w + "int", p + "s"], [w + "rows"])]
            new += [helper.make_node("Gemm", [p + "offset_1", w + "colsum_bias", w + "rows"], [w + "y"]),
                    helper.make_node("Concat", [p + "lead", w + "m"], [w + "shape"], axis=0),
                    helper.make_node("Reshape", [w + "y", w + "shape"], [out])]
        at = nodes.index(users[0])
        for node in users:
            nodes.remove(node)
        nodes[at:at] = new
    del graph.node[:]
    graph.node.extend(n for n in nodes if id(n) not in dropped)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    used = {i for node in graph.node for i in node.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    return model


def _row_scales_supported() -> bool:
    """Whether this ONNX Runtime's ``MatMulIntegerToFloat`` scales rows by an ``(n, 1)`` ``a_scale``.

    Not in the operator's documentation (scalar ``a_scale``), so it is checked on a small
    product against NumPy before a graph relies on it (with a bias input it was wrong, so the
    graph adds the bias in its own ``Gemm``). In an in-process trial on 1,000 short ml-1m
    documents the row scaling inside the product was 8-14 % faster than a separate ``Mul``.
    """
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    n, k, m = 5, 16, 3
    A = rng.integers(0, 256, (n, k)).astype(np.uint8)
    B = rng.integers(-63, 64, (k, m)).astype(np.int8)
    a_scale = rng.uniform(0.5, 2.0, (n, 1)).astype(np.float32)
    b_scale = rng.uniform(0.5, 2.0, m).astype(np.float32)
    node = helper.make_node("MatMulIntegerToFloat", ["A", "B", "as", "bs", "zp"], ["Y"], domain="com.microsoft")
    graph = helper.make_graph([node], "probe", [helper.make_tensor_value_info("A", TensorProto.UINT8, ["n", k])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", m])],
                              initializer=[numpy_helper.from_array(B, "B"), numpy_helper.from_array(a_scale, "as"),
                                           numpy_helper.from_array(b_scale, "bs"),
                                           numpy_helper.from_array(np.array(128, np.uint8), "zp")])
    probe = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    try:
        session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        got = session.run(None, {"A": A})[0]
    except Exception:  # noqa: BLE001 - any refusal means: scale with a Mul instead
        return False
    want = (A.astype(np.float64) - 128) @ B.astype(np.float64) * a_scale * b_scale
    return bool(np.allclose(got, want, rtol=1e-5, atol=1e-3))


class _DropRecord(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _build_onnx_model(model, cache_dir: Path, model_name: str, fingerprint: str, quantize: str | None,
                     force: bool = False, fused: bool = False, per_tensor: bool = False) -> Path:
    """The verified ONNX file for ``model`` (export + optional quantisation on first use).

    ``model`` is the loaded float32 torch model (eval mode, CPU). A cached file is reused when
    :func:`_verify_onnx_file` accepts it; a changed or foreign file is refused (warning) and
    rebuilt. Writes are atomic (temporary file + rename; the record is written last).
    ``fused=True``: eager-attention export, then ONNX Runtime's BERT fusion (:func:`_fuse`)
    before quantisation; a separate file (``<mode>-fused.onnx``) with its own record.
    ``per_tensor=True``: a plain graph quantised per tensor (``quantize_dynamic``, the recipe of
    format 1), ``<mode>-per-tensor.onnx``, for ``benchmarks/bench_embed.py``'s comparison.
    """
    if quantize not in ONNX_QUANTIZE_EXCLUDE:
        raise ValueError(f"quantize={quantize!r} is not one of {tuple(ONNX_QUANTIZE_EXCLUDE)} for backend='onnx'.")
    path, record_path = _onnx_paths(cache_dir, model_name, fingerprint, quantize, fused, per_tensor)
    if not force:
        problem = _verify_onnx_file(path, record_path, fingerprint, quantize, fused, per_tensor)
        if problem is None:
            return path
        if path.exists() or record_path.exists():
            logger.warning("refusing the cached ONNX file %s: %s; exporting it again", path, problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    record_path.unlink(missing_ok=True)  # no valid record while the file is being replaced
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".tmp-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        logger.info("exporting %s to ONNX (once per model and mode)", model_name)
        _export_fp32(model, fp32, eager=fused)
        out = fp32
        if fused:
            out = Path(tmp) / "fused.onnx"
            _fuse(fp32, out, model.config)
        if quantize is not None:
            src, out = out, Path(tmp) / "q.onnx"
            _quantize(src, out, quantize, per_tensor=fused or per_tensor)
        os.replace(out, path)
    record = {**_expected_record(fingerprint, quantize, fused, per_tensor), "sha256": sha256_file(path), "model": model_name}
    atomic_write_text(record_path, json.dumps(record, indent=1))
    return path


def _load_onnx_session(path: Path, record_path: Path, fingerprint: str, quantize: str | None, threads: int,
                       fused: bool = False, spinning: bool = True, per_tensor: bool = False):
    """An ``onnxruntime.InferenceSession`` (CPU) on a verified file; refuses anything else.

    ``spinning=False`` makes idle intra-op threads sleep instead of busy-waiting (kinder to a
    shared, loaded machine).
    """
    import onnx
    import onnxruntime as ort

    problem = _verify_onnx_file(path, record_path, fingerprint, quantize, fused, per_tensor)
    if problem is not None:
        raise ValueError(f"Refusing to load the ONNX file {path}: {problem}. Delete it (and its .json) to "
                         "export it again, or call TextEncoder(backend='onnx').fit() which rebuilds it.")
    data = path.read_bytes()
    graph = onnx.load_from_string(data).graph
    foreign = sorted({n.domain for n in graph.node} - _ALLOWED_DOMAINS)
    if foreign:
        raise ValueError(f"Refusing to load the ONNX file {path}: operators from domains {foreign}.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
