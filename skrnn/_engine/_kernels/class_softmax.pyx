# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""The word half of the class-factorised softmax (``heads.class_softmax_loss``):
for every class, the softmax over its words of the rows whose target is in it,
the negative log-likelihood of each row's target and, when asked, the
gradients, in one pass without the GIL.

In NumPy that half is a Python loop over the classes present in a batch, about
fifteen array operations each on a few rows: the language model spent a quarter
of its epoch there (session 19), most of it on overhead. Here a class costs three
BLAS calls and two passes over its logits. The classes own disjoint rows of
the batch, of ``W`` and of ``b``, so a range of classes is independent work for
a thread (``heads.py`` gives each thread a range of about equal cost).

Layouts (C-contiguous): ``h`` ``(n, H)`` the rows sorted by their target's
class, class ``c`` owning rows ``row_starts[c]:row_starts[c + 1]`` and words
``bounds[c]:bounds[c + 1]``; ``target`` ``(n,)`` each row's target as an index
inside its class; ``W`` ``(V, H)``, ``b`` ``(V,)``. Outputs: ``nll`` ``(n,)``;
with the gradient of ``scale * sum(nll)``, ``dh`` ``(n, H)`` and, over the
words of classes ``c0:c1`` (zeros for a class without rows), ``dW`` and ``db``.
"""

from libc.math cimport exp, expf, log, logf
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from ._blas cimport dgemm, sgemm
from ._common cimport real

ctypedef Py_ssize_t intp


cdef inline void gemm(char ta, char tb, int m, int n, int k, real alpha,
                      real *a, int lda, real *b, int ldb, real beta, real *c,
                      int ldc) noexcept nogil:
    """Column-major ``c = alpha op(a) op(b) + beta c``: a row-major product
    ``C = A @ B`` is ``gemm('N', 'N', ..., B, A, ...)``."""
    if real is float:
        sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    else:
        dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


cdef inline real _exp(real x) noexcept nogil:
    if real is float:
        return expf(x)
    return exp(x)


cdef inline real _log(real x) noexcept nogil:
    if real is float:
        return logf(x)
    return log(x)


cdef void _softmax_rows(intp m, intp nw, real *logits, const real *b,
                        const intp *target, real *nll, bint grad,
                        real scale) noexcept nogil:
    """``nll[i]`` from row ``i`` of the ``(m, nw)`` logits (``b`` added here);
    with ``grad``, the row becomes ``scale * (softmax - onehot(target))``."""
    cdef intp i, j
    cdef real top, total, lse
    cdef real *row
    for i in range(m):
        row = logits + i * nw
        top = row[0] + b[0]
        for j in range(nw):
            row[j] += b[j]
            if row[j] > top:
                top = row[j]
        total = 0
        for j in range(nw):
            total += _exp(row[j] - top)
        lse = top + _log(total)
        nll[i] = lse - row[target[i]]
        if grad:
            for j in range(nw):
                row[j] = scale * _exp(row[j] - lse)
            row[target[i]] -= scale


cdef int _classes(intp c0, intp c1, intp H, const intp *row_starts,
                  const intp *bounds, real *h, const intp *target, real *W,
                  const real *b, real *nll, bint grad, real scale, real *dh,
                  real *dW, real *db) noexcept nogil:
    """Classes ``c0:c1``; -1 when the logits' buffer cannot be allocated."""
    cdef intp c, i, j, s, m, lo, nw, largest = 0
    for c in range(c0, c1):
        largest = max(largest, (row_starts[c + 1] - row_starts[c])
                      * (bounds[c + 1] - bounds[c]))
    cdef real *logits = <real *>malloc(max(largest, 1) * sizeof(real))
    if logits == NULL:
        return -1
    for c in range(c0, c1):
        s, m = row_starts[c], row_starts[c + 1] - row_starts[c]
        lo, nw = bounds[c], bounds[c + 1] - bounds[c]
        if m == 0 or nw == 1:
            # a word alone in its class has P(w | c) = 1: nothing to learn there
            for i in range(s, s + m):
                nll[i] = 0
            if grad:
                memset(dh + s * H, 0, m * H * sizeof(real))
                memset(dW + lo * H, 0, nw * H * sizeof(real))
                memset(db + lo, 0, nw * sizeof(real))
            continue
        # logits (m, nw) = h[s:s+m] (m, H) @ W[lo:lo+nw].T (H, nw)
        gemm(c'T', c'N', nw, m, H, <real>1, W + lo * H, H, h + s * H, H,
             <real>0, logits, nw)
        _softmax_rows(m, nw, logits, b + lo, target + s, nll + s, grad, scale)
        if not grad:
            continue
        # dh[s:s+m] (m, H) = dlogits (m, nw) @ W[lo:lo+nw] (nw, H)
        gemm(c'N', c'N', H, m, nw, <real>1, W + lo * H, H, logits, nw,
             <real>0, dh + s * H, H)
        # dW[lo:lo+nw] (nw, H) = dlogits.T (nw, m) @ h[s:s+m] (m, H)
        gemm(c'N', c'T', H, nw, m, <real>1, h + s * H, H, logits, nw,
             <real>0, dW + lo * H, H)
        for j in range(nw):
            db[lo + j] = 0
        for i in range(m):
            for j in range(nw):
                db[lo + j] += logits[i * nw + j]
    free(logits)
    return 0


def _check(const intp[::1] row_starts, const intp[::1] bounds, intp n, intp V,
           intp c0, intp c1):
    cdef intp C = bounds.shape[0] - 1
    if (row_starts.shape[0] != C + 1 or not 0 <= c0 <= c1 <= C
            or row_starts[0] != 0 or row_starts[C] != n
            or bounds[0] != 0 or bounds[C] != V):
        raise ValueError("inconsistent shapes")


def word_nll(real[:, ::1] h, const intp[::1] target, const intp[::1] row_starts,
             const intp[::1] bounds, real[:, ::1] W, const real[::1] b,
             real[::1] nll, intp c0, intp c1):
    """Fill ``nll`` at the rows of classes ``c0:c1``, without the GIL."""
    cdef intp n = h.shape[0], H = h.shape[1], V = W.shape[0]
    _check(row_starts, bounds, n, V, c0, c1)
    if target.shape[0] != n or nll.shape[0] != n or W.shape[1] != H or b.shape[0] != V:
        raise ValueError("inconsistent shapes")
    if n == 0 or H == 0:
        return
    cdef int status
    with nogil:
        status = _classes(c0, c1, H, &row_starts[0], &bounds[0], &h[0, 0],
                          &target[0], &W[0, 0], &b[0], &nll[0], False, 0,
                          NULL, NULL, NULL)
    if status:
        raise MemoryError()


def word_nll_grad(real[:, ::1] h, const intp[::1] target,
                  const intp[::1] row_starts, const intp[::1] bounds,
                  real[:, ::1] W, const real[::1] b, real[::1] nll,
                  real[:, ::1] dh, real[:, ::1] dW, real[::1] db, real scale,
                  intp c0, intp c1):
    """``word_nll`` and the gradient of ``scale * sum(nll)``: ``dh`` at the
    rows, ``dW`` and ``db`` at the words of classes ``c0:c1``."""
    cdef intp n = h.shape[0], H = h.shape[1], V = W.shape[0]
    _check(row_starts, bounds, n, V, c0, c1)
    if (target.shape[0] != n or nll.shape[0] != n or W.shape[1] != H
            or b.shape[0] != V or dh.shape[0] != n or dh.shape[1] != H
            or dW.shape[0] != V or dW.shape[1] != H or db.shape[0] != V):
        raise ValueError("inconsistent shapes")
    if H == 0:
        return
    cdef int status
    with nogil:
        status = _classes(c0, c1, H, &row_starts[0], &bounds[0],
                          &h[0, 0] if n else NULL, &target[0] if n else NULL,
                          &W[0, 0], &b[0], &nll[0] if n else NULL, True,
                          scale, &dh[0, 0] if n else NULL, &dW[0, 0], &db[0])
    if status:
        raise MemoryError()
