# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""The per-step work on the parameters outside the time loop, one pass each:
the row-sparse gradient of a table, Adam's step and the moving average of the
weights (on whole arrays or on some rows of a table).

NumPy (and SciPy's sparse product for the row sums) spent passes, temporaries
and call overhead on them worth about a quarter of a default tagger's epoch
(session 18). The arithmetic is NumPy's, operation by operation in the same
order and precision, and built without contraction into fused multiply-adds,
so the results are those of the NumPy code bit for bit (the tests compare
them with ``embedding.py``, ``optimizers.py`` and ``averaging.py``).

Arrays are C-contiguous and of one float type; ``rows`` are distinct. The
scalars come as Python floats and are rounded to the arrays' type, as NumPy
rounds them (``1 - beta_1`` in double first), but for Adam's step size: it is
a NumPy float64, so NumPy multiplies by it in double and rounds the product.
"""

from libc.math cimport sqrt, sqrtf

import numpy as np

from ._common cimport real

ctypedef Py_ssize_t intp


cdef void _check_rows(const intp[::1] rows, intp n_rows, str what) except *:
    """IndexError unless every entry of ``rows`` indexes one of ``n_rows``."""
    cdef intp k
    for k in range(rows.shape[0]):
        if not 0 <= rows[k] < n_rows:
            raise IndexError(f"{what} {rows[k]} is out of bounds")


def row_sums(ids, real[:, :] values, intp n_rows):
    """The distinct ``ids`` in increasing order, and for each the sum of the
    rows of ``values`` that it indexes, added in their order (as SciPy's
    sparse product in ``embedding.sparse_row_sums`` adds them)."""
    cdef const intp[::1] ids_v = np.ascontiguousarray(ids, dtype=np.intp)
    cdef intp i, j, k, r, n = ids_v.shape[0], dim = values.shape[1]
    cdef intp n_distinct = 0
    if values.shape[0] != n:
        raise ValueError("inconsistent shapes")
    _check_rows(ids_v, n_rows, "id")
    slot = np.full(n_rows, -1, dtype=np.intp)
    seen = np.empty(n, dtype=np.intp)
    cdef intp[::1] slot_v = slot, seen_v = seen
    for i in range(n):
        r = ids_v[i]
        if slot_v[r] < 0:
            slot_v[r] = n_distinct
            seen_v[n_distinct] = r
            n_distinct += 1
    rows = np.sort(seen[:n_distinct])
    cdef const intp[::1] rows_v = rows
    for k in range(n_distinct):
        slot_v[rows_v[k]] = k
    sums = np.zeros((n_distinct, dim), dtype=np.asarray(values).dtype)
    cdef real[:, ::1] sums_v = sums
    with nogil:
        for i in range(n):
            k = slot_v[ids_v[i]]
            for j in range(dim):
                sums_v[k, j] += values[i, j]
    return rows, sums


cdef inline void _adam(intp n, real *p, real *g, real *m, real *v, real b1,
                       real c1, real b2, real c2, real eps,
                       double lr) noexcept nogil:
    cdef intp i
    cdef real step
    for i in range(n):
        m[i] = m[i] * b1 + c1 * g[i]
        v[i] = v[i] * b2 + c2 * (g[i] * g[i])
        if real is float:
            step = sqrtf(v[i]) + eps
        else:
            step = sqrt(v[i]) + eps
        p[i] = p[i] - <real>((m[i] / step) * lr)


def adam(real[::1] param, real[::1] grad, real[::1] m, real[::1] v,
         double beta_1, double beta_2, double epsilon, double lr):
    """Adam's step on the whole of ``param`` (flattened), ``m`` and ``v`` in
    place; ``lr`` is the bias-corrected step size."""
    cdef intp n = param.shape[0]
    if grad.shape[0] != n or m.shape[0] != n or v.shape[0] != n:
        raise ValueError("inconsistent shapes")
    if n == 0:
        return
    with nogil:
        _adam(n, &param[0], &grad[0], &m[0], &v[0], <real>beta_1,
              <real>(1 - beta_1), <real>beta_2, <real>(1 - beta_2),
              <real>epsilon, lr)


def adam_rows(real[:, ::1] param, const intp[::1] rows, real[:, ::1] grad,
              real[:, ::1] m, real[:, ::1] v, double beta_1, double beta_2,
              double epsilon, double lr):
    """Adam's step on ``param[rows]``, whose gradient is ``grad``."""
    cdef intp k, r, n_rows = rows.shape[0], dim = param.shape[1]
    if (grad.shape[0] != n_rows or grad.shape[1] != dim
            or m.shape[0] != param.shape[0] or m.shape[1] != dim
            or v.shape[0] != param.shape[0] or v.shape[1] != dim):
        raise ValueError("inconsistent shapes")
    _check_rows(rows, param.shape[0], "row")
    if n_rows == 0 or dim == 0:
        return
    with nogil:
        for k in range(n_rows):
            r = rows[k]
            _adam(dim, &param[r, 0], &grad[k, 0], &m[r, 0], &v[r, 0],
                  <real>beta_1, <real>(1 - beta_1), <real>beta_2,
                  <real>(1 - beta_2), <real>epsilon, lr)


def average(real[::1] average, real[::1] value, double rate):
    """``average -= rate * (average - value)``, flattened, in place."""
    cdef intp i, n = average.shape[0]
    cdef real c = <real>rate
    if value.shape[0] != n:
        raise ValueError("inconsistent shapes")
    with nogil:
        for i in range(n):
            average[i] = average[i] - c * (average[i] - value[i])


def average_rows(real[:, ::1] average, real[:, ::1] folded_value,
                 real[:, ::1] value, const intp[::1] rows, real[::1] keep,
                 double rate):
    """The moving average on the rows of a table that a step moved: each row
    ``r = rows[k]`` first brought up to the step before (``average[r] =
    folded_value[r] + keep[k] * (average[r] - folded_value[r])``), then moved
    as ``average`` does, and its new value kept in ``folded_value[r]``."""
    cdef intp j, k, r, n_rows = rows.shape[0], dim = average.shape[1]
    cdef real a, c = <real>rate
    if (folded_value.shape[0] != average.shape[0]
            or folded_value.shape[1] != dim
            or value.shape[0] != average.shape[0] or value.shape[1] != dim
            or keep.shape[0] != n_rows):
        raise ValueError("inconsistent shapes")
    _check_rows(rows, average.shape[0], "row")
    with nogil:
        for k in range(n_rows):
            r = rows[k]
            for j in range(dim):
                a = folded_value[r, j] + keep[k] * (
                    average[r, j] - folded_value[r, j])
                average[r, j] = a - c * (a - value[r, j])
                folded_value[r, j] = value[r, j]
