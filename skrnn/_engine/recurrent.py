"""Stacked, optionally bidirectional recurrent layers over padded, time-major batches.

Each direction of a layer projects its input for every step in one GEMM, runs the
cell's time loop, and after the backward loop forms its input-weight gradient and
the input's gradient as one GEMM each over all steps; the two directions of a
bidirectional layer do all that on two threads when ``gemm.threads`` allows (each
loop is a serial chain of small products, and on one core the stacked loop of both
was no faster). The backward direction is the same cell run over each sequence's
valid steps in reverse: it reads the layer's input gathered through a per-sequence
reversal index (padding stays at the end), and its outputs and its input's
gradient are gathered back. Gathering the input, rather than its projection, moves
the fewest floats: a layer's input is narrower than its gates."""

import numpy as np

from .compiled_cells import cell_class
from .gemm import map_threads, matmul


class RecurrentStack:
    """``num_layers`` recurrent layers, each with one or two directions.

    Parameters are named ``"rnn.{layer}.{direction}.{name}"`` with direction ``"fw"``
    or ``"bw"`` and name ``W_in`` (input weights), ``b``, ``W_rec`` (and ``b_hn`` for
    the GRU).
    """

    def __init__(
        self, cell, input_size, hidden_size, num_layers=1, bidirectional=False
    ):
        self.cell = cell_class(cell)()
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
            layer_params = self._layer_params(params, layer)
            # each direction reads the input in its own step order, projects it
            # and runs its loop, on a thread of its own when there are two
            inputs = [x] if len(self.directions) == 1 else [x, x[reverse, cols]]
            states = self._initial_state(initial_state, layer, x.dtype, B)

            def run(k, layer_params=layer_params, inputs=inputs, states=states):
                W_in, b, recurrent = layer_params[k]
                xproj = _project(inputs[k], W_in, b)[:, None]
                return self.cell.forward(recurrent, xproj, *states[k])

            outputs = map_threads(run, range(len(self.directions)))
            for direction, (hs, cell_cache) in zip(
                self.directions, outputs, strict=True
            ):
                c = cell_cache["cs"][last + 1, 0, cols] if "cs" in cell_cache else None
                final_state[(layer, direction)] = (hs[last, 0, cols], c)
            cell_caches = [cell_cache for _, cell_cache in outputs]
            caches.append((inputs, layer_params, cell_caches))
            x = _join_directions([hs for hs, _ in outputs], reverse, cols)
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
            inputs, layer_params, cell_caches = cache["caches"][layer]
            dhs = _split_directions(dout, len(self.directions), reverse, cols)

            def run(k, inputs=inputs, layer_params=layer_params, dhs=dhs,
                    cell_caches=cell_caches):
                W_in, _, recurrent = layer_params[k]
                dxproj, cell_grads, dh = self.cell.backward(
                    recurrent, dhs[k], cell_caches[k]
                )
                dxproj = dxproj[:, 0].reshape(T * B, -1)
                layer_grads = {
                    "W_in": matmul(inputs[k].reshape(T * B, -1).T, dxproj),
                    "b": dxproj.sum(axis=0),
                    **{name: value[0] for name, value in cell_grads.items()},
                }
                return matmul(dxproj, W_in.T).reshape(T, B, -1), layer_grads, dh

            outputs = map_threads(run, range(len(self.directions)))
            for direction, (_, layer_grads, dh) in zip(
                self.directions, outputs, strict=True
            ):
                prefix = f"rnn.{layer}.{direction}."
                grads.update({prefix + k: v for k, v in layer_grads.items()})
                dh0[(layer, direction)] = dh[0]
            dout = outputs[0][0]
            if len(outputs) == 2:  # the backward direction's input, in step order
                dout += outputs[1][0][reverse, cols]
            if layer > 0 and cache["dropout_masks"]:
                dout *= cache["dropout_masks"][layer - 1]
        return dout, grads, dh0

    def _layer_params(self, params, layer):
        """``(W_in, b, recurrent)`` of each direction of ``layer``, the
        recurrent parameters with the cells' leading direction axis (of size 1)."""
        out = []
        for direction in self.directions:
            p = _subdict(params, f"rnn.{layer}.{direction}.")
            recurrent = {k: v[None] for k, v in p.items() if k not in ("W_in", "b")}
            out.append((p["W_in"], p["b"], recurrent))
        return out

    def _initial_state(self, initial_state, layer, dtype, B):
        """``(h0, c0)`` of each direction of ``layer``, each ``(1, B, H)`` (``c0``
        None when not given)."""
        states = []
        for direction in self.directions:
            h, c = (initial_state or {}).get((layer, direction), (None, None))
            h0 = np.zeros((1, B, self.hidden_size), dtype=dtype)
            if h is not None:
                h0[0] = h
            states.append((h0, None if c is None else np.asarray(c, dtype)[None]))
        return states


def _project(x, W, b):
    """Input projection of every step at once: one ``(T*B, D) @ (D, G)`` GEMM."""
    T, B, D = x.shape
    xproj = matmul(x.reshape(T * B, D), W)
    xproj += b
    return xproj.reshape(T, B, -1)


def _split_directions(a, n_directions, reverse, cols):
    """``(T, B, n_directions * K)``, directions side by side, as one
    ``(T, 1, B, K)`` array per direction, each sequence's valid steps reversed
    for the backward direction (the forward one is a view)."""
    if n_directions == 1:
        return [a[:, None]]
    K = a.shape[-1] // 2
    return [a[:, None, :, :K], a[reverse, cols, K:][:, None]]


def _join_directions(parts, reverse, cols):
    """The inverse of ``_split_directions``: one ``(T, 1, B, K)`` array per
    direction back to ``(T, B, n_directions * K)`` in the input's step order."""
    if len(parts) == 1:
        return parts[0][:, 0]
    forward, backward = parts
    T, _, B, K = forward.shape
    out = np.empty((T, B, 2 * K), dtype=forward.dtype)
    out[:, :, :K] = forward[:, 0]
    out[:, :, K:] = backward[:, 0][reverse, cols]
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
