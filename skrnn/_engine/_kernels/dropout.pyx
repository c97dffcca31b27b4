# cython: language_level=3, boundscheck=False, wraparound=False
"""Inverted dropout in one pass (``dropout_mask.c``): the mask drawn by a
counter-based hash, scaled and applied; ``skrnn/_engine/dropout.py`` is the
NumPy reference and the caller."""

from libc.stdint cimport uint32_t

from ._common cimport real


cdef extern from "dropout_mask.h" nogil:
    void dropout_f(long start, long n, const float *x, float *y, float *mask,
                   uint32_t key0, uint32_t key1, uint32_t threshold, float scale)
    void dropout_d(long start, long n, const double *x, double *y,
                   double *mask, uint32_t key0, uint32_t key1,
                   uint32_t threshold, double scale)


def apply(const real[::1] x, real[::1] y, real[::1] mask, long start,
          uint32_t key0, uint32_t key1, uint32_t threshold, real scale):
    """``mask[:]`` and ``y[:] = x * mask`` for the elements ``start`` to
    ``start + len(x)`` of an array, without the GIL."""
    cdef long n = x.shape[0]
    if y.shape[0] != n or mask.shape[0] != n:
        raise ValueError(
            f"dropout: x ({n},), y ({y.shape[0]},) and mask ({mask.shape[0]},) "
            "differ in length"
        )
    if n == 0:
        return
    with nogil:
        if real is float:
            dropout_f(start, n, &x[0], &y[0], &mask[0], key0, key1, threshold,
                      scale)
        else:
            dropout_d(start, n, &x[0], &y[0], &mask[0], key0, key1, threshold,
                      scale)
