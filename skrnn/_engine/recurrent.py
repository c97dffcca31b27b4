"""Stacked, optionally bidirectional recurrent layers over padded, time-major batches.

A layer projects its input for every step and both directions in one GEMM, runs the
cell's time loop for both directions at once, and after the backward loop forms the
input-weight gradient and the input's gradient as one GEMM each over all steps. The
backward direction of a bidirectional layer is the same cell run over each
sequence's valid steps in reverse: its projected input is gathered through a
per-sequence reversal index (padding stays at the end), and its outputs are
gathered back.
"""

import numpy as np

from .cells import CELLS
from .gemm import matmul


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
            p = self._layer_params(params, layer)
            # both directions' input projections in one GEMM, then the backward
            # direction's steps reversed within each sequence
            xproj = _by_direction(
                _project(x, p["W_in"], p["b"]), len(self.directions), reverse, cols
            )
            h0, c0 = self._initial_state(initial_state, layer, x.dtype, B)
            hs, cell_cache = self.cell.forward(p, xproj, h0, c0)
            for k, direction in enumerate(self.directions):
                c = cell_cache["cs"][last + 1, k, cols] if "cs" in cell_cache else None
                final_state[(layer, direction)] = (hs[last, k, cols], c)
            caches.append((x, p, cell_cache))  # p: the stacked weights, for backward
            x = _merge_directions(hs, reverse, cols)
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
        for layer in reversed(range(self.num_layers)):
            x, p, cell_cache = cache["caches"][layer]
            dhs = _by_direction(dout, len(self.directions), reverse, cols)
            dxproj, cell_grads, dh = self.cell.backward(p, dhs, cell_cache)
            dproj = _merge_directions(dxproj, reverse, cols).reshape(T * B, -1)
            stacked = {
                "W_in": matmul(x.reshape(T * B, -1).T, dproj),
                "b": dproj.sum(axis=0),
            }
            G = dproj.shape[1] // len(self.directions)
            for k, direction in enumerate(self.directions):
                prefix = f"rnn.{layer}.{direction}."
                for name in ("W_in", "b"):
                    grads[prefix + name] = np.ascontiguousarray(
                        stacked[name][..., k * G : (k + 1) * G]
                    )
                for name, value in cell_grads.items():
                    grads[prefix + name] = value[k]
                dh0[(layer, direction)] = dh[k]
            dout = matmul(dproj, p["W_in"].T).reshape(T, B, -1)
            if layer > 0 and cache["dropout_masks"]:
                dout *= cache["dropout_masks"][layer - 1]
        return dout, grads, dh0

    def _layer_params(self, params, layer):
        """The parameters of ``layer`` with its directions side by side: input
        weights and biases concatenated along the gates (one projection GEMM for
        all), recurrent ones stacked on a leading direction axis."""
        parts = [_subdict(params, f"rnn.{layer}.{d}.") for d in self.directions]
        if len(parts) == 1:
            (p,) = parts
            return {k: v if k in ("W_in", "b") else v[None] for k, v in p.items()}
        return {
            name: (
                np.concatenate([p[name] for p in parts], axis=-1)
                if name in ("W_in", "b")
                else np.stack([p[name] for p in parts])
            )
            for name in parts[0]
        }

    def _initial_state(self, initial_state, layer, dtype, B):
        """``(h0, c0)`` of ``layer``, stacked as ``(D, B, H)`` (``c0`` None when no
        direction has one)."""
        h0 = np.zeros((len(self.directions), B, self.hidden_size), dtype=dtype)
        c0 = None
        for k, direction in enumerate(self.directions):
            h, c = (initial_state or {}).get((layer, direction), (None, None))
            if h is not None:
                h0[k] = h
            if c is not None:
                c0 = np.zeros_like(h0) if c0 is None else c0
                c0[k] = c
        return h0, c0


def _project(x, W, b):
    """Input projection of every step at once: one ``(T*B, D) @ (D, G)`` GEMM."""
    T, B, D = x.shape
    xproj = matmul(x.reshape(T * B, D), W)
    xproj += b
    return xproj.reshape(T, B, -1)


def _by_direction(a, n_directions, reverse, cols):
    """``(T, B, n_directions * K)``, directions side by side, as
    ``(T, n_directions, B, K)``, each sequence's valid steps reversed for the
    backward direction."""
    if n_directions == 1:
        return a[:, None]
    T, B, width = a.shape
    K = width // 2
    out = np.empty((T, 2, B, K), dtype=a.dtype)
    out[:, 0] = a[:, :, :K]
    out[:, 1] = a[reverse, cols, K:]
    return out


def _merge_directions(a, reverse, cols):
    """The inverse of ``_by_direction``: ``(T, n_directions, B, K)`` back to
    ``(T, B, n_directions * K)`` in the input's step order."""
    T, n_directions, B, K = a.shape
    if n_directions == 1:
        return a[:, 0]
    out = np.empty((T, B, 2 * K), dtype=a.dtype)
    out[:, :, :K] = a[:, 0]
    out[:, :, K:] = a[:, 1][reverse, cols]
    return out


def _reversal_index(lengths, T):
    """``index[t, b]``: the step that the reversed sequence ``b`` reads at time ``t``.

    Valid steps are reversed, padding stays in place; the index is its own inverse.
    """
    t = np.arange(T)[:, None]
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


def _subdict(params, prefix):
    n = len(prefix)
    return {key[n:]: value for key, value in params.items() if key.startswith(prefix)}
