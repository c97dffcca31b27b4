"""The moving average of the weights over optimizer steps (what predicts).

On a row-sparse table it is lazy, as the optimizers are; each step's update
runs in one compiled pass where the extension is built (``_kernels.updates``,
NumPy's arithmetic bit for bit), the NumPy code being the reference.
"""

import numpy as np

from ._kernels import load, takes
from .embedding import SparseRows
from .gemm import map_elementwise

_updates = load("updates")


class WeightAverage:
    """Exponential moving average of the parameters over optimizer steps
    (Polyak & Juditsky, 1992), with a warm-up of the decay as in TensorFlow's
    ``ExponentialMovingAverage(num_updates=...)``: after ``n`` steps the decay is
    ``min(decay, (n - 1) / (n + 9))``, so the average covers about the last tenth
    of the steps taken until that reaches its full window of ``1 / (1 - decay)``
    steps. Without the warm-up, a fit of a few dozen steps would average in its
    untrained start.

    Late steps of a noisy minibatch optimizer scatter around a good point; their
    average predicts better and depends less on the seed than the last step.

    Row-sparse tables (embeddings, the bag of n-grams) are averaged lazily: a step
    folds in only the rows it moved, and a row left alone for ``k`` steps is
    brought up to date when it next moves (or when the average is read) by the
    closed form ``a <- F a + (1 - F) w``, ``F`` the product of those ``k`` decays.
    That is exact because the optimizers update such tables lazily too: a row
    without gradient keeps its value ``w``, kept here as it was last folded.
    A step then costs what it touches, not the size of the tables.
    """

    def __init__(self, params, decay):
        self.decay = decay
        self.n_updates = 0
        self._restart(params, sparse=())

    def _restart(self, params, sparse):
        """Start the average at ``params``; ``sparse`` names the row-sparse
        tables (known from the gradients of the first update)."""
        self._average = {k: v.copy() for k, v in params.items()}
        # log of the product of all decays so far, and its value at each row's
        # last fold; the row's weights as they were then
        self._log_decay = 0.0
        self._folded_at = {k: np.zeros(len(params[k])) for k in sparse}
        self._folded_value = {k: params[k].copy() for k in sparse}

    def update(self, params, grads=None):
        """Fold in ``params`` after an optimizer step that applied ``grads``
        (without them every parameter counts as moved everywhere)."""
        self.n_updates += 1
        n = self.n_updates
        # a Python float: NumPy rounds it to the weights' type, as the kernel does
        decay = float(min(self.decay, (n - 1) / (n + 9)))
        moved_rows = {
            name: grad.rows
            for name, grad in (grads or {}).items()
            if isinstance(grad, SparseRows)
        }
        if decay == 0:  # the first step replaces the initial weights everywhere
            self._restart(params, sparse=tuple(moved_rows))
            return
        if grads is None:
            moved_rows = {name: slice(None) for name in self._folded_at}
        before = self._log_decay
        self._log_decay += np.log(decay)
        for name, value in params.items():
            average = self._average[name]
            if name not in self._folded_at:
                _move(average, value, 1 - decay)
            elif name in moved_rows:
                rows = moved_rows[name]
                # a moved row is first brought up to the step before, at its old value
                keep = np.exp(before - self._folded_at[name][rows])
                keep = keep.astype(average.dtype)
                _move_rows(
                    average, self._folded_value[name], value, rows, keep, 1 - decay
                )
                self._folded_at[name][rows] = self._log_decay

    def _fold(self, name, rows=slice(None)):
        """Bring ``rows`` of a sparse table up to the last step."""
        keep = np.exp(self._log_decay - self._folded_at[name][rows])
        average, value = self._average[name], self._folded_value[name][rows]
        keep = keep.astype(average.dtype)[:, None]
        average[rows] = value + keep * (average[rows] - value)
        self._folded_at[name][rows] = self._log_decay

    def params(self):
        for name in self._folded_at:
            self._fold(name)
        return {k: v.copy() for k, v in self._average.items()}


def _move(average, value, rate):
    """``average -= rate * (average - value)``, in place."""
    if _updates is not None and takes(average, value):
        a, v = average.reshape(-1), value.reshape(-1)
        map_elementwise(lambda i, j: _updates.average(a[i:j], v[i:j], rate), a.size)
    else:
        average -= rate * (average - value)


def _move_rows(average, folded_value, value, rows, keep, rate):
    """``_move`` on the ``rows`` of a sparse table that a step moved, each first
    brought up to the step before (``keep``: the decays it missed); their new
    value is kept in ``folded_value``."""
    compiled = _updates is not None and takes(average, folded_value, value)
    if compiled and isinstance(rows, np.ndarray):
        rows = rows.astype(np.intp, copy=False)
        map_elementwise(
            lambda i, j: _updates.average_rows(
                average, folded_value, value, rows[i:j], keep[i:j], rate
            ),
            rows.size,
            average.shape[1],
        )
        return
    old = folded_value[rows]
    average[rows] = old + keep[:, None] * (average[rows] - old)
    average[rows] -= rate * (average[rows] - value[rows])
    folded_value[rows] = value[rows]

