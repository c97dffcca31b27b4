"""Large matrix products split across threads.

Three quarters of a training step's arithmetic is in the products outside the time
loop (the input projection of every step, the weight gradients, the input's
gradient), each a GEMM over all ``T * B`` steps of a batch. Those split well: the
output is cut in ``n_threads`` blocks of rows (or of columns, whichever is longer)
and each block is computed by single-threaded BLAS in a thread of its own (NumPy
releases the GIL inside BLAS). The products inside the time loop stay serial: at
``B`` rows they are too small to share.

Why not BLAS's own threads: OpenBLAS's threads wait for each other by spinning, and
on a machine whose cores are shared with other work a 2-thread GEMM was measured
5-10x slower than a 1-thread one; a block that waits for a core here only waits.

``threads(n)`` sets how many threads the products of the enclosed code may use
(1, the default, is plain ``a @ b``). ``map_threads`` shares independent pieces of
work among the same threads: the two directions of a bidirectional layer, whose
time loops are serial chains of small products, each run on a core of its own.
The setting is per thread: work handed to a thread of the pool gets its share of
the threads, and the shares add up to no more than the pool, so no work ever
waits for the pool it runs in.

``rows_apart()`` makes ``matmul`` compute each row of its output by the time
loops' own product (``_kernels/products.pyx``, against ``b`` packed in
``panels``): every output is then one chain of multiply-adds in ``k`` order
whatever rows are computed beside it, so a sequence's prediction does not depend
on the other sequences of its batch, bit for bit. BLAS gives no such promise:
it may round a row differently for another number of rows (in float32 by more
than scikit-learn's invariance checks allow). Predictions run inside it.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from ._kernels import load, numpy_engine_requested

# below this many multiply-adds (about 0.15 ms of one core) a product is not worth
# a thread's hand-off: the Elman tagger's (640 x 100) @ (100 x 128) projection ran
# no faster split than whole. 2**25 (session 10) left the unidirectional LSTM's and
# GRU's projections (600 x 100 x 512, 30M) on one thread while the other waited:
# at 2**23 their epochs took 16-19% less (session 19).
_MIN_SPLIT = 2**23

# an element-wise pass (Adam's step, the weight average) over fewer numbers than
# this takes about as long as handing half of it to another thread
_MIN_ELEMENTWISE = 2**17

# what the loops' product multiplies (rows_apart)
_FLOATS = (np.float32, np.float64)

_state = {"pool": None, "pool_size": 0, "pid": None}
_local = threading.local()
_products = load("products")


def thread_count():
    """How many threads ``matmul`` and ``map_threads`` may use here and now."""
    return getattr(_local, "n_threads", 1)


@contextmanager
def threads(n_threads):
    """Let ``matmul`` use ``n_threads`` threads inside the ``with`` block."""
    previous = thread_count()
    n = _local.n_threads = max(1, int(n_threads))
    # a forked child inherits the pool but not its threads: it needs its own
    if n > 1 and (_state["pool_size"] < n - 1 or _state["pid"] != os.getpid()):
        _state.update(
            pool=ThreadPoolExecutor(n - 1, thread_name_prefix="skrnn-gemm"),
            pool_size=n - 1,
            pid=os.getpid(),
        )
    try:
        yield
    finally:
        _local.n_threads = previous


def can_keep_rows_apart():
    """Whether ``rows_apart`` can keep its promise here: its kernel was built
    and the NumPy engine is not asked for (``SKRNN_ENGINE=numpy``)."""
    return _products is not None and not numpy_engine_requested()


def rows_kept_apart():
    """Whether ``matmul`` computes each row apart here and now."""
    return getattr(_local, "rows_apart", False)


@contextmanager
def rows_apart(keep=True):
    """Inside the ``with`` block, ``matmul`` computes each row of its output
    apart from the others (see the module's docstring), where it can."""
    previous = rows_kept_apart()
    _local.rows_apart = bool(keep) and can_keep_rows_apart()
    try:
        yield
    finally:
        _local.rows_apart = previous


def map_threads(function, items):
    """``[function(item) for item in items]``, the items spread over the threads
    that ``threads`` allows (the calling thread takes the first), each item
    allowed an equal share of them (a compiled time loop runs on its share) and
    the caller's ``rows_apart``."""
    items = list(items)
    n = thread_count()
    if n == 1 or len(items) == 1:
        return [function(item) for item in items]
    share = max(1, n // len(items))
    apart = rows_kept_apart()

    def run(item):
        with threads(share), rows_apart(apart):
            return function(item)

    futures = [_state["pool"].submit(run, item) for item in items[1:]]
    return [run(items[0])] + [future.result() for future in futures]


def map_ranges(function, size, n_ranges):
    """``function(start, stop)`` on ``n_ranges`` contiguous ranges of about equal
    length that cover ``range(size)``, spread over the threads (``map_threads``)."""
    edges = [k * size // n_ranges for k in range(n_ranges + 1)]
    map_threads(lambda k: function(edges[k], edges[k + 1]), range(n_ranges))


def map_elementwise(function, size, width=1):
    """``function(start, stop)`` on ranges of ``range(size)``, one per thread
    allowed, each of at least ``_MIN_ELEMENTWISE`` numbers (an item holds
    ``width``): for element-wise kernels that release the GIL, whose results do
    not depend on the cut."""
    n = min(thread_count(), size * width // _MIN_ELEMENTWISE)
    if n <= 1:  # most of a step's arrays: no ranges, no hand-off to pay for
        function(0, size)
    else:
        map_ranges(function, size, n)


def matmul(a, b):
    """``a @ b`` for 2-D arrays, the output's blocks computed in parallel (and
    each row apart, inside ``rows_apart``)."""
    n = thread_count()
    rows, cols = a.shape[0], b.shape[1]
    if rows_kept_apart() and a.dtype == b.dtype and a.dtype in _FLOATS:
        return _matmul_rows_apart(a, b, n)
    if n == 1 or rows * cols * a.shape[1] < _MIN_SPLIT:
        return a @ b
    out = np.empty((rows, cols), dtype=np.result_type(a, b))
    by_rows = rows >= cols
    size = rows if by_rows else cols
    blocks = [slice(k * size // n, (k + 1) * size // n) for k in range(n)]

    def block(s):
        if by_rows:
            np.matmul(a[s], b, out=out[s])
        else:
            np.matmul(a, b[:, s], out=out[:, s])

    futures = [_state["pool"].submit(block, s) for s in blocks[1:]]
    block(blocks[0])
    for future in futures:
        future.result()
    return out


def _matmul_rows_apart(a, b, n_threads):
    """``a @ b`` by the loops' product, in blocks of rows on ``n_threads``
    threads (a row's result does not depend on its block)."""
    a = np.ascontiguousarray(a)
    w = panels(b)
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    n = 1 if a.size * b.shape[1] < _MIN_SPLIT else n_threads
    map_ranges(
        lambda start, stop: _products.panel_matmul(a[start:stop], w, out[start:stop]),
        a.shape[0],
        max(1, min(n, a.shape[0])),
    )
    return out


def panels(W):
    """``W`` ``(K, N)`` cut into the column panels that the loops' product
    reads (``_kernels/panel_product.h``): ``(n_panels, K, width)``, a panel
    ``width`` columns of 64 bytes, the last padded with zeros. One pass over
    ``W``, however it is strided (``W_rec^T`` is packed from a view)."""
    K, N = W.shape
    width = 64 // W.itemsize
    full, rest = divmod(N, width)
    out = np.empty((full + (rest > 0), K, width), dtype=W.dtype)
    out[:full] = W[:, : full * width].reshape(K, full, width).transpose(1, 0, 2)
    if rest:
        out[full, :, :rest] = W[:, full * width :]
        out[full, :, rest:] = 0
    return out
