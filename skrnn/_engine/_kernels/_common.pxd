# cython: language_level=3
"""What every compiled time loop shares: the float type and one BLAS product."""

from ._blas cimport dgemm, sgemm

ctypedef fused real:
    float
    double


cdef inline void gemm(char ta, char tb, int m, int n, int k, real alpha,
                      real *a, int lda, real *b, int ldb, real beta, real *c,
                      int ldc) noexcept nogil:
    """Column-major ``c = alpha op(a) op(b) + beta c``: a row-major product
    ``C = A @ B`` is ``gemm('N', 'N', ..., B, A, ...)``."""
    if real is float:
        sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    else:
        dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
