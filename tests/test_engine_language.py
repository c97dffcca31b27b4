"""The language model's engine parts: stream batching, the full and class
softmax heads, and LanguageNetwork's gradients (float64 finite differences)."""

import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skrnn._engine import word_softmax
from skrnn._engine.batching import bptt_windows, stream_positions
from skrnn._engine.gemm import threads
from skrnn._engine.language import LanguageNetwork
from skrnn._engine.word_softmax import (
    class_softmax_log_prob,
    class_softmax_log_proba,
    class_softmax_loss,
    frequency_classes,
    full_softmax_log_proba,
    full_softmax_loss,
)


def _head(rng, n=7, H=5, V=11, C=3):
    h = rng.standard_normal((n, H))
    W = rng.standard_normal((V, H))
    b = rng.standard_normal(V)
    Wc = rng.standard_normal((C, H))
    bc = rng.standard_normal(C)
    targets = rng.integers(0, V, n)
    counts = np.sort(rng.integers(1, 50, V))[::-1]
    bounds = frequency_classes(counts, C)
    n_used = bounds.size - 1
    return h, W, b, Wc[:n_used], bc[:n_used], targets, bounds


def test_stream_positions_cover_every_step_once_in_order():
    positions, lengths = stream_positions(23, 5)
    assert lengths.tolist() == [5, 5, 5, 4, 4]
    valid = np.arange(positions.shape[0])[:, None] < lengths[None, :]
    flat = positions.T[valid.T]
    np.testing.assert_array_equal(flat, np.arange(23))


def test_stream_positions_with_more_streams_than_steps():
    positions, lengths = stream_positions(3, 8)
    assert lengths.tolist() == [1, 1, 1]
    assert positions.tolist() == [[0, 1, 2]]


def test_bptt_windows_split_lengths():
    positions, lengths = stream_positions(23, 5)
    windows = list(bptt_windows(positions, lengths, 2))
    assert [w[0].shape[0] for w in windows] == [2, 2, 1]
    assert windows[-1][1].tolist() == [1, 1, 1, 0, 0]
    assert sum(int(w[1].sum()) for w in windows) == 23


def test_frequency_classes_are_contiguous_and_binned_by_mass():
    counts = np.array([50, 20, 10, 8, 5, 3, 2, 1, 1])
    bounds = frequency_classes(counts, 3)
    assert bounds[0] == 0 and bounds[-1] == counts.size
    assert np.all(np.diff(bounds) > 0)
    # the most frequent word holds half the mass: a class of its own
    assert bounds[1] == 1
    assert frequency_classes(counts, 1).tolist() == [0, counts.size]


@pytest.mark.parametrize("C", [1, 3, 11])
def test_class_softmax_distribution_sums_to_one(C):
    h, W, b, Wc, bc, targets, bounds = _head(np.random.default_rng(0), C=C)
    log_p = class_softmax_log_proba(h, W, b, Wc, bc, bounds)
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-12)
    picked = class_softmax_log_prob(h, W, b, Wc, bc, targets, bounds)
    np.testing.assert_allclose(picked, log_p[np.arange(h.shape[0]), targets])


def test_full_softmax_sums_to_one_and_matches_loss():
    h, W, b, _, _, targets, _ = _head(np.random.default_rng(1))
    log_p = full_softmax_log_proba(h, W, b)
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-12)
    loss = full_softmax_loss(h, W, b, targets)[0]
    assert loss == pytest.approx(-log_p[np.arange(h.shape[0]), targets].mean())


def test_one_class_equals_the_full_softmax():
    h, W, b, Wc, bc, targets, _ = _head(np.random.default_rng(2))
    bounds = np.array([0, W.shape[0]])
    full = full_softmax_loss(h, W, b, targets)
    cls = class_softmax_loss(h, W, b, Wc[:1], bc[:1], targets, bounds)
    assert cls[0] == pytest.approx(full[0], rel=1e-12)
    np.testing.assert_allclose(cls[1], full[1], atol=1e-12)
    np.testing.assert_allclose(cls[2]["W"], full[2], atol=1e-12)
    np.testing.assert_allclose(cls[2]["b"], full[3], atol=1e-12)
    np.testing.assert_allclose(
        class_softmax_log_proba(h, W, b, Wc[:1], bc[:1], bounds),
        full_softmax_log_proba(h, W, b),
        atol=1e-12,
    )


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_class_softmax_head_gradient(engine, monkeypatch):
    monkeypatch.setenv("SKRNN_ENGINE", engine)
    rng = np.random.default_rng(3)
    h, W, b, Wc, bc, targets, bounds = _head(rng)
    loss, dh, grads = class_softmax_loss(h, W, b, Wc, bc, targets, bounds)
    arrays = {"h": h, "W": W, "b": b, "Wc": Wc, "bc": bc}
    analytic = {"h": dh, **grads}

    def f():
        return class_softmax_loss(
            arrays["h"],
            arrays["W"],
            arrays["b"],
            arrays["Wc"],
            arrays["bc"],
            targets,
            bounds,
        )[0]

    for name, array in arrays.items():
        numeric = _numeric_grad(f, array)[0]
        np.testing.assert_allclose(analytic[name], numeric, atol=1e-7, err_msg=name)


def _word_problem(dtype, seed=0, n=200, H=16, V=300, C=12):
    """A class head with classes of one word, classes without rows and large
    classes, its rows sorted by their target's class."""
    rng = np.random.default_rng(seed)
    counts = np.concatenate([[2000, 1500, 1000], rng.integers(1, 30, V - 3)])
    counts = np.sort(counts)[::-1].astype(float)
    bounds = word_softmax.frequency_classes(counts, C)
    # targets from the first classes only, so that the last ones have no rows
    targets = np.sort(rng.integers(0, bounds[-3], n))
    h = rng.standard_normal((n, H)).astype(dtype)
    W = rng.standard_normal((V, H)).astype(dtype)
    b = rng.standard_normal(V).astype(dtype)
    return h, targets, bounds, W, b


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="built on Linux")
def test_the_class_softmax_kernel_is_built_and_used(monkeypatch):
    monkeypatch.delenv("SKRNN_ENGINE", raising=False)
    h, targets, bounds, W, b = _word_problem(np.float32)
    assert word_softmax._compiled(h, W, b)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_compiled_word_softmax_matches_numpy(dtype, tol, n_threads, monkeypatch):
    if word_softmax._class_softmax is None:
        pytest.skip("the class_softmax extension is not built")
    # every class range a thread of its own, however small the problem
    monkeypatch.setattr(word_softmax, "_MIN_SPLIT", 1)
    h, targets, bounds, W, b = _word_problem(dtype)
    words = np.diff(bounds)
    assert (words == 1).any() and (words > 20).any()
    rows = np.diff(word_softmax._row_starts(targets, bounds))
    assert (rows == 0).any()
    inputs = [a.copy() for a in (h, targets, W, b)]
    with threadpool_limits(limits=1, user_api="blas"), threads(n_threads):
        if n_threads == 2:
            edges = word_softmax._class_ranges(
                word_softmax._row_starts(targets, bounds), bounds, 3 * h.shape[1]
            )
            assert len(edges) == 3 and edges[0] < edges[1] < edges[2]
        want = word_softmax._word_softmax_numpy(h, targets, bounds, W, b, True)
        got = word_softmax._word_softmax_compiled(h, targets, bounds, W, b, True)
        want_nll = word_softmax._word_softmax_numpy(h, targets, bounds, W, b, False)
        got_nll = word_softmax._word_softmax_compiled(h, targets, bounds, W, b, False)
    assert got[0] == pytest.approx(want[0], rel=tol)
    for g, w in zip(got[1:] + (got_nll,), want[1:] + (want_nll,), strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    # a word alone in its class has probability 1, and rows of no class move W
    lone = np.isin(targets, bounds[:-1][words == 1])
    assert (got_nll[lone] == 0).all() and (got[1][lone] == 0).all()
    assert (got[2][bounds[-3] :] == 0).all()
    for before, after in zip(inputs, (h, targets, W, b), strict=True):
        np.testing.assert_array_equal(before, after)


def _numeric_grad(f, array, eps=1e-6, max_entries=None, rng=None):
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    entries = range(flat.size)
    if max_entries is not None and flat.size > max_entries:
        entries = rng.choice(flat.size, max_entries, replace=False)
    for i in entries:
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad, list(entries)


def _window(rng, V=9, T=4, B=3):
    ids = rng.integers(0, V, (T, B))
    targets = rng.integers(0, V, (T, B))
    lengths = np.array([T, T - 1, 2])
    return ids, targets, lengths


def _network(softmax, tie, cell, V=9, H=4):
    counts = np.arange(V, 0, -1) ** 2
    return LanguageNetwork(
        V,
        embedding_dim=H if tie else 3,
        hidden_size=H,
        num_layers=2,
        cell=cell,
        softmax=softmax,
        class_bounds=frequency_classes(counts, 3),
        tie_weights=tie,
        dtype=np.float64,
    )


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("softmax", ["full", "class"])
@pytest.mark.parametrize("tie", [False, True])
def test_language_network_gradients_match_finite_differences(cell, softmax, tie):
    rng = np.random.default_rng(4)
    net = _network(softmax, tie, cell)
    params = net.init_params(rng)
    ids, targets, lengths = _window(rng)
    # a carried-in state (detached: no gradient flows into it)
    state = {
        (layer, "fw"): (
            rng.standard_normal((3, 4)) * 0.5,
            rng.standard_normal((3, 4)) * 0.5 if cell == "lstm" else None,
        )
        for layer in range(2)
    }
    loss, grads, _ = net.loss_and_grad(params, ids, targets, lengths, state=state)
    assert set(grads) == set(params)

    def f():
        return net.loss_and_grad(params, ids, targets, lengths, state=state)[0]

    for name, value in params.items():
        grad = grads[name]
        grad = grad.toarray() if hasattr(grad, "toarray") else grad
        numeric, entries = _numeric_grad(f, value, max_entries=40, rng=rng)
        np.testing.assert_allclose(
            grad.reshape(-1)[entries],
            numeric.reshape(-1)[entries],
            atol=1e-6,
            rtol=1e-5,
            err_msg=f"{name} ({cell}, {softmax}, tied={tie})",
        )


@pytest.mark.parametrize("softmax", ["full", "class"])
def test_windows_with_carried_state_equal_one_long_window(softmax):
    rng = np.random.default_rng(5)
    net = _network(softmax, False, "lstm")
    params = net.init_params(rng)
    positions, lengths = stream_positions(40, 3)
    stream_ids = rng.integers(0, 9, 40)
    stream_targets = rng.integers(0, 9, 40)
    whole, _ = net.log_prob(
        params, stream_ids[positions], stream_targets[positions], lengths
    )
    # the same columns read in windows of 4 steps, the state carried across
    state, pieces = None, []
    for window, window_lengths in bptt_windows(positions, lengths, 4):
        log_p, state = net.log_prob(
            params,
            stream_ids[window],
            stream_targets[window],
            window_lengths,
            state=state,
        )
        pieces.append(
            (
                window.T[
                    (np.arange(window.shape[0])[:, None] < window_lengths[None, :]).T
                ],
                log_p,
            )
        )
    order = np.concatenate([p for p, _ in pieces])
    values = np.concatenate([v for _, v in pieces])
    by_position = np.empty(40)
    by_position[order] = values
    whole_by_position = np.empty(40)
    valid = (np.arange(positions.shape[0])[:, None] < lengths[None, :]).T
    whole_by_position[positions.T[valid]] = whole
    np.testing.assert_allclose(by_position, whole_by_position, atol=1e-12)


def test_tie_weights_needs_equal_sizes():
    with pytest.raises(ValueError, match="embedding_dim == hidden_size"):
        LanguageNetwork(
            5, embedding_dim=3, hidden_size=4, softmax="full", tie_weights=True
        )
