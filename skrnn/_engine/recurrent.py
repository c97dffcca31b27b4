"""Stacked, optionally bidirectional recurrent layers over padded, time-major batches.

A layer projects its input for every step in one GEMM, runs the cell's time loop, and
after the backward loop forms the input-weight gradient as one GEMM over all steps.
The backward direction of a bidirectional layer is the same cell run over each
sequence's valid steps in reverse: the input is gathered through a per-sequence
reversal index (padding stays at the end), and the outputs are gathered back.
"""

import numpy as np

from .cells import CELLS


class RecurrentStack:
    """``num_layers`` recurrent layers, each with one or two directions.

    Parameters are named ``"rnn.{layer}.{direction}.{name}"`` with direction ``"fw"``
    or ``"bw"`` and name ``W_in`` (input weights), ``b``, ``W_rec`` (and ``b_hn`` for
    the GRU).
    """

    def __init__(
        self, cell, input_size, hidden_size, num_layers=1, bidirectional=False
    ):
        self.cell = CELLS[cell]()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.directions = ("fw", "bw") if bidirectional else ("fw",)

    @property
    def output_size(self):
        return self.hidden_size * len(self.directions)

    def _prefixes(self):
        for layer in range(self.num_layers):
            for direction in self.directions:
                yield layer, direction, f"rnn.{layer}.{direction}."

    def init_params(self, rng, dtype):
        """Glorot-uniform input weights, orthogonal recurrent weights."""
        params = {}
        H, G = self.hidden_size, self.cell.n_gates * self.hidden_size
        for layer, _, prefix in self._prefixes():
            n_in = self.input_size if layer == 0 else self.output_size
            limit = np.sqrt(6.0 / (n_in + G))
            params[prefix + "W_in"] = rng.uniform(-limit, limit, (n_in, G)).astype(
                dtype
            )
            params[prefix + "b"] = self.cell.init_bias(H, dtype)
            for name, value in self.cell.init_recurrent(rng, H, dtype).items():
                params[prefix + name] = value
        return params

    def forward(self, params, x, lengths, *, initial_state=None, dropout=None):
        """Run all layers over ``x`` of shape ``(T, B, input_size)``.

        Parameters
        ----------
        initial_state : dict or None
            ``{(layer, direction): (h0, c0)}``, each ``(B, H)``; ``c0`` only for the
            LSTM (else None). Missing entries start from zeros.
        dropout : callable or None
            Applied to the input of every layer after the first (inverted dropout
            between layers), returning ``(x, mask)``.

        Returns
        -------
        out : ndarray of shape (T, B, output_size)
        final_state : dict ``{(layer, direction): (h, c)}`` at each sequence's last
            valid step (``c`` is None except for the LSTM).
        cache : dict
        """
        T, B, _ = x.shape
        cols = np.arange(B)
        reverse = _reversal_index(lengths, T)
        last = np.maximum(lengths - 1, 0)
        final_state, caches, dropout_masks = {}, [], []
        for layer in range(self.num_layers):
            if layer > 0 and dropout is not None:
                x, mask = dropout(x)
                dropout_masks.append(mask)
            out = np.empty((T, B, self.output_size), dtype=x.dtype)
            layer_caches = {}
            for k, direction in enumerate(self.directions):
                prefix = f"rnn.{layer}.{direction}."
                p = _subdict(params, prefix)
                x_dir = x if direction == "fw" else x[reverse, cols]
                xproj = _project(x_dir, p["W_in"], p["b"])
                h0, c0 = (initial_state or {}).get((layer, direction), (None, None))
                if h0 is None:
                    h0 = np.zeros((B, self.hidden_size), dtype=x.dtype)
                hs, cell_cache = self.cell.forward(p, xproj, h0, c0)
                h_last = hs[last, cols]
                c_last = (
                    cell_cache["cs"][last + 1, cols] if "cs" in cell_cache else None
                )
                final_state[(layer, direction)] = (h_last, c_last)
                if direction == "bw":
                    hs = hs[reverse, cols]
                out[:, :, k * self.hidden_size : (k + 1) * self.hidden_size] = hs
                layer_caches[direction] = (x_dir, cell_cache)
            caches.append(layer_caches)
            x = out
        cache = {"caches": caches, "reverse": reverse, "dropout_masks": dropout_masks}
        return x, final_state, cache

    def backward(self, params, dout, cache):
        """Gradients of all parameters and of the input, given ``d out``.

        Returns ``(dx, grads, d_initial_state)`` with ``d_initial_state`` keyed like
        ``initial_state`` (gradient of ``h0`` only).
        """
        T, B, _ = dout.shape
        cols = np.arange(B)
        reverse = cache["reverse"]
        grads, dh0 = {}, {}
        H = self.hidden_size
        for layer in reversed(range(self.num_layers)):
            layer_caches = cache["caches"][layer]
            dx = None
            for k, direction in enumerate(self.directions):
                prefix = f"rnn.{layer}.{direction}."
                p = _subdict(params, prefix)
                x_dir, cell_cache = layer_caches[direction]
                dhs = dout[:, :, k * H : (k + 1) * H]
                if direction == "bw":
                    dhs = dhs[reverse, cols]
                dxproj, cell_grads, dh0[(layer, direction)] = self.cell.backward(
                    p, np.ascontiguousarray(dhs), cell_cache
                )
                dxproj_2d = dxproj.reshape(T * B, -1)
                grads[prefix + "W_in"] = x_dir.reshape(T * B, -1).T @ dxproj_2d
                grads[prefix + "b"] = dxproj_2d.sum(axis=0)
                for name, value in cell_grads.items():
                    grads[prefix + name] = value
                dx_dir = (dxproj_2d @ p["W_in"].T).reshape(T, B, -1)
                if direction == "bw":
                    dx_dir = dx_dir[reverse, cols]
                dx = dx_dir if dx is None else dx + dx_dir
            if layer > 0 and cache["dropout_masks"]:
                dx *= cache["dropout_masks"][layer - 1]
            dout = dx
        return dout, grads, dh0


def _project(x, W, b):
    """Input projection of every step at once: one ``(T*B, D) @ (D, G)`` GEMM."""
    T, B, D = x.shape
    xproj = x.reshape(T * B, D) @ W
    xproj += b
    return xproj.reshape(T, B, -1)


def _reversal_index(lengths, T):
    """``index[t, b]``: the step that the reversed sequence ``b`` reads at time ``t``.

    Valid steps are reversed, padding stays in place; the index is its own inverse.
    """
    t = np.arange(T)[:, None]
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


def _subdict(params, prefix):
    n = len(prefix)
    return {key[n:]: value for key, value in params.items() if key.startswith(prefix)}
