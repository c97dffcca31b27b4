"""The language model's network: embedding → recurrent stack → word softmax.

It reuses the engine's parts (``embed``/``embedding_grads``, ``RecurrentStack``) and
differs from ``SequenceNetwork`` in two places (DESIGN.md, "The language model's
flow"): a window of a stream starts from the state the previous window ended in
(passed in and returned, never differentiated through), and the head is a full or
class-factorised softmax over the vocabulary (``word_softmax.py``).

A window is time-major: ``ids`` and ``targets`` are ``(T, B)``, ``lengths`` ``(B,)``
(steps past a column's length are padding and never counted).
"""

import numpy as np

from .dropout import Dropout
from .embedding import embed, embedding_grads, init_table
from .heads import valid_steps, valid_steps_backward
from .recurrent import RecurrentStack
from .word_softmax import (
    class_softmax_log_prob,
    class_softmax_log_proba,
    class_softmax_loss,
    full_softmax_log_proba,
    full_softmax_loss,
)

SOFTMAXES = ("full", "class")


class LanguageNetwork:
    """Next-word network ``P(x_{t+1} | x_t, h_{t-1})``.

    Parameters
    ----------
    vocab_size : int
    embedding_dim, hidden_size, num_layers, cell :
        Shape of the embedding and of the (unidirectional) recurrent stack.
    softmax : {"full", "class"}
    class_bounds : ndarray of shape (n_classes + 1,) or None
        Class starts for ``softmax="class"`` (see ``word_softmax.frequency_classes``).
    tie_weights : bool
        Use the embedding table as the output matrix (Press & Wolf, 2017; Inan et
        al., 2017); needs ``embedding_dim == hidden_size`` (no projection).
    dropout : float
        Inverted dropout on the embeddings, between layers and on the last layer's
        output (Zaremba et al., 2014: non-recurrent connections only).
    dtype : numpy dtype
    """

    def __init__(
        self,
        vocab_size,
        *,
        embedding_dim=200,
        hidden_size=200,
        num_layers=2,
        cell="lstm",
        softmax="class",
        class_bounds=None,
        tie_weights=False,
        dropout=0.0,
        dtype=np.float32,
    ):
        if softmax not in SOFTMAXES:
            raise ValueError(f"softmax must be one of {SOFTMAXES}, got {softmax!r}.")
        if softmax == "class" and class_bounds is None:
            raise ValueError("softmax='class' needs class_bounds.")
        if tie_weights and embedding_dim != hidden_size:
            raise ValueError(
                "tie_weights=True uses the embedding table as the output matrix and "
                f"needs embedding_dim == hidden_size; got {embedding_dim} and "
                f"{hidden_size}."
            )
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.softmax = softmax
        self.class_bounds = None if class_bounds is None else np.asarray(class_bounds)
        self.tie_weights = tie_weights
        self.dropout = dropout
        self.dtype = np.dtype(dtype)
        self.rnn = RecurrentStack(cell, embedding_dim, hidden_size, num_layers)

    @property
    def n_classes(self):
        return self.class_bounds.size - 1

    def init_params(self, rng):
        H, V = self.rnn.hidden_size, self.vocab_size
        params = {"embed.0": init_table(rng, V, self.embedding_dim, self.dtype)}
        params.update(self.rnn.init_params(rng, self.dtype))
        if not self.tie_weights:
            limit = np.sqrt(6.0 / (H + V))
            params["out.W"] = rng.uniform(-limit, limit, (V, H)).astype(self.dtype)
        params["out.b"] = np.zeros(V, dtype=self.dtype)
        if self.softmax == "class":
            C = self.n_classes
            limit = np.sqrt(6.0 / (H + C))
            params["class.W"] = rng.uniform(-limit, limit, (C, H)).astype(self.dtype)
            params["class.b"] = np.zeros(C, dtype=self.dtype)
        return params

    def _output_matrix(self, params):
        return params["embed.0" if self.tie_weights else "out.W"]

    def _hidden(self, params, ids, lengths, state, rng):
        """Hidden states of the valid steps, column after column ``(n, H)``."""
        dropout = None
        if rng is not None and self.dropout > 0:
            dropout = Dropout(self.dropout, rng)
        x = embed([params["embed.0"]], ids[..., None])
        x, input_mask = dropout(x) if dropout else (x, None)
        out, final_state, rnn_cache = self.rnn.forward(
            params, x, lengths, initial_state=state, dropout=dropout
        )
        out, output_mask = dropout(out) if dropout else (out, None)
        mask_bt = (np.arange(ids.shape[0])[:, None] < lengths[None, :]).T
        cache = {
            "ids": ids,
            "mask_bt": mask_bt,
            "out_shape": out.shape,
            "rnn": rnn_cache,
            "input_mask": input_mask,
            "output_mask": output_mask,
        }
        return valid_steps(out, mask_bt), _detach(final_state), cache

    def loss_and_grad(self, params, ids, targets, lengths, *, state=None, rng=None):
        """Mean NLL of the window's valid targets and the gradient of every
        parameter (``SparseRows`` for an untied embedding table).

        Returns ``(loss, grads, final_state)``; ``final_state`` starts the next
        window (the gradient does not flow into it: truncated BPTT).
        """
        h, final_state, cache = self._hidden(params, ids, lengths, state, rng)
        y = targets.T[cache["mask_bt"]]
        W, b = self._output_matrix(params), params["out.b"]
        if self.softmax == "full":
            loss, dh, dW, db = full_softmax_loss(h, W, b, y)
            grads = {"out.b": db}
        else:
            loss, dh, head = class_softmax_loss(
                h, W, b, params["class.W"], params["class.b"], y, self.class_bounds
            )
            dW = head["W"]
            grads = {"out.b": head["b"], "class.W": head["Wc"], "class.b": head["bc"]}
        dout = valid_steps_backward(dh, cache["mask_bt"], cache["out_shape"])
        if cache["output_mask"] is not None:
            dout *= cache["output_mask"]
        dx, rnn_grads, _ = self.rnn.backward(params, dout, cache["rnn"])
        grads.update(rnn_grads)
        if cache["input_mask"] is not None:
            dx *= cache["input_mask"]
        (dE,) = embedding_grads(
            dx, ids[..., None], cache["mask_bt"].T, [params["embed.0"]]
        )
        if self.tie_weights:
            # one table, two uses: the output's dense gradient plus the input rows
            dW[dE.rows] += dE.values
            grads["embed.0"] = dW
        else:
            grads["out.W"] = dW
            grads["embed.0"] = dE
        return loss, grads, final_state

    def hidden(self, params, ids, lengths, *, state=None):
        """Last layer's states at the valid steps, column after column ``(n, H)``,
        and the final state (deterministic: no dropout)."""
        h, final_state, _ = self._hidden(params, ids, lengths, state, None)
        return h, final_state

    def log_prob(self, params, ids, targets, lengths, *, state=None):
        """Log-probability of every valid target, column after column ``(n,)``,
        and the final state."""
        h, final_state = self.hidden(params, ids, lengths, state=state)
        mask_bt = (np.arange(ids.shape[0])[:, None] < lengths[None, :]).T
        return self.log_prob_from_hidden(params, h, targets.T[mask_bt]), final_state

    def log_proba(self, params, ids, lengths, *, state=None):
        """``(n, V)`` next-word log-probabilities at every valid step, column after
        column, and the final state."""
        h, final_state = self.hidden(params, ids, lengths, state=state)
        return self.log_proba_from_hidden(params, h), final_state

    def log_prob_from_hidden(self, params, h, targets):
        """``(n,)`` log-probability of ``targets`` given the states ``h``."""
        W, b = self._output_matrix(params), params["out.b"]
        if self.softmax == "full":
            return full_softmax_log_proba(h, W, b)[np.arange(targets.size), targets]
        return class_softmax_log_prob(
            h, W, b, params["class.W"], params["class.b"], targets, self.class_bounds
        )

    def log_proba_from_hidden(self, params, h):
        """``(n, V)`` log-probabilities of every word given the states ``h``."""
        W, b = self._output_matrix(params), params["out.b"]
        if self.softmax == "full":
            return full_softmax_log_proba(h, W, b)
        return class_softmax_log_proba(
            h, W, b, params["class.W"], params["class.b"], self.class_bounds
        )


def _detach(state):
    """The state that starts the next window, as plain copies."""
    return {
        key: (h.copy(), None if c is None else c.copy())
        for key, (h, c) in state.items()
    }


__all__ = ["SOFTMAXES", "LanguageNetwork"]
