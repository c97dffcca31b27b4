import pickle
from collections import Counter

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skrnn import Tokenizer


class TokenVoteClassifier(ClassifierMixin, BaseEstimator):
    """Labels a token list by the summed label counts of its known tokens."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        index = {c: k for k, c in enumerate(self.classes_)}
        self.counts_ = {}
        for tokens, label in zip(X, y, strict=True):
            if isinstance(tokens, str):
                raise TypeError("expected token lists")
            for tok in tokens:
                self.counts_.setdefault(tok, np.zeros(len(self.classes_)))
                self.counts_[tok][index[label]] += 1
        return self

    def predict(self, X):
        zero = np.zeros(len(self.classes_))
        votes = np.array([sum((self.counts_.get(t, zero) for t in s), zero) for s in X])
        return self.classes_[votes.argmax(axis=1)]


TEXTS = [
    "A GOOD film!",
    "good, fun and good",
    "Bad. Truly bad",
    "a bad, dull film",
    "Fun fun",
    "DULL...",
]
LABELS = np.array(["pos", "pos", "neg", "neg", "pos", "neg"])


def test_transform_splits_words_and_punctuation():
    out = Tokenizer().fit_transform(["Hello, World!", "It's 3.5 km", "  ", "日本語 ok"])
    assert out == [
        ["hello", ",", "world", "!"],
        ["it", "'", "s", "3", ".", "5", "km"],
        [],
        ["日本語", "ok"],
    ]


def test_parameters_change_the_output():
    docs = ["Hello, World!"]
    assert Tokenizer(lowercase=False).transform(docs) == [["Hello", ",", "World", "!"]]
    assert Tokenizer(token_pattern=r"\b\w\w+\b").transform(docs) == [["hello", "world"]]
    # One capturing group: the group is the token, as in CountVectorizer.
    assert Tokenizer(token_pattern=r"(\w+),").transform(docs) == [["hello"]]


def test_stateless_and_input_untouched():
    docs = ["One two", "three"]
    tok = Tokenizer()
    # No fit needed, and fit learns nothing (no fitted attributes).
    assert tok.transform(docs) == [["one", "two"], ["three"]]
    assert tok.fit(docs) is tok
    assert not [k for k in vars(tok) if k.endswith("_")]
    assert docs == ["One two", "three"]
    # Any iterable of str: a tuple, a NumPy array of str, a generator.
    assert tok.transform(np.array(docs)) == tok.transform(tuple(docs))
    assert tok.transform(d for d in docs) == [["one", "two"], ["three"]]


def test_errors():
    with pytest.raises(TypeError, match="got a single str; wrap it in a list"):
        Tokenizer().fit_transform("a raw string")
    with pytest.raises(TypeError, match="document 1 is a int"):
        Tokenizer().transform(["ok", 3])
    with pytest.raises(TypeError, match=r"document 0 is a bytes \(decode bytes"):
        Tokenizer().transform([b"ok"])
    with pytest.raises(TypeError, match="got NoneType"):
        Tokenizer().fit(None)
    with pytest.raises(ValueError, match="not a valid regular expression"):
        Tokenizer(token_pattern="(").transform(["x"])
    with pytest.raises(ValueError, match="2 capturing groups"):
        Tokenizer(token_pattern=r"(\w)(\w)").fit(["x"])
    with pytest.raises(ValueError, match="lowercase"):
        Tokenizer(lowercase="yes").fit(["x"])


def test_get_params_clone_pickle():
    tok = Tokenizer(token_pattern=r"\w+", lowercase=False)
    assert tok.get_params() == {"token_pattern": r"\w+", "lowercase": False}
    twin = clone(tok)
    assert twin is not tok and twin.get_params() == tok.get_params()
    restored = pickle.loads(pickle.dumps(tok.fit(TEXTS)))
    assert restored.transform(TEXTS) == tok.transform(TEXTS)
    assert tok.set_params(lowercase=True).transform(["AB"]) == [["ab"]]
    assert Tokenizer().__sklearn_tags__().input_tags.string


def test_pipeline_on_raw_text():
    pipe = make_pipeline(Tokenizer(), TokenVoteClassifier()).fit(TEXTS, LABELS)
    pred = pipe.predict(["Good and FUN", "so dull, so bad", "unknown words"])
    assert pred[:2].tolist() == ["pos", "neg"]
    assert pipe.score(TEXTS, LABELS) == 1.0


def test_grid_search_over_tokenizer_parameters():
    # Trained on upper case only: without lowercasing, "good" is unknown and
    # falls to the first class, "neg" (4 of the 10 test texts go wrong).
    pipe = make_pipeline(Tokenizer(), TokenVoteClassifier())
    texts = ["GOOD", "BAD"] + ["good", "bad", "GOOD", "BAD", "good"] * 2
    labels = ["pos", "neg"] + ["pos", "neg", "pos", "neg", "pos"] * 2
    search = GridSearchCV(
        pipe, {"tokenizer__lowercase": [False, True]}, cv=[([0, 1], range(2, 12))]
    ).fit(texts, labels)
    assert search.best_params_ == {"tokenizer__lowercase": True}
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], [0.6, 1.0])
    assert Counter(search.predict(["Bad", "gOOd"])) == Counter(["neg", "pos"])


# --- convert_tag_scheme ----------------------------------------------------------


def _random_iob2(rng, n_sequences=60):
    """Valid IOB2 sequences: runs of O between spans of 1-3 tokens, spans of the
    same type side by side, empty sequences."""
    y = []
    for _ in range(n_sequences):
        seq = []
        for _ in range(rng.randint(0, 6)):
            if rng.rand() < 0.4:
                seq.append("O")
                continue
            kind = rng.choice(["PER", "LOC"])
            seq += ["B-" + kind] + ["I-" + kind] * rng.randint(0, 3)
        y.append(seq)
    return y


def _spans(seq):
    """(type, start, stop) of each entity of a valid IOB2 or IOBES sequence,
    read token by token as the schemes define them."""
    spans, start = [], None
    for i, tag in enumerate([*seq, "O"]):
        prefix, kind = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        if start is not None and prefix in "BSO":
            spans.append((seq[start][2:], start, i))
            start = None
        if prefix in "BS":
            start = i
        if prefix in "ES":
            spans.append((kind, start, i + 1))
            start = None
    return spans


def test_convert_tag_scheme_round_trip_keeps_the_spans():
    from skrnn.metrics import invalid_transitions
    from skrnn.preprocessing import convert_tag_scheme

    y = _random_iob2(np.random.RandomState(0))
    copy = [list(seq) for seq in y]
    iobes = convert_tag_scheme(y, "IOBES")
    assert y == copy  # the input is untouched
    assert invalid_transitions(iobes, "IOBES") == 0
    assert any("S-" in t for s in iobes for t in s)
    assert any("E-" in t for s in iobes for t in s)
    for before, after in zip(y, iobes, strict=True):
        assert len(after) == len(before)
        assert _spans(after.tolist()) == _spans(before)
        for kind, start, stop in _spans(before):
            written = after[start:stop].tolist()
            if stop - start == 1:
                assert written == ["S-" + kind]
            else:
                middle = ["I-" + kind] * (stop - start - 2)
                assert written == ["B-" + kind, *middle, "E-" + kind]
    back = convert_tag_scheme(iobes, "IOB2")
    assert [s.tolist() for s in back] == y
    # writing a sequence in its own scheme changes nothing
    assert [s.tolist() for s in convert_tag_scheme(iobes, "IOBES")] == [
        s.tolist() for s in iobes
    ]
    assert [s.tolist() for s in convert_tag_scheme(y, "IOB2")] == y


def test_convert_tag_scheme_sequence_boundaries_and_forms():
    from skrnn.preprocessing import convert_tag_scheme

    # a span never runs on into the next sequence
    out = convert_tag_scheme([["B-X"], ["B-X", "I-X"], [], ("O",)], "IOBES")
    assert [s.tolist() for s in out] == [["S-X"], ["B-X", "E-X"], [], ["O"]]
    assert all(isinstance(s, np.ndarray) for s in out)
    arrays = [np.array(["B-ORG", "I-ORG", "I-ORG"]), np.array(["O"])]
    written = convert_tag_scheme(arrays, "IOBES")[0]
    assert written.tolist() == ["B-ORG", "I-ORG", "E-ORG"]
    # nothing to write, or no entity
    for scheme in ("IOB2", "IOBES"):
        assert convert_tag_scheme([], scheme) == []
        assert [s.tolist() for s in convert_tag_scheme([[], []], scheme)] == [[], []]
        assert convert_tag_scheme([["O", "O"]], scheme)[0].tolist() == ["O", "O"]


def test_convert_tag_scheme_errors():
    from sklearn.utils._param_validation import InvalidParameterError

    from skrnn.preprocessing import convert_tag_scheme

    with pytest.raises(ValueError, match="breaks its tagging scheme in 2 place"):
        convert_tag_scheme([["O", "I-PER"], ["B-LOC", "I-ORG"]], "IOBES")
    # read as IOBES (it has an S-): B-PER left open, I-LOC after S-LOC and open
    with pytest.raises(ValueError, match="breaks its tagging scheme in 3 place"):
        convert_tag_scheme([["B-PER", "O"], ["S-LOC", "I-LOC"]], "IOB2")
    with pytest.raises(ValueError, match="'NN' in y sequence 0 is not an entity tag"):
        convert_tag_scheme([["NN", "VB"]], "IOBES")
    with pytest.raises(TypeError, match="wrap it in a list"):
        convert_tag_scheme(["B-PER", "I-PER"], "IOBES")
    with pytest.raises(InvalidParameterError, match="'scheme' parameter"):
        convert_tag_scheme([["O"]], "BILOU")
