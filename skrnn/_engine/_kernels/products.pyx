# cython: language_level=3, boundscheck=False, wraparound=False
"""Whole matrices through the time loops' product (``panel_product.h``), for
predictions whose rows must not depend on one another (``gemm.rows_apart``):
every output is one chain of multiply-adds in ``k`` order, whatever rows are
computed beside it, where BLAS may round a row differently for another number
of rows."""

from ._common cimport real
from ._panel_product cimport are_panels, product


def panel_matmul(const real[:, ::1] a, const real[:, :, ::1] panels,
                 real[:, ::1] out):
    """``out[...] = a @ w`` for ``a`` ``(m, k)`` and ``w`` ``(k, n)`` packed in
    column panels (``gemm.panels``), without the GIL."""
    cdef int m = a.shape[0], k = a.shape[1], n = out.shape[1]
    if out.shape[0] != m or not are_panels(panels.shape, k, n, sizeof(real)):
        raise ValueError(
            f"panel_matmul: a ({m}, {k}) and out ({out.shape[0]}, {n}) do not "
            f"match panels of shape ({panels.shape[0]}, {panels.shape[1]}, "
            f"{panels.shape[2]})"
        )
    if m == 0 or n == 0:
        return
    if k == 0:
        out[:, :] = 0
        return
    with nogil:
        product(m, n, k, <real *> &a[0, 0], k, <real *> &panels[0, 0, 0],
                &out[0, 0], n, False)
