"""What the taggers share as scikit-learn objects."""

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from ._tag_schemes import detect_scheme, transitions
from ._validation import split_sequences, validate_tags


class TaggerMixin:
    """Mixin for sequence taggers: ``y`` is required and ``score`` is token accuracy.

    Taggers are not ``ClassifierMixin``: their ``y`` is a list of tag sequences,
    which scikit-learn's classifier machinery rejects. A tagger implements
    ``_predict_flat(X, lengths) -> (tags of all tokens, validated Sequences)``,
    from which ``predict`` and ``score`` follow.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def predict(self, X, lengths=None):
        """The predicted tag of every token.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
        lengths : array-like of int, default=None
            For a 2-D numeric ``X``, see :meth:`fit`.

        Returns
        -------
        y : list of ndarray of shape (T_i,), or ndarray of shape (n_tokens,)
            A list for list input (an empty array for an empty sequence), one flat
            array for a 2-D ``X``.
        """
        return split_sequences(*self._predict_flat(X, lengths))

    def score(self, X, y, lengths=None, sample_weight=None):
        """Token accuracy: the share of tokens whose predicted tag is right.

        Parameters
        ----------
        X : list of token sequences, list of 2-D arrays, or array-like of shape \
(n_tokens, n_features)
            Sequences in the form used in ``fit``.
        y : list of tag sequences, or array-like of shape (n_tokens,)
            The true tags, in the form of ``X``.
        lengths : array-like of int, default=None
            Sequence lengths for a 2-D numeric ``X``.
        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence, given to each of its tokens.

        Returns
        -------
        score : float
        """
        predicted, sequences = self._predict_flat(X, lengths)
        tags = validate_tags(y, sequences)
        if tags.size == 0:
            raise ValueError("Cannot score sequences that are all empty.")
        weights = _check_sample_weight(sample_weight, sequences.lengths)
        token_weights = np.repeat(weights, sequences.lengths)
        return float(np.average(predicted == tags, weights=token_weights))

    # --- span rules (``tag_scheme``) ------------------------------------------

    def _fit_tag_scheme(self, targets, lengths):
        """``tag_scheme_`` for a fit on the tag ids ``targets`` (into
        ``classes_``) of sequences of ``lengths``: ``tag_scheme`` itself, or for
        ``"auto"`` the scheme the tags follow (None for entity tags that follow
        none, as IOB1). An explicit scheme the tags break raises."""
        scheme = self.tag_scheme
        if scheme == "auto":
            scheme = detect_scheme(self.classes_)
        if scheme is None:
            return None
        allowed = transitions(self.classes_, scheme)  # the tags must be the scheme's
        n_invalid = allowed.count_invalid(targets, lengths)
        if not n_invalid:
            return scheme
        if self.tag_scheme == "auto":
            return None
        raise broken_scheme(scheme, n_invalid)

    def _tag_transitions(self):
        """The ``Transitions`` of ``tag_scheme_``, or None."""
        scheme = getattr(self, "tag_scheme_", None)
        return None if scheme is None else transitions(self.classes_, scheme)


def broken_scheme(scheme, n_invalid):
    """The error for training tags that break ``scheme`` in ``n_invalid``
    places."""
    return ValueError(
        f"y breaks the {scheme} scheme in {n_invalid} place(s) (for example an "
        "'I-' tag after 'O' or after another type). Fix the tags, or pass "
        "tag_scheme=None to tag without span rules."
    )
