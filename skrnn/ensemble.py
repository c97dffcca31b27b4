"""VotingTagger: several taggers fitted on the same sequences, one vote per token.

scikit-learn's ``VotingClassifier`` for taggers, whose ``y`` and predictions are
sequences of tags rather than one label per sample.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import _BaseComposition, available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._engine.crf import viterbi
from ._persistence import SaveMixin
from ._tag_schemes import transitions
from ._tagging import TaggerMixin
from ._validation import split_sequences, validate_sequences

__all__ = ["VotingTagger"]


def _check_soft(vote):
    """``predict_proba`` exists for soft voting only (``available_if``)."""
    if vote.voting != "soft":
        raise AttributeError(
            f"predict_proba is not available when voting={vote.voting!r}; use "
            "voting='soft'."
        )
    return True


class VotingTagger(SaveMixin, TaggerMixin, _BaseComposition, BaseEstimator):
    """Soft or hard vote of several taggers fitted on the same data.

    Each tagger is cloned and fitted on all of ``X, y`` (in parallel with
    ``n_jobs``); a token's tag is then the class with the highest average
    probability over the taggers (``voting="soft"``) or the most votes
    (``voting="hard"``). Taggers that differ only in ``random_state`` make
    different errors, so their average is more accurate than any of them:
    two ``RNNTagger(char_encoder="cnn", adversarial=0.2)`` of different seeds
    tag UD English EWT better than one (see docs/benchmarks.md).

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The taggers, each with a name (used by ``get_params``/``set_params``,
        e.g. ``rnn0__hidden_size``). Any estimator with ``fit(X, y)``,
        ``predict`` and ``classes_`` works, and ``predict_proba`` for soft
        voting. A tagger set to ``"drop"`` is left out.
    voting : {"soft", "hard"}, default="soft"
        ``"soft"`` averages the taggers' per-token probabilities (weighted by
        ``weights``) and takes the argmax (when every tagger keeps to the same
        span rules, ``RNNTagger``'s ``tag_scheme_``, the most probable tag
        sequence that keeps to them); ``"hard"`` counts their predicted
        tags, ties going to the first class in ``classes_``. Soft is the
        default, unlike ``VotingClassifier``, because every skrnn tagger gives
        calibrated probabilities and the average of them is the more accurate.
    weights : array-like of shape (n_estimators,), default=None
        Weight of each tagger's probabilities or votes (one per entry of
        ``estimators``, dropped ones included); equal weights when None.
    n_jobs : int, default=None
        Taggers fitted in parallel (joblib; ``-1`` for every core). Prediction
        runs them in turn.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted clones, without the dropped ones.
    classes_ : ndarray of shape (n_classes,)
        Every tag any tagger knows, sorted.
    n_features_in_ : int
        Number of features per step (numeric sequences only).

    See Also
    --------
    sklearn.ensemble.VotingClassifier : The same for one label per sample.

    Examples
    --------
    >>> from skrnn import HMMTagger, RNNTagger, VotingTagger
    >>> from skrnn.datasets import make_tagging
    >>> X, y = make_tagging(n_sequences=60, random_state=0)
    >>> vote = VotingTagger(
    ...     [("hmm", HMMTagger()), ("rnn", RNNTagger(max_iter=5, random_state=0))]
    ... ).fit(X, y)
    >>> vote.predict(X[:1])[0].shape == (len(X[0]),)
    True
    """

    _parameter_constraints: dict = {
        "estimators": [list],
        "voting": [StrOptions({"soft", "hard"})],
        "weights": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimators, *, voting="soft", weights=None, n_jobs=None):
        self.estimators = estimators
        self.voting = voting
        self.weights = weights
        self.n_jobs = n_jobs

    # get_params/set_params reach into the taggers by name, as Pipeline's do
    # (_BaseComposition is the base Pipeline and VotingClassifier share).
    def get_params(self, deep=True):
        """Parameters of the vote and, with ``deep``, of every tagger by name.

        Parameters
        ----------
        deep : bool, default=True
            Also return each tagger and its parameters as ``name__param``.

        Returns
        -------
        params : dict
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of the vote, or of a tagger as ``name__param``.

        Parameters
        ----------
        **params : dict
            A tagger's name set to an estimator replaces it, to ``"drop"``
            leaves it out.

        Returns
        -------
        self : VotingTagger
        """
        self._set_params("estimators", **params)
        return self

    @property
    def named_estimators_(self):
        """:class:`~sklearn.utils.Bunch` of the fitted taggers by name."""
        check_is_fitted(self, "estimators_")
        names = [name for name, est in self.estimators if est != "drop"]
        return Bunch(**dict(zip(names, self.estimators_, strict=True)))

    def _members(self):
        """The taggers to fit, dropped ones left out, after checking the
        parameters that ``_parameter_constraints`` cannot express."""
        if not self.estimators or not all(
            isinstance(item, (tuple, list))
            and len(item) == 2
            and isinstance(item[0], str)
            for item in self.estimators
        ):
            raise ValueError(
                "estimators must be a non-empty list of (name, estimator) tuples; "
                f"got {self.estimators!r}."
            )
        names, estimators = zip(*self.estimators, strict=True)
        self._validate_names(names)
        if self.weights is not None and len(self.weights) != len(estimators):
            raise ValueError(
                f"weights must hold one number per estimator ({len(estimators)}); "
                f"got {len(self.weights)} weights."
            )
        members = [est for est in estimators if est != "drop"]
        if not members:
            raise ValueError("All estimators are 'drop'; at least one is needed.")
        method = "predict_proba" if self.voting == "soft" else "predict"
        for name, est in zip(names, estimators, strict=True):
            if est != "drop" and not (hasattr(est, "fit") and hasattr(est, method)):
                raise TypeError(
                    f"Estimator {name!r} ({type(est).__name__}) has no fit or "
                    f"{method}; voting={self.voting!r} needs both."
                )
        return members

    def _member_weights(self):
        """The weights of the members not dropped, in ``estimators_`` order."""
        weights = [1.0] * len(self.estimators) if self.weights is None else self.weights
        kept = [w for (_, est), w in zip(self.estimators, weights, strict=True)
                if est != "drop"]
        return np.asarray(kept, dtype=float)

    def fit(self, X, y, lengths=None):
        """Fit a clone of every tagger on ``X, y``.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
            Sequences in any form the taggers take.
        y : list of tag sequences, or array-like of shape (n_tokens,)
            One tag per token, in the form of ``X``.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``, passed to every tagger.

        Returns
        -------
        self : VotingTagger
        """
        self._validate_params()
        members = self._members()
        validate_sequences(self, X, lengths=lengths, reset=True)
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(clone(est), X, y, lengths) for est in members
        )
        self.classes_ = np.unique(
            np.concatenate([est.classes_ for est in self.estimators_])
        )
        return self

    @available_if(_check_soft)
    def predict_proba(self, X, lengths=None):
        """Weighted average of the taggers' tag probabilities for every token.

        Only for ``voting="soft"``.

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
            ``classes_``; a tag a tagger never saw has probability 0 from it.
        """
        proba, sequences = self._average(X, lengths)
        return split_sequences(proba, sequences)

    def _predict_flat(self, X, lengths):
        scores, sequences = self._average(X, lengths)
        scheme = self._tag_scheme()
        if scheme is None:
            return self.classes_[scores.argmax(axis=1)], sequences
        rules = transitions(self.classes_, scheme)
        return self.classes_[_best_valid(scores, sequences.lengths, rules)], sequences

    def _tag_scheme(self):
        """The span rules every tagger keeps to (their ``tag_scheme_``, when
        all have the same), which a soft vote keeps to as well; else None."""
        schemes = {getattr(est, "tag_scheme_", None) for est in self.estimators_}
        if self.voting != "soft" or len(schemes) != 1:
            return None
        return schemes.pop()

    def _average(self, X, lengths):
        """``(n_tokens, n_classes)``: the taggers' weighted mean probabilities
        (soft) or votes (hard), each tagger's columns placed at its classes in
        ``classes_``."""
        check_is_fitted(self, "estimators_")
        sequences = validate_sequences(self, X, lengths=lengths, reset=False)
        weights = self._member_weights()
        total = np.zeros((sequences.lengths.sum(), len(self.classes_)))
        for est, weight in zip(self.estimators_, weights, strict=True):
            if self.voting == "soft":
                scores = _flat(est.predict_proba(X, **_lengths_kwarg(lengths)))
            else:
                tags = _flat(est.predict(X, **_lengths_kwarg(lengths)))
                scores = tags[:, None] == est.classes_[None, :]
            total[:, np.searchsorted(self.classes_, est.classes_)] += weight * scores
        return total / weights.sum(), sequences


def _best_valid(proba, lengths, rules):
    """Each token's tag in the most probable tag sequence (the product of its
    tokens' averaged probabilities) that keeps to ``rules``, by Viterbi over
    the sequences padded into one batch."""
    lengths = lengths[lengths > 0]
    if lengths.size == 0:
        return proba.argmax(axis=1)
    mask = np.arange(lengths.max())[:, None] < lengths[None, :]
    emissions = np.zeros(mask.shape + proba.shape[1:])
    # a tag that no tagger gives any probability stays a (very bad) choice, so
    # that a valid path always has a finite score
    emissions.transpose(1, 0, 2)[mask.T] = np.log(np.maximum(proba, 1e-300))
    start, trans, end = rules.penalties(np.float64)
    path, _ = viterbi(emissions, mask, trans, start, end)
    return path.T[mask.T]


def _lengths_kwarg(lengths):
    # Taggers outside skrnn need not take ``lengths``; pass it only when given.
    return {} if lengths is None else {"lengths": lengths}


def _fit_member(estimator, X, y, lengths):
    return estimator.fit(X, y, **_lengths_kwarg(lengths))


def _flat(output):
    """A tagger's per-sequence output (a list) as one array over all tokens."""
    if isinstance(output, list):
        return np.concatenate(output) if output else np.empty(0)
    return np.asarray(output)
