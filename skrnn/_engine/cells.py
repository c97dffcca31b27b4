"""Recurrent cells: the time loop of backpropagation through time.

Every cell works on time-major arrays with the directions of a layer stacked on the
second axis: its input is the projection of the inputs for all steps,
``xproj = x @ W_in + b`` of shape ``(T, D, B, G*H)``, computed by the layer in one
GEMM; a state is ``(D, B, H)`` and ``W_rec`` is ``(D, H, G*H)``. ``RecurrentStack``
calls a cell once per direction (``D = 1``), each on a thread of its own: on one
core two ``D = 1`` calls were as fast as one stacked forward and, for the GRU,
twice as fast as a stacked backward, and on 2 cores a tagger's training step took
about a fifth less time (the loops overlap only in part: between its small
products a loop holds the GIL). Inside the time loop a cell only adds
``h_{t-1} @ W_rec`` and applies its gates. ``backward`` walks from the last step
to the first carrying only ``dh`` (and ``dc``), and returns ``d xproj`` for every
step; the weight gradient
``dW_rec = sum_t h_{t-1}^T d pre_t`` is one GEMM over all steps after the loop.

Padding is never masked inside the loop. Sequences are right-padded, so the steps
after a sequence's end cannot influence its valid steps, and because the loss
gives them a zero gradient, backpropagation gives them (and their inputs) exactly zero
gradient as well.
"""

import numpy as np

from .activations import gate_activation
from .gemm import matmul


class ElmanCell:
    """The seed's network: ``h_t = tanh(x_t U + h_{t-1} W + b)``."""

    n_gates = 1
    has_cell_state = False

    def init_recurrent(self, rng, hidden_size, dtype):
        return {"W_rec": _orthogonal(rng, hidden_size, self.n_gates, dtype)}

    def init_bias(self, hidden_size, dtype):
        return np.zeros(hidden_size, dtype=dtype)

    def forward(self, params, xproj, h0, c0=None):
        W = params["W_rec"]
        T, D, B, H = xproj.shape
        hs = np.empty((T + 1, D, B, H), dtype=xproj.dtype)
        hs[0] = h0
        tanh = gate_activation(xproj.dtype).tanh
        for t in range(T):
            np.matmul(hs[t], W, out=hs[t + 1])
            hs[t + 1] += xproj[t]
            tanh(hs[t + 1], out=hs[t + 1])
        return hs[1:], {"hs": hs}

    def backward(self, params, dhs, cache):
        W_T = _transposed(params["W_rec"])
        hs = cache["hs"]
        T, D, B, H = dhs.shape
        dtanh = 1.0 - hs[1:] * hs[1:]  # tanh' of every step, outside the loop
        dpre = np.empty_like(dhs)
        dh = np.zeros((D, B, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh += dhs[t]
            np.multiply(dh, dtanh[t], out=dpre[t])
            np.matmul(dpre[t], W_T, out=dh)
        grads = {"W_rec": _sum_outer(hs[:-1], dpre)}
        return dpre, grads, dh


class GRUCell:
    """Gated recurrent unit, with the reset gate applied after the recurrent product.

    ``r, z = sigmoid(x W_{r,z} + h W_{hr,hz} + b)``,
    ``n = tanh(x W_n + b_n + r * (h W_hn + b_hn))``, ``h' = n + z * (h - n)``
    (the formulation of cuDNN and PyTorch).
    """

    n_gates = 3
    has_cell_state = False

    def init_recurrent(self, rng, hidden_size, dtype):
        return {
            "W_rec": _orthogonal(rng, hidden_size, self.n_gates, dtype),
            "b_hn": np.zeros(hidden_size, dtype=dtype),
        }

    def init_bias(self, hidden_size, dtype):
        return np.zeros(3 * hidden_size, dtype=dtype)

    def forward(self, params, xproj, h0, c0=None):
        W, b_hn = params["W_rec"], params["b_hn"][:, None, :]
        T, D, B, G = xproj.shape
        H = G // 3
        hs = np.empty((T + 1, D, B, H), dtype=xproj.dtype)
        hs[0] = h0
        gates = np.empty((T, D, B, G), dtype=xproj.dtype)  # r, z, n after activation
        rec_n = np.empty((T, D, B, H), dtype=xproj.dtype)  # h W_hn + b_hn, seen by r
        rec = np.empty((D, B, G), dtype=xproj.dtype)
        act = gate_activation(xproj.dtype)
        tanh = act.tanh
        # r and z through the gate activation; n after the reset, by tanh
        scale, mult, shift = act.affine(xproj.dtype, ("sigmoid", "sigmoid"), H)
        W_scaled = W.copy()
        W_scaled[..., : 2 * H] *= scale
        xproj_rz = xproj[..., : 2 * H] * scale
        with act.errstate():
            for t in range(T):
                np.matmul(hs[t], W_scaled, out=rec)
                g = gates[t]
                rz = g[..., : 2 * H]
                np.add(xproj_rz[t], rec[..., : 2 * H], out=rz)
                act.apply(rz, mult, shift)
                np.add(rec[..., 2 * H :], b_hn, out=rec_n[t])
                n = g[..., 2 * H :]
                np.multiply(g[..., :H], rec_n[t], out=n)
                n += xproj[t, ..., 2 * H :]
                tanh(n, out=n)
                # h' = n + z * (h - n)
                np.subtract(hs[t], n, out=hs[t + 1])
                hs[t + 1] *= g[..., H : 2 * H]
                hs[t + 1] += n
        return hs[1:], {"hs": hs, "gates": gates, "rec_n": rec_n}

    def backward(self, params, dhs, cache):
        W_T = _transposed(params["W_rec"])
        hs, gates, rec_n = cache["hs"], cache["gates"], cache["rec_n"]
        T, D, B, H = dhs.shape
        r, z, n = gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H :]
        # d pre-activation / d h of every step, outside the loop:
        # dn_pre = dh * dn, dz_pre = dh * dz, dr_pre = dh * dn * rec_n * r (1 - r)
        dn = (1.0 - z) * (1.0 - n * n)
        drec_dh = np.empty((T, D, B, 3, H), dtype=dhs.dtype)  # d (h W_rec) / d h
        drec_dh[..., 0, :] = dn * rec_n * r * (1.0 - r)
        drec_dh[..., 1, :] = (hs[:-1] - n) * z * (1.0 - z)
        drec_dh[..., 2, :] = dn * r
        drec = np.empty((T, D, B, 3 * H), dtype=dhs.dtype)
        dh_steps = np.empty_like(dhs)
        dh = np.zeros((D, B, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh += dhs[t]
            dh_steps[t] = dh
            np.multiply(dh[..., None, :], drec_dh[t], out=drec[t].reshape(D, B, 3, H))
            dh *= z[t]
            dh += drec[t] @ W_T
        dxproj = drec.copy()  # the input sees r and z as the recurrence does, n unreset
        np.multiply(dh_steps, dn, out=dxproj[..., 2 * H :])
        grads = {
            "W_rec": _sum_outer(hs[:-1], drec),
            "b_hn": drec[..., 2 * H :].sum(axis=(0, 2)),
        }
        return dxproj, grads, dh


class LSTMCell:
    """Long short-term memory, gates ``i, f, g, o`` in that order.

    The forget-gate bias starts at 1 so that early in training the cell remembers
    (Jozefowicz et al., 2015).
    """

    n_gates = 4
    has_cell_state = True

    def init_recurrent(self, rng, hidden_size, dtype):
        return {"W_rec": _orthogonal(rng, hidden_size, self.n_gates, dtype)}

    def init_bias(self, hidden_size, dtype):
        b = np.zeros(4 * hidden_size, dtype=dtype)
        b[hidden_size : 2 * hidden_size] = 1.0
        return b

    def forward(self, params, xproj, h0, c0=None):
        W = params["W_rec"]
        T, D, B, G = xproj.shape
        H = G // 4
        hs = np.empty((T + 1, D, B, H), dtype=xproj.dtype)
        cs = np.empty((T + 1, D, B, H), dtype=xproj.dtype)
        hs[0] = h0
        cs[0] = 0.0 if c0 is None else c0
        gates = np.empty((T, D, B, G), dtype=xproj.dtype)
        tanh_c = np.empty((T, D, B, H), dtype=xproj.dtype)
        ig = np.empty((D, B, H), dtype=xproj.dtype)
        act = gate_activation(xproj.dtype)
        tanh = act.tanh
        kinds = ("sigmoid", "sigmoid", "tanh", "sigmoid")
        scale, mult, shift = act.affine(xproj.dtype, kinds, H)
        W_scaled, xproj_scaled = W * scale, xproj * scale
        with act.errstate():
            for t in range(T):
                g = gates[t]
                np.matmul(hs[t], W_scaled, out=g)
                g += xproj_scaled[t]
                act.apply(g, mult, shift)
                # c = f * c_prev + i * g;  h = o * tanh(c)
                np.multiply(g[..., H : 2 * H], cs[t], out=cs[t + 1])
                np.multiply(g[..., :H], g[..., 2 * H : 3 * H], out=ig)
                cs[t + 1] += ig
                tanh(cs[t + 1], out=tanh_c[t])
                np.multiply(g[..., 3 * H :], tanh_c[t], out=hs[t + 1])
        return hs[1:], {"hs": hs, "cs": cs, "gates": gates, "tanh_c": tanh_c}

    def backward(self, params, dhs, cache):
        W_T = _transposed(params["W_rec"])
        hs, cs, gates, tanh_c = (
            cache["hs"],
            cache["cs"],
            cache["gates"],
            cache["tanh_c"],
        )
        T, D, B, H = dhs.shape
        i, f = gates[..., :H], gates[..., H : 2 * H]
        g, o = gates[..., 2 * H : 3 * H], gates[..., 3 * H :]
        # local derivatives of every step, outside the loop:
        # dc += dh * dc_dh;  d{i,f,g}_pre = dc * dpre_dc;  do_pre = dh * do_dh
        dc_dh = o * (1.0 - tanh_c * tanh_c)
        dpre_dc = np.empty((T, D, B, 3, H), dtype=dhs.dtype)
        dpre_dc[..., 0, :] = g * i * (1.0 - i)
        dpre_dc[..., 1, :] = cs[:-1] * f * (1.0 - f)
        dpre_dc[..., 2, :] = i * (1.0 - g * g)
        do_dh = tanh_c * o * (1.0 - o)
        dpre = np.empty((T, D, B, 4 * H), dtype=dhs.dtype)
        dh = np.zeros((D, B, H), dtype=dhs.dtype)
        dc = np.zeros((D, B, H), dtype=dhs.dtype)
        dc_t = np.empty((D, B, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh += dhs[t]
            np.multiply(dh, dc_dh[t], out=dc_t)
            dc += dc_t
            dpre_t = dpre[t].reshape(D, B, 4, H)
            np.multiply(dc[..., None, :], dpre_dc[t], out=dpre_t[..., :3, :])
            np.multiply(dh, do_dh[t], out=dpre_t[..., 3, :])
            dc *= f[t]
            np.matmul(dpre[t], W_T, out=dh)
        grads = {"W_rec": _sum_outer(hs[:-1], dpre)}
        return dpre, grads, dh


CELLS = {"rnn": ElmanCell, "gru": GRUCell, "lstm": LSTMCell}


def _sum_outer(a, b):
    """``sum_t a_t^T b_t`` over all steps, one GEMM per direction: ``a`` is
    ``(T, D, B, H)``, ``b`` ``(T, D, B, G)``, the result ``(D, H, G)``."""
    H, G = a.shape[-1], b.shape[-1]
    return np.stack(
        [
            matmul(a[:, d].reshape(-1, H).T, b[:, d].reshape(-1, G))
            for d in range(a.shape[1])
        ]
    )


def _transposed(W):
    """``W^T`` of each direction, contiguous (a strided view would make every
    step's GEMM copy it)."""
    return np.ascontiguousarray(W.transpose(0, 2, 1))


def _orthogonal(rng, hidden_size, n_gates, dtype):
    """One orthogonal ``(H, H)`` block per gate, stacked as ``(H, n_gates * H)``."""
    blocks = []
    for _ in range(n_gates):
        q, r = np.linalg.qr(rng.standard_normal((hidden_size, hidden_size)))
        blocks.append(q * np.sign(np.diag(r)))
    return np.hstack(blocks).astype(dtype)
