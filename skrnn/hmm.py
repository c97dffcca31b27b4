"""Supervised hidden Markov model tagger (first- or second-order)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._hmm_inference import forward_backward, viterbi
from ._hmm_lexicon import SuffixModel
from ._persistence import SaveMixin
from ._tag_schemes import SCHEMES
from ._tagging import TaggerMixin
from ._validation import split_sequences, validate_sequences, validate_tags

# Pseudo-count of the suffix model's ``P(tag | word)`` added to a known word's
# tag counts: it decides rare words (seen once or twice) and vanishes for
# frequent ones. Chosen on the UD EWT dev set.
_LEXICAL_PRIOR = 1.0
# An unseen word is given the probability of half a training occurrence; it
# only scales ``score_samples`` and does not change any tag decision.
_UNSEEN_COUNT = 0.5


class HMMTagger(SaveMixin, TaggerMixin, BaseEstimator):
    """Hidden Markov model tagger trained by counting.

    Models ``P(x, y) = P(y_1 | <s>) prod_t P(y_t | y_{t-1}) P(x_t | y_t)
    P(</s> | y_T)`` (``order=1``) or with trigram transitions ``P(y_t | y_{t-2},
    y_{t-1})`` (``order=2``), and tags by exact Viterbi decoding.

    Token sequences get categorical emissions. A word's tag distribution
    ``P(y | x)`` is its tag counts plus a pseudo-count from a suffix model in
    the manner of Brants' TnT (the longest known suffix, smoothed towards
    shorter ones and towards the word's shape: capitalisation, digits, hyphens,
    punctuation), learned from rare words; ``P(x | y)`` follows by Bayes'
    rule. Words never seen in training get their tag distribution from the
    lower-cased form when that is known, else from the suffix model alone.

    Numeric input (one feature vector per step) gets Gaussian emissions with a
    diagonal covariance per tag, a supervised Gaussian HMM.

    Parameters
    ----------
    order : {1, 2}, default=1
        1: bigram transitions ``P(y_t | y_{t-1})``. 2: trigram transitions
        ``P(y_t | y_{t-2}, y_{t-1})`` by deleted interpolation of trigram,
        bigram and unigram estimates (TnT); decoded over tag pairs.
    alpha : float, default=0.1
        Additive smoothing of the transition counts (``order=1``), or of the
        unigram level of the interpolation (``order=2``).
    suffix_length : int, default=10
        Longest word suffix used by the model of rare and unseen words.
    rare_threshold : float, default=20
        Words at most this frequent in training teach the suffix model.
    var_smoothing : float, default=1e-9
        Portion of the largest feature variance added to every variance
        (numeric input), as in :class:`~sklearn.naive_bayes.GaussianNB`.
    tag_scheme : {"auto", "IOB2", "IOBES"} or None, default="auto"
        Entity tags whose spans must be well formed, as
        :class:`~skrnn.RNNTagger`'s: under ``"IOB2"`` an ``I-X`` continues a
        ``B-X`` or ``I-X``; under ``"IOBES"`` spans also close with ``E-X``.
        The transitions the rules forbid get probability 0 (the rest of each
        row renormalised), so no method of the fitted model (``predict``,
        ``predict_proba``, ``score_samples``, ``sample``) ever puts a broken
        span forward. ``"auto"``: the scheme the training tags follow, if they
        are entity tags and follow one (``tag_scheme_``); None: no rules. An
        explicit scheme raises at ``fit`` on tags that break it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The tags.
    startprob_ : ndarray of shape (n_classes,)
        ``P(y_1)``.
    transmat_ : ndarray
        ``order=1``: shape (n_classes, n_classes), ``transmat_[i, j] =
        P(y_t = j | y_{t-1} = i)``; a row plus ``endprob_`` sums to one.
        ``order=2``: shape (n_classes + 1, n_classes, n_classes),
        ``transmat_[h, i, j] = P(y_t = j | y_{t-2} = h, y_{t-1} = i)`` where
        ``h = n_classes`` stands for the start of the sequence.
    endprob_ : ndarray
        ``P(</s> | y_T)``, shape (n_classes,) (``order=1``); ``P(</s> |
        y_{T-1}, y_T)``, shape (n_classes + 1, n_classes) (``order=2``).
    tag_scheme_ : {"IOB2", "IOBES"} or None
        The span rules the fitted transitions keep to (see ``tag_scheme``).
    emissionprob_ : ndarray of shape (n_classes, n_words)
        ``P(word | tag)`` of the training words (token input only).
    vocabulary_ : dict
        Training word to column of ``emissionprob_`` (token input only).
    means_ : ndarray of shape (n_classes, n_features)
        Per-tag feature means (numeric input only).
    vars_ : ndarray of shape (n_classes, n_features)
        Per-tag feature variances (numeric input only).
    n_features_in_ : int
        Number of features per step (numeric input only).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when fitted on a DataFrame.

    See Also
    --------
    skrnn.RNNTagger : A discriminative recurrent tagger.

    References
    ----------
    T. Brants, "TnT -- a statistical part-of-speech tagger", ANLP 2000.

    Examples
    --------
    >>> from skrnn import HMMTagger
    >>> X = [["the", "dog", "barks"], ["a", "cat", "sleeps"]]
    >>> y = [["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"]]
    >>> tagger = HMMTagger().fit(X, y)
    >>> tagger.predict([["the", "cat", "barks"]])[0].tolist()
    ['DET', 'NOUN', 'VERB']
    """

    _parameter_constraints = {
        "order": [Interval(Integral, 1, 2, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "suffix_length": [Interval(Integral, 0, None, closed="left")],
        "rare_threshold": [Interval(Real, 0, None, closed="left")],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
        "tag_scheme": [StrOptions({"auto", *SCHEMES}), None],
    }

    def __init__(
        self,
        *,
        order=1,
        alpha=0.1,
        suffix_length=10,
        rare_threshold=20,
        var_smoothing=1e-9,
        tag_scheme="auto",
    ):
        self.order = order
        self.alpha = alpha
        self.suffix_length = suffix_length
        self.rare_threshold = rare_threshold
        self.var_smoothing = var_smoothing
        self.tag_scheme = tag_scheme

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, lengths=None, sample_weight=None):
        """Estimate the model by counting.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D array-like
            Token sequences; or numeric sequences: a list of ``(T_i,
            n_features)`` arrays, or a 2-D ``(n_tokens, n_features)`` array
            whose consecutive rows ``lengths`` groups into sequences (without
            ``lengths`` every row is a sequence of length one).
        y : list of tag sequences, or array-like of shape (n_tokens,)
            One tag per token, in the form of ``X``.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``.
        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence; weight ``k`` is the same as ``k`` copies
            of the sequence, weight 0 the same as leaving it out.

        Returns
        -------
        self : HMMTagger
            The fitted tagger.
        """
        seqs = validate_sequences(self, X, lengths=lengths, reset=True)
        tags = validate_tags(y, seqs)
        weights = _check_sample_weight(
            sample_weight, seqs.lengths, ensure_non_negative=True
        )
        # Weight zero means "not in the data": such sequences must not add
        # tags or words, or the model would differ from one fitted without them.
        keep_seq = weights > 0
        keep = np.repeat(keep_seq, seqs.lengths)
        lengths_kept = seqs.lengths[keep_seq]
        if not lengths_kept.sum():
            raise ValueError(
                "HMMTagger needs at least one token with a positive sample_weight; "
                "got none."
            )
        seq_weights = weights[keep_seq]
        token_weights = np.repeat(seq_weights, lengths_kept)
        self.classes_, tag_ids = np.unique(tags[keep], return_inverse=True)
        n_classes = len(self.classes_)
        tag_ids = tag_ids.reshape(-1)

        self._fit_transitions(tag_ids, lengths_kept, seq_weights, n_classes)
        self.tag_scheme_ = self._fit_tag_scheme(tag_ids, lengths_kept)
        if self.tag_scheme_ is not None:
            self._keep_to(self._tag_transitions())
        if seqs.kind == "tokens":
            for attr in ("means_", "vars_"):
                self.__dict__.pop(attr, None)
            self._fit_words(seqs.values[keep], tag_ids, token_weights, n_classes)
        else:
            for attr in ("emissionprob_", "vocabulary_", "_lexicon"):
                self.__dict__.pop(attr, None)
            self._fit_gaussians(seqs.values[keep], tag_ids, token_weights, n_classes)
        return self

    def _fit_transitions(self, tag_ids, lengths, seq_weights, n_classes):
        K = n_classes
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        nonempty = lengths > 0
        starts, ends = offsets[:-1][nonempty], offsets[1:][nonempty] - 1
        w_seq = seq_weights[nonempty]
        if self.order == 1:
            start = np.bincount(tag_ids[starts], weights=w_seq, minlength=K)
            end = np.bincount(tag_ids[ends], weights=w_seq, minlength=K)
            inner = np.ones(len(tag_ids), dtype=bool)
            inner[ends] = False  # the last token of a sequence has no successor
            src = np.flatnonzero(inner)
            w_tok = np.repeat(seq_weights, lengths)
            pairs = np.bincount(
                tag_ids[src] * K + tag_ids[src + 1],
                weights=w_tok[src],
                minlength=K * K,
            ).reshape(K, K)
            start = start + self.alpha
            rows = np.hstack([pairs, end[:, None]]) + self.alpha
            with np.errstate(invalid="ignore", divide="ignore"):
                start = start / start.sum()
                rows = rows / rows.sum(axis=1, keepdims=True)
            rows = np.nan_to_num(rows, nan=1.0 / (K + 1))  # tags never followed
            self.startprob_ = start
            self.transmat_ = rows[:, :K]
            self.endprob_ = rows[:, K]
        else:
            self.startprob_, self.transmat_, self.endprob_ = _trigram_model(
                tag_ids, lengths, seq_weights, K, self.alpha
            )

    def _keep_to(self, rules):
        """Give the transitions ``rules`` forbids probability 0 and renormalise
        each row of successors (the end included)."""
        start = np.where(rules.start, self.startprob_, 0.0)
        # order 1: a row per previous tag; order 2: per (tag before, previous
        # tag), where the tag before may be the start (index n_classes)
        rows = np.concatenate(
            [
                np.where(rules.trans, self.transmat_, 0.0),
                np.where(rules.end, self.endprob_, 0.0)[..., None],
            ],
            axis=-1,
        )
        totals = rows.sum(axis=-1, keepdims=True)
        # a previous tag of which no successor is allowed is never reached
        rows = np.divide(rows, totals, out=np.zeros_like(rows), where=totals > 0)
        self.startprob_ = start / start.sum()
        self.transmat_, self.endprob_ = rows[..., :-1], rows[..., -1]

    def _fit_words(self, words, tag_ids, token_weights, n_classes):
        K = n_classes
        types = list(dict.fromkeys(words))
        vocabulary = dict(zip(types, range(len(types)), strict=True))
        word_ids = np.fromiter(map(vocabulary.__getitem__, words), np.intp, len(words))
        V = len(vocabulary)
        counts = np.bincount(
            word_ids * K + tag_ids, weights=token_weights, minlength=V * K
        ).reshape(V, K)
        word_totals = counts.sum(axis=1)
        tag_totals = counts.sum(axis=0)
        total = tag_totals.sum()

        rare = np.flatnonzero(word_totals <= self.rare_threshold)
        if rare.size == 0:  # every word is frequent: learn suffixes from all
            rare = np.arange(V)
        suffixes = SuffixModel(self.suffix_length).fit(
            [types[i] for i in rare], counts[rare]
        )
        prior = suffixes.predict_log_proba(types, leaves=_leaf_rows(suffixes, rare, V))
        with np.errstate(divide="ignore"):
            log_tag_given_word = np.log(
                (counts + _LEXICAL_PRIOR * np.exp(prior))
                / (word_totals + _LEXICAL_PRIOR)[:, None]
            )
            log_tag = np.log(tag_totals / total)
        log_emit = log_tag_given_word + np.log(word_totals / total)[:, None] - log_tag
        self.vocabulary_ = vocabulary
        self.emissionprob_ = np.exp(log_emit.T)
        self._lexicon = {
            "log_emit": log_emit,
            "counts": counts,
            "word_totals": word_totals,
            "log_tag": log_tag,
            "log_unseen": np.log(_UNSEEN_COUNT / total),
            "suffixes": suffixes,
        }

    def _fit_gaussians(self, values, tag_ids, token_weights, n_classes):
        K = n_classes
        totals = np.bincount(tag_ids, weights=token_weights, minlength=K)
        onehot = np.zeros((len(tag_ids), K))
        onehot[np.arange(len(tag_ids)), tag_ids] = token_weights
        means = (onehot.T @ values) / totals[:, None]
        sq = (onehot.T @ values**2) / totals[:, None]
        variances = np.maximum(sq - means**2, 0.0)
        overall = np.average(values, axis=0, weights=token_weights)
        spread = np.average((values - overall) ** 2, axis=0, weights=token_weights)
        largest = spread.max() if spread.max() > 0 else 1.0
        self.means_ = means
        self.vars_ = np.maximum(
            variances + self.var_smoothing * largest, np.finfo(np.float64).tiny
        )

    # ------------------------------------------------------------ inference

    def _model(self):
        with np.errstate(divide="ignore"):
            return (
                np.log(self.startprob_),
                np.log(self.transmat_),
                np.log(self.endprob_),
            )

    def _log_emission(self, seqs):
        K = len(self.classes_)
        if seqs.kind == "numeric":
            values = seqs.values
            out = np.empty((len(values), K))
            log_norm = np.sum(np.log(2.0 * np.pi * self.vars_), axis=1)
            # A loop over tags, not tokens, keeps memory at (n_tokens, n_features).
            for k in range(K):
                z = (values - self.means_[k]) ** 2 / self.vars_[k]
                out[:, k] = -0.5 * (log_norm[k] + np.sum(z, axis=1))
            return out
        lex = self._lexicon
        vocabulary = self.vocabulary_
        unseen_types = {}

        def word_id(word):
            i = vocabulary.get(word)
            return (
                -1 - unseen_types.setdefault(word, len(unseen_types))
                if i is None
                else i
            )

        ids = np.fromiter(map(word_id, seqs.values), np.intp, len(seqs.values))
        table = lex["log_emit"]
        if unseen_types:
            table = np.vstack([table, self._unseen_log_emission(list(unseen_types))])
            ids = np.where(ids >= 0, ids, len(lex["log_emit"]) - 1 - ids)
        return table[ids]

    def _unseen_log_emission(self, words):
        lex = self._lexicon
        counts, word_totals = lex["counts"], lex["word_totals"]
        tag_given_word = np.exp(lex["suffixes"].predict_log_proba(words))
        # A capitalised unseen word whose lower-cased form is known ("Whatever"
        # at the start of a sentence) mostly keeps that form's tags.
        lowered = [
            self.vocabulary_.get(word.lower(), -1) if isinstance(word, str) else -1
            for word in words
        ]
        lowered = np.asarray(lowered, dtype=np.intp)
        has = lowered >= 0
        if has.any():
            rows = lowered[has]
            tag_given_word[has] = (
                counts[rows] + _LEXICAL_PRIOR * tag_given_word[has]
            ) / (word_totals[rows] + _LEXICAL_PRIOR)[:, None]
        with np.errstate(divide="ignore"):
            return np.log(tag_given_word) + lex["log_unseen"] - lex["log_tag"]

    def _prepare(self, X, lengths):
        check_is_fitted(self)
        seqs = validate_sequences(self, X, lengths=lengths, reset=False)
        return seqs, self._log_emission(seqs)

    def predict(self, X, lengths=None):
        """Most probable tag sequence of each sequence (Viterbi).

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D array-like
            Sequences in the form used in :meth:`fit`.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``.

        Returns
        -------
        y : list of ndarray, or ndarray of shape (n_tokens,)
            The tags: one array per sequence for list input, flat for a 2-D
            array.
        """
        return split_sequences(*self._predict_flat(X, lengths))

    def _predict_flat(self, X, lengths):
        seqs, log_emit = self._prepare(X, lengths)
        path, _ = viterbi(*self._model(), log_emit, seqs.lengths, self.order)
        return self.classes_[path], seqs

    def predict_log_proba(self, X, lengths=None):
        """Log posterior marginals ``log P(y_t = k | x)`` (forward-backward).

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D array-like
            Sequences in the form used in :meth:`fit`.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``.

        Returns
        -------
        log_proba : list of ndarray of shape (T_i, n_classes), or ndarray of \
                shape (n_tokens, n_classes)
            Columns follow ``classes_``.
        """
        seqs, log_emit = self._prepare(X, lengths)
        post, _ = forward_backward(*self._model(), log_emit, seqs.lengths, self.order)
        return split_sequences(post, seqs)

    def predict_proba(self, X, lengths=None):
        """Posterior marginals ``P(y_t = k | x)`` (forward-backward).

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D array-like
            Sequences in the form used in :meth:`fit`.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``.

        Returns
        -------
        proba : list of ndarray of shape (T_i, n_classes), or ndarray of \
                shape (n_tokens, n_classes)
            Each row sums to one; columns follow ``classes_``.
        """
        seqs, log_emit = self._prepare(X, lengths)
        post, _ = forward_backward(*self._model(), log_emit, seqs.lengths, self.order)
        return split_sequences(np.exp(post), seqs)

    def score_samples(self, X, lengths=None):
        """Log-likelihood ``log P(x)`` of each sequence.

        For token input an unseen word counts as half a training occurrence,
        so values are comparable between models fitted on the same data only.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or 2-D array-like
            Sequences in the form used in :meth:`fit`.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``.

        Returns
        -------
        log_likelihood : ndarray of shape (n_sequences,)
            ``0.0`` for an empty sequence.
        """
        seqs, log_emit = self._prepare(X, lengths)
        _, log_lik = forward_backward(
            *self._model(), log_emit, seqs.lengths, self.order
        )
        return log_lik

    def sample(self, n_sequences=1, random_state=None):
        """Generate tagged sequences from the fitted model.

        Token models emit training words only (each tag's ``emissionprob_``
        renormalised over the vocabulary).

        Parameters
        ----------
        n_sequences : int, default=1
            Number of sequences.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        X : list
            Token sequences (lists of words) or ``(T_i, n_features)`` arrays.
        y : list of ndarray
            The tags of each sequence.
        """
        check_is_fitted(self)
        if not isinstance(n_sequences, Integral) or n_sequences < 1:
            raise ValueError(
                f"n_sequences must be a positive integer; got {n_sequences!r}."
            )
        rng = check_random_state(random_state)
        tag_seqs = _sample_tags(self, n_sequences, rng)
        lengths = np.fromiter(map(len, tag_seqs), np.int64, n_sequences)
        flat = np.concatenate(tag_seqs)
        if hasattr(self, "means_"):
            noise = rng.standard_normal((len(flat), self.means_.shape[1]))
            values = self.means_[flat] + noise * np.sqrt(self.vars_[flat])
            X = np.split(values, np.cumsum(lengths)[:-1])
        else:
            words = np.empty(len(flat), dtype=object)
            vocab = np.empty(len(self.vocabulary_), dtype=object)
            vocab[:] = list(self.vocabulary_)
            for k in np.unique(flat):
                at = np.flatnonzero(flat == k)
                p = self.emissionprob_[k] / self.emissionprob_[k].sum()
                words[at] = vocab[rng.choice(len(vocab), size=len(at), p=p)]
            X = [list(part) for part in np.split(words, np.cumsum(lengths)[:-1])]
        y = np.split(self.classes_[flat], np.cumsum(lengths)[:-1])
        return X, y


def _leaf_rows(suffixes, rare, n_words):
    """Suffix-tree node of each word: known from fitting for the rare words."""
    leaves = np.full(n_words, -1, dtype=np.intp)
    leaves[rare] = suffixes.leaves_
    return leaves


def _trigram_model(tag_ids, lengths, seq_weights, K, alpha):
    """TnT's trigram transitions by deleted interpolation, with boundaries.

    Index ``K`` is the boundary: ``<s>`` as a context, ``</s>`` as an outcome.
    """
    B = K
    n = len(tag_ids)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    seq_of = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(n) - offsets[seq_of]
    prev1 = np.where(pos >= 1, np.roll(tag_ids, 1), B)
    prev2 = np.where(pos >= 2, np.roll(tag_ids, 2), B)
    w = seq_weights[seq_of]
    nonempty = lengths > 0
    last = offsets[1:][nonempty] - 1
    # Events (h, i, j): every token given its two predecessors, plus </s>.
    h = np.concatenate([prev2, prev1[last]])
    i = np.concatenate([prev1, tag_ids[last]])
    j = np.concatenate([tag_ids, np.full(len(last), B)])
    w = np.concatenate([w, seq_weights[nonempty]])
    S = K + 1
    tri = np.bincount((h * S + i) * S + j, weights=w, minlength=S**3).reshape(S, S, S)
    bi = tri.sum(axis=0)
    uni = bi.sum(axis=0)
    total = uni.sum()

    # Deleted interpolation: each trigram votes, with its count, for the level
    # that predicts it best once the trigram itself is taken out.
    ctx2 = tri.sum(axis=2, keepdims=True)
    ctx1 = bi.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f3 = np.where(ctx2 > 1, (tri - 1) / (ctx2 - 1), 0.0)
        f2 = np.where(ctx1[:, None] > 1, (bi - 1) / (ctx1[:, None] - 1), 0.0)
        f1 = (uni - 1) / (total - 1) if total > 1 else np.zeros(S)
    stacked = np.stack(
        np.broadcast_arrays(f1[None, None, :], f2[None, :, :], f3), axis=0
    )
    votes = np.argmax(stacked, axis=0)
    # One vote more for each level: a level no trigram voted for (the unigrams,
    # on a small regular corpus) would leave every transition unseen in training
    # at probability 0, and a text that needs one with no path at all.
    lam = np.bincount(votes[tri > 0], weights=tri[tri > 0], minlength=3) + 1.0
    lam = lam / lam.sum()

    p1 = (uni + alpha) / (total + alpha * S)
    with np.errstate(invalid="ignore", divide="ignore"):
        p2 = np.where(ctx1[:, None] > 0, bi / ctx1[:, None], 0.0)
        p3 = np.where(ctx2 > 0, tri / ctx2, 0.0)
    proba = lam[0] * p1 + lam[1] * p2[None] + lam[2] * p3
    # A sequence has at least one tag: no </s> right after <s> <s>.
    proba[B, B, B] = 0.0
    proba /= proba.sum(axis=2, keepdims=True)
    return proba[B, B, :K], proba[:, :K, :K], proba[:, :K, B]


def _sample_tags(tagger, n_sequences, rng):
    """Tag sequences drawn from the transition model, all advanced at once."""
    K = len(tagger.classes_)
    order = tagger.order
    prev2 = np.full(n_sequences, K)
    current = _draw(np.broadcast_to(tagger.startprob_, (n_sequences, K)), rng)
    steps = [current]
    alive = np.ones(n_sequences, dtype=bool)
    while True:
        if order == 1:
            rows = np.hstack([tagger.transmat_, tagger.endprob_[:, None]])[current]
        else:
            rows = np.concatenate(
                [tagger.transmat_, tagger.endprob_[:, :, None]], axis=2
            )[prev2, current]
        nxt = _draw(rows, rng)
        alive &= nxt < K
        if not alive.any():
            break
        prev2, current = current, np.where(alive, nxt, 0)
        steps.append(np.where(alive, current, -1))
    drawn = np.stack(steps, axis=1)
    return [row[row >= 0] for row in drawn]


def _draw(proba, rng):
    """One categorical draw per row of ``proba``."""
    cum = np.cumsum(proba, axis=1)
    u = rng.random_sample(len(proba))[:, None] * cum[:, -1:]
    return np.minimum((cum <= u).sum(axis=1), proba.shape[1] - 1)
