"""Adversarial training of the inputs: the move (its size, its direction, its
absence out of training) and the gradient of the two-pass loss (float64 finite
differences with the move held constant, for every cell, direction and head,
the character encoder, linear tables and bag of n-grams included)."""

import itertools

import numpy as np
import pytest
import test_characters
from test_engine import _batch, _check_gradients, _dense, _network, _with_bag

from skrnn._engine import CELLS, SequenceNetwork

EPSILON = 0.3


class _FixedMove:
    """The network with its adversarial move frozen at the one of ``params``, so
    that the two-pass loss is a plain function of the parameters."""

    def __init__(self, net, params, batch):
        self.net = net
        x, _ = net._inputs(params, batch)
        _, _, dx = net._loss_from_inputs(params, x, batch, None, None)
        self.move = net._adversarial_move(dx, batch)

    def loss_and_grad(self, params, batch):
        self.net._adversarial_move = lambda dx, batch: self.move
        try:
            return self.net.loss_and_grad(params, batch, rng=np.random.default_rng(0))
        finally:
            del self.net._adversarial_move


@pytest.mark.parametrize(
    "cell, bidirectional, head",
    list(itertools.product(CELLS, [False, True], ["step", "last", "mean", "max"])),
)
def test_gradients_match_finite_differences(cell, bidirectional, head):
    rng = np.random.default_rng(0)
    net = _network(cell, bidirectional, 2, head, alpha=0.01)
    net.adversarial = EPSILON
    params = net.init_params(rng)
    batch = _batch(rng, head)
    fixed = _FixedMove(net, params, batch)
    assert np.abs(fixed.move).max() > 0.01
    _check_gradients(fixed, params, batch, rng)


@pytest.mark.parametrize("head", ["step", "max"])
def test_gradients_with_characters_match_finite_differences(head):
    rng = np.random.default_rng(1)
    net = test_characters._network("lstm", True, head)
    net.adversarial = EPSILON
    params = net.init_params(rng)
    batch = test_characters._batch(rng, head)
    _check_gradients(_FixedMove(net, params, batch), params, batch, rng, n_entries=12)


def test_gradients_with_linear_tables_and_bag_match_finite_differences():
    rng = np.random.default_rng(2)
    tagger = SequenceNetwork(
        3,
        vocab_sizes=(7,),
        embedding_dims=(3,),
        cell="gru",
        hidden_size=4,
        bidirectional=True,
        linear_vocab_sizes=(7, 7),
        adversarial=EPSILON,
        dtype=np.float64,
    )
    params = tagger.init_params(rng)
    for k in range(2):
        params[f"linear.{k}"] = rng.standard_normal(params[f"linear.{k}"].shape)
    batch = _batch(rng, "step")
    batch.features = None
    _check_gradients(_FixedMove(tagger, params, batch), params, batch, rng, 21)

    classifier = SequenceNetwork(
        3,
        vocab_sizes=(7,),
        embedding_dims=(3,),
        cell="rnn",
        hidden_size=4,
        head="mean",
        n_bag=9,
        adversarial=EPSILON,
        dtype=np.float64,
    )
    params = classifier.init_params(rng)
    params["bag"] = rng.standard_normal(params["bag"].shape)
    batch = _with_bag(_batch(rng, "mean", n_streams=1))
    batch.features = None
    _check_gradients(_FixedMove(classifier, params, batch), params, batch, rng, 27)


def test_the_move_has_its_size_and_climbs_the_loss_faster_than_chance():
    rng = np.random.default_rng(3)
    net = _network("lstm", True, 1, "step")
    net.adversarial = 0.05
    params = net.init_params(rng)
    batch = _batch(rng, "step")
    x, _ = net._inputs(params, batch)
    _, _, dx = net._loss_from_inputs(params, x, batch, None, None)
    move = net._adversarial_move(dx, batch)
    norms = np.sqrt((move**2).sum(axis=(0, 2)))
    np.testing.assert_allclose(norms, 0.05 * np.sqrt(batch.lengths))
    assert not move[~batch.mask].any()

    def loss_at(inputs):
        return net._loss_from_inputs(params, inputs, batch, None, None)[0]

    clean = loss_at(x)
    climbed = loss_at(x + move) - clean
    assert climbed > 0
    for _ in range(20):
        random = rng.standard_normal(x.shape) * batch.mask[..., None]
        scale = np.sqrt(batch.lengths) * 0.05 / np.sqrt((random**2).sum(axis=(0, 2)))
        assert loss_at(x + random * scale[None, :, None]) - clean < climbed


def test_no_move_out_of_training_or_at_zero():
    rng = np.random.default_rng(4)
    net = _network("gru", False, 1, "last")
    params = net.init_params(rng)
    batch = _batch(rng, "last")
    plain, plain_grads = net.loss_and_grad(params, batch, rng=np.random.default_rng(0))
    net.adversarial = 0.1
    evaluated, evaluated_grads = net.loss_and_grad(params, batch)
    assert evaluated == plain
    for name, grad in plain_grads.items():
        np.testing.assert_array_equal(_dense(grad), _dense(evaluated_grads[name]))
    trained, _ = net.loss_and_grad(params, batch, rng=np.random.default_rng(0))
    # the clean loss plus a larger one of the moved inputs
    assert trained > 2 * plain
