"""Input validation shared by every skrnn estimator: sequences and tags.

A set of sequences is held FLAT + LENGTHS: all tokens (or feature rows) of all
sequences concatenated along axis 0, plus the length of each sequence. Padded
batches are built from that by the engine. What a token becomes (ids of its
word, suffixes and shape) is ``_vocabulary``'s job.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property
from itertools import chain

import numpy as np
from scipy import sparse
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import column_or_1d, validate_data

__all__ = [
    "Sequences",
    "split_sequences",
    "validate_sequences",
    "validate_tags",
]

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
