"""Inverted dropout (``_engine/dropout.py``): masks drawn by a counter-based
hash, the compiled kernel against the NumPy reference bit for bit, and the
statistics a dropout mask needs (the keep rate, no relation between masks)."""

import numpy as np
import pytest

from skrnn._engine import dropout, gemm
from skrnn._engine._kernels import load

compiled = load("dropout")
needs_kernel = pytest.mark.skipif(compiled is None, reason="the extension is not built")


def _dropout(x, p, seed, engine, monkeypatch):
    if engine == "numpy":
        monkeypatch.setenv("SKRNN_ENGINE", "numpy")
    try:
        return dropout.Dropout(p, np.random.default_rng(seed))(x)
    finally:
        monkeypatch.delenv("SKRNN_ENGINE", raising=False)


@needs_kernel
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(0, 4), (1,), (7, 3, 5), (40, 33, 17)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_matches_numpy_however_the_array_is_cut(
    dtype, shape, n_threads, monkeypatch
):
    monkeypatch.setattr(gemm, "_MIN_ELEMENTWISE", 1)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    before = x.copy()
    want_y, want_mask = _dropout(x, 0.33, 5, "numpy", monkeypatch)
    with gemm.threads(n_threads):
        y, mask = _dropout(x, 0.33, 5, "compiled", monkeypatch)
    assert y.dtype == mask.dtype == dtype and y.shape == mask.shape == shape
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(mask, want_mask)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_strided_input_is_read_in_its_logical_order(engine, monkeypatch):
    x = np.random.default_rng(1).standard_normal((6, 9)).astype(np.float32)
    y, mask = _dropout(x.T, 0.5, 2, engine, monkeypatch)
    want_y, want_mask = _dropout(np.ascontiguousarray(x.T), 0.5, 2, engine, monkeypatch)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(mask, want_mask)


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
@pytest.mark.parametrize("p", [0.05, 0.33, 0.5, 0.9])
def test_units_are_kept_at_the_rate_and_scaled(p, engine, monkeypatch):
    x = np.ones((200, 500), dtype=np.float32)
    y, mask = _dropout(x, p, 3, engine, monkeypatch)
    keep = 1 - p
    assert set(np.unique(mask)) == {0, np.float32(1) / np.float32(keep)}
    kept = (mask > 0).mean()
    sd = np.sqrt(keep * p / x.size)
    assert abs(kept - keep) < 5 * sd
    np.testing.assert_array_equal(y, x * mask)


def test_draws_are_uniform_bits():
    draws = dropout.draws(1 << 16, 12345, 678)
    bits = (draws[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    # each bit a fair coin: 5 standard deviations of 65,536 flips
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 5 * 0.5 / 2**8)
    counts = np.bincount(draws >> 28, minlength=16)
    chi2 = ((counts - draws.size / 16) ** 2 / (draws.size / 16)).sum()
    assert chi2 < 50  # 15 degrees of freedom: p < 1e-5 above 50


def test_successive_masks_are_unrelated_even_shifted():
    """One generator, two masks: their keys differ, and neither mask is the
    other moved along by a few elements (what a plain counter plus a seed would
    give)."""
    layer = dropout.Dropout(0.5, np.random.default_rng(0))
    x = np.ones(1 << 15)
    first, second = (layer(x)[1] > 0 for _ in range(2))
    for shift in range(0, 64):
        agree = (first[shift:] == second[: first.size - shift]).mean()
        assert abs(agree - 0.5) < 5 * 0.5 / np.sqrt(first.size - shift)


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_same_generator_same_mask_and_nan_propagates(engine, monkeypatch):
    x = np.random.default_rng(2).standard_normal(1000)
    x[::7] = np.nan
    y, mask = _dropout(x, 0.5, 11, engine, monkeypatch)
    y_again, mask_again = _dropout(x, 0.5, 11, engine, monkeypatch)
    np.testing.assert_array_equal(mask, mask_again)
    _, other = _dropout(x, 0.5, 12, engine, monkeypatch)
    assert not np.array_equal(mask, other)
    # a dropped NaN stays NaN (NaN * 0), so a diverging fit still shows it
    assert np.isnan(y[::7]).all() and np.isnan(y_again[::7]).all()
