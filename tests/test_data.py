"""Tests of skrnn._validation (sequences, tags, splitting) and skrnn._vocabulary
(vocabularies, featurizer)."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning, NotFittedError

from skrnn._validation import (
    Sequences,
    split_sequences,
    validate_sequences,
    validate_tags,
)
from skrnn._vocabulary import TokenFeaturizer, Vocabulary, word_shape


class Dummy(BaseEstimator):
    """Minimal estimator to validate input on."""

    def __init__(self, layout="rows"):
        self.layout = layout

    def fit(self, X, lengths=None):
        self.seqs_ = validate_sequences(self, X, lengths=lengths, layout=self.layout)
        return self

    def check(self, X, lengths=None):
        return validate_sequences(
            self, X, lengths=lengths, layout=self.layout, reset=False
        )


TOKENS = [["The", "cat", "sat"], ["Hi", "!"]]


# ------------------------------------------------------------ accepted forms


@pytest.mark.parametrize(
    "X",
    [
        TOKENS,
        tuple(tuple(s) for s in TOKENS),
        [np.array(s) for s in TOKENS],
        [np.array(s, dtype=object) for s in TOKENS],
        np.array([list(s) for s in TOKENS], dtype=object),
    ],
    ids=["lists", "tuples", "str-arrays", "object-arrays", "object-array-of-lists"],
)
def test_token_forms(X):
    est = Dummy()
    seqs = validate_sequences(est, X)
    assert seqs.kind == "tokens" and seqs.form == "list"
    assert seqs.values.dtype == object and seqs.values.ndim == 1
    assert seqs.values.tolist() == ["The", "cat", "sat", "Hi", "!"]
    assert seqs.lengths.dtype == np.int64 and seqs.lengths.tolist() == [3, 2]
    assert seqs.offsets.tolist() == [0, 3, 5]
    assert seqs.n_sequences == 2
    assert est._input_kind == "tokens"
    assert not hasattr(est, "n_features_in_")


def test_tokens_may_be_any_hashable_and_sequences_empty():
    X = [[1, "a", ("x", 2)], [], [None]]
    seqs = validate_sequences(Dummy(), X)
    assert seqs.kind == "tokens"
    assert seqs.values.tolist() == [1, "a", ("x", 2), None]
    assert seqs.lengths.tolist() == [3, 0, 1]
    # only empty sequences: still tokens, nothing to fit but valid at predict
    seqs = validate_sequences(Dummy(), [[], []])
    assert seqs.kind == "tokens" and seqs.values.shape == (0,)


def test_ragged_numeric_list():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(3, 4)), np.zeros((0, 4)), rng.normal(size=(2, 4))]
    est = Dummy().fit(X)
    seqs = est.seqs_
    assert seqs.kind == "numeric" and seqs.form == "list"
    assert seqs.values.dtype == np.float64 and seqs.values.shape == (5, 4)
    assert seqs.lengths.tolist() == [3, 0, 2]
    np.testing.assert_array_equal(seqs.values[3:], X[2])
    assert est.n_features_in_ == 4
    # nested lists and int arrays are numeric sequences too
    seqs = validate_sequences(Dummy(), [[[1, 2], [3, 4]], np.array([[5, 6]])])
    assert seqs.kind == "numeric" and seqs.values.tolist() == [[1, 2], [3, 4], [5, 6]]


def test_rows_layout_with_and_without_lengths():
    X = np.arange(12.0).reshape(6, 2)
    est = Dummy().fit(X)
    assert est.seqs_.kind == "numeric" and est.seqs_.form == "flat"
    assert est.seqs_.lengths.tolist() == [1] * 6
    assert est.n_features_in_ == 2 and est._input_kind == "numeric"
    seqs = validate_sequences(Dummy(), X, lengths=[2, 0, 4])
    assert seqs.lengths.tolist() == [2, 0, 4]
    assert seqs.offsets.tolist() == [0, 2, 2, 6]
    np.testing.assert_array_equal(seqs.values, X)


@pytest.mark.parametrize(
    "X",
    [
        [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]],
        np.array([[0, 1], [2, 3], [4, 5]], dtype=np.int32),
        np.array([[0, 1], [2, 3], [4, 5]], dtype=np.float32),
        np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], dtype=object),
    ],
    ids=["nested-lists", "int32", "float32", "object-of-numbers"],
)
def test_numeric_array_likes(X):
    seqs = validate_sequences(Dummy(), X)
    assert seqs.kind == "numeric" and seqs.form == "flat"
    assert seqs.values.dtype == np.float64
    np.testing.assert_array_equal(seqs.values, np.arange(6.0).reshape(3, 2))


def test_series_layout():
    X2 = np.arange(12.0).reshape(3, 4)
    est = Dummy(layout="series").fit(X2)
    assert est.seqs_.values.shape == (12, 1) and est.seqs_.lengths.tolist() == [4] * 3
    assert est.seqs_.form == "flat"
    assert est.n_features_in_ == 4
    X3 = np.arange(24.0).reshape(3, 4, 2)
    est = Dummy(layout="series").fit(X3)
    assert est.seqs_.values.shape == (12, 2) and est.seqs_.lengths.tolist() == [4] * 3
    np.testing.assert_array_equal(est.seqs_.values[4:8], X3[1])
    # ragged series with the same number of channels are accepted at predict
    seqs = est.check([np.ones((5, 2)), np.ones((2, 2))])
    assert seqs.lengths.tolist() == [5, 2]
    with pytest.raises(ValueError, match="X has 3 features, but Dummy is expecting 2"):
        est.check([np.ones((5, 3))])
    with pytest.raises(ValueError, match="lengths is not used with layout='series'"):
        validate_sequences(Dummy(), X2, lengths=[4, 4, 4], layout="series")
    with pytest.raises(ValueError, match="Found array with dim 4"):
        validate_sequences(Dummy(), np.ones((2, 2, 2, 2)), layout="series")


def test_1d_object_array_of_numbers_is_1d_numeric():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        validate_sequences(Dummy(), np.array([1.0, 2.0], dtype=object))


# ------------------------------------------------- sklearn-check behaviours


@pytest.mark.parametrize(
    "X", [np.array([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0]], ids=["array", "list"]
)
@pytest.mark.parametrize("layout", ["rows", "series"])
def test_1d_numeric_raises(X, layout):
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        validate_sequences(Dummy(), X, layout=layout)


def test_object_array_with_dict_raises_type_error():
    X = np.random.default_rng(0).uniform(size=(6, 3)).astype(object)
    validate_sequences(Dummy(), X)
    X[0, 0] = {"foo": "bar"}
    with pytest.raises(TypeError, match="argument must be .* string.* number"):
        validate_sequences(Dummy(), X)


def test_n_features_in_checked_with_sklearn_message():
    est = Dummy().fit(np.ones((4, 5)))
    assert est.n_features_in_ == 5
    est.check(np.ones((2, 5)))
    msg = "X has 3 features, but Dummy is expecting 5 features as input"
    with pytest.raises(ValueError, match=msg):
        est.check(np.ones((2, 3)))
    with pytest.raises(ValueError, match=msg):
        est.check([np.ones((2, 3))])
    est = Dummy().fit([np.ones((2, 5))])
    with pytest.raises(ValueError, match=msg):
        est.check([np.ones((1, 3))])
    with pytest.raises(ValueError, match=msg):
        est.check(np.ones((2, 3)))


def test_kind_mismatch_and_stale_n_features_in():
    est = Dummy().fit(np.ones((4, 5)))
    with pytest.raises(ValueError, match="fitted on numeric input, but X is tokens"):
        est.check(TOKENS)
    est.fit(TOKENS)  # warm restart on tokens drops the numeric attributes
    assert not hasattr(est, "n_features_in_")
    with pytest.raises(ValueError, match="fitted on tokens input, but X is numeric"):
        est.check(np.ones((4, 5)))
    with pytest.raises(ValueError, match="fitted on tokens input, but X is numeric"):
        est.check([np.ones((4, 5))])


def test_nan_and_inf_rejected():
    X = np.ones((3, 2))
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        validate_sequences(Dummy(), X)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        validate_sequences(Dummy(), [np.ones((2, 2)), X])
    with pytest.raises(ValueError, match="Input X contains infinity"):
        validate_sequences(Dummy(), np.full((2, 2), np.inf), layout="series")


def test_sparse_rejected():
    with pytest.raises(TypeError, match="dense data is required"):
        validate_sequences(Dummy(), sparse.csr_matrix(np.eye(3)))


# ------------------------------------------------------------------ X errors


@pytest.mark.parametrize(
    "X, exc, match",
    [
        ("The cat sat", ValueError, r"X is a str.*split into characters.*split\(\)"),
        (["The", "cat", "sat"], ValueError, r"X\[0\] is a str.*split into characters"),
        ([["The", "cat"], "Hi there"], ValueError, r"X\[1\] is a str.*Tokenizer"),
        (np.array(["a", "b"]), ValueError, r"X\[0\] is a str"),
        ([], ValueError, "at least one sequence"),
        ((), ValueError, "at least one sequence"),
        (None, TypeError, "X is None; expected a list of token sequences"),
        (3.5, TypeError, "X is a float; expected a list of token sequences"),
        ({"a": 1}, TypeError, "X is a dict; expected"),
        ([["a"], {"b": 1}], TypeError, r"X\[1\] is a dict"),
        ([["a", "b"], np.ones((2, 3))], ValueError, r"X\[0\] is a token.*X\[1\] is a"),
        ([[], np.ones((2, 3)), ["a"]], ValueError, r"X\[1\] is a numeric.*X\[2\]"),
        ([np.ones((2, 3)), [1.0, 2.0]], ValueError, r"mixes kinds.*X\[1\]"),
        ([np.ones(3), np.ones(2)], ValueError, r"X\[0\] has shape \(3,\).*2-D"),
        ([np.ones((2, 3)), np.ones((1, 4))], ValueError, r"X\[1\] has 4 features"),
        ([np.ones((2, 3)), []], ValueError, r"X\[1\] is empty"),
        ([[1, 2, 3], [4, 5]], ValueError, "different lengths.*1-D object array"),
        ([[("The", "DT"), ("cat", "NN")]], ValueError, r"\(token, tag\) pairs"),
        (np.ones((2, 2, 2)), ValueError, "Found array with dim 3"),
        (np.ones((0, 3)), ValueError, "0 sample"),
    ],
)
def test_bad_X(X, exc, match):
    with pytest.raises(exc, match=match):
        validate_sequences(Dummy(), X)


def test_bad_layout():
    with pytest.raises(ValueError, match="layout must be 'rows' or 'series'"):
        validate_sequences(Dummy(), TOKENS, layout="columns")


@pytest.mark.parametrize(
    "lengths, match",
    [
        ([2, 2], "lengths sum to 4, but X has 5 rows"),
        ([6, -1], "non-negative"),
        ([2.0, 3.0], "non-negative integers"),
        ([[2, 3]], "1-D array-like"),
        (["2", "3"], "non-negative integers"),
    ],
)
def test_bad_lengths(lengths, match):
    with pytest.raises(ValueError, match=match):
        validate_sequences(Dummy(), np.ones((5, 2)), lengths=lengths)


def test_lengths_with_list_input_rejected():
    with pytest.raises(ValueError, match="lengths is only used with a 2-D numeric X"):
        validate_sequences(Dummy(), TOKENS, lengths=[3, 2])


# ------------------------------------------------------------- no mutation


def test_inputs_not_modified():
    X = [["The", "cat"], ("Hi",), np.array(["a", "b"], dtype=object)]
    X_before = copy.deepcopy(X)
    y = [["D", "N"], ["I"], ["x", "y"]]
    y_before = copy.deepcopy(y)
    seqs = validate_sequences(Dummy(), X)
    validate_tags(y, seqs)
    assert X[:2] == X_before[:2] and type(X[1]) is tuple
    np.testing.assert_array_equal(X[2], X_before[2])
    assert y == y_before

    Xn = np.arange(10.0).reshape(5, 2)
    lengths = np.array([2, 3])
    seqs = validate_sequences(Dummy(), Xn, lengths=lengths)
    # values may be a view of the caller's array: it must not be writable
    with pytest.raises(ValueError, match="read-only"):
        seqs.values[0, 0] = -1.0
    seqs.lengths[0] = 99
    assert lengths.tolist() == [2, 3]
    np.testing.assert_array_equal(Xn, np.arange(10.0).reshape(5, 2))

    arrays = [np.ones((2, 2)), np.zeros((1, 2))]
    seqs = validate_sequences(Dummy(), arrays)
    seqs.values[:] = 7.0
    assert arrays[0].sum() == 4.0 and arrays[1].sum() == 0.0


# -------------------------------------------------------------------- tags


def test_validate_tags_list_form():
    seqs = validate_sequences(Dummy(), [["a", "b"], [], ["c"]])
    tags = validate_tags([["D", "N"], [], ["V"]], seqs)
    assert tags.shape == (3,) and tags.tolist() == ["D", "N", "V"]
    tags = validate_tags(
        [np.array([0, 1]), np.array([], dtype=int), np.array([2])], seqs
    )
    assert tags.dtype.kind == "i" and tags.tolist() == [0, 1, 2]
    tags = validate_tags(([1, 2], (), (3,)), seqs)
    assert tags.tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    "y, match",
    [
        (None, "requires y to be passed, but the target y is None"),
        ("DN", "y is a str; expected a list of tag sequences"),
        ([["D", "N"]], "X has 2 sequences but y has 1 tag sequences"),
        ([["D", "N"], ["V", "V"]], r"y\[1\] has 2 tags but X\[1\] has 1 tokens"),
        ([["D", "N"], "V"], r"y\[1\] is a str"),
        ([["D", "N"], 3], r"y\[1\] is a int; expected a sequence of tags"),
        ([[0.0, np.nan], [1.0]], "Input y contains NaN"),
        ([[[0, 1], [1, 0]], [[0, 1]]], "tags must be scalars"),
    ],
)
def test_validate_tags_errors(y, match):
    seqs = validate_sequences(Dummy(), [["a", "b"], ["c"]])
    with pytest.raises(ValueError, match=match):
        validate_tags(y, seqs)


def test_validate_tags_flat_form():
    seqs = validate_sequences(Dummy(), np.ones((4, 2)), lengths=[1, 3])
    assert validate_tags(["a", "b", "a", "c"], seqs).tolist() == ["a", "b", "a", "c"]
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        tags = validate_tags(np.arange(4).reshape(-1, 1), seqs)
    assert tags.shape == (4,)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        validate_tags([0, 1, 2], seqs)
    with pytest.raises(ValueError, match="requires y to be passed"):
        validate_tags(None, seqs)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        validate_tags(np.ones((4, 2)), seqs)
    with pytest.raises(ValueError, match="Input y contains infinity"):
        validate_tags([0.0, 1.0, np.inf, 0.0], seqs)


# ------------------------------------------------------------------- split


def test_split_sequences_follows_form():
    seqs = validate_sequences(Dummy(), [["a", "b"], [], ["c"]])
    proba = np.arange(6.0).reshape(3, 2)
    parts = split_sequences(proba, seqs)
    assert isinstance(parts, list) and len(parts) == 3
    assert [p.shape for p in parts] == [(2, 2), (0, 2), (1, 2)]
    np.testing.assert_array_equal(parts[2], [[4.0, 5.0]])

    flat = validate_sequences(Dummy(), np.ones((3, 2)))
    assert split_sequences(proba, flat) is proba

    one = Sequences("tokens", np.array(["a"], dtype=object), np.array([1]), "list")
    assert [p.tolist() for p in split_sequences(np.array([7]), one)] == [[7]]


# --------------------------------------------------------------- vocabulary


def test_vocabulary_min_freq_and_unk_counts():
    vocab = Vocabulary(min_freq=2).fit("a b a c b a d".split())
    assert vocab.tokens_ == ["<unk>", "a", "b"]
    assert vocab.index_ == {"a": 1, "b": 2}
    assert vocab.counts_.tolist() == [2, 3, 2]  # c and d went to <unk>
    assert len(vocab) == 3
    ids = vocab.transform(np.array(["d", "a", "never-seen", "b"], dtype=object))
    assert ids.dtype == np.int64 and ids.tolist() == [0, 1, 0, 2]
    assert vocab.transform([]).shape == (0,)


def test_vocabulary_max_size_ties_by_first_occurrence():
    tokens = "z y x y z w".split()  # z:2, y:2, x:1, w:1
    vocab = Vocabulary(max_size=3).fit(tokens)
    assert vocab.tokens_ == ["<unk>", "z", "y", "x"]
    assert vocab.counts_.tolist() == [1, 2, 2, 1]
    assert Vocabulary(max_size=0).fit(tokens).tokens_ == ["<unk>"]
    # a generator is accepted and gives the same map
    assert Vocabulary(max_size=3).fit(iter(tokens)).index_ == vocab.index_


def test_vocabulary_lowercase():
    vocab = Vocabulary(lowercase=True).fit(["The", "the", "Cat", 3])
    assert vocab.tokens_ == ["<unk>", "the", "cat", 3]
    assert vocab.counts_.tolist() == [0, 2, 1, 1]
    assert vocab.transform(["THE", "cAt", 3, "dog"]).tolist() == [1, 2, 3, 0]
    cased = Vocabulary().fit(["The", "the"])
    assert cased.transform(["The", "the", "THE"]).tolist() == [1, 2, 0]


def test_vocabulary_real_unk_token_is_a_normal_token():
    vocab = Vocabulary().fit(["<unk>", "a"])
    assert vocab.transform(["<unk>", "b"]).tolist() == [1, 0]


@pytest.mark.parametrize(
    "params, exc, match",
    [
        ({"min_freq": 0}, ValueError, "min_freq == 0, must be >= 1"),
        ({"min_freq": 1.5}, TypeError, "min_freq must be an instance of"),
        ({"max_size": -1}, ValueError, "max_size == -1, must be >= 0"),
    ],
)
def test_vocabulary_bad_params(params, exc, match):
    with pytest.raises(exc, match=match):
        Vocabulary(**params).fit(["a"])


def test_vocabulary_errors():
    with pytest.raises(NotFittedError):
        Vocabulary().transform(["a"])
    with pytest.raises(ValueError, match="split into characters"):
        Vocabulary().fit("abc")
    with pytest.raises(TypeError, match="tokens must be hashable"):
        Vocabulary().fit([["a"]])


def test_vocabulary_pickles():
    vocab = Vocabulary(min_freq=2, lowercase=True).fit("A a b B c".split())
    clone = pickle.loads(pickle.dumps(vocab))
    assert clone.tokens_ == vocab.tokens_ and clone.lowercase
    np.testing.assert_array_equal(clone.counts_, vocab.counts_)
    np.testing.assert_array_equal(
        clone.transform(["A", "B", "c"]), vocab.transform(["A", "B", "c"])
    )


# --------------------------------------------------------------- featurizer


@pytest.mark.parametrize(
    "token, shape",
    [
        ("Apple", "Xxxxx"),
        ("Washington", "Xxxxx"),
        ("12", "dd"),
        ("1999-12-01", "dddd-dd-dd"),
        ("U.S.", "X.X."),
        ("ab-cd", "xx-xx"),
        ("!!!!!!", "!!!!"),
        ("Éclair", "Xxxxx"),
        ("", ""),
    ],
)
def test_word_shape(token, shape):
    assert word_shape(token) == shape


def test_featurizer_streams_and_unknown_tokens():
    train = "The cat sat on the mat . The cats ran".split()
    feat = TokenFeaturizer(min_freq=2).fit(train)
    assert feat.stream_names_ == [
        "word",
        "lower",
        "suffix1",
        "suffix2",
        "suffix3",
        "shape",
    ]
    assert feat.vocab_sizes_ == [len(v) for v in feat.vocabularies_]
    assert feat.vocab_sizes_[0] == 2  # only "The" is seen twice
    assert feat.word_counts_.tolist() == [8, 2]
    ids = feat.transform(["The", "Bat", "the", "zzzz"])
    assert ids.shape == (4, 6) and ids.dtype == np.int64
    word, lower, s1, s2, s3, shape = ids.T
    assert word.tolist() == [1, 0, 0, 0]
    assert lower[0] == lower[2] != 0  # "the" seen 3 times in lowercase
    # an unseen word keeps informative ids: "Bat" shares suffix "at" and shape "Xxx"
    assert s1[1] != 0 and s2[1] != 0 and s3[1] == 0  # "bat" itself is unseen
    assert shape[1] == shape[0] != 0
    assert ids[3, 1:5].tolist() == [0, 0, 0, 0]
    # the same token always gets the same row, however often it repeats
    many = feat.transform(["cat", "The", "cat"] * 50)
    np.testing.assert_array_equal(many[0::3], np.tile(many[0], (50, 1)))


def test_featurizer_options_and_pickle():
    feat = TokenFeaturizer(suffix_length=0, lowercase_stream=False, shape_stream=False)
    feat.fit(["a", "b"])
    assert feat.stream_names_ == ["word"]
    assert feat.transform(["b", "c"]).tolist() == [[2], [0]]
    feat = TokenFeaturizer(suffix_length=1, max_size=1).fit(["ab", "ab", "cb"])
    assert feat.stream_names_ == ["word", "lower", "suffix1", "shape"]
    assert feat.vocab_sizes_ == [2, 2, 2, 2]
    clone = pickle.loads(pickle.dumps(feat))
    tokens = np.array(["ab", "cb", "Zb", "??"], dtype=object)
    np.testing.assert_array_equal(clone.transform(tokens), feat.transform(tokens))
    with pytest.raises(NotFittedError):
        TokenFeaturizer().transform(["a"])
    with pytest.raises(ValueError, match="suffix_length == -1"):
        TokenFeaturizer(suffix_length=-1).fit(["a"])


def test_featurizer_fit_transform_matches():
    tokens = "a b A b c".split()
    feat = TokenFeaturizer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = feat.fit_transform(iter(tokens))
    np.testing.assert_array_equal(out, TokenFeaturizer().fit(tokens).transform(tokens))


def test_failed_fit_records_nothing():
    est = Dummy().fit(TOKENS)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(np.full((2, 2), np.nan))
    assert est._input_kind == "tokens" and not hasattr(est, "n_features_in_")
    est.check(TOKENS)


def test_spelling_marks_truncates_and_knows_unknown_characters():
    from skrnn._spelling import BEGIN, END, MAX_CHARS, PAD, UNKNOWN, Spelling

    spelling = Spelling().fit(["ab", "ba", "abc" * 10])
    a, b = spelling.index_["a"], spelling.index_["b"]
    rows = spelling.transform(["ab", "", "aXb", "ab", "abc" * 10])
    assert rows.shape == (5, MAX_CHARS + 2)
    np.testing.assert_array_equal(rows[0, :4], [BEGIN, a, b, END])
    assert not rows[0, 4:].any() and PAD == 0
    np.testing.assert_array_equal(rows[1, :3], [BEGIN, END, PAD])
    np.testing.assert_array_equal(rows[2, :5], [BEGIN, a, UNKNOWN, b, END])
    np.testing.assert_array_equal(rows[3], rows[0])
    # a long word keeps its first and last MAX_CHARS // 2 characters
    kept = ("abc" * 10)[: MAX_CHARS // 2] + ("abc" * 10)[-(MAX_CHARS // 2) :]
    expected = [BEGIN] + [spelling.index_[c] for c in kept] + [END]
    np.testing.assert_array_equal(rows[4], expected)
    assert spelling.n_chars_ == END + 1 + 3
