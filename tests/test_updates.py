"""The compiled parameter updates (``_kernels.updates``) against the NumPy
reference they replace: the row sums of a table's gradient, Adam's step and
the moving average of the weights, dense and on rows, bit for bit."""

import numpy as np
import pytest

from skrnn._engine import (
    SparseRows,
    WeightAverage,
    averaging,
    embedding,
    gemm,
    optimizers,
)
from skrnn._engine._kernels import load

updates = load("updates")
pytestmark = pytest.mark.skipif(updates is None, reason="the extension is not built")


def _gradients(rng, params, dtype):
    """Dense gradients of the matrices, row gradients of the table (a few
    distinct rows per step, some repeated from step to step)."""
    rows = np.unique(rng.integers(0, 50, 12))
    return {
        "W": rng.standard_normal(params["W"].shape).astype(dtype),
        "b": rng.standard_normal(params["b"].shape).astype(dtype),
        "table": SparseRows(
            rows, rng.standard_normal((rows.size, 8)).astype(dtype), (50, 8)
        ),
    }


def _train(engine, dtype, monkeypatch, n_steps=30, decay=0.9, n_threads=1):
    """Parameters, Adam's moments and the weight average after ``n_steps``
    steps of random gradients, with the compiled updates or NumPy's; the
    compiled ones cut in one range per thread, however small the arrays."""
    if engine == "numpy":
        monkeypatch.setattr(optimizers, "_updates", None)
        monkeypatch.setattr(averaging, "_updates", None)
    cuts = []
    map_ranges = gemm.map_ranges

    def counted(function, size, n_ranges):
        cuts.append(n_ranges)
        map_ranges(function, size, n_ranges)

    monkeypatch.setattr(gemm, "map_ranges", counted)
    monkeypatch.setattr(gemm, "_MIN_ELEMENTWISE", 1)
    rng = np.random.default_rng(0)
    params = {
        "W": rng.standard_normal((7, 5)).astype(dtype),
        "b": np.zeros(5, dtype=dtype),
        "table": rng.standard_normal((50, 8)).astype(dtype),
    }
    adam = optimizers.Adam(learning_rate=0.01)
    average = WeightAverage(params, decay)
    with gemm.threads(n_threads):
        for _ in range(n_steps):
            grads = _gradients(rng, params, dtype)
            adam.update(params, grads)
            average.update(params, grads)
    monkeypatch.undo()
    if engine == "compiled":
        assert set(cuts) == {n_threads} - {1}  # one range: no cut
    return params, adam, average.params()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_compiled_updates_equal_numpy_bit_for_bit(dtype, n_threads, monkeypatch):
    """At any thread count: the updates are element-wise."""
    params, adam, average = _train("compiled", dtype, monkeypatch, n_threads=n_threads)
    params_np, adam_np, average_np = _train("numpy", dtype, monkeypatch)
    for name in params:
        np.testing.assert_array_equal(params[name], params_np[name])
        np.testing.assert_array_equal(adam.m[name], adam_np.m[name])
        np.testing.assert_array_equal(adam.v[name], adam_np.v[name])
        np.testing.assert_array_equal(average[name], average_np[name])
        assert params[name].dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 300])
def test_row_sums_equal_the_sparse_product_bit_for_bit(dtype, n, monkeypatch):
    """Zipf-distributed ids (many repeats), values a strided slice as the
    embedding gradients are."""
    rng = np.random.default_rng(n)
    ids = rng.zipf(1.3, n) % 40
    values = rng.standard_normal((n, 12)).astype(dtype)[:, 2:9]
    table = np.zeros((40, 7), dtype)
    compiled = embedding.sparse_row_sums(ids, values, table)
    monkeypatch.setattr(embedding, "_updates", None)
    reference = embedding.sparse_row_sums(ids, values, table)
    np.testing.assert_array_equal(compiled.rows, reference.rows)
    np.testing.assert_array_equal(compiled.rows, np.unique(ids))
    np.testing.assert_array_equal(compiled.values, reference.values)
    assert compiled.values.dtype == dtype
    assert compiled.values.shape == (np.unique(ids).size, 7)


def test_compiled_updates_are_used(monkeypatch):
    """The optimizer and the average call the kernels when they are built."""
    calls = []
    monkeypatch.setattr(optimizers, "_updates", _Recording(updates, calls))
    monkeypatch.setattr(averaging, "_updates", _Recording(updates, calls))
    rng = np.random.default_rng(1)
    params = {
        "W": rng.standard_normal((7, 5)).astype(np.float32),
        "b": np.zeros(5, np.float32),
        "table": rng.standard_normal((50, 8)).astype(np.float32),
    }
    adam, average = optimizers.Adam(), WeightAverage(params, 0.9)
    for _ in range(3):
        grads = _gradients(rng, params, np.float32)
        adam.update(params, grads)
        average.update(params, grads)
    assert set(calls) == {"adam", "adam_rows", "average", "average_rows"}


class _Recording:
    """The kernels module, recording which of its functions are called."""

    def __init__(self, module, calls):
        self._module, self._calls = module, calls

    def __getattr__(self, name):
        self._calls.append(name)
        return getattr(self._module, name)


def test_kernels_refuse_inconsistent_shapes_and_rows():
    a = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="inconsistent"):
        updates.adam(
            a.ravel(),
            np.zeros(5, np.float32),
            a.ravel(),
            a.ravel(),
            0.9,
            0.999,
            1e-8,
            0.1,
        )
    with pytest.raises(IndexError, match="out of bounds"):
        updates.adam_rows(
            a,
            np.array([4], np.intp),
            np.zeros((1, 3), np.float32),
            a,
            a,
            0.9,
            0.999,
            1e-8,
            0.1,
        )
    with pytest.raises(IndexError, match="out of bounds"):
        updates.average_rows(
            a, a.copy(), a.copy(), np.array([-1], np.intp), np.ones(1, np.float32), 0.1
        )
    with pytest.raises(ValueError, match="inconsistent"):
        updates.average(a.ravel(), np.zeros(3, np.float32), 0.1)
    with pytest.raises(IndexError, match="out of bounds"):
        updates.row_sums(np.array([0, 4]), np.zeros((2, 3), np.float32), 4)
    with pytest.raises(ValueError, match="inconsistent"):
        updates.row_sums(np.array([0, 1]), np.zeros((3, 3), np.float32), 4)
