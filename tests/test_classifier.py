import os
import pickle
import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier, Tokenizer
from skrnn._engine import WeightAverage
from skrnn.datasets import (
    load_sst2,
    make_multichannel_series,
    make_sequence_classification,
)

# Small and lightly regularised: the defaults are tuned for thousands of sentences.
FAST = dict(hidden_size=16, embedding_dim=8, dropout=0.1, random_state=0)


@pytest.fixture(scope="module")
def tokens():
    X, y = make_sequence_classification(240, vocabulary_size=12, random_state=0)
    return X, np.array(["neg", "pos"])[y]


@pytest.fixture(scope="module")
def fitted(tokens):
    X, y = tokens
    return RNNClassifier(**FAST).fit(X, y)


# --- input forms ------------------------------------------------------------------


def test_token_sequences_with_string_labels(tokens, fitted):
    X, y = tokens
    assert fitted.classes_.tolist() == ["neg", "pos"]
    assert fitted.predict(X).dtype == y.dtype
    assert fitted.score(X, y) > 0.9
    proba = fitted.predict_proba(X[:7])
    assert proba.shape == (7, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.log(proba), fitted.predict_log_proba(X[:7]))
    assert not hasattr(fitted, "n_features_in_")


def test_unknown_and_empty_sequences_predict(fitted):
    X = [[], ["never", "seen"], ["w0"], []]
    proba = fitted.predict_proba(X)
    assert proba.shape == (4, 2) and np.isfinite(proba).all()
    # an empty sequence is one unknown step, so both empties get the same answer
    np.testing.assert_allclose(proba[0], proba[3])
    np.testing.assert_allclose(proba[0], fitted.predict_proba([["<nothing>"]])[0])


def test_series_forms_agree_on_the_same_data():
    X, y = make_multichannel_series(150, n_channels=2, n_timesteps=12, random_state=0)
    as_3d = RNNClassifier(**FAST, max_iter=3).fit(X, y)
    as_list = RNNClassifier(**FAST, max_iter=3).fit(list(X), y)
    np.testing.assert_allclose(as_3d.predict_proba(X), as_list.predict_proba(list(X)))
    assert as_3d.n_features_in_ == 12  # X.shape[1], as scikit-learn counts it
    assert as_list.n_features_in_ == 2


def test_ragged_multichannel_series_and_empty_series():
    X, y = make_multichannel_series(
        200, n_channels=2, n_timesteps=15, min_timesteps=6, random_state=0
    )
    assert len({len(x) for x in X}) > 1
    clf = RNNClassifier(**FAST, max_iter=5).fit(X, y)
    assert clf.score(X, y) > 0.8
    proba = clf.predict_proba([np.zeros((0, 2)), X[0]])
    assert proba.shape == (2, 2) and np.isfinite(proba).all()
    with pytest.raises(ValueError, match="3 features"):
        clf.predict([np.zeros((4, 3))])


def test_univariate_series_2d():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 150)
    X = rng.normal(size=(150, 6)) + y[:, None]
    # 15 validation series would stop this fit early on a flat score
    clf = RNNClassifier(**FAST, max_iter=10, early_stopping=False).fit(X, y)
    assert clf.n_features_in_ == 6
    assert clf.score(X, y) > 0.8
    assert clf.predict(X).shape == (150,)
    with pytest.raises(ValueError, match="expecting 6 features"):
        clf.predict(X[:, :4])


def test_input_is_not_modified(tokens):
    X, y = tokens
    X_copy = [list(x) for x in X]
    y_copy = y.copy()
    RNNClassifier(**FAST, max_iter=1).fit(X, y)
    assert X == X_copy
    np.testing.assert_array_equal(y, y_copy)


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "X, match",
    [
        ("a whole text", "Tokenizer"),
        (["one text", "another text"], "Tokenizer"),
        ([["ok"], "not ok"], r"X\[1\]"),
        ([], "at least one sequence"),
        (np.arange(4.0), "Expected 2D array"),
        ([["a"], np.zeros((2, 3))], "mixes"),
    ],
)
def test_bad_X(X, match):
    with pytest.raises(ValueError, match=match):
        RNNClassifier(**FAST).fit(X, [0, 1])


@pytest.mark.parametrize(
    "y, error, match",
    [
        (None, ValueError, "requires y"),
        ([0, 1, 0], ValueError, "4 sequences but y has 3"),
        ([0.5, 1.5, 2.5, 3.5], ValueError, "Unknown label type"),
        (["a", "a", "a", "a"], ValueError, "one class"),
        ([0, 1, np.nan, 1], ValueError, "NaN"),
    ],
)
def test_bad_y(y, error, match):
    X = [["a", "b"], ["b"], ["c", "a"], ["d"]]
    with pytest.raises(error, match=match):
        RNNClassifier(**FAST).fit(X, y)


def test_predict_errors(fitted):
    with pytest.raises(ValueError, match="fitted on tokens input"):
        fitted.predict(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="Tokenizer"):
        fitted.predict("raw text")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RNNClassifier().predict([["a"]])


def test_class_weight_for_unknown_label(tokens):
    X, y = tokens
    clf = RNNClassifier(**FAST, class_weight={"maybe": 2.0})
    with pytest.raises(ValueError, match="'maybe'.*not a class"):
        clf.fit(X, y)


def test_partial_fit_needs_classes_and_rejects_new_labels(tokens):
    X, y = tokens
    with pytest.raises(ValueError, match="classes must be passed"):
        RNNClassifier(**FAST).partial_fit(X, y)
    clf = RNNClassifier(**FAST).partial_fit(X[:50], y[:50], classes=["neg", "pos"])
    with pytest.raises(ValueError, match="'maybe'.*not among"):
        clf.partial_fit(X[:2], ["maybe", "pos"])
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[:2], y[:2], classes=["neg", "pos", "maybe"])


# --- behaviour --------------------------------------------------------------------


def test_last_state_remembers_a_token_seen_only_at_the_start():
    # The seed's claim: h_T of a left-to-right RNN carries the first token's
    # class through the filler words that follow it.
    X, y = make_sequence_classification(
        500,
        vocabulary_size=10,
        min_length=4,
        max_length=12,
        trigger="start",
        random_state=0,
    )
    clf = RNNClassifier(
        pooling="last",
        bidirectional=False,
        hidden_size=16,
        embedding_dim=8,
        dropout=0.0,
        random_state=0,
    ).fit(X[:350], y[:350])
    assert clf.score(X[350:], y[350:]) > 0.95


def test_class_weight_shifts_predictions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    X = rng.normal(size=(300, 3)) + 0.4 * y[:, None]  # heavily overlapping
    kw = dict(FAST, max_iter=8, early_stopping=False)
    plain = RNNClassifier(**kw).fit(X, y)
    heavy = RNNClassifier(**kw, class_weight={0: 10.0}).fit(X, y)
    share = [np.mean(m.predict(X) == 0) for m in (plain, heavy)]
    assert share[1] > max(share[0], 0.9)


def test_balanced_class_weight_raises_minority_recall():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.15).astype(int)
    X = rng.normal(size=(400, 3)) + 0.8 * y[:, None]
    kw = dict(FAST, max_iter=8, early_stopping=False)
    recall = [
        np.mean(RNNClassifier(**kw, class_weight=cw).fit(X, y).predict(X)[y == 1])
        for cw in (None, "balanced")
    ]
    assert recall[1] > recall[0] + 0.2


def test_partial_fit_and_warm_start_continue(tokens):
    X, y = tokens
    clf = RNNClassifier(**FAST)
    for _ in range(4):
        clf.partial_fit(X, y, classes=["neg", "pos"])
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 4
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]

    warm = RNNClassifier(**FAST, max_iter=2, early_stopping=False, warm_start=True)
    with pytest.warns(Warning):
        warm.fit(X, y)
    vocabulary, steps = warm.vocabulary_, warm.t_
    with pytest.warns(Warning):
        warm.fit(X[:100], y[:100])
    assert warm.n_iter_ == 4 and warm.t_ > steps
    assert warm.vocabulary_ is vocabulary  # continued, not refitted


def _word_order_task(n, seed):
    """Each sequence holds "x y" (positive) or "y x" (negative) among filler
    words: the unigram counts are the same, only a bigram decides."""
    rng = np.random.default_rng(seed)
    X, y = [], np.arange(n) % 2
    for label in y:
        words = list(rng.choice(list("cdefgh"), size=6))
        at = rng.integers(0, 7)
        words[at:at] = ["x", "y"] if label else ["y", "x"]
        X.append(words)
    return X, y


def test_bigram_bag_learns_what_a_one_unit_rnn_cannot():
    X, y = _word_order_task(300, seed=0)
    X_test, y_test = _word_order_task(200, seed=1)
    tiny = dict(
        hidden_size=1,
        embedding_dim=1,
        cell="rnn",
        bidirectional=False,
        pooling="mean",
        dropout=0.0,
        early_stopping=False,
        max_iter=20,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wide = RNNClassifier(ngram_range=(1, 2), **tiny).fit(X, y)
        deep = RNNClassifier(ngram_range=None, **tiny).fit(X, y)
    assert wide.score(X_test, y_test) > 0.95
    assert deep.score(X_test, y_test) < 0.75
    assert "bag" in wide.params_ and "bag" not in deep.params_
    # unigrams c..h, x, y (8) and every bigram seen in training, each once
    bigrams = {(a, b) for words in X for a, b in zip(words, words[1:], strict=False)}
    assert wide.params_["bag"].shape == (8 + len(bigrams), 2)


def test_ngram_bag_counts_known_ngrams_and_changes_predictions(tokens):
    X, y = tokens
    with_bag = RNNClassifier(**FAST, ngram_range=(2, 3), min_freq=2).fit(X, y)
    without = RNNClassifier(**FAST, ngram_range=None).fit(X, y)
    assert not np.allclose(with_bag.predict_proba(X), without.predict_proba(X))
    words = [[w.lower() for w in seq] for seq in X]
    counts = Counter(
        tuple(seq[i : i + n]) for seq in words for n in (2, 3) for i in range(len(seq))
    )
    kept = {g for g, c in counts.items() if c >= 2 and len(g) > 1}
    assert with_bag.params_["bag"].shape[0] == len(kept)
    # a bag holds the sequence's kept n-grams; an unknown word's n-grams are skipped
    a, b, c = words[0][:3]
    encoded = with_bag._encode_predict([["zz", a, b, c], []])
    sizes = np.diff(encoded.bag_offsets)
    expected = sum(g in kept for g in [(a, b), (b, c), (a, b, c)])
    assert sizes.tolist() == [expected, 0]


def test_ngram_range_errors_and_series_without_bag(tokens):
    X, y = tokens
    for bad in [(0, 2), (2, 1), (1, 2, 3), (1.0, 2)]:
        with pytest.raises(ValueError, match="ngram_range"):
            RNNClassifier(**FAST, ngram_range=bad).fit(X, y)
    series = np.random.default_rng(0).standard_normal((20, 5))
    clf = RNNClassifier(**FAST, early_stopping=False, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(series, np.arange(20) % 2)
    assert "bag" not in clf.params_


def test_weight_average_follows_the_recent_steps():
    steps = [np.full(3, float(i), dtype=np.float32) for i in range(1, 401)]
    average = WeightAverage({"w": np.zeros(3, np.float32)}, decay=0.9)
    for i, step in enumerate(steps, start=1):
        average.update({"w": step})
        if i == 1:  # the warm-up: the first step replaces the initial weights
            np.testing.assert_allclose(average.params()["w"], 1.0)
    # at full decay 0.9 the average of a ramp lags it by d / (1 - d) = 9 steps
    np.testing.assert_allclose(average.params()["w"], 400 - 9, rtol=1e-4)
    average.params()["w"][:] = -1  # a copy: the running average is untouched
    assert average.params()["w"][0] > 0


def test_average_decay_changes_kept_weights_not_training(tokens):
    X, y = tokens
    fits = {
        d: RNNClassifier(
            **{**FAST, "average_decay": d}, early_stopping=False, max_iter=3
        ).fit(X, y)
        for d in (0.0, 0.9)
    }
    # the optimizer steps from the raw weights either way ...
    np.testing.assert_allclose(fits[0.0].loss_curve_, fits[0.9].loss_curve_)
    # ... but the fitted parameters are their moving average
    raw, averaged = fits[0.0].params_, fits[0.9].params_
    assert any(not np.allclose(raw[k], averaged[k]) for k in raw)


def test_same_random_state_same_model(tokens):
    X, y = tokens
    a = RNNClassifier(**FAST, max_iter=3).fit(X, y)
    b = pickle.loads(pickle.dumps(clone(a))).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    c = RNNClassifier(**dict(FAST, random_state=1), max_iter=3).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_early_stopping_records_validation_and_verbose_prints(tokens, capsys):
    X, y = tokens
    clf = RNNClassifier(**FAST, max_iter=3, verbose=1)
    with pytest.warns(Warning, match="maximum iterations"):
        clf.fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ == 3
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + 3 and "valid_acc" in lines[0]
    assert [float(line.split()[2]) for line in lines[2:]] == pytest.approx(
        clf.validation_scores_, abs=1e-4
    )


def test_pipeline_with_tokenizer_in_grid_search():
    texts = [
        "A good film.",
        "Really good!",
        "What a bad movie.",
        "Bad, bad acting.",
        "good story , good cast",
        "so bad it hurts",
        "Good fun.",
        "A bad idea.",
    ] * 6
    y = ["pos", "pos", "neg", "neg", "pos", "neg", "pos", "neg"] * 6
    pipe = make_pipeline(Tokenizer(), RNNClassifier(**FAST, early_stopping=False))
    search = GridSearchCV(pipe, {"rnnclassifier__pooling": ["last", "max"]}, cv=3)
    search.fit(texts, y)
    assert search.best_score_ > 0.9
    assert search.predict(["That was good.", "Awfully BAD."]).tolist() == ["pos", "neg"]


# --- real data --------------------------------------------------------------------


def test_sst2_slice():
    root = os.environ.get("SKRNN_DATA_DIR")
    if not root:
        pytest.skip("SKRNN_DATA_DIR is not set; it holds sst2/stsa.binary.*")
    X, y = load_sst2(os.path.join(root, "sst2", "stsa.binary.train"))
    X_dev, y_dev = load_sst2(os.path.join(root, "sst2", "stsa.binary.dev"))
    short = [i for i, x in enumerate(X) if len(x) <= 20][:2000]
    clf = RNNClassifier(
        hidden_size=32,
        embedding_dim=16,
        max_iter=8,
        early_stopping=False,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit([X[i] for i in short], y[short])
    # chance is 50%; measured 70.5% (the full training set gets about 79%)
    assert clf.score(X_dev, y_dev) > 0.65


def test_adversarial_training_moves_the_fit_and_still_learns(tokens, fitted):
    X, y = tokens
    adversarial = RNNClassifier(**FAST, adversarial=0.1).fit(X, y)
    assert not np.allclose(adversarial.params_["head.W"], fitted.params_["head.W"])
    assert adversarial.score(X, y) > 0.9


def test_soft_vote_of_classifiers_is_the_mean_of_their_probabilities(tokens):
    # scikit-learn's own VotingClassifier takes RNNClassifiers on token lists,
    # fitted in parallel (docs/benchmarks.md: what a vote of seeds buys on SST-2)
    X, y = tokens
    members = [(f"rnn{seed}", RNNClassifier(**{**FAST, "random_state": seed}))
               for seed in (0, 1, 2)]
    vote = VotingClassifier(members, voting="soft", n_jobs=2).fit(X, y)
    alone = [clone(member).fit(X, y).predict_proba(X[:20]) for _, member in members]
    np.testing.assert_allclose(vote.predict_proba(X[:20]), np.mean(alone, axis=0))
    assert vote.classes_.tolist() == ["neg", "pos"]
    assert vote.predict([["never", "seen"]]).dtype == y.dtype
