# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""Compiled GRU time loop, forward and backward, float32 and float64.

The batch is cut into blocks of rows (``_n_slices``); each block runs the whole
time loop on an OpenMP thread without the GIL (the rows of a batch are
independent, so the threads never wait for each other between steps), the
blocks shared among ``n_threads`` threads. With ``slice_rows > 0`` (default 16)
the blocks depend on ``B`` only, and results are bit for bit the same at any
thread count; ``slice_rows=0`` gives one block per thread. A step of a block is one BLAS call (``?gemm`` from
``scipy.linalg.cython_blas``) for the recurrent product and one call of the C
gate helper (gru_gates.c, vectorised with glibc's libmvec; see setup.py).

Layouts (all C-contiguous, the direction axis of cells.py removed, D = 1):
xproj, gates, drec, dxproj ``(T, B, 3H)``; hs ``(T + 1, B, H)``; rec_n, dhs
``(T, B, H)``; W ``(H, 3H)``; dh ``(B, H)``.

BLAS must run on one thread (``threadpool_limits(1, "blas")``, as skrnn fits
do): the threads here are the parallelism, and OpenBLAS's own threads would
contend with them.
"""

from cython.parallel cimport prange
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec
from scipy.linalg.cython_blas cimport dgemm, sgemm

import numpy as np

cdef extern from "gru_gates.h" nogil:
    void gru_fwd_gates_f(int nb, int H, const float *xp, const float *rec,
                         const float *b_hn, const float *h_prev, float *gates,
                         float *rec_n, float *h)
    void gru_fwd_gates_d(int nb, int H, const double *xp, const double *rec,
                         const double *b_hn, const double *h_prev, double *gates,
                         double *rec_n, double *h)
    void gru_bwd_gates_f(int nb, int H, const float *dhs, const float *gates,
                         const float *rec_n, const float *h_prev, float *dh,
                         float *drec, float *dxp)
    void gru_bwd_gates_d(int nb, int H, const double *dhs, const double *gates,
                         const double *rec_n, const double *h_prev, double *dh,
                         double *drec, double *dxp)
    const char *gru_gates_isa()
    const char *gru_gates_mode()

ctypedef fused real:
    float
    double

def gates_isa():
    """The instruction set whose clone of the gate helper runs on this CPU."""
    return gru_gates_isa().decode()


def gates_mode():
    """How the gate helper was compiled: IEEE or -ffast-math."""
    return gru_gates_mode().decode()


cdef inline void _gemm(char ta, char tb, int m, int n, int k, real alpha,
                       real *a, int lda, real *b, int ldb, real beta, real *c,
                       int ldc) noexcept nogil:
    """Column-major ``c = alpha op(a) op(b) + beta c``."""
    if real is float:
        sgemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc)


cdef void _forward_rows(int T, int B, int H, int b0, int b1, real *xp, real *W,
                        real *b_hn, real *hs, real *gates, real *rec_n,
                        real *rec) noexcept nogil:
    """The time loop of rows ``b0:b1``."""
    cdef int nb = b1 - b0, G = 3 * H, t
    cdef long sG = <long>B * G, sH = <long>B * H
    cdef long oG = <long>b0 * G, oH = <long>b0 * H
    for t in range(T):
        # rec (nb, 3H) = h_{t-1} (nb, H) @ W (H, 3H), row-major; i.e. in BLAS's
        # column-major terms rec^T = W^T h^T
        _gemm(c'N', c'N', G, nb, H, <real>1, W, G, hs + t * sH + oH, H,
              <real>0, rec + oG, G)
        if real is float:
            gru_fwd_gates_f(nb, H, xp + t * sG + oG, rec + oG, b_hn,
                            hs + t * sH + oH, gates + t * sG + oG,
                            rec_n + t * sH + oH, hs + (t + 1) * sH + oH)
        else:
            gru_fwd_gates_d(nb, H, xp + t * sG + oG, rec + oG, b_hn,
                            hs + t * sH + oH, gates + t * sG + oG,
                            rec_n + t * sH + oH, hs + (t + 1) * sH + oH)


cdef void _backward_rows(int T, int B, int H, int b0, int b1, real *dhs,
                         real *W, real *hs, real *gates, real *rec_n,
                         real *drec, real *dxp, real *dh) noexcept nogil:
    """The backward time loop of rows ``b0:b1``, from the last step to the
    first, carrying ``dh``."""
    cdef int nb = b1 - b0, G = 3 * H, t
    cdef long sG = <long>B * G, sH = <long>B * H
    cdef long oG = <long>b0 * G, oH = <long>b0 * H
    for t in range(T - 1, -1, -1):
        if real is float:
            gru_bwd_gates_f(nb, H, dhs + t * sH + oH, gates + t * sG + oG,
                            rec_n + t * sH + oH, hs + t * sH + oH, dh + oH,
                            drec + t * sG + oG, dxp + t * sG + oG)
        else:
            gru_bwd_gates_d(nb, H, dhs + t * sH + oH, gates + t * sG + oG,
                            rec_n + t * sH + oH, hs + t * sH + oH, dh + oH,
                            drec + t * sG + oG, dxp + t * sG + oG)
        # dh (nb, H) += drec (nb, 3H) @ W^T (3H, H); column-major:
        # dh^T += (W^T)^T drec^T
        _gemm(c'T', c'N', H, nb, G, <real>1, W, G, drec + t * sG + oG, G,
              <real>1, dh + oH, H)


cdef inline int _n_slices(int B, int n_threads, int slice_rows) noexcept nogil:
    """How many blocks of rows the batch is cut into.

    ``slice_rows > 0``: blocks of about ``slice_rows`` rows, a function of ``B``
    only, never of the thread count, so that every block is the same sequence
    of BLAS calls however many threads share the blocks: results are bit for
    bit the same at any thread count (BLAS rounds a row's product differently
    depending on how many rows its call has and where the row falls in them).
    ``slice_rows == 0``: one block per thread (the fewest, largest BLAS calls;
    results then depend on the thread count, to rounding).
    """
    cdef int ns
    if slice_rows > 0:
        ns = (B + slice_rows - 1) // slice_rows
    else:
        ns = n_threads
    if ns > B:
        ns = B
    return ns if ns > 1 else 1


def forward(real[:, :, ::1] xproj, real[:, ::1] W, real[::1] b_hn,
            real[:, :, ::1] hs, real[:, :, ::1] gates, real[:, :, ::1] rec_n,
            int n_threads=1, int slice_rows=16):
    """Fill ``hs[1:]``, ``gates`` and ``rec_n`` from ``xproj`` and ``hs[0]``."""
    cdef int T = xproj.shape[0], B = xproj.shape[1], G = xproj.shape[2]
    cdef int H = G // 3
    if (G != 3 * H or W.shape[0] != H or W.shape[1] != G or b_hn.shape[0] != H
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or rec_n.shape[0] != T or rec_n.shape[1] != B or rec_n.shape[2] != H):
        raise ValueError("inconsistent shapes")
    if T == 0 or B == 0 or H == 0:
        return
    cdef int ns = _n_slices(B, n_threads, slice_rows), s
    cdef int nt = n_threads if n_threads < ns else ns
    # the product of a step, one row per batch element: row b sits at the same
    # address whatever the slicing
    rec_array = np.empty((B, G), dtype=np.float32 if real is float else np.float64)
    cdef real[:, ::1] rec = rec_array
    cdef real *p_xp = &xproj[0, 0, 0]
    cdef real *p_W = &W[0, 0]
    cdef real *p_b = &b_hn[0]
    cdef real *p_hs = &hs[0, 0, 0]
    cdef real *p_g = &gates[0, 0, 0]
    cdef real *p_rn = &rec_n[0, 0, 0]
    cdef real *p_rec = &rec[0, 0]
    with nogil:
        if nt <= 1:
            for s in range(ns):
                _forward_rows(T, B, H, s * B // ns, (s + 1) * B // ns, p_xp, p_W,
                              p_b, p_hs, p_g, p_rn, p_rec)
        else:
            for s in prange(ns, num_threads=nt, schedule="static", chunksize=1):
                _forward_rows(T, B, H, s * B // ns, (s + 1) * B // ns, p_xp, p_W,
                              p_b, p_hs, p_g, p_rn, p_rec)


def backward(real[:, :, ::1] dhs, real[:, ::1] W, real[:, :, ::1] hs,
             real[:, :, ::1] gates, real[:, :, ::1] rec_n, real[:, :, ::1] drec,
             real[:, :, ::1] dxproj, real[:, ::1] dh, int n_threads=1,
             int slice_rows=16):
    """Fill ``drec`` (gradient of every step's ``h W_rec + [0, 0, b_hn]``),
    ``dxproj`` and ``dh``, which enters holding the gradient of the last state
    beyond ``dhs`` (usually zeros) and leaves holding that of ``hs[0]``.
    The weight gradient ``sum_t hs[t]^T drec[t]`` is left to the caller (one
    GEMM over all steps)."""
    cdef int T = dhs.shape[0], B = dhs.shape[1], H = dhs.shape[2]
    cdef int G = 3 * H
    if (W.shape[0] != H or W.shape[1] != G
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or rec_n.shape[0] != T or rec_n.shape[1] != B or rec_n.shape[2] != H
            or drec.shape[0] != T or drec.shape[1] != B or drec.shape[2] != G
            or dxproj.shape[0] != T or dxproj.shape[1] != B
            or dxproj.shape[2] != G or dh.shape[0] != B or dh.shape[1] != H):
        raise ValueError("inconsistent shapes")
    if T == 0 or B == 0 or H == 0:
        return
    cdef int ns = _n_slices(B, n_threads, slice_rows), s
    cdef int nt = n_threads if n_threads < ns else ns
    cdef real *p_dhs = &dhs[0, 0, 0]
    cdef real *p_W = &W[0, 0]
    cdef real *p_hs = &hs[0, 0, 0]
    cdef real *p_g = &gates[0, 0, 0]
    cdef real *p_rn = &rec_n[0, 0, 0]
    cdef real *p_drec = &drec[0, 0, 0]
    cdef real *p_dxp = &dxproj[0, 0, 0]
    cdef real *p_dh = &dh[0, 0]
    with nogil:
        if nt <= 1:
            for s in range(ns):
                _backward_rows(T, B, H, s * B // ns, (s + 1) * B // ns, p_dhs,
                               p_W, p_hs, p_g, p_rn, p_drec, p_dxp, p_dh)
        else:
            for s in prange(ns, num_threads=nt, schedule="static", chunksize=1):
                _backward_rows(T, B, H, s * B // ns, (s + 1) * B // ns, p_dhs,
                               p_W, p_hs, p_g, p_rn, p_drec, p_dxp, p_dh)


cdef double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


def profile_forward(real[:, :, ::1] xproj, real[:, ::1] W, real[::1] b_hn,
                    real[:, :, ::1] hs, real[:, :, ::1] gates,
                    real[:, :, ::1] rec_n, int slice_rows=16):
    """``forward`` on one thread, timing its parts: returns the seconds spent
    in the BLAS calls and in the gate helper (for bench_step.py)."""
    cdef int T = xproj.shape[0], B = xproj.shape[1], G = xproj.shape[2]
    cdef int H = G // 3
    if (G != 3 * H or W.shape[0] != H or W.shape[1] != G or b_hn.shape[0] != H
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or rec_n.shape[0] != T or rec_n.shape[1] != B or rec_n.shape[2] != H):
        raise ValueError("inconsistent shapes")
    if T == 0 or B == 0 or H == 0:
        return 0.0, 0.0
    cdef int ns = _n_slices(B, 1, slice_rows), s, t, b0, nb
    rec_array = np.empty((B, G), dtype=np.float32 if real is float else np.float64)
    cdef real[:, ::1] rec = rec_array
    cdef real *xp = &xproj[0, 0, 0]
    cdef real *pW = &W[0, 0]
    cdef real *pb = &b_hn[0]
    cdef real *phs = &hs[0, 0, 0]
    cdef real *pg = &gates[0, 0, 0]
    cdef real *prn = &rec_n[0, 0, 0]
    cdef real *prec = &rec[0, 0]
    cdef long sG = <long>B * G, sH = <long>B * H, oG, oH
    cdef double t_gemm = 0, t_gates = 0, t0, t1, t2
    with nogil:
        for s in range(ns):
            b0 = s * B // ns
            nb = (s + 1) * B // ns - b0
            oG = <long>b0 * G
            oH = <long>b0 * H
            for t in range(T):
                t0 = _now()
                _gemm(c'N', c'N', G, nb, H, <real>1, pW, G, phs + t * sH + oH, H,
                      <real>0, prec + oG, G)
                t1 = _now()
                if real is float:
                    gru_fwd_gates_f(nb, H, xp + t * sG + oG, prec + oG, pb,
                                    phs + t * sH + oH, pg + t * sG + oG,
                                    prn + t * sH + oH, phs + (t + 1) * sH + oH)
                else:
                    gru_fwd_gates_d(nb, H, xp + t * sG + oG, prec + oG, pb,
                                    phs + t * sH + oH, pg + t * sG + oG,
                                    prn + t * sH + oH, phs + (t + 1) * sH + oH)
                t2 = _now()
                t_gemm += t1 - t0
                t_gates += t2 - t1
    return t_gemm, t_gates
