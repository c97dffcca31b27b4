"""Inverted dropout, its masks drawn by a counter-based hash.

A mask is a pure function of two 32-bit keys, drawn from the fit's generator
once per mask, and of each element's index: element ``i`` is kept when
``mix32(mix32(i + key0) ^ key1) < keep * 2**32`` (``mix32``: Wellons'
"lowbias32" integer hash). That lets the compiled kernel
(``_kernels/dropout_mask.c``) draw, scale and apply a mask in one pass, on as
many threads as ``gemm.threads`` allows, with the same mask however the array
is cut. NumPy's uniform floats, compared, cast and scaled, took about 7% of a
default tagger's epoch (session 22); the kernel takes a quarter of that. The
NumPy code here is the reference and the fallback, bit for bit.
"""

import numpy as np

from ._kernels import load, numpy_engine_requested
from .gemm import map_elementwise

_dropout = load("dropout")

_MIX_1 = np.uint32(0x7FEB352D)
_MIX_2 = np.uint32(0x846CA68B)


class Dropout:
    """Inverted dropout: each unit is zeroed with probability ``p`` during
    training and the kept ones are scaled by ``1 / (1 - p)``.

    ``dropout(x)`` returns ``(x * mask, mask)``; the mask (0 or ``1 / (1 - p)``,
    in ``x``'s type) scales the gradient on the way back.
    """

    def __init__(self, p, rng):
        self.keep = 1.0 - p
        self.rng = rng
        # kept when a draw is below this: keep * 2**32, within one draw
        self.threshold = min(round(self.keep * 2**32), 2**32 - 1)

    def __call__(self, x):
        key0, key1 = (int(k) for k in self.rng.integers(0, 2**32, 2, dtype=np.uint64))
        scale = x.dtype.type(1) / x.dtype.type(self.keep)
        if _compiles(x):
            return _apply_compiled(x, key0, key1, self.threshold, scale)
        mask = (draws(x.size, key0, key1) < self.threshold).reshape(x.shape)
        mask = mask.astype(x.dtype) * scale
        return x * mask, mask


def draws(size, key0, key1):
    """The hash's draws for the elements ``0 .. size - 1`` of an array (uint32).
    Indices count modulo ``2**32``."""
    draw = np.arange(size, dtype=np.uint64).astype(np.uint32)
    draw += np.uint32(key0)
    _mix32(draw)
    draw ^= np.uint32(key1)
    _mix32(draw)
    return draw


def _mix32(h):
    """lowbias32, in place on a uint32 array (its products wrap modulo 2**32)."""
    h ^= h >> 16
    h *= _MIX_1
    h ^= h >> 15
    h *= _MIX_2
    h ^= h >> 16


def _compiles(x):
    return (
        _dropout is not None
        and x.dtype in (np.float32, np.float64)
        and not numpy_engine_requested()
    )


def _apply_compiled(x, key0, key1, threshold, scale):
    """``Dropout``'s result by the kernel, on ranges of the flat array spread
    over the threads (each range knows its first index, so the cut does not
    change the mask)."""
    flat = np.ascontiguousarray(x).reshape(-1)
    y, mask = np.empty_like(flat), np.empty_like(flat)
    map_elementwise(
        lambda i, j: _dropout.apply(
            flat[i:j], y[i:j], mask[i:j], i, key0, key1, threshold, scale
        ),
        flat.size,
    )
    return y.reshape(x.shape), mask.reshape(x.shape)
