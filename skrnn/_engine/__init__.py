"""The NumPy engine for backpropagation through time.

Imports numpy and scipy only. Arrays are time-major ``(T, B, ...)`` inside the engine;
parameters are a plain dict of arrays. See docs/design.md for how a batch flows.
"""

from .batching import length_batches, make_batch, segment_positions
from .cells import CELLS
from .embedding import SparseRows
from .network import HEADS, Batch, SequenceNetwork
from .optimizers import OPTIMIZERS, clip_grad_norm

__all__ = [
    "CELLS",
    "HEADS",
    "OPTIMIZERS",
    "Batch",
    "SequenceNetwork",
    "SparseRows",
    "clip_grad_norm",
    "length_batches",
    "make_batch",
    "segment_positions",
]
