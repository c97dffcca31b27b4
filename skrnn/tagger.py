"""RNNTagger: a recurrent part-of-speech (or any sequence-labelling) tagger.

At each step the network reads the current token's input vector and the history
of the recurrent state and outputs P(y_i | x_i, h_{i-1}) (and, bidirectional, the
future as well). Tokens become several embedded id streams (word, lowercase,
suffixes, shape; see :class:`skrnn._vocabulary.TokenFeaturizer`, and
:class:`~skrnn.WordFeatures` for which of them) so that unseen words are still
tagged from their form.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseRNN, EncodedSequences, _engine_threads
from ._engine import CharacterCNN, segment_positions
from ._persistence import SaveMixin
from ._pretrained import PretrainedInputMixin
from ._spelling import CharCNN, Spelling
from ._tag_schemes import SCHEMES
from ._tagging import TaggerMixin, broken_scheme
from ._validation import split_sequences, validate_sequences, validate_tags
from ._vocabulary import TokenFeaturizer, WordFeatures

__all__ = ["RNNTagger"]

MIN_VALIDATION_SEQUENCES = 30

# Parameters that model files written before they were folded into a settings
# object name: the former name of each and its name there.
_FORMER_CHAR_CNN = {
    "char_embedding_dim": "embedding_dim",
    "char_filters": "filters",
    "char_window": "window",
}
_FORMER_WORD_FEATURES = {
    "suffix_length": "suffix_length",
    "lowercase_stream": "lowercase",
    "shape_stream": "shape",
    "feature_embedding_dim": "embedding_dim",
}


class RNNTagger(SaveMixin, PretrainedInputMixin, TaggerMixin, BaseRNN):
    """Recurrent neural network tagger: one label per token of a sequence.

    A recurrent network (by default a two-layer bidirectional GRU) trained with
    backpropagation through time on minibatches of similar-length sequences. Token
    input is embedded as several streams: the word, its lowercase form, its
    suffixes of 1 to 4 characters and its shape (``"Xxxx"``, ``"dd"``; see
    ``word_features``), so that words never seen in training are tagged from
    their form; word dropout teaches the network what to do with unknown
    words. The defaults were chosen on UD English EWT (95.5% test UPOS,
    1.5-2.5 minutes on 2 cores; see docs/benchmarks.md).

    Parameters
    ----------
    hidden_size : int, default=128
        Units of each recurrent layer (per direction).
    embedding_dim : int, default=64
        Size of the word and lowercase embeddings.
    cell : {"rnn", "gru", "lstm"}, default="gru"
        The recurrent cell: Elman (tanh), GRU or LSTM.
    bidirectional : bool, default=True
        Read each sequence in both directions and concatenate the states.
    num_layers : int, default=2
        Number of stacked recurrent layers.
    dropout : float, default=0.33
        Dropout on the recurrent stack's input, between layers and on its output.
    solver : {"adam", "sgd"}, default="adam"
        The optimizer.
    learning_rate : float, default=0.002
        Step size of the optimizer.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``solver="sgd"``.
    alpha : float, default=0.0
        L2 penalty on the weight matrices.
    batch_size : int or "auto", default="auto"
        Sequences per minibatch. ``"auto"``: 32, or fewer on a corpus of fewer
        than 640 training sequences, so that an epoch holds at least 20
        optimizer steps (a fold of 100 sentences has batches of 4).
    max_iter : int, default=15
        Maximum number of epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation accuracy (``early_stopping=True``)
        or of the training loss that counts as progress.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training sequences, stop when
        their token accuracy has not improved by ``tol`` for ``n_iter_no_change``
        epochs and keep the best epoch's parameters. When the held-out share
        would be fewer than 30 sequences, too few for its accuracy to tell one
        epoch from the next, no split is made and the training loss decides
        (the fit then runs ``max_iter`` epochs).
    validation_fraction : float, default=0.1
        Share of training sequences held out for early stopping.
    n_iter_no_change : int, default=2
        Epochs without progress before training stops.
    short_fit_steps : int or None, default=2000
        A fit planned for fewer optimizer steps than this (its epochs times
        the batches of an epoch) is short: its learning rate is
        ``learning_rate * min(4, short_fit_steps / planned)``, so that a
        small corpus travels about as far in its few steps. Each epoch's rate
        is in ``history_``; ``partial_fit`` steps at ``learning_rate``. None:
        always ``learning_rate``.
    max_steps : int or None, default=3500
        The most optimizer steps a fit plans: a fit whose ``max_iter`` epochs
        would take more runs ``ceil(max_steps / batches per epoch)`` epochs
        at most, so that a large corpus takes no more steps than it needs
        (UD EWT: 10 epochs of 353 steps instead of 15; its validation accuracy
        levels off after about 3,000 steps). A fit of fewer steps, as on any
        corpus of fewer than about 8,000 sequences at the defaults, is
        unaffected. Raise it for corpora much larger than EWT; None: always
        ``max_iter`` epochs.
    learning_rate_schedule : {"auto", "constant", "linear"}, default="auto"
        ``"constant"``: every step at the rate (as ``short_fit_steps`` sets
        it). ``"linear"``: the rate falls in a straight line from twice that
        rate to 0 at the last planned step, the same mean step as the constant
        rate, so that a fit ends on small steps. ``"auto"``: ``"linear"`` for a
        fit that ``max_steps`` shortened, ``"constant"`` otherwise; on small
        corpora the constant rate did better (``docs/benchmarks.md``).
        ``partial_fit`` steps at a constant rate.
    clip_norm : float or None, default=5.0
        Clip the global gradient norm to this value; None disables clipping.
    average_decay : float in [0, 1), default=0.999
        Keep an exponential moving average of the weights over the optimizer
        steps, ``avg = d * avg + (1 - d) * w``, and use it for early stopping and
        as the fitted ``params_``; the optimizer itself steps from the raw
        weights. The decay warms up as ``min(average_decay, (n - 1) / (n + 9))``
        after ``n`` steps, so the average spans about the last ``1 / (1 -
        average_decay)`` steps (about 3 epochs of EWT at the default). On UD
        English EWT it made the result better and less seed-dependent (dev
        94.86% → 95.12%, test 95.23 ± 0.41% → 95.55 ± 0.07% over three seeds).
        ``warm_start`` and ``partial_fit`` continue from the averaged weights.
        0 disables it.
    min_freq : int, default=1
        Words seen fewer times in training are unknown to the word and lowercase
        streams (their suffix and shape streams still apply).
    max_vocabulary : int or None, default=None
        Keep only the most frequent words in the word and lowercase streams.
    word_features : "auto", WordFeatures or None, default="auto"
        What each token is embedded as besides the word itself (a
        :class:`WordFeatures`): its lowercase form, its suffixes and its shape.
        ``"auto"`` is ``WordFeatures()``: the lowercase form, the suffixes of 1
        to 4 characters and the shape, each suffix and shape in 16 dimensions.
        None: the word alone. The settings of a ``WordFeatures`` are nested
        parameters (``word_features__suffix_length``). Token input only.
    word_dropout : float, default=0.25
        During training a word seen ``c`` times is replaced by the unknown word
        with probability ``word_dropout / (word_dropout + c)`` (0 disables).
    adversarial : float, default=0.0
        Adversarial training (Goodfellow et al., 2015; Miyato et al., 2017):
        each optimizer step also learns from its batch with the inputs (every
        embedding and character vector) moved along the gradient of the loss, by
        ``adversarial`` per token on average against embeddings of about unit
        norm. It costs a second forward and backward pass of the recurrent
        stack per step. 0 disables it.
    linear_window : int or None, default=1
        Add a linear model beside the network (as in Wide & Deep): a weight per
        tag for every id of the token's streams and for the lowercase word at
        each offset up to ``linear_window`` on either side (a boundary id past
        the ends of the sequence), summed into the logits. It learns from the
        first optimizer steps what the network needs many for, which matters
        most on a small corpus (5-fold on the first 100 and 400 sentences of
        EWT dev, seeds 0-2: +0.2 and +0.4 points; on the full corpus +0.04).
        A neighbour is read as its word itself when ``word_features`` has no
        lowercase stream. 0: the token's own streams only; None: no linear
        model. Token input only; neighbours are word-dropped on their own.
    char_encoder : {None, "cnn"} or CharCNN, default=None
        ``"cnn"`` or a :class:`CharCNN`: also read each token's characters
        (its first and last 8 of longer words, between begin and end markers)
        with a convolution, max-pooled over the word and appended to the
        token's embeddings (Ma & Hovy, 2016). It tags unseen words from all of
        their spelling, not only their suffixes and shape. Characters not seen
        in training are one unknown character. ``"cnn"`` is ``CharCNN()`` (16-d
        characters, 64 filters over 3 characters); its settings are nested
        parameters (``char_encoder__filters``). Token input only.
    output : {"auto", "softmax", "crf"}, default="auto"
        ``"softmax"``: each token's tag from its own softmax. ``"crf"``: a
        linear-chain CRF over the network's per-token scores (Huang et al.,
        2015; Lample et al., 2016): learned scores of every tag transition,
        trained with the network on the log-likelihood of whole tag
        sequences, predicting the best sequence (Viterbi); ``predict_proba``
        gives each token's marginal probabilities. The fitted scores are
        ``transitions_``, ``start_transitions_`` and ``end_transitions_``.
        ``"auto"``: the CRF for entity tags (when ``tag_scheme_`` is a
        scheme), the softmax otherwise (``output_``). On CoNLL-2002 Spanish
        the CRF gained 1.3 F1 on dev and 0.6 on test over the softmax
        decoded under the same span rules (docs/benchmarks.md).
    tag_scheme : {"auto", "IOB2", "IOBES"} or None, default="auto"
        Entity tags whose spans must be well formed: under ``"IOB2"`` an
        ``I-X`` continues a ``B-X`` or ``I-X``; under ``"IOBES"`` spans also
        close with ``E-X``, single tokens are ``S-X``. ``predict`` never
        breaks the rules (the best valid sequence, by Viterbi), and the CRF
        is trained under them too. ``"auto"``: the scheme the training tags
        follow, if they are entity tags and follow one (``tag_scheme_``);
        None: no rules. An explicit scheme raises at ``fit`` on tags that
        break it.
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
        Seeds initialisation, shuffling, dropout and the validation split.
    verbose : int, default=0
        1: a table with a row per epoch (loss, validation accuracy, steps/s,
        seconds); 2: also a progress bar within each epoch (tqdm if installed).
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The tags, sorted.
    vocabulary_ : dict
        Word → id of the word stream (id 0, not in the dict, is the unknown word).
        Only after a fit on token sequences.
    featurizer_ : TokenFeaturizer
        All id streams (the word and those of ``word_features``). Only after a
        fit on token sequences.
    spelling_ : Spelling
        The character ids of ``char_encoder="cnn"`` (``spelling_.index_``:
        character → id). Only after a fit on token sequences with that encoder.
    word_vectors_ : WordVectors
        The vectors ``embeddings`` was resolved to at ``fit`` (only with
        ``embeddings``); a model file holds them.
    embedding_coverage_ : float
        Share of the training tokens that have a pretrained vector (only with
        ``embeddings``).
    tag_scheme_ : {"IOB2", "IOBES"} or None
        The scheme whose rules ``predict`` keeps to (see ``tag_scheme``).
    output_ : {"softmax", "crf"}
        The output layer (see ``output``).
    transitions_ : ndarray of shape (n_classes, n_classes)
        ``output="crf"``: the score of each tag (column) after each tag (row);
        ``-inf`` where ``tag_scheme_`` forbids it.
    start_transitions_, end_transitions_ : ndarray of shape (n_classes,)
        ``output="crf"``: the score of each tag starting and ending a
        sequence.
    n_features_in_ : int
        Number of features per step. Only after a fit on numeric input.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only after a fit on a DataFrame with string column names.
    loss_curve_ : list of float
        Mean training loss per epoch.
    validation_scores_ : list of float
        Validation token accuracy per epoch (``early_stopping=True``).
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose parameters are kept.
    n_iter_ : int
        Epochs run (accumulated over ``warm_start`` and ``partial_fit``).
    history_ : list of dict
        Per-epoch ``epoch``, ``loss``, ``validation_score``, ``steps_per_s``,
        ``seconds``, ``elapsed``, ``learning_rate``.
    params_ : dict of ndarray
        The network's parameters (their moving average, see ``average_decay``).

    See Also
    --------
    skrnn.HMMTagger : A generative tagger fitted by counting.

    Notes
    -----
    Input forms (the first axis of ``X`` lines up with ``y``):

    - a list of token sequences, ``y`` a list of tag sequences of equal lengths;
    - a list of 2-D float arrays ``(T_i, n_features)``, one per sequence;
    - a 2-D numeric array ``(n_tokens, n_features)`` with ``y`` one tag per row;
      ``lengths=`` groups consecutive rows into sequences, without it each row is
      a sequence of its own.

    Outputs follow the input: list in, list of arrays out; 2-D in, flat arrays
    out. This is not a ``ClassifierMixin`` (scikit-learn's classifier machinery
    rejects lists of tag sequences): use :mod:`skrnn.metrics` scorers such as
    ``flat_accuracy_scorer`` with ``GridSearchCV``.

    Examples
    --------
    >>> from skrnn import RNNTagger
    >>> X = [["the", "dog", "runs"], ["a", "cat", "sleeps"]] * 20
    >>> y = [["DET", "NOUN", "VERB"]] * 40
    >>> tagger = RNNTagger(hidden_size=16, learning_rate=0.01, random_state=0)
    >>> tagger = tagger.fit(X, y)
    >>> tagger.predict([["the", "cat", "runs"]])[0].tolist()
    ['DET', 'NOUN', 'VERB']
    """

    _parameter_constraints: dict = {
        **BaseRNN._parameter_constraints,
        "min_freq": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary": [Interval(Integral, 1, None, closed="left"), None],
        "word_features": [StrOptions({"auto"}), WordFeatures, None],
        "word_dropout": [Interval(Real, 0, None, closed="left")],
        "adversarial": [Interval(Real, 0, None, closed="left")],
        "linear_window": [Interval(Integral, 0, None, closed="left"), None],
        "char_encoder": [StrOptions({"cnn"}), CharCNN, None],
        "output": [StrOptions({"auto", "softmax", "crf"})],
        "tag_scheme": [StrOptions({"auto", *SCHEMES}), None],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "short_fit_steps": [Interval(Integral, 1, None, closed="left"), None],
        "max_steps": [Interval(Integral, 1, None, closed="left"), None],
        "learning_rate_schedule": [StrOptions({"auto", "constant", "linear"})],
        "average_decay": [Interval(Real, 0, 1, closed="left")],
        "embeddings": "no_validation",
    }

    def __init__(
        self,
        *,
        hidden_size=128,
        embedding_dim=64,
        cell="gru",
        bidirectional=True,
        num_layers=2,
        dropout=0.33,
        solver="adam",
        learning_rate=0.002,
        momentum=0.9,
        nesterovs_momentum=True,
        alpha=0.0,
        batch_size="auto",
        max_iter=15,
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=2,
        short_fit_steps=2000,
        max_steps=3500,
        learning_rate_schedule="auto",
        clip_norm=5.0,
        average_decay=0.999,
        min_freq=1,
        max_vocabulary=None,
        word_features="auto",
        word_dropout=0.25,
        adversarial=0.0,
        linear_window=1,
        char_encoder=None,
        output="auto",
        tag_scheme="auto",
        embeddings=None,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_size = hidden_size
        self.embedding_dim = embedding_dim
        self.cell = cell
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.dropout = dropout
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
        self.short_fit_steps = short_fit_steps
        self.max_steps = max_steps
        self.learning_rate_schedule = learning_rate_schedule
        self.clip_norm = clip_norm
        self.average_decay = average_decay
        self.min_freq = min_freq
        self.max_vocabulary = max_vocabulary
        self.word_features = word_features
        self.word_dropout = word_dropout
        self.adversarial = adversarial
        self.linear_window = linear_window
        self.char_encoder = char_encoder
        self.output = output
        self.tag_scheme = tag_scheme
        self.embeddings = embeddings
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # --- encoding -------------------------------------------------------------------

    def _encode_X(self, sequences):
        if sequences.kind == "tokens":
            ids = self.featurizer_.transform(sequences.values)
            if self.linear_window:
                context = ids[:, self._context_column()]
                neighbours = _neighbour_ids(
                    context,
                    sequences.lengths,
                    self.linear_window,
                    boundary=self._context_vocab_size(),
                )
                ids = np.concatenate([ids, neighbours], axis=1)
            if self.char_encoder is not None:
                # the last columns: where the network's CharacterCNN reads them
                spellings = self.spelling_.transform(sequences.values)
                ids = np.concatenate([ids, spellings], axis=1)
            features = None
            if self._n_word_vector_features():
                features = self._word_vector_features(sequences.values)
            return EncodedSequences(
                lengths=sequences.lengths, ids=ids, features=features
            )
        return EncodedSequences(
            lengths=sequences.lengths,
            features=np.asarray(sequences.values, dtype=np.float32),
        )

    def _encode_fit(self, X, y, reset, lengths=None, classes=None):
        sequences = validate_sequences(self, X, lengths=lengths, reset=reset)
        tags = validate_tags(y, sequences)
        if reset:
            self._fit_classes(tags, classes)
            self._fit_inputs(sequences)
        encoded = self._encode_X(sequences)
        encoded.targets = self._tag_ids(tags)
        self._check_tag_scheme(encoded, reset)
        return encoded

    def _fit_classes(self, tags, classes):
        self.classes_ = np.unique(tags if classes is None else np.asarray(classes))
        if classes is not None:
            self._tag_ids(tags)  # every tag must be one of ``classes``

    def _check_tag_scheme(self, encoded, reset):
        """Fix ``tag_scheme_`` and ``output_`` on a fresh fit; later fits of a
        CRF cannot learn tags that break the scheme (their path would be
        impossible)."""
        if reset:
            self.tag_scheme_ = self._fit_tag_scheme(encoded.targets, encoded.lengths)
            self.output_ = self.output
            if self.output == "auto":
                self.output_ = "softmax" if self.tag_scheme_ is None else "crf"
            return
        allowed = self._tag_transitions()
        if allowed is not None and self.output_ == "crf":
            n_invalid = allowed.count_invalid(encoded.targets, encoded.lengths)
            if n_invalid:
                raise broken_scheme(self.tag_scheme_, n_invalid)

    def _allowed_transitions(self):
        allowed = self._tag_transitions()
        return None if allowed is None else (allowed.start, allowed.trans, allowed.end)

    def _fit_inputs(self, sequences):
        self._fit_word_vectors(sequences)
        words = self._word_features()
        words._validate_params()  # the tagger's own checks stop at its type
        if sequences.kind == "tokens":
            self.featurizer_ = TokenFeaturizer(
                min_freq=self.min_freq,
                max_size=self.max_vocabulary,
                suffix_length=words.suffix_length,
                lowercase_stream=words.lowercase,
                shape_stream=words.shape,
            ).fit(sequences.values)
            self.vocabulary_ = dict(self.featurizer_.vocabularies_[0].index_)
            if self.char_encoder is not None:
                self._char_cnn()._validate_params()
                self.spelling_ = Spelling().fit(sequences.values)
        else:
            if self.char_encoder is not None:
                raise ValueError(
                    f"char_encoder={self.char_encoder!r} spells tokens; got numeric "
                    "sequences. Pass token sequences or char_encoder=None."
                )
            # A numeric fit after a token fit must not keep the old vocabulary.
            for attr in ("featurizer_", "vocabulary_", "spelling_"):
                self.__dict__.pop(attr, None)

    def _tag_ids(self, tags):
        ids = np.searchsorted(self.classes_, tags)
        ids = np.minimum(ids, len(self.classes_) - 1)
        unknown = self.classes_[ids] != tags
        if np.any(unknown):
            raise ValueError(
                f"y contains tags not seen in the first fit: "
                f"{np.unique(np.asarray(tags)[unknown]).tolist()[:10]}; expected tags "
                f"among classes_ {self.classes_.tolist()[:20]}. Pass every tag in "
                "`classes` on the first call to partial_fit."
            )
        return ids

    def _input_spec(self):
        if hasattr(self, "featurizer_"):
            feature_dim = self._word_features().embedding_dim
            dims = [
                self.embedding_dim if name in ("word", "lower") else feature_dim
                for name in self.featurizer_.stream_names_
            ]
            n_vectors = self._n_word_vector_features()
            return list(self.featurizer_.vocab_sizes_), dims, n_vectors
        return [], [], self._n_step_features

    def _network_head(self):
        return "step"

    def _word_tables(self):
        featurizer = self.featurizer_
        return [
            (f"embed.{k}", [None, *featurizer.vocabularies_[k].tokens_[1:]])
            for k, name in enumerate(featurizer.stream_names_)
            if name in ("word", "lower")
        ]

    def _characters(self):
        if self.char_encoder is None or not hasattr(self, "spelling_"):
            return None
        settings = self._char_cnn()
        return CharacterCNN(
            self.spelling_.n_chars_,
            settings.embedding_dim,
            settings.filters,
            settings.window,
            Spelling.width,
        )

    def _char_cnn(self):
        """The character encoder's settings (``char_encoder`` not None)."""
        return CharCNN() if self.char_encoder == "cnn" else self.char_encoder

    def _word_features(self):
        """The settings of the streams beside the word (None: none of them)."""
        if self.word_features is None:
            return WordFeatures(suffix_length=0, lowercase=False, shape=False)
        return WordFeatures() if self.word_features == "auto" else self.word_features

    @classmethod
    def _params_from_model_file(cls, params):
        """Files written before ``CharCNN`` (session 20) name its settings as
        three parameters of their own, and files written before
        ``WordFeatures`` its settings as four."""
        characters = _former_settings(params, _FORMER_CHAR_CNN, CharCNN)
        if characters is not None and params.get("char_encoder") == "cnn":
            params["char_encoder"] = characters
        words = _former_settings(params, _FORMER_WORD_FEATURES, WordFeatures)
        if words is not None:
            params["word_features"] = words
        return params

    def _context_column(self):
        """The stream whose ids stand for a neighbouring token: lowercase, or
        the word when there is no lowercase stream."""
        names = self.featurizer_.stream_names_
        return names.index("lower") if "lower" in names else 0

    def _context_vocab_size(self):
        return self.featurizer_.vocab_sizes_[self._context_column()]

    def _linear_vocab_sizes(self):
        if self.linear_window is None or not hasattr(self, "featurizer_"):
            return []
        # one more id than the context stream's: the boundary
        neighbours = [self._context_vocab_size() + 1] * (2 * self.linear_window)
        return list(self.featurizer_.vocab_sizes_) + neighbours

    def _word_dropout_groups(self):
        # Word and lowercase ids are dropped together; each suffix and shape stream
        # drops its own rare ids, so that its unknown id (all an unseen suffix gets
        # at predict time) is trained too.
        if not hasattr(self, "featurizer_"):
            return []
        names = self.featurizer_.stream_names_
        counts = [v.counts_ for v in self.featurizer_.vocabularies_]
        words = [names.index(n) for n in ("word", "lower") if n in names]
        groups = [(words, self.featurizer_.word_counts_)] if words else []
        others = [c for c in range(len(names)) if c not in words]
        groups += [([c], counts[c]) for c in others]
        if self.linear_window:
            # the boundary id is never dropped
            context = np.append(counts[self._context_column()], np.iinfo(np.int64).max)
            n_streams = len(names)
            groups += [
                ([c], context)
                for c in range(n_streams, n_streams + 2 * self.linear_window)
            ]
        return groups

    def _validation_split(self, encoded):
        # Too few held-out sequences for their accuracy to rank epochs (on 100
        # sentences of EWT a split of 8 stopped fits after 3-4 epochs, far from
        # fitted): the training loss decides when to stop instead.
        if encoded.n_sequences * self.validation_fraction < MIN_VALIDATION_SEQUENCES:
            return encoded, None
        return super()._validation_split(encoded)

    # --- fitting --------------------------------------------------------------------

    def fit(self, X, y, lengths=None):
        """Fit the tagger to tagged sequences.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
            Training sequences (see Notes of the class).
        y : list of tag sequences, or array-like of shape (n_tokens,)
            One tag per token, in the form of ``X``.
        lengths : array-like of int, default=None
            For a 2-D numeric ``X``: lengths of the consecutive sequences its rows
            form. Without it each row is a sequence of its own.

        Returns
        -------
        self : RNNTagger
        """
        self._validate_params()
        return self._fit(X, y, incremental=False, lengths=lengths)

    def partial_fit(self, X, y, classes=None, lengths=None):
        """Train for one epoch over the given sequences.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
        y : list of tag sequences, or array-like of shape (n_tokens,)
        classes : array-like of shape (n_classes,), default=None
            Every tag of all calls. Used on the first call only; without it the
            tags of the first call are all the tags (and a tag first seen later
            is an error). On the first call the vocabularies are built from
            ``X``: later calls map new words to the unknown word.
        lengths : array-like of int, default=None
            For a 2-D numeric ``X``, see :meth:`fit`.

        Returns
        -------
        self : RNNTagger
        """
        self._validate_params()
        return self._fit(X, y, incremental=True, lengths=lengths, classes=classes)

    # --- prediction -----------------------------------------------------------------

    def _log_proba(self, X, lengths):
        check_is_fitted(self, "params_")
        sequences = validate_sequences(self, X, lengths=lengths, reset=False)
        log_proba = self._predict_log_proba_encoded(self._encode_X(sequences))
        return log_proba, sequences

    def predict_log_proba(self, X, lengths=None):
        """Log-probability of each tag for every token.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
        lengths : array-like of int, default=None
            For a 2-D numeric ``X``, see :meth:`fit`.

        Returns
        -------
        log_proba : list of ndarray of shape (T_i, n_classes), or ndarray of shape \
(n_tokens, n_classes)
            A list for list input, one flat array for a 2-D ``X``. Columns follow
            ``classes_``.
        """
        log_proba, sequences = self._log_proba(X, lengths)
        return split_sequences(log_proba, sequences)

    def predict_proba(self, X, lengths=None):
        """Probability of each tag for every token.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
        lengths : array-like of int, default=None
            For a 2-D numeric ``X``, see :meth:`fit`.

        Returns
        -------
        proba : list of ndarray of shape (T_i, n_classes), or ndarray of shape \
(n_tokens, n_classes)
            A list for list input, one flat array for a 2-D ``X``. Columns follow
            ``classes_``.
        """
        log_proba, sequences = self._log_proba(X, lengths)
        return split_sequences(np.exp(log_proba), sequences)

    def sequence_log_proba(self, X, y=None, lengths=None):
        """Log-probability of each whole tag sequence given its tokens.

        Under ``output="crf"`` it is the CRF's ``log p(y | x)``; under the
        softmax, the sum of the tokens' log-probabilities.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
        y : list of tag sequences, or array-like of shape (n_tokens,), \
default=None
            The tags to score, in the form of ``X``; None scores the predicted
            tags (the best sequence's probability).
        lengths : array-like of int, default=None
            For a 2-D numeric ``X``, see :meth:`fit`.

        Returns
        -------
        log_proba : ndarray of shape (n_sequences,)
            0 for an empty sequence.
        """
        check_is_fitted(self, "params_")
        sequences = validate_sequences(self, X, lengths=lengths, reset=False)
        encoded = self._encode_X(sequences)
        if y is None:
            return self._decode_encoded(encoded)[1]
        encoded.targets = self._tag_ids(validate_tags(y, sequences))
        return self._log_likelihood_encoded(encoded)

    @property
    def transitions_(self):
        return self._crf_scores("crf.trans", "trans")

    @property
    def start_transitions_(self):
        return self._crf_scores("crf.start", "start")

    @property
    def end_transitions_(self):
        return self._crf_scores("crf.end", "end")

    def _crf_scores(self, name, rule):
        """A fitted CRF score array, ``-inf`` where the tag scheme forbids."""
        if name not in getattr(self, "params_", {}):
            raise AttributeError(
                f"{type(self).__name__} has CRF transitions only after a fit with "
                "output='crf'."
            )
        scores = self.params_[name].astype(np.float64)
        allowed = self._tag_transitions()
        if allowed is not None:
            scores[~getattr(allowed, rule)] = -np.inf
        return scores

    @_engine_threads
    def _decode_encoded(self, encoded, params=None, dtype=None):
        """The predicted tag id of every step and the log-probability of each
        sequence's prediction (0 for an empty sequence)."""
        ids = np.zeros(encoded.n_steps, dtype=np.intp)
        log_proba = np.zeros(encoded.n_sequences)
        offsets, lengths = encoded.offsets, encoded.lengths
        with self._predicting(params, dtype) as (network, params):
            for index in self._prediction_batches(encoded):
                path, best = network.decode(params, encoded.batch(index))
                ids[segment_positions(offsets[index], lengths[index])] = path
                log_proba[index] = best
        return ids, log_proba

    @_engine_threads
    def _log_likelihood_encoded(self, encoded):
        out = np.zeros(encoded.n_sequences)
        with self._predicting() as (network, params):
            for index in self._prediction_batches(encoded):
                out[index] = network.log_likelihood(params, encoded.batch(index))
        return out

    def _validation_predictions(self, encoded, params):
        # float32 as in training (see BaseRNN._validation_predictions)
        return self._decode_encoded(encoded, params, np.float32)[0]

    def _predict_flat(self, X, lengths):
        check_is_fitted(self, "params_")
        sequences = validate_sequences(self, X, lengths=lengths, reset=False)
        ids, _ = self._decode_encoded(self._encode_X(sequences))
        return self.classes_[ids], sequences


def _former_settings(params, former_names, settings_class):
    """Pop the parameters of ``former_names`` (former name -> the settings'
    name) from a model file's ``params``: the settings they give, or None when
    they give the defaults (which the tagger's string default stands for)."""
    given = {new: params.pop(old) for old, new in former_names.items() if old in params}
    settings = settings_class(**given)
    return None if settings == settings_class() else settings


def _neighbour_ids(context, lengths, window, boundary):
    """``(n_steps, 2 * window)``: the ``context`` id of the token at offsets
    ``-window .. -1, 1 .. window`` within its own sequence, or ``boundary`` past
    either end."""
    n_steps = context.size
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(n_steps) - starts
    length = np.repeat(lengths, lengths)
    offsets = [d for d in range(-window, window + 1) if d != 0]
    out = np.full((n_steps, len(offsets)), boundary, dtype=np.int64)
    for j, d in enumerate(offsets):
        inside = (position + d >= 0) & (position + d < length)
        out[inside, j] = context[np.flatnonzero(inside) + d]
    return out
