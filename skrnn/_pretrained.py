"""Pretrained word vectors as one more input stream of the RNN estimators.

The estimators read ``embeddings=`` (see ``skrnn._word_vectors.as_word_vectors``
for the forms it takes) at ``fit`` and keep the resolved table as
``word_vectors_``. Each token's pretrained vector (the token's row, else its
lowercase form's, else zeros) is appended to its trainable embeddings as a frozen
per-step input: the table is never updated, so a word first seen at predict time
gets its vector just as a training word does, and the table is shared, not
copied, by every fit and every clone. The trainable rows of the words that have a
vector also start from it.
"""

import copy

import numpy as np

from ._word_vectors import as_word_vectors


class PretrainedInputMixin:
    """``embeddings=`` for an RNN estimator with token input.

    The subclass calls ``_fit_word_vectors`` when it fits its vocabularies and
    appends ``_word_vector_features`` to what it encodes; ``_n_word_vector_features``
    is the width the network's input gains.
    """

    def __sklearn_clone__(self):
        # The vectors are data that fitting only reads, often a 400,000-row
        # table: every clone (GridSearchCV's candidates, cross_val_score's folds)
        # shares them, where scikit-learn's clone would deep-copy them (and
        # return a fitted language model unfitted).
        without = copy.copy(self)
        without.embeddings = None
        clone = super(PretrainedInputMixin, without).__sklearn_clone__()
        clone.embeddings = self.embeddings
        return clone

    def _model_file_params(self, params):
        # A model file holds the vectors as the fit resolved them, whatever form
        # ``embeddings`` had (a path, a dict, a language model): a loaded model's
        # ``embeddings`` is its ``word_vectors_``, so a refit gives the same model.
        if hasattr(self, "word_vectors_"):
            params = {**params, "embeddings": self.word_vectors_}
        return params

    def _fit_word_vectors(self, sequences):
        """Resolve ``embeddings`` into ``word_vectors_``, the scale of its rows and
        the share of training tokens it covers."""
        for attr in ("word_vectors_", "embedding_coverage_", "_vector_scale"):
            self.__dict__.pop(attr, None)
        if self.embeddings is None:
            return
        if sequences.kind != "tokens":
            raise ValueError(
                f"embeddings= gives a vector to each token, but {type(self).__name__} "
                "was given numeric sequences. Pass token sequences, or "
                "embeddings=None for numeric input."
            )
        vectors = as_word_vectors(self.embeddings)
        rows = vectors.lookup(sequences.values)
        self.word_vectors_ = vectors
        self.embedding_coverage_ = float(np.mean(rows >= 0)) if rows.size else 0.0
        self._vector_scale = _unit_scale(vectors.vectors)

    def _initial_params(self):
        params = super()._initial_params()
        if hasattr(self, "word_vectors_"):
            for name, tokens in self._word_tables():
                _start_from_vectors(
                    params[name], tokens, self.word_vectors_, self._vector_scale
                )
        return params

    def _word_tables(self):
        """``(parameter name, id -> token)`` of each trainable table of words
        whose rows start from the pretrained vectors; None stands for a
        placeholder row (the unknown word), which keeps its random start."""
        raise NotImplementedError

    def _n_word_vector_features(self):
        vectors = getattr(self, "word_vectors_", None)
        return 0 if vectors is None else vectors.dim

    def _word_vector_features(self, tokens):
        """``(n_tokens, dim)`` float32: each token's pretrained vector, scaled to
        unit mean norm; zeros for a token without one."""
        vectors = self.word_vectors_
        rows = vectors.lookup(tokens)
        features = np.zeros((rows.size, vectors.dim), dtype=np.float32)
        found = rows >= 0
        features[found] = vectors.vectors[rows[found]]
        features *= np.float32(self._vector_scale)
        return features


def _start_from_vectors(table, tokens, vectors, scale):
    """Start the rows of the words that have a vector from it, scaled by
    ``scale``: its first ``min(width, dim)`` coordinates, zeros past them (the
    extra coordinates learn from zero rather than add noise to the vector).
    Placeholders (None) and words without a vector keep their random rows."""
    rows = vectors.lookup(tokens)
    found = np.flatnonzero(rows >= 0)
    width = min(table.shape[1], vectors.dim)
    start = np.zeros((found.size, table.shape[1]), dtype=table.dtype)
    start[:, :width] = vectors.vectors[rows[found], :width] * np.float32(scale)
    table[found] = start


def _unit_scale(table):
    """The factor that gives the rows of ``table`` a mean L2 norm of one, as the
    trainable embeddings have at initialisation (GloVe's rows have norms of 4 to
    6, which would saturate the first layer's gates beside them)."""
    norms = np.sqrt(np.einsum("ij,ij->i", table, table, dtype=np.float64))
    mean = float(norms.mean())
    return 1.0 / mean if mean > 0 else 1.0
