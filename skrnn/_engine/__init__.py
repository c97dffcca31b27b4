"""The NumPy engine for backpropagation through time.

Imports numpy and scipy only. Arrays are time-major ``(T, B, ...)`` inside the engine;
parameters are a plain dict of arrays. See docs/design.md for how a batch flows.
"""

from .averaging import WeightAverage
from .batching import (
    bptt_windows,
    length_batches,
    make_batch,
    segment_positions,
    stream_positions,
    token_batches,
)
from .cells import CELLS
from .characters import CharacterCNN
from .compiled_cells import keeps_rows_apart
from .embedding import SparseRows
from .gemm import rows_apart, threads
from .language import SOFTMAXES, LanguageNetwork
from .network import HEADS, Batch, SequenceNetwork
from .optimizers import OPTIMIZERS, clip_grad_norm

__all__ = [
    "CELLS",
    "HEADS",
    "SOFTMAXES",
    "OPTIMIZERS",
    "Batch",
    "CharacterCNN",
    "LanguageNetwork",
    "SequenceNetwork",
    "SparseRows",
    "WeightAverage",
    "bptt_windows",
    "clip_grad_norm",
    "keeps_rows_apart",
    "length_batches",
    "make_batch",
    "rows_apart",
    "segment_positions",
    "stream_positions",
    "threads",
    "token_batches",
]
