"""RNNLanguageModel: the next-word model P(x_{i+1} | x_i, h_{i-1}).

A thin scikit-learn shell over the engine's ``LanguageNetwork``: the corpus is
encoded as one flat stream of token ids (every sentence closed by the end token),
trained by truncated backpropagation through time over ``batch_size`` contiguous
columns (DESIGN.md, "The language model's flow"), and evaluated exactly: every
predicted token counted once, padding never.
"""

from collections import Counter
from itertools import repeat
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import (
    PREDICT_BATCH_SIZE,
    PREDICT_DTYPE,
    BaseRNN,
    EncodedSequences,
    _engine_threads,
    _RateSchedule,
)
from ._engine import (
    OPTIMIZERS,
    SOFTMAXES,
    LanguageNetwork,
    bptt_windows,
    clip_grad_norm,
    length_batches,
    stream_positions,
)
from ._engine.batching import padded_positions
from ._engine.word_softmax import frequency_classes
from ._generation import GenerationMixin
from ._persistence import SaveMixin
from ._pretrained import PretrainedInputMixin
from ._validation import validate_sequences

__all__ = ["RNNLanguageModel"]

EOS = "<eos>"
UNK = "<unk>"

# Evaluation reads a text as columns of at least this many tokens (at most
# _EVAL_MAX_STREAMS of them), each from a zero state: the PTB test set (82,430
# tokens) becomes 10 columns, as in PyTorch's word_language_model example. The
# cut points depend only on the text's length, so a score is reproducible.
_EVAL_COLUMN = 8192
_EVAL_MAX_STREAMS = 32
# Steps per evaluation window: the result does not depend on it (the state is
# carried exactly); longer windows mean fewer Python-level calls.
_EVAL_WINDOW = 128


class RNNLanguageModel(SaveMixin, PretrainedInputMixin, GenerationMixin, BaseRNN):
    """Recurrent neural network language model.

    Predicts the next token from the current one and the recurrent state,
    ``P(x_{i+1} | x_i, h_{i-1})``. By default a two-layer LSTM of 200 units
    (the size of Zaremba et al.'s small model) with Mikolov's class-factorised
    softmax, trained by truncated BPTT on the corpus cut into
    ``batch_size`` contiguous streams with Adam, the state carried across windows
    and sentences. On Penn Treebank one epoch of the defaults reaches the test
    perplexity reported in docs/benchmarks.md.

    Parameters
    ----------
    hidden_size : int, default=200
        Units of each recurrent layer.
    embedding_dim : int, default=200
        Size of the word embeddings.
    cell : {"lstm", "gru", "rnn"}, default="lstm"
        The recurrent cell.
    num_layers : int, default=2
        Number of stacked recurrent layers.
    dropout : float, default=0.0
        Dropout on the embeddings, between layers and on the last layer's output
        (not on the recurrent connections; Zaremba et al., 2014).
    softmax : {"class", "full"}, default="class"
        ``"full"``: one softmax over the vocabulary, ``3 H V`` multiply-adds and
        ``V`` exponentials per predicted token. ``"class"``: Mikolov's
        factorisation ``P(w) = P(c(w)) P(w | c(w))`` over ``n_classes``
        frequency-binned classes, ``H (C + |c(w)|)`` multiply-adds per token
        (about ``2 H sqrt(V)``). Both give exact probabilities that sum to one;
        the class softmax is much faster on a large vocabulary and usually
        slightly worse in perplexity (see docs/benchmarks.md).
    n_classes : int or None, default=None
        Classes of ``softmax="class"``; None means ``round(sqrt(V))``. Frequent
        words get a class of their own, so fewer may be used (``n_classes_``).
    tie_weights : bool, default=False
        Use the embedding table as the output matrix (Press & Wolf, 2017). Needs
        ``embedding_dim == hidden_size``; there is no projection.
    bptt_steps : int, default=35
        Steps of truncated backpropagation through time: the training streams are
        read in windows of this many steps, the state carried from one window to
        the next and detached from the gradient.
    carry_state : bool, default=True
        Carry the recurrent state across sentences, as Mikolov's RNNLM and the
        Zaremba setup do: the text is one stream and a sentence is read in the
        context of the previous ones (in training and evaluation). False resets
        the state at the start of each sequence (rnnlm's ``-independent``):
        sentences are trained in batches of similar length, and a sentence's
        score does not depend on its neighbours. See docs/benchmarks.md for what
        it costs on PTB.
    solver : {"adam", "sgd"}, default="adam"
        The optimizer. Adam was chosen because it learns more in one epoch of
        PTB: plain SGD at rate 20 with ``clip_norm=0.25`` (PyTorch's
        word_language_model settings, Zaremba et al.'s rate 1 on a per-window
        sum) stayed at the unigram perplexity (~650) after one epoch here, as
        the same torch model did after 20% of it; Adam reached 181.
    learning_rate : float, default=0.002
        Step size. The loss is the mean over the tokens of a window, so an SGD
        rate is about ``bptt_steps`` times a rate for a per-window sum (use
        about 20 for Zaremba et al.'s 1).
    learning_rate_decay : float in (0, 1], default=0.5
        After epoch ``decay_after`` the rate is multiplied by this every epoch
        (the epoch schedule; ``n_iter_`` counts the epochs, those of earlier
        ``warm_start`` fits included). A short fit (``short_fit_steps``) has a
        schedule in steps instead.
    decay_after : int, default=4
        Epochs at the full learning rate (the epoch schedule).
    short_fit_steps : int or None, default=1000
        A fit planned for fewer optimizer steps than this is short. The plan is
        ``max_iter`` times the BPTT windows of an epoch: about ``n_tokens /
        (batch_size * bptt_steps)`` (with ``carry_state=False`` or a 2-D id
        array, ``ceil(longest / bptt_steps)`` for each batch of sentences). A
        short fit takes its ``k``-th of ``planned`` steps (``k`` from 0) at
        ``2 * r * (1 - k / planned)``, a straight line from ``2 * r`` to nearly
        0, with ``r = learning_rate * min(4, short_fit_steps / planned)``;
        ``learning_rate_decay`` and ``decay_after`` are not used. A small corpus
        has a handful of windows an epoch (200 sentences of 15 tokens: 5), and
        the epoch schedule would halve the rate every few steps and stop the
        fit untrained; an Adam step moves each weight by about the rate, so the
        short fit travels about as far as ``short_fit_steps`` steps at
        ``learning_rate``, and it ends on small steps. A fit planned for at
        least ``short_fit_steps`` steps follows the epoch schedule bit for bit,
        as does every fit on Penn Treebank at the defaults (1,328 windows an
        epoch), the one-epoch ``warm_start`` fits of
        ``benchmarks/bench_language_model.py`` included. Each fit is planned on
        its own (with ``warm_start``: its ``max_iter`` more epochs). None:
        always the epoch schedule.
    clip_norm : float or None, default=1.0
        Clip the global gradient norm of each window (of the mean loss).
    batch_size : int, default=20
        Number of parallel streams (columns) the training text is cut into; with
        ``carry_state=False`` the number of sentences per batch.
    max_iter : int, default=6
        Maximum number of epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation score (``early_stopping``) or of
        the training loss that counts as progress.
    early_stopping : bool, default=False
        Hold out the last ``validation_fraction`` of the training sequences (a
        contiguous tail, so the carried state reads it as text), stop when their
        mean log-likelihood per token has not improved by ``tol`` for
        ``n_iter_no_change`` epochs and keep the best epoch's parameters.
    validation_fraction : float, default=0.1
        Share of training sequences held out for early stopping.
    n_iter_no_change : int, default=2
        Epochs without progress before training stops.
    min_freq : int, default=1
        Words seen fewer times in training become ``<unk>``.
    max_vocabulary : int or None, default=None
        Keep only the most frequent words (``<unk>`` and ``<eos>`` not counted).
    embeddings : WordVectors, str, path, dict, (tokens, matrix), KeyedVectors, \
RNNLanguageModel or None, default=None
        Pretrained word vectors, read at ``fit`` (the forms of
        :class:`~skrnn.RNNClassifier`'s ``embeddings``): the input embedding
        rows of the words that have a vector start from it (scaled to unit mean
        norm; its first ``min(embedding_dim, width)`` coordinates, zeros past
        them) and are trained as usual. The model keeps no copy of the table
        (a model file saves ``embeddings=None``). Token input only.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, batch order and the validation split.
    verbose : int, default=0
        Print one line per epoch: training and validation perplexity, speed.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.

    Attributes
    ----------
    vocabulary_ : dict
        Token → id (the column of ``predict_proba``), ``"<unk>"`` and ``"<eos>"``
        included. Ids are sorted by decreasing training frequency, so that each
        class of the class softmax is a contiguous range of ids.
    tokens_ : ndarray of object
        Id → token.
    eos_id_, unk_id_ : int
        Ids of the end token and of the unknown word.
    counts_ : ndarray of int
        Training frequency of each id.
    class_bounds_ : ndarray of shape (`n_classes_` + 1,)
        Class ``c`` of the class softmax holds ids ``class_bounds_[c]`` to
        ``class_bounds_[c + 1] - 1``. ``[0, V]`` for the full softmax.
    n_classes_ : int
    embedding_coverage_ : float
        Share of the training tokens that have a pretrained vector (only with
        ``embeddings``).
    n_features_in_ : int
        Width of a 2-D id array seen in fit (only after such a fit).
    loss_curve_, validation_scores_, best_validation_score_, n_iter_, \
history_, params_ :
        As in :class:`skrnn.RNNTagger`; the loss is the mean negative
        log-likelihood per token (its ``exp`` the training perplexity).
        ``history_``'s ``learning_rate`` is the rate of each epoch's last step.

    Notes
    -----
    Input forms:

    - a list of token sequences (lists of str): sentences in order. Each one is
      closed by the end token ``"<eos>"``, which is predicted and counted; the
      first token is predicted from the end token, so the start is not counted.
      A sequence that already ends with ``"<eos>"`` gets no second one, so data
      that carries ``<eos>`` works as it is, and so does one long stream (one
      sequence of a whole text with ``"<eos>"`` inside; with
      ``carry_state=False`` the state is reset only at the start of a
      sequence). ``"<unk>"`` in the data is the unknown word (as in PTB).
    - a 2-D integer array ``(n, T)``: ``n`` sequences of ``T`` token ids (any
      integers; each distinct value is a token, with a vocabulary of its own).
      As scikit-learn reads the rows of a 2-D ``X`` as independent samples, the
      state is reset at every row whatever ``carry_state``; each row is closed
      by the end token, so it has ``T + 1`` predicted tokens. Later calls must
      pass the same ``T`` (``n_features_in_``); pass a list for other lengths.

    Unknown tokens at predict time are ``<unk>`` and never fail.

    Small corpora: a fit is planned in optimizer steps (BPTT windows), not
    epochs (``short_fit_steps``). On ``[["a", "b", "c"] * 5] * 200`` the
    defaults with ``hidden_size=embedding_dim=16, max_iter=20`` reach a
    training perplexity of 1.18 in 100 steps (3.55 with
    ``short_fit_steps=None``: the epoch schedule had halved the rate ten times
    when it stopped at epoch 14). A model that trains that well on a few
    hundred sentences can also overfit them: ``early_stopping=True`` or
    ``dropout`` keep the held-out perplexity down (the user guide's language
    model page has figures). A ``learning_rate`` tuned for the epoch schedule
    on a small corpus is raised too; ``short_fit_steps=None`` keeps it as it is.

    Examples
    --------
    >>> from skrnn import RNNLanguageModel
    >>> X = [["a", "b", "c", "a", "b", "c"]] * 30
    >>> lm = RNNLanguageModel(hidden_size=16, embedding_dim=16, max_iter=30,
    ...                       batch_size=4, bptt_steps=10, random_state=0)
    >>> lm = lm.fit(X)
    >>> lm.predict([["a", "b"]]).tolist()
    ['c']
    >>> lm.perplexity(X) < 1.1
    True
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in BaseRNN._parameter_constraints.items()
            if k not in ("bidirectional", "momentum", "nesterovs_momentum", "alpha")
        },
        "softmax": [StrOptions(set(SOFTMAXES))],
        "n_classes": [Interval(Integral, 1, None, closed="left"), None],
        "tie_weights": ["boolean"],
        "bptt_steps": [Interval(Integral, 1, None, closed="left")],
        "carry_state": ["boolean"],
        "learning_rate_decay": [Interval(Real, 0, 1, closed="right")],
        "decay_after": [Interval(Integral, 0, None, closed="left")],
        "short_fit_steps": [Interval(Integral, 1, None, closed="left"), None],
        "min_freq": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary": [Interval(Integral, 1, None, closed="left"), None],
        "embeddings": "no_validation",
    }

    def __init__(
        self,
        *,
        hidden_size=200,
        embedding_dim=200,
        cell="lstm",
        num_layers=2,
        dropout=0.0,
        softmax="class",
        n_classes=None,
        tie_weights=False,
        bptt_steps=35,
        carry_state=True,
        solver="adam",
        learning_rate=0.002,
        learning_rate_decay=0.5,
        decay_after=4,
        short_fit_steps=1000,
        clip_norm=1.0,
        batch_size=20,
        max_iter=6,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=2,
        min_freq=1,
        max_vocabulary=None,
        embeddings=None,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_size = hidden_size
        self.embedding_dim = embedding_dim
        self.cell = cell
        self.num_layers = num_layers
        self.dropout = dropout
        self.softmax = softmax
        self.n_classes = n_classes
        self.tie_weights = tie_weights
        self.bptt_steps = bptt_steps
        self.carry_state = carry_state
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.decay_after = decay_after
        self.short_fit_steps = short_fit_steps
        self.clip_norm = clip_norm
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.min_freq = min_freq
        self.max_vocabulary = max_vocabulary
        self.embeddings = embeddings
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # a 2-D X holds token ids: integers, used as categories
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        return tags

    # --- encoding -------------------------------------------------------------------

    def _validate_X(self, X, reset):
        sequences = validate_sequences(self, X, layout="series", reset=reset)
        if sequences.kind == "tokens":
            kinds = set(map(type, sequences.values))
            bad = [k for k in kinds if not issubclass(k, str)]
            if bad:
                position = next(
                    i for i, t in enumerate(sequences.values) if not isinstance(t, str)
                )
                sentence = int(
                    np.searchsorted(sequences.offsets, position, side="right") - 1
                )
                raise TypeError(
                    f"X[{sentence}] holds a token of type {bad[0].__name__} "
                    f"({sequences.values[position]!r}); a token sequence must hold "
                    "str tokens. Pass token ids as a 2-D integer array (n, T)."
                )
            return sequences, sequences.values
        if sequences.form != "flat" or sequences.values.shape[1] != 1:
            raise ValueError(
                "RNNLanguageModel expects a list of token sequences or a 2-D array "
                "(n_sequences, T) of integer token ids; got a 3-D array or a list "
                "of numeric arrays."
            )
        values = sequences.values[:, 0]
        if not np.array_equal(values, np.round(values)):
            raise ValueError(
                "A numeric X must hold integer token ids; got non-integer values."
            )
        return sequences, values.astype(np.int64)

    def _fit_vocabulary(self, tokens):
        counts = Counter(tokens.tolist())
        n_unk = counts.pop(UNK, 0)
        n_eos = counts.pop(EOS, 0)
        ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable
        kept = [(t, c) for t, c in ranked if c >= self.min_freq]
        if self.max_vocabulary is not None:
            kept = kept[: self.max_vocabulary]
        n_unk += sum(counts.values()) - sum(c for _, c in kept)
        entries = kept + [(EOS, n_eos), (UNK, n_unk)]
        return entries

    def _set_vocabulary(self, entries, n_appended_eos):
        entries = [(t, c + n_appended_eos) if t == EOS else (t, c) for t, c in entries]
        entries.sort(key=lambda item: -item[1])  # ids by decreasing frequency
        self.tokens_ = np.empty(len(entries), dtype=object)
        self.tokens_[:] = [t for t, _ in entries]
        self.counts_ = np.array([c for _, c in entries], dtype=np.int64)
        self.vocabulary_ = {t: i for i, t in enumerate(self.tokens_.tolist())}
        self.eos_id_ = self.vocabulary_[EOS]
        self.unk_id_ = self.vocabulary_[UNK]
        V = len(entries)
        if self.softmax == "class":
            n_classes = self.n_classes or max(1, round(np.sqrt(V)))
            self.class_bounds_ = frequency_classes(self.counts_, n_classes)
        else:
            self.class_bounds_ = np.array([0, V])
        self.n_classes_ = self.class_bounds_.size - 1

    def _ids(self, tokens):
        return np.fromiter(
            map(self.vocabulary_.get, tokens.tolist(), repeat(self.unk_id_)),
            dtype=np.int64,
            count=tokens.size,
        )

    def _encode(self, sequences, tokens):
        """Targets (every token, each sequence closed by the end token), inputs
        (the previous target; the end token before the first) and lengths."""
        ids = self._ids(tokens)
        lengths = sequences.lengths
        ends = sequences.offsets[1:]
        closed = (lengths > 0) & (ids[np.maximum(ends - 1, 0)] == self.eos_id_)
        targets = np.insert(ids, ends[~closed], self.eos_id_)
        inputs = np.concatenate([[self.eos_id_], targets[:-1]])
        return EncodedSequences(
            lengths=lengths + ~closed, ids=inputs[:, None], targets=targets
        )

    def _encode_fit(self, X, y, reset):
        sequences, tokens = self._validate_X(X, reset)
        if reset:
            entries = self._fit_vocabulary(tokens)
            # the end tokens that encoding appends count as training tokens too
            n_closed = 0
            if tokens.dtype == object and tokens.size:
                last = tokens[np.maximum(sequences.offsets[1:] - 1, 0)]
                closed = (sequences.lengths > 0) & (last == EOS)
                n_closed = int(np.sum(closed))
            self._set_vocabulary(entries, sequences.n_sequences - n_closed)
            self._fit_word_vectors(sequences)
        return self._encode(sequences, tokens)

    def _word_tables(self):
        words = self.tokens_.tolist()
        words[self.unk_id_] = words[self.eos_id_] = None
        return [("embed.0", words)]

    def _initial_params(self):
        params = super()._initial_params()
        # The rows took from the vectors what they use; the output space is the
        # vocabulary, so a word outside it has no use for its vector later.
        self.__dict__.pop("word_vectors_", None)
        return params

    def _model_file_params(self, params):
        # What the vectors gave is in the fitted rows: the file holds no copy.
        return {**params, "embeddings": None}

    # --- the network ----------------------------------------------------------------

    def _network(self, dtype=np.float32):
        return LanguageNetwork(
            len(self.tokens_),
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            softmax=self.softmax,
            class_bounds=self.class_bounds_,
            tie_weights=self.tie_weights,
            dropout=self.dropout,
            dtype=dtype,
        )

    def _make_optimizer(self):
        return OPTIMIZERS[self.solver](self.learning_rate)

    def _independent(self):
        """Whether the state is reset at each sequence: ``carry_state=False``, or
        rows of a 2-D id array (independent samples)."""
        return not self.carry_state or self._input_kind == "numeric"

    def _layout(self, encoded, n_columns, rng=None):
        """``(positions (T, B), lengths (B,))`` grids, each read from a zero
        state: the text as ``n_columns`` contiguous streams, or batches of
        sequences of similar length when the state is reset per sequence."""
        if self._independent():
            offsets = encoded.offsets
            for index in length_batches(encoded.lengths, n_columns, rng):
                yield padded_positions(offsets, encoded.lengths, index)
        else:
            yield stream_positions(encoded.n_steps, n_columns)

    # --- training -------------------------------------------------------------------

    def _windows_per_epoch(self, encoded, batch_size):
        """Optimizer steps (BPTT windows) in an epoch of ``_layout``."""
        if self._independent():
            # batches of batch_size sequences sorted by length, each as long as
            # its longest sequence
            lengths = np.sort(encoded.lengths)
            cuts = np.arange(0, lengths.size, batch_size)
            longest = np.maximum.reduceat(lengths, cuts)
            return int(np.sum(-(-longest // self.bptt_steps)))
        n_steps = encoded.n_steps
        column = -(-n_steps // max(1, min(batch_size, n_steps)))  # the longest
        return -(-column // self.bptt_steps)

    def _train(self, encoded, validation, max_iter, planned=True):
        # The plan counts BPTT windows, not the sequence batches that
        # BaseRNN._train counts (its rate and schedule are not used here).
        planned_steps = (
            max_iter * self._windows_per_epoch(encoded, self.batch_size)
            if planned
            else None
        )
        short = (
            self.short_fit_steps is not None
            and planned_steps is not None
            and planned_steps < self.short_fit_steps
        )
        # the rate of each step of a short fit; None: the epoch schedule
        self._short_schedule = (
            _RateSchedule(self._learning_rate(planned_steps), planned_steps, "linear")
            if short
            else None
        )
        try:
            super()._train(encoded, validation, max_iter, planned)
        finally:
            del self._short_schedule

    def _run_epoch(self, network, encoded, weights, batch_size):
        if self._short_schedule is None:  # the epoch schedule
            epochs_decayed = max(0, self.n_iter_ + 1 - self.decay_after)
            self._optimizer.learning_rate = (
                self.learning_rate * self.learning_rate_decay**epochs_decayed
            )
        inputs, targets = encoded.ids[:, 0], encoded.targets
        total, n_steps = 0.0, 0
        for positions, lengths in self._layout(encoded, batch_size, self._rng):
            state = None
            for window, window_lengths in bptt_windows(
                positions, lengths, self.bptt_steps
            ):
                if self._short_schedule is not None:
                    self._optimizer.learning_rate = self._short_schedule.next_rate()
                loss, grads, state = network.loss_and_grad(
                    self.params_,
                    inputs[window],
                    targets[window],
                    window_lengths,
                    state=state,
                    rng=self._rng,
                )
                if not np.isfinite(loss):
                    self._raise_diverged(loss)
                clip_grad_norm(grads, self.clip_norm)
                self._optimizer.update(self.params_, grads)
                self.t_ += 1
                steps = int(window_lengths.sum())
                total += loss * steps
                n_steps += steps
        return total / n_steps

    def _raise_diverged(self, loss):
        rate = f"it is {self.learning_rate}"
        step_rate = self._optimizer.learning_rate
        if self._short_schedule is not None:
            rate += f"; this short fit stepped at {step_rate:.3g}"
        elif step_rate != self.learning_rate:
            rate += f"; this epoch stepped at {step_rate:.3g}"
        raise ValueError(
            f"The training loss became {loss} at epoch {self.n_iter_ + 1}: the fit "
            f"diverged. Use a smaller learning_rate ({rate}) or a smaller clip_norm "
            f"(it is {self.clip_norm})."
        )

    def _validation_split(self, encoded):
        # the held-out set is the tail of the text, read in order
        n = encoded.n_sequences
        n_valid = int(np.ceil(self.validation_fraction * n))
        if n * self.validation_fraction < 1 or n_valid >= n:
            return encoded, None
        index = np.arange(n)
        return encoded.subset(index[:-n_valid]), encoded.subset(index[-n_valid:])

    def _validation_score(self, encoded, params):
        return float(self._log_prob_encoded(encoded, params).mean())

    def _print_progress(self, row, max_iter):
        score = row["validation_score"]
        valid = "" if score is None else f"  validation perplexity {np.exp(-score):.2f}"
        print(
            f"epoch {row['epoch']:3d}/{max_iter}  train perplexity "
            f"{np.exp(row['loss']):.2f}{valid}  {row['steps_per_s']:,.0f} tokens/s"
            f"  elapsed {row['elapsed']:.1f}s",
            flush=True,
        )

    def fit(self, X, y=None):
        """Fit the language model to a corpus.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)
            Sentences in order (or one long stream), or integer token ids (see
            Notes of the class).
        y : None
            Ignored.

        Returns
        -------
        self : RNNLanguageModel
        """
        self._validate_params()
        if self.tie_weights and self.embedding_dim != self.hidden_size:
            raise ValueError(
                "tie_weights=True uses the embedding table as the output matrix and "
                f"needs embedding_dim == hidden_size; got {self.embedding_dim} and "
                f"{self.hidden_size}."
            )
        return self._fit(X, None, incremental=False)

    # --- evaluation -----------------------------------------------------------------

    def _predict_setup(self, X):
        check_is_fitted(self, "params_")
        sequences, tokens = self._validate_X(X, reset=False)
        return self._encode(sequences, tokens), sequences

    def _eval_network(self, params=None):
        params = self.params_ if params is None else params
        params = {k: v.astype(PREDICT_DTYPE) for k, v in params.items()}
        return self._network(PREDICT_DTYPE), params

    def _eval_windows(self, encoded, network, params):
        """Every window of the evaluation layout: yields the last layer's states
        ``h`` of its valid steps and their positions in the flat text."""
        if self._independent():
            n_columns = PREDICT_BATCH_SIZE
        else:
            n_columns = min(_EVAL_MAX_STREAMS, max(1, encoded.n_steps // _EVAL_COLUMN))
        inputs = encoded.ids[:, 0]
        for positions, lengths in self._layout(encoded, n_columns):
            state = None
            for window, window_lengths in bptt_windows(
                positions, lengths, _EVAL_WINDOW
            ):
                h, state = network.hidden(
                    params, inputs[window], window_lengths, state=state
                )
                valid = np.arange(window.shape[0])[:, None] < window_lengths[None, :]
                yield h, window.T[valid.T]

    @_engine_threads
    def _log_prob_encoded(self, encoded, params=None):
        """Log-probability of every predicted token, in text order."""
        network, params = self._eval_network(params)
        out = np.empty(encoded.n_steps, dtype=PREDICT_DTYPE)
        for h, where in self._eval_windows(encoded, network, params):
            out[where] = network.log_prob_from_hidden(params, h, encoded.targets[where])
        return out

    def score_samples(self, X):
        """Log-probability of each sequence, its end token included.

        With ``carry_state=True`` a sentence of a token list is scored in the
        context of the sentences before it.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)

        Returns
        -------
        log_prob : ndarray of shape (n_sequences,)
        """
        encoded, _ = self._predict_setup(X)
        log_p = self._log_prob_encoded(encoded)
        return np.add.reduceat(log_p, encoded.offsets[:-1])

    def score(self, X, y=None):
        """Mean log-likelihood per predicted token (higher is better).

        Every token and every end token counts once; padding never does.
        ``perplexity(X) == exp(-score(X))``.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        encoded, _ = self._predict_setup(X)
        return float(self._log_prob_encoded(encoded).mean())

    def perplexity(self, X):
        """``exp(total negative log-likelihood / number of predicted tokens)``.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)

        Returns
        -------
        perplexity : float
        """
        return float(np.exp(-self.score(X)))

    def n_predicted_tokens(self, X):
        """Number of tokens that ``score`` and ``perplexity`` count: every token
        plus one end token per sequence that does not already end with one.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)

        Returns
        -------
        n : int
        """
        check_is_fitted(self, "params_")
        return self._encode(*self._validate_X(X, reset=False)).n_steps

    @_engine_threads
    def _log_proba_encoded(self, encoded, rows=None):
        """``(n_rows, V)`` next-token log-probabilities at the flat positions
        ``rows`` (all positions when None)."""
        network, params = self._eval_network()
        n = encoded.n_steps
        row_of = np.arange(n) if rows is None else np.full(n, -1)
        if rows is not None:
            row_of[rows] = np.arange(rows.size)
        out = np.empty((n if rows is None else rows.size, len(self.tokens_)))
        for h, where in self._eval_windows(encoded, network, params):
            wanted = row_of[where] >= 0
            if wanted.any():
                out[row_of[where[wanted]]] = network.log_proba_from_hidden(
                    params, h[wanted]
                )
        return out

    def predict_log_proba(self, X):
        """Next-token log-probabilities at every position.

        Row ``j`` of a sequence of ``T`` tokens is the distribution of token
        ``j`` given the tokens before it (row 0: given only the start, or the
        previous sentences with ``carry_state=True``); row ``T`` is the
        distribution after the last token, against which the end token is
        scored. Columns follow ``vocabulary_``. This needs ``8 V`` bytes per
        position (80 kB for a 10k vocabulary: 6.6 GB for the PTB test set);
        :meth:`predict_top_k` keeps only the ``k`` best per position.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)

        Returns
        -------
        log_proba : list of ndarray of shape (T_i + 1, V), or ndarray of shape \
(n_sequences, T + 1, V)
            A list for list input, one 3-D array for a 2-D ``X``.
        """
        encoded, sequences = self._predict_setup(X)
        log_proba = self._log_proba_encoded(encoded)
        if sequences.form == "flat":
            return log_proba.reshape(encoded.n_sequences, -1, log_proba.shape[1])
        return np.split(log_proba, encoded.offsets[1:-1])

    def predict_proba(self, X):
        """Next-token probabilities at every position; see
        :meth:`predict_log_proba` for the layout and the memory it needs.

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)

        Returns
        -------
        proba : list of ndarray of shape (T_i + 1, V), or ndarray of shape \
(n_sequences, T + 1, V)
        """
        log_proba = self.predict_log_proba(X)
        if isinstance(log_proba, list):
            return [np.exp(p) for p in log_proba]
        return np.exp(log_proba)

    def predict_top_k(self, X, k=5):
        """The ``k`` most probable next tokens at every position, streamed window
        by window (``k`` entries per position instead of ``V``).

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)
        k : int, default=5

        Returns
        -------
        tokens : list of ndarray of shape (T_i + 1, k)
            Most probable first; rows as in :meth:`predict_log_proba`.
        log_proba : list of ndarray of shape (T_i + 1, k)
        """
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive integer; got {k!r}.")
        encoded, _ = self._predict_setup(X)
        k = min(int(k), len(self.tokens_))
        ids, log_p = self._top_k_encoded(encoded, k)
        cuts = encoded.offsets[1:-1]
        return np.split(self.tokens_[ids], cuts), np.split(log_p, cuts)

    @_engine_threads
    def _top_k_encoded(self, encoded, k):
        network, params = self._eval_network()
        ids = np.empty((encoded.n_steps, k), dtype=np.int64)
        log_p = np.empty((encoded.n_steps, k), dtype=PREDICT_DTYPE)
        for h, where in self._eval_windows(encoded, network, params):
            block = network.log_proba_from_hidden(params, h)
            best = _top_k(block, k)
            ids[where] = best
            log_p[where] = np.take_along_axis(block, best, axis=1)
        return ids, log_p

    def predict(self, X):
        """The most probable next token after each sequence (at its end
        position: the distribution that its end token is scored against).

        Parameters
        ----------
        X : list of token sequences, or array-like of shape (n_sequences, T)

        Returns
        -------
        tokens : ndarray of shape (n_sequences,)
            Tokens (object array) for list input. For a 2-D id array, the ids
            of the predicted tokens in the model's vocabulary (int64, the
            column of ``predict_proba``; ``tokens_[ids]`` gives the tokens,
            among which ``"<eos>"`` and ``"<unk>"`` are not integers).
        """
        encoded, sequences = self._predict_setup(X)
        last = encoded.offsets[1:] - 1
        ids = self._log_proba_encoded(encoded, last).argmax(axis=1)
        return ids if sequences.form == "flat" else self.tokens_[ids]


def _top_k(log_proba, k):
    """Ids of the ``k`` largest entries of each row, largest first."""
    best = np.argpartition(-log_proba, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(log_proba, best, axis=1), axis=1)
    return np.take_along_axis(best, order, axis=1)
