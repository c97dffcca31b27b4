"""Tests of skrnn.tagger.RNNTagger: the data contract seen through the tagger,
fitting, prediction, scikit-learn integration and a real-data floor."""

import copy
import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from skrnn.datasets import data_dir, load_conllu, make_tagging
from skrnn.metrics import flat_accuracy_scorer
from skrnn.tagger import CharCNN, RNNTagger, WordFeatures

# Small and quick: every fit in this module takes well under a second.
SMALL = dict(
    hidden_size=16,
    embedding_dim=8,
    max_iter=5,
    batch_size=16,
    learning_rate=0.02,
    random_state=0,
)


def small(**params):
    # word_features of its own: set_params(word_features__...) changes it in place
    features = WordFeatures(embedding_dim=4)
    return RNNTagger(**{**SMALL, "word_features": features, **params})


@pytest.fixture(scope="module")
def tagging():
    return make_tagging(n_sequences=180, random_state=0)


@pytest.fixture(scope="module")
def corpus(tagging):
    X, y = tagging
    return X[:120], y[:120]


@pytest.fixture(scope="module")
def fitted(corpus):
    X, y = corpus
    return small(max_iter=15, early_stopping=False).fit(X, y)


@pytest.fixture(scope="module")
def numeric():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = np.where(X[:, 0] > 0, "pos", "neg")
    return X, y, np.array([10, 20, 5, 25])


# ------------------------------------------------------------- input forms


def test_token_input_gives_lists(fitted, corpus):
    X, _ = corpus
    pred = fitted.predict(X[:3])
    proba = fitted.predict_proba(X[:3])
    log_proba = fitted.predict_log_proba(X[:3])
    assert isinstance(pred, list) and len(pred) == 3
    for seq, p, pr, lp in zip(X[:3], pred, proba, log_proba, strict=True):
        assert p.shape == (len(seq),)
        assert pr.shape == (len(seq), len(fitted.classes_))
        np.testing.assert_allclose(pr.sum(axis=1), 1.0)
        np.testing.assert_allclose(np.exp(lp), pr)
        np.testing.assert_array_equal(p, fitted.classes_[pr.argmax(axis=1)])
        assert set(p) <= set(fitted.classes_)


def test_learns_context(fitted, tagging):
    # make_tagging's ambiguous words need the previous tag: held-out sequences are
    # tagged well above the majority tag.
    X, y = tagging[0][120:], tagging[1][120:]
    tags, counts = np.unique(np.concatenate(y), return_counts=True)
    assert counts.max() / counts.sum() < 0.5
    assert fitted.score(X, y) > 0.75


def test_numeric_2d_with_lengths_gives_flat_arrays(numeric):
    X, y, lengths = numeric
    # four sequences make one batch: without dropout and at a moderate rate
    # every seed 0-9 learns the sign of the first column (with the defaults'
    # dropout, seeds 0-9 scored 0.58-0.98)
    tagger = small(max_iter=20, dropout=0.0, learning_rate=0.005)
    tagger.fit(X, y, lengths=lengths)
    pred = tagger.predict(X, lengths=lengths)
    proba = tagger.predict_proba(X, lengths=lengths)
    assert pred.shape == (60,) and proba.shape == (60, 2)
    assert tagger.n_features_in_ == 3
    assert not hasattr(tagger, "vocabulary_")
    assert tagger.score(X, y, lengths=lengths) == pytest.approx(np.mean(pred == y))
    assert tagger.score(X, y, lengths=lengths) > 0.8


def test_numeric_rows_without_lengths_are_independent(numeric):
    X, y, _ = numeric
    tagger = small().fit(X, y)
    full = tagger.predict_proba(X)
    one_by_one = np.vstack([tagger.predict_proba(X[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(full[:5], one_by_one, atol=1e-10)
    # With lengths the rows are read in context, which changes the probabilities.
    grouped = tagger.predict_proba(X, lengths=[60])
    assert not np.allclose(grouped, full)


def test_ragged_numeric_list_gives_lists(numeric):
    X, y, lengths = numeric
    bounds = np.cumsum(lengths)[:-1]
    X_list, y_list = np.split(X, bounds), np.split(y, bounds)
    tagger = small().fit(X_list, y_list)
    pred = tagger.predict(X_list)
    assert [p.shape[0] for p in pred] == lengths.tolist()
    assert tagger.n_features_in_ == 3
    # The same sequences as a 2-D array with lengths give the same model.
    flat = small().fit(X, y, lengths=lengths)
    np.testing.assert_allclose(
        flat.predict_proba(X, lengths=lengths),
        np.vstack(tagger.predict_proba(X_list)),
    )


def test_unknown_tokens_and_empty_sequences(fitted):
    pred = fitted.predict([["never", "seen", "words"], [], ["w1"]])
    assert [p.shape for p in pred] == [(3,), (0,), (1,)]
    assert pred[1].dtype == fitted.classes_.dtype
    proba = fitted.predict_proba([[]])
    assert proba[0].shape == (0, len(fitted.classes_))


def test_suffix_and_shape_streams_tag_unseen_words():
    rng = np.random.RandomState(0)
    stems = ["quick", "slow", "bright", "loud", "soft", "calm", "warm", "dark"]
    X, y = [], []
    for _ in range(80):
        stem = stems[rng.randint(6)]  # the last two stems stay unseen
        X.append(["it", "was", stem + "ly", "done", "1984"])
        y.append(["PRON", "AUX", "ADV", "VERB", "NUM"])
    tagger = small(max_iter=20, early_stopping=False).fit(X, y)
    pred = tagger.predict([["it", "was", "darkly", "done", "2023"]])[0]
    assert "darkly" not in tagger.vocabulary_
    assert pred.tolist() == ["PRON", "AUX", "ADV", "VERB", "NUM"]


def test_inputs_are_not_modified(corpus, numeric):
    X, y = corpus
    X_copy, y_copy = copy.deepcopy(X), copy.deepcopy(y)
    tagger = small(max_iter=2).fit(X, y)
    tagger.predict(X)
    tagger.score(X, y)
    assert X == X_copy and y == y_copy
    Xn, yn, lengths = numeric
    copies = [a.copy() for a in (Xn, yn, lengths)]
    tagger = small(max_iter=2).fit(Xn, yn, lengths=lengths)
    tagger.predict_proba(Xn, lengths=lengths)
    for a, b in zip((Xn, yn, lengths), copies, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "X, y, match",
    [
        ("The cat sat", [["D", "N", "V"]], "split into characters"),
        (["The", "cat"], [["D"], ["N"]], "split into characters"),
        ([["a", "b"], "cd"], [["D", "N"], ["D", "N"]], r"X\[1\]"),
        ([["a", "b"]], [["D", "N"], ["D"]], "1 sequences but y has 2"),
        ([["a", "b"], ["c"]], [["D", "N"], ["D", "N"]], r"y\[1\] has 2 tags"),
        ([], [], "at least one sequence"),
        ([["a"], np.ones((2, 3))], [["D"], ["D", "D"]], "mixes"),
        ([[]], [[]], "all empty"),
    ],
    ids=[
        "bare-str",
        "list-of-str",
        "str-sequence",
        "length-mismatch",
        "tag-length",
        "empty-X",
        "mixed",
        "no-tokens",
    ],
)
def test_fit_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        small().fit(X, y)


def test_numeric_errors(numeric):
    X, y, lengths = numeric
    with pytest.raises(ValueError, match="lengths sum to 59"):
        small().fit(X, y, lengths=[59])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        small().fit(bad, y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        small().fit(X[:, 0], y)
    tagger = small(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        tagger.predict(X[:, :2])
    with pytest.raises(ValueError, match="fitted on numeric input"):
        tagger.predict([["a", "b"]])


def test_unfitted_and_invalid_parameters(corpus):
    X, y = corpus
    with pytest.raises(NotFittedError):
        RNNTagger().predict(X)
    with pytest.raises(InvalidParameterError, match="cell"):
        RNNTagger(cell="transformer").fit(X, y)
    with pytest.raises(InvalidParameterError, match="word_dropout"):
        RNNTagger(word_dropout=-1).fit(X, y)


def test_partial_fit_classes_and_unknown_tags(corpus):
    X, y = corpus
    classes = ["t0", "t1", "t2", "t3", "t4", "zz"]
    tagger = small().partial_fit(X[:20], y[:20], classes=classes)
    assert tagger.classes_.tolist() == classes
    assert tagger.predict_proba(X[:1])[0].shape[1] == 6
    with pytest.raises(ValueError, match="not seen in the first fit"):
        tagger.partial_fit([["w1"]], [["new-tag"]])
    with pytest.raises(ValueError, match="not seen in the first fit"):
        small().partial_fit(X[:5], y[:5], classes=["t0"])


# ------------------------------------------------------- fitted attributes


def test_fitted_attributes(corpus):
    X, y = corpus
    # 30 held-out sequences: the least that early stopping splits off
    tagger = small(max_iter=8, n_iter_no_change=100, validation_fraction=0.25)
    tagger.fit(X, y)
    assert tagger.classes_.tolist() == sorted({t for s in y for t in s})
    words = {w for s in X for w in s}
    assert set(tagger.vocabulary_) == words
    assert sorted(tagger.vocabulary_.values()) == list(range(1, len(words) + 1))
    assert not hasattr(tagger, "n_features_in_")
    assert len(tagger.loss_curve_) == len(tagger.validation_scores_) == 8
    assert tagger.n_iter_ == 8
    assert tagger.best_validation_score_ == max(tagger.validation_scores_)
    assert tagger.loss_curve_[-1] < tagger.loss_curve_[0]


def test_min_freq_and_max_vocabulary(corpus):
    X, y = corpus
    counts = {}
    for w in (w for s in X for w in s):
        counts[w] = counts.get(w, 0) + 1
    tagger = small(max_iter=1, min_freq=5).fit(X, y)
    assert set(tagger.vocabulary_) == {w for w, c in counts.items() if c >= 5}
    tagger = small(max_iter=1, max_vocabulary=7).fit(X, y)
    assert len(tagger.vocabulary_) == 7


def test_early_stopping_on_tiny_data_uses_training_loss():
    tagger = small().fit([["a", "b"], ["b", "a"]], [["X", "Y"], ["Y", "X"]])
    assert tagger.validation_scores_ == [] and tagger.best_validation_score_ is None
    assert tagger.n_iter_ >= 1


def test_refit_on_numeric_drops_vocabulary(corpus, numeric):
    X, y = corpus
    tagger = small(max_iter=1).fit(X, y)
    tagger.fit(numeric[0], numeric[1])
    assert not hasattr(tagger, "vocabulary_") and tagger.n_features_in_ == 3
    tagger.fit(X, y)
    assert hasattr(tagger, "vocabulary_") and not hasattr(tagger, "n_features_in_")


# --------------------------------------------------------- training loop


def test_same_random_state_same_model(corpus):
    X, y = corpus
    a = small(max_iter=3).fit(X, y)
    b = small(max_iter=3).fit(X, y)
    c = small(max_iter=3, random_state=1).fit(X, y)
    for name in a.params_:
        np.testing.assert_array_equal(a.params_[name], b.params_[name])
    assert a.loss_curve_ == b.loss_curve_
    assert any(not np.array_equal(a.params_[k], c.params_[k]) for k in a.params_)


def test_warm_start_continues_training(corpus):
    X, y = corpus
    tagger = small(max_iter=3, early_stopping=False, warm_start=True).fit(X, y)
    first = list(tagger.loss_curve_)
    tagger.fit(X, y)
    assert tagger.n_iter_ == 6
    assert tagger.loss_curve_[:3] == first
    # The continued fit starts from the trained weights, not from scratch.
    assert tagger.loss_curve_[3] < first[0]
    assert tagger.loss_curve_[-1] < first[-1]
    cold = small(max_iter=3, early_stopping=False).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 3


def test_partial_fit_continues_training(corpus):
    X, y = corpus
    tagger = small()
    for expected in range(1, 6):
        tagger.partial_fit(X, y)
        assert tagger.n_iter_ == expected
    assert tagger.loss_curve_[-1] < tagger.loss_curve_[0]
    assert tagger.validation_scores_ == []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on the way to NaN
def test_diverging_fit_raises(corpus):
    X, y = corpus
    # The L2 penalty of the exploding weights overflows to inf in the first epoch.
    tagger = small(
        solver="sgd", learning_rate=1e30, alpha=1e-4, clip_norm=None, max_iter=3
    )
    with pytest.raises(ValueError, match="smaller learning_rate") as error:
        tagger.fit(X, y)
    # 3 epochs of 8 steps, well short of short_fit_steps: the rate used is named
    assert "this short fit stepped at 4e+30" in str(error.value)
    with pytest.raises(ValueError, match=r"\(it is 1e\+30\) or"):
        tagger.set_params(short_fit_steps=None).fit(X, y)


def test_verbose_prints_a_table_with_a_row_per_epoch(corpus, capsys):
    X, y = corpus
    tagger = small(
        max_iter=4, n_iter_no_change=100, validation_fraction=0.25, verbose=1
    ).fit(X, y)
    header, rule, *rows = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["epoch", "train_loss", "valid_acc", "steps/s", "dur"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert len(rows) == tagger.n_iter_ == 4
    for epoch, (line, row) in enumerate(zip(rows, tagger.history_, strict=True), 1):
        cells = line.split()
        assert cells[0] == f"{epoch}/4"
        assert float(cells[1]) == pytest.approx(row["loss"], abs=1e-4)
        assert float(cells[2]) == pytest.approx(row["validation_score"], abs=1e-4)
    # a warm-started fit prints its own table
    tagger.set_params(warm_start=True, max_iter=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[2].split()[0] == "5/1"


def test_verbose_2_draws_tqdm_bars_when_installed(corpus, capsys):
    pytest.importorskip("tqdm", reason="the progress bar is tqdm's")
    X, y = corpus
    small(max_iter=2, early_stopping=False, verbose=2).fit(X, y)
    err = capsys.readouterr().err
    assert "epoch 1" in err and "epoch 2" in err and "batch" in err


def test_verbose_2_shows_progress_within_the_epoch(corpus, capsys, monkeypatch):
    X, y = corpus
    # without tqdm: a plain line at every tenth of the batches
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    tagger = small(max_iter=1, batch_size=2, early_stopping=False, verbose=2)
    tagger.fit(X, y)
    progress = [
        line for line in capsys.readouterr().out.splitlines() if "batches" in line
    ]
    n_batches = int(np.ceil(len(X) / 2))
    assert len(progress) == min(10, n_batches)
    assert progress[-1].strip().startswith(f"epoch 1: {n_batches}/{n_batches} batches")
    assert "tqdm" not in str(tagger.__dict__)  # nothing of the bar is kept


# -------------------------------------------------- scikit-learn integration


def test_pickle_and_clone(fitted, corpus):
    X, _ = corpus
    restored = pickle.loads(pickle.dumps(fitted))
    expected, got = fitted.predict_proba(X[:5]), restored.predict_proba(X[:5])
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
    unfitted = clone(fitted)
    assert unfitted.get_params() == fitted.get_params()
    assert not hasattr(unfitted, "params_")


def test_grid_search(corpus):
    X, y = corpus
    search = GridSearchCV(
        small(max_iter=3),
        {"hidden_size": [4, 16], "learning_rate": [1e-4, 0.02]},
        scoring=flat_accuracy_scorer,
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    # A tiny learning rate barely moves off the random start in three epochs.
    assert search.best_params_["learning_rate"] == 0.02
    assert isinstance(search.predict(X[:2]), list)


def test_cross_val_score(corpus):
    X, y = corpus
    scores = cross_val_score(small(), X, y, cv=KFold(3), scoring=flat_accuracy_scorer)
    assert scores.shape == (3,)
    assert np.all(scores > 0.3)
    # The default score (token accuracy) is used without scoring=.
    default = cross_val_score(small(), X, y, cv=KFold(3))
    np.testing.assert_allclose(default, scores)


# ----------------------------------------------------------------- real data


def test_ewt_slice_beats_baselines():
    root = data_dir()
    if root is None:
        pytest.skip("SKRNN_DATA_DIR is not set; the UD English EWT test is skipped.")
    ewt = root / "ud_english_ewt"
    X_train, y_train = load_conllu(ewt / "en_ewt-ud-train.conllu")
    X_test, y_test = load_conllu(ewt / "en_ewt-ud-dev.conllu")
    X_train, y_train = X_train[:500], y_train[:500]
    X_test, y_test = X_test[:300], y_test[:300]
    tagger = RNNTagger(
        hidden_size=32,
        embedding_dim=24,
        learning_rate=0.01,
        max_iter=4,
        early_stopping=False,
        random_state=0,
    ).fit(X_train, y_train)
    tags, counts = np.unique(np.concatenate(y_train), return_counts=True)
    gold = np.concatenate(y_test)
    majority = np.mean(gold == tags[counts.argmax()])
    accuracy = tagger.score(X_test, y_test)
    assert majority < 0.25
    assert accuracy > 0.8


def test_neighbour_ids_stay_within_each_sequence():
    from skrnn.tagger import _neighbour_ids

    context = np.array([10, 11, 12, 20, 30, 31])  # sequences of 3, 1 and 2
    out = _neighbour_ids(context, np.array([3, 1, 2]), window=2, boundary=99)
    expected = [  # offsets -2, -1, +1, +2
        [99, 99, 11, 12],
        [99, 10, 12, 99],
        [10, 11, 99, 99],
        [99, 99, 99, 99],
        [99, 99, 31, 99],
        [99, 30, 99, 99],
    ]
    np.testing.assert_array_equal(out, expected)


def _tags_of_the_next_word(n_sequences, rng):
    """Each token's tag names the word after it, which a left-to-right RNN has
    not read yet."""
    words = np.array(["a", "b", "c", "d"])
    X, y = [], []
    for _ in range(n_sequences):
        sentence = words[rng.integers(0, 4, size=rng.integers(3, 8))].tolist()
        X.append(sentence)
        y.append([f"before_{w}" for w in sentence[1:]] + ["last"])
    return X, y


def test_linear_window_tags_from_the_next_word():
    rng = np.random.default_rng(0)
    X, y = _tags_of_the_next_word(300, rng)
    X_test, y_test = _tags_of_the_next_word(100, rng)
    params = dict(bidirectional=False, num_layers=1, max_iter=15, word_dropout=0)

    def accuracy(linear_window):
        tagger = small(linear_window=linear_window, **params).fit(X, y)
        return flat_accuracy_scorer(tagger, X_test, y_test)

    # without the linear model the next word is a guess among 4; the window
    # reads it
    assert accuracy(None) < 0.6
    assert accuracy(1) > 0.95


def test_linear_window_sets_the_linear_tables(corpus, numeric):
    X, y = corpus
    tagger = small(linear_window=2, max_iter=1).fit(X, y)
    sizes = tagger.featurizer_.vocab_sizes_
    lower = tagger.featurizer_.stream_names_.index("lower")
    expected = list(sizes) + [sizes[lower] + 1] * 4
    shapes = [tagger.params_[f"linear.{k}"].shape for k in range(len(expected))]
    assert shapes == [(n, len(tagger.classes_)) for n in expected]
    assert f"linear.{len(expected)}" not in tagger.params_
    assert not any(
        k.startswith("linear")
        for k in small(linear_window=None, max_iter=1).fit(X, y).params_
    )
    X_numeric, y_numeric, lengths = numeric
    fitted = small(max_iter=1).fit(X_numeric, y_numeric, lengths=lengths)
    assert not any(k.startswith("linear") for k in fitted.params_)


def test_early_stopping_needs_30_held_out_sequences(corpus):
    X, y = corpus  # 120 sequences
    few = small(max_iter=3, validation_fraction=0.2).fit(X, y)  # 24 held out
    assert few.validation_scores_ == [] and few.best_validation_score_ is None
    enough = small(max_iter=3, validation_fraction=0.25).fit(X, y)  # 30
    assert len(enough.validation_scores_) == enough.n_iter_ > 0


@pytest.mark.parametrize(
    "n_sequences, expected", [(1, 1), (80, 4), (81, 5), (639, 32), (12544, 32)]
)
def test_auto_batch_size_gives_an_epoch_20_steps(n_sequences, expected):
    assert RNNTagger()._batch_size(n_sequences) == expected
    assert RNNTagger(batch_size=7)._batch_size(n_sequences) == 7


def test_auto_batch_size_in_a_fit(tagging):
    X, y = tagging
    tagger = small(batch_size="auto", max_iter=1, early_stopping=False)
    assert tagger.fit(X[:100], y[:100]).t_ == 20  # batches of 5
    assert tagger.fit(X, y).t_ == 20  # 180 sequences: batches of 9


def test_short_fit_raises_the_learning_rate(corpus):
    X, y = corpus  # 120 sequences, batches of 16: 8 per epoch
    rates = {}
    for short_fit_steps in (None, 24, 60, 100_000):
        tagger = small(
            max_iter=3, early_stopping=False, short_fit_steps=short_fit_steps
        )
        rates[short_fit_steps] = tagger.fit(X, y).history_.column("learning_rate")
    base = SMALL["learning_rate"]
    # 3 epochs of 8 steps: planned for 24, not short of 24
    assert rates[None] == rates[24] == [base] * 3
    np.testing.assert_allclose(rates[60], [base * 60 / 24] * 3)
    np.testing.assert_allclose(rates[100_000], [base * 4] * 3)  # at most 4x
    tagger.set_params(warm_start=True).partial_fit(X, y)
    assert tagger.history_[-1]["learning_rate"] == base


@pytest.fixture
def adam_rates(monkeypatch):
    """The learning rate of every Adam step taken while the test runs."""
    from skrnn._engine.optimizers import Adam

    seen = []
    update = Adam.update

    def spy(optimizer, params, grads):
        seen.append(optimizer.learning_rate)
        return update(optimizer, params, grads)

    monkeypatch.setattr(Adam, "update", spy)
    return seen


def test_linear_schedule_falls_to_zero_over_the_planned_steps(corpus, adam_rates):
    X, y = corpus  # 120 sequences, batches of 16: 8 steps an epoch, 24 planned
    seen = adam_rates
    tagger = small(
        max_iter=3,
        early_stopping=False,
        short_fit_steps=None,
        learning_rate_schedule="linear",
    ).fit(X, y)
    base = SMALL["learning_rate"]
    # from twice the rate, for the constant rate's mean step
    np.testing.assert_allclose(seen, 2 * base * (1 - np.arange(24) / 24))
    np.testing.assert_allclose(
        tagger.history_.column("learning_rate"), [seen[7], seen[15], seen[23]]
    )
    seen.clear()
    tagger.set_params(warm_start=True).partial_fit(X, y)
    assert seen == [base] * 8  # partial_fit has no plan: a constant rate
    seen.clear()
    constant = small(
        max_iter=3,
        early_stopping=False,
        short_fit_steps=None,
        learning_rate_schedule="constant",
    )
    constant.fit(X, y)
    assert seen == [base] * 24


def test_max_steps_shortens_a_long_fit_and_auto_anneals_it(corpus, adam_rates):
    X, y = corpus  # 120 sequences, batches of 16: 8 steps an epoch
    seen = adam_rates
    base = SMALL["learning_rate"]
    params = dict(max_iter=5, early_stopping=False, short_fit_steps=None)
    # 5 epochs would be 40 steps; 20 allow ceil(20 / 8) = 3 epochs, annealed
    with pytest.warns(ConvergenceWarning, match="3 epochs of 8 steps for max_step"):
        tagger = small(**params, max_steps=20).fit(X, y)
    assert tagger.n_iter_ == 3 and tagger.t_ == 24
    np.testing.assert_allclose(seen, 2 * base * (1 - np.arange(24) / 24))
    # a fit within max_steps is untouched: all its epochs at a constant rate
    seen.clear()
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(5\)"):
        tagger = small(**params, max_steps=40).fit(X, y)
    assert tagger.n_iter_ == 5 and seen == [base] * 40
    # "constant" keeps the rate on a shortened fit too; None never shortens
    seen.clear()
    small(**params, max_steps=20, learning_rate_schedule="constant").fit(X, y)
    assert seen == [base] * 24
    assert small(**params, max_steps=None).fit(X, y).n_iter_ == 5


def _prefixed_words(n, rng):
    """Sentences whose middle word is tagged by its prefix alone: the stem is
    random, so the suffix, shape and (for new stems) word streams cannot tell."""
    X, y = [], []
    for _ in range(n):
        prefix, tag = [("un", "ADJ"), ("re", "VERB")][rng.integers(2)]
        stem = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=5))
        X.append(["it", "is", prefix + stem, "now"])
        y.append(["PRON", "AUX", tag, "ADV"])
    return X, y


def test_char_encoder_tags_unseen_words_from_their_prefix():
    rng = np.random.default_rng(0)
    X, y = _prefixed_words(300, rng)
    X_test, y_test = _prefixed_words(200, rng)
    params = dict(max_iter=10, early_stopping=False, linear_window=None)

    def accuracy_on_the_prefixed_word(char_encoder):
        tagger = small(char_encoder=char_encoder, **params).fit(X, y)
        predicted = tagger.predict(X_test)
        return np.mean([p[2] == t[2] for p, t in zip(predicted, y_test, strict=True)])

    assert accuracy_on_the_prefixed_word(None) < 0.65  # a guess between two
    assert accuracy_on_the_prefixed_word("cnn") > 0.95


def test_char_encoder_parameters_and_errors(corpus, numeric):
    X, y = corpus
    settings = CharCNN(filters=7, embedding_dim=5)
    tagger = small(char_encoder=settings)
    tagger.fit(X, y)
    n_chars = tagger.spelling_.n_chars_
    assert tagger.params_["chars.embed"].shape == (n_chars, 5)
    assert tagger.params_["chars.W"].shape == (5, 3 * 7)
    assert tagger.char_encoder is settings and settings.get_params() == {
        "embedding_dim": 5,
        "filters": 7,
        "window": 3,
    }
    # "cnn" is CharCNN(); its settings are nested parameters, cloned with the tagger
    default = small(char_encoder="cnn").fit(X, y)
    assert default.params_["chars.W"].shape == (16, 3 * 64)
    tagger.set_params(char_encoder__window=2)
    assert clone(tagger).char_encoder.window == 2
    assert clone(tagger).char_encoder is not tagger.char_encoder
    assert tagger.fit(X, y).params_["chars.W"].shape == (5, 2 * 7)
    with pytest.raises(InvalidParameterError, match="'window' parameter of CharCNN"):
        small(char_encoder=CharCNN(window=0)).fit(X, y)
    # unseen characters and words spell as the unknown character
    assert [p.shape for p in tagger.predict([["žluťoučký", "w1"], []])] == [(2,), (0,)]
    X_numeric, y_numeric, lengths = numeric
    with pytest.raises(ValueError, match="spells tokens; got numeric"):
        small(char_encoder="cnn").fit(X_numeric, y_numeric, lengths=lengths)
    with pytest.raises(InvalidParameterError, match="char_encoder"):
        small(char_encoder="lstm").fit(X, y)


def test_word_features_parameters_and_errors(corpus, numeric):
    X, y = corpus
    settings = WordFeatures(suffix_length=2, shape=False, embedding_dim=3)
    tagger = small(word_features=settings, max_iter=1).fit(X, y)
    assert tagger.featurizer_.stream_names_ == ["word", "lower", "suffix1", "suffix2"]
    embeddings = [tagger.params_[f"embed.{k}"].shape[1] for k in range(4)]
    assert embeddings == [8, 8, 3, 3] and "embed.4" not in tagger.params_
    # its settings are nested parameters, cloned with the tagger
    assert tagger.word_features is settings
    params = tagger.get_params(deep=True)
    assert params["word_features__suffix_length"] == 2
    assert params["word_features__embedding_dim"] == 3
    tagger.set_params(word_features__suffix_length=1, word_features__shape=True)
    assert settings.suffix_length == 1
    twin = clone(tagger).word_features
    assert twin == settings and twin is not settings
    assert tagger.fit(X, y).featurizer_.stream_names_ == [
        "word",
        "lower",
        "suffix1",
        "shape",
    ]
    # "auto" is WordFeatures()
    default = small(word_features="auto", max_iter=1).fit(X, y)
    assert default.word_features == "auto"
    assert default.featurizer_.stream_names_ == [
        "word",
        "lower",
        *(f"suffix{k}" for k in range(1, 5)),
        "shape",
    ]
    assert {default.params_[f"embed.{k}"].shape[1] for k in range(2, 7)} == {16}
    with pytest.raises(InvalidParameterError, match="'word_features' parameter"):
        small(word_features="bogus").fit(X, y)
    with pytest.raises(
        InvalidParameterError, match="'suffix_length' parameter of WordFeatures"
    ):
        small(word_features=WordFeatures(suffix_length=-1)).fit(X, y)
    # invalid settings are an error whatever the input, as they were when they
    # were the tagger's own parameters
    X_numeric, y_numeric, lengths = numeric
    with pytest.raises(InvalidParameterError, match="'shape' parameter"):
        small(word_features=WordFeatures(shape="yes")).fit(
            X_numeric, y_numeric, lengths=lengths
        )


def test_word_features_none_embeds_the_word_alone(corpus):
    X, y = corpus
    tagger = small(word_features=None, linear_window=1).fit(X, y)
    featurizer = tagger.featurizer_
    assert featurizer.stream_names_ == ["word"]
    assert [k for k in tagger.params_ if k.startswith("embed")] == ["embed.0"]
    # the linear model reads the neighbouring words themselves, with no
    # lowercase stream to read them from
    n_words = featurizer.vocab_sizes_[0]
    shapes = [tagger.params_[f"linear.{k}"].shape[0] for k in range(3)]
    assert shapes == [n_words, n_words + 1, n_words + 1]
    # the same network as the settings of no stream beside the word
    none = WordFeatures(suffix_length=0, lowercase=False, shape=False)
    same = small(word_features=none, linear_window=1).fit(X, y)
    for a, b in zip(tagger.predict_proba(X), same.predict_proba(X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_grid_search_over_word_features(corpus):
    X, y = corpus
    tagger = small(max_iter=1)
    search = GridSearchCV(
        tagger,
        {"word_features__suffix_length": [0, 3]},
        scoring=flat_accuracy_scorer,
        cv=2,
    ).fit(X, y)
    candidates = search.cv_results_["param_word_features__suffix_length"]
    assert candidates.tolist() == [0, 3]
    best = search.best_params_["word_features__suffix_length"]
    names = search.best_estimator_.featurizer_.stream_names_
    assert sum(name.startswith("suffix") for name in names) == best
    assert tagger.word_features.suffix_length == 4  # the search set clones


def test_adversarial_training_moves_the_fit_and_still_learns_context(
    fitted, corpus, tagging
):
    adversarial = small(max_iter=15, early_stopping=False, adversarial=0.1)
    adversarial.fit(*corpus)
    assert not np.allclose(adversarial.params_["head.W"], fitted.params_["head.W"])
    X, y = tagging[0][120:], tagging[1][120:]
    assert adversarial.score(X, y) > 0.75
