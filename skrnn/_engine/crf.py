"""A linear-chain CRF over the per-step scores of a batch (Lafferty et al., 2001).

The score of a tag path ``y`` of a sequence of ``n`` steps with emissions ``e`` is

    s(y) = start[y_0] + e_0[y_0] + sum_{t >= 1} (trans[y_{t-1}, y_t] + e_t[y_t])
           + end[y_{n-1}]

and ``p(y | x) = exp(s(y)) / Z``. It is the HMM's lattice with scores in place of
log-probabilities: ``Z`` comes from the forward algorithm, the marginals from
forward-backward, the best path from Viterbi, all in log space.

Arrays are time-major and right-padded, as everywhere in the engine: emissions
``(T, B, K)``, ``mask`` ``(T, B)`` true on the valid steps (every sequence has at
least one). A padded step carries its sequence's state through unchanged, so the
Python loop is over time steps only. Forbidden transitions are ``-inf`` in the
scores passed here. A sequence's result does not depend on the rest of its
batch: Viterbi bit for bit (elementwise operations and reductions along the tag
axes only), the sums over paths to rounding (their ``(B, K) @ (K, K)`` products
may round differently for another ``B``), and bit for bit too inside
``gemm.rows_apart``, as predictions run.
"""

import numpy as np

from .gemm import matmul
from .heads import log_softmax


def _logsumexp(a, axis):
    """``log(sum(exp(a)))`` along ``axis``; ``-inf`` (not NaN) where all are
    ``-inf``."""
    m = a.max(axis=axis, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(a - m).sum(axis=axis))
    return out + np.squeeze(m, axis=axis)


def _factors(trans):
    """``exp(trans - c)`` and ``c``: the transitions as factors (a forbidden
    one is 0), shifted so that the largest is 1.

    A step of the forward (backward) algorithm is then one ``(B, K) @ (K, K)``
    product in the exp domain between two row shifts, instead of a
    ``(B, K, K)`` log-sum-exp: exact, and several times faster at these sizes.
    """
    finite = trans[np.isfinite(trans)]
    c = finite.max() if finite.size else trans.dtype.type(0)
    return np.exp(trans - c), c


def _row_max(a):
    """Each row's maximum: what the row is shifted by before ``exp`` (the
    lowest float for a row of only ``-inf``, so that it stays ``-inf``)."""
    return np.maximum(a.max(axis=-1), np.finfo(a.dtype).min)


def forward(emissions, mask, trans, start, end):
    """The forward scores ``alpha`` ``(T, B, K)`` (held past a sequence's end)
    and ``log Z`` ``(B,)``."""
    factors, c = _factors(trans)
    alpha = np.empty_like(emissions)
    alpha[0] = start + emissions[0]
    with np.errstate(divide="ignore"):  # log(0): a tag no path reaches
        for t in range(1, emissions.shape[0]):
            previous = alpha[t - 1]
            m = _row_max(previous)
            step = np.log(matmul(np.exp(previous - m[:, None]), factors))
            step += (m + c)[:, None] + emissions[t]
            alpha[t] = np.where(mask[t][:, None], step, previous)
    return alpha, _logsumexp(alpha[-1] + end, axis=1)


def backward(emissions, mask, trans, end):
    """The backward scores ``beta`` ``(T, B, K)``: ``end`` from a sequence's
    last step on."""
    factors, c = _factors(trans)
    beta = np.empty_like(emissions)
    beta[-1] = end
    with np.errstate(divide="ignore"):
        for t in range(emissions.shape[0] - 2, -1, -1):
            ahead = emissions[t + 1] + beta[t + 1]
            m = _row_max(ahead)
            step = np.log(matmul(np.exp(ahead - m[:, None]), factors.T))
            step += (m + c)[:, None]
            beta[t] = np.where(mask[t + 1][:, None], step, end)
    return beta


def marginals(emissions, mask, trans, start, end):
    """``(T, B, K)`` posterior probability of each tag at each step (rows of
    padded steps are meaningless), and ``log Z``."""
    alpha, log_z = forward(emissions, mask, trans, start, end)
    beta = backward(emissions, mask, trans, end)
    with np.errstate(invalid="ignore"):
        return np.exp(alpha + beta - log_z[None, :, None]), log_z


def path_scores(emissions, mask, trans, start, end, tags):
    """``(B,)`` score ``s(y)`` of the tag paths ``tags`` ``(T, B)``."""
    T, B = tags.shape
    cols = np.arange(B)
    lengths = mask.sum(axis=0)
    emitted = np.take_along_axis(emissions, tags[:, :, None], axis=2)[:, :, 0]
    score = (emitted * mask).sum(axis=0) + start[tags[0]]
    if T > 1:
        moved = trans[tags[:-1], tags[1:]]
        score += np.where(mask[1:], moved, 0.0).sum(axis=0)
    return score + end[tags[lengths - 1, cols]]


def nll_and_grad(emissions, mask, trans, start, end, tags, scale):
    """``sum_b scale_b * -log p(tags_b | x_b)`` and its gradients.

    The gradient of ``-log p(y | x)`` is the expected count of each emission,
    transition, start and end under the model (forward-backward) minus its
    count on the gold path.

    Returns
    -------
    loss : float
    d_emissions : ndarray of shape (T, B, K)
        Zero on padded steps.
    d_trans : ndarray of shape (K, K)
    d_start, d_end : ndarray of shape (K,)
    """
    T, B, K = emissions.shape
    cols = np.arange(B)
    lengths = mask.sum(axis=0)
    alpha, log_z = forward(emissions, mask, trans, start, end)
    beta = backward(emissions, mask, trans, end)
    nll = log_z - path_scores(emissions, mask, trans, start, end, tags)
    weight = (scale[None, :] * mask).astype(emissions.dtype)[:, :, None]
    with np.errstate(invalid="ignore"):
        unary = np.exp(alpha + beta - log_z[None, :, None])
    unary[~mask] = 0.0
    gold = np.zeros_like(emissions)
    np.put_along_axis(gold, tags[:, :, None], 1.0, axis=2)
    d_emissions = (unary - gold) * weight
    last = lengths - 1
    d_start = scale @ (unary[0] - gold[0])
    d_end = scale @ (unary[last, cols] - gold[last, cols])
    d_trans = np.zeros_like(trans)
    if T > 1:
        # The probability of tags i then j at steps t-1 and t is
        # exp(alpha[t-1, i] + trans[i, j] + ahead[t, j] - log Z): summed over
        # steps and sequences, a product of the shifted factors.
        factors, c = _factors(trans)
        behind, ahead = alpha[:-1], emissions[1:] + beta[1:]
        m_behind, m_ahead = _row_max(behind), _row_max(ahead)
        exponent = np.where(mask[1:], m_behind + m_ahead + c - log_z, -np.inf)
        weight_tb = np.exp(exponent) * weight[1:, :, 0]
        behind = np.exp(behind - m_behind[..., None]) * weight_tb[..., None]
        ahead = np.exp(ahead - m_ahead[..., None])
        d_trans = factors * np.einsum("tbi,tbj->ij", behind, ahead)
        gold_moves = np.zeros((K, K), dtype=emissions.dtype)
        moved = mask[1:]
        np.add.at(
            gold_moves,
            (tags[:-1][moved], tags[1:][moved]),
            np.broadcast_to(scale, mask[1:].shape)[moved],
        )
        d_trans -= gold_moves
    return float(scale @ nll), d_emissions, d_trans, d_start, d_end


def viterbi(emissions, mask, trans, start, end):
    """The best tag path ``(T, B)`` of every sequence (its value on padded
    steps is the last valid tag) and its score ``(B,)``.

    Ties go to the lowest tag id. Backtracking is vectorised over the batch: a
    padded step points back to the same tag, so every sequence is read from
    the last step of the batch.
    """
    T, B, K = emissions.shape
    cols = np.arange(B)
    back = np.empty((T, B, K), dtype=np.intp)
    delta = start + emissions[0]
    for t in range(1, T):
        candidates = delta[:, :, None] + trans
        best = candidates.argmax(axis=1)
        step = candidates.max(axis=1) + emissions[t]
        back[t] = np.where(mask[t][:, None], best, np.arange(K))
        delta = np.where(mask[t][:, None], step, delta)
    final = delta + end
    path = np.empty((T, B), dtype=np.intp)
    path[-1] = final.argmax(axis=1)
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, cols, path[t]]
    return path, final[cols, path[-1]]


class ChainOutput:
    """The output of a tagging network read as one chain per sequence.

    With ``crf=True`` it is a CRF layer: the network's per-step logits are the
    emissions, and the parameters ``crf.trans`` ``(K, K)``, ``crf.start`` and
    ``crf.end`` ``(K,)`` score the transitions. With ``crf=False`` it decodes a
    softmax: the emissions are the per-step log-probabilities and every allowed
    transition scores 0, so the best path is the most probable one that keeps
    to the constraints.

    Parameters
    ----------
    n_tags : int
    crf : bool
    allowed : (start, trans, end) boolean arrays or None
        The transitions that may be taken (see ``skrnn._tag_schemes``); the others
        score ``-inf`` in training and decoding. None: all may.

    The logits come and go as the network's step head has them: ``(n_valid, K)``
    rows of the valid steps, sequence after sequence (``batch.targets``' order).
    """

    def __init__(self, n_tags, *, crf, allowed=None):
        self.n_tags = n_tags
        self.crf = crf
        if allowed is None:
            allowed = (np.ones(n_tags), np.ones((n_tags, n_tags)), np.ones(n_tags))
        # (start, trans, end) as scores to add: 0 where allowed, -inf where not
        self.penalties = tuple(
            np.where(np.asarray(a, dtype=bool), 0.0, -np.inf) for a in allowed
        )

    def init_params(self, dtype):
        if not self.crf:
            return {}
        K = self.n_tags
        return {
            "crf.trans": np.zeros((K, K), dtype=dtype),
            "crf.start": np.zeros(K, dtype=dtype),
            "crf.end": np.zeros(K, dtype=dtype),
        }

    def _scores(self, params, dtype):
        """``(trans, start, end)``: the parameters (none for a softmax) plus 0 or
        ``-inf`` by ``allowed``."""
        start, trans, end = (a.astype(dtype) for a in self.penalties)
        if self.crf:
            trans = trans + params["crf.trans"]
            start = start + params["crf.start"]
            end = end + params["crf.end"]
        return trans, start, end

    def _emissions(self, logits, mask):
        """``(T, B, K)`` emissions of the flat ``logits`` (0 on padding)."""
        if not self.crf:
            logits = log_softmax(logits)
        return _padded(logits, mask)

    def loss_and_grad(self, params, logits, batch):
        """Mean ``-log p(y | x)`` per token (weighted as the softmax's loss is),
        the gradient of ``logits`` and those of the CRF's parameters."""
        mask = batch.mask
        lengths = batch.lengths
        weights = np.ones(lengths.size) if batch.weights is None else batch.weights
        scale = weights / float(weights @ lengths)
        tags = _padded(batch.targets, mask)
        trans, start, end = self._scores(params, logits.dtype)
        loss, d_emissions, d_trans, d_start, d_end = nll_and_grad(
            _padded(logits, mask), mask, trans, start, end, tags,
            scale.astype(logits.dtype),
        )
        grads = {"crf.trans": d_trans, "crf.start": d_start, "crf.end": d_end}
        return loss, d_emissions.transpose(1, 0, 2)[mask.T], grads

    def log_proba(self, params, logits, batch):
        """``(n_valid, K)`` log of each tag's marginal probability."""
        mask = batch.mask
        proba, _ = marginals(
            self._emissions(logits, mask), mask, *self._scores(params, logits.dtype)
        )
        with np.errstate(divide="ignore"):
            return np.log(proba.transpose(1, 0, 2)[mask.T])

    def decode(self, params, logits, batch):
        """The best path's tag ids ``(n_valid,)`` and its log-probability
        ``(B,)`` (under the CRF; for a softmax, the sum of its tokens')."""
        mask = batch.mask
        emissions = self._emissions(logits, mask)
        trans, start, end = self._scores(params, logits.dtype)
        path, best = viterbi(emissions, mask, trans, start, end)
        if self.crf:
            best = best - forward(emissions, mask, trans, start, end)[1]
        return path.T[mask.T], best

    def log_likelihood(self, params, logits, batch):
        """``(B,)`` log-probability of the tag paths ``batch.targets``."""
        mask = batch.mask
        emissions = self._emissions(logits, mask)
        tags = _padded(batch.targets, mask)
        if not self.crf:  # the softmax's own probability, tag by tag
            emitted = np.take_along_axis(emissions, tags[:, :, None], axis=2)
            return (emitted[:, :, 0] * mask).sum(axis=0)
        trans, start, end = self._scores(params, logits.dtype)
        score = path_scores(emissions, mask, trans, start, end, tags)
        return score - forward(emissions, mask, trans, start, end)[1]


def _padded(rows, mask):
    """Time-major ``(T, B, ...)`` array of the flat valid-step ``rows`` (zeros on
    padding)."""
    out = np.zeros(mask.T.shape + rows.shape[1:], dtype=rows.dtype)
    out[mask.T] = rows
    return out.swapaxes(0, 1)
