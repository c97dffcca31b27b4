"""The engine's linear-chain CRF against brute-force enumeration of every path."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from skrnn._engine import crf


def _problem(rng, lengths, K, forbid=0.0):
    """Random float64 emissions, transitions, start and end scores of a padded
    batch; a share ``forbid`` of transitions set to ``-inf``."""
    lengths = np.asarray(lengths)
    T, B = lengths.max(), lengths.size
    emissions = rng.normal(size=(T, B, K))
    trans = rng.normal(size=(K, K))
    start, end = rng.normal(size=K), rng.normal(size=K)
    if forbid:
        trans[rng.random((K, K)) < forbid] = -np.inf
        trans[np.arange(K), np.arange(K)] = 0.0  # every length keeps a path
    mask = np.arange(T)[:, None] < lengths[None, :]
    return emissions, mask, trans, start, end


def _enumerate(emissions, trans, start, end, n):
    """Every path of a sequence's first ``n`` steps with its score."""
    K = emissions.shape[-1]
    for path in itertools.product(range(K), repeat=n):
        score = start[path[0]] + end[path[-1]]
        score += sum(emissions[t, path[t]] for t in range(n))
        score += sum(trans[path[t - 1], path[t]] for t in range(1, n))
        yield np.array(path), score


@pytest.mark.parametrize("K", [1, 2, 3, 4])
@pytest.mark.parametrize("forbid", [0.0, 0.4])
def test_log_z_marginals_and_viterbi_match_enumeration(K, forbid):
    rng = np.random.default_rng(K)
    lengths = [5, 1, 3, 4]
    emissions, mask, trans, start, end = _problem(rng, lengths, K, forbid)
    proba, log_z = crf.marginals(emissions, mask, trans, start, end)
    path, best = crf.viterbi(emissions, mask, trans, start, end)
    for b, n in enumerate(lengths):
        paths, scores = zip(
            *_enumerate(emissions[:, b], trans, start, end, n), strict=True
        )
        scores = np.array(scores)
        assert log_z[b] == pytest.approx(logsumexp(scores), rel=1e-12)
        top = int(np.argmax(scores))
        assert best[b] == pytest.approx(scores[top], rel=1e-12)
        np.testing.assert_array_equal(path[:n, b], paths[top])
        weights = np.exp(scores - logsumexp(scores))
        expected = np.zeros((n, K))
        for p, w in zip(paths, weights, strict=True):
            expected[np.arange(n), p] += w
        np.testing.assert_allclose(proba[:n, b], expected, atol=1e-12)
        np.testing.assert_allclose(proba[:n, b].sum(axis=1), 1.0)


def test_path_scores_match_enumeration():
    rng = np.random.default_rng(0)
    lengths = [4, 2, 3]
    emissions, mask, trans, start, end = _problem(rng, lengths, 3)
    tags = rng.integers(0, 3, size=mask.shape)
    scores = crf.path_scores(emissions, mask, trans, start, end, tags)
    for b, n in enumerate(lengths):
        expected = dict(
            (tuple(p), s) for p, s in _enumerate(emissions[:, b], trans, start, end, n)
        )[tuple(tags[:n, b])]
        assert scores[b] == pytest.approx(expected, rel=1e-12)


def test_nll_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    lengths = [4, 1, 3]
    K = 3
    emissions, mask, trans, start, end = _problem(rng, lengths, K)
    tags = rng.integers(0, K, size=mask.shape)
    scale = np.array([0.5, 2.0, 1.0])

    def loss(e, tr, s, en):
        return crf.nll_and_grad(e, mask, tr, s, en, tags, scale)[0]

    _, d_e, d_tr, d_s, d_en = crf.nll_and_grad(
        emissions, mask, trans, start, end, tags, scale
    )
    args = [emissions, trans, start, end]
    for position, grad in enumerate([d_e, d_tr, d_s, d_en]):
        numeric = np.zeros_like(args[position])
        for index in np.ndindex(numeric.shape):
            moved = [a.copy() for a in args]
            moved[position][index] += 1e-6
            up = loss(*moved)
            moved[position][index] -= 2e-6
            numeric[index] = (up - loss(*moved)) / 2e-6
        np.testing.assert_allclose(grad, numeric, atol=1e-7, rtol=1e-6)
    assert np.all(d_e[~mask] == 0)


def test_nll_is_minus_log_probability_of_the_path():
    rng = np.random.default_rng(2)
    emissions, mask, trans, start, end = _problem(rng, [3, 2], 2)
    tags = np.array([[0, 1], [1, 1], [1, 0]])
    nll = crf.nll_and_grad(emissions, mask, trans, start, end, tags, np.ones(2))[0]
    _, log_z = crf.forward(emissions, mask, trans, start, end)
    scores = crf.path_scores(emissions, mask, trans, start, end, tags)
    assert nll == pytest.approx(float((log_z - scores).sum()))
    assert nll > 0


def test_a_sequence_scores_the_same_alone_and_in_a_padded_batch():
    rng = np.random.default_rng(3)
    lengths = [2, 6, 4]
    emissions, mask, trans, start, end = _problem(rng, lengths, 4, forbid=0.3)
    tags = rng.integers(0, 4, size=mask.shape)
    tags[:, :] = crf.viterbi(emissions, mask, trans, start, end)[0]
    batch = (
        crf.marginals(emissions, mask, trans, start, end),
        crf.viterbi(emissions, mask, trans, start, end),
        crf.nll_and_grad(emissions, mask, trans, start, end, tags, np.ones(3))[1],
    )
    for b, n in enumerate(lengths):
        alone = (emissions[:n, b : b + 1], mask[:n, b : b + 1])
        (proba, log_z) = crf.marginals(*alone, trans, start, end)
        path, best = crf.viterbi(*alone, trans, start, end)
        d_e = crf.nll_and_grad(
            *alone, trans, start, end, tags[:n, b : b + 1], np.ones(1)
        )[1]
        np.testing.assert_allclose(proba[:, 0], batch[0][0][:n, b], atol=1e-14)
        assert log_z[0] == pytest.approx(batch[0][1][b], rel=1e-14)
        np.testing.assert_array_equal(path[:, 0], batch[1][0][:n, b])
        assert best[0] == batch[1][1][b]
        np.testing.assert_allclose(d_e[:, 0], batch[2][:n, b], atol=1e-14)


def test_viterbi_never_takes_a_forbidden_transition():
    rng = np.random.default_rng(4)
    K = 5
    allowed = rng.random((K, K)) < 0.5
    allowed[np.arange(K), np.arange(K)] = True
    start_allowed = np.arange(K) < 2
    for _ in range(20):
        emissions, mask, trans, start, end = _problem(rng, rng.integers(1, 9, 16), K)
        trans = np.where(allowed, trans, -np.inf)
        start = np.where(start_allowed, start, -np.inf)
        path, best = crf.viterbi(emissions * 10, mask, trans, start, end)
        assert np.all(np.isfinite(best))
        assert np.all(start_allowed[path[0]])
        moves = allowed[path[:-1], path[1:]]
        assert np.all(moves[mask[1:]])
        proba, _ = crf.marginals(emissions * 10, mask, trans, start, end)
        assert np.all(proba[0][:, ~start_allowed] == 0)
