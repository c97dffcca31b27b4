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
