import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier, RNNTagger
from skrnn._base import ConvergenceMonitor, EncodedSequences
from skrnn._engine import SparseRows, WeightAverage, segment_positions
from skrnn.datasets import make_sequence_classification, make_tagging


@settings(max_examples=50, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    data=st.data(),
)
def test_subset_follows_the_chosen_sequences(lengths, data):
    lengths = np.array(lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n_steps = int(lengths.sum())
    encoded = EncodedSequences(
        lengths=lengths,
        ids=np.arange(n_steps)[:, None] * 10,
        targets=np.arange(n_steps),
    )
    index = np.array(
        data.draw(st.lists(st.integers(0, len(lengths) - 1), max_size=len(lengths)))
    )
    index = index.astype(int)
    expected = [offsets[i] + k for i in index for k in range(lengths[i])]
    positions = segment_positions(offsets[index], lengths[index])
    np.testing.assert_array_equal(positions, np.array(expected, dtype=int))
    subset = encoded.subset(index)
    np.testing.assert_array_equal(subset.lengths, lengths[index])
    np.testing.assert_array_equal(subset.targets, expected)
    np.testing.assert_array_equal(subset.ids[:, 0], np.array(expected) * 10)


def test_word_dropout_rate_is_w_over_w_plus_count():
    tagger = RNNTagger(word_dropout=0.5)
    tagger._rng = np.random.default_rng(0)
    counts = np.array([0, 1, 9])  # id 0 is the unknown word
    ids = np.tile(np.array([1, 2])[:, None, None], (1, 50_000, 2))
    tagger._drop_words(ids, [0, 1], counts)
    dropped = ids[..., 0] == 0
    assert dropped[0].mean() == pytest.approx(0.5 / 1.5, abs=0.01)
    assert dropped[1].mean() == pytest.approx(0.5 / 9.5, abs=0.01)
    # the columns of a group are dropped together
    np.testing.assert_array_equal(ids[..., 0] == 0, ids[..., 1] == 0)


def test_history_rows_and_convergence_warning_at_the_callers_line():
    X, y = make_tagging(n_sequences=30, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tagger = RNNTagger(max_iter=2, early_stopping=False, tol=0).fit(X, y)
    convergence = [w for w in caught if w.category is ConvergenceWarning]
    assert convergence and convergence[0].filename == __file__
    assert [row["epoch"] for row in tagger.history_] == [1, 2]
    assert tagger.history_.column("loss") == tagger.loss_curve_
    assert all(row["steps_per_s"] > 0 for row in tagger.history_)


def test_early_stopping_keeps_the_best_validation_epoch(monkeypatch):
    held_out = []
    split = RNNClassifier._validation_split

    def capture(self, encoded):
        train, validation = split(self, encoded)
        held_out.append(validation)
        return train, validation

    monkeypatch.setattr(RNNClassifier, "_validation_split", capture)
    X, y = make_sequence_classification(200, random_state=1)
    y = np.random.default_rng(0).permutation(y)  # noise: the score goes up and down
    model = RNNClassifier(
        average_decay=0, max_iter=8, n_iter_no_change=8, random_state=0, tol=0
    ).fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_ == 8
    assert model.best_validation_score_ == max(scores) > scores[-1]
    # the parameters kept are those of the best epoch, not of the last one
    assert model._validation_score(held_out[0], model.params_) == max(scores)


def test_convergence_monitor_counts_epochs_without_progress():
    monitor = ConvergenceMonitor(tol=0.1, n_iter_no_change=2)
    assert monitor.report(0.5)  # the first score is the best
    assert not monitor.report(0.3)  # worse by more than tol
    assert monitor.report(0.55)  # within tol of the best: as good, but no progress
    assert monitor.converged and monitor.best == 0.55
    assert monitor.report(0.8) and not monitor.converged  # progress resets the count
    # a loss is reported as its negative
    loss_monitor = ConvergenceMonitor(tol=0.0, n_iter_no_change=1, best=-np.inf)
    loss_monitor.report(-2.0)
    assert not loss_monitor.converged
    loss_monitor.report(-2.5)
    assert loss_monitor.converged


def test_lazy_average_of_sparse_rows_equals_the_dense_average():
    # A table whose steps move a few rows at a time, averaged lazily (only the
    # moved rows are folded in at each step), against the same average over every
    # row at every step.
    rng = np.random.default_rng(0)
    params = {"table": rng.standard_normal((50, 4)), "W": rng.standard_normal(3)}
    lazy = WeightAverage({k: v.copy() for k, v in params.items()}, decay=0.95)
    dense = WeightAverage({k: v.copy() for k, v in params.items()}, decay=0.95)
    for step in range(300):
        rows = np.unique(rng.integers(0, 50, 5))
        params["table"][rows] += rng.standard_normal((rows.size, 4))
        params["W"] += rng.standard_normal(3)
        grads = {
            "table": SparseRows(rows, np.zeros((rows.size, 4)), (50, 4)),
            "W": np.zeros(3),
        }
        lazy.update(params, grads)
        dense.update(params)
        if step % 37 == 0 or step == 299:
            got, expected = lazy.params(), dense.params()
            for name in params:
                np.testing.assert_allclose(got[name], expected[name], rtol=1e-10)
    # untouched rows are averaged too: they lag their (unchanging) value
    assert not np.allclose(lazy.params()["table"], params["table"])
