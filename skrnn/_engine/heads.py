"""Output heads: pooling of recurrent states, masked softmax cross-entropy."""

import numpy as np

POOLINGS = ("last", "mean", "max")


def valid_steps(out, mask_bt):
    """States of the valid steps, ``(n_valid, D)``, sequence by sequence.

    ``out`` is time-major ``(T, B, D)``; ``mask_bt`` is the batch-major ``(B, T)`` mask,
    so the rows come out in the order of the flat (concatenated) sequences.
    """
    return out.transpose(1, 0, 2)[mask_bt]


def valid_steps_backward(d_valid, mask_bt, shape):
    dout = np.zeros(shape, dtype=d_valid.dtype)
    dout.transpose(1, 0, 2)[mask_bt] = d_valid
    return dout


def pool(out, lengths, mask, pooling, n_directions):
    """Pool ``(T, B, D)`` states into ``(B, D)``; padding never takes part.

    ``"last"`` is the state that has read the whole sequence: the forward direction at
    the last valid step, and (bidirectional) the backward direction at the first step.
    """
    T, B, D = out.shape
    cols = np.arange(B)
    if pooling == "last":
        H = D // n_directions
        pooled = out[lengths - 1, cols].copy()
        if n_directions == 2:
            pooled[:, H:] = out[0, :, H:]
        return pooled, None
    if pooling == "mean":
        pooled = np.einsum("tbd,tb->bd", out, mask.astype(out.dtype))
        pooled /= lengths[:, None].astype(out.dtype)
        return pooled, None
    masked = np.where(mask[:, :, None], out, -np.inf)
    argmax = masked.argmax(axis=0)
    return np.take_along_axis(out, argmax[None], axis=0)[0], argmax


def pool_backward(dpooled, lengths, mask, pooling, n_directions, argmax, shape):
    T, B, D = shape
    cols = np.arange(B)
    dout = np.zeros(shape, dtype=dpooled.dtype)
    if pooling == "last":
        H = D // n_directions
        dout[lengths - 1, cols, :H] = dpooled[:, :H]
        if n_directions == 2:
            dout[0, :, H:] += dpooled[:, H:]
        return dout
    if pooling == "mean":
        scaled = dpooled / lengths[:, None].astype(dpooled.dtype)
        return mask[:, :, None] * scaled[None]
    np.put_along_axis(dout, argmax[None], dpooled[None], axis=0)
    return dout


def log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def softmax_cross_entropy(logits, targets, weights=None):
    """Weighted mean cross-entropy and its gradient with respect to ``logits``.

    ``loss = sum_i w_i * -log p_i[y_i] / sum_i w_i`` (unweighted mean without weights).
    """
    log_p = log_softmax(logits)
    n = logits.shape[0]
    rows = np.arange(n)
    nll = -log_p[rows, targets]
    dlogits = np.exp(log_p)
    dlogits[rows, targets] -= 1.0
    if weights is None:
        loss = nll.mean()
        dlogits /= n
    else:
        total = weights.sum()
        loss = (weights * nll).sum() / total
        dlogits *= (weights / total)[:, None].astype(logits.dtype)
    return float(loss), dlogits
