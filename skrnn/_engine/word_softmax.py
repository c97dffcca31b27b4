"""The language model's heads: softmaxes over the vocabulary.

The output matrix ``W`` is ``(V, H)`` (one row per word, like an embedding table,
so that it can be tied to the input embedding) and ``b`` is ``(V,)``. Losses are
the mean negative log-likelihood over the ``n`` rows of ``h``; the gradients are
those of that mean.

The class-factorised softmax's word half loops over the classes; the loop runs
compiled where the extension is built (``_kernels.class_softmax``, on the
threads ``gemm.threads`` allows), the NumPy loop here being the reference.
"""

import numpy as np

from ._kernels import load, numpy_engine_requested, takes
from .gemm import _MIN_SPLIT, map_threads, thread_count
from .heads import log_softmax

_class_softmax = load("class_softmax")


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
    cls = _classes(targets, bounds)
    rows = np.arange(n)
    log_pc = _class_log_proba(h, Wc, bc)
    class_nll = -float(log_pc[rows, cls].sum())
    dclass = np.exp(log_pc, out=log_pc)
    dclass[rows, cls] -= 1.0
    dclass /= n
    dh = dclass @ Wc
    order = np.argsort(cls, kind="stable")
    word_nll, dh_sorted, dW, db = _word_softmax(h[order], targets[order], bounds, W, b)
    dh[order] += dh_sorted
    grads = {"W": dW, "b": db, "Wc": dclass.T @ h, "bc": dclass.sum(axis=0)}
    return (class_nll + word_nll) / n, dh, grads


def class_softmax_log_prob(h, W, b, Wc, bc, targets, bounds):
    """``(n,)`` log-probability of each row's target (no full distribution)."""
    cls = _classes(targets, bounds)
    out = _class_log_proba(h, Wc, bc)[np.arange(h.shape[0]), cls]
    order = np.argsort(cls, kind="stable")
    out[order] -= _word_softmax(h[order], targets[order], bounds, W, b, grad=False)
    return out


def class_softmax_log_proba(h, W, b, Wc, bc, bounds):
    """``(n, V)`` log-probabilities of every word under the class factorisation:
    ``log P(c) + log P(w | c)``, one loop over the classes (vectorised over rows)."""
    log_pc = _class_log_proba(h, Wc, bc)
    logits = h @ W.T
    logits += b
    for c in range(bounds.size - 1):
        lo, hi = bounds[c], bounds[c + 1]
        block = logits[:, lo:hi]
        block[...] = log_softmax(block) + log_pc[:, c : c + 1]
    return logits


def _word_softmax(h, targets, bounds, W, b, grad=True):
    """The word half of the class softmax of rows sorted by their target's class:
    ``nll``, each row's ``-log P(w | c(w))``, and with ``grad`` the gradient of
    ``sum(nll) / n``, as ``(sum(nll), dh, dW, db)``."""
    if _compiled(h, W, b):
        return _word_softmax_compiled(h, targets, bounds, W, b, grad)
    return _word_softmax_numpy(h, targets, bounds, W, b, grad)


def _word_softmax_numpy(h, targets, bounds, W, b, grad):
    """The reference: one softmax per class present, over its rows."""
    n = h.shape[0]
    nll = np.empty(n, dtype=h.dtype)
    if grad:
        dh, dW, db = np.empty_like(h), np.zeros_like(W), np.zeros_like(b)
    row_starts = _row_starts(targets, bounds)
    for c in np.flatnonzero(np.diff(row_starts)):
        (s, e), (lo, hi) = row_starts[c : c + 2], bounds[c : c + 2]
        logits = h[s:e] @ W[lo:hi].T
        logits += b[lo:hi]
        log_pw = log_softmax(logits)
        local = np.arange(e - s), targets[s:e] - lo
        nll[s:e] = -log_pw[local]
        if grad:
            dlogits = np.exp(log_pw, out=log_pw)
            dlogits[local] -= 1.0
            dlogits /= n
            dh[s:e] = dlogits @ W[lo:hi]
            dW[lo:hi] = dlogits.T @ h[s:e]
            db[lo:hi] = dlogits.sum(axis=0)
    if not grad:
        return nll
    return float(nll.sum(dtype=np.float64)), dh, dW, db


def _word_softmax_compiled(h, targets, bounds, W, b, grad):
    """``_word_softmax_numpy`` in ``_kernels.class_softmax``, ranges of classes
    of about equal work on the threads ``gemm.threads`` allows."""
    n = h.shape[0]
    h = np.ascontiguousarray(h)
    bounds = bounds.astype(np.intp, copy=False)
    row_starts = _row_starts(targets, bounds)
    local = (targets - np.repeat(bounds[:-1], np.diff(row_starts))).astype(np.intp)
    nll = np.empty(n, dtype=h.dtype)
    edges = _class_ranges(row_starts, bounds, h.shape[1] * (3 if grad else 1))
    if grad:
        dh, dW, db = np.empty_like(h), np.empty_like(W), np.empty_like(b)
        scale = 1.0 / max(n, 1)
        kernel = _class_softmax.word_nll_grad
        arrays = (h, local, row_starts, bounds, W, b, nll, dh, dW, db, scale)
    else:
        kernel = _class_softmax.word_nll
        arrays = (h, local, row_starts, bounds, W, b, nll)
    map_threads(lambda k: kernel(*arrays, *edges[k : k + 2]), range(len(edges) - 1))
    if not grad:
        return nll
    return float(nll.sum(dtype=np.float64)), dh, dW, db


def _compiled(h, W, b):
    return (
        _class_softmax is not None
        and not numpy_engine_requested()
        and takes(W, b)
        and h.dtype == W.dtype
    )


def _class_ranges(row_starts, bounds, work_per_word):
    """Class edges cutting the classes into one range per thread, of about equal
    time. A class of ``m`` rows and ``nw > 1`` words costs ``m * nw *
    work_per_word`` multiply-adds, plus what its small products spend per row,
    about as much as 8 words' (measured on PTB's classes); a class of one word
    costs nothing (its word has probability 1)."""
    C = bounds.size - 1  # at least one (frequency_classes)
    rows, words = np.diff(row_starts), np.diff(bounds)
    cost = np.cumsum(np.where(words > 1, rows * (words + 8), 0)) * work_per_word
    n = max(1, min(thread_count(), int(cost[-1] // _MIN_SPLIT)))
    cuts = np.searchsorted(cost, cost[-1] * np.arange(1, n) / n) + 1
    return [0, *np.minimum(cuts, C).tolist(), C]


def _row_starts(targets, bounds):
    """Where each class's rows start among rows sorted by class, ``(C + 1,)``."""
    counts = np.bincount(_classes(targets, bounds), minlength=bounds.size - 1)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)


def _classes(targets, bounds):
    """The class of each target, from the class starts ``bounds``."""
    return np.searchsorted(bounds, targets, side="right") - 1


def _class_log_proba(h, Wc, bc):
    """``(n, C)`` log-probabilities of the classes given the states ``h``."""
    class_logits = h @ Wc.T
    class_logits += bc
    return log_softmax(class_logits)


__all__ = [
    "class_softmax_log_prob",
    "class_softmax_log_proba",
    "class_softmax_loss",
    "frequency_classes",
    "full_softmax_log_proba",
    "full_softmax_loss",
]
