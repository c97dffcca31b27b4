"""Optimizers and gradient clipping over a plain dict of parameters.

Embedding tables receive ``SparseRows`` gradients and are updated on those rows
only (lazily, like torch's ``SparseAdam``): a row's moments decay only when the row
is used, which is what makes an epoch independent of the vocabulary size.

Adam's step runs in one compiled pass per parameter where the extension is
built (``_kernels.updates``, NumPy's arithmetic bit for bit); the NumPy code
below is the reference and the fallback.
"""

import numpy as np

from ._kernels import load, takes
from .embedding import SparseRows
from .gemm import map_elementwise

_updates = load("updates")


def clip_grad_norm(grads, max_norm):
    """Scale all gradients in place so that their global L2 norm is at most
    ``max_norm``; return the norm before clipping."""
    total = 0.0
    for grad in grads.values():
        values = grad.values if isinstance(grad, SparseRows) else grad
        total += float(np.vdot(values, values))
    norm = np.sqrt(total)
    if max_norm is not None and norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for grad in grads.values():
            (grad.values if isinstance(grad, SparseRows) else grad)[...] *= scale
    return norm


class SGD:
    """Stochastic gradient descent with (optionally Nesterov) momentum."""

    def __init__(self, learning_rate=0.1, momentum=0.0, nesterov=False):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = {}

    def update(self, params, grads):
        lr, mu = self.learning_rate, self.momentum
        for name, grad in grads.items():
            param = params[name]
            rows, g = _rows_and_values(grad)
            if mu == 0:
                _subtract(param, rows, lr * g)
                continue
            if name not in self.velocity:
                self.velocity[name] = np.zeros_like(param)
            v = self.velocity[name]
            v_rows = mu * _take(v, rows) - lr * g
            _assign(v, rows, v_rows)
            step = mu * v_rows - lr * g if self.nesterov else v_rows
            _subtract(param, rows, -step)


class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = {}
        self.v = {}

    def update(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        lr = self.learning_rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for name, grad in grads.items():
            param = params[name]
            rows, g = _rows_and_values(grad)
            if name not in self.m:
                self.m[name] = np.zeros_like(param)
                self.v[name] = np.zeros_like(param)
            g = g.astype(param.dtype, copy=False)
            m, v = self.m[name], self.v[name]
            compiled = _updates is not None and takes(param, m, v)
            step = self._compiled_step if compiled else self._step
            step(param, rows, g, m, v, lr)

    def _step(self, param, rows, g, m_all, v_all, lr):
        """The step of one parameter (of its ``rows``, if not None) in NumPy:
        in place, on the rows gathered once for a sparse gradient (a step of a
        small network is dominated by temporaries otherwise)."""
        b1, b2 = self.beta_1, self.beta_2
        m, v = _take(m_all, rows), _take(v_all, rows)
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step = np.sqrt(v)
        step += self.epsilon
        np.divide(m, step, out=step)
        step *= lr
        if rows is None:
            param -= step
        else:
            m_all[rows] = m
            v_all[rows] = v
            param[rows] -= step

    def _compiled_step(self, param, rows, g, m, v, lr):
        """``_step`` in one compiled pass, with the same result."""
        hyper = (self.beta_1, self.beta_2, self.epsilon, lr)
        g = np.ascontiguousarray(g)
        if rows is None:
            flat = [a.reshape(-1) for a in (param, g, m, v)]
            map_elementwise(
                lambda i, j: _updates.adam(*(a[i:j] for a in flat), *hyper), param.size
            )
        else:
            rows = rows.astype(np.intp, copy=False)
            map_elementwise(
                lambda i, j: _updates.adam_rows(param, rows[i:j], g[i:j], m, v, *hyper),
                rows.size,
                param.shape[1],
            )


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def _rows_and_values(grad):
    if isinstance(grad, SparseRows):
        return grad.rows, grad.values
    return None, grad


def _take(array, rows):
    return array if rows is None else array[rows]


def _assign(array, rows, values):
    if rows is None:
        array[...] = values
    else:
        array[rows] = values


def _subtract(array, rows, values):
    if rows is None:
        array -= values.astype(array.dtype, copy=False)
    else:
        array[rows] -= values.astype(array.dtype, copy=False)
