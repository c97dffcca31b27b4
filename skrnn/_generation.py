"""Sampling text from a fitted ``RNNLanguageModel``: ``generate``."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import _engine_threads


class GenerationMixin:
    """``generate`` for ``RNNLanguageModel``: batched sampling, with a prefix,
    a temperature and a top-k cut. Uses the model's ``_eval_network``, ``_ids``,
    ``eos_id_`` and ``tokens_``."""

    def generate(
        self,
        n_sequences=1,
        max_length=50,
        prefix=None,
        temperature=1.0,
        top_k=None,
        random_state=None,
    ):
        """Sample sequences from the model, all in one batch.

        Each sequence starts after the end token (a sentence start) and the
        ``prefix``, and stops at the end token or after ``max_length`` tokens.

        Parameters
        ----------
        n_sequences : int, default=1
        max_length : int, default=50
            Maximum number of sampled tokens (the prefix not counted).
        prefix : sequence of str or None, default=None
            Tokens every sequence starts with. Unknown tokens are read as
            ``<unk>`` (the policy of every method: they never fail); a str is an
            error (it would be split into characters).
        temperature : float, default=1.0
            Sample from ``softmax(log p / temperature)``: below 1 sharper, above
            1 flatter. Must be positive and finite.
        top_k : int or None, default=None
            Sample among the ``top_k`` most probable tokens only.
        random_state : int, RandomState instance or None, default=None
            Makes the samples reproducible.

        Returns
        -------
        sequences : list of list
            The prefix and the sampled tokens, without the end token.
        """
        check_is_fitted(self, "params_")
        prefix_ids = self._check_generate_args(
            n_sequences, max_length, prefix, temperature, top_k
        )
        seed = check_random_state(random_state).randint(2**31 - 1)
        ids = self._sample(
            np.random.default_rng(seed),
            int(n_sequences),
            int(max_length),
            prefix_ids,
            float(temperature),
            top_k,
        )
        prefix_tokens = list(prefix) if prefix is not None else []
        out = []
        for row in ids:
            end = np.flatnonzero(row == self.eos_id_)
            row = row[: end[0]] if end.size else row
            out.append(prefix_tokens + self.tokens_[row].tolist())
        return out

    def _check_generate_args(self, n_sequences, max_length, prefix, temperature, top_k):
        for name, value in (("n_sequences", n_sequences), ("max_length", max_length)):
            if not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        if (
            not isinstance(temperature, Real)
            or not np.isfinite(temperature)
            or temperature <= 0
        ):
            raise ValueError(
                f"temperature must be a positive finite number; got {temperature!r}."
            )
        if top_k is not None and (not isinstance(top_k, Integral) or top_k < 1):
            raise ValueError(
                f"top_k must be None or a positive integer; got {top_k!r}."
            )
        if prefix is None:
            return np.array([], dtype=np.int64)
        if isinstance(prefix, (str, bytes)):
            raise ValueError(
                "prefix is a str; pass a sequence of tokens, e.g. text.split()."
            )
        tokens = np.empty(len(prefix), dtype=object)
        tokens[:] = list(prefix)
        return self._ids(tokens)

    @_engine_threads
    def _sample(self, rng, n, max_length, prefix_ids, temperature, top_k):
        network, params = self._eval_network()
        start = np.concatenate([[self.eos_id_], prefix_ids])
        ids = np.repeat(start[:, None], n, axis=1)
        lengths = np.full(n, start.size)
        state, out = None, np.empty((n, max_length), dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        for t in range(max_length):
            h, state = network.hidden(params, ids, lengths, state=state)
            last = h.reshape(n, -1, h.shape[1])[:, -1]
            log_p = network.log_proba_from_hidden(params, last) / temperature
            if top_k is not None and top_k < log_p.shape[1]:
                cut = np.partition(log_p, -top_k, axis=1)[:, -top_k][:, None]
                log_p = np.where(log_p >= cut, log_p, -np.inf)
            p = np.exp(log_p - log_p.max(axis=1, keepdims=True))
            cumulative = np.cumsum(p, axis=1)
            u = rng.random(n) * cumulative[:, -1]
            token = np.minimum((cumulative < u[:, None]).sum(axis=1), p.shape[1] - 1)
            out[:, t] = np.where(done, self.eos_id_, token)
            done |= token == self.eos_id_
            if done.all():
                return out[:, : t + 1]
            ids, lengths = out[:, t][None, :], np.ones(n, dtype=np.int64)
        return out

