import gzip
import re

import numpy as np
import pytest

import skrnn._word_vectors as word_vectors_module
from skrnn import RNNLanguageModel
from skrnn._word_vectors import as_word_vectors
from skrnn.datasets import WordVectors, load_word_vectors

# Words a careless reader would trip on: punctuation, quotes and "#" (a comment
# or quote character to many parsers), non-ASCII letters, a lone NBSP.
WORDS = ["the", ",", "'s", '"', "#", "#tag", "café", "日本", "\xa0", "Apple", "apple"]


def _vectors(n, dim, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _rows(words, vectors, end=""):
    # .9g round-trips a float32 exactly.
    return "".join(
        f"{w} {' '.join(f'{v:.9g}' for v in row)}{end}\n"
        for w, row in zip(words, vectors, strict=True)
    )


def _write(path, text, compressed=False):
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compressed else data)
    return path


def _set_chunk_lines(monkeypatch, lines, dim):
    """Make the reader parse ``lines`` rows of ``dim`` values at a time."""
    monkeypatch.setattr(word_vectors_module, "_CHUNK_VALUES", lines * dim)


def _err(line, text=""):
    """A pytest.raises pattern for an error on ``line`` of a file."""
    return rf", line {line}: .*{text}"


# ---------------------------------------------------------------- the formats


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("form", ["glove", "word2vec", "fasttext"])
def test_load_round_trip(tmp_path, form, compressed):
    vectors = _vectors(len(WORDS), 5)
    header = "" if form == "glove" else f"{len(WORDS)} 5\n"
    # fastText's .vec rows end with a space.
    text = header + _rows(WORDS, vectors, end=" " if form == "fasttext" else "")
    # No telling name: gzip is detected from the data.
    path = _write(tmp_path / "vectors.txt", text, compressed)

    wv = load_word_vectors(path)

    assert isinstance(wv, WordVectors)
    assert wv.tokens.tolist() == WORDS
    assert wv.vectors.dtype == np.float32
    np.testing.assert_array_equal(wv.vectors, vectors)
    assert (len(wv), wv.dim) == (len(WORDS), 5)


def test_load_plain_file_named_gz(tmp_path):
    path = _write(tmp_path / "vectors.txt.gz", "a 1 2\nb 3 4\n")
    np.testing.assert_array_equal(load_word_vectors(path).vectors, [[1, 2], [3, 4]])


def test_load_str_path_crlf_and_empty_last_line(tmp_path):
    path = _write(tmp_path / "v.txt", "a 1 2\r\nb 3 4\r\n\r\n")
    wv = load_word_vectors(str(path))
    assert wv.tokens.tolist() == ["a", "b"]
    np.testing.assert_array_equal(wv.vectors, [[1, 2], [3, 4]])


def test_load_skips_a_byte_order_mark(tmp_path):
    path = _write(tmp_path / "v.txt", "\ufeff2 2\na 1 2\nb 3 4\n")
    assert load_word_vectors(path).tokens.tolist() == ["a", "b"]


def test_load_without_final_newline(tmp_path):
    path = _write(tmp_path / "v.txt", "2 2\na 1 2\nb 3 4")
    assert load_word_vectors(path).tokens.tolist() == ["a", "b"]


@pytest.mark.parametrize("chunk_lines", [1, 3, 50_000])
def test_load_in_chunks(tmp_path, monkeypatch, chunk_lines):
    _set_chunk_lines(monkeypatch, chunk_lines, dim=3)
    words = [f"w{i}" for i in range(10)]
    vectors = _vectors(10, 3)
    path = _write(tmp_path / "v.txt", _rows(words, vectors) + "\n")
    wv = load_word_vectors(path)
    assert wv.tokens.tolist() == words
    np.testing.assert_array_equal(wv.vectors, vectors)


@pytest.mark.parametrize("header", [False, True])
def test_load_max_words(tmp_path, monkeypatch, header):
    _set_chunk_lines(monkeypatch, 3, dim=3)
    words = [f"w{i}" for i in range(10)]
    vectors = _vectors(10, 3)
    # A malformed row after the first words: reading stops before it.
    text = ("12 3\n" if header else "") + _rows(words, vectors) + "bad row\nw0 1\n"
    path = _write(tmp_path / "v.txt", text)

    wv = load_word_vectors(path, max_words=7)

    assert wv.tokens.tolist() == words[:7]
    np.testing.assert_array_equal(wv.vectors, vectors[:7])
    with pytest.raises(ValueError, match=_err(12 if header else 11)):
        load_word_vectors(path)


def test_load_max_words_beyond_the_file(tmp_path):
    path = _write(tmp_path / "v.txt", "a 1\nb 2\n")
    assert len(load_word_vectors(path, max_words=5)) == 2
    with pytest.raises(ValueError, match="max_words"):
        load_word_vectors(path, max_words=0)


# ----------------------------------------------------------------- bad files


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize(
    "text, line, message",
    [
        ("3 2\na 1 2\nb 1 2 3\nc 1 2\n", 3, "header .*announces 2 values.* has 3"),
        ("3 2\na 1 2\nb 1 2\n", 1, "announces 3 words.*holds 2"),
        ("1 2\na 1 2\nb 1 2\n", 1, "announces 1 words.*holds 2"),
        ("a 1 2\nb 1 2\nc 1\n", 3, "first row .*has 2 values.* has 1"),
        ("a 1 2\nb\nc 1 2\n", 2, "has 2 values.* has 0"),
        ("a 1 2\n\nc 1 2\n", 2, "has 0"),
        ("a\nb 1\n", 1, "no value"),
        ("a 1 2\nb 1 nan\n", 2, "'b' holds a NaN or infinite"),
        ("a 1 2\nb 1 2\nc -inf 2\n", 3, "'c' holds a NaN or infinite"),
        ("a 1 2\nb 1 1e50\n", 2, "float32 range"),
        ("a 1 2\nb 1 2\nc 1 x2\n", 3, "'c' holds 'x2', which is not a number"),
        ("a 1 2\nb 1,5 2\n", 2, "'1,5', which is not a number"),
        ("a 1 2\nb 1  2\n", 2, "has 3 .values are separated by single spaces"),
        ("a 1 2\nb  2\n", 2, "'b' holds an empty field; .* single spaces"),
        ("a 1 2\nb 1 2\nc 3 4\nb 5 6\n", 4, "'b' is listed twice.* line 2"),
        ("2 1\na 1\na 2\n", 3, "'a' is listed twice.* line 2"),
        ("", 1, "empty"),
        ("\n", 1, "empty"),
        ("0 3\n", 2, "no word vectors"),
        ("2 0\na\nb\n", 1, "dimension 0"),
    ],
)
def test_load_errors_name_the_line(tmp_path, text, line, message, compressed):
    path = _write(tmp_path / "bad.txt", text, compressed)
    with pytest.raises(ValueError, match=_err(line, message)) as info:
        load_word_vectors(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("chunk_lines", [1, 4, 50_000])
@pytest.mark.parametrize("bad_row", [0, 5, 16, 29])
def test_load_finds_the_bad_line_in_any_chunk(
    tmp_path, monkeypatch, chunk_lines, bad_row
):
    _set_chunk_lines(monkeypatch, chunk_lines, dim=4)
    rows = _rows([f"w{i}" for i in range(30)], _vectors(30, 4)).splitlines()
    rows[bad_row] = rows[bad_row].rsplit(" ", 1)[0] + " 0.5.1"
    path = _write(tmp_path / "v.txt", "30 4\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=_err(bad_row + 2, "'0.5.1'")):
        load_word_vectors(path)


def test_load_reports_the_first_of_two_errors(tmp_path, monkeypatch):
    _set_chunk_lines(monkeypatch, 10, dim=2)
    good = "a 1 2\nb 1 2\n"
    path = _write(tmp_path / "v.txt", good + "c 1 y\nd 1\n")
    with pytest.raises(ValueError, match=_err(3, "'y'")):
        load_word_vectors(path)
    path = _write(tmp_path / "v.txt", good + "c 1\nd 1 y\n")
    with pytest.raises(ValueError, match=_err(3, "has 1")):
        load_word_vectors(path)


def test_load_not_utf8(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"a 1 2\nb 1 2\ncaf\xe9 1 2\n")
    with pytest.raises(ValueError, match=_err(3, "not UTF-8")):
        load_word_vectors(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_word_vectors(tmp_path / "missing.txt")


# ---------------------------------------------------------------- WordVectors


def test_word_vectors_attributes():
    wv = WordVectors(["a", "b", "c"], [[1, 2], [3, 4], [5, 6]])
    assert wv.tokens.dtype == object and wv.tokens.shape == (3,)
    assert wv.vectors.dtype == np.float32 and wv.vectors.flags.c_contiguous
    assert wv.dim == 2 and isinstance(wv.dim, int)
    assert len(wv) == 3
    assert repr(wv) == "WordVectors(3 tokens, dim=2)"
    assert wv.index == {"a": 0, "b": 1, "c": 2}
    assert not hasattr(WordVectors, "__sklearn_clone__")


def test_word_vectors_tuple_tokens_stay_tokens():
    wv = WordVectors([("new", "york"), ("los", "angeles")], np.eye(2))
    assert wv.tokens.shape == (2,)
    assert wv.lookup([("los", "angeles"), ("a", "b")]).tolist() == [1, -1]


def test_word_vectors_str_array_tokens_become_str():
    wv = WordVectors(np.array(["a", "b"]), np.eye(2))
    assert [type(t) for t in wv.tokens] == [str, str]


@pytest.mark.parametrize(
    "tokens, vectors, error, message",
    [
        (["a", "b"], [1.0, 2.0], ValueError, r"2-D .*shape \(2,\)"),
        (["a", "b"], np.ones((3, 2)), ValueError, "2 tokens and 3 rows"),
        ([], np.ones((0, 2)), ValueError, "at least one token"),
        (["a", "b"], np.ones((2, 0)), ValueError, "dim >= 1"),
        (["a", "b"], [[1, 2], [np.nan, 0]], ValueError, r"'b' \(row 1\).*NaN"),
        (["a", "b"], [[np.inf, 2], [1, 0]], ValueError, r"'a' \(row 0\).*infinite"),
        (["a", "b"], [[1e300, 2], [1, 0]], ValueError, r"'a' \(row 0\)"),
        (["a", "b", "a"], np.ones((3, 2)), ValueError, "'a' is at positions 0 and 2"),
        (["a", ["b"]], np.ones((2, 2)), TypeError, "position 1 is a list"),
        ("ab", np.ones((2, 2)), TypeError, "single"),
        (np.array([["a"], ["b"]]), np.ones((2, 2)), ValueError, "1-D"),
        (["a", "b"], np.ones((2, 2), dtype=complex), ValueError, "real numbers"),
        (["a", "b"], [["1", "2"], ["3", "4"]], ValueError, "real numbers"),
    ],
)
def test_word_vectors_validation(tokens, vectors, error, message):
    with pytest.raises(error, match=message):
        WordVectors(tokens, vectors)


def test_word_vectors_read_only_and_callers_arrays_untouched():
    tokens = np.array(["a", "b"], dtype=object)
    vectors = np.array([[1.0, 2.0], [3.0, 4.0]])  # float64: converted
    wv = WordVectors(tokens, vectors)

    assert not wv.tokens.flags.writeable and not wv.vectors.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        wv.vectors[0, 0] = 9
    with pytest.raises(ValueError, match="read-only"):
        wv.tokens[0] = "z"
    assert tokens.flags.writeable and vectors.flags.writeable
    assert tokens.tolist() == ["a", "b"]
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4]])


def test_word_vectors_float32_c_contiguous_is_not_copied():
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    wv = WordVectors(["a", "b", "c"], vectors)
    assert np.shares_memory(wv.vectors, vectors)
    assert vectors.flags.writeable and not wv.vectors.flags.writeable

    fortran = np.asfortranarray(vectors)
    wv = WordVectors(["a", "b", "c"], fortran)
    assert wv.vectors.flags.c_contiguous
    assert not np.shares_memory(wv.vectors, fortran)


def test_lookup():
    wv = WordVectors(["the", "Apple", "apple", "paris", 7], np.eye(5))
    rows = wv.lookup(["The", "the", "Apple", "APPLE", "apple", "Paris", "rome", 7, 8])
    assert rows.dtype == np.int64
    # Exact rows first, then the lowercase form's, else -1.
    assert rows.tolist() == [0, 0, 1, 2, 2, 3, -1, 4, -1]
    assert wv.lookup(np.array(["Paris", "x"])).tolist() == [3, -1]
    assert wv.lookup(iter(["the"])).tolist() == [0]
    assert wv.lookup([]).dtype == np.int64 and wv.lookup([]).shape == (0,)


def test_lookup_of_many_tokens_matches_per_token_rule():
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(500)]
    wv = WordVectors(vocabulary, _vectors(500, 2))
    pool = np.array(vocabulary + [w.upper() for w in vocabulary] + ["oov"])
    tokens = pool[rng.integers(len(pool), size=20_000)].tolist()
    expected = [wv.index.get(t, wv.index.get(t.lower(), -1)) for t in tokens]
    assert wv.lookup(tokens).tolist() == expected


@pytest.mark.parametrize(
    "tokens, error", [("the", TypeError), (np.array([["a"]]), ValueError)]
)
def test_lookup_rejects_non_sequences(tokens, error):
    wv = WordVectors(["the"], np.eye(1))
    with pytest.raises(error, match="sequence of tokens|1-D"):
        wv.lookup(tokens)


def test_rebuilt_from_attributes():
    wv = WordVectors(["the", "cat"], [[1, 2], [3, 4]])
    wv.lookup(["the"])
    # The index is a cache outside the object's state: model files save vars().
    assert set(vars(wv)) == {"tokens", "vectors"}

    rebuilt = object.__new__(WordVectors)
    for key, value in vars(wv).items():
        setattr(rebuilt, key, value)

    assert rebuilt.lookup(["The", "cat", "dog"]).tolist() == [0, 1, -1]
    assert rebuilt.index == {"the": 0, "cat": 1}
    assert (len(rebuilt), rebuilt.dim) == (2, 2)
    assert repr(rebuilt) == "WordVectors(2 tokens, dim=2)"


# ------------------------------------------------------------- as_word_vectors


class _KeyedVectorsLike:
    """gensim's KeyedVectors as far as as_word_vectors is concerned."""

    def __init__(self, key_to_index, vectors):
        self.key_to_index = key_to_index
        self.vectors = vectors


def _sources():
    tokens = ["cat", "dog", "emu"]
    vectors = _vectors(3, 4)
    shuffled = {"emu": 2, "cat": 0, "dog": 1}  # not in row order
    return (
        tokens,
        vectors,
        {
            "dict": dict(zip(tokens, vectors.tolist(), strict=True)),
            "tuple": (tokens, vectors),
            "list": [np.array(tokens), vectors.tolist()],
            "keyed": _KeyedVectorsLike(shuffled, vectors),
        },
    )


@pytest.mark.parametrize("kind", ["dict", "tuple", "list", "keyed"])
def test_as_word_vectors_in_memory_sources_agree(kind):
    tokens, vectors, sources = _sources()
    wv = as_word_vectors(sources[kind])
    assert wv.tokens.tolist() == tokens
    np.testing.assert_array_equal(wv.vectors, vectors)


def test_as_word_vectors_shares_keyed_vectors():
    _, vectors, sources = _sources()
    assert np.shares_memory(as_word_vectors(sources["keyed"]).vectors, vectors)


def test_as_word_vectors_keyed_vectors_with_bad_rows():
    with pytest.raises(ValueError, match="key_to_index"):
        as_word_vectors(_KeyedVectorsLike({"a": 0, "b": 2}, np.ones((2, 3))))


def test_as_word_vectors_identity_and_paths(tmp_path):
    wv = WordVectors(["a"], [[1.0]])
    assert as_word_vectors(wv) is wv
    path = _write(tmp_path / "v.txt", "a 1 2\nb 3 4\n")
    for source in (path, str(path)):
        loaded = as_word_vectors(source)
        assert loaded.tokens.tolist() == ["a", "b"]
        np.testing.assert_array_equal(loaded.vectors, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "source, message",
    [
        ({"a": [1, 2], "b": [1, 2, 3]}, r"'b' has shape \(3,\)"),
        ({"a": [[1, 2]]}, r"1-D.*'a' has shape \(1, 2\)"),
        ({}, "empty"),
    ],
)
def test_as_word_vectors_bad_dict(source, message):
    with pytest.raises(ValueError, match=message):
        as_word_vectors(source)


def test_as_word_vectors_language_model():
    lm = RNNLanguageModel(
        hidden_size=8, embedding_dim=8, max_iter=1, random_state=0
    ).fit([["a", "b", "c"]] * 20)

    wv = as_word_vectors(lm)

    assert sorted(wv.tokens.tolist()) == ["a", "b", "c"]
    table = lm.params_["embed.0"]
    for token, row in zip(wv.tokens, wv.vectors, strict=True):
        np.testing.assert_array_equal(row, table[lm.vocabulary_[token]])
    assert wv.lookup(["<unk>", "<eos>"]).tolist() == [-1, -1]


def test_as_word_vectors_unfitted_language_model():
    with pytest.raises(ValueError, match="not fitted.*fit it"):
        as_word_vectors(RNNLanguageModel())


@pytest.mark.parametrize("source", [42, {"a", "b"}, None, (["a"], [[1]], "x")])
def test_as_word_vectors_bad_type(source):
    with pytest.raises(TypeError, match=re.escape("a (tokens, vectors) pair")):
        as_word_vectors(source)


def test_datasets_reexports():
    import skrnn.datasets

    assert {"load_word_vectors", "WordVectors"} <= set(skrnn.datasets.__all__)
    assert skrnn.datasets.load_word_vectors is load_word_vectors
