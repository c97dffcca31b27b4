"""Pretrained word vectors: a container, a reader for their text files, and the
resolution of every form an estimator's ``embeddings=`` accepts.

The text formats are GloVe's (``word v1 ... vd`` per line) and word2vec's and
fastText's (the same rows after an ``n_words dim`` header line), plain or
gzip-compressed.
"""

import gzip
import os
import re
import weakref
from collections.abc import Mapping
from contextlib import contextmanager
from itertools import islice
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._persistence import model_file_class

__all__ = ["WordVectors", "as_word_vectors", "load_word_vectors"]

# Values parsed by NumPy at a time (50,000 lines of 50): large enough that its
# per-call overhead vanishes, small enough that a chunk's text stays a few tens
# of MB whatever the dimension.
_CHUNK_VALUES = 2_500_000
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER = re.compile(r"(\d+) (\d+)", re.ASCII)

# The token -> row index of each WordVectors, outside the objects themselves:
# model files save an object's ``vars()``, and the index would double the size
# of a saved table; it is rebuilt from ``tokens`` whenever it is missing.
_INDEX_CACHE = weakref.WeakKeyDictionary()


@model_file_class
class WordVectors:
    """Pretrained word vectors: distinct tokens and one vector per token.

    The object is not meant to change, and its arrays are read-only. A float32
    C-contiguous ``vectors`` array is not copied but viewed, so a large table
    is never duplicated (and changes the caller makes to it show through).

    Parameters
    ----------
    tokens : sequence of hashable of length n_tokens
        Distinct tokens, usually str: a list or a 1-D array.
    vectors : array-like of shape (n_tokens, dim)
        Row ``i`` is the vector of ``tokens[i]``. Real and finite.

    Attributes
    ----------
    tokens : ndarray of object of shape (n_tokens,)
        The tokens, read-only.
    vectors : ndarray of float32 of shape (n_tokens, dim)
        The vectors, C-contiguous and read-only.

    See Also
    --------
    load_word_vectors : Read word vectors from a GloVe, word2vec or fastText file.

    Examples
    --------
    >>> from skrnn.datasets import WordVectors
    >>> wv = WordVectors(["the", "cat"], [[0.1, 0.2], [0.3, 0.4]])
    >>> wv
    WordVectors(2 tokens, dim=2)
    >>> wv.lookup(["The", "cat", "dog"])
    array([ 0,  1, -1])
    """

    def __init__(self, tokens, vectors):
        tokens = _token_array(tokens)
        vectors = _vector_array(vectors)
        if len(tokens) != len(vectors):
            raise ValueError(
                f"WordVectors needs one vector per token: got {len(tokens)} tokens "
                f"and {len(vectors)} rows of vectors."
            )
        if len(tokens) == 0:
            raise ValueError("WordVectors needs at least one token, got none.")
        index = _token_index(tokens)
        row = _first_non_finite_row(vectors)
        if row is not None:
            raise ValueError(
                f"The vector of token {tokens[row]!r} (row {row}) holds a NaN or "
                "infinite value (or one beyond the float32 range); word vectors "
                "must be finite."
            )
        self.tokens = tokens
        self.vectors = vectors
        _INDEX_CACHE[self] = index

    @property
    def dim(self):
        """int: The length of each vector."""
        return int(self.vectors.shape[1])

    @property
    def index(self):
        """dict: Token → row of ``vectors``."""
        index = _INDEX_CACHE.get(self)
        if index is None:
            index = {token: row for row, token in enumerate(self.tokens.tolist())}
            _INDEX_CACHE[self] = index
        return index

    def __len__(self):
        return len(self.tokens)

    def __repr__(self):
        return f"{type(self).__name__}({len(self)} tokens, dim={self.dim})"

    def lookup(self, tokens):
        """Rows of ``vectors`` for a sequence of tokens.

        A token's row is its own, else (for a str) the row of its lowercase
        form, else -1: GloVe's 6B vectors, for one, are all lowercase.

        Parameters
        ----------
        tokens : sequence of hashable of length n
            A list or 1-D array of tokens.

        Returns
        -------
        rows : ndarray of int64 of shape (n,)
            The row of each token, -1 for a token without a vector.
        """
        if isinstance(tokens, (str, bytes)):
            raise TypeError(
                f"lookup expects a sequence of tokens, got a single {type(tokens)}"
                f" {tokens[:40]!r}; wrap it in a list."
            )
        if isinstance(tokens, np.ndarray):
            if tokens.ndim != 1:
                raise ValueError(
                    f"lookup expects a 1-D sequence of tokens, got an array of "
                    f"shape {tokens.shape}."
                )
            tokens = tokens.tolist()
        elif not isinstance(tokens, (list, tuple)):
            tokens = list(tokens)
        index = self.index
        # A corpus repeats its words: the lowercase fallback is computed once
        # per distinct token, then broadcast back by a C-level map.
        row_of = {}
        for token in dict.fromkeys(tokens):
            row = index.get(token)
            if row is None:
                row = index.get(token.lower(), -1) if isinstance(token, str) else -1
            row_of[token] = row
        return np.fromiter(
            map(row_of.__getitem__, tokens), dtype=np.int64, count=len(tokens)
        )


def _first_non_finite_row(vectors):
    """The first row holding a NaN or an infinite value, or None."""
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    return int(bad[0]) if bad.size else None


def _token_array(tokens):
    """``tokens`` as a read-only 1-D object array (a view of the caller's object
    array, else a new one)."""
    if isinstance(tokens, (str, bytes)):
        raise TypeError(
            f"tokens must be a sequence of tokens, got a single {type(tokens)}."
        )
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 1:
            raise ValueError(
                f"tokens must be 1-D, got an array of shape {tokens.shape}."
            )
        if tokens.dtype != object:
            tokens = tokens.tolist()  # str_ -> str, int64 -> int
    if not isinstance(tokens, np.ndarray):
        # fromiter keeps tuples as single tokens, where np.asarray would make
        # them a second dimension.
        tokens = list(tokens)
        tokens = np.fromiter(tokens, dtype=object, count=len(tokens))
    tokens = tokens.view()
    tokens.flags.writeable = False
    return tokens


def _vector_array(vectors):
    """``vectors`` as a read-only C-contiguous float32 2-D array, a view when it
    already is one."""
    array = np.asarray(vectors)
    if array.dtype == object:  # nested lists of numbers mixed with None, ...
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"vectors must be an array of real numbers, got dtype {array.dtype}."
        )
    if array.ndim != 2:
        raise ValueError(
            f"vectors must be 2-D (n_tokens, dim), got an array of shape {array.shape}."
        )
    if array.shape[1] == 0:
        raise ValueError(
            f"vectors must have at least one column (dim >= 1), got shape "
            f"{array.shape}."
        )
    # Beyond the float32 range a value becomes inf, which the caller reports.
    with np.errstate(over="ignore"):
        array = np.ascontiguousarray(array, dtype=np.float32).view()
    array.flags.writeable = False
    return array


def _token_index(tokens):
    """Token → row; a duplicate or unhashable token is an error naming it."""
    values = tokens.tolist()
    try:
        index = dict(zip(values, range(len(values)), strict=True))
    except TypeError:
        index = None
    if index is not None and len(index) == len(values):
        return index
    seen = {}
    for row, token in enumerate(values):
        try:
            first = seen.setdefault(token, row)
        except TypeError:
            raise TypeError(
                f"tokens must be hashable; the token at position {row} is a "
                f"{type(token).__name__}: {token!r:.60}."
            ) from None
        if first != row:
            raise ValueError(
                f"tokens must be distinct; {token!r} is at positions {first} and {row}."
            )
    raise AssertionError("unreachable: tokens had duplicates but none was found")


# ------------------------------------------------------------------- the files


@validate_params(
    {
        "path": [str, os.PathLike],
        "max_words": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def load_word_vectors(path, *, max_words=None):
    """Read pretrained word vectors from a GloVe, word2vec or fastText text file.

    The formats are one ``word v1 v2 ... vd`` line per word, fields separated by
    single spaces (GloVe), optionally after a header line ``n_words dim``
    (word2vec's text format and fastText's ``.vec``). Trailing whitespace on a
    line is ignored, as is an empty last line. A first line of exactly two
    integers is the header. The file is UTF-8 text, plain or gzip-compressed
    (told by its first bytes, whatever its name).

    Parameters
    ----------
    path : str or path-like
        The file.
    max_words : int, default=None
        Read only the first ``max_words`` words. These files list words from
        the most to the least frequent, so this keeps the common words and
        bounds the memory of the table and of models built on it. None reads
        every word.

    Returns
    -------
    word_vectors : WordVectors
        The words, in file order, and their vectors (float32).

    Raises
    ------
    ValueError
        If the file is malformed: rows of different lengths, a header that
        disagrees with the rows, a field that is not a number, a NaN or
        infinite value, a word listed twice, or no word at all. The message
        names the file and the line.

    Examples
    --------
    >>> from skrnn.datasets import load_word_vectors
    >>> path = "glove.6B.50d.txt"
    >>> glove = load_word_vectors(path, max_words=100_000)  # doctest: +SKIP
    >>> glove  # doctest: +SKIP
    WordVectors(100000 tokens, dim=50)
    """
    limit = max_words if max_words is not None else float("inf")
    with _open_binary(path) as f:
        first = _read_lines(f, path, 1, 1)
        if not first or (not first[0] and not f.read(1)):
            raise ValueError(
                f"{path}, line 1: the file is empty; expected word vectors."
            )
        first = first[0].removeprefix("\ufeff")  # the BOM some editors write
        header = _HEADER.fullmatch(first)
        if header:
            n_words, dim = int(header[1]), int(header[2])
            if dim == 0:
                raise ValueError(
                    f"{path}, line 1: the header {first!r} announces vectors of "
                    "dimension 0; expected at least 1."
                )
        else:
            dim = first.count(" ")  # a value per space, lines being right-stripped
            if dim == 0:
                raise ValueError(
                    f"{path}, line 1: expected a word and the values of its vector, "
                    f"found no value: {first[:60]!r}."
                )
        start = 2 if header else 1  # the line number of the first row
        words, blocks = [], []
        lines = [] if header else [first]
        chunk = max(1, _CHUNK_VALUES // dim)
        while len(words) < limit:
            number = start + len(words)
            n = min(chunk, limit - len(words)) - len(lines)
            lines += _read_lines(f, path, number + len(lines), n)
            if not lines:
                break
            chunk_words, block = _parse_rows(lines, dim, f, path, number, header)
            words += chunk_words
            blocks.append(block)
            lines = []
    if header and len(words) != n_words and len(words) != max_words:
        raise ValueError(
            f"{path}, line 1: the header announces {n_words} words, but the file "
            f"holds {len(words)}."
        )
    if not words:
        raise ValueError(f"{path}, line {start}: the file holds no word vectors.")
    vectors = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    _check_distinct(words, path, start)
    row = _first_non_finite_row(vectors)
    if row is not None:
        raise ValueError(
            f"{path}, line {start + row}: the vector of {words[row]!r} holds a NaN "
            "or infinite value (or one beyond the float32 range)."
        )
    return WordVectors(words, vectors)


@contextmanager
def _open_binary(path):
    """``path`` opened for reading bytes, decompressed if it is gzip data."""
    with open(path, "rb") as f:
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if not compressed:
            yield f
            return
        # GzipFile leaves the file it was given open: the outer ``with`` closes it.
        with gzip.GzipFile(fileobj=f, mode="rb") as g:
            yield g


def _read_lines(f, path, number, n):
    """The next ``n`` lines of ``f`` (or fewer, at its end), decoded and
    right-stripped; ``number`` is the first one's line number."""
    # Lines end at b"\n" only: a word may hold any other character, "\r" too.
    raw = list(islice(f, n))
    try:
        return [line.decode("utf-8").rstrip() for line in raw]
    except UnicodeDecodeError:
        for i, line in enumerate(raw):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"{path}, line {number + i}: not UTF-8 text ({e.reason} at "
                    f"byte {e.start} of the line)."
                ) from None
        raise


def _parse_rows(lines, dim, f, path, number, header):
    """The words of ``lines`` and their vectors, an array of shape
    ``(len(words), dim)``; ``number`` is the line number of ``lines[0]``."""
    parts = [line.partition(" ") for line in lines]
    words = [word for word, _, _ in parts]
    values = [text for _, _, text in parts]
    vectors = _parse(values, dim)
    if vectors is not None:
        return words, vectors
    if not lines[-1] and not f.read(1):  # an empty last line
        return _parse_rows(lines[:-1], dim, f, path, number, header)
    # Only to report the first bad row: a wrong number of values, or a field
    # that is not a number (the first found by halving the rows before it).
    widths = [line.count(" ") for line in lines]
    wrong = next((i for i, width in enumerate(widths) if width != dim), len(lines))
    bad = _first_unparsable(values[:wrong], dim)
    if bad is not None:
        fields = values[bad].split(" ")
        field = next((x for x in fields if _parse([x], 1) is None), values[bad])
        what = f"{field[:40]!r}, which is not a number"
        if not field:
            what = "an empty field; values are separated by single spaces"
        raise ValueError(
            f"{path}, line {number + bad}: the vector of {words[bad]!r} holds {what}."
        )
    if wrong < len(lines):
        if header:
            expected = f"the header (line 1) announces {dim} values per word"
        else:
            expected = f"the first row (line 1) has {dim} values"
        hint = (
            " (values are separated by single spaces)" if "  " in lines[wrong] else ""
        )
        raise ValueError(
            f"{path}, line {number + wrong}: {expected}, but this row has "
            f"{widths[wrong]}{hint}: {lines[wrong][:60]!r}."
        )
    raise ValueError(  # not seen: each row reads alone but not all together
        f"{path}, lines {number} to {number + len(lines) - 1}: NumPy could not "
        "read these rows as numbers."
    )


def _first_unparsable(values, dim):
    """The index of the first of the texts ``values`` that is not ``dim``
    numbers, or None."""
    if _parse(values, dim) is not None:
        return None
    lo, hi = 0, len(values)  # the first bad text is in values[lo:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _parse(values[lo:mid], dim) is None:
            hi = mid
        else:
            lo = mid
    return lo


def _parse(values, dim):
    """The numbers of the space-separated texts ``values`` as a float32 array of
    shape ``(len(values), dim)``, or None if one is not ``dim`` numbers."""
    if not values:
        return np.empty((0, dim), dtype=np.float32)
    if not all(values):  # a row without values (which loadtxt would skip)
        return None
    try:
        # NumPy's C reader: the fastest of NumPy's text parsers here, and a
        # strict one (an empty field, from a double space, is an error).
        vectors = np.loadtxt(
            values,
            dtype=np.float32,
            delimiter=" ",
            comments=None,
            quotechar=None,
            ndmin=2,
        )
    except ValueError:
        return None
    # loadtxt skips empty texts: the shape tells.
    return vectors if vectors.shape == (len(values), dim) else None


def _check_distinct(words, path, start):
    """A word listed twice is an error naming both its lines."""
    if len(set(words)) == len(words):
        return
    seen = {}
    for row, word in enumerate(words):
        first = seen.setdefault(word, row)
        if first != row:
            raise ValueError(
                f"{path}, line {start + row}: the word {word!r} is listed twice; "
                f"it was first seen on line {start + first}."
            )


# ------------------------------------------------------------------ resolution


def as_word_vectors(source):
    """Resolve what an estimator's ``embeddings=`` was given into WordVectors.

    Parameters
    ----------
    source : WordVectors, str, path-like, dict, (tokens, vectors) pair, \
KeyedVectors-like or RNNLanguageModel
        - a :class:`WordVectors`: returned as is;
        - a path: a GloVe, word2vec or fastText text file, read with
          :func:`load_word_vectors`;
        - a dict token → vector, the vectors being 1-D array-likes of one
          length;
        - a pair ``(tokens, vectors)`` of a sequence of distinct tokens and a
          2-D array with a row per token;
        - an object with a ``key_to_index`` dict (token → row) and a 2-D
          ``vectors`` array, such as gensim's ``KeyedVectors``;
        - a fitted :class:`~skrnn.RNNLanguageModel`: a copy of its input
          embeddings, for the words of its vocabulary (not its placeholders
          ``"<unk>"`` and ``"<eos>"``).

    Returns
    -------
    word_vectors : WordVectors
        The tokens and their vectors.
    """
    from .language_model import RNNLanguageModel

    if isinstance(source, WordVectors):
        return source
    if isinstance(source, (str, os.PathLike)):
        return load_word_vectors(source)
    if isinstance(source, RNNLanguageModel):
        return _language_model_vectors(source)
    if isinstance(source, Mapping):
        return _mapping_vectors(source)
    if isinstance(source, (tuple, list)) and len(source) == 2:
        return WordVectors(*source)
    if hasattr(source, "key_to_index") and hasattr(source, "vectors"):
        return _keyed_vectors(source)
    raise TypeError(
        "embeddings must be a WordVectors, the path of a GloVe, word2vec or "
        "fastText text file, a dict token -> vector, a (tokens, vectors) pair, "
        "an object with key_to_index and vectors (such as gensim's KeyedVectors) "
        f"or a fitted RNNLanguageModel; got a {type(source).__qualname__}."
    )


def _mapping_vectors(source):
    tokens = list(source)
    if not tokens:
        raise ValueError("The dict of word vectors is empty; expected at least one.")
    rows = [np.asarray(v) for v in source.values()]
    shape = rows[0].shape
    if len(shape) != 1:
        raise ValueError(
            f"Each word vector must be 1-D; the vector of {tokens[0]!r} has shape "
            f"{shape}."
        )
    for token, row in zip(tokens, rows, strict=True):
        if row.shape != shape:
            raise ValueError(
                f"All word vectors must have the length of the first, "
                f"{tokens[0]!r} ({shape[0]}); the vector of {token!r} has shape "
                f"{row.shape}."
            )
    return WordVectors(tokens, np.stack(rows))


def _keyed_vectors(source):
    """Tokens and vectors of a gensim KeyedVectors, or any object with its
    ``key_to_index`` and ``vectors``."""
    pairs = sorted(source.key_to_index.items(), key=lambda pair: pair[1])
    rows = [row for _, row in pairs]
    vectors = np.asarray(source.vectors)
    if rows != list(range(len(vectors))):
        raise ValueError(
            f"key_to_index must map one key to each row of vectors, 0 to "
            f"{len(vectors) - 1}; it maps {len(rows)} keys to the rows "
            f"{rows[:6]}{'...' if len(rows) > 6 else ''}."
        )
    return WordVectors([token for token, _ in pairs], vectors)


def _language_model_vectors(lm):
    """A language model's input embedding of each word of its vocabulary."""
    check_is_fitted(
        lm,
        "params_",
        msg=(
            "This RNNLanguageModel is not fitted yet: fit it before using its "
            "embeddings as word vectors."
        ),
    )
    # "<unk>" and "<eos>" are placeholders the model made, not words.
    words = np.ones(len(lm.tokens_), dtype=bool)
    words[[lm.unk_id_, lm.eos_id_]] = False
    return WordVectors(lm.tokens_[words], lm.params_["embed.0"][words])
