# cython: language_level=3
"""The time loops' recurrent product (``panel_product.h``): a step's block of
rows against the recurrent weights, packed once per loop in column panels
(``gemm.panels``)."""

from ._common cimport real

cdef extern from "panel_product.h" nogil:
    enum: PANEL_BYTES
    void panel_product_f(int M, int N, int K, const float *A, int lda,
                         const float *W, float *C, int ldc, int accumulate)
    void panel_product_d(int M, int N, int K, const double *A, int lda,
                         const double *W, double *C, int ldc, int accumulate)


cdef inline void product(int m, int n, int k, real *a, int lda, real *w,
                         real *c, int ldc, bint accumulate) noexcept nogil:
    """Row-major ``c (m, n) = a (m, k) @ w (k, n)``, or ``+=`` when
    ``accumulate``; ``w`` packed in column panels."""
    if real is float:
        panel_product_f(m, n, k, a, lda, w, c, ldc, accumulate)
    else:
        panel_product_d(m, n, k, a, lda, w, c, ldc, accumulate)


cdef inline bint are_panels(Py_ssize_t *shape, int k, int n,
                            size_t itemsize) noexcept:
    """Whether an array of ``shape`` holds a ``(k, n)`` matrix in panels."""
    cdef Py_ssize_t width = PANEL_BYTES // itemsize
    return (shape[2] == width and shape[1] == k
            and shape[0] == (n + width - 1) // width)
