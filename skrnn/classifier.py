"""RNNClassifier: one label per sequence, from a pooled recurrent state."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import BaseRNN, EncodedSequences
from ._engine.heads import POOLINGS
from ._persistence import SaveMixin
from ._pretrained import PretrainedInputMixin
from ._validation import validate_sequences
from ._vocabulary import Vocabulary

__all__ = ["RNNClassifier"]


class RNNClassifier(SaveMixin, PretrainedInputMixin, ClassifierMixin, BaseRNN):
    """Recurrent neural network classifier of whole sequences.

    The network reads a sequence (embedded tokens, or per-step feature vectors),
    pools its hidden states into one vector and puts a softmax over the classes on
    it. With ``pooling="last"`` that vector is ``h_T``, the state that has read
    every step, as in Elman's text classifier; ``"mean"`` and ``"max"`` pool over
    all steps, which on short texts and on series with a local event is both
    easier to train and more accurate.

    Parameters
    ----------
    pooling : {"last", "mean", "max"}, default="max"
        How the states of a sequence become one vector. ``"last"``: the forward
        state at the last step, joined (bidirectional) with the backward state at
        the first step — the two states that have read the whole sequence.
        ``"mean"`` / ``"max"``: mean or element-wise maximum over all steps.
    hidden_size : int, default=64
        Units of each recurrent layer and direction.
    embedding_dim : int, default=128
        Width of the word embeddings (token input only).
    cell : {"rnn", "gru", "lstm"}, default="gru"
        Elman (tanh), gated recurrent unit or long short-term memory.
    bidirectional : bool, default=True
        Read each sequence in both directions.
    num_layers : int, default=1
        Stacked recurrent layers.
    dropout : float, default=0.6
        Inverted dropout on the embeddings (or input features), between layers
        and on the recurrent output, during training only.
    word_dropout : float, default=1.0
        Word dropout ``w``: during training a word seen ``c`` times becomes
        unknown with probability ``w / (w + c)``, so that the model learns what to
        do with unknown words. 0 disables it. Token input only.
    adversarial : float, default=0.0
        Adversarial training (Goodfellow et al., 2015; Miyato et al., 2017):
        each optimizer step also learns from its batch with the inputs (every
        embedding, or the input features) moved along the gradient of the loss, by
        ``adversarial`` per token on average against embeddings of about unit
        norm. It costs a second forward and backward pass of the recurrent
        stack per step. 0 disables it.
    lowercase : bool, default=True
        Lowercase str tokens before building and looking up the vocabulary.
    min_freq : int, default=1
        Tokens (and n-grams, see ``ngram_range``) seen fewer times in ``fit``
        are unknown.
    max_vocabulary : int or None, default=None
        Keep at most this many of the most frequent tokens.
    ngram_range : tuple (min_n, max_n) or None, default=(1, 2)
        Add a linear bag-of-n-grams term to the network's logits (fastText's
        linear model beside the RNN, "wide and deep"): every word n-gram with
        ``min_n <= n <= max_n`` seen at least ``min_freq`` times in ``fit`` has
        one weight per class, and the weights of a sequence's n-grams are
        added to its logits. N-grams with an unknown word are
        skipped. Trained jointly, with the same ``alpha``. None disables it.
        Token input only.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: ``{label: weight}``, or
        ``"balanced"`` for ``n_samples / (n_classes * np.bincount(y))``
        (computed on the training sequences of each call to ``fit`` or
        ``partial_fit``). None gives every sequence weight one.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer.
    learning_rate : float, default=0.005
        Step size of the optimizer.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"``.
    alpha : float, default=1e-5
        L2 penalty on the weight matrices (and the embedding rows a minibatch
        uses).
    batch_size : int, default=32
        Sequences per minibatch; batches are cut from length-sorted order.
    max_iter : int, default=30
        Maximum number of epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation accuracy (or training loss without
        early stopping) that counts.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the sequences (stratified by class),
        stop when its accuracy has not improved for ``n_iter_no_change`` epochs
        and keep the parameters of the best epoch.
    validation_fraction : float, default=0.1
        Share of the sequences held out for early stopping.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping.
    clip_norm : float or None, default=5.0
        Clip the global norm of the gradient to this value.
    average_decay : float in [0, 1), default=0.995
        Keep an exponential moving average of the weights over the optimizer
        steps, ``avg = d * avg + (1 - d) * w``, and use it for early stopping and
        as the fitted ``params_``; the optimizer itself steps from the raw
        weights. The decay warms up as ``min(average_decay, (n - 1) / (n + 9))``
        after ``n`` steps, so the average covers about the last tenth of the
        steps, at most ``1 / (1 - average_decay)`` (200) of them. Like
        ``SGDClassifier(average=True)``, it makes the result depend less on
        where the last noisy steps landed (on SST-2 with 64-dimensional
        embeddings: +1 point and a smaller spread between seeds; at the default
        128, no measurable change). ``warm_start`` and ``partial_fit`` continue
        from the averaged weights. 0 disables it.
    embeddings : WordVectors, str, path, dict, (tokens, matrix), KeyedVectors, \
RNNLanguageModel or None, default=None
        Pretrained word vectors, read at ``fit`` (see the user guide's page on
        pretrained vectors): a :class:`~skrnn.datasets.WordVectors` from
        :func:`~skrnn.datasets.load_word_vectors`, the path of a GloVe,
        word2vec or fastText text file, a dict from token to vector, a
        ``(tokens, matrix)`` pair, an object with ``key_to_index`` and
        ``vectors`` (gensim's ``KeyedVectors``) or a fitted
        :class:`~skrnn.RNNLanguageModel` (its input embeddings). Each token's
        vector (looked up as it is, then lowercased; zeros if it has none) is a
        frozen input beside the trainable embeddings, of any width: a word
        first seen at predict time is read through its vector. The trainable
        rows of the words that have one also start from it (its first
        ``min(embedding_dim, width)`` coordinates). Clones share the vectors
        rather than copy them. Token input only.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, batch order and the validation split.
    verbose : int, default=0
        1: a table with a row per epoch (loss, validation accuracy, steps/s,
        seconds); 2: also a progress bar within each epoch (tqdm if installed).
    warm_start : bool, default=False
        Continue from the fitted parameters, vocabulary and classes in ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    vocabulary_ : dict
        Token to embedding row (token input only); row 0, the unknown token, is
        not in it.
    word_vectors_ : WordVectors
        The vectors ``embeddings`` was resolved to at ``fit`` (only with
        ``embeddings``); a model file holds them.
    embedding_coverage_ : float
        Share of the training tokens that have a pretrained vector (only with
        ``embeddings``).
    n_features_in_ : int
        Number of features of a plain numeric ``X`` seen in ``fit`` (numeric
        input only): ``X.shape[1]`` of a plain array, i.e. the number of time
        steps ``T`` of a 2-D ``(n, T)`` or 3-D ``(n, T, d)`` array, and the number
        of channels of a list of 2-D arrays.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.
    params_ : dict of ndarray
        The network's parameters (their moving average, see ``average_decay``).
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_scores_ : list of float
        Validation accuracy of each epoch (``early_stopping=True``).
    best_validation_score_ : float or None
        Best validation accuracy, whose parameters were kept.
    history_ : list of dict
        Per-epoch ``epoch``, ``loss``, ``validation_score``, ``steps_per_s``,
        ``elapsed``.
    n_iter_ : int
        Epochs run.
    t_ : int
        Optimizer steps taken.

    See Also
    --------
    skrnn.preprocessing.Tokenizer : Turn raw strings into token lists first.
    sklearn.neural_network.MLPClassifier : The same training parameters on
        fixed-size vectors.

    Notes
    -----
    Accepted ``X``:

    - a list of token sequences (lists of str or any hashable tokens);
      unknown tokens at prediction time are normal and never an error;
    - a list of 2-D ``(T_i, n_channels)`` float arrays: series of any length;
    - a 2-D ``(n, T)`` numeric array: ``n`` univariate series of length ``T``;
    - a 3-D ``(n, T, d)`` numeric array: ``d``-channel series.

    An empty sequence is predicted from a single unknown token (or a step of
    zeros), i.e. from the classifier's prior for an empty input.

    Examples
    --------
    >>> from skrnn import RNNClassifier
    >>> X = [["a", "good", "film"], ["a", "bad", "film"]] * 20
    >>> y = ["pos", "neg"] * 20
    >>> clf = RNNClassifier(early_stopping=False, random_state=0).fit(X, y)
    >>> clf.predict([["good"], ["bad"], ["unseen", "bad"]]).tolist()
    ['pos', 'neg', 'neg']
    """

    _parameter_constraints: dict = {
        **BaseRNN._parameter_constraints,
        "pooling": [StrOptions(set(POOLINGS))],
        "word_dropout": [Interval(Real, 0, None, closed="left")],
        "adversarial": [Interval(Real, 0, None, closed="left")],
        "lowercase": ["boolean"],
        "min_freq": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary": [Interval(Integral, 1, None, closed="left"), None],
        "ngram_range": [tuple, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "average_decay": [Interval(Real, 0, 1, closed="left")],
        "embeddings": "no_validation",
    }

    def __init__(
        self,
        *,
        pooling="max",
        hidden_size=64,
        embedding_dim=128,
        cell="gru",
        bidirectional=True,
        num_layers=1,
        dropout=0.6,
        word_dropout=1.0,
        adversarial=0.0,
        lowercase=True,
        min_freq=1,
        max_vocabulary=None,
        ngram_range=(1, 2),
        class_weight=None,
        solver="adam",
        learning_rate=0.005,
        momentum=0.9,
        nesterovs_momentum=True,
        alpha=1e-5,
        batch_size=32,
        max_iter=30,
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        clip_norm=5.0,
        average_decay=0.995,
        embeddings=None,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.pooling = pooling
        self.hidden_size = hidden_size
        self.embedding_dim = embedding_dim
        self.cell = cell
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.dropout = dropout
        self.word_dropout = word_dropout
        self.adversarial = adversarial
        self.lowercase = lowercase
        self.min_freq = min_freq
        self.max_vocabulary = max_vocabulary
        self.ngram_range = ngram_range
        self.class_weight = class_weight
        self.solver = solver
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.clip_norm = clip_norm
        self.average_decay = average_decay
        self.embeddings = embeddings
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # --- public API -----------------------------------------------------------------

    def fit(self, X, y):
        """Train on labelled sequences.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D/3-D array-like
            The sequences (see Notes of the class).
        y : array-like of shape (n_sequences,)
            One label per sequence.

        Returns
        -------
        self : RNNClassifier
            The fitted classifier.
        """
        self._validate_params()
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None):
        """Train one epoch on these sequences, continuing from the current state.

        The vocabulary is built on the first call, so tokens that appear only in
        later calls are unknown to the model.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D/3-D array-like
            The sequences.
        y : array-like of shape (n_sequences,)
            One label per sequence.
        classes : array-like of shape (n_classes,), default=None
            All labels that can occur; required on the first call, and if given
            later it must equal ``classes_``.

        Returns
        -------
        self : RNNClassifier
            The classifier.
        """
        self._validate_params()
        if not hasattr(self, "classes_") or not self._is_fitted_network():
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: all "
                    "labels that can occur, e.g. classes=np.unique(y_all)."
                )
        elif classes is not None and not np.array_equal(
            self.classes_, np.unique(classes)
        ):
            raise ValueError(
                f"classes={np.unique(classes)!r} is not the same as on the first "
                f"call to partial_fit, classes_={self.classes_!r}."
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict(self, X):
        """Predict the label of each sequence.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D/3-D array-like
            The sequences.

        Returns
        -------
        y : ndarray of shape (n_sequences,)
            Predicted labels.
        """
        log_proba = self.predict_log_proba(X)
        return self.classes_[log_proba.argmax(axis=1)]

    def predict_log_proba(self, X):
        """Log-probability of each class for each sequence.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D/3-D array-like
            The sequences.

        Returns
        -------
        log_proba : ndarray of shape (n_sequences, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "params_")
        return self._predict_log_proba_encoded(self._encode_predict(X))

    def predict_proba(self, X):
        """Probability of each class for each sequence.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D/3-D array-like
            The sequences.

        Returns
        -------
        proba : ndarray of shape (n_sequences, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        return np.exp(self.predict_log_proba(X))

    # --- BaseRNN hooks ----------------------------------------------------------------

    def _network_head(self):
        return self.pooling

    def _input_spec(self):
        if self._input_kind == "tokens":
            n_vectors = self._n_word_vector_features()
            return [len(self._token_ids)], [self.embedding_dim], n_vectors
        return [], [], self._n_step_features

    def _word_tables(self):
        return [("embed.0", [None, *self._token_ids.tokens_[1:]])]

    def _word_dropout_groups(self):
        if self._input_kind == "tokens":
            return [([0], self._token_ids.counts_)]
        return []

    def _bag_size(self):
        if self._input_kind == "tokens" and self.ngram_range is not None:
            return self._ngrams.size
        return 0

    def _sequence_weights(self, encoded):
        if self.class_weight is None:
            return None
        n_classes = len(self.classes_)
        if isinstance(self.class_weight, str):  # "balanced"
            counts = np.bincount(encoded.targets, minlength=n_classes)
            per_class = encoded.n_sequences / (n_classes * np.maximum(counts, 1))
        else:
            per_class = np.ones(n_classes)
            for label, weight in self.class_weight.items():
                index = np.flatnonzero(self.classes_ == label)
                if index.size == 0:
                    raise ValueError(
                        f"class_weight has a weight for {label!r}, which is not a "
                        f"class of y; the classes are {self.classes_.tolist()}."
                    )
                per_class[index] = weight
        return per_class[encoded.targets]

    def _validation_score(self, encoded, params):
        # Early stopping selects with the weighting the loss uses: with
        # class_weight="balanced" this is the balanced accuracy.
        weights = self._sequence_weights(encoded)
        if weights is None:
            return super()._validation_score(encoded, params)
        predicted = self._validation_predictions(encoded, params)
        return float(np.average(predicted == encoded.targets, weights=weights))

    def _encode_fit(self, X, y, reset, classes=None):
        sequences = validate_sequences(self, X, layout="series", reset=reset)
        y = _check_targets(self, y, sequences.n_sequences)
        if reset:
            self.classes_ = np.unique(y if classes is None else classes)
            if classes is None and self.classes_.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    f"y; got one class, {self.classes_[0]!r}."
                )
            if sequences.kind == "tokens":
                self._token_ids = Vocabulary(
                    min_freq=self.min_freq,
                    max_size=self.max_vocabulary,
                    lowercase=self.lowercase,
                ).fit(sequences.values)
                self.vocabulary_ = dict(self._token_ids.index_)
                if self.ngram_range is not None:
                    self._ngrams = self._fit_ngrams(sequences)
            elif hasattr(self, "vocabulary_"):
                del self.vocabulary_
            self._fit_word_vectors(sequences)
        targets = np.searchsorted(self.classes_, y)
        unknown = (targets >= self.classes_.size) | (
            self.classes_[np.minimum(targets, self.classes_.size - 1)] != y
        )
        if unknown.any():
            raise ValueError(
                f"y contains label {y[np.argmax(unknown)]!r}, which is not among "
                f"the classes {self.classes_.tolist()} of the first fit; pass all "
                "labels as classes= to the first partial_fit, or refit."
            )
        return self._encoded(sequences, targets)

    # --- encoding -------------------------------------------------------------------

    def _encode_predict(self, X):
        sequences = validate_sequences(self, X, layout="series", reset=False)
        return _pad_empty(self._encoded(sequences))

    def _fit_ngrams(self, sequences):
        """Sorted keys of the training n-grams seen at least ``min_freq`` times."""
        min_n, max_n = _check_ngram_range(self.ngram_range)
        n_words = len(self._token_ids)
        if n_words**max_n >= 2**63:
            raise ValueError(
                f"ngram_range={self.ngram_range!r} is too long for a vocabulary of "
                f"{n_words} words (n-gram keys must fit in int64); lower max_n or "
                "max_vocabulary."
            )
        ids = self._token_ids.transform(sequences.values)
        keys, _ = _ngram_keys(ids, sequences.lengths, min_n, max_n, n_words)
        keys, counts = np.unique(keys, return_counts=True)
        return keys[counts >= self.min_freq]

    def _encoded(self, sequences, targets=None):
        bag_ids = bag_offsets = None
        if sequences.kind == "tokens":
            ids = self._token_ids.transform(sequences.values)
            features = None
            if self._n_word_vector_features():
                features = self._word_vector_features(sequences.values)
            if self._bag_size():
                bag_ids, bag_offsets = self._bags(ids, sequences.lengths)
            ids = ids[:, None]
        else:
            ids, features = None, sequences.values
        return EncodedSequences(
            lengths=sequences.lengths,
            ids=ids,
            features=features,
            targets=targets,
            per_step=False,
            bag_ids=bag_ids,
            bag_offsets=bag_offsets,
        )

    def _bags(self, ids, lengths):
        """Each sequence's known n-grams as ids into ``self._ngrams``, concatenated,
        and the offsets of each sequence's bag."""
        min_n, max_n = _check_ngram_range(self.ngram_range)
        keys, sequence = _ngram_keys(ids, lengths, min_n, max_n, len(self._token_ids))
        bag = np.minimum(np.searchsorted(self._ngrams, keys), self._ngrams.size - 1)
        known = self._ngrams[bag] == keys
        counts = np.bincount(sequence[known], minlength=lengths.size)
        return bag[known], np.concatenate([[0], np.cumsum(counts)])


def _check_targets(estimator, y, n_sequences):
    """One label per sequence, as scikit-learn's classifiers accept them."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y "
            "is None."
        )
    if isinstance(y, str):
        raise ValueError(f"y is a str; expected one label per sequence, got {y!r}.")
    y = column_or_1d(y, warn=True)
    if y.dtype.kind in "fc":
        assert_all_finite(y, input_name="y")
    check_classification_targets(y)
    if y.shape[0] != n_sequences:
        raise ValueError(
            f"X has {n_sequences} sequences but y has {y.shape[0]} labels; expected "
            "one label per sequence."
        )
    return y


def _check_ngram_range(ngram_range):
    if (
        len(ngram_range) != 2
        or not all(isinstance(n, Integral) for n in ngram_range)
        or not 1 <= ngram_range[0] <= ngram_range[1]
    ):
        raise ValueError(
            "ngram_range must be a tuple (min_n, max_n) of ints with "
            f"1 <= min_n <= max_n, or None; got {ngram_range!r}."
        )
    return ngram_range


def _ngram_keys(ids, lengths, min_n, max_n, n_words):
    """Every n-gram (``min_n <= n <= max_n``) of flat token ``ids`` without an
    unknown word (id 0), as an int64 key (the ids as digits in base ``n_words``:
    keys of different orders cannot collide, since no digit is 0), and the index of
    its sequence; grouped by sequence."""
    sequence = np.repeat(np.arange(lengths.size), lengths)
    position = np.arange(ids.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    all_keys, all_sequences = [], []
    for n in range(min_n, max_n + 1):
        starts = np.flatnonzero(position + n <= lengths[sequence])
        keys = np.zeros(starts.size, dtype=np.int64)
        known = np.ones(starts.size, dtype=bool)
        for j in range(n):
            word = ids[starts + j]
            keys = keys * n_words + word
            known &= word > 0
        all_keys.append(keys[known])
        all_sequences.append(sequence[starts[known]])
    sequence = np.concatenate(all_sequences)
    order = np.argsort(sequence, kind="stable")
    return np.concatenate(all_keys)[order], sequence[order]


def _pad_empty(encoded):
    """Give each empty sequence one step of id 0 (unknown) or of zero features:
    a pooled head needs at least one state, and this makes its prediction the
    model's answer to an input it knows nothing about."""
    empty = np.flatnonzero(encoded.lengths == 0)
    if empty.size == 0:
        return encoded
    at = encoded.offsets[empty]
    lengths = encoded.lengths.copy()
    lengths[empty] = 1
    return EncodedSequences(
        lengths=lengths,
        ids=None if encoded.ids is None else np.insert(encoded.ids, at, 0, axis=0),
        features=(
            None
            if encoded.features is None
            else np.insert(encoded.features, at, 0.0, axis=0)
        ),
        per_step=False,
        bag_ids=encoded.bag_ids,
        bag_offsets=encoded.bag_offsets,
    )
