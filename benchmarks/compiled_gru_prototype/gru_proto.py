"""``CompiledGRUCell``: skrnn's GRUCell with its time loops in ``_gru``.

Same interface, parameters, cache and results (to float tolerance) as
``skrnn._engine.cells.GRUCell``: ``forward(params, xproj, h0)`` with ``xproj``
``(T, 1, B, 3H)``, ``params["W_rec"]`` ``(1, H, 3H)``, ``params["b_hn"]``
``(1, H)``; ``backward(params, dhs, cache)`` returns ``(dxproj, grads, dh)``.
Only ``D = 1`` (``RecurrentStack`` calls a cell once per direction).

``n_threads``: how many OpenMP threads the time loops use, each running the loop
of its own blocks of rows. ``slice_rows``: rows per block (default 16; the
blocks depend on the batch size only, so results are the same bit for bit at
any ``n_threads``); 0 for one block per thread (fewer BLAS calls, results equal
across thread counts only to rounding).

The weight gradient ``sum_t h_{t-1}^T drec_t`` is one GEMM over all steps after
the compiled loop, by skrnn's own ``_sum_outer`` exactly as in cells.py (it
splits across the threads that ``skrnn._engine.gemm.threads`` allows).

BLAS must be limited to one thread around the calls
(``threadpoolctl.threadpool_limits(1, "blas")``; skrnn's fits do).
"""

import _gru
import numpy as np

from skrnn._engine.cells import GRUCell, _sum_outer


class CompiledGRUCell(GRUCell):
    def __init__(self, n_threads=1, slice_rows=16):
        self.n_threads = n_threads
        self.slice_rows = slice_rows

    def forward(self, params, xproj, h0, c0=None):
        T, D, B, G = xproj.shape
        if D != 1:
            raise ValueError("one direction per call")
        H = G // 3
        dtype = xproj.dtype
        W = np.ascontiguousarray(params["W_rec"][0], dtype=dtype)
        b_hn = np.ascontiguousarray(params["b_hn"][0], dtype=dtype)
        hs = np.empty((T + 1, 1, B, H), dtype=dtype)
        hs[0] = h0
        gates = np.empty((T, 1, B, G), dtype=dtype)
        rec_n = np.empty((T, 1, B, H), dtype=dtype)
        _gru.forward(
            np.ascontiguousarray(xproj[:, 0]),
            W,
            b_hn,
            hs[:, 0],
            gates[:, 0],
            rec_n[:, 0],
            self.n_threads,
            self.slice_rows,
        )
        return hs[1:], {"hs": hs, "gates": gates, "rec_n": rec_n}

    def backward(self, params, dhs, cache):
        T, D, B, H = dhs.shape
        if D != 1:
            raise ValueError("one direction per call")
        dtype = dhs.dtype
        W = np.ascontiguousarray(params["W_rec"][0], dtype=dtype)
        hs, gates, rec_n = cache["hs"], cache["gates"], cache["rec_n"]
        drec = np.empty((T, 1, B, 3 * H), dtype=dtype)
        dxproj = np.empty((T, 1, B, 3 * H), dtype=dtype)
        dh = np.zeros((1, B, H), dtype=dtype)
        _gru.backward(
            np.ascontiguousarray(dhs[:, 0]),
            W,
            hs[:, 0],
            gates[:, 0],
            rec_n[:, 0],
            drec[:, 0],
            dxproj[:, 0],
            dh[0],
            self.n_threads,
            self.slice_rows,
        )
        grads = {
            "W_rec": _sum_outer(hs[:-1], drec),
            "b_hn": drec[..., 2 * H :].sum(axis=(0, 2)),
        }
        return dxproj, grads, dh
