"""The engine's compiled kernels (Cython, built by setup.py).

Each cell's module (``gru``, ``lstm``, ``rnn``) runs the whole time loop of a
block of rows of a batch, forward or backward, without the GIL, so that the
engine's threads run the blocks (and the directions) side by side; the rows of
a batch never interact. A step of a block is one BLAS call for the recurrent
product (``scipy.linalg.cython_blas``) and one call of the cell's gate helper
in C (``<cell>_gates.c``, with what the helpers share in ``simd.h``). The
Python side, with the same interface as the NumPy cells, is
``compiled_cells.py``. BLAS must run on one thread (skrnn's fits limit it):
the engine's threads running the blocks are the parallelism.

``updates`` fuses the per-step parameter updates (Adam's step, the weight
average) into one pass each, with NumPy's rounding (``optimizers.py``).
"""

from importlib import import_module

import numpy as np


def load(name):
    """The extension module ``_kernels.<name>``, or None where it was not built
    (no C compiler, or a source tree never built): the engine then runs its
    NumPy code, which the compiled kernels reproduce."""
    try:
        return import_module(f"{__name__}.{name}")
    except ImportError:
        return None


def takes(*arrays):
    """Whether the ``updates`` kernels can work on ``arrays`` in place: all
    C-contiguous and of one float type (float32 or float64)."""
    return (
        all(a.flags.c_contiguous for a in arrays)
        and len({a.dtype for a in arrays}) == 1
        and arrays[0].dtype in (np.float32, np.float64)
    )
