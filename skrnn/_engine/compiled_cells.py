"""The cells' time loops compiled, for the engine's default path.

``cells.py`` is the reference: each cell's time loop in NumPy, as the slides
write it. The cells here have the same parameters, interface, cache and results
(to float rounding; the tests compare them), but run the time loop of a batch in
C without the GIL (``_kernels``): the batch is cut into one block of rows per
thread that ``gemm.threads`` allows, and each block's whole loop is one call on
a thread of its own (the rows of a batch never interact, so the threads never
wait for each other between steps). Plain Python threads, not OpenMP: a thread
that waits sleeps instead of spinning on a core that other work needs, and the
threads are the ones the rest of the engine already uses.

A step's recurrent product is not a BLAS call but ``_kernels/panel_product.c``,
against the recurrent weights packed once per loop (``gemm.panels``): a BLAS call
packs them anew every step, which cost the language model's loops half their
time. Its every output is the same chain of multiply-adds whatever rows are
computed beside it, so results do not depend on the thread count, nor on the
other sequences of a batch: they are the same bit for bit.

``cell_class(name)`` is what the engine builds: the compiled cell when its
extension was built (``pip install`` compiles it where a C compiler is
found), the NumPy cell otherwise or when the environment variable
``SKRNN_ENGINE=numpy`` is set when the network is built.
"""

import numpy as np

from ._kernels import load, numpy_engine_requested
from .cells import CELLS, ElmanCell, GRUCell, LSTMCell, _sum_outer
from .gemm import can_keep_rows_apart, map_ranges, panels, thread_count

# named as cells.CELLS names the cells
_gru, _lstm, _rnn = load("gru"), load("lstm"), load("rnn")

# The fewest rows a block of the batch may have, and the fewest multiply-adds of
# its product a step: below them a step's product is too small to share. Two
# threads each running the Elman tagger's 16 x 128 x 128 products made its epoch
# 1.5x slower than one thread running 32 rows (session 17), while the GRU's and
# the LSTM's three and four times larger products gained from the split.
_MIN_BLOCK_ROWS = 8
_MIN_BLOCK_WORK = 2**19


class CompiledGRUCell(GRUCell):
    """``GRUCell`` with its forward and backward time loops in ``_kernels.gru``."""

    def forward(self, params, xproj, h0, c0=None):
        T, D, B, G = xproj.shape
        H = G // 3
        hs = _by_direction((T + 1, D, B, H), xproj.dtype)
        hs[0] = h0
        gates = _by_direction((T, D, B, G), xproj.dtype)
        rec_n = _by_direction((T, D, B, H), xproj.dtype)
        for d in range(D):
            _in_blocks(
                _gru.forward,
                _contiguous(xproj[:, d]),
                _recurrent_weights(params, d, xproj.dtype),
                _contiguous(params["b_hn"][d], xproj.dtype),
                hs[:, d],
                gates[:, d],
                rec_n[:, d],
                np.empty((B, G), dtype=xproj.dtype),
            )
        return hs[1:], {"hs": hs, "gates": gates, "rec_n": rec_n}

    def backward(self, params, dhs, cache):
        hs, gates, rec_n = cache["hs"], cache["gates"], cache["rec_n"]
        T, D, B, H = dhs.shape
        drec = _by_direction((T, D, B, 3 * H), dhs.dtype)
        dxproj = _by_direction((T, D, B, 3 * H), dhs.dtype)
        dh = np.zeros((D, B, H), dtype=dhs.dtype)
        W_T = _transposed_weights(params, dhs.dtype)
        for d in range(D):
            _in_blocks(
                _gru.backward,
                _contiguous(dhs[:, d]),
                W_T[d],
                hs[:, d],
                gates[:, d],
                rec_n[:, d],
                drec[:, d],
                dxproj[:, d],
                dh[d],
            )
        grads = {
            "W_rec": _sum_outer(hs[:-1], drec),
            "b_hn": drec[..., 2 * H :].sum(axis=(0, 2)),
        }
        return dxproj, grads, dh


class CompiledLSTMCell(LSTMCell):
    """``LSTMCell`` with its forward and backward time loops in ``_kernels.lstm``."""

    def forward(self, params, xproj, h0, c0=None):
        T, D, B, G = xproj.shape
        H = G // 4
        hs = _by_direction((T + 1, D, B, H), xproj.dtype)
        cs = _by_direction((T + 1, D, B, H), xproj.dtype)
        hs[0] = h0
        cs[0] = 0.0 if c0 is None else c0
        gates = _by_direction((T, D, B, G), xproj.dtype)
        tanh_c = _by_direction((T, D, B, H), xproj.dtype)
        for d in range(D):
            _in_blocks(
                _lstm.forward,
                _contiguous(xproj[:, d]),
                _recurrent_weights(params, d, xproj.dtype),
                hs[:, d],
                cs[:, d],
                gates[:, d],
                tanh_c[:, d],
            )
        return hs[1:], {"hs": hs, "cs": cs, "gates": gates, "tanh_c": tanh_c}

    def backward(self, params, dhs, cache):
        hs, cs, gates, tanh_c = (
            cache["hs"],
            cache["cs"],
            cache["gates"],
            cache["tanh_c"],
        )
        T, D, B, H = dhs.shape
        dpre = _by_direction((T, D, B, 4 * H), dhs.dtype)
        dh = np.zeros((D, B, H), dtype=dhs.dtype)
        dc = np.zeros((D, B, H), dtype=dhs.dtype)  # that of cs[0] is not returned
        W_T = _transposed_weights(params, dhs.dtype)
        for d in range(D):
            _in_blocks(
                _lstm.backward,
                _contiguous(dhs[:, d]),
                W_T[d],
                cs[:, d],
                gates[:, d],
                tanh_c[:, d],
                dpre[:, d],
                dh[d],
                dc[d],
            )
        return dpre, {"W_rec": _sum_outer(hs[:-1], dpre)}, dh


class CompiledElmanCell(ElmanCell):
    """``ElmanCell`` with its forward and backward time loops in ``_kernels.rnn``."""

    def forward(self, params, xproj, h0, c0=None):
        T, D, B, H = xproj.shape
        hs = _by_direction((T + 1, D, B, H), xproj.dtype)
        hs[0] = h0
        for d in range(D):
            _in_blocks(
                _rnn.forward,
                _contiguous(xproj[:, d]),
                _recurrent_weights(params, d, xproj.dtype),
                hs[:, d],
            )
        return hs[1:], {"hs": hs}

    def backward(self, params, dhs, cache):
        hs = cache["hs"]
        T, D, B, H = dhs.shape
        dpre = _by_direction((T, D, B, H), dhs.dtype)
        dh = np.zeros((D, B, H), dtype=dhs.dtype)
        W_T = _transposed_weights(params, dhs.dtype)
        for d in range(D):
            _in_blocks(
                _rnn.backward,
                _contiguous(dhs[:, d]),
                W_T[d],
                hs[:, d],
                dpre[:, d],
                dh[d],
            )
        return dpre, {"W_rec": _sum_outer(hs[:-1], dpre)}, dh


COMPILED_CELLS = {
    name: cls
    for name, cls, kernel in [
        ("gru", CompiledGRUCell, _gru),
        ("lstm", CompiledLSTMCell, _lstm),
        ("rnn", CompiledElmanCell, _rnn),
    ]
    if kernel is not None
}


def cell_class(name):
    """The class of cell ``name`` the engine runs: compiled where available."""
    if numpy_engine_requested():
        return CELLS[name]
    return COMPILED_CELLS.get(name, CELLS[name])


def keeps_rows_apart(name):
    """Whether a network of cell ``name`` computes every product with each row
    apart from the others inside ``gemm.rows_apart``: its compiled cell runs
    the loops and the whole-matrix product was built."""
    return cell_class(name) is COMPILED_CELLS.get(name) and can_keep_rows_apart()


def compiled_isa():
    """Which CPU's clone of the compiled gate arithmetic runs here, or None when
    the extension is not built."""
    return None if _gru is None else _gru.gates_isa()


def compiled_blas():
    """Whose BLAS the compiled kernels call (the language model's class softmax;
    the time loops call none): ``"numpy"`` (the one NumPy's ``@`` calls) or
    ``"scipy"`` (``scipy.linalg.cython_blas``), or None when the extension is
    not built."""
    blas = load("_blas")
    if blas is None:
        return None
    return "numpy" if blas.uses_cblas64() else "scipy"


def _in_blocks(kernel, *arrays):
    """``kernel(*arrays, b0, b1)`` on each block of rows of the batch (the
    second axis of ``arrays[0]``), one block per thread that ``gemm.threads``
    allows, each call running its loop without the GIL."""
    B = arrays[0].shape[1]
    step_work = B * arrays[1].size  # arrays[1]: the recurrent weights in panels
    n = max(1, min(thread_count(), B // _MIN_BLOCK_ROWS, step_work // _MIN_BLOCK_WORK))
    map_ranges(lambda b0, b1: kernel(*arrays, b0, b1), B, n)


def _by_direction(shape, dtype):
    """An empty time-major ``(T, D, B, K)`` array whose every direction
    ``[:, d]`` is C-contiguous, as the kernels need."""
    T, D, B, K = shape
    return np.empty((D, T, B, K), dtype=dtype).transpose(1, 0, 2, 3)


def _contiguous(a, dtype=None):
    return np.ascontiguousarray(a, dtype=dtype)


def _recurrent_weights(params, d, dtype):
    """``W_rec`` of direction ``d`` in the dtype of the loop, in panels."""
    return panels(params["W_rec"][d].astype(dtype, copy=False))


def _transposed_weights(params, dtype):
    """``W_rec^T`` of every direction in the dtype of the loop, in panels: the
    backward loops' product."""
    return [panels(W.T.astype(dtype, copy=False)) for W in params["W_rec"]]
