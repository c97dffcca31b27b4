# cython: language_level=3
"""The one BLAS product of the time loops (``_blas.pyx``)."""

cdef void sgemm(char ta, char tb, int m, int n, int k, float alpha, float *a,
                int lda, float *b, int ldb, float beta, float *c,
                int ldc) noexcept nogil
cdef void dgemm(char ta, char tb, int m, int n, int k, double alpha, double *a,
                int lda, double *b, int ldb, double beta, double *c,
                int ldc) noexcept nogil
