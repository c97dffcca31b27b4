# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""The GRU's time loop, forward and backward, float32 and float64.

Layouts (C-contiguous, one direction): xproj, gates, drec, dxproj ``(T, B, 3H)``;
hs ``(T + 1, B, H)``; rec_n, dhs ``(T, B, H)``; dh ``(B, H)``; the recurrent
weights W ``(H, 3H)`` and W^T in column panels (``_panel_product.pxd``).
The gates are cells.py's ``GRUCell``: ``r, z = sigmoid(xp + h W)``,
``rec_n = (h W)_n + b_hn``, ``n = tanh(xp_n + r rec_n)``, ``h' = (h - n) z + n``.

One call runs the loop of one block of rows ``b0:b1`` without the GIL, as
every kernel here does (see ``__init__.py``).
"""

from ._common cimport real
from ._panel_product cimport are_panels, product

cdef extern from "simd.h":
    const char *simd_isa "gates_isa"()

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


def gates_isa():
    """The instruction set whose clone of the gate helpers runs on this CPU
    (the same for every cell's helper: they share ``simd.h``)."""
    return simd_isa().decode()


cdef void _forward_rows(int T, int B, int H, int b0, int b1, real *xp, real *W,
                        const real *b_hn, real *hs, real *gates, real *rec_n,
                        real *rec) noexcept nogil:
    """The time loop of rows ``b0:b1``."""
    cdef int nb = b1 - b0, G = 3 * H, t
    cdef long sG = <long>B * G, sH = <long>B * H
    cdef long oG = <long>b0 * G, oH = <long>b0 * H
    for t in range(T):
        # rec (nb, 3H) = h_{t-1} (nb, H) @ W (H, 3H)
        product(nb, G, H, hs + t * sH + oH, H, W, rec + oG, G, False)
        if real is float:
            gru_fwd_gates_f(nb, H, xp + t * sG + oG, rec + oG, b_hn,
                            hs + t * sH + oH, gates + t * sG + oG,
                            rec_n + t * sH + oH, hs + (t + 1) * sH + oH)
        else:
            gru_fwd_gates_d(nb, H, xp + t * sG + oG, rec + oG, b_hn,
                            hs + t * sH + oH, gates + t * sG + oG,
                            rec_n + t * sH + oH, hs + (t + 1) * sH + oH)


cdef void _backward_rows(int T, int B, int H, int b0, int b1, real *dhs,
                         real *W_T, real *hs, real *gates, real *rec_n,
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
        # dh (nb, H) += drec (nb, 3H) @ W_T (3H, H)
        product(nb, H, G, drec + t * sG + oG, G, W_T, dh + oH, H, True)


def forward(real[:, :, ::1] xproj, real[:, :, ::1] W, const real[::1] b_hn,
            real[:, :, ::1] hs, real[:, :, ::1] gates, real[:, :, ::1] rec_n,
            real[:, ::1] rec, int b0, int b1):
    """Fill rows ``b0:b1`` of ``hs[1:]``, ``gates`` and ``rec_n`` from those of
    ``xproj`` and ``hs[0]``, without the GIL (``rec``: scratch, ``(B, 3H)``)."""
    cdef int T = xproj.shape[0], B = xproj.shape[1], G = xproj.shape[2]
    cdef int H = G // 3
    if (G != 3 * H or not are_panels(W.shape, H, G, sizeof(real))
            or b_hn.shape[0] != H
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or rec_n.shape[0] != T or rec_n.shape[1] != B or rec_n.shape[2] != H
            or rec.shape[0] != B or rec.shape[1] != G
            or not 0 <= b0 <= b1 <= B):
        raise ValueError("inconsistent shapes")
    if T == 0 or b0 == b1 or H == 0:
        return
    with nogil:
        _forward_rows(T, B, H, b0, b1, &xproj[0, 0, 0], &W[0, 0, 0], &b_hn[0],
                      &hs[0, 0, 0], &gates[0, 0, 0], &rec_n[0, 0, 0], &rec[0, 0])


def backward(real[:, :, ::1] dhs, real[:, :, ::1] W_T, real[:, :, ::1] hs,
             real[:, :, ::1] gates, real[:, :, ::1] rec_n, real[:, :, ::1] drec,
             real[:, :, ::1] dxproj, real[:, ::1] dh, int b0, int b1):
    """Fill rows ``b0:b1`` of ``drec`` (the gradient of every step's
    ``h W_rec + [0, 0, b_hn]``), ``dxproj`` and ``dh``, which enters holding the
    gradient of the state after the last step beyond ``dhs`` (zeros) and leaves
    holding that of ``hs[0]``, without the GIL. ``W_T`` is ``W_rec``
    transposed, ``(3H, H)``. The weight gradients are left to the caller (one
    GEMM over all steps)."""
    cdef int T = dhs.shape[0], B = dhs.shape[1], H = dhs.shape[2]
    cdef int G = 3 * H
    if (not are_panels(W_T.shape, G, H, sizeof(real))
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or rec_n.shape[0] != T or rec_n.shape[1] != B or rec_n.shape[2] != H
            or drec.shape[0] != T or drec.shape[1] != B or drec.shape[2] != G
            or dxproj.shape[0] != T or dxproj.shape[1] != B
            or dxproj.shape[2] != G or dh.shape[0] != B or dh.shape[1] != H
            or not 0 <= b0 <= b1 <= B):
        raise ValueError("inconsistent shapes")
    if T == 0 or b0 == b1 or H == 0:
        return
    with nogil:
        _backward_rows(T, B, H, b0, b1, &dhs[0, 0, 0], &W_T[0, 0, 0], &hs[0, 0, 0],
                       &gates[0, 0, 0], &rec_n[0, 0, 0], &drec[0, 0, 0],
                       &dxproj[0, 0, 0], &dh[0, 0])
