"""The network every RNN estimator trains: inputs → recurrent stack → softmax head.

A batch flows as DESIGN.md describes: embedding rows gathered (and dense features
appended), inverted dropout, the recurrent stack, dropout, then one output GEMM over
every valid step (``head="step"``, tagging) or over the pooled state (``"last"``,
``"mean"``, ``"max"``, classification), and the masked softmax cross-entropy.
Backward runs the same way in reverse. Parameters are a plain dict of arrays.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array

from .crf import ChainOutput
from .dropout import Dropout
from .embedding import (
    SparseRows,
    embed,
    embedding_grads,
    init_table,
    sparse_row_sums,
)
from .gemm import matmul
from .heads import (
    POOLINGS,
    log_softmax,
    pool,
    pool_backward,
    softmax_cross_entropy,
    valid_steps,
    valid_steps_backward,
)
from .recurrent import RecurrentStack

HEADS = ("step",) + POOLINGS


@dataclass
class Batch:
    """One padded, time-major minibatch.

    Attributes
    ----------
    lengths : ndarray of shape (B,)
        Valid steps of each sequence (at least 1); steps past it are padding.
    ids : ndarray of shape (T, B, n_streams) or None
        Token ids of every embedded stream (padding ids are arbitrary).
    features : ndarray of shape (T, B, n_features) or None
        Dense per-step inputs.
    targets : ndarray or None
        ``(n_valid,)`` class ids of the valid steps, sequence after sequence, for the
        ``"step"`` head; ``(B,)`` for a pooled head.
    weights : ndarray of shape (B,) or None
        Per-sequence weights of the loss.
    bag_ids : ndarray of shape (n_bag,) or None
        Bag-of-n-grams ids of every sequence, concatenated (pooled heads only).
    bag_offsets : ndarray of shape (B + 1,) or None
        Sequence ``b``'s bag is ``bag_ids[bag_offsets[b]:bag_offsets[b + 1]]``
        (it may be empty).
    """

    lengths: np.ndarray
    ids: np.ndarray = None
    features: np.ndarray = None
    targets: np.ndarray = None
    weights: np.ndarray = None
    bag_ids: np.ndarray = None
    bag_offsets: np.ndarray = None

    @property
    def n_steps(self):
        return int(self.lengths.max())

    @property
    def mask(self):
        """``(T, B)``: True on valid steps."""
        return np.arange(self.n_steps)[:, None] < self.lengths[None, :]


class SequenceNetwork:
    """Embeddings and/or dense features → RNN layers → softmax.

    Parameters
    ----------
    n_outputs : int
        Number of classes of the softmax.
    vocab_sizes, embedding_dims : sequence of int
        One embedding table per id stream.
    n_features : int
        Width of the dense per-step input (0 for none).
    cell : {"rnn", "gru", "lstm"}
    hidden_size, num_layers, bidirectional :
        Shape of the recurrent stack.
    head : {"step", "last", "mean", "max"}
        A softmax at every step, or over the pooled states.
    dropout : float
        Inverted dropout on the recurrent stack's input, between layers and on its
        output; active only when a random generator is passed to ``forward``.
    alpha : float
        L2 penalty ``alpha / 2 * ||W||^2`` on every weight matrix (the embedding rows
        of the batch included), none on biases.
    n_bag : int
        Size of an optional bag-of-n-grams vocabulary (pooled heads only): the
        table ``"bag"`` of shape ``(n_bag, n_outputs)`` holds a linear weight per
        id and class, and the sum of the rows of a sequence's bag is added to
        its logits (a linear model beside the RNN, as in Wide & Deep). 0 for
        none.
    linear_vocab_sizes : sequence of int
        Sizes of optional per-step linear tables (step head only): table
        ``"linear.k"`` of shape ``(linear_vocab_sizes[k], n_outputs)`` holds a
        weight per id of id column ``k`` and class, and each step adds the rows
        of its ids to its logits. Columns past the embedded streams are read by
        these tables only (a tagger's neighbouring words). Empty for none.
    characters : CharacterCNN or None
        Reads each step's spelling from the last ``characters.length`` id
        columns and appends its vector to the step's input, after the
        embeddings and dense features. None for none.
    adversarial : float
        Size of the adversarial move of the inputs in training, per step (see
        ``loss_and_grad``); 0 for none.
    output : {"softmax", "crf"}
        ``"crf"`` (step head only): a linear-chain CRF over the logits of each
        sequence, trained on ``-log p(y | x)`` and decoded by Viterbi (see
        ``crf.ChainOutput``).
    allowed : (start, trans, end) boolean arrays or None
        The tag transitions a decoded path (and, with the CRF, a path in
        training) may take (step head only); None: all.
    dtype : numpy dtype
    """

    def __init__(
        self,
        n_outputs,
        *,
        vocab_sizes=(),
        embedding_dims=(),
        n_features=0,
        cell="rnn",
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        head="step",
        dropout=0.0,
        alpha=0.0,
        n_bag=0,
        linear_vocab_sizes=(),
        characters=None,
        adversarial=0.0,
        output="softmax",
        allowed=None,
        dtype=np.float32,
    ):
        if len(vocab_sizes) != len(embedding_dims):
            raise ValueError("vocab_sizes and embedding_dims must have equal lengths.")
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}.")
        if n_bag and head == "step":
            raise ValueError("A bag of n-grams needs a pooled head, not 'step'.")
        if len(linear_vocab_sizes) and head != "step":
            raise ValueError(
                f"Per-step linear tables need the 'step' head, not {head!r}."
            )
        if (output == "crf" or allowed is not None) and head != "step":
            raise ValueError(f"A tag chain needs the 'step' head, not {head!r}.")
        self.n_outputs = n_outputs
        self.vocab_sizes = tuple(vocab_sizes)
        self.embedding_dims = tuple(embedding_dims)
        self.n_features = n_features
        self.head = head
        self.dropout = dropout
        self.alpha = alpha
        self.n_bag = n_bag
        self.linear_vocab_sizes = tuple(linear_vocab_sizes)
        self.characters = characters
        self.adversarial = adversarial
        self.dtype = np.dtype(dtype)
        self.output = output
        self.chain = None
        if output == "crf" or allowed is not None:
            self.chain = ChainOutput(n_outputs, crf=output == "crf", allowed=allowed)
        n_characters = 0 if characters is None else characters.n_filters
        self.rnn = RecurrentStack(
            cell,
            sum(embedding_dims) + n_features + n_characters,
            hidden_size,
            num_layers,
            bidirectional,
        )

    @property
    def n_directions(self):
        return len(self.rnn.directions)

    def init_params(self, rng):
        params = {
            f"embed.{k}": init_table(rng, size, dim, self.dtype)
            for k, (size, dim) in enumerate(
                zip(self.vocab_sizes, self.embedding_dims, strict=True)
            )
        }
        if self.characters is not None:
            params.update(self.characters.init_params(rng, self.dtype))
        params.update(self.rnn.init_params(rng, self.dtype))
        n_in = self.rnn.output_size
        limit = np.sqrt(6.0 / (n_in + self.n_outputs))
        params["head.W"] = rng.uniform(-limit, limit, (n_in, self.n_outputs)).astype(
            self.dtype
        )
        params["head.b"] = np.zeros(self.n_outputs, dtype=self.dtype)
        if self.n_bag:
            params["bag"] = np.zeros((self.n_bag, self.n_outputs), dtype=self.dtype)
        for k, size in enumerate(self.linear_vocab_sizes):
            params[f"linear.{k}"] = np.zeros((size, self.n_outputs), dtype=self.dtype)
        if self.chain is not None:
            params.update(self.chain.init_params(self.dtype))
        return params

    def _tables(self, params):
        return [params[f"embed.{k}"] for k in range(len(self.vocab_sizes))]

    def forward(self, params, batch, *, rng=None, initial_state=None):
        """Logits of the batch, and what backward needs.

        With ``rng`` (training) dropout is applied; without it the network is
        deterministic. Logits are ``(n_valid, n_outputs)`` for the step head (rows in
        the order of ``batch.targets``), ``(B, n_outputs)`` for a pooled head.
        """
        x, spelling = self._inputs(params, batch)
        logits, cache = self._forward_inputs(params, x, batch, rng, initial_state)
        cache["characters"] = spelling
        return logits, cache

    def _inputs(self, params, batch):
        """``(T, B, D)`` input of the recurrent stack: the embeddings, dense
        features and character vectors of every step, and the character cache."""
        features = None
        if batch.features is not None:
            features = batch.features.astype(self.dtype, copy=False)
        spelling = None
        if self.characters is not None:
            spelled, spelling = self._spell(params, batch.ids, batch.mask)
            features = spelled if features is None else (
                np.concatenate([features, spelled], axis=-1)
            )
        return embed(self._tables(params), batch.ids, features), spelling

    def _forward_inputs(self, params, x, batch, rng, initial_state):
        lengths = batch.lengths
        mask = batch.mask
        dropout = None
        if rng is not None and self.dropout > 0:
            dropout = Dropout(self.dropout, rng)
        x, input_mask = dropout(x) if dropout else (x, None)
        out, final_state, rnn_cache = self.rnn.forward(
            params, x, lengths, initial_state=initial_state, dropout=dropout
        )
        out, output_mask = dropout(out) if dropout else (out, None)
        if self.head == "step":
            pooled, argmax = valid_steps(out, mask.T), None
        else:
            pooled, argmax = pool(out, lengths, mask, self.head, self.n_directions)
        logits = matmul(pooled, params["head.W"])
        logits += params["head.b"]
        bag = None
        if self.n_bag:
            bag = _bag_matrix(batch, self.dtype)
            logits += bag @ params["bag"][batch.bag_ids]
        linear_ids = None
        if self.linear_vocab_sizes:
            linear_ids = valid_steps(batch.ids, mask.T)
            for k in range(len(self.linear_vocab_sizes)):
                logits += params[f"linear.{k}"][linear_ids[:, k]]
        cache = {
            "bag": bag,
            "linear_ids": linear_ids,
            "mask": mask,
            "pooled": pooled,
            "argmax": argmax,
            "out_shape": out.shape,
            "rnn": rnn_cache,
            "input_mask": input_mask,
            "output_mask": output_mask,
            "final_state": final_state,
        }
        return logits, cache

    def _spell(self, params, ids, mask):
        """``(T, B, n_filters)`` character vectors of the valid steps (0 on
        padding)."""
        spellings = ids[..., -self.characters.length :][mask]
        vectors, cache = self.characters.forward(params, spellings)
        spelled = np.zeros(mask.shape + (vectors.shape[1],), dtype=self.dtype)
        spelled[mask] = vectors
        return spelled, cache

    def loss_and_grad(self, params, batch, *, rng=None, initial_state=None):
        """Mean (weighted) cross-entropy plus L2 penalty, and the gradient of each
        parameter (``SparseRows`` for embedding tables).

        In training (``rng`` given) with ``adversarial > 0`` the loss is that of
        the batch plus that of its adversarial twin (Goodfellow et al., 2015;
        Miyato et al., 2017): the same inputs moved along the gradient of the
        loss with respect to them, by ``adversarial`` times the square root of
        the sequence's length in L2 norm, the move held constant.
        """
        x, spelling = self._inputs(params, batch)
        loss, grads, dx = self._loss_from_inputs(
            params, x, batch, rng, initial_state
        )
        if rng is not None and self.adversarial > 0:
            moved = x + self._adversarial_move(dx, batch)
            adversarial_loss, adversarial_grads, adversarial_dx = (
                self._loss_from_inputs(params, moved, batch, rng, initial_state)
            )
            loss += adversarial_loss
            dx += adversarial_dx
            for name, grad in adversarial_grads.items():
                grads[name] = _add_grads(grads[name], grad)
        mask = batch.mask
        if self.characters is not None:
            dvectors = dx[..., -self.characters.n_filters :][mask]
            grads.update(self.characters.backward(params, dvectors, spelling))
        tables = self._tables(params)
        if tables:
            for k, grad in enumerate(embedding_grads(dx, batch.ids, mask, tables)):
                grads[f"embed.{k}"] = grad
        if self.alpha > 0:
            loss += self._add_l2(params, grads)
        return loss, grads

    def _loss_from_inputs(self, params, x, batch, rng, initial_state):
        """Cross-entropy of the batch given the stack's input ``x``, the gradient
        of every parameter past ``x``, and the gradient of ``x``."""
        logits, cache = self._forward_inputs(params, x, batch, rng, initial_state)
        grads = {}
        if self.output == "crf":
            loss, dlogits, grads = self.chain.loss_and_grad(params, logits, batch)
        else:
            weights = batch.weights
            if weights is not None and self.head == "step":
                weights = np.repeat(weights, batch.lengths)
            loss, dlogits = softmax_cross_entropy(logits, batch.targets, weights)
        grads["head.W"] = matmul(cache["pooled"].T, dlogits)
        grads["head.b"] = dlogits.sum(axis=0)
        if self.n_bag:
            grads["bag"] = _bag_grad(
                cache["bag"], batch.bag_ids, dlogits, params["bag"]
            )
        for k in range(len(self.linear_vocab_sizes)):
            grads[f"linear.{k}"] = sparse_row_sums(
                cache["linear_ids"][:, k], dlogits, params[f"linear.{k}"]
            )
        dpooled = matmul(dlogits, params["head.W"].T)
        mask = cache["mask"]
        if self.head == "step":
            dout = valid_steps_backward(dpooled, mask.T, cache["out_shape"])
        else:
            dout = pool_backward(
                dpooled,
                batch.lengths,
                mask,
                self.head,
                self.n_directions,
                cache["argmax"],
                cache["out_shape"],
            )
        if cache["output_mask"] is not None:
            dout *= cache["output_mask"]
        dx, rnn_grads, _ = self.rnn.backward(params, dout, cache["rnn"])
        grads.update(rnn_grads)
        if cache["input_mask"] is not None:
            dx *= cache["input_mask"]
        return loss, grads, dx

    def _adversarial_move(self, dx, batch):
        """``(T, B, D)``: each sequence's ``dx`` scaled to the L2 norm
        ``adversarial * sqrt(length)`` (a move of ``adversarial`` per step on
        average, against embeddings of unit expected norm). ``dx`` is 0 on
        padding steps, so is the move."""
        norms = np.sqrt(np.einsum("tbd,tbd->b", dx, dx))
        scale = self.adversarial * np.sqrt(batch.lengths) / np.maximum(norms, 1e-12)
        return dx * scale.astype(dx.dtype)[None, :, None]

    def _add_l2(self, params, grads):
        penalty = 0.0
        for name, grad in grads.items():
            W = params[name]
            if isinstance(grad, SparseRows):
                rows = W[grad.rows]
                penalty += float((rows * rows).sum())
                grad.values[...] += self.alpha * rows
            elif W.ndim == 2:
                penalty += float((W * W).sum())
                grad += self.alpha * W
        return 0.5 * self.alpha * penalty

    def _output_logits(self, params, batch):
        """The logits of ``forward`` in float64, whatever the network's dtype:
        a float32 network's probabilities then sum to 1 and its sequences'
        scores add up to float64 rounding, for ``K`` numbers a step."""
        logits, _ = self.forward(params, batch)
        return logits.astype(np.float64, copy=False)

    def predict_log_proba(self, params, batch):
        """Log-probabilities of the classes (under the CRF, of each step's tag
        marginally)."""
        logits = self._output_logits(params, batch)
        if self.output == "crf":
            return self.chain.log_proba(params, logits, batch)
        return log_softmax(logits)

    def decode(self, params, batch):
        """Step head: the predicted class id of every valid step ``(n_valid,)``
        (the best path of each sequence under the chain, if any) and the
        log-probability of each sequence's prediction ``(B,)``."""
        logits = self._output_logits(params, batch)
        if self.chain is not None:
            return self.chain.decode(params, logits, batch)
        log_proba = log_softmax(logits)
        ids = log_proba.argmax(axis=1)
        best = log_proba[np.arange(ids.size), ids]
        return ids, np.add.reduceat(best, np.cumsum(batch.lengths) - batch.lengths)

    def log_likelihood(self, params, batch):
        """Step head: ``(B,)`` log-probability of each sequence's
        ``batch.targets``."""
        logits = self._output_logits(params, batch)
        chain = self.chain or ChainOutput(self.n_outputs, crf=False)
        return chain.log_likelihood(params, logits, batch)


def _add_grads(a, b):
    """Sum of two gradients of one parameter; ``SparseRows`` of the two passes
    of a batch share their rows (the same ids)."""
    if isinstance(a, SparseRows):
        return a._replace(values=a.values + b.values)
    return a + b


def _bag_matrix(batch, dtype):
    """``(B, n_entries)`` 0/1 matrix summing each sequence's bag entries. A sum,
    not fastText's mean: on SST-2 dev the mean left the linear term too weak
    beside the RNN's logits (79.2% against 79.6% for the sum)."""
    counts = np.diff(batch.bag_offsets)
    sequence = np.repeat(np.arange(counts.size), counts)
    n = batch.bag_ids.size
    ones = np.ones(n, dtype=dtype)
    return csr_array((ones, (sequence, np.arange(n))), shape=(counts.size, n))


def _bag_grad(bag, bag_ids, dlogits, table):
    """Rows of the bag table's gradient: its sequence's ``dlogits`` for every
    entry, summed per distinct id by one sparse product."""
    rows, inverse = np.unique(bag_ids, return_inverse=True)
    entries = bag.tocoo()
    summing = csr_array(
        (entries.data, (inverse[entries.col], entries.row)),
        shape=(rows.size, dlogits.shape[0]),
    )
    values = summing @ dlogits
    return SparseRows(rows, values.astype(table.dtype, copy=False), table.shape)
