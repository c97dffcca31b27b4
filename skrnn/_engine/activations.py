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
there and is three times more accurate (2e-7 against 6e-8 off). Overflow of exp
gives inf and then exactly the limit (0 or -1): callers silence it.
"""

import numpy as np


class _ByTanh:
    coefficients = {"sigmoid": (0.5, 0.5, 0.5), "tanh": (1.0, 1.0, 0.0)}

    @staticmethod
    def core(x):
        np.tanh(x, out=x)


class _ByExp:
    coefficients = {"sigmoid": (-1.0, 1.0, 0.0), "tanh": (-2.0, 2.0, -1.0)}

    @staticmethod
    def core(x):
        np.exp(x, out=x)
        x += 1
        np.reciprocal(x, out=x)


class _GateActivation:
    """``apply`` activates, in place, gates whose pre-activations were scaled by
    the ``scale`` of ``affine``."""

    def __init__(self, route, dtype):
        self.route, self.dtype = route, dtype

    def affine(self, kinds, hidden_size):
        """``(scale, mult, shift)``, each ``len(kinds) * hidden_size`` long."""
        rows = np.array([self.route.coefficients[kind] for kind in kinds], self.dtype)
        return tuple(np.repeat(column, hidden_size) for column in rows.T)

    def apply(self, x, mult, shift):
        self.route.core(x)
        x *= mult
        x += shift


def gate_activation(dtype):
    return _GateActivation(_ByExp if dtype == np.float64 else _ByTanh, dtype)


def tanh(x, out):
    """``tanh(x)`` into ``out``, by the route of ``gate_activation``."""
    if x.dtype != np.float64:
        return np.tanh(x, out=out)
    with np.errstate(over="ignore", under="ignore"):
        np.multiply(x, -2, out=out)
        _ByExp.core(out)
        out *= 2
        out -= 1
    return out
