# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""The Elman cell's time loop (the engine's ``"rnn"``), forward and backward,
float32 and float64.

Layouts (C-contiguous, one direction): xproj, dhs, dpre ``(T, B, H)``; hs
``(T + 1, B, H)``; dh ``(B, H)``; the recurrent weights W ``(H, H)`` and W^T
in column panels (``_panel_product.pxd``). The cell is cells.py's
``ElmanCell``: ``h' = tanh(xp + h W)``.

One call runs the loop of one block of rows ``b0:b1`` without the GIL, as
every kernel here does (see ``__init__.py``).
"""

from ._common cimport real
from ._panel_product cimport are_panels, product

cdef extern from "rnn_gates.h" nogil:
    void rnn_fwd_gates_f(int nb, int H, const float *xp, float *h)
    void rnn_fwd_gates_d(int nb, int H, const double *xp, double *h)
    void rnn_bwd_gates_f(int nb, int H, const float *dhs, const float *h,
                         const float *dh, float *dpre)
    void rnn_bwd_gates_d(int nb, int H, const double *dhs, const double *h,
                         const double *dh, double *dpre)


cdef void _forward_rows(int T, int B, int H, int b0, int b1, real *xp, real *W,
                        real *hs) noexcept nogil:
    """The time loop of rows ``b0:b1``."""
    cdef int nb = b1 - b0, t
    cdef long sH = <long>B * H, oH = <long>b0 * H
    for t in range(T):
        # hs[t + 1] (nb, H) = h_{t-1} (nb, H) @ W (H, H), activated in place
        product(nb, H, H, hs + t * sH + oH, H, W, hs + (t + 1) * sH + oH, H,
                False)
        if real is float:
            rnn_fwd_gates_f(nb, H, xp + t * sH + oH, hs + (t + 1) * sH + oH)
        else:
            rnn_fwd_gates_d(nb, H, xp + t * sH + oH, hs + (t + 1) * sH + oH)


cdef void _backward_rows(int T, int B, int H, int b0, int b1, real *dhs,
                         real *W_T, real *hs, real *dpre,
                         real *dh) noexcept nogil:
    """The backward time loop of rows ``b0:b1``, from the last step to the
    first, carrying ``dh``."""
    cdef int nb = b1 - b0, t
    cdef long sH = <long>B * H, oH = <long>b0 * H
    for t in range(T - 1, -1, -1):
        if real is float:
            rnn_bwd_gates_f(nb, H, dhs + t * sH + oH, hs + (t + 1) * sH + oH,
                            dh + oH, dpre + t * sH + oH)
        else:
            rnn_bwd_gates_d(nb, H, dhs + t * sH + oH, hs + (t + 1) * sH + oH,
                            dh + oH, dpre + t * sH + oH)
        # dh (nb, H) = dpre (nb, H) @ W_T (H, H)
        product(nb, H, H, dpre + t * sH + oH, H, W_T, dh + oH, H, False)


def forward(real[:, :, ::1] xproj, real[:, :, ::1] W, real[:, :, ::1] hs,
            int b0, int b1):
    """Fill rows ``b0:b1`` of ``hs[1:]`` from those of ``xproj`` and
    ``hs[0]``, without the GIL."""
    cdef int T = xproj.shape[0], B = xproj.shape[1], H = xproj.shape[2]
    if (not are_panels(W.shape, H, H, sizeof(real))
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or not 0 <= b0 <= b1 <= B):
        raise ValueError("inconsistent shapes")
    if T == 0 or b0 == b1 or H == 0:
        return
    with nogil:
        _forward_rows(T, B, H, b0, b1, &xproj[0, 0, 0], &W[0, 0, 0], &hs[0, 0, 0])


def backward(real[:, :, ::1] dhs, real[:, :, ::1] W_T, real[:, :, ::1] hs,
             real[:, :, ::1] dpre, real[:, ::1] dh, int b0, int b1):
    """Fill rows ``b0:b1`` of ``dpre`` (the gradient of every step's
    pre-activation ``xp + h W_rec``, which is also that of ``xproj``) and
    ``dh``, which enters holding the gradient of the state after the last step
    beyond ``dhs`` (zeros) and leaves holding that of ``hs[0]``, without the
    GIL. ``W_T`` is ``W_rec`` transposed. The weight gradient is left to the
    caller (one GEMM over all steps)."""
    cdef int T = dhs.shape[0], B = dhs.shape[1], H = dhs.shape[2]
    if (not are_panels(W_T.shape, H, H, sizeof(real))
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or dpre.shape[0] != T or dpre.shape[1] != B or dpre.shape[2] != H
            or dh.shape[0] != B or dh.shape[1] != H
            or not 0 <= b0 <= b1 <= B):
        raise ValueError("inconsistent shapes")
    if T == 0 or b0 == b1 or H == 0:
        return
    with nogil:
        _backward_rows(T, B, H, b0, b1, &dhs[0, 0, 0], &W_T[0, 0, 0],
                       &hs[0, 0, 0], &dpre[0, 0, 0], &dh[0, 0])
