"""What the taggers share as scikit-learn objects."""

import numpy as np
from sklearn.utils.validation import _check_sample_weight

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
