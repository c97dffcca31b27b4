"""Input validation and encoding shared by every skrnn estimator.

A set of sequences is held FLAT + LENGTHS: all tokens (or feature rows) of all
sequences concatenated along axis 0, plus the length of each sequence. Padded
batches are built from that by the engine.
"""

from __future__ import annotations

import numbers
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat

import numpy as np
from scipy import sparse
from sklearn.utils import assert_all_finite, check_scalar
from sklearn.utils.validation import column_or_1d, validate_data

from ._persistence import model_file_class

__all__ = [
    "Sequences",
    "TokenFeaturizer",
    "Vocabulary",
    "split_sequences",
    "validate_sequences",
    "validate_tags",
    "word_shape",
]

UNK = "<unk>"

_STR_HINT = (
    "a str would be split into characters. Pass tokenized texts, e.g. "
    "[text.split() for text in texts], or put skrnn.preprocessing.Tokenizer in "
    "front of the estimator in a Pipeline; a single sentence is [tokens]."
)
_EXPECTED_X = (
    "a list of token sequences, a list of 2-D (T_i, n_features) numeric arrays, "
    "or a 2-D numeric array-like"
)


@dataclass(frozen=True, eq=False)
class Sequences:
    """A validated set of sequences, stored flat with their lengths.

    Attributes
    ----------
    kind : {"tokens", "numeric"}
        Token sequences or per-step numeric feature vectors.
    values : ndarray
        ``kind="tokens"``: 1-D object array (n_tokens,) of the tokens as given.
        ``kind="numeric"``: 2-D float64 array (n_tokens, n_features).
    lengths : ndarray of shape (n_sequences,), dtype int64
        Length of each sequence; zeros are allowed.
    form : {"list", "flat"}
        ``"list"``: outputs are lists of per-sequence arrays; ``"flat"``: outputs
        are flat arrays (the input was a plain 2-D/3-D numeric array).
    """

    kind: str
    values: np.ndarray
    lengths: np.ndarray
    form: str

    @cached_property
    def offsets(self) -> np.ndarray:
        """Start of each sequence in ``values``, plus the end: (n_sequences + 1,)."""
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        return offsets

    @property
    def n_sequences(self) -> int:
        """Number of sequences."""
        return len(self.lengths)


# --------------------------------------------------------------------------- X


def _element_category(element, i):
    """Classify X[i] as "tokens", "numlist", "nested", "array", "scalar" or "empty"."""
    if isinstance(element, (str, bytes)):
        raise ValueError(
            f"X[{i}] is a {type(element).__name__}, but each element of X must be "
            f"a sequence of tokens: {_STR_HINT}"
        )
    if isinstance(element, np.ndarray):
        if element.dtype.kind in "biuf":
            return "array"
        if element.dtype.kind == "c":
            raise ValueError(f"X[{i}] is a complex array; expected real numbers.")
        if element.ndim != 1:
            raise ValueError(
                f"X[{i}] is a {element.ndim}-D array of dtype {element.dtype}; "
                "expected a 1-D sequence of tokens or a 2-D (T_i, n_features) "
                "numeric array."
            )
        return "tokens" if len(element) else "empty"
    if isinstance(element, (numbers.Number, np.generic)):
        return "scalar"
    if isinstance(element, (list, tuple)):
        if not element:
            return "empty"
        first = element[0]
        if isinstance(first, (list, tuple, np.ndarray)):
            return "nested"
        if isinstance(first, numbers.Number) and not isinstance(first, (str, bytes)):
            return "numlist"
        return "tokens"
    raise TypeError(
        f"X[{i}] is a {type(element).__name__}; expected each element of X to be a "
        "list/tuple/1-D array of tokens or a 2-D (T_i, n_features) numeric array."
    )


def _as_step_array(element, i):
    """Convert a "nested" or "array" element to a 2-D float64 array, or say why not."""
    try:
        arr = np.asarray(element, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"X[{i}] is a sequence of sequences that is not a 2-D numeric array "
            f"({exc}). Expected a sequence of hashable tokens or a 2-D "
            "(T_i, n_features) numeric array. If the items are (token, tag) pairs, "
            "split them: X = [[w for w, t in s] for s in data], "
            "y = [[t for w, t in s] for s in data]."
        ) from exc
    if arr.ndim != 2:
        raise ValueError(
            f"X[{i}] has shape {arr.shape}; each numeric sequence in a list must be "
            "a 2-D (T_i, n_features) array (use a.reshape(-1, 1) for a single "
            "feature per step)."
        )
    return arr


def _read_only(values, source):
    """Protect caller memory: a view of the input is returned read-only."""
    if isinstance(source, np.ndarray) and np.may_share_memory(values, source):
        values = values.view()
        values.flags.writeable = False
    return values


def _check_lengths(lengths, n_rows):
    lengths_arr = np.asarray(lengths)
    if lengths_arr.ndim != 1 or not (
        lengths_arr.dtype.kind in "iu" or (lengths_arr.size == 0)
    ):
        raise ValueError(
            "lengths must be a 1-D array-like of non-negative integers (one length "
            f"per sequence); got dtype {lengths_arr.dtype} with shape "
            f"{lengths_arr.shape}."
        )
    lengths_arr = np.array(lengths_arr, dtype=np.int64, copy=True)
    if (lengths_arr < 0).any():
        raise ValueError("lengths must be non-negative integers; got a negative value.")
    total = int(lengths_arr.sum())
    if total != n_rows:
        raise ValueError(
            f"lengths sum to {total}, but X has {n_rows} rows; lengths must group "
            "all consecutive rows of X into sequences."
        )
    return lengths_arr


def _record_kind(estimator, kind, reset):
    """At predict time, refuse input of another kind than in fit."""
    if reset:
        return  # recorded by _set_kind once the whole input is valid
    fitted_kind = getattr(estimator, "_input_kind", None)
    if fitted_kind is not None and fitted_kind != kind:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on {fitted_kind} input, but X "
            f"is {kind} input; pass the same kind of input as in fit."
        )


def _set_kind(estimator, kind):
    estimator._input_kind = kind
    if kind == "tokens":
        # n_features_in_ describes numeric input only; drop what an earlier
        # numeric fit left behind.
        for attr in ("n_features_in_", "feature_names_in_", "_n_step_features"):
            if hasattr(estimator, attr):
                delattr(estimator, attr)


def _check_step_features(estimator, n_features, reset, set_n_features_in):
    name = type(estimator).__name__
    if reset:
        estimator._n_step_features = n_features
        if set_n_features_in:
            estimator.n_features_in_ = n_features
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        return
    expected = getattr(estimator, "_n_step_features", None)
    if expected is not None and n_features != expected:
        raise ValueError(
            f"X has {n_features} features, but {name} is expecting {expected} "
            "features as input."
        )


def _numeric_flat(estimator, X, lengths, layout, reset):
    """The plain numeric array paths, validated by scikit-learn itself."""
    if layout == "rows":
        arr = validate_data(
            estimator, X, reset=reset, dtype=np.float64, accept_sparse=False
        )
        n_rows, n_features = arr.shape
        if lengths is None:
            lengths_arr = np.ones(n_rows, dtype=np.int64)
        else:
            lengths_arr = _check_lengths(lengths, n_rows)
        values = arr
    else:
        if lengths is not None:
            raise ValueError(
                "lengths is not used with layout='series': each row of a 2-D X "
                "(or each (T, d) slice of a 3-D X) is one sequence. Pass a list of "
                "2-D (T_i, n_features) arrays for sequences of different lengths."
            )
        arr = validate_data(
            estimator,
            X,
            reset=reset,
            dtype=np.float64,
            accept_sparse=False,
            allow_nd=True,
        )
        if arr.ndim > 3:
            raise ValueError(
                f"Found array with dim {arr.ndim}; expected a 2-D (n_sequences, "
                "n_timesteps) or 3-D (n_sequences, n_timesteps, n_channels) array."
            )
        n_seq, n_steps = arr.shape[:2]
        n_features = arr.shape[2] if arr.ndim == 3 else 1
        values = arr.reshape(n_seq * n_steps, n_features)
        lengths_arr = np.full(n_seq, n_steps, dtype=np.int64)
    _check_step_features(estimator, n_features, reset, set_n_features_in=False)
    return Sequences("numeric", _read_only(values, X), lengths_arr, "flat")


def _numeric_list(estimator, X, categories, reset):
    """A ragged list of 2-D (T_i, n_features) arrays."""
    arrays = []
    n_features = None
    for i, (element, cat) in enumerate(zip(X, categories, strict=True)):
        if cat == "empty":
            raise ValueError(
                f"X[{i}] is empty; in a list of numeric sequences each sequence must "
                "be a 2-D (T_i, n_features) array (shape (0, n_features) if empty)."
            )
        arr = _as_step_array(element, i)
        if n_features is None:
            n_features = arr.shape[1]
        elif arr.shape[1] != n_features:
            raise ValueError(
                f"X[{i}] has {arr.shape[1]} features per step, but X[0] has "
                f"{n_features}; all sequences must have the same n_features."
            )
        arrays.append(arr)
    values = np.concatenate(arrays, axis=0)
    assert_all_finite(values, input_name="X")
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    _check_step_features(estimator, n_features, reset, set_n_features_in=True)
    return Sequences("numeric", values, lengths, "list")


def _tokens(X):
    lengths = np.fromiter(map(len, X), dtype=np.int64, count=len(X))
    values = np.fromiter(chain.from_iterable(X), dtype=object, count=int(lengths.sum()))
    return Sequences("tokens", values, lengths, "list")


def _is_array_like(X):
    return hasattr(X, "__array__") or hasattr(X, "__array_interface__")


def validate_sequences(estimator, X, *, lengths=None, layout="rows", reset=True):
    """Validate X for an skrnn estimator and return it flat with lengths.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator being fitted or used; ``n_features_in_`` and the input kind
        are recorded on it (``reset=True``) or checked against it.
    X : list of sequences, list of 2-D arrays or 2-D/3-D numeric array-like
        Token sequences (lists/tuples/1-D arrays of hashable tokens), ragged
        numeric sequences, or a plain numeric array (see ``layout``).
    lengths : array-like of int, default=None
        With ``layout="rows"`` and a 2-D numeric X: groups consecutive rows into
        sequences. Without it each row is its own sequence of length one.
    layout : {"rows", "series"}, default="rows"
        How a plain numeric array is read. ``"rows"`` (taggers): 2-D
        (n_tokens, n_features), one row a token. ``"series"`` (sequence
        classifiers): 2-D (n, T) univariate series or 3-D (n, T, d) series.
    reset : bool, default=True
        True in ``fit``: record the input kind and number of features. False
        at predict time: check them.

    Returns
    -------
    sequences : Sequences
    """
    if layout not in ("rows", "series"):
        raise ValueError(f"layout must be 'rows' or 'series'; got {layout!r}.")
    sequences = _dispatch(estimator, X, lengths, layout, reset)
    if reset:
        _set_kind(estimator, sequences.kind)
    return sequences


def _dispatch(estimator, X, lengths, layout, reset):
    """Route X to the path for its form; see validate_sequences."""
    if X is None:
        raise TypeError(f"X is None; expected {_EXPECTED_X}.")
    if isinstance(X, (str, bytes)):
        raise ValueError(f"X is a {type(X).__name__}, but {_STR_HINT}")
    if sparse.issparse(X):
        _record_kind(estimator, "numeric", reset)
        return _numeric_flat(estimator, X, lengths, layout, reset)
    if not isinstance(X, (list, tuple, np.ndarray)):
        if _is_array_like(X) and getattr(X, "ndim", 2) == 1:
            X = np.asarray(X)  # e.g. a 1-D container of lists
        elif _is_array_like(X):
            _record_kind(estimator, "numeric", reset)
            return _numeric_flat(estimator, X, lengths, layout, reset)
        else:
            raise TypeError(f"X is a {type(X).__name__}; expected {_EXPECTED_X}.")
    if isinstance(X, np.ndarray) and not (X.ndim == 1 and X.dtype.kind in "OUS"):
        _record_kind(estimator, "numeric", reset)
        return _numeric_flat(estimator, X, lengths, layout, reset)
    if len(X) == 0:
        raise ValueError(f"X is empty; expected at least one sequence ({_EXPECTED_X}).")

    categories = [_element_category(element, i) for i, element in enumerate(X)]
    present = set(categories) - {"empty"}
    if not present or ("tokens" in present and present <= {"tokens", "numlist"}):
        kind = "tokens"
    elif present == {"numlist"} or present == {"scalar"}:
        kind = "plain"
    elif present <= {"array", "nested"}:
        kind = "numeric_list"
    else:
        ref = next(i for i, c in enumerate(categories) if c != "empty")
        reference = categories[ref]
        group = {
            "tokens": "a token sequence",
            "numlist": "a list of numbers",
            "scalar": "a number",
            "array": "a numeric array",
            "nested": "a numeric array",
        }
        for i, cat in enumerate(categories):
            if cat != "empty" and group[cat] != group[reference]:
                raise ValueError(
                    f"X mixes kinds of sequences: X[{ref}] is {group[reference]} but "
                    f"X[{i}] is {group[cat]}. Expected all elements to be token "
                    "sequences, or all 2-D (T_i, n_features) numeric arrays."
                )

    if kind == "plain":
        if present == {"numlist"}:
            row_lengths = np.fromiter(map(len, X), dtype=np.int64, count=len(X))
            if (row_lengths != row_lengths[0]).any():
                i = int(np.flatnonzero(row_lengths != row_lengths[0])[0])
                raise ValueError(
                    f"X is a list of lists of numbers of different lengths (X[0] "
                    f"has {row_lengths[0]}, X[{i}] has {row_lengths[i]}); a numeric "
                    "X must be a rectangular 2-D array-like. For sequences of "
                    "numeric feature vectors pass a list of 2-D (T_i, n_features) "
                    "arrays; to use numbers as tokens pass each sequence as a 1-D "
                    "object array or convert the tokens to str."
                )
        _record_kind(estimator, "numeric", reset)
        return _numeric_flat(estimator, X, lengths, layout, reset)
    if lengths is not None:
        raise ValueError(
            "lengths is only used with a 2-D numeric X; X is a list of sequences, "
            "whose lengths are already known."
        )
    if kind == "numeric_list":
        _record_kind(estimator, "numeric", reset)
        return _numeric_list(estimator, X, categories, reset)
    _record_kind(estimator, "tokens", reset)
    return _tokens(X)


# --------------------------------------------------------------------------- y


def validate_tags(y, X):
    """Validate tagger targets against validated X; return them flat.

    Parameters
    ----------
    y : list of tag sequences, or 1-D array-like
        ``X.form == "list"``: one tag sequence per sequence, each as long as its
        sequence. ``X.form == "flat"``: one tag per row of X.
    X : Sequences
        The validated input, from :func:`validate_sequences`.

    Returns
    -------
    tags : ndarray of shape (n_tokens,)
    """
    if y is None:
        raise ValueError(
            "This tagger requires y to be passed, but the target y is None."
        )
    n_tokens = int(X.lengths.sum())
    if X.form == "flat":
        tags = column_or_1d(y, warn=True)
        if len(tags) != n_tokens:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"X has {n_tokens} rows but y has {len(tags)} tags."
            )
    else:
        if isinstance(y, (str, bytes)):
            raise ValueError(
                f"y is a {type(y).__name__}; expected a list of tag sequences, one "
                "per sequence of X."
            )
        if not isinstance(y, (list, tuple, np.ndarray)) and not _is_array_like(y):
            raise TypeError(
                f"y is a {type(y).__name__}; expected a list of tag sequences, one "
                "per sequence of X."
            )
        if len(y) != X.n_sequences:
            raise ValueError(
                f"X has {X.n_sequences} sequences but y has {len(y)} tag "
                "sequences; expected one tag sequence per sequence of X."
            )
        tag_lengths = np.fromiter(
            map(_tag_sequence_length, y, range(len(y))),
            dtype=np.int64,
            count=len(y),
        )
        bad = np.flatnonzero(tag_lengths != X.lengths)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"y[{i}] has {tag_lengths[i]} tags but X[{i}] has {X.lengths[i]} "
                "tokens; expected one tag per token."
            )
        if all(isinstance(tag_seq, np.ndarray) for tag_seq in y):
            tags = np.concatenate(y) if len(y) else np.asarray([])
        else:
            tags = np.asarray(list(chain.from_iterable(y)))
        if tags.ndim != 1:
            raise ValueError(
                f"tags must be scalars (one per token); got tags of shape "
                f"{tags.shape[1:]}."
            )
    if tags.dtype.kind in "fc":
        assert_all_finite(tags, input_name="y")
    return tags


def _tag_sequence_length(tag_seq, i):
    if isinstance(tag_seq, (str, bytes)):
        raise ValueError(
            f"y[{i}] is a {type(tag_seq).__name__}, but each element of y must be a "
            "sequence of tags (a str would be split into characters)."
        )
    try:
        return len(tag_seq)
    except TypeError:
        raise ValueError(
            f"y[{i}] is a {type(tag_seq).__name__}; expected a sequence of tags, "
            f"one per token of X[{i}]."
        ) from None


def split_sequences(flat, X):
    """Cut a flat per-token array back into the input's form.

    Parameters
    ----------
    flat : ndarray of shape (n_tokens, ...)
    X : Sequences

    Returns
    -------
    list of ndarray or ndarray
        ``X.form == "list"``: one array per sequence (views of ``flat``);
        ``X.form == "flat"``: ``flat`` itself.
    """
    if X.form == "flat":
        return flat
    return np.split(flat, X.offsets[1:-1], axis=0)


# ------------------------------------------------------------------ vocabulary


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


@model_file_class
class Vocabulary:
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
        if not hasattr(self, "index_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                "This Vocabulary instance is not fitted yet. Call 'fit' first."
            )
        tokens = _as_token_iterable(tokens)
        if self.lowercase:
            tokens = map(_lower, tokens)
        return np.fromiter(map(self.index_.get, tokens, repeat(0)), dtype=np.int64)

    def fit_transform(self, tokens):
        """Fit, then transform the same tokens."""
        if not hasattr(tokens, "__len__"):
            tokens = list(tokens)
        return self.fit(tokens).transform(tokens)

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


@model_file_class
class TokenFeaturizer:
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
        if not hasattr(self, "vocabularies_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                "This TokenFeaturizer instance is not fitted yet. Call 'fit' first."
            )
        type_list, inverse = distinct_tokens(tokens)
        per_type = np.empty((len(type_list), len(self.vocabularies_)), dtype=np.int64)
        for j, ((_, key, _), vocab) in enumerate(
            zip(self._streams(), self.vocabularies_, strict=True)
        ):
            keys = type_list if key is None else map(key, type_list)
            per_type[:, j] = vocab.transform(list(keys))
        return per_type[inverse]

    def fit_transform(self, tokens):
        """Fit, then transform the same tokens."""
        if not hasattr(tokens, "__len__"):
            tokens = list(tokens)
        return self.fit(tokens).transform(tokens)


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
