"""Tests of skrnn.ensemble.VotingTagger: the vote against its members' outputs
computed by hand, classes the members do not share, input forms, parameters
by name, errors, and model files."""

import copy

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._param_validation import InvalidParameterError

from skrnn import HMMTagger, RNNTagger, VotingTagger, WordFeatures, load
from skrnn.datasets import make_tagging
from skrnn.metrics import flat_accuracy_scorer


def small_rnn(seed):
    return RNNTagger(
        hidden_size=16,
        embedding_dim=8,
        word_features=WordFeatures(embedding_dim=4),
        max_iter=5,
        batch_size=16,
        learning_rate=0.02,
        random_state=seed,
    )


class FixedTagger(BaseEstimator):
    """Tags every token ``tag``; knows the classes ``classes``."""

    def __init__(self, tag="a", classes=("a", "b")):
        self.tag = tag
        self.classes = classes

    def fit(self, X, y):
        self.classes_ = np.array(self.classes)
        return self

    def predict(self, X):
        return [np.full(len(x), self.tag, dtype=object) for x in X]

    def predict_proba(self, X):
        row = (self.classes_ == self.tag).astype(float)
        return [np.tile(row, (len(x), 1)) for x in X]


@pytest.fixture(scope="module")
def data():
    X, y = make_tagging(n_sequences=150, random_state=0)
    return X[:100], y[:100], X[100:], y[100:]


@pytest.fixture(scope="module")
def members(data):
    X, y, _, _ = data
    return [HMMTagger().fit(X, y), small_rnn(0).fit(X, y), small_rnn(1).fit(X, y)]


def vote_of(weights=None, voting="soft"):
    return VotingTagger(
        [("hmm", HMMTagger()), ("rnn0", small_rnn(0)), ("rnn1", small_rnn(1))],
        weights=weights,
        voting=voting,
    )


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 0.5]])
def test_soft_vote_is_the_weighted_mean_of_the_members_probabilities(
    data, members, weights
):
    X, y, X_test, _ = data
    vote = vote_of(weights).fit(X, y)
    w = np.ones(3) if weights is None else np.array(weights)
    expected = sum(
        wi * np.concatenate(m.predict_proba(X_test))
        for wi, m in zip(w, members, strict=True)
    ) / w.sum()
    proba = vote.predict_proba(X_test)
    np.testing.assert_allclose(np.concatenate(proba), expected, rtol=1e-12)
    assert [len(p) for p in proba] == [len(x) for x in X_test]
    predicted = np.concatenate(vote.predict(X_test))
    np.testing.assert_array_equal(predicted, vote.classes_[expected.argmax(axis=1)])


def test_hard_vote_takes_the_most_votes(data, members):
    X, y, X_test, _ = data
    vote = vote_of(voting="hard").fit(X, y)
    tags = np.stack([np.concatenate(m.predict(X_test)) for m in members])
    predicted = np.concatenate(vote.predict(X_test))
    for column, tag in zip(tags.T, predicted, strict=True):
        values, counts = np.unique(column, return_counts=True)
        assert tag == values[counts.argmax()]  # np.unique sorts, as classes_ is
    assert not hasattr(vote, "predict_proba")
    with pytest.raises(AttributeError, match="predict_proba") as raised:
        vote.predict_proba(X_test)
    assert "voting='soft'" in str(raised.value.__cause__)


def test_hard_vote_ties_go_to_the_first_class():
    X, y = [["x", "y"], ["z"]], [["a", "b"], ["a"]]
    vote = VotingTagger(
        [("b", FixedTagger("b")), ("a", FixedTagger("a"))], voting="hard"
    ).fit(X, y)
    assert [list(t) for t in vote.predict(X)] == [["a", "a"], ["a"]]
    heavier_b = clone(vote).set_params(weights=[1.5, 1.0]).fit(X, y)
    assert [list(t) for t in heavier_b.predict(X)] == [["b", "b"], ["b"]]


def test_members_with_different_classes_vote_in_the_union(data):
    X, y = [["x", "y"]], [["a", "b"]]
    vote = VotingTagger(
        [("ab", FixedTagger("b", ("a", "b"))), ("bc", FixedTagger("c", ("b", "c")))],
        weights=[1.0, 3.0],
    ).fit(X, y)
    np.testing.assert_array_equal(vote.classes_, ["a", "b", "c"])
    np.testing.assert_allclose(vote.predict_proba(X)[0], [[0, 0.25, 0.75]] * 2)
    assert list(vote.predict(X)[0]) == ["c", "c"]


def test_flat_numeric_input_with_lengths_gives_flat_output():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = np.where(X[:, 0] > 0, "pos", "neg")
    lengths = np.array([10, 20, 5, 25])
    vote = VotingTagger([("hmm", HMMTagger()), ("rnn", small_rnn(0))]).fit(
        X, y, lengths=lengths
    )
    proba = vote.predict_proba(X, lengths=lengths)
    assert proba.shape == (60, 2)
    members = [HMMTagger().fit(X, y, lengths), small_rnn(0).fit(X, y, lengths)]
    expected = np.mean([m.predict_proba(X, lengths) for m in members], axis=0)
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    assert vote.predict(X, lengths=lengths).shape == (60,)
    assert vote.n_features_in_ == 3
    with pytest.raises(ValueError, match="3 features"):
        vote.predict(X[:, :2], lengths=lengths)


def test_parallel_fit_gives_the_same_vote(data):
    X, y, X_test, _ = data
    one = vote_of().fit(X, y)
    two = vote_of().set_params(n_jobs=2).fit(X, y)
    np.testing.assert_allclose(
        np.concatenate(two.predict_proba(X_test)),
        np.concatenate(one.predict_proba(X_test)),
        rtol=1e-12,
    )


def test_members_are_clones_and_the_input_is_not_modified(data):
    X, y, X_test, _ = data
    X_copy, y_copy = copy.deepcopy(X), copy.deepcopy(y)
    hmm = HMMTagger()
    vote = VotingTagger([("hmm", hmm), ("rnn", small_rnn(0))]).fit(X, y)
    vote.predict(X_test)
    assert not hasattr(hmm, "classes_")
    assert vote.named_estimators_.hmm is vote.estimators_[0]
    assert [list(x) for x in X] == [list(x) for x in X_copy]
    assert [list(t) for t in y] == [list(t) for t in y_copy]


def test_parameters_by_name_drop_and_grid_search(data):
    X, y, X_test, y_test = data
    vote = vote_of()
    assert vote.get_params()["rnn0__hidden_size"] == 16
    vote.set_params(rnn0__hidden_size=8, hmm="drop")
    assert vote.estimators[1][1].hidden_size == 8
    vote.fit(X, y)
    assert len(vote.estimators_) == 2
    assert list(vote.named_estimators_) == ["rnn0", "rnn1"]
    search = GridSearchCV(
        VotingTagger([("hmm", HMMTagger()), ("rnn", small_rnn(0))]),
        {"hmm__alpha": [0.01, 1.0]},
        cv=KFold(2),
        scoring=flat_accuracy_scorer,
    ).fit(X, y)
    assert search.best_params_["hmm__alpha"] in (0.01, 1.0)
    assert 0 < search.score(X_test, y_test) <= 1


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(estimators=[]), ValueError, "non-empty list"),
        (dict(estimators=[HMMTagger()]), ValueError, r"\(name, estimator\)"),
        (
            dict(estimators=[("a", HMMTagger()), ("a", HMMTagger())]),
            ValueError,
            "unique",
        ),
        (dict(estimators=[("a", "drop")]), ValueError, "at least one"),
        (
            dict(estimators=[("a", HMMTagger())], weights=[1.0, 2.0]),
            ValueError,
            r"one number per estimator \(1\); got 2",
        ),
        (dict(estimators=[("a", object())]), TypeError, "no fit or predict_proba"),
        (
            dict(estimators=[("a", HMMTagger())], voting="most"),
            InvalidParameterError,
            "voting",
        ),
    ],
)
def test_bad_parameters_say_what_was_expected(params, error, match):
    X, y = [["x", "y"]], [["a", "b"]]
    with pytest.raises(error, match=match):
        VotingTagger(**params).fit(X, y)


def test_unknown_tokens_do_not_fail(data):
    X, y, _, _ = data
    vote = vote_of().fit(X, y)
    predicted = vote.predict([["never-seen", "w0", "also-unseen"]])
    assert predicted[0].shape == (3,)
    assert set(predicted[0]) <= set(vote.classes_)


def test_a_loaded_vote_predicts_as_the_original(data, tmp_path):
    X, y, X_test, _ = data
    vote = vote_of(weights=[1.0, 2.0, 1.0]).fit(X, y)
    vote.save(tmp_path / "vote.npz")
    loaded = load(tmp_path / "vote.npz")
    assert isinstance(loaded, VotingTagger)
    np.testing.assert_array_equal(
        np.concatenate(loaded.predict_proba(X_test)),
        np.concatenate(vote.predict_proba(X_test)),
    )


def test_a_soft_vote_of_taggers_with_span_rules_keeps_to_them():
    from skrnn._engine.crf import viterbi
    from skrnn._tag_schemes import transitions
    from skrnn.datasets import make_entity_tagging
    from skrnn.metrics import invalid_transitions

    X, y = make_entity_tagging(120, random_state=0)
    small = dict(hidden_size=16, num_layers=1, max_iter=2, output="softmax")
    members = [(f"r{s}", RNNTagger(random_state=s, **small)) for s in (0, 1)]
    vote = VotingTagger(members).fit(X, y)
    rng = np.random.default_rng(0)
    words = sorted({w for s in X for w in s})
    noise = [list(rng.choice(words, size=rng.integers(1, 10))) for _ in range(100)]
    predicted = vote.predict(noise)
    assert invalid_transitions(predicted, scheme="IOB2") == 0
    # the most probable valid sequence under the averaged probabilities
    rules = transitions(vote.classes_, "IOB2")
    start, trans, end = rules.penalties(np.float64)
    for tokens, proba, tags in zip(
        noise[:10], vote.predict_proba(noise[:10]), predicted[:10], strict=True
    ):
        mask = np.ones((len(tokens), 1), dtype=bool)
        path, _ = viterbi(np.log(proba)[:, None], mask, trans, start, end)
        np.testing.assert_array_equal(vote.classes_[path[:, 0]], tags)
    # members without rules: the argmax of the average, broken spans and all
    free = [
        (f"r{s}", RNNTagger(random_state=s, tag_scheme=None, **small)) for s in (0, 1)
    ]
    free_vote = VotingTagger(free).fit(X, y)
    proba = free_vote.predict_proba(noise)
    argmax = [free_vote.classes_[p.argmax(axis=1)] for p in proba]
    for a, b in zip(free_vote.predict(noise), argmax, strict=True):
        np.testing.assert_array_equal(a, b)
    assert invalid_transitions(argmax, scheme="IOB2") > 0
