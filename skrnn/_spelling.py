"""Tokens as rows of character ids, for the character CNN of ``RNNTagger``."""

import numpy as np

from ._persistence import model_file_class
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
