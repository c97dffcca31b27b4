# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""The LSTM's time loop, forward and backward, float32 and float64.

Layouts (C-contiguous, one direction): xproj, gates, dpre ``(T, B, 4H)``;
hs, cs ``(T + 1, B, H)``; tanh_c, dhs ``(T, B, H)``; dh, dc ``(B, H)``; the
recurrent weights W ``(H, 4H)`` and W^T in column panels (``_panel_product.pxd``). The gates are cells.py's ``LSTMCell``, in the order ``i, f, g, o``:
``i, f, o = sigmoid(xp + h W)``, ``g = tanh(xp_g + (h W)_g)``,
``c' = f c + i g``, ``h' = o tanh(c')``.

One call runs the loop of one block of rows ``b0:b1`` without the GIL, as
every kernel here does (see ``__init__.py``).
"""

from ._common cimport real
from ._panel_product cimport are_panels, product

cdef extern from "lstm_gates.h" nogil:
    void lstm_fwd_gates_f(int nb, int H, const float *xp, const float *c_prev,
                          float *gates, float *c, float *tanh_c, float *h)
    void lstm_fwd_gates_d(int nb, int H, const double *xp, const double *c_prev,
                          double *gates, double *c, double *tanh_c, double *h)
    void lstm_bwd_gates_f(int nb, int H, const float *dhs, const float *gates,
                          const float *c_prev, const float *tanh_c,
                          const float *dh, float *dc, float *dpre)
    void lstm_bwd_gates_d(int nb, int H, const double *dhs, const double *gates,
                          const double *c_prev, const double *tanh_c,
                          const double *dh, double *dc, double *dpre)


cdef void _forward_rows(int T, int B, int H, int b0, int b1, real *xp, real *W,
                        real *hs, real *cs, real *gates,
                        real *tanh_c) noexcept nogil:
    """The time loop of rows ``b0:b1``."""
    cdef int nb = b1 - b0, G = 4 * H, t
    cdef long sG = <long>B * G, sH = <long>B * H
    cdef long oG = <long>b0 * G, oH = <long>b0 * H
    for t in range(T):
        # gates[t] (nb, 4H) = h_{t-1} (nb, H) @ W (H, 4H), activated in place
        product(nb, G, H, hs + t * sH + oH, H, W, gates + t * sG + oG, G,
                False)
        if real is float:
            lstm_fwd_gates_f(nb, H, xp + t * sG + oG, cs + t * sH + oH,
                             gates + t * sG + oG, cs + (t + 1) * sH + oH,
                             tanh_c + t * sH + oH, hs + (t + 1) * sH + oH)
        else:
            lstm_fwd_gates_d(nb, H, xp + t * sG + oG, cs + t * sH + oH,
                             gates + t * sG + oG, cs + (t + 1) * sH + oH,
                             tanh_c + t * sH + oH, hs + (t + 1) * sH + oH)


cdef void _backward_rows(int T, int B, int H, int b0, int b1, real *dhs,
                         real *W_T, real *cs, real *gates, real *tanh_c,
                         real *dpre, real *dh, real *dc) noexcept nogil:
    """The backward time loop of rows ``b0:b1``, from the last step to the
    first, carrying ``dh`` and ``dc``."""
    cdef int nb = b1 - b0, G = 4 * H, t
    cdef long sG = <long>B * G, sH = <long>B * H
    cdef long oG = <long>b0 * G, oH = <long>b0 * H
    for t in range(T - 1, -1, -1):
        if real is float:
            lstm_bwd_gates_f(nb, H, dhs + t * sH + oH, gates + t * sG + oG,
                             cs + t * sH + oH, tanh_c + t * sH + oH, dh + oH,
                             dc + oH, dpre + t * sG + oG)
        else:
            lstm_bwd_gates_d(nb, H, dhs + t * sH + oH, gates + t * sG + oG,
                             cs + t * sH + oH, tanh_c + t * sH + oH, dh + oH,
                             dc + oH, dpre + t * sG + oG)
        # dh (nb, H) = dpre (nb, 4H) @ W_T (4H, H)
        product(nb, H, G, dpre + t * sG + oG, G, W_T, dh + oH, H, False)


def forward(real[:, :, ::1] xproj, real[:, :, ::1] W, real[:, :, ::1] hs,
            real[:, :, ::1] cs, real[:, :, ::1] gates, real[:, :, ::1] tanh_c,
            int b0, int b1):
    """Fill rows ``b0:b1`` of ``hs[1:]``, ``cs[1:]``, ``gates`` (after
    activation) and ``tanh_c`` from those of ``xproj``, ``hs[0]`` and ``cs[0]``,
    without the GIL."""
    cdef int T = xproj.shape[0], B = xproj.shape[1], G = xproj.shape[2]
    cdef int H = G // 4
    if (G != 4 * H or not are_panels(W.shape, H, G, sizeof(real))
            or hs.shape[0] != T + 1 or hs.shape[1] != B or hs.shape[2] != H
            or cs.shape[0] != T + 1 or cs.shape[1] != B or cs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or tanh_c.shape[0] != T or tanh_c.shape[1] != B
            or tanh_c.shape[2] != H
            or not 0 <= b0 <= b1 <= B):
        raise ValueError("inconsistent shapes")
    if T == 0 or b0 == b1 or H == 0:
        return
    with nogil:
        _forward_rows(T, B, H, b0, b1, &xproj[0, 0, 0], &W[0, 0, 0], &hs[0, 0, 0],
                      &cs[0, 0, 0], &gates[0, 0, 0], &tanh_c[0, 0, 0])


def backward(real[:, :, ::1] dhs, real[:, :, ::1] W_T, real[:, :, ::1] cs,
             real[:, :, ::1] gates, real[:, :, ::1] tanh_c,
             real[:, :, ::1] dpre, real[:, ::1] dh, real[:, ::1] dc, int b0,
             int b1):
    """Fill rows ``b0:b1`` of ``dpre`` (the gradient of every step's
    pre-activation ``xp + h W_rec``, which is also that of ``xproj``), ``dh``
    and ``dc``, without the GIL. ``dh`` and ``dc`` enter holding the gradients
    of the state after the last step beyond ``dhs`` (zeros) and leave holding
    those of ``hs[0]`` and ``cs[0]``. ``W_T`` is ``W_rec`` transposed,
    ``(4H, H)``. The weight gradient is left to the caller (one GEMM over all
    steps)."""
    cdef int T = dhs.shape[0], B = dhs.shape[1], H = dhs.shape[2]
    cdef int G = 4 * H
    if (not are_panels(W_T.shape, G, H, sizeof(real))
            or cs.shape[0] != T + 1 or cs.shape[1] != B or cs.shape[2] != H
            or gates.shape[0] != T or gates.shape[1] != B or gates.shape[2] != G
            or tanh_c.shape[0] != T or tanh_c.shape[1] != B
            or tanh_c.shape[2] != H
            or dpre.shape[0] != T or dpre.shape[1] != B or dpre.shape[2] != G
            or dh.shape[0] != B or dh.shape[1] != H
            or dc.shape[0] != B or dc.shape[1] != H
            or not 0 <= b0 <= b1 <= B):
        raise ValueError("inconsistent shapes")
    if T == 0 or b0 == b1 or H == 0:
        return
    with nogil:
        _backward_rows(T, B, H, b0, b1, &dhs[0, 0, 0], &W_T[0, 0, 0], &cs[0, 0, 0],
                       &gates[0, 0, 0], &tanh_c[0, 0, 0], &dpre[0, 0, 0],
                       &dh[0, 0], &dc[0, 0])
