"""Tokens as rows of character ids, for the character CNN of ``RNNTagger``."""

import numpy as np

from ._data import _as_token_iterable

PAD, UNKNOWN, BEGIN, END = 0, 1, 2, 3
# Longer words keep their first and last MAX_CHARS // 2 characters: what tells
# a word's class is mostly at its ends (prefixes, suffixes, capitals).
MAX_CHARS = 16


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
        chars = sorted(set().union(*map(set, map(str, _types(tokens)))))
        self.index_ = {c: i for i, c in enumerate(chars, start=END + 1)}
        self.n_chars_ = END + 1 + len(chars)
        return self

    def transform(self, tokens):
        """``(n_tokens, width)`` int64 ids, each distinct token spelled once."""
        tokens = _as_token_iterable(tokens)
        if not hasattr(tokens, "__len__"):
            tokens = list(tokens)
        types = _types(tokens)
        type_index = {t: i for i, t in enumerate(types)}
        inverse = np.fromiter(
            map(type_index.__getitem__, tokens), dtype=np.int64, count=len(tokens)
        )
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


def _types(tokens):
    return list(dict.fromkeys(tokens))
