"""What a token becomes for the networks: ids in vocabularies.

``Vocabulary`` maps tokens to ids (0 for unknown); ``TokenFeaturizer`` gives every
token the ids of its word, lowercase form, suffixes and shape, so that a word
never seen in training still has informative ids; ``WordFeatures`` holds which of
those streams ``RNNTagger`` embeds.
"""

from __future__ import annotations

import numbers
from collections import Counter
from itertools import repeat

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_scalar
from sklearn.utils._param_validation import Interval

from ._persistence import model_file_class
from ._settings import _Settings

__all__ = [
    "TokenFeaturizer",
    "Vocabulary",
    "WordFeatures",
    "distinct_tokens",
    "word_shape",
]

UNK = "<unk>"


def _check_vocab_params(min_freq, max_size):
    check_scalar(min_freq, "min_freq", numbers.Integral, min_val=1)
    if max_size is not None:
        check_scalar(max_size, "max_size", numbers.Integral, min_val=0)


def _as_token_iterable(tokens):
    if isinstance(tokens, (str, bytes)):
        raise ValueError(
            f"tokens is a {type(tokens).__name__}; expected a 1-D sequence of tokens "
            "(a str would be split into characters)."
        )
    if isinstance(tokens, np.ndarray) and tokens.ndim != 1:
        raise ValueError(f"tokens must be 1-D; got an array of shape {tokens.shape}.")
    return tokens


def _lower(token):
    return token.lower() if isinstance(token, str) else token


class _TokenTransformer:
    """``fit_transform`` for the token transformers below."""

    def fit_transform(self, tokens):
        """Fit, then transform the same tokens."""
        if not hasattr(tokens, "__len__"):
            tokens = list(tokens)
        return self.fit(tokens).transform(tokens)


def _check_fitted(transformer, attribute):
    if not hasattr(transformer, attribute):
        raise NotFittedError(
            f"This {type(transformer).__name__} instance is not fitted yet. "
            "Call 'fit' first."
        )


@model_file_class(formerly="skrnn._data.Vocabulary")
class Vocabulary(_TokenTransformer):
    """Token to id map; id 0 is ``<unk>``, known tokens get ids 1..n-1.

    Known tokens are numbered by decreasing training frequency, ties broken by
    first occurrence, so that the map is deterministic.

    Parameters
    ----------
    min_freq : int, default=1
        Tokens seen fewer times in ``fit`` map to ``<unk>``.
    max_size : int or None, default=None
        Keep at most this many known tokens (the most frequent), not counting
        ``<unk>``.
    lowercase : bool, default=False
        Lowercase str tokens before counting and before lookup.

    Attributes
    ----------
    tokens_ : list
        id -> token; ``tokens_[0]`` is the placeholder ``"<unk>"``.
    index_ : dict
        token -> id for known tokens (the placeholder is not in it).
    counts_ : ndarray of shape (n_ids,), dtype int64
        Training frequency per id; ``counts_[0]`` counts tokens mapped to unk.
    """

    def __init__(self, *, min_freq=1, max_size=None, lowercase=False):
        self.min_freq = min_freq
        self.max_size = max_size
        self.lowercase = lowercase

    def __repr__(self):
        return (
            f"Vocabulary(min_freq={self.min_freq!r}, max_size={self.max_size!r}, "
            f"lowercase={self.lowercase!r})"
        )

    def fit(self, tokens):
        """Count tokens and build the map.

        Parameters
        ----------
        tokens : 1-D array-like or iterable of hashable tokens

        Returns
        -------
        self : Vocabulary
        """
        tokens = _as_token_iterable(tokens)
        # Counter counts in C and keeps first-occurrence order of types.
        return self._fit_counts(_counter(tokens))

    def _fit_counts(self, counts):
        """Build the map from {token: count} in first-occurrence order."""
        _check_vocab_params(self.min_freq, self.max_size)
        if self.lowercase:
            merged = {}
            for token, count in counts.items():
                key = _lower(token)
                merged[key] = merged.get(key, 0) + count
            counts = merged
        total = sum(counts.values())
        ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable
        kept = [(t, c) for t, c in ranked if c >= self.min_freq]
        if self.max_size is not None:
            kept = kept[: self.max_size]
        self.tokens_ = [UNK] + [t for t, _ in kept]
        self.index_ = {t: i for i, t in enumerate(self.tokens_[1:], start=1)}
        known = np.fromiter((c for _, c in kept), dtype=np.int64, count=len(kept))
        self.counts_ = np.concatenate(
            [np.array([total - known.sum()], dtype=np.int64), known]
        )
        return self

    def transform(self, tokens):
        """Map tokens to ids; unknown tokens map to 0.

        Parameters
        ----------
        tokens : 1-D array-like or iterable of hashable tokens

        Returns
        -------
        ids : ndarray of shape (n_tokens,), dtype int64
        """
        _check_fitted(self, "index_")
        tokens = _as_token_iterable(tokens)
        if self.lowercase:
            tokens = map(_lower, tokens)
        return np.fromiter(map(self.index_.get, tokens, repeat(0)), dtype=np.int64)

    def __len__(self):
        return len(self.tokens_)


def _counter(tokens):
    try:
        return Counter(tokens)
    except TypeError as exc:
        raise TypeError(f"tokens must be hashable ({exc}).") from exc


# ------------------------------------------------------------------ featurizer


def word_shape(token):
    """Orthographic shape of a token, with runs collapsed to at most 4.

    Upper-case letters become ``X``, other letters ``x``, digits ``d``, other
    characters are kept: ``"Apple" -> "Xxxxx"``, ``"12" -> "dd"``,
    ``"U.S." -> "X.X."``, ``"ab-cd" -> "xx-xx"``.

    Parameters
    ----------
    token : str

    Returns
    -------
    shape : str
    """
    shape = []
    last, run = None, 0
    for char in str(token):
        if char.isalpha():
            code = "X" if char.isupper() else "x"
        elif char.isdigit():
            code = "d"
        else:
            code = char
        run = run + 1 if code == last else 1
        last = code
        if run <= 4:
            shape.append(code)
    return "".join(shape)


@model_file_class(formerly="skrnn._data.TokenFeaturizer")
class TokenFeaturizer(_TokenTransformer):
    """Id streams for words: word, lowercase, suffixes and shape.

    Rare and unseen words still get informative ids from the suffix and shape
    streams. Features are computed once per distinct token type and broadcast to
    tokens.

    Parameters
    ----------
    min_freq : int, default=1
        Minimum training count for the word and lowercase streams.
    max_size : int or None, default=None
        Maximum number of known words in the word and lowercase streams.
    suffix_length : int, default=3
        Streams ``suffix1`` .. ``suffix{suffix_length}`` of the lowercased token
        (tokens shorter than k give their whole lowercased form).
    lowercase_stream : bool, default=True
        Add the ``lower`` stream.
    shape_stream : bool, default=True
        Add the ``shape`` stream (:func:`word_shape`).

    Attributes
    ----------
    stream_names_ : list of str
    vocab_sizes_ : list of int
        ``len`` of each stream's vocabulary (including id 0, unknown).
    vocabularies_ : list of Vocabulary
    word_counts_ : ndarray of shape (vocab_sizes_[0],)
        Training counts of the word stream.
    """

    def __init__(
        self,
        *,
        min_freq=1,
        max_size=None,
        suffix_length=3,
        lowercase_stream=True,
        shape_stream=True,
    ):
        self.min_freq = min_freq
        self.max_size = max_size
        self.suffix_length = suffix_length
        self.lowercase_stream = lowercase_stream
        self.shape_stream = shape_stream

    def __repr__(self):
        return (
            f"TokenFeaturizer(min_freq={self.min_freq!r}, max_size={self.max_size!r}, "
            f"suffix_length={self.suffix_length!r}, "
            f"lowercase_stream={self.lowercase_stream!r}, "
            f"shape_stream={self.shape_stream!r})"
        )

    def _streams(self):
        """(name, key function, uses min_freq/max_size) per stream."""
        streams = [("word", None, True)]
        if self.lowercase_stream:
            streams.append(("lower", lambda t: str(t).lower(), True))
        for k in range(1, self.suffix_length + 1):
            streams.append((f"suffix{k}", _SuffixKey(k), False))
        if self.shape_stream:
            streams.append(("shape", word_shape, False))
        return streams

    def fit(self, tokens):
        """Build one vocabulary per stream.

        Parameters
        ----------
        tokens : 1-D array-like or iterable of hashable tokens

        Returns
        -------
        self : TokenFeaturizer
        """
        _check_vocab_params(self.min_freq, self.max_size)
        check_scalar(self.suffix_length, "suffix_length", numbers.Integral, min_val=0)
        type_counts = _counter(_as_token_iterable(tokens))
        self.stream_names_, self.vocabularies_ = [], []
        for name, key, limited in self._streams():
            if key is None:
                counts = type_counts
            else:
                counts = {}
                for token, count in type_counts.items():
                    derived = key(token)
                    counts[derived] = counts.get(derived, 0) + count
            vocab = Vocabulary(
                min_freq=self.min_freq if limited else 1,
                max_size=self.max_size if limited else None,
            )
            self.stream_names_.append(name)
            self.vocabularies_.append(vocab._fit_counts(counts))
        self.vocab_sizes_ = [len(v) for v in self.vocabularies_]
        self.word_counts_ = self.vocabularies_[0].counts_
        return self

    def transform(self, tokens):
        """Ids of every stream for every token; 0 means unknown in that stream.

        Parameters
        ----------
        tokens : 1-D array-like or iterable of hashable tokens

        Returns
        -------
        ids : ndarray of shape (n_tokens, n_streams), dtype int64
        """
        _check_fitted(self, "vocabularies_")
        type_list, inverse = distinct_tokens(tokens)
        per_type = np.empty((len(type_list), len(self.vocabularies_)), dtype=np.int64)
        for j, ((_, key, _), vocab) in enumerate(
            zip(self._streams(), self.vocabularies_, strict=True)
        ):
            keys = type_list if key is None else map(key, type_list)
            per_type[:, j] = vocab.transform(list(keys))
        return per_type[inverse]


@model_file_class
class WordFeatures(_Settings):
    """Which streams ``RNNTagger`` embeds beside the word (``word_features``).

    Each token is embedded as the word itself and, so that a word never seen
    in training is still tagged from its form, as its lowercase form, its
    suffixes and its shape (``"Xxxx"``, ``"dd"``).
    ``word_features="auto"`` is ``WordFeatures()``; ``None`` embeds the word
    alone. Its parameters are nested parameters of a tagger given one, as a
    pipeline's steps' are: ``GridSearchCV(RNNTagger(word_features=
    WordFeatures()), {"word_features__suffix_length": [2, 4]})``.

    Parameters
    ----------
    suffix_length : int, default=4
        Embed the suffixes of 1 to ``suffix_length`` characters of the
        lowercased word (a shorter word gives all of it); 0: none.
    lowercase : bool, default=True
        Embed the lowercase form of each token as its own stream, of the
        tagger's ``embedding_dim`` as the word's.
    shape : bool, default=True
        Embed the word shape of each token (capitalisation, digits,
        punctuation).
    embedding_dim : int, default=16
        Size of each suffix and shape embedding.
    """

    _parameter_constraints: dict = {
        "suffix_length": [Interval(numbers.Integral, 0, None, closed="left")],
        "lowercase": ["boolean"],
        "shape": ["boolean"],
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, suffix_length=4, lowercase=True, shape=True, embedding_dim=16):
        self.suffix_length = suffix_length
        self.lowercase = lowercase
        self.shape = shape
        self.embedding_dim = embedding_dim


def distinct_tokens(tokens):
    """The distinct tokens in order of first occurrence, and the index of each
    token among them: what is computed per token type is broadcast back with
    ``per_type[inverse]``."""
    tokens = _as_token_iterable(tokens)
    if not hasattr(tokens, "__len__"):
        tokens = list(tokens)
    types = dict.fromkeys(tokens)
    type_index = {t: i for i, t in enumerate(types)}
    inverse = np.fromiter(
        map(type_index.__getitem__, tokens), dtype=np.int64, count=len(tokens)
    )
    return list(types), inverse


class _SuffixKey:
    """Picklable key function: the last k characters of the lowercased token."""

    def __init__(self, k):
        self.k = k

    def __call__(self, token):
        return str(token).lower()[-self.k :]
