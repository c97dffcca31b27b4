# cython: language_level=3, boundscheck=False, wraparound=False
"""The BLAS product the time loops call: NumPy's BLAS where its CBLAS products
were found (``use_cblas64``), SciPy's (``scipy.linalg.cython_blas``) otherwise.

Why NumPy's: the time loops' products are small (a block of 8-32 rows against
the recurrent weights, every step), and the OpenBLAS that NumPy's wheels carry
ran them up to 2x faster than the one SciPy's wheels carry (float32, session
19: 16 x 128 @ 128 x 512 in 37 us against 63 us), while float64 was level.
It is also the BLAS of NumPy's ``@``, which runs every other product of the
engine and the reference cells' steps.

NumPy's wheels export CBLAS with 64-bit integers (ILP64, the ``64_`` suffix);
``skrnn._engine._kernels`` looks the two symbols up and passes their
addresses here. The arguments keep the column-major Fortran convention of
``cython_blas``; a CBLAS call is told so (``CblasColMajor``).
"""

from libc.stdint cimport int64_t, uintptr_t
from scipy.linalg cimport cython_blas

ctypedef void (*sgemm64_t)(int order, int ta, int tb, int64_t m, int64_t n,
                           int64_t k, float alpha, const float *a, int64_t lda,
                           const float *b, int64_t ldb, float beta, float *c,
                           int64_t ldc) noexcept nogil
ctypedef void (*dgemm64_t)(int order, int ta, int tb, int64_t m, int64_t n,
                           int64_t k, double alpha, const double *a,
                           int64_t lda, const double *b, int64_t ldb,
                           double beta, double *c, int64_t ldc) noexcept nogil

cdef enum:
    COL_MAJOR = 102  # CBLAS's enum values
    NO_TRANS = 111
    TRANS = 112

cdef sgemm64_t _sgemm64 = NULL
cdef dgemm64_t _dgemm64 = NULL


cdef inline int _trans(char t) noexcept nogil:
    return TRANS if t == b'T' or t == b't' else NO_TRANS


cdef void sgemm(char ta, char tb, int m, int n, int k, float alpha, float *a,
                int lda, float *b, int ldb, float beta, float *c,
                int ldc) noexcept nogil:
    """Column-major ``c = alpha op(a) op(b) + beta c`` in float32."""
    if _sgemm64 != NULL:
        _sgemm64(COL_MAJOR, _trans(ta), _trans(tb), m, n, k, alpha, a, lda, b,
                 ldb, beta, c, ldc)
    else:
        cython_blas.sgemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb,
                          &beta, c, &ldc)


cdef void dgemm(char ta, char tb, int m, int n, int k, double alpha, double *a,
                int lda, double *b, int ldb, double beta, double *c,
                int ldc) noexcept nogil:
    """Column-major ``c = alpha op(a) op(b) + beta c`` in float64."""
    if _dgemm64 != NULL:
        _dgemm64(COL_MAJOR, _trans(ta), _trans(tb), m, n, k, alpha, a, lda, b,
                 ldb, beta, c, ldc)
    else:
        cython_blas.dgemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb,
                          &beta, c, &ldc)


def use_cblas64(uintptr_t sgemm_address, uintptr_t dgemm_address):
    """Call these ILP64 ``cblas_sgemm`` and ``cblas_dgemm`` from now on; zeros
    go back to SciPy's BLAS."""
    global _sgemm64, _dgemm64
    if (sgemm_address == 0) != (dgemm_address == 0):
        raise ValueError("pass both addresses, or neither")
    _sgemm64 = <sgemm64_t>sgemm_address
    _dgemm64 = <dgemm64_t>dgemm_address


def uses_cblas64():
    """Whether the loops call the CBLAS products passed to ``use_cblas64``."""
    return _sgemm64 != NULL
