"""A word's characters → one vector: a convolution over character embeddings,
max-pooled over the positions of the word (Ma & Hovy, 2016; dos Santos &
Zadrozny, 2014).

A spelling is a row of character ids, ``0`` past its end; it starts and ends
with the marker ids the caller chose, so that a window can see where a word
begins and ends (``"<ing>"``, ``"ing>"``). A word's vector depends on its own
characters only: windows that start past ``length - window`` are never pooled,
whatever the padding of the batch around it.
"""

import numpy as np

from .embedding import init_table, sparse_row_sums
from .gemm import matmul


class CharacterCNN:
    """``tanh(max_p (b + sum_j E[c_{p+j}] W_j))`` per spelling.

    Parameters
    ----------
    n_chars : int
        Rows of the character table ``"chars.embed"`` (id 0 pads).
    embedding_dim : int
        Width of a character embedding.
    n_filters : int
        Width of the word vector: one filter per output unit.
    window : int
        Characters each filter sees.
    length : int
        Columns of a spelling: the last ``length`` id columns of a batch.
    """

    def __init__(self, n_chars, embedding_dim, n_filters, window, length):
        self.n_chars = n_chars
        self.length = length
        self.embedding_dim = embedding_dim
        self.n_filters = n_filters
        self.window = window

    def init_params(self, rng, dtype):
        E, F, k = self.embedding_dim, self.n_filters, self.window
        limit = np.sqrt(6.0 / (k * E + F))
        # columns j*F:(j+1)*F filter the j-th character of a window
        W = rng.uniform(-limit, limit, (E, k * F))
        return {
            "chars.embed": init_table(rng, self.n_chars, E, dtype),
            "chars.W": W.astype(dtype),
            "chars.b": np.zeros(F, dtype=dtype),
        }

    def forward(self, params, spellings):
        """``(N, n_filters)`` vectors of ``(N, L)`` spellings, and what backward
        needs."""
        k, F = self.window, self.n_filters
        lengths = np.count_nonzero(spellings, axis=1)
        L = max(k, int(lengths.max()))
        spellings = spellings[:, :L]
        n_windows = L - k + 1
        embedded = params["chars.embed"][spellings]  # (N, L, E)
        # one product for every character and window offset, then the k offsets
        # of each window summed: Z[:, p + j, j] is character p + j seen as the
        # j-th of window p
        Z = matmul(embedded.reshape(-1, embedded.shape[-1]), params["chars.W"])
        Z = Z.reshape(len(spellings), L, k, F)
        conv = Z[:, :n_windows, 0].copy()
        for j in range(1, k):
            conv += Z[:, j : j + n_windows, j]
        # a word shorter than the window still has its first window
        last = np.maximum(lengths - k, 0)
        conv[np.arange(n_windows)[None, :] > last[:, None]] = -np.inf
        best = conv.argmax(axis=1)  # (N, F)
        pooled = np.take_along_axis(conv, best[:, None, :], axis=1)[:, 0]
        vectors = np.tanh(pooled + params["chars.b"])
        cache = {
            "spellings": spellings,
            "embedded": embedded,
            "best": best,
            "vectors": vectors,
        }
        return vectors, cache

    def backward(self, params, dvectors, cache):
        """Gradients of ``"chars.*"`` from ``dvectors`` of shape ``(N,
        n_filters)``."""
        k, F = self.window, self.n_filters
        spellings, embedded = cache["spellings"], cache["embedded"]
        N, L, E = embedded.shape
        dpooled = dvectors * (1.0 - cache["vectors"] ** 2)
        # each filter's gradient reaches the k characters of its best window
        dZ = np.zeros((N, L, k, F), dtype=dpooled.dtype)
        rows, filters = np.arange(N)[:, None], np.arange(F)[None, :]
        for j in range(k):
            dZ[rows, cache["best"] + j, j, filters] = dpooled
        dZ = dZ.reshape(N * L, k * F)
        flat = embedded.reshape(N * L, E)
        dembedded = matmul(dZ, params["chars.W"].T)
        return {
            "chars.embed": sparse_row_sums(
                spellings.ravel(), dembedded, params["chars.embed"]
            ),
            "chars.W": matmul(flat.T, dZ),
            "chars.b": dpooled.sum(axis=0),
        }
