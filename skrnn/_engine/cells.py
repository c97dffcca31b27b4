"""Recurrent cells: the time loop of backpropagation through time.

Every cell works on time-major arrays. Its input is the projection of the inputs for
all steps, ``xproj = x @ W_in + b`` of shape ``(T, B, G*H)``, computed by the layer in
one GEMM; inside the time loop a cell only adds ``h_{t-1} @ W_rec`` and applies its
gates. ``backward`` walks from the last step to the first carrying only ``dh`` (and
``dc``), and returns ``d xproj`` for every step; the weight gradient
``dW_rec = sum_t h_{t-1}^T d pre_t`` is one GEMM over all steps after the loop.

Padding is never masked inside the loop. Sequences are right-padded, so the steps
after a sequence's end cannot influence its valid steps, and because the loss
gives them a zero gradient, backpropagation gives them (and their inputs) exactly zero
gradient as well.
"""

import numpy as np
from scipy.special import expit


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
        T, B, H = xproj.shape
        hs = np.empty((T + 1, B, H), dtype=xproj.dtype)
        hs[0] = h0
        for t in range(T):
            np.matmul(hs[t], W, out=hs[t + 1])
            hs[t + 1] += xproj[t]
            np.tanh(hs[t + 1], out=hs[t + 1])
        return hs[1:], {"hs": hs}

    def backward(self, params, dhs, cache):
        W_T = params["W_rec"].T
        hs = cache["hs"]
        T, B, H = dhs.shape
        dpre = np.empty_like(dhs)
        dh = np.zeros((B, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh += dhs[t]
            h = hs[t + 1]
            np.multiply(dh, 1.0 - h * h, out=dpre[t])
            dh = dpre[t] @ W_T
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
        W, b_hn = params["W_rec"], params["b_hn"]
        T, B, G = xproj.shape
        H = G // 3
        hs = np.empty((T + 1, B, H), dtype=xproj.dtype)
        hs[0] = h0
        gates = np.empty((T, B, G), dtype=xproj.dtype)  # r, z, n after activation
        rec_n = np.empty((T, B, H), dtype=xproj.dtype)  # h W_hn + b_hn, seen by r
        for t in range(T):
            rec = hs[t] @ W
            g = gates[t]
            np.add(xproj[t, :, : 2 * H], rec[:, : 2 * H], out=g[:, : 2 * H])
            expit(g[:, : 2 * H], out=g[:, : 2 * H])
            np.add(rec[:, 2 * H :], b_hn, out=rec_n[t])
            n = g[:, 2 * H :]
            np.multiply(g[:, :H], rec_n[t], out=n)
            n += xproj[t, :, 2 * H :]
            np.tanh(n, out=n)
            # h' = n + z * (h - n)
            np.subtract(hs[t], n, out=hs[t + 1])
            hs[t + 1] *= g[:, H : 2 * H]
            hs[t + 1] += n
        return hs[1:], {"hs": hs, "gates": gates, "rec_n": rec_n}

    def backward(self, params, dhs, cache):
        W_T = params["W_rec"].T
        hs, gates, rec_n = cache["hs"], cache["gates"], cache["rec_n"]
        T, B, H = dhs.shape
        dxproj = np.empty((T, B, 3 * H), dtype=dhs.dtype)
        drec = np.empty((T, B, 3 * H), dtype=dhs.dtype)
        dh = np.zeros((B, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh += dhs[t]
            r, z, n = gates[t, :, :H], gates[t, :, H : 2 * H], gates[t, :, 2 * H :]
            h_prev = hs[t]
            dn_pre = dh * (1.0 - z) * (1.0 - n * n)
            dr_pre = dn_pre * rec_n[t] * r * (1.0 - r)
            dz_pre = dh * (h_prev - n) * z * (1.0 - z)
            dxproj[t, :, :H] = dr_pre
            dxproj[t, :, H : 2 * H] = dz_pre
            dxproj[t, :, 2 * H :] = dn_pre
            drec[t, :, : 2 * H] = dxproj[t, :, : 2 * H]
            np.multiply(dn_pre, r, out=drec[t, :, 2 * H :])
            dh = dh * z + drec[t] @ W_T
        grads = {
            "W_rec": _sum_outer(hs[:-1], drec),
            "b_hn": drec[:, :, 2 * H :].sum(axis=(0, 1)),
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
        T, B, G = xproj.shape
        H = G // 4
        hs = np.empty((T + 1, B, H), dtype=xproj.dtype)
        cs = np.empty((T + 1, B, H), dtype=xproj.dtype)
        hs[0] = h0
        cs[0] = 0.0 if c0 is None else c0
        gates = np.empty((T, B, G), dtype=xproj.dtype)
        tanh_c = np.empty((T, B, H), dtype=xproj.dtype)
        for t in range(T):
            g = gates[t]
            np.matmul(hs[t], W, out=g)
            g += xproj[t]
            expit(g[:, : 2 * H], out=g[:, : 2 * H])
            np.tanh(g[:, 2 * H : 3 * H], out=g[:, 2 * H : 3 * H])
            expit(g[:, 3 * H :], out=g[:, 3 * H :])
            # c = f * c_prev + i * g;  h = o * tanh(c)
            np.multiply(g[:, H : 2 * H], cs[t], out=cs[t + 1])
            cs[t + 1] += g[:, :H] * g[:, 2 * H : 3 * H]
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(g[:, 3 * H :], tanh_c[t], out=hs[t + 1])
        return hs[1:], {"hs": hs, "cs": cs, "gates": gates, "tanh_c": tanh_c}

    def backward(self, params, dhs, cache):
        W_T = params["W_rec"].T
        hs, cs, gates, tanh_c = (
            cache["hs"],
            cache["cs"],
            cache["gates"],
            cache["tanh_c"],
        )
        T, B, H = dhs.shape
        dpre = np.empty((T, B, 4 * H), dtype=dhs.dtype)
        dh = np.zeros((B, H), dtype=dhs.dtype)
        dc = np.zeros((B, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh += dhs[t]
            i, f = gates[t, :, :H], gates[t, :, H : 2 * H]
            g, o = gates[t, :, 2 * H : 3 * H], gates[t, :, 3 * H :]
            tc = tanh_c[t]
            dc += dh * o * (1.0 - tc * tc)
            dpre[t, :, :H] = dc * g * i * (1.0 - i)
            dpre[t, :, H : 2 * H] = dc * cs[t] * f * (1.0 - f)
            dpre[t, :, 2 * H : 3 * H] = dc * i * (1.0 - g * g)
            dpre[t, :, 3 * H :] = dh * tc * o * (1.0 - o)
            dc *= f
            dh = dpre[t] @ W_T
        grads = {"W_rec": _sum_outer(hs[:-1], dpre)}
        return dpre, grads, dh


CELLS = {"rnn": ElmanCell, "gru": GRUCell, "lstm": LSTMCell}


def _sum_outer(a, b):
    """``sum_t a_t^T b_t`` over all steps as a single GEMM."""
    return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])


def _orthogonal(rng, hidden_size, n_gates, dtype):
    """One orthogonal ``(H, H)`` block per gate, stacked as ``(H, n_gates * H)``."""
    blocks = []
    for _ in range(n_gates):
        q, r = np.linalg.qr(rng.standard_normal((hidden_size, hidden_size)))
        blocks.append(q * np.sign(np.diag(r)))
    return np.hstack(blocks).astype(dtype)
