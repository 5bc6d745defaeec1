"""The per-token int8 recipe of the ONNX backend on tiny graphs, against NumPy arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from filmrec_toolkit.features.onnx_backend import (  # noqa: E402
    PER_TOKEN_WEIGHT_BITS,
    _per_token_int8,
    quantize_weight_columns,
)


def test_weight_columns_by_hand():
    W = np.array([[1.0, 0.5], [-1.0, 0.0], [0.0, -1.0]])
    Wq, scale = quantize_weight_columns(W, bits=3)  # levels -3..3
    assert Wq.dtype == np.int8 and scale.dtype == np.float32
    # column 0 sits on the levels of scale 1/3 exactly: no clipping ratio can beat zero error
    np.testing.assert_array_equal(Wq[:, 0], [3, -3, 0])
    assert scale[0] == np.float32(1 / 3)
    err = ((Wq * scale.astype(np.float64) - W) ** 2).sum(0)
    for r in np.linspace(0.6, 1.0, 17):  # no tried clipping ratio does better on any column
        s = np.abs(W).max(0) * r / 3
        assert np.all(err <= ((np.clip(np.round(W / s), -3, 3) * s - W) ** 2).sum(0) + 1e-9)
    Wq7, _ = quantize_weight_columns(np.random.default_rng(0).normal(size=(64, 8)))
    assert np.abs(Wq7).max() <= 2 ** (PER_TOKEN_WEIGHT_BITS - 1) - 1 == 63  # 255 * 63 * 2 < 32767: no int16 saturation


def _graph(W1: np.ndarray, W2: np.ndarray, b1: np.ndarray):
    """Y1 = X @ W1 + b1, Y2 = X @ W2 (one shared input), Z = X @ X^T (no constant weight: left alone)."""
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, None, W1.shape[0]])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["b", "t", "m"]) for n in ("Y1", "Y2", "Z")]
    nodes = [helper.make_node("MatMul", ["X", "W1"], ["XW1"], name="/layer.0/query/MatMul"),
             helper.make_node("Add", ["b1", "XW1"], ["Y1"], name="/layer.0/query/Add"),
             helper.make_node("MatMul", ["X", "W2"], ["Y2"], name="/layer.0/key/MatMul"),
             helper.make_node("Transpose", ["X"], ["Xt"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["X", "Xt"], ["Z"], name="/layer.0/scores/MatMul")]
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for a, n in ((W1, "W1"), (W2, "W2"), (b1, "b1"))]
    return helper.make_model(helper.make_graph(nodes, "g", [x], outs, initializer=inits),
                             opset_imports=[helper.make_opsetid("", 17)])


def _reference(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The recipe in NumPy: per row, 255 levels from its min to its max (integer zero point); 7-bit columns."""
    X = X.astype(np.float32)  # float32 steps, as in the graph (a level flipped by rounding moves a row)
    hi, lo = X.max(-1, keepdims=True), X.min(-1, keepdims=True)
    s = np.maximum((hi - lo) * np.float32(1 / 255), np.float32(1e-8))
    z = np.clip(np.round(-(lo / s)), 0, 255)
    q = np.clip(np.round(X / s) + z, 0, 255)  # QuantizeLinear: round half to even, + zero point, saturate
    Wq, ws = quantize_weight_columns(W)
    return s * ((q - z) @ Wq.astype(np.float64)) * ws


@pytest.mark.parametrize("row_scales", [True, False])
def test_per_token_graph_matches_numpy_and_is_row_independent(monkeypatch, row_scales):
    """Rows scaled inside MatMulIntegerToFloat (when this ONNX Runtime does it) or by a Mul after."""
    from filmrec_toolkit.features import onnx_backend

    if row_scales and not onnx_backend._row_scales_supported():
        pytest.skip("this ONNX Runtime does not scale rows in MatMulIntegerToFloat (the Mul path is tested)")
    monkeypatch.setattr(onnx_backend, "_row_scales_supported", lambda: row_scales)
    rng = np.random.default_rng(0)
    W1, W2, b1 = rng.normal(size=(16, 8)), rng.normal(size=(16, 4)), rng.normal(size=8)
    X = rng.normal(size=(3, 5, 16)).astype(np.float32)
    X[:, 0] *= 20  # a [CLS]-like token with much larger activations than the others
    model = _per_token_int8(_graph(W1, W2, b1), exclude=[])
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 2 and ops.count("QuantizeLinear") == 1  # one quantised copy of X
    assert ops.count("MatMul") == 1  # X @ X^T has no constant weight
    assert ops.count("Add") == 0  # the bias went into the offset Gemm
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    y1, y2, z = sess.run(None, {"X": X})
    np.testing.assert_allclose(y1, _reference(X, W1) + b1, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(y2, _reference(X, W2), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(z, X @ X.transpose(0, 2, 1), rtol=1e-5)
    # each token has its own scale: the small tokens keep their precision next to the large one ...
    rel = np.abs(y1[:, 1:] - X[:, 1:] @ W1 - b1) / np.abs(X[:, 1:] @ W1).max()
    assert rel.max() < 0.03
    # ... and a row's output does not depend on the other rows of the batch
    np.testing.assert_array_equal(sess.run(None, {"X": X[1:2, 2:4]})[0], y1[1:2, 2:4])


def test_per_token_excludes_and_refuses_graphs_without_weights():
    rng = np.random.default_rng(1)
    model = _per_token_int8(_graph(rng.normal(size=(8, 4)), rng.normal(size=(8, 4)), rng.normal(size=4)),
                            exclude=["/layer.0/key/MatMul"])
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 1 and ops.count("MatMul") == 2
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])
    bare = helper.make_model(helper.make_graph([helper.make_node("Relu", ["X"], ["Y"])], "g", [x],
                                               [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", 4])]))
    with pytest.raises(ValueError, match="no MatMul by a constant weight"):
        _per_token_int8(bare, exclude=[])
