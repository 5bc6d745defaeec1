"""ONNX Runtime backend of :class:`~filmrec_toolkit.features.TextEncoder` (``backend="onnx"``).

The transformer is exported at run time from the local model folder (``torch.onnx.export``,
nothing is downloaded), optionally int8-quantised with
``onnxruntime.quantization.quantize_dynamic`` (per-channel weights), and cached in the data
home under ``onnx/<model>-<fingerprint>/``, keyed by the model fingerprint, the
quantisation mode and the export format version. Each ``.onnx`` file has a ``.json``
record next to it (written by :func:`_build_onnx_model`: sha256 of the file, model
fingerprint, mode, versions); :func:`_load_onnx_session` refuses any file whose bytes or
record do not match, so a file not produced here is never run. An ONNX file is a protobuf
graph of standard operators (no pickled code); the loader also refuses operators outside
the standard ``ai.onnx`` and ONNX Runtime's ``com.microsoft`` domains, and never registers
custom-operator libraries.

Why ONNX Runtime for int8 (measured with ``benchmarks/bench_embed.py`` on ml-1m, 2 shared
cores): torch's dynamic int8 Linear quantises activations to 7 bits (``reduce_range=True``,
hard-coded; calling its kernel with 8 bits saturates on CPUs without VNNI), ONNX Runtime's
``quantize_dynamic`` to 8 bits, so the same layers deviate about half as much from float32
(all layers: min cosine .984 vs .947). Speed vs sentence-transformers float32 on 1,000
short documents, medians of three interleaved runs on a loaded 2-core machine (wide
spreads): ONNX Runtime float32 1.49x / 1.64x; all layers int8 3.26x / 2.10x (torch 1.55x /
1.63x); attention only 2.44x / 1.47x / 1.53x (torch 1.40x). So no mode met every target:
``quantize="int8-attention"`` on ONNX Runtime met the quality ones (min cosine >= .99,
neighbour overlap@10 >= .9, cold-start NDCG within 2 %) at about 1.5x; ``quantize="int8"``
met >= 2x but moves neighbour lists (overlap@10 .796).

Issue 15 follow-up (same machine, 1,000 short documents, 5 interleaved rounds per run):
ONNX Runtime's BERT fusion before quantisation (``_build_onnx_model(fused=True)``: eager-attention
export, ``onnxruntime.transformers.optimizer``, then ``quantize_dynamic`` with the fused
``Attention`` as ``QAttention``; its own ``<mode>-fused.onnx`` file and record) keeps the
quality of ``"int8-attention"`` (.994 / .915 / -0.3 %) but was not faster than the plain graph
(loaded run, load 1.4-3.6: median 2.32x vs 2.83x sentence-transformers; light run, load
0.8-1.3, both without spinning: 1.58x vs 1.51x), so it is not the default; it stays available
for measurement (``benchmarks/bench_embed.py`` variants ``onnxf*``). Sessions are made with
``session.intra_op.allow_spinning=0`` (idle threads sleep, same vectors): 3.17x vs 2.83x
(faster in 4 of 5 rounds) on the loaded run, 1.51x vs 1.51x on the light one. The >= 2x seen
on the loaded run comes from sentence-transformers slowing down more under load (4 s idle,
15-18 s loaded); on a lightly loaded machine no quality-meeting mode reaches 2x (about 1.5x).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from .._io import atomic_write_text, sha256_file

logger = logging.getLogger(__name__)

#: Bump when the export or quantisation recipe changes: old cached files are then rebuilt.
ONNX_FORMAT_VERSION = 1

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
                fused: bool = False) -> tuple[Path, Path]:
    """``(model.onnx, record.json)`` for one model fingerprint, quantisation mode and graph kind."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("_")[-60:] or "model"
    folder = Path(cache_dir) / "onnx" / f"{safe}-{fingerprint}-v{ONNX_FORMAT_VERSION}"
    stem = (quantize or "fp32") + ("-fused" if fused else "")
    return folder / f"{stem}.onnx", folder / f"{stem}.json"


def _expected_record(fingerprint: str, quantize: str | None, fused: bool = False) -> dict:
    fuse = {"fused": True} if fused else {}  # plain graphs keep the records written before fusion existed
    return {"producer": "filmrec_toolkit", "format": ONNX_FORMAT_VERSION, "fingerprint": fingerprint,
            "quantize": quantize, **fuse, **_versions()}


def _verify_onnx_file(path: Path, record_path: Path, fingerprint: str, quantize: str | None,
                      fused: bool = False) -> str | None:
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
    expected = _expected_record(fingerprint, quantize, fused)
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


def _quantize(src: Path, dst: Path, quantize: str) -> None:
    """Dynamic int8 quantisation of the MatMul weights (per output channel), minus excluded nodes.

    On a fused graph the ``Attention`` nodes (query, key and value in one weight) become
    ``QAttention`` unless the mode keeps attention in float32 (``"int8"``, ``"int8-attention"``
    and ``"int8-ffn-out-fp32"`` all quantise it).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    patterns = ONNX_QUANTIZE_EXCLUDE[quantize]
    graph = onnx.load(str(src), load_external_data=False).graph
    exclude = [n.name for n in graph.node if n.op_type == "MatMul" and any(re.search(p, n.name) for p in patterns)]
    hint = _DropRecord("pre-processing before quantization")  # onnxruntime's generic advice, on the root logger
    logging.getLogger().addFilter(hint)
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=exclude,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().removeFilter(hint)


class _DropRecord(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _build_onnx_model(model, cache_dir: Path, model_name: str, fingerprint: str, quantize: str | None,
                     force: bool = False, fused: bool = False) -> Path:
    """The verified ONNX file for ``model`` (export + optional quantisation on first use).

    ``model`` is the loaded float32 torch model (eval mode, CPU). A cached file is reused when
    :func:`_verify_onnx_file` accepts it; a changed or foreign file is refused (warning) and
    rebuilt. Writes are atomic (temporary file + rename; the record is written last).
    ``fused=True``: eager-attention export, then ONNX Runtime's BERT fusion (:func:`_fuse`)
    before quantisation; a separate file (``<mode>-fused.onnx``) with its own record.
    """
    if quantize not in ONNX_QUANTIZE_EXCLUDE:
        raise ValueError(f"quantize={quantize!r} is not one of {tuple(ONNX_QUANTIZE_EXCLUDE)} for backend='onnx'.")
    path, record_path = _onnx_paths(cache_dir, model_name, fingerprint, quantize, fused)
    if not force:
        problem = _verify_onnx_file(path, record_path, fingerprint, quantize, fused)
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
            _quantize(src, out, quantize)
        os.replace(out, path)
    record = {**_expected_record(fingerprint, quantize, fused), "sha256": sha256_file(path), "model": model_name}
    atomic_write_text(record_path, json.dumps(record, indent=1))
    return path


def _load_onnx_session(path: Path, record_path: Path, fingerprint: str, quantize: str | None, threads: int,
                       fused: bool = False, spinning: bool = True):
    """An ``onnxruntime.InferenceSession`` (CPU) on a verified file; refuses anything else.

    ``spinning=False`` makes idle intra-op threads sleep instead of busy-waiting (kinder to a
    shared, loaded machine).
    """
    import onnx
    import onnxruntime as ort

    problem = _verify_onnx_file(path, record_path, fingerprint, quantize, fused)
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
