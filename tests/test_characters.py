"""The character CNN word encoder: its formula, its independence of the batch,
and its gradients (float64 finite differences for every cell, direction and
head)."""

import itertools

import numpy as np
import pytest
from test_engine import _check_gradients

from skrnn._engine import CELLS, Batch, CharacterCNN, SequenceNetwork, SparseRows

N_CHARS, LENGTH, WINDOW = 9, 6, 3
VOCAB, N_OUT = 7, 3
LENGTHS = np.array([5, 3, 1])


def _spellings(rng, n, n_chars=N_CHARS):
    """``n`` spellings of 1 to ``LENGTH`` characters (ids 1 to ``n_chars - 1``),
    0 after them: the 1- and 2-character ones are shorter than the window."""
    lengths = rng.integers(1, LENGTH + 1, size=n)
    lengths[:2] = [1, 2]
    spellings = rng.integers(1, n_chars, size=(n, LENGTH))
    spellings[np.arange(LENGTH)[None, :] >= lengths[:, None]] = 0
    return spellings


def _brute_force(params, spelling):
    """The formula, one window at a time."""
    E, W, b = params["chars.embed"], params["chars.W"], params["chars.b"]
    F = b.size
    n = max(np.count_nonzero(spelling), WINDOW)
    windows = []
    for p in range(max(n - WINDOW, 0) + 1):
        chars = spelling[p : p + WINDOW]
        windows.append(
            sum(E[c] @ W[:, j * F : (j + 1) * F] for j, c in enumerate(chars))
        )
    return np.tanh(np.max(windows, axis=0) + b)


def test_forward_is_the_max_over_the_words_own_windows():
    rng = np.random.default_rng(0)
    cnn = CharacterCNN(N_CHARS, 4, 5, WINDOW, LENGTH)
    params = cnn.init_params(rng, np.float64)
    spellings = _spellings(rng, 8)
    vectors, _ = cnn.forward(params, spellings)
    expected = np.stack([_brute_force(params, s) for s in spellings])
    np.testing.assert_allclose(vectors, expected, rtol=1e-12)
    # a word's vector is the same with or without longer words beside it
    short = spellings[np.count_nonzero(spellings, axis=1) < LENGTH]
    alone, _ = cnn.forward(params, short)
    np.testing.assert_array_equal(
        alone, vectors[np.count_nonzero(spellings, axis=1) < LENGTH]
    )


def _network(cell, bidirectional, head):
    return SequenceNetwork(
        N_OUT,
        vocab_sizes=(VOCAB,),
        embedding_dims=(3,),
        n_features=2,
        cell=cell,
        hidden_size=4,
        bidirectional=bidirectional,
        head=head,
        alpha=0.01,
        characters=CharacterCNN(N_CHARS, 3, 4, WINDOW, LENGTH),
        dtype=np.float64,
    )


def _batch(rng, head):
    """Word ids in column 0, the spelling in the last ``LENGTH`` columns; padding
    steps spell with ids that no valid step uses."""
    T, B = LENGTHS.max(), LENGTHS.size
    mask = np.arange(T)[:, None] < LENGTHS[None, :]
    ids = np.zeros((T, B, 1 + LENGTH), dtype=np.int64)
    ids[..., 0] = rng.integers(0, VOCAB, size=(T, B))
    ids[mask, 1:] = _spellings(rng, int(mask.sum()), N_CHARS - 1)
    ids[~mask, 1:] = N_CHARS - 1
    n_targets = LENGTHS.sum() if head == "step" else B
    return Batch(
        lengths=LENGTHS,
        ids=ids,
        features=rng.standard_normal((T, B, 2)),
        targets=rng.integers(0, N_OUT, size=n_targets),
        weights=rng.uniform(0.5, 2.0, size=B),
    )


@pytest.mark.parametrize(
    "cell, bidirectional, head",
    list(itertools.product(CELLS, [False, True], ["step", "last", "mean", "max"])),
)
def test_gradients_match_finite_differences(cell, bidirectional, head):
    rng = np.random.default_rng(0)
    net = _network(cell, bidirectional, head)
    params = net.init_params(rng)
    params["chars.b"] = rng.standard_normal(params["chars.b"].shape)
    batch = _batch(rng, head)
    # every parameter, the character table, filters and bias included
    grads = _check_gradients(net, params, batch, rng, n_entries=12)
    assert isinstance(grads["chars.embed"], SparseRows)
    # the character used only on padding steps gets no gradient
    assert not grads["chars.embed"].toarray()[N_CHARS - 1].any()


def test_characters_change_the_logits_of_their_step_only_forward():
    """A one-way network: changing the spelling of step t moves steps t.. only."""
    rng = np.random.default_rng(2)
    net = _network("gru", False, "step")
    params = net.init_params(rng)
    batch = _batch(rng, "step")
    before, _ = net.forward(params, batch)
    batch.ids[2, 0, 1:] = [1, 2, 3, 4, 0, 0]
    after, _ = net.forward(params, batch)
    moved = np.any(before != after, axis=1)
    # valid steps in order: sequence 0's five, then 1's three, then 2's one
    np.testing.assert_array_equal(moved, [0, 0, 1, 1, 1, 0, 0, 0, 0])
