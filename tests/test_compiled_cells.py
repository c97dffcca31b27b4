"""The compiled cells (``_engine/compiled_cells.py``) against the NumPy cells of
``cells.py``, the reference: same results to float rounding, forward and
backward, and the same gradients through a whole network."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_engine import _batch, _check_gradients, _network
from threadpoolctl import threadpool_limits

import skrnn
from skrnn import RNNTagger, WordFeatures
from skrnn._engine import compiled_cells, gemm, recurrent
from skrnn._engine._kernels import load, numpy_cblas64
from skrnn._engine.cells import CELLS
from skrnn._engine.compiled_cells import COMPILED_CELLS, cell_class
from skrnn._engine.gemm import map_threads, threads
from skrnn.datasets import make_tagging

# max |compiled - numpy| / max(1, max |numpy|). float32: NumPy computes the
# sigmoid through tanh, the helpers through exp, with FMA; 30 steps of H=128
# add a few ulp each. float64: both through exp, libmvec within 4 ulp.
TOL = {np.float32: 2e-5, np.float64: 1e-12}
SHAPES = [(1, 1, 5), (7, 7, 5), (7, 33, 32), (30, 64, 128)]
COMPILED = sorted(COMPILED_CELLS)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # as in skrnn's fits: the compiled loops' threads are the parallelism
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _problem(name, T, B, H, dtype, seed=0, D=1):
    rng = np.random.default_rng(seed)
    cell = CELLS[name]()
    params = {
        key: np.stack([value] * D)
        for key, value in cell.init_recurrent(rng, H, dtype).items()
    }
    for key, value in params.items():
        if key != "W_rec":
            value[:] = rng.uniform(-0.5, 0.5, value.shape)
    G = cell.n_gates * H
    xproj = (rng.standard_normal((T, D, B, G)) + cell.init_bias(H, dtype)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((D, B, H))).astype(dtype)
    dhs = rng.standard_normal((T, D, B, H)).astype(dtype)
    c0 = None
    if cell.has_cell_state:  # the LSTM's
        c0 = rng.standard_normal((D, B, H)).astype(dtype)
    return params, xproj, h0, dhs, c0


def _run(cell, params, xproj, h0, dhs, c0=None):
    out, cache = cell.forward(params, xproj, h0, c0)
    dxproj, grads, dh0 = cell.backward(params, dhs.copy(), cache)
    return {"out": out, **cache, "dxproj": dxproj, **grads, "dh0": dh0}


def _close(got, want, tol):
    assert got.shape == want.shape and got.dtype == want.dtype
    if want.size:
        scale = max(1.0, float(np.abs(want).max()))
        assert float(np.abs(got - want).max()) <= tol * scale


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="built on Linux")
def test_the_extension_is_built_and_used():
    """On Linux the install compiles every cell, and the engine runs them."""
    assert COMPILED == ["gru", "lstm", "rnn"]
    assert load("products") is not None and gemm.can_keep_rows_apart()
    assert load("dropout") is not None
    assert compiled_cells.compiled_isa().startswith("x86-64")
    for name in COMPILED:
        stack = recurrent.RecurrentStack(name, 3, 4)
        assert type(stack.cell) is COMPILED_CELLS[name]


@pytest.mark.parametrize("checkout", [True, False])
def test_an_unbuilt_source_tree_says_so(checkout, tmp_path):
    """Python started in a checkout imports the checkout, not the installed
    copy that ``pip install .`` built: without its kernels the engine runs the
    NumPy code, and a warning says why and what to do. A copy of the package
    without the checkout's files (an install without a compiler) stays quiet."""
    root = Path(skrnn.__file__).parents[1]
    shutil.copytree(
        root / "skrnn", tmp_path / "skrnn", ignore=shutil.ignore_patterns("*.so")
    )
    if checkout:
        for name in ("setup.py", "pyproject.toml"):
            shutil.copy(root / name, tmp_path / name)
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import skrnn; print(skrnn.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=True,
    )
    assert done.stdout.startswith(str(tmp_path / "skrnn"))
    warned = "where its compiled kernels are not built" in done.stderr
    assert warned == checkout, done.stderr
    if checkout:
        assert "pip install -e ." in done.stderr


def test_the_environment_variable_selects_the_numpy_cells(monkeypatch):
    monkeypatch.setenv("SKRNN_ENGINE", "numpy")
    for name in CELLS:
        assert cell_class(name) is CELLS[name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("name", COMPILED)
def test_matches_the_numpy_cell(name, T, B, H, dtype):
    problem = _problem(name, T, B, H, dtype)
    want = _run(CELLS[name](), *problem)
    with threads(2):
        got = _run(COMPILED_CELLS[name](), *problem)
    assert want.keys() == got.keys()
    for key in want:
        _close(got[key], want[key], TOL[dtype])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="built on Linux")
def test_the_class_softmax_calls_numpys_blas():
    """NumPy's Linux wheels carry an ILP64 OpenBLAS: the compiled kernels that
    call BLAS (the class softmax; the time loops have their own product) call
    it."""
    addresses = numpy_cblas64()
    assert addresses is not None and all(addresses)
    assert load("_blas").uses_cblas64()
    assert compiled_cells.compiled_blas() == "numpy"
    with pytest.raises(ValueError, match="both addresses"):
        load("_blas").use_cblas64(addresses[0], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K, N", [(1, 1), (5, 15), (33, 16), (128, 384), (200, 37)])
def test_panels_hold_the_weights_column_by_column(K, N, dtype):
    """``_panels``: panel p holds columns p * width onwards, 64 bytes wide, the
    last padded with zeros."""
    W = np.random.default_rng(0).standard_normal((K, N)).astype(dtype)
    panels = gemm.panels(W)
    width = 64 // W.itemsize
    assert panels.shape == (-(-N // width), K, width) and panels.flags.c_contiguous
    unpacked = panels.transpose(1, 0, 2).reshape(K, -1)
    np.testing.assert_array_equal(unpacked[:, :N], W)
    assert (unpacked[:, N:] == 0).all()
    # a strided view (the backward loops pack W_rec^T from one) packs the same
    np.testing.assert_array_equal(
        gemm.panels(W.T), gemm.panels(np.ascontiguousarray(W.T))
    )


@pytest.mark.parametrize("name", COMPILED)
def test_directions_stacked_on_the_second_axis(name):
    problem = _problem(name, 6, 9, 8, np.float64, seed=1, D=2)
    want = _run(CELLS[name](), *problem)
    got = _run(COMPILED_CELLS[name](), *problem)
    for key in want:
        _close(got[key], want[key], TOL[np.float64])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", COMPILED)
def test_results_do_not_depend_on_the_thread_count(name, dtype):
    """One block of rows per thread, and a row's every product the same chain of
    multiply-adds in any block (``panel_product.c``): 1, 2 and 3 threads give
    the loops the same bits. The weight gradient, a product over all steps
    whose blocks BLAS computes (``gemm.matmul``), agrees to rounding."""
    problem = _problem(name, 10, 100, 128, dtype, seed=1)
    cell = COMPILED_CELLS[name]()
    one = _run(cell, *problem)
    params, xproj = problem[:2]
    blocks = []
    with threads(3):  # enough rows and work for three blocks of every cell
        compiled_cells._in_blocks(
            lambda *args: blocks.append(args[-2:]),
            xproj[:, 0],
            compiled_cells._recurrent_weights(params, 0, dtype),
        )
    assert sorted(blocks) == [(0, 33), (33, 66), (66, 100)]
    for n_threads in (2, 3):
        with threads(n_threads):
            other = _run(cell, *problem)
        _close(other.pop("W_rec"), one["W_rec"], TOL[dtype])
        for key in other:
            np.testing.assert_array_equal(other[key], one[key], err_msg=key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", COMPILED)
def test_a_row_does_not_depend_on_the_rest_of_its_batch(name, dtype):
    """The rows of a batch run alone, in any company and any number (1 to 13
    rows: every tile of the product), to the same bits: what makes a
    sequence's prediction independent of its batch."""
    params, xproj, h0, dhs, c0 = _problem(name, 6, 40, 24, dtype, seed=3)
    cell = COMPILED_CELLS[name]()
    whole = _run(cell, params, xproj, h0, dhs, c0)
    for rows in [slice(5, 6), slice(0, 7), slice(9, 22), slice(30, 40, 3)]:
        part = _run(
            cell,
            params,
            xproj[:, :, rows],
            h0[:, rows],
            dhs[:, :, rows],
            None if c0 is None else c0[:, rows],
        )
        for key in part:
            if key in ("W_rec", "b_hn"):  # gradients: sums over the rows
                continue
            np.testing.assert_array_equal(part[key], whole[key][..., rows, :], key)


@pytest.mark.parametrize("name", COMPILED)
def test_cell_gradients_match_finite_differences(name):
    """float64, loss = sum(out * R): the compiled backward is the gradient of
    the compiled forward."""
    params, xproj, h0, _, c0 = _problem(name, 4, 35, 5, np.float64, seed=3)
    R = np.random.default_rng(4).standard_normal((4, 1, 35, 5))
    cell = COMPILED_CELLS[name]()

    def loss():
        return float((cell.forward(params, xproj, h0, c0)[0] * R).sum())

    out, cache = cell.forward(params, xproj, h0, c0)
    dxproj, grads, dh0 = cell.backward(params, R.copy(), cache)
    rng = np.random.default_rng(5)
    for label, array, grad in [
        ("xproj", xproj, dxproj),
        ("h0", h0, dh0),
        *[(key, params[key], grads[key]) for key in params],
    ]:
        flat, flat_grad = array.reshape(-1), grad.reshape(-1)
        for i in rng.choice(flat.size, size=min(12, flat.size), replace=False):
            keep = flat[i]
            flat[i] = keep + 1e-6
            up = loss()
            flat[i] = keep - 1e-6
            down = loss()
            flat[i] = keep
            numeric = (up - down) / 2e-6
            np.testing.assert_allclose(
                flat_grad[i], numeric, rtol=1e-6, atol=1e-8, err_msg=label
            )


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
@pytest.mark.parametrize("head", ["step", "max"])
@pytest.mark.parametrize("name", COMPILED)
def test_network_gradients_through_either_engine(name, head, engine, monkeypatch):
    """Through a whole 2-layer bidirectional network on ragged lengths, both
    engines give the finite-difference gradient (and the same loss)."""
    if engine == "numpy":
        monkeypatch.setenv("SKRNN_ENGINE", "numpy")
    rng = np.random.default_rng(0)
    net = _network(name, True, 2, head, alpha=0.01)
    expected = COMPILED_CELLS[name] if engine == "compiled" else CELLS[name]
    assert type(net.rnn.cell) is expected
    params = net.init_params(rng)
    batch = _batch(rng, head, lengths=np.array([5, 3, 1, 4]))
    with threads(2):
        _check_gradients(net, params, batch, rng)


@pytest.mark.parametrize("name", COMPILED)
def test_ragged_bidirectional_stack_matches_numpy(name, monkeypatch):
    rng = np.random.default_rng(6)
    lengths = np.array([9, 1, 5, 9, 2, 7] * 4)
    x = rng.standard_normal((9, lengths.size, 6))
    x[np.arange(9)[:, None] >= lengths] = 0.0
    dout = rng.standard_normal((9, lengths.size, 16))
    dout[np.arange(9)[:, None] >= lengths] = 0.0
    # an initial state for the first layer, with a cell state for the LSTM
    has_c = CELLS[name].has_cell_state
    initial_state = {
        (0, direction): (
            rng.standard_normal((lengths.size, 8)),
            rng.standard_normal((lengths.size, 8)) if has_c else None,
        )
        for direction in ("fw", "bw")
    }
    results = []
    for engine in ("compiled", "numpy"):
        monkeypatch.setenv("SKRNN_ENGINE", engine)
        stack = recurrent.RecurrentStack(name, 6, 8, 2, bidirectional=True)
        params = stack.init_params(np.random.default_rng(0), np.float64)
        with threads(2):
            out, final, cache = stack.forward(
                params, x, lengths, initial_state=initial_state
            )
            dx, grads, dh0 = stack.backward(params, dout, cache)
        results.append((out, dx, grads, final, dh0))
    (out, dx, grads, final, dh0), (out_np, dx_np, grads_np, final_np, dh0_np) = results
    _close(out, out_np, 1e-12)
    _close(dx, dx_np, 1e-12)
    for key in grads_np:
        _close(grads[key], grads_np[key], 1e-12)
    assert dh0.keys() == dh0_np.keys()
    for key in dh0_np:
        _close(dh0[key], dh0_np[key], 1e-12)
    assert final.keys() == final_np.keys()
    for key in final_np:
        (h, c), (h_np, c_np) = final[key], final_np[key]
        _close(h, h_np, 1e-12)
        assert (c is None) == (c_np is None) == (not has_c)
        if has_c:  # each sequence's cell state at its last valid step
            _close(c, c_np, 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", COMPILED)
def test_nan_propagates_like_numpy(name, dtype):
    """A NaN entering a step leaves its row NaN from there on, exactly where
    the NumPy cell has NaN, forward and backward, so the fit's NaN-loss check
    still fires; rows without NaN are untouched."""
    T, B, H = 6, 32, 16
    params, xproj, h0, dhs, c0 = _problem(name, T, B, H, dtype, seed=5)
    G = xproj.shape[-1]
    for t, b, j in [(2, 3, 5), (1, 9, G // 2 + 1), (4, 20, G - 1)]:
        xproj[t, 0, b, j] = np.nan
    h0[0, 30, 0] = np.nan
    if c0 is not None:
        c0[0, 28, 1] = np.nan
    dhs[3, 0, 25, 4] = np.nan
    with np.errstate(invalid="ignore"):
        want = _run(CELLS[name](), params, xproj, h0, dhs, c0)
    with threads(2):
        got = _run(COMPILED_CELLS[name](), params, xproj, h0, dhs, c0)
    for key in want:
        np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(want[key]), key)
        finite = np.isfinite(want[key])
        _close(got[key][finite], want[key][finite], TOL[dtype])
    assert not np.isnan(got["out"][:, 0, 0]).any()
    assert np.isnan(got["out"][3:, 0, 3]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", COMPILED)
def test_saturated_and_infinite_inputs_give_the_limits(name, dtype):
    """An overflowing exp gives inf and 1 / (1 + inf) = 0: saturated gates
    reach their limits with no NaN (what a -ffast-math build gets wrong in
    float32), as in the NumPy cell."""
    T, B, H = 2, 6, 16
    params, xproj, h0, dhs, c0 = _problem(name, T, B, H, dtype, seed=6)
    xproj[:, 0, 0] = 1e4
    xproj[:, 0, 1] = -1e4
    xproj[:, 0, 2] = np.inf
    xproj[:, 0, 3] = -50.0  # exp(-2 * -50) overflows in float32
    xproj[:, 0, 4] = -100.0
    with np.errstate(over="ignore", invalid="ignore"):
        want = _run(CELLS[name](), params, xproj, h0, dhs, c0)
    got = _run(COMPILED_CELLS[name](), params, xproj, h0, dhs, c0)
    for key in want:
        assert not np.isnan(got[key]).any(), key
        _close(got[key], want[key], TOL[dtype])


def test_import_does_not_set_flush_to_zero():
    """No -ffast-math at link time (crtfastmath.o): subnormals survive the
    import of the extension."""
    assert COMPILED
    assert (np.array([1e-40], dtype=np.float32) * np.float32(1.0))[0] != 0.0


@pytest.mark.parametrize("name", COMPILED)
def test_concurrent_calls_from_python_threads(name):
    """The directions of a layer run on two Python threads, each loop without
    the GIL: the same results as one after the other."""
    problems = [_problem(name, 30, 32, 64, np.float32, seed=s) for s in (7, 8)]
    cell = COMPILED_CELLS[name]()
    serial = [_run(cell, *p) for p in problems]
    with threads(2):
        for _ in range(3):
            parallel = map_threads(lambda p: _run(cell, *p), problems)
            for one, other in zip(serial, parallel, strict=True):
                for key in one:
                    np.testing.assert_array_equal(other[key], one[key], key)


@pytest.mark.parametrize("name", COMPILED)
def test_a_fit_matches_numpy_and_stops_on_a_nan_loss(name, monkeypatch):
    """A real fit through the compiled cells follows the NumPy fit's loss
    curve to float32 rounding, and a NaN weight stops the next fit with the
    diverged-loss error."""
    X, y = make_tagging(n_sequences=60, random_state=0)
    small = dict(
        cell=name,
        hidden_size=16,
        embedding_dim=8,
        word_features=WordFeatures(embedding_dim=4),
        max_iter=3,
        batch_size=16,
        learning_rate=0.02,
        early_stopping=False,
        random_state=0,
    )
    tagger = RNNTagger(**small, warm_start=True).fit(X, y)
    monkeypatch.setenv("SKRNN_ENGINE", "numpy")
    reference = RNNTagger(**small).fit(X, y)
    monkeypatch.delenv("SKRNN_ENGINE")
    np.testing.assert_allclose(tagger.loss_curve_, reference.loss_curve_, rtol=1e-4)
    key = next(k for k in tagger.params_ if k.endswith("W_rec"))
    tagger.params_[key][0, 0] = np.nan
    with pytest.raises(ValueError, match="diverged"):
        tagger.fit(X, y)


@pytest.mark.parametrize("name", COMPILED)
def test_kernels_refuse_inconsistent_shapes_and_blocks(name):
    """The kernels check every shape and the block's rows before they touch
    memory: a wrong hidden size or a block past the batch is a ValueError."""
    kernel = getattr(compiled_cells, f"_{name}")
    G = CELLS[name].n_gates * 4
    T, B, H = 3, 5, 4
    xproj = np.zeros((T, B, G))
    hs = np.zeros((T + 1, B, H))
    W = gemm.panels(np.zeros((H, G)))
    extra = {
        "gru": lambda: (
            np.zeros(H),
            hs,
            np.zeros((T, B, G)),
            np.zeros((T, B, H)),
            np.zeros((B, G)),
        ),
        "lstm": lambda: (
            hs,
            np.zeros((T + 1, B, H)),
            np.zeros((T, B, G)),
            np.zeros((T, B, H)),
        ),
        "rnn": lambda: (hs,),
    }[name]
    kernel.forward(xproj, W, *extra(), 0, B)  # consistent: runs
    with pytest.raises(ValueError, match="inconsistent"):
        wrong = gemm.panels(np.zeros((H + 1, G)))
        kernel.forward(xproj, wrong, *extra(), 0, B)
    with pytest.raises(ValueError, match="inconsistent"):  # not in panels
        kernel.forward(xproj, np.zeros((1, H, G)), *extra(), 0, B)
    with pytest.raises(ValueError, match="inconsistent"):
        kernel.forward(xproj, W, *extra(), 2, B + 1)
