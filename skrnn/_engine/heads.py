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


# --- language-model heads -------------------------------------------------------
#
# The output matrix ``W`` is ``(V, H)`` (one row per word, like an embedding table,
# so that it can be tied to the input embedding) and ``b`` is ``(V,)``. Losses are
# the mean negative log-likelihood over the ``n`` rows of ``h``; the gradients are
# those of that mean.


def full_softmax_loss(h, W, b, targets):
    """Mean NLL of ``targets`` under ``softmax(h @ W.T + b)`` and its gradients.

    One ``(n, H) @ (H, V)`` GEMM forward and two backward: the cost is
    ``3 n H V`` multiply-adds and ``n V`` exponentials per call.

    Returns
    -------
    loss : float
    dh : ndarray of shape (n, H)
    dW : ndarray of shape (V, H)
    db : ndarray of shape (V,)
    """
    n = h.shape[0]
    logits = h @ W.T
    logits += b
    log_p = log_softmax(logits)
    rows = np.arange(n)
    loss = -float(log_p[rows, targets].sum()) / n
    dlogits = np.exp(log_p, out=log_p)
    dlogits[rows, targets] -= 1.0
    dlogits /= n
    return loss, dlogits @ W, dlogits.T @ h, dlogits.sum(axis=0)


def full_softmax_log_proba(h, W, b):
    """``(n, V)`` log-probabilities of every word."""
    logits = h @ W.T
    logits += b
    return log_softmax(logits)


def frequency_classes(counts, n_classes):
    """Mikolov's frequency binning: words sorted by decreasing count are cut into
    classes of about equal unigram mass (Mikolov et al., 2011, "Extensions of
    recurrent neural network based language model"), as rnnlm does it: the class
    index grows by at most one per word, so frequent words get a class of their
    own and rare words share large classes.

    ``counts`` must already be sorted by decreasing count (word ids are assigned
    that way, so that every class is a contiguous range of ids). Returns the
    class starts ``bounds`` of shape ``(n_used + 1,)``: class ``c`` holds ids
    ``bounds[c]:bounds[c + 1]``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    V = counts.size
    n_classes = max(1, min(int(n_classes), V))
    p = counts / max(counts.sum(), 1.0)
    word_class = np.empty(V, dtype=np.int64)
    mass, c = 0.0, 0
    for i in range(V):  # once per fit, over the vocabulary: not a hot path
        word_class[i] = c
        mass += p[i]
        if mass > (c + 1) / n_classes and c < n_classes - 1:
            c += 1
    # classes left empty by the cap (a vocabulary smaller than n_classes) vanish
    starts = np.flatnonzero(np.diff(word_class, prepend=-1))
    return np.append(starts, V)


def _class_groups(targets, word_class):
    """Rows grouped by their target's class: ``order`` (rows sorted by class),
    the classes present and the slice of ``order`` each one owns."""
    classes = word_class[targets]
    order = np.argsort(classes, kind="stable")
    present, starts = np.unique(classes[order], return_index=True)
    ends = np.append(starts[1:], order.size)
    return order, present, starts, ends


def class_softmax_loss(h, W, b, Wc, bc, targets, bounds):
    """Mean NLL under the class factorisation ``P(w) = P(c(w)) P(w | c(w))``.

    ``Wc`` ``(C, H)`` and ``bc`` ``(C,)`` give the class softmax; the words of
    class ``c`` (ids ``bounds[c]:bounds[c + 1]``) have their own softmax over
    rows of ``W``, ``b``. Rows are grouped by their target's class and each class
    present costs one small GEMM: per row ``H (C + |c(w)|)`` multiply-adds instead
    of ``H V`` — with frequency binning and ``C ~ sqrt(V)`` about ``2 H sqrt(V)``.
    The probabilities are exact and sum to one over the vocabulary.

    Returns ``(loss, dh, grads)`` with ``grads`` the dict of ``W``, ``b``, ``Wc``,
    ``bc`` gradients (keys ``"W"``, ``"b"``, ``"Wc"``, ``"bc"``; ``W``'s is dense
    but non-zero only on the classes present).
    """
    n = h.shape[0]
    word_class = _word_class(bounds)
    cls = word_class[targets]
    rows = np.arange(n)
    class_logits = h @ Wc.T
    class_logits += bc
    log_pc = log_softmax(class_logits)
    loss = -float(log_pc[rows, cls].sum())
    dclass = np.exp(log_pc, out=log_pc)
    dclass[rows, cls] -= 1.0
    dclass /= n
    dh = dclass @ Wc
    grads = {
        "Wc": dclass.T @ h,
        "bc": dclass.sum(axis=0),
        "W": np.zeros_like(W),
        "b": np.zeros_like(b),
    }
    order, present, starts, ends = _class_groups(targets, word_class)
    h_sorted = h[order]
    t_sorted = targets[order]
    dh_sorted = np.empty_like(h_sorted)
    for c, s, e in zip(present, starts, ends, strict=True):
        lo, hi = bounds[c], bounds[c + 1]
        hc = h_sorted[s:e]
        logits = hc @ W[lo:hi].T
        logits += b[lo:hi]
        log_pw = log_softmax(logits)
        local = np.arange(e - s), t_sorted[s:e] - lo
        loss -= float(log_pw[local].sum())
        dlogits = np.exp(log_pw, out=log_pw)
        dlogits[local] -= 1.0
        dlogits /= n
        dh_sorted[s:e] = dlogits @ W[lo:hi]
        grads["W"][lo:hi] = dlogits.T @ hc
        grads["b"][lo:hi] = dlogits.sum(axis=0)
    dh[order] += dh_sorted
    return loss / n, dh, grads


def class_softmax_log_prob(h, W, b, Wc, bc, targets, bounds):
    """``(n,)`` log-probability of each row's target (no full distribution)."""
    word_class = _word_class(bounds)
    cls = word_class[targets]
    rows = np.arange(h.shape[0])
    class_logits = h @ Wc.T
    class_logits += bc
    out = log_softmax(class_logits)[rows, cls]
    order, present, starts, ends = _class_groups(targets, word_class)
    h_sorted = h[order]
    t_sorted = targets[order]
    within = np.empty(h.shape[0], dtype=out.dtype)
    for c, s, e in zip(present, starts, ends, strict=True):
        lo, hi = bounds[c], bounds[c + 1]
        logits = h_sorted[s:e] @ W[lo:hi].T
        logits += b[lo:hi]
        within[s:e] = log_softmax(logits)[np.arange(e - s), t_sorted[s:e] - lo]
    out[order] += within
    return out


def class_softmax_log_proba(h, W, b, Wc, bc, bounds):
    """``(n, V)`` log-probabilities of every word under the class factorisation:
    ``log P(c) + log P(w | c)``, one loop over the classes (vectorised over rows)."""
    class_logits = h @ Wc.T
    class_logits += bc
    log_pc = log_softmax(class_logits)
    logits = h @ W.T
    logits += b
    for c in range(bounds.size - 1):
        lo, hi = bounds[c], bounds[c + 1]
        block = logits[:, lo:hi]
        block[...] = log_softmax(block) + log_pc[:, c : c + 1]
    return logits


def _word_class(bounds):
    """Class of every id from the class starts."""
    return np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
