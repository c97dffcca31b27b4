"""The engine's compiled kernels (Cython, built by setup.py).

Each cell's module (``gru``, ``lstm``, ``rnn``) runs the whole time loop of a
block of rows of a batch, forward or backward, without the GIL, so that the
engine's threads run the blocks (and the directions) side by side; the rows of
a batch never interact. A step of a block is one call of the recurrent product
(``panel_product.c``, against weights packed once per loop) and one call of
the cell's gate helper in C (``<cell>_gates.c``, with what the helpers share
in ``simd.h``). The Python side, with the same interface as the NumPy
cells, is ``compiled_cells.py``. BLAS must run on one thread (skrnn's fits limit it):
the engine's threads running the blocks are the parallelism.

``updates`` fuses the per-step parameter updates (Adam's step, the weight
average) into one pass each, with NumPy's rounding (``optimizers.py``).
``dropout`` draws, scales and applies a dropout mask in one pass
(``dropout_mask.c``; the same masks as ``dropout.py``'s NumPy code).
``class_softmax`` runs the language model's loop over its word classes
(``word_softmax.py``), calling BLAS through ``_blas`` (NumPy's BLAS where
found, SciPy's otherwise).
"""

import ctypes
import os
import warnings
from functools import cache
from importlib import import_module
from pathlib import Path

import numpy as np


def load(name):
    """The extension module ``_kernels.<name>``, or None where it was not built
    (no C compiler, or a source tree never built): the engine then runs its
    NumPy code, which the compiled kernels reproduce."""
    try:
        module = import_module(f"{__name__}.{name}")
    except ImportError:
        _warn_if_unbuilt_source_tree()
        return None
    _use_numpy_blas()
    return module


def numpy_engine_requested():
    """Whether the environment asks for the NumPy engine (``SKRNN_ENGINE=numpy``,
    read when called): the compiled kernels are then left unused."""
    return os.environ.get("SKRNN_ENGINE", "").lower() == "numpy"


@cache
def _warn_if_unbuilt_source_tree():
    """Say so when skrnn is imported from a source checkout whose kernels were
    never built: ``pip install .`` builds them into the installed copy only, and
    Python started in the checkout (``python -m skrnn`` there) imports the
    checkout, whose engine then silently runs its slower NumPy code. An install
    without a C compiler is left alone: there the NumPy code is the plan."""
    root = Path(__file__).resolve().parents[3]
    if (root / "setup.py").is_file() and (root / "pyproject.toml").is_file():
        warnings.warn(
            f"skrnn is imported from its source tree {root}, where its compiled "
            "kernels are not built: the engine runs its NumPy code (the same "
            "results, slower). Build them in place with `pip install -e .` there, "
            "or start Python outside the source tree to import an installed skrnn.",
            stacklevel=3,
        )


@cache
def _use_numpy_blas():
    """Point the class softmax's products (``_blas``) at NumPy's BLAS, once."""
    addresses = numpy_cblas64()
    if addresses is not None:
        import_module(f"{__name__}._blas").use_cblas64(*addresses)


def numpy_cblas64():
    """The addresses of ``cblas_sgemm`` and ``cblas_dgemm`` with 64-bit integers
    in the BLAS that NumPy's ``@`` calls, or None where they are not found.

    NumPy's wheels carry OpenBLAS with these symbols (``scipy_cblas_sgemm64_``;
    other ILP64 builds without the prefix). Elsewhere (Accelerate, MKL, a
    32-bit-integer BLAS, or Windows, where a symbol is only looked up in the
    module itself) the kernels keep SciPy's BLAS.
    """
    try:
        from numpy._core import _multiarray_umath
    except ImportError:  # NumPy 1.x
        from numpy.core import _multiarray_umath
    try:
        # dlsym through NumPy's extension module searches the libraries it loaded
        library = ctypes.CDLL(_multiarray_umath.__file__)
    except OSError:
        return None
    for prefix in ("scipy_cblas_", "cblas_"):
        try:
            functions = [getattr(library, f"{prefix}{t}gemm64_") for t in "sd"]
        except AttributeError:
            continue
        return tuple(ctypes.cast(f, ctypes.c_void_p).value for f in functions)
    return None


def takes(*arrays):
    """Whether the ``updates`` kernels can work on ``arrays`` in place: all
    C-contiguous and of one float type (float32 or float64)."""
    return (
        all(a.flags.c_contiguous for a in arrays)
        and len({a.dtype for a in arrays}) == 1
        and arrays[0].dtype in (np.float32, np.float64)
    )
