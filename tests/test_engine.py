import itertools
import threading

import numpy as np
import pytest
from scipy.special import expit

from skrnn import RNNTagger
from skrnn._engine import (
    CELLS,
    OPTIMIZERS,
    Batch,
    SequenceNetwork,
    SparseRows,
    clip_grad_norm,
    length_batches,
    make_batch,
    network,
    recurrent,
    threads,
    token_batches,
)
from skrnn._engine.activations import gate_activation
from skrnn._engine.gemm import matmul

LENGTHS = np.array([5, 3, 1])
VOCAB, N_FEATURES, N_OUT = 7, 2, 3
PAD_ID = VOCAB - 1  # appears only on padding steps


def _batch(rng, head, lengths=LENGTHS, n_streams=2):
    T, B = lengths.max(), lengths.size
    mask = np.arange(T)[:, None] < lengths[None, :]
    ids = rng.integers(0, VOCAB - 1, size=(T, B, n_streams))
    ids[~mask] = PAD_ID
    features = rng.standard_normal((T, B, N_FEATURES))
    features[~mask] = 0.0
    n_targets = lengths.sum() if head == "step" else B
    return Batch(
        lengths=lengths,
        ids=ids,
        features=features,
        targets=rng.integers(0, N_OUT, size=n_targets),
        weights=rng.uniform(0.5, 2.0, size=B),
    )


def _network(
    cell,
    bidirectional,
    num_layers,
    head,
    alpha=0.0,
    dtype=np.float64,
    hidden_size=4,
    **options,
):
    return SequenceNetwork(
        N_OUT,
        vocab_sizes=(VOCAB, VOCAB),
        embedding_dims=(3, 2),
        n_features=N_FEATURES,
        cell=cell,
        hidden_size=hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        head=head,
        alpha=alpha,
        dtype=dtype,
        **options,
    )


def _dense(grad):
    return grad.toarray() if isinstance(grad, SparseRows) else grad


def _check_gradients(net, params, batch, rng, n_entries=8, eps=1e-6):
    _, grads = net.loss_and_grad(params, batch)
    assert set(grads) == set(params)
    for name, param in params.items():
        analytic = _dense(grads[name])
        assert analytic.shape == param.shape, name
        flat = param.reshape(-1)
        picks = rng.choice(flat.size, size=min(n_entries, flat.size), replace=False)
        for i in picks:
            old = flat[i]
            flat[i] = old + eps
            plus, _ = net.loss_and_grad(params, batch)
            flat[i] = old - eps
            minus, _ = net.loss_and_grad(params, batch)
            flat[i] = old
            numeric = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(
                analytic.reshape(-1)[i], numeric, rtol=1e-5, atol=1e-8, err_msg=name
            )
    return grads


@pytest.mark.parametrize(
    "cell, bidirectional, num_layers, head",
    list(
        itertools.product(CELLS, [False, True], [1, 2], ["step", "last", "mean", "max"])
    ),
)
def test_gradients_match_finite_differences(cell, bidirectional, num_layers, head):
    rng = np.random.default_rng(0)
    net = _network(cell, bidirectional, num_layers, head, alpha=0.01)
    params = net.init_params(rng)
    batch = _batch(rng, head)
    grads = _check_gradients(net, params, batch, rng)
    # the id used only on padding gets exactly zero gradient
    for k in range(2):
        assert not np.any(_dense(grads[f"embed.{k}"])[PAD_ID])


# Tags 0 ("O"), 1 ("B-X") and 2 ("I-X") under IOB2: 2 only after 1 or 2.
IOB2_ALLOWED = (
    np.array([True, True, False]),
    np.array([[True, True, False], [True, True, True], [True, True, True]]),
    np.ones(3, dtype=bool),
)


def _valid_iob2(targets, lengths):
    """``targets`` with every ``I-X`` that follows ``O`` or starts a sequence
    made a ``B-X``."""
    targets = targets.copy()
    starts = set(np.cumsum(lengths) - lengths)
    for i in range(targets.size):
        if targets[i] == 2 and (i in starts or targets[i - 1] == 0):
            targets[i] = 1
    return targets


@pytest.mark.parametrize(
    "cell, bidirectional, allowed",
    list(itertools.product(CELLS, [False, True], [None, IOB2_ALLOWED])),
)
def test_crf_gradients_match_finite_differences(cell, bidirectional, allowed):
    rng = np.random.default_rng(0)
    net = _network(
        cell, bidirectional, 1, "step", alpha=0.01, output="crf", allowed=allowed
    )
    params = net.init_params(rng)
    for name in ("crf.trans", "crf.start", "crf.end"):
        params[name] = rng.standard_normal(params[name].shape)
    batch = _batch(rng, "step")
    batch.targets = _valid_iob2(batch.targets, batch.lengths)
    grads = _check_gradients(net, params, batch, rng, n_entries=9)
    if allowed is not None:  # a forbidden transition is never taken: only L2
        forbidden = ~allowed[1]
        np.testing.assert_allclose(
            grads["crf.trans"][forbidden], 0.01 * params["crf.trans"][forbidden]
        )
        assert np.all(grads["crf.start"][~allowed[0]] == 0)


def test_crf_network_predicts_marginals_and_valid_best_paths():
    rng = np.random.default_rng(1)
    net = _network("gru", True, 1, "step", output="crf", allowed=IOB2_ALLOWED)
    params = net.init_params(rng)
    params["head.W"] *= 20  # confident emissions that would break the rules
    batch = _batch(rng, "step", lengths=np.array([6, 4, 1, 5]))
    proba = np.exp(net.predict_log_proba(params, batch))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    ids, best = net.decode(params, batch)
    assert np.array_equal(_valid_iob2(ids, batch.lengths), ids)
    batch.targets = ids
    np.testing.assert_allclose(net.log_likelihood(params, batch), best)
    assert np.all(best < 0)


def test_softmax_decoding_under_rules_keeps_to_them_and_else_is_argmax():
    rng = np.random.default_rng(2)
    free = _network("rnn", False, 1, "step")
    ruled = _network("rnn", False, 1, "step", allowed=IOB2_ALLOWED)
    params = free.init_params(rng)
    params["head.W"] *= 20
    batch = _batch(rng, "step", lengths=np.array([6, 4, 1, 5, 7, 3]))
    log_proba = free.predict_log_proba(params, batch)
    ids, best = free.decode(params, batch)
    np.testing.assert_array_equal(ids, log_proba.argmax(axis=1))
    assert not np.array_equal(_valid_iob2(ids, batch.lengths), ids)
    ruled_ids, ruled_best = ruled.decode(params, batch)
    assert np.array_equal(_valid_iob2(ruled_ids, batch.lengths), ruled_ids)
    np.testing.assert_allclose(ruled.predict_log_proba(params, batch), log_proba)
    assert np.all(ruled_best <= best + 1e-12)
    batch.targets = ruled_ids
    np.testing.assert_allclose(ruled.log_likelihood(params, batch), ruled_best)


N_BAG = 9


def _with_bag(batch):
    """Bags of 3, 0 and 4 ids (one repeated) for the three sequences of ``_batch``;
    id ``N_BAG - 1`` is in no bag."""
    batch.bag_ids = np.array([0, 4, 4, 2, 5, 1, 7])
    batch.bag_offsets = np.array([0, 3, 3, 7])
    return batch


@pytest.mark.parametrize("head", ["last", "max"])
def test_bag_of_ngrams_gradients_match_finite_differences(head):
    rng = np.random.default_rng(0)
    net = SequenceNetwork(
        N_OUT,
        vocab_sizes=(VOCAB,),
        embedding_dims=(3,),
        cell="gru",
        hidden_size=4,
        bidirectional=True,
        head=head,
        alpha=0.01,
        n_bag=N_BAG,
        dtype=np.float64,
    )
    params = net.init_params(rng)
    params["bag"] = rng.standard_normal(params["bag"].shape)
    batch = _with_bag(_batch(rng, head, n_streams=1))
    batch.features = None
    grads = _check_gradients(net, params, batch, rng, n_entries=N_BAG * N_OUT)
    assert isinstance(grads["bag"], SparseRows)
    assert not np.any(grads["bag"].toarray()[[3, 6, 8]])


def test_bag_adds_the_sum_of_its_rows_to_the_logits():
    rng = np.random.default_rng(1)
    net = SequenceNetwork(
        N_OUT,
        vocab_sizes=(VOCAB,),
        embedding_dims=(3,),
        head="mean",
        n_bag=N_BAG,
        dtype=np.float64,
    )
    params = net.init_params(rng)
    batch = _batch(rng, "mean", n_streams=1)
    batch = _with_bag(batch)
    batch.features = None
    assert not params["bag"].any()  # a fresh table adds nothing
    without, _ = net.forward(params, batch)
    params["bag"] = rng.standard_normal(params["bag"].shape)
    with_bag, _ = net.forward(params, batch)
    table = params["bag"]
    expected = np.stack(
        [table[[0, 4, 4]].sum(0), np.zeros(N_OUT), table[[2, 5, 1, 7]].sum(0)]
    )
    np.testing.assert_allclose(with_bag - without, expected)
    with pytest.raises(ValueError, match="pooled head"):
        SequenceNetwork(N_OUT, vocab_sizes=(VOCAB,), embedding_dims=(3,), n_bag=3)


def _linear_network(cell, bidirectional):
    """One embedded stream (column 0) and linear tables over columns 0 and 1:
    column 1 is read by its linear table only."""
    return SequenceNetwork(
        N_OUT,
        vocab_sizes=(VOCAB,),
        embedding_dims=(3,),
        n_features=N_FEATURES,
        cell=cell,
        hidden_size=4,
        bidirectional=bidirectional,
        head="step",
        alpha=0.01,
        linear_vocab_sizes=(VOCAB, VOCAB),
        dtype=np.float64,
    )


@pytest.mark.parametrize(
    "cell, bidirectional", list(itertools.product(CELLS, [False, True]))
)
def test_linear_tables_gradients_match_finite_differences(cell, bidirectional):
    rng = np.random.default_rng(0)
    net = _linear_network(cell, bidirectional)
    params = net.init_params(rng)
    for k in range(2):
        params[f"linear.{k}"] = rng.standard_normal(params[f"linear.{k}"].shape)
    batch = _batch(rng, "step", n_streams=2)
    grads = _check_gradients(net, params, batch, rng, n_entries=VOCAB * N_OUT)
    for k in range(2):
        assert isinstance(grads[f"linear.{k}"], SparseRows)
        assert not np.any(grads[f"linear.{k}"].toarray()[PAD_ID])


def test_linear_tables_add_the_rows_of_each_steps_ids_to_its_logits():
    rng = np.random.default_rng(1)
    net = _linear_network("gru", False)
    params = net.init_params(rng)
    batch = _batch(rng, "step", n_streams=2)
    assert not params["linear.0"].any()  # fresh tables add nothing
    without, _ = net.forward(params, batch)
    tables = [rng.standard_normal(params[f"linear.{k}"].shape) for k in range(2)]
    params.update({f"linear.{k}": table for k, table in enumerate(tables)})
    with_linear, _ = net.forward(params, batch)
    # the valid steps, sequence after sequence
    steps = [(t, b) for b, n in enumerate(LENGTHS) for t in range(n)]
    expected = np.stack(
        [
            tables[0][batch.ids[t, b, 0]] + tables[1][batch.ids[t, b, 1]]
            for t, b in steps
        ]
    )
    np.testing.assert_allclose(with_linear - without, expected, rtol=1e-12)


def test_linear_tables_need_the_step_head():
    with pytest.raises(ValueError, match="'step' head"):
        SequenceNetwork(N_OUT, head="mean", linear_vocab_sizes=(VOCAB,))


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("head", ["step", "last", "mean", "max"])
def test_padding_does_not_change_valid_outputs(cell, head):
    rng = np.random.default_rng(1)
    net = _network(cell, True, 2, head)
    params = net.init_params(rng)
    batch = _batch(rng, head)
    logits, _ = net.forward(params, batch)
    mask = batch.mask
    batch.ids = batch.ids.copy()
    batch.ids[~mask] = rng.integers(0, VOCAB, size=batch.ids[~mask].shape)
    batch.features = batch.features.copy()
    batch.features[~mask] = 100.0
    logits_other_padding, _ = net.forward(params, batch)
    np.testing.assert_array_equal(logits, logits_other_padding)
    # and every sequence alone, without padding, gives the same outputs
    offsets = np.concatenate([[0], np.cumsum(batch.lengths)])
    for b, length in enumerate(batch.lengths):
        alone = Batch(
            lengths=np.array([length]),
            ids=batch.ids[:length, b : b + 1],
            features=batch.features[:length, b : b + 1],
        )
        logits_alone, _ = net.forward(params, alone)
        expected = logits[offsets[b] : offsets[b + 1]] if head == "step" else logits[b]
        np.testing.assert_allclose(logits_alone.reshape(expected.shape), expected)


def test_two_step_elman_by_hand():
    """The seed's formulas, written out: h_t = tanh(x_t U + h_{t-1} W + b),
    y_t = softmax(h_t V + c), and dW = sum_j sum_{i<=j} dW_{i,j}."""
    U = np.array([[0.5, -0.3], [0.2, 0.8]])
    W = np.array([[0.1, 0.4], [-0.6, 0.3]])
    b = np.array([0.05, -0.1])
    V = np.array([[1.0, -1.0], [0.5, 0.25]])
    c = np.array([0.1, 0.0])
    x = np.array([[1.0, 0.0], [0.5, -1.0]])
    targets = np.array([0, 1])

    net = SequenceNetwork(2, n_features=2, hidden_size=2, dtype=np.float64)
    params = {
        "rnn.0.fw.W_in": U.copy(),
        "rnn.0.fw.b": b.copy(),
        "rnn.0.fw.W_rec": W.copy(),
        "head.W": V.copy(),
        "head.b": c.copy(),
    }
    batch = Batch(lengths=np.array([2]), features=x[:, None, :], targets=targets)
    loss, grads = net.loss_and_grad(params, batch)

    h0 = np.zeros(2)
    h1 = np.tanh(x[0] @ U + h0 @ W + b)
    h2 = np.tanh(x[1] @ U + h1 @ W + b)
    p = [np.exp(h @ V + c) / np.exp(h @ V + c).sum() for h in (h1, h2)]
    expected_loss = -(np.log(p[0][0]) + np.log(p[1][1])) / 2
    assert loss == pytest.approx(expected_loss, rel=1e-12)

    # output error of step j (mean over the two steps)
    e = [(p[j] - np.eye(2)[targets[j]]) / 2 for j in range(2)]
    dV = np.outer(h1, e[0]) + np.outer(h2, e[1])
    # backpropagate each step's error j through the steps i <= j
    dW = np.zeros((2, 2))
    dU = np.zeros((2, 2))
    hs, xs = [h0, h1, h2], x
    for j in range(2):
        delta = (e[j] @ V.T) * (1 - hs[j + 1] ** 2)
        for i in range(j, -1, -1):
            dW += np.outer(hs[i], delta)  # dW_{i,j}
            dU += np.outer(xs[i], delta)
            delta = (delta @ W.T) * (1 - hs[i] ** 2)
    np.testing.assert_allclose(grads["head.W"], dV, rtol=1e-12)
    np.testing.assert_allclose(grads["rnn.0.fw.W_rec"], dW, rtol=1e-12)
    np.testing.assert_allclose(grads["rnn.0.fw.W_in"], dU, rtol=1e-12)


@pytest.mark.parametrize("cell", list(CELLS))
def test_backward_direction_reads_each_sequence_reversed(cell):
    rng = np.random.default_rng(2)
    bi = _network(cell, True, 1, "step")
    params = bi.init_params(rng)
    batch = _batch(rng, "step")
    logits, cache = bi.forward(params, batch)
    out_bw = cache["pooled"][:, 4:]  # valid steps, backward half
    uni = _network(cell, False, 1, "step")
    uni_params = uni.init_params(rng)
    for name in uni_params:
        if not name.startswith("head."):
            uni_params[name] = params[name.replace(".fw.", ".bw.")]
    offsets = np.concatenate([[0], np.cumsum(batch.lengths)])
    for b, length in enumerate(batch.lengths):
        reversed_batch = Batch(
            lengths=np.array([length]),
            ids=batch.ids[:length, b : b + 1][::-1],
            features=batch.features[:length, b : b + 1][::-1],
        )
        _, uni_cache = uni.forward(uni_params, reversed_batch)
        np.testing.assert_allclose(
            uni_cache["pooled"][::-1], out_bw[offsets[b] : offsets[b + 1]]
        )


@pytest.mark.parametrize("cell", list(CELLS))
def test_initial_state_continues_a_sequence(cell):
    rng = np.random.default_rng(3)
    net = _network(cell, False, 2, "step")
    params = net.init_params(rng)
    batch = _batch(rng, "step", lengths=np.array([6, 6]))
    full, _ = net.forward(params, batch)
    first = Batch(
        lengths=np.array([4, 4]), ids=batch.ids[:4], features=batch.features[:4]
    )
    second = Batch(
        lengths=np.array([2, 2]), ids=batch.ids[4:], features=batch.features[4:]
    )
    logits_1, cache_1 = net.forward(params, first)
    logits_2, _ = net.forward(params, second, initial_state=cache_1["final_state"])
    # valid steps are ordered sequence after sequence
    chunked = np.concatenate([logits_1[:4], logits_2[:2], logits_1[4:], logits_2[2:]])
    np.testing.assert_allclose(chunked, full, rtol=1e-10)


def test_dropout_is_inverted_reproducible_and_off_without_rng():
    net = SequenceNetwork(
        3,
        vocab_sizes=(7,),
        embedding_dims=(5,),
        hidden_size=8,
        dropout=0.5,
        dtype=np.float64,
    )
    params = net.init_params(np.random.default_rng(0))
    batch = _batch(np.random.default_rng(1), "step", n_streams=1)
    batch.features = None
    eval_1, _ = net.forward(params, batch)
    eval_2, _ = net.forward(params, batch)
    np.testing.assert_array_equal(eval_1, eval_2)
    train_1, cache = net.forward(params, batch, rng=np.random.default_rng(5))
    train_2, _ = net.forward(params, batch, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(train_1, train_2)
    assert not np.allclose(train_1, eval_1)
    mask = cache["input_mask"]
    assert set(np.unique(mask)) <= {0.0, 2.0}
    assert 0.3 < (mask > 0).mean() < 0.7


def test_dropout_gradients_match_finite_differences():
    """With a fixed dropout mask (same seed each call) the loss is deterministic."""
    net = _network("lstm", True, 2, "mean")
    net.dropout = 0.3
    rng = np.random.default_rng(4)
    params = net.init_params(rng)
    batch = _batch(rng, "mean")

    class SeededNet:
        def loss_and_grad(self, params, batch):
            return net.loss_and_grad(params, batch, rng=np.random.default_rng(9))

    _check_gradients(SeededNet(), params, batch, rng)


@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_matches_float64(cell):
    rng = np.random.default_rng(6)
    net64 = _network(cell, True, 1, "step")
    net32 = _network(cell, True, 1, "step", dtype=np.float32)
    params = net64.init_params(rng)
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    batch = _batch(rng, "step")
    loss64, grads64 = net64.loss_and_grad(params, batch)
    loss32, grads32 = net32.loss_and_grad(params32, batch)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in params:
        assert _dense(grads32[name]).dtype == np.float32
        np.testing.assert_allclose(
            _dense(grads32[name]), _dense(grads64[name]), rtol=1e-3, atol=1e-5
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gate_activations_match_numpy_to_the_limits(dtype):
    # float64 goes through exp, float32 through tanh: both must be the textbook
    # functions and exactly 0 / 1 / -1 in the limits
    a = np.concatenate([np.linspace(-30, 30, 601), [-1e4, -89.0, 0.0, 1e-9, 89.0, 1e4]])
    a = a.astype(dtype)
    act = gate_activation(np.dtype(dtype))
    scale, mult, shift = act.affine(dtype, ("sigmoid", "tanh"), a.size)
    x = np.concatenate([a, a]) * scale
    with np.errstate(all="raise", over="ignore", under="ignore"):  # as the cells
        act.apply(x, mult, shift)
    tol = {np.float32: 3e-7, np.float64: 1e-15}[dtype]
    a64 = a.astype(np.float64)
    exact = np.concatenate([expit(a64), np.tanh(a64)])
    np.testing.assert_allclose(x, exact, rtol=0, atol=tol)
    assert x.dtype == dtype
    assert x[a.size + np.argmin(a)] == -1 and x[np.argmax(a)] == 1
    assert x[np.argmin(a)] == 0
    out = np.empty_like(a)
    with np.errstate(all="raise"):
        act.tanh(a, out=out)
    np.testing.assert_allclose(out, np.tanh(a64), rtol=0, atol=tol)
    assert out[np.argmin(a)] == -1 and out[np.argmax(a)] == 1


def test_initialisation():
    net = _network("lstm", False, 1, "step")
    params = net.init_params(np.random.default_rng(0))
    W_rec = params["rnn.0.fw.W_rec"]
    for k in range(4):  # one orthogonal block per gate
        block = W_rec[:, 4 * k : 4 * (k + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(4), atol=1e-12)
    b = params["rnn.0.fw.b"]
    np.testing.assert_array_equal(b[4:8], 1.0)  # forget gate
    np.testing.assert_array_equal(np.delete(b, np.s_[4:8]), 0.0)
    again = net.init_params(np.random.default_rng(0))
    for name in params:
        np.testing.assert_array_equal(params[name], again[name])


def test_sparse_rows_updates_equal_dense_updates():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 3))
    rows = np.array([0, 2, 5])
    values = rng.standard_normal((3, 3))
    sparse = SparseRows(rows, values, table.shape)
    for name, kwargs in [("sgd", {"momentum": 0.9, "nesterov": True}), ("adam", {})]:
        p_sparse, p_dense = {"E": table.copy()}, {"E": table.copy()}
        opt_sparse = OPTIMIZERS[name](learning_rate=0.1, **kwargs)
        opt_dense = OPTIMIZERS[name](learning_rate=0.1, **kwargs)
        for _ in range(3):
            opt_sparse.update(p_sparse, {"E": sparse})
            opt_dense.update(p_dense, {"E": sparse.toarray()})
        # rows in the gradient move as with a dense gradient; others do not move
        np.testing.assert_allclose(p_sparse["E"][rows], p_dense["E"][rows])
        np.testing.assert_array_equal(p_sparse["E"][[1, 3, 4]], table[[1, 3, 4]])


def test_sgd_momentum_and_nesterov_follow_their_formulas():
    g = np.array([1.0, -2.0])
    for nesterov in (False, True):
        params = {"w": np.zeros(2)}
        opt = OPTIMIZERS["sgd"](learning_rate=0.1, momentum=0.5, nesterov=nesterov)
        w, v = np.zeros(2), np.zeros(2)
        for _ in range(3):
            opt.update(params, {"w": g.copy()})
            v = 0.5 * v - 0.1 * g
            w = w + (0.5 * v - 0.1 * g if nesterov else v)
        np.testing.assert_allclose(params["w"], w)


def test_adam_follows_its_formula():
    rng = np.random.default_rng(0)
    params = {"w": np.zeros(3)}
    opt = OPTIMIZERS["adam"](learning_rate=0.01)
    w, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(1, 4):
        g = rng.standard_normal(3)
        opt.update(params, {"w": g})
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        # the paper's efficient form (as sklearn's MLP): epsilon outside the correction
        lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        w -= lr_t * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(params["w"], w, rtol=1e-6)


def test_clip_grad_norm_scales_to_the_global_norm():
    grads = {
        "a": np.array([3.0, 0.0]),
        "E": SparseRows(np.array([1]), np.array([[0.0, 4.0]]), (2, 2)),
    }
    norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert clip_grad_norm(grads, None) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-5)


def test_length_batches_sort_cover_and_shuffle():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=103)
    batches = length_batches(lengths, 10, np.random.default_rng(1))
    assert sorted(np.concatenate(batches)) == list(range(103))
    assert [b.size for b in batches].count(10) == 10
    # each batch holds sequences of similar length
    spans = [np.ptp(lengths[b]) for b in batches]
    assert np.mean(spans) <= 5
    again = length_batches(lengths, 10, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = length_batches(lengths, 10, np.random.default_rng(2))
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=True))
    ordered = length_batches(lengths, 10)
    assert np.all(np.diff(lengths[np.concatenate(ordered)]) >= 0)


def test_make_batch_gathers_flat_sequences():
    lengths = np.array([2, 3, 1])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ids = np.arange(6)[:, None] * 10
    targets = np.arange(6) + 100
    batch = make_batch(
        np.array([1, 2]),
        offsets,
        lengths,
        ids=ids,
        targets=targets,
        weights=np.array([1.0, 2.0, 3.0]),
    )
    assert batch.ids.shape == (3, 2, 1)
    np.testing.assert_array_equal(batch.ids[:, 0, 0], [20, 30, 40])
    assert batch.ids[0, 1, 0] == 50
    np.testing.assert_array_equal(batch.targets, [102, 103, 104, 105])
    np.testing.assert_array_equal(batch.weights, [2.0, 3.0])


def test_make_batch_gathers_bags_of_the_sequences():
    lengths = np.array([2, 3, 1])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    bag_ids = np.array([10, 11, 20, 21, 22])  # bags of 2, 3 and 0 ids
    bag_offsets = np.array([0, 2, 5, 5])
    batch = make_batch(
        np.array([2, 1, 0]), offsets, lengths, bag_ids=bag_ids, bag_offsets=bag_offsets
    )
    np.testing.assert_array_equal(batch.bag_ids, [20, 21, 22, 10, 11])
    np.testing.assert_array_equal(batch.bag_offsets, [0, 0, 3, 5])


def _delayed_copy(rng, n, length, lag, n_symbols):
    x = rng.integers(0, n_symbols, size=(n, length))
    y = np.zeros_like(x)
    y[:, lag:] = x[:, :-lag]
    return x, y


@pytest.mark.parametrize("cell", list(CELLS))
def test_learns_delayed_copy_with_lag_two(cell):
    rng = np.random.default_rng(0)
    n_symbols, lag, length = 4, 2, 10
    x, y = _delayed_copy(rng, 600, length, lag, n_symbols)
    lengths = np.full(len(x), length)
    offsets = np.arange(len(x) + 1) * length
    net = SequenceNetwork(
        n_symbols,
        vocab_sizes=(n_symbols,),
        embedding_dims=(8,),
        cell=cell,
        hidden_size=32,
    )
    params = net.init_params(rng)
    opt = OPTIMIZERS["adam"](learning_rate=0.01)
    flat_ids, flat_y = x.reshape(-1, 1), y.reshape(-1)
    losses = []
    for _ in range(12):
        epoch = []
        for index in length_batches(lengths, 32, rng):
            batch = make_batch(index, offsets, lengths, ids=flat_ids, targets=flat_y)
            loss, grads = net.loss_and_grad(params, batch, rng=rng)
            clip_grad_norm(grads, 5.0)
            opt.update(params, grads)
            epoch.append(loss)
        losses.append(np.mean(epoch))
    assert losses[-1] < 0.2 * losses[0]
    x_test, y_test = _delayed_copy(rng, 200, length, lag, n_symbols)
    test_lengths = np.full(200, length)
    batch = make_batch(
        np.arange(200),
        np.arange(201) * length,
        test_lengths,
        ids=x_test.reshape(-1, 1),
        targets=y_test.reshape(-1),
    )
    predicted = net.predict_log_proba(params, batch).argmax(axis=1)
    valid = np.tile(np.arange(length) >= lag, 200)  # steps with something to copy
    assert (predicted[valid] == batch.targets[valid]).mean() > 0.95


def test_token_batches_cover_every_sequence_once_within_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 60, size=500)
    batches = token_batches(lengths, 256)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(500))
    for index in batches:
        padded = index.size * max(lengths[index].max(), 1)
        assert padded <= 256 or index.size == 1
    # a sequence longer than the budget gets a batch of its own
    assert [b.tolist() for b in token_batches(np.array([3, 300, 2]), 100)] == [
        [1],
        [0, 2],
    ]


@pytest.mark.parametrize("cell", CELLS)
def test_directions_on_two_threads_give_the_serial_result(cell, monkeypatch):
    from skrnn._engine import gemm

    rng = np.random.default_rng(0)
    net = _network(cell, True, 2, "step")
    params = net.init_params(rng)
    batch = _batch(rng, "step")
    state = {(1, "bw"): (rng.standard_normal((3, 4)), None)}
    serial_loss, serial_grads = net.loss_and_grad(params, batch, initial_state=state)
    workers = set()
    cell_forward = net.rnn.cell.forward

    def spy(*args):
        workers.add(threading.current_thread().name)
        return cell_forward(*args)

    monkeypatch.setattr(net.rnn.cell, "forward", spy)
    with threads(2):
        loss, grads = net.loss_and_grad(params, batch, initial_state=state)
    # the backward direction ran on a thread of the pool (of any size)
    assert "MainThread" in workers and len(workers) >= 2
    assert loss == pytest.approx(serial_loss, rel=1e-12)
    for name, grad in serial_grads.items():
        np.testing.assert_allclose(
            _dense(grads[name]), _dense(grad), rtol=1e-10, atol=1e-12, err_msg=name
        )
    assert gemm.thread_count() == 1


@pytest.mark.parametrize("shape", [(2000, 200, 100), (100, 2000, 400), (3, 4, 5)])
def test_threaded_matmul_equals_the_product(shape, monkeypatch):
    from skrnn._engine import gemm

    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    for n_threads in (1, 2, 3):
        with threads(n_threads):
            blocks = []
            if n_threads > 1:
                pool = gemm._state["pool"]
                submit = pool.submit
                monkeypatch.setattr(
                    pool,
                    "submit",
                    lambda *args, blocks=blocks, submit=submit: (
                        blocks.append(1) or submit(*args)
                    ),
                )
            np.testing.assert_allclose(matmul(a, b), a @ b, atol=1e-10)
            flipped = b[:, ::-1]  # a strided operand
            np.testing.assert_allclose(matmul(a, flipped), a @ flipped, atol=1e-10)
            monkeypatch.undo()
        # large products are split in one block per thread, small ones are not
        large = m * n * k >= gemm._MIN_SPLIT
        assert len(blocks) == (2 * (n_threads - 1) if large else 0)


def test_a_fit_threads_the_engine_as_blas_may():
    from threadpoolctl import threadpool_limits

    from skrnn._engine import gemm

    seen = []
    original = gemm.matmul

    def spy(a, b):
        seen.append(gemm.thread_count())
        return original(a, b)

    X, y = [["a", "b"], ["b", "a"]] * 10, [["x", "y"], ["y", "x"]] * 10
    tagger = RNNTagger(hidden_size=4, max_iter=1, early_stopping=False)
    with threadpool_limits(limits=2, user_api="blas"):
        for module in (recurrent, network):
            module.matmul = spy
        try:
            tagger.fit(X, y)
            with threadpool_limits(limits=1, user_api="blas"):
                tagger.fit(X, y)
        finally:
            for module in (recurrent, network):
                module.matmul = original
    assert set(seen) == {1, 2}
    assert gemm.thread_count() == 1  # restored after the fit


def test_threaded_matmul_works_in_a_forked_child():
    import multiprocessing

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2000, 200)), rng.standard_normal((200, 100))
    with threads(2):
        matmul(a, b)  # the parent's pool exists before the fork
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        result = pool.apply_async(_product_in_threads, (a, b)).get(timeout=60)
    np.testing.assert_allclose(result, a @ b, atol=1e-10)


def _product_in_threads(a, b):
    with threads(2):
        return matmul(a, b)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cells_leave_their_parameters_unchanged(cell, dtype):
    # the GRU and LSTM fold the gates' scale into W_rec for their loops: into a
    # copy, never the caller's array (H = 1 makes every view of it contiguous)
    rng = np.random.default_rng(0)
    net = _network(cell, True, 1, "step", dtype=dtype, hidden_size=1)
    params = net.init_params(rng)
    before = {k: v.copy() for k, v in params.items()}
    net.loss_and_grad(params, _batch(rng, "step"))
    for name, value in params.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
