"""Exact HMM inference (Viterbi, forward-backward) over a batch of sequences.

Everything works on FLAT + LENGTHS data: ``log_emit`` is ``(n_tokens, K)``, the
log-likelihood of each token under each tag, and ``lengths`` splits it into
sequences. The batch is processed in time-major order with sequences sorted by
decreasing length, so that at time step ``t`` the sequences still running are a
prefix of the sorted order: the only Python loop is over time steps.

Two models share that layout:

* ``order=1``: states are tags; ``log_start`` ``(K,)``, ``log_trans`` ``(K, K)``,
  ``log_end`` ``(K,)``.
* ``order=2``: states are tag pairs ``(y_{t-1}, y_t)`` where ``y_{t-1}`` may be
  the start symbol (index ``K``); ``log_start`` ``(K,)`` is ``P(y_1 | <s>, <s>)``,
  ``log_trans`` ``(K + 1, K, K)`` is ``P(y_t | y_{t-2}, y_{t-1})`` and
  ``log_end`` ``(K + 1, K)`` is ``P(</s> | y_{T-1}, y_T)``.

Only elementwise operations and reductions along fixed axes are used (no
matrix products), so a sequence's result does not depend on the rest of the
batch, bit for bit.
"""

import numpy as np


def _logsumexp(a, axis):
    """``log(sum(exp(a)))`` along ``axis``, ``-inf`` (not NaN) for all ``-inf``."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis))
    return out + np.squeeze(m, axis=axis)


class _Schedule:
    """Time-major index of a flat batch: which tokens are active at each step."""

    def __init__(self, lengths):
        lengths = np.asarray(lengths, dtype=np.int64)
        self.lengths = lengths
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        # Stable sort so that the schedule is deterministic under ties.
        self.order = np.argsort(-lengths, kind="stable")
        sorted_lengths = lengths[self.order]
        self.sorted_lengths = sorted_lengths
        self.max_len = int(sorted_lengths[0]) if len(lengths) else 0
        # n_active[t] = number of sequences with length > t (a prefix of order).
        steps = np.arange(self.max_len)
        self.n_active = len(lengths) - np.searchsorted(
            sorted_lengths[::-1], steps, side="right"
        )
        self.starts = self.offsets[:-1][self.order]

    def index(self, t):
        """Flat indices of the tokens at time ``t`` (sorted sequence order)."""
        return self.starts[: self.n_active[t]] + t

    def n_ending(self, t):
        """Sequences of the active prefix at ``t`` that end at ``t``: a suffix."""
        n_t = self.n_active[t]
        n_next = self.n_active[t + 1] if t + 1 < self.max_len else 0
        return n_next, n_t


def _initial(log_start, e0, order, K):
    if order == 1:
        return log_start[None, :] + e0
    delta = np.full((e0.shape[0], K + 1, K), -np.inf)
    delta[:, K, :] = log_start[None, :] + e0
    return delta


def _incoming(log_trans, order):
    """Transitions indexed (next state, previous): order 1 ``[j, i]``, order 2
    ``[i, j, h]`` for ``P(j | h, i)``, contiguous in the previous state."""
    if order == 1:
        return np.ascontiguousarray(log_trans.T)[None]
    return np.ascontiguousarray(log_trans.transpose(1, 2, 0))[None]


def _expand(delta, order):
    """Scores of the previous states, broadcastable against ``_incoming``."""
    if order == 1:
        return delta[:, None, :]
    return delta.transpose(0, 2, 1)[:, :, None, :]


def _pad_pairs(core, K):
    """Embed ``(n, K, K)`` pair scores into ``(n, K + 1, K)`` (no start row)."""
    out = np.full((core.shape[0], K + 1, K), -np.inf)
    out[:, :K, :] = core
    return out


def _viterbi_block(log_start, log_trans, log_end, log_emit, lengths, order=1):
    """:func:`viterbi` on one block of sequences."""
    n_tokens, K = log_emit.shape
    sched = _Schedule(lengths)
    n_seq = len(sched.lengths)
    path = np.zeros(n_tokens, dtype=np.intp)
    best = np.zeros(n_seq)
    if sched.max_len == 0:
        return path, best
    state_shape = (K,) if order == 1 else (K + 1, K)
    backptr = np.zeros((n_tokens,) + state_shape, dtype=np.intp)
    # Final (state) chosen for each sorted sequence, filled as sequences end.
    final = np.zeros(n_seq, dtype=np.intp)
    best_sorted = np.zeros(n_seq)

    incoming = _incoming(log_trans, order)
    delta = _initial(log_start, log_emit[sched.index(0)], order, K)
    for t in range(sched.max_len):
        lo, hi = sched.n_ending(t)
        if hi > lo:
            ending = delta[lo:hi] + log_end[None]
            flat = ending.reshape(hi - lo, -1)
            final[lo:hi] = np.argmax(flat, axis=1)
            best_sorted[lo:hi] = flat[np.arange(hi - lo), final[lo:hi]]
        if t + 1 == sched.max_len:
            break
        idx = sched.index(t + 1)
        n = len(idx)
        # Reduce over the previous state along the last, contiguous axis.
        scores = _expand(delta[:n], order) + incoming
        arg = np.argmax(scores, axis=-1)
        core = np.take_along_axis(scores, arg[..., None], axis=-1)[..., 0]
        if order == 1:
            backptr[idx] = arg
            delta = core + log_emit[idx]
        else:
            backptr[idx, :K] = arg
            delta = _pad_pairs(core + log_emit[idx][:, None, :], K)

    # Backtrack; ``prev`` is the state (tag, or flat pair index) at step t.
    state = np.zeros(n_seq, dtype=np.intp)
    for t in range(sched.max_len - 1, -1, -1):
        lo, hi = sched.n_ending(t)
        idx = sched.index(t)
        n = len(idx)
        if order == 1:
            if lo > 0:
                state[:lo] = backptr[sched.index(t + 1), state[:lo]]
            state[lo:hi] = final[lo:hi]
            path[idx] = state[:n]
        else:
            if lo > 0:
                nxt = sched.index(t + 1)
                b, c = np.divmod(state[:lo], K)
                a = backptr[nxt, b, c]
                state[:lo] = a * K + b
            state[lo:hi] = final[lo:hi]
            path[idx] = state[:n] % K
    best[sched.order] = best_sorted
    return path, best


def _forward_backward_block(log_start, log_trans, log_end, log_emit, lengths, order=1):
    """:func:`forward_backward` on one block of sequences."""
    n_tokens, K = log_emit.shape
    sched = _Schedule(lengths)
    n_seq = len(sched.lengths)
    log_lik = np.zeros(n_seq)
    if sched.max_len == 0:
        return np.zeros((0, K)), log_lik
    state_shape = (K,) if order == 1 else (K + 1, K)
    alpha = np.empty((n_tokens,) + state_shape)
    beta = np.empty((n_tokens,) + state_shape)
    lik_sorted = np.zeros(n_seq)

    incoming = _incoming(log_trans, order)
    delta = _initial(log_start, log_emit[sched.index(0)], order, K)
    alpha[sched.index(0)] = delta
    for t in range(sched.max_len):
        lo, hi = sched.n_ending(t)
        if hi > lo:
            ending = (delta[lo:hi] + log_end[None]).reshape(hi - lo, -1)
            lik_sorted[lo:hi] = _logsumexp(ending, axis=1)
        if t + 1 == sched.max_len:
            break
        idx = sched.index(t + 1)
        n = len(idx)
        core = _logsumexp(_expand(delta[:n], order) + incoming, axis=-1)
        if order == 1:
            delta = core + log_emit[idx]
        else:
            delta = _pad_pairs(core + log_emit[idx][:, None, :], K)
        alpha[idx] = delta

    beta_t = None
    for t in range(sched.max_len - 1, -1, -1):
        lo, hi = sched.n_ending(t)
        idx = sched.index(t)
        new = np.empty((hi,) + state_shape)
        if lo > 0:
            nxt = sched.index(t + 1)
            if order == 1:
                ahead = log_emit[nxt] + beta_t[:lo]
                new[:lo] = _logsumexp(log_trans[None] + ahead[:, None, :], axis=2)
            else:
                ahead = log_emit[nxt][:, None, :] + beta_t[:lo, :K]
                new[:lo] = _logsumexp(log_trans[None] + ahead[:, None], axis=3)
        new[lo:hi] = log_end[None]
        beta[idx] = new
        beta_t = new

    log_lik[sched.order] = lik_sorted
    seq_of_token = np.repeat(np.arange(n_seq), sched.lengths)
    post = alpha + beta - log_lik[seq_of_token].reshape((-1,) + (1,) * len(state_shape))
    if order == 2:
        post = _logsumexp(post, axis=1)
    # Renormalise away the rounding so that rows sum to one to machine precision.
    post = post - _logsumexp(post, axis=1)[:, None]
    return post, log_lik


# Elements of the per-step score tensor of a block: keeps its temporaries in
# cache, which is several times faster than one batch of everything.
_BLOCK_ELEMENTS = 1 << 17


def _blocks(log_emit, lengths, order):
    """Cut the sequences, sorted by length, into blocks of similar lengths.

    Yields ``(sequence indices, token indices, lengths)`` of each block.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    K = log_emit.shape[1]
    per_seq = K * K if order == 1 else (K + 1) * K * K
    size = max(8, _BLOCK_ELEMENTS // per_seq)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    order_ = np.argsort(-lengths, kind="stable")
    for lo in range(0, len(lengths), size):
        seq = order_[lo : lo + size]
        block_lengths = lengths[seq]
        starts = np.repeat(offsets[seq], block_lengths)
        within = np.arange(block_lengths.sum()) - np.repeat(
            np.cumsum(block_lengths) - block_lengths, block_lengths
        )
        yield seq, starts + within, block_lengths


def viterbi(log_start, log_trans, log_end, log_emit, lengths, order=1):
    """Most probable tag sequence of each sequence.

    Parameters
    ----------
    log_start, log_trans, log_end : ndarray
        Log transition model (see the module doc for shapes).
    log_emit : ndarray of shape (n_tokens, K)
        Log-likelihood of each token under each tag.
    lengths : ndarray of shape (n_sequences,)
        Sequence lengths, summing to ``n_tokens``.
    order : {1, 2}
        Order of the Markov chain.

    Returns
    -------
    path : ndarray of shape (n_tokens,), int
        The Viterbi tags, flat.
    best : ndarray of shape (n_sequences,)
        Log joint probability ``log P(x, y*)`` of each Viterbi path (``0.0``
        for an empty sequence).
    """
    path = np.zeros(log_emit.shape[0], dtype=np.intp)
    best = np.zeros(len(lengths))
    for seq, tok, block_lengths in _blocks(log_emit, lengths, order):
        path[tok], best[seq] = _viterbi_block(
            log_start, log_trans, log_end, log_emit[tok], block_lengths, order
        )
    return path, best


def forward_backward(log_start, log_trans, log_end, log_emit, lengths, order=1):
    """Posterior tag marginals and sequence log-likelihoods.

    Parameters are those of :func:`viterbi`.

    Returns
    -------
    log_marginals : ndarray of shape (n_tokens, K)
        ``log P(y_t = k | x)``, flat.
    log_likelihood : ndarray of shape (n_sequences,)
        ``log P(x)`` of each sequence (``0.0`` for an empty sequence).
    """
    post = np.zeros(log_emit.shape)
    log_lik = np.zeros(len(lengths))
    for seq, tok, block_lengths in _blocks(log_emit, lengths, order):
        post[tok], log_lik[seq] = _forward_backward_block(
            log_start, log_trans, log_end, log_emit[tok], block_lengths, order
        )
    return post, log_lik
