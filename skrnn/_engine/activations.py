"""Gate activations of the recurrent cells: sigmoid and tanh, in place.

All the gates of a step go through one transcendental call,
``core(scale * a)`` followed by ``mult * y + shift``, with ``scale`` folded into
the weights and projected inputs (exactly: powers of two) outside the loop:
  by tanh:  sigmoid(a) = 0.5 tanh(a / 2) + 0.5,  tanh(a) = tanh(a)
  by exp:   sigmoid(a) = 1 / (1 + exp(-a)),      tanh(a) = 2 / (1 + exp(-2a)) - 1
NumPy vectorises exp but, on CPUs without AVX-512, not tanh (measured on an AVX2
machine, per value: exp 1.8 ns and tanh 3.2 ns in float32, 7 and 17 ns in
float64). Float64 (prediction, gradient checks) takes the exp route, within
4e-16 of np.tanh; float32 (training) keeps tanh, whose route was no slower
there and is three times more accurate (2e-7 against 6e-8 off), and keeps
training bit for bit as before this module. Overflow of exp gives inf and then
exactly the limit (0 or -1); the loops run inside the route's ``errstate``.
"""

from contextlib import nullcontext
from functools import lru_cache, partial

import numpy as np


class _Route:
    """A way to compute the gates; ``gate_activation`` picks one per dtype.

    ``affine(dtype, kinds, H)`` gives ``(scale, mult, shift)`` for gates of the
    given kinds, each ``H`` wide; ``apply(x, mult, shift)`` activates, in place,
    gates whose pre-activations were scaled by ``scale``; ``tanh(x, out=...)`` is
    the plain tanh of the loops; ``errstate()`` goes around a loop.
    """

    coefficients = {}  # kind -> (scale, mult, shift)

    @classmethod
    def affine(cls, dtype, kinds, hidden_size):
        """``scale`` is ``len(kinds) * hidden_size`` long; ``mult`` and ``shift``
        too, or a scalar when all their entries are equal, or None when they would
        change nothing (a step's few small operations are its cost: none is spent
        on a product by ones). Cached: a forward call of a few steps must not pay
        for building them."""
        return _affine(cls, np.dtype(dtype), tuple(kinds), hidden_size)

    @classmethod
    def apply(cls, x, mult, shift):
        cls.core(x)
        if mult is not None:
            x *= mult
        if shift is not None:
            x += shift


class _ByTanh(_Route):
    coefficients = {"sigmoid": (0.5, 0.5, 0.5), "tanh": (1.0, 1.0, 0.0)}
    # nothing to silence, and a step's ufuncs run faster outside an errstate
    errstate = nullcontext
    tanh = np.tanh  # itself: no wrapper in the loop

    @staticmethod
    def core(x):
        np.tanh(x, out=x)


class _ByExp(_Route):
    coefficients = {"sigmoid": (-1.0, 1.0, 0.0), "tanh": (-2.0, 2.0, -1.0)}
    errstate = partial(np.errstate, over="ignore", under="ignore")

    @staticmethod
    def core(x):
        np.exp(x, out=x)
        x += 1
        np.reciprocal(x, out=x)

    @staticmethod
    def tanh(x, out):
        scale, mult, shift = _ByExp.coefficients["tanh"]
        with _ByExp.errstate():
            np.multiply(x, scale, out=out)
            _ByExp.core(out)
            out *= mult
            out += shift
        return out


@lru_cache(maxsize=64)
def _affine(route, dtype, kinds, hidden_size):
    rows = np.array([route.coefficients[kind] for kind in kinds], dtype)
    scale, mult, shift = (np.repeat(column, hidden_size) for column in rows.T)
    for array in (scale, mult, shift):
        array.flags.writeable = False  # shared by every call
    return scale, _simplest(mult, 1), _simplest(shift, 0)


def _simplest(values, identity):
    if np.all(values == identity):
        return None
    if np.all(values == values[0]):
        return values[0]
    return values


def gate_activation(dtype):
    """The route of ``dtype``: exp in float64, tanh otherwise."""
    return _ByExp if dtype == np.float64 else _ByTanh
