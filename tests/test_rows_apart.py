"""Predictions keep each row apart (``gemm.rows_apart``): with the compiled
kernels a sequence's prediction is the same bits in any batch, which lets
predictions run in float32 as training does."""

import os

import numpy as np
import pytest

from skrnn import RNNClassifier, RNNTagger
from skrnn._engine import gemm
from skrnn._engine._kernels import load
from skrnn.datasets import (
    make_entity_tagging,
    make_sequence_classification,
    make_tagging,
)

needs_kernels = pytest.mark.skipif(
    not gemm.can_keep_rows_apart() or os.environ.get("SKRNN_ENGINE") == "numpy",
    reason="the compiled kernels are not built or not in use (SKRNN_ENGINE=numpy)",
)
SMALL = {"hidden_size": 8, "embedding_dim": 8, "max_iter": 2, "random_state": 0}


@needs_kernels
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_row_of_a_product_does_not_depend_on_the_other_rows(dtype, n_threads):
    """Any rows of ``a``, alone or in company, on any number of threads, give
    the same bits; and the product is ``a @ b`` to rounding."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3000, 70)).astype(dtype)
    b = rng.standard_normal((70, 45)).astype(dtype)
    with gemm.threads(n_threads), gemm.rows_apart():
        whole = gemm.matmul(a, b)
        parts = [gemm.matmul(a[rows], b) for rows in (slice(7, 8), slice(0, 13))]
        strided = gemm.matmul(a[::3], b)
        transposed = gemm.matmul(a, np.asfortranarray(b))
    np.testing.assert_array_equal(parts[0], whole[7:8])
    np.testing.assert_array_equal(parts[1], whole[:13])
    np.testing.assert_array_equal(strided, whole[::3])
    np.testing.assert_array_equal(transposed, whole)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(whole, reference, rtol=0, atol=tol * 70 * 4)


@needs_kernels
def test_rows_apart_is_per_thread_and_reaches_the_engines_threads():
    """The setting follows the work that ``map_threads`` hands to the pool,
    and is off again after the block."""
    assert not gemm.rows_kept_apart()
    with gemm.threads(2), gemm.rows_apart():
        seen = gemm.map_threads(lambda _: gemm.rows_kept_apart(), range(2))
    assert seen == [True, True]
    assert not gemm.rows_kept_apart()


@needs_kernels
def test_the_whole_matrix_product_refuses_mismatched_panels():
    products = load("products")
    a = np.ones((4, 3), dtype=np.float32)
    out = np.empty((4, 5), dtype=np.float32)
    with pytest.raises(ValueError, match="do not match panels"):
        products.panel_matmul(a, gemm.panels(np.ones((2, 5), np.float32)), out)
    empty = np.full((4, 5), 7.0, dtype=np.float32)
    products.panel_matmul(a[:, :0], gemm.panels(np.ones((0, 5), np.float32)), empty)
    np.testing.assert_array_equal(empty, 0.0)


def _tagging(output):
    if output == "crf":
        return make_entity_tagging(60, random_state=0)
    return make_tagging(60, random_state=0)


ESTIMATORS = [
    *[
        (RNNTagger, {"cell": cell, "output": output}, _tagging(output))
        for cell in ("gru", "lstm", "rnn")
        for output in ("softmax", "crf")
    ],
    (RNNTagger, {"char_encoder": "cnn"}, make_tagging(60, random_state=0)),
    *[
        (
            RNNClassifier,
            {"cell": cell, "pooling": pooling},
            make_sequence_classification(60, random_state=0),
        )
        for cell in ("gru", "lstm", "rnn")
        for pooling in ("last", "mean", "max")
    ],
]


@needs_kernels
@pytest.mark.parametrize(
    "Estimator, params, data",
    ESTIMATORS,
    ids=[f"{E.__name__}-{'-'.join(map(str, p.values()))}" for E, p, _ in ESTIMATORS],
)
def test_a_prediction_does_not_depend_on_its_batch(Estimator, params, data):
    """float32 predictions, and every sequence's the same bits alone, in a
    shuffled subset and among all the others."""
    X, y = data
    est = Estimator(**SMALL, **params).fit(X, y)
    with est._predicting() as (network, fitted):
        assert network.dtype == np.float32
        assert {a.dtype for a in fitted.values()} == {np.dtype(np.float32)}
    whole = est.predict_proba(X)
    order = np.random.default_rng(1).permutation(len(X))[:25]
    subset = est.predict_proba([X[i] for i in order])
    alone = est.predict_proba([X[order[0]]])
    for got, i in [*zip(subset, order, strict=True), (alone[0], order[0])]:
        np.testing.assert_array_equal(got, whole[i])
    if isinstance(est, RNNTagger):
        paths = est.predict([X[i] for i in order])
        for got, i in zip(paths, order, strict=True):
            np.testing.assert_array_equal(got, est.predict([X[i]])[0])


@needs_kernels
@pytest.mark.parametrize("output", ["softmax", "crf"])
def test_float32_predictions_agree_with_the_numpy_engines_float64(output, monkeypatch):
    """Without the kernels (``SKRNN_ENGINE=numpy``) predictions run in float64;
    the float32 ones agree with them to float32 rounding and sum to 1 to
    float64 rounding (the output layer runs in float64)."""
    X, y = _tagging(output)
    est = RNNTagger(**SMALL, output=output).fit(X, y)
    fast = est.predict_proba(X)
    monkeypatch.setenv("SKRNN_ENGINE", "numpy")
    with est._predicting() as (network, _):
        assert network.dtype == np.float64
    exact = est.predict_proba(X)
    for got, want in zip(fast, exact, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
