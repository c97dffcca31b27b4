"""The compiled GRU cell against skrnn's NumPy GRUCell (the reference).

Run from this folder after ``python setup.py build_ext --inplace``:
``python -m pytest -q test_proto.py``.
"""

import os
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _gru  # noqa: E402
from gru_proto import CompiledGRUCell  # noqa: E402

from skrnn._engine.cells import GRUCell  # noqa: E402

# max |compiled - numpy| / max(1, max |numpy|). float32: numpy computes the
# sigmoid through tanh, the helper through exp, with FMA; T=30 steps of H=128
# accumulate a few ulp per step. float64: both through exp, libmvec within 4 ulp.
TOL = {np.float32: 2e-5, np.float64: 1e-12}
SHAPES = [(T, B, H) for T in (1, 5, 30) for B in (1, 7, 32, 64) for H in (16, 128)]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # as in skrnn's fits: the compiled loops' threads are the parallelism
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _problem(T, B, H, dtype, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    params = {k: v[None] for k, v in GRUCell().init_recurrent(rng, H, dtype).items()}
    params["W_rec"] *= dtype(scale)
    params["b_hn"][:] = rng.uniform(-0.5, 0.5, (1, H))
    xproj = rng.standard_normal((T, 1, B, 3 * H)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((1, B, H))).astype(dtype)
    dhs = rng.standard_normal((T, 1, B, H)).astype(dtype)
    return params, xproj, h0, dhs


def _run(cell, params, xproj, h0, dhs):
    out, cache = cell.forward(params, xproj, h0)
    dxproj, grads, dh0 = cell.backward(params, dhs, cache)
    return {
        "out": out,
        "gates": cache["gates"],
        "rec_n": cache["rec_n"],
        "dxproj": dxproj,
        "W_rec": grads["W_rec"],
        "b_hn": grads["b_hn"],
        "dh0": dh0,
    }


def _close(got, want, tol):
    assert got.shape == want.shape and got.dtype == want.dtype
    if want.size == 0:
        return
    scale = max(1.0, float(np.abs(want).max()))
    assert float(np.abs(got - want).max()) <= tol * scale


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
def test_matches_numpy_cell(T, B, H, dtype):
    problem = _problem(T, B, H, dtype)
    want = _run(GRUCell(), *problem)
    got = _run(CompiledGRUCell(n_threads=2), *problem)
    assert want.keys() == got.keys()
    for key in want:
        _close(got[key], want[key], TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
def test_thread_count_changes_nothing(T, B, H, dtype):
    """Default blocks (16 rows, a function of B only): bit for bit."""
    problem = _problem(T, B, H, dtype, seed=1)
    one = _run(CompiledGRUCell(n_threads=1), *problem)
    for n_threads in (2, 3):
        other = _run(CompiledGRUCell(n_threads=n_threads), *problem)
        for key in one:
            np.testing.assert_array_equal(other[key], one[key], err_msg=key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B", [7, 32, 64])
def test_one_block_per_thread_differs_to_rounding_only(B, dtype):
    """``slice_rows=0`` (a block per thread) lets BLAS round each row's product
    differently at each thread count: the results stay within the tolerance
    of the comparison with the NumPy cell."""
    problem = _problem(30, B, 128, dtype, seed=2)
    want = _run(GRUCell(), *problem)
    runs = [_run(CompiledGRUCell(n, slice_rows=0), *problem) for n in (1, 2)]
    for key in want:
        _close(runs[1][key], runs[0][key], TOL[dtype])
        _close(runs[1][key], want[key], TOL[dtype])


def test_gradients_by_finite_differences():
    """float64, loss = sum(out * R): the compiled backward is the gradient of
    the compiled forward."""
    T, B, H = 4, 3, 5
    params, xproj, h0, _ = _problem(T, B, H, np.float64, seed=3)
    R = np.random.default_rng(4).standard_normal((T, 1, B, H))
    cell = CompiledGRUCell(n_threads=2, slice_rows=2)

    def loss():
        return float((cell.forward(params, xproj, h0)[0] * R).sum())

    out, cache = cell.forward(params, xproj, h0)
    dxproj, grads, dh0 = cell.backward(params, R.copy(), cache)
    eps = 1e-6
    for name, array, grad in [
        ("xproj", xproj, dxproj),
        ("h0", h0, dh0),
        ("W_rec", params["W_rec"], grads["W_rec"]),
        ("b_hn", params["b_hn"], grads["b_hn"]),
    ]:
        numeric = np.empty_like(array)
        for i in np.ndindex(array.shape):
            keep = array[i]
            array[i] = keep + eps
            up = loss()
            array[i] = keep - eps
            down = loss()
            array[i] = keep
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_nan_propagates_like_numpy(dtype, n_threads):
    """-ffast-math in the gate helper must not swallow a NaN: a NaN entering a
    step leaves its row NaN from there on, exactly where the NumPy cell has
    NaN, forward and backward, so the fit's NaN-loss check still fires."""
    T, B, H = 6, 32, 16
    params, xproj, h0, dhs = _problem(T, B, H, dtype, seed=5)
    xproj[2, 0, 3, 5] = np.nan  # r of row 3
    xproj[1, 0, 9, H + 1] = np.nan  # z of row 9
    xproj[4, 0, 20, 2 * H + 7] = np.nan  # n of row 20
    h0[0, 30, 0] = np.nan  # the initial state of row 30
    dhs[3, 0, 25, 4] = np.nan  # a gradient entering row 25
    want = _run(GRUCell(), params, xproj, h0, dhs)
    got = _run(CompiledGRUCell(n_threads), params, xproj, h0, dhs)
    for key in want:
        np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(want[key]), key)
        finite = np.isfinite(want[key])
        _close(got[key][finite], want[key][finite], TOL[dtype])
    out = got["out"]
    # row 3: its r at column 5 from step 2, the whole row from step 3 on
    assert not np.isnan(out[:2, 0, 3]).any()
    assert np.isnan(out[2, 0, 3]).sum() == 1 and np.isnan(out[2, 0, 3, 5])
    assert np.isnan(out[3:, 0, 3]).all()
    assert np.isnan(out[:, 0, 30]).all()  # h0 feeds every column through W_rec
    assert not np.isnan(out[:, 0, 0]).any()
    # NaN weights: everything NaN
    params["W_rec"][0, 0, 0] = np.nan
    out = CompiledGRUCell(n_threads).forward(params, xproj[:, :, :8], h0[:, :8])[0]
    assert np.isnan(out[1:]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturation_and_inf_give_the_limits(dtype):
    """Overflowing exp gives inf and 1 / (1 + inf) = 0: saturated gates reach
    exactly 0, 1 or -1, inf inputs included, with no NaN. (This is what a
    -ffast-math build gets wrong in float32: gcc then divides by rcpps plus a
    Newton step, and 0 * (2 - inf * 0) is NaN, so tanh of anything below
    -44.4 and sigmoid below -88.7 become NaN, a spurious NaN loss.)"""
    T, B, H = 2, 6, 16
    params, xproj, h0, dhs = _problem(T, B, H, dtype, seed=6)
    xproj[:, 0, 0] = 1e4
    xproj[:, 0, 1] = -1e4
    xproj[:, 0, 2] = np.inf
    xproj[:, 0, 3] = -np.inf
    xproj[:, 0, 3, :H] = np.finfo(dtype).max  # r = 1 with inf * 0 avoided
    xproj[:, 0, 4] = -50.0  # saturated, and exp(-2 * -50) overflows in float32
    xproj[:, 0, 5] = -100.0  # exp(100) overflows in float32
    with np.errstate(over="ignore", invalid="ignore"):
        want = _run(GRUCell(), params, xproj, h0, dhs)
    got = _run(CompiledGRUCell(2, slice_rows=1), params, xproj, h0, dhs)
    for key in want:
        assert not np.isnan(got[key]).any(), key
        _close(got[key], want[key], TOL[dtype])
    g = got["gates"]
    for b, value in [(0, 1.0), (1, 0.0), (2, 1.0)]:
        assert (g[:, 0, b, : 2 * H] == value).all()
    if dtype == np.float32:
        assert (g[:, 0, 5, : 2 * H] == 0.0).all()
    for b, value in [(0, 1.0), (1, -1.0), (3, -1.0), (4, -1.0), (5, -1.0)]:
        assert (g[:, 0, b, 2 * H :] == value).all()
    # h' = (h - n) z + n evaluated as written (no reassociation): exact here
    np.testing.assert_array_equal(got["out"][:, 0, :3], want["out"][:, 0, :3])


def test_import_does_not_set_flush_to_zero():
    """-ffast-math never reaches the link (no crtfastmath.o): subnormals
    survive in the process after the import."""
    tiny = np.array([1e-40], dtype=np.float32)
    assert _gru is not None
    assert (tiny * np.float32(1.0))[0] != 0.0
    assert np.nextafter(np.float64(0), np.float64(1)) * 1.0 > 0.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_through_a_fit_and_the_nan_loss_stop(monkeypatch):
    """The compiled cell inside a real RNNTagger fit (bidirectional, 2 layers,
    the directions' loops on skrnn's threads, each with 2 OpenMP threads):
    same loss curve as the NumPy cell to float32 rounding, and a NaN in a
    recurrent weight makes the next fit stop with the diverged-loss error."""
    import skrnn._engine.recurrent as recurrent
    from skrnn.datasets import make_tagging
    from skrnn.tagger import RNNTagger

    X, y = make_tagging(n_sequences=60, random_state=0)
    small = dict(
        hidden_size=16,
        embedding_dim=8,
        feature_embedding_dim=4,
        max_iter=3,
        batch_size=16,
        learning_rate=0.02,
        early_stopping=False,
        random_state=0,
    )
    reference = RNNTagger(**small).fit(X, y)
    calls = []

    class Counted(CompiledGRUCell):
        def forward(self, *args, **kwargs):
            calls.append(1)
            return super().forward(*args, **kwargs)

    monkeypatch.setitem(recurrent.CELLS, "gru", lambda: Counted(n_threads=2))
    tagger = RNNTagger(**small, warm_start=True).fit(X, y)
    assert calls  # the compiled cell did the work
    np.testing.assert_allclose(tagger.loss_curve_, reference.loss_curve_, rtol=1e-4)
    got = np.concatenate(tagger.predict(X))
    want = np.concatenate(reference.predict(X))
    assert (got == want).mean() > 0.99
    key = next(k for k in tagger.params_ if k.endswith("W_rec"))
    tagger.params_[key][0, 0] = np.nan
    with pytest.raises(ValueError, match="diverged"):
        tagger.fit(X, y)


def test_concurrent_calls_from_python_threads():
    """The two directions of a bidirectional layer run on two Python threads
    (skrnn's ``map_threads``), each call with its own OpenMP team: same results
    as one after the other (the loops share nothing but read-only W).

    Except ``W_rec``'s gradient, which is skrnn's ``_sum_outer`` after the loop:
    under ``threads(2)`` skrnn's ``gemm.matmul`` splits that (128 x 960) @
    (960 x 384) float32 product in two column blocks on the calling thread (not
    on the pool's), and the split differs from the whole product in the last
    bits (the NumPy GRUCell does the same): equal to rounding only."""
    from skrnn._engine.gemm import map_threads, threads

    problems = [_problem(30, 32, 128, np.float32, seed=s) for s in (7, 8)]
    cell = CompiledGRUCell(n_threads=2)
    serial = [_run(cell, *p) for p in problems]
    with threads(2):
        for _ in range(3):
            parallel = map_threads(lambda p: _run(cell, *p), problems)
            for one, other in zip(serial, parallel, strict=True):
                for key in one:
                    if key == "W_rec":
                        _close(other[key], one[key], TOL[np.float32])
                    else:
                        np.testing.assert_array_equal(other[key], one[key], key)
