"""How ``RNNTagger`` reads a token's characters: ``Spelling`` (tokens as rows of
character ids) and ``CharCNN`` (the settings of its character encoder)."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from ._persistence import model_file_class
from ._settings import _Settings
from ._vocabulary import distinct_tokens

PAD, UNKNOWN, BEGIN, END = 0, 1, 2, 3
# Longer words keep their first and last MAX_CHARS // 2 characters: what tells
# a word's class is mostly at its ends (prefixes, suffixes, capitals).
MAX_CHARS = 16


@model_file_class
class Spelling:
    """Character ids of each token: ``BEGIN``, its characters (or their first and
    last ``MAX_CHARS // 2``), ``END``, then ``PAD`` to ``MAX_CHARS + 2`` columns.

    Characters not seen in ``fit`` are ``UNKNOWN``, so any token can be spelled.

    Attributes
    ----------
    index_ : dict
        Character → id, from 4 on.
    n_chars_ : int
        Rows a character table needs.
    """

    width = MAX_CHARS + 2

    def fit(self, tokens):
        types, _ = distinct_tokens(tokens)
        chars = sorted(set().union(*map(set, map(str, types))))
        self.index_ = {c: i for i, c in enumerate(chars, start=END + 1)}
        return self

    @property
    def n_chars_(self):
        return END + 1 + len(self.index_)

    def transform(self, tokens):
        """``(n_tokens, width)`` int64 ids, each distinct token spelled once."""
        types, inverse = distinct_tokens(tokens)
        rows = np.full((len(types), self.width), PAD, dtype=np.int64)
        get = self.index_.get
        for i, token in enumerate(types):
            word = str(token)
            if len(word) > MAX_CHARS:
                half = MAX_CHARS // 2
                word = word[:half] + word[-half:]
            rows[i, 0] = BEGIN
            rows[i, 1 : len(word) + 1] = [get(c, UNKNOWN) for c in word]
            rows[i, len(word) + 1] = END
        return rows[inverse]


@model_file_class
class CharCNN(_Settings):
    """The character encoder of ``RNNTagger(char_encoder=CharCNN(...))``.

    Each token's characters (its first and last 8 for longer words, between
    begin and end markers) are embedded and read by a convolution of
    ``filters`` filters over ``window`` characters, max-pooled over the word
    (Ma & Hovy, 2016). ``char_encoder="cnn"`` is ``CharCNN()``. Its parameters
    are the tagger's nested parameters, as a pipeline's steps' are:
    ``GridSearchCV(tagger, {"char_encoder__filters": [32, 64]})``.

    Parameters
    ----------
    embedding_dim : int, default=16
        Size of a character embedding.
    filters : int, default=64
        Filters of the convolution: the width of a word's character vector.
    window : int, default=3
        Characters each filter sees.
    """

    _parameter_constraints: dict = {
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "filters": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, Spelling.width, closed="both")],
    }

    def __init__(self, embedding_dim=16, filters=64, window=3):
        self.embedding_dim = embedding_dim
        self.filters = filters
        self.window = window
