"""RNNLanguageModel: exact perplexity, probabilities, carried state, sampling,
errors. PTB tests read SKRNN_DATA_DIR and skip without it."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score

from skrnn import RNNLanguageModel
from skrnn._engine import bptt_windows, clip_grad_norm
from skrnn._lm_demo import make_grammar

SMALL = dict(hidden_size=8, embedding_dim=8, num_layers=1, random_state=0)
CORPUS = [["the", "dog", "runs"], ["a", "cat", "sleeps"], ["the", "cat", "runs"]] * 4


def _fit(X=CORPUS, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return RNNLanguageModel(**{**SMALL, "max_iter": 2, **params}).fit(X)


def _uniform(lm):
    """Set the parameters so that every word has probability 1 / V."""
    lm.params_ = {k: np.zeros_like(v) for k, v in lm.params_.items()}
    if lm.softmax == "class":
        sizes = np.diff(lm.class_bounds_)
        lm.params_["class.b"] = np.log(sizes).astype(np.float32)
    return lm


@pytest.mark.parametrize("softmax", ["full", "class"])
def test_uniform_model_perplexity_equals_vocabulary_size(softmax):
    lm = _uniform(_fit(softmax=softmax, n_classes=3))
    V = len(lm.vocabulary_)
    assert lm.perplexity(CORPUS) == pytest.approx(V, rel=1e-9)
    assert lm.perplexity([["never", "seen"]]) == pytest.approx(V, rel=1e-9)


@pytest.mark.parametrize("softmax", ["full", "class"])
@pytest.mark.parametrize("carry_state", [True, False])
def test_probabilities_sum_to_one_and_match_scores(softmax, carry_state):
    lm = _fit(softmax=softmax, n_classes=3, carry_state=carry_state)
    X = CORPUS[:5] + [["the", "unknown", "word"]]
    proba = lm.predict_proba(X)
    assert [p.shape for p in proba] == [(len(s) + 1, len(lm.vocabulary_)) for s in X]
    for p in proba:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-10)
    # score_samples is the sum of the log-probabilities of the observed tokens
    picked = [
        np.log(
            p[
                np.arange(len(s) + 1),
                [lm.vocabulary_.get(t, lm.unk_id_) for t in s] + [lm.eos_id_],
            ]
        ).sum()
        for s, p in zip(X, proba, strict=True)
    ]
    np.testing.assert_allclose(lm.score_samples(X), picked, rtol=1e-10)
    n = sum(len(s) + 1 for s in X)
    assert lm.score(X) == pytest.approx(sum(picked) / n, rel=1e-10)
    assert lm.perplexity(X) == pytest.approx(np.exp(-sum(picked) / n), rel=1e-10)


def test_class_softmax_with_one_class_equals_full_softmax():
    full = _fit(softmax="full")
    one_class = _fit(softmax="class", n_classes=1)
    assert one_class.n_classes_ == 1
    # same parameters except the single class' (constant) logit
    params = dict(full.params_)
    params["class.W"] = np.zeros((1, SMALL["hidden_size"]), dtype=np.float32)
    params["class.b"] = np.zeros(1, dtype=np.float32)
    one_class.params_ = params
    np.testing.assert_allclose(
        one_class.score_samples(CORPUS), full.score_samples(CORPUS), rtol=1e-12
    )


def test_tiny_deterministic_language_reaches_perplexity_near_one():
    X = [["a", "b", "c"] * 4] * 40
    # the default learning rate: a fit of 300 steps is short (short_fit_steps)
    lm = _fit(
        X,
        hidden_size=16,
        embedding_dim=16,
        max_iter=30,
        carry_state=False,
        solver="adam",
        clip_norm=5.0,
        bptt_steps=8,
        batch_size=8,
    )
    assert lm.perplexity(X) < 1.1
    assert lm.predict([["a", "b"], ["b", "c", "a"]]).tolist() == ["c", "b"]


def test_carry_state_false_scores_a_sentence_independently_of_neighbours():
    lm = _fit(carry_state=False)
    alone = lm.score_samples([CORPUS[1]])[0]
    among = lm.score_samples([CORPUS[0], CORPUS[1], CORPUS[2]])[1]
    assert among == pytest.approx(alone, rel=1e-12)
    carried = _fit(carry_state=True)
    alone = carried.score_samples([CORPUS[1]])[0]
    among = carried.score_samples([CORPUS[0], CORPUS[1]])[1]
    assert abs(among - alone) > 1e-6


def test_padding_never_changes_a_perplexity():
    # sequences of very different lengths share padded evaluation batches
    lm = _fit(carry_state=False)
    short, long = ["a", "cat"], ["the", "dog", "runs"] * 7
    together = lm.score_samples([short, long])
    np.testing.assert_allclose(
        together,
        [lm.score_samples([short])[0], lm.score_samples([long])[0]],
        rtol=1e-12,
    )
    assert lm.n_predicted_tokens([short, long]) == len(short) + len(long) + 2


def test_counts_every_token_and_end_token_once():
    lm = _fit()
    X = [["a", "b"], [], ["c", "<eos>"]]
    # one end token appended to each sequence not already ending with one
    assert lm.n_predicted_tokens(X) == 3 + 1 + 2
    assert lm.score_samples(X).shape == (3,)


def test_data_with_eos_or_one_long_stream_is_read_like_sentences():
    lm = _fit()
    sentences = [["the", "dog", "runs"], ["a", "cat", "sleeps"]]
    with_eos = [s + ["<eos>"] for s in sentences]
    stream = [["the", "dog", "runs", "<eos>", "a", "cat", "sleeps"]]
    total = lm.score_samples(sentences).sum()
    assert lm.score_samples(with_eos).sum() == pytest.approx(total, rel=1e-12)
    assert lm.score_samples(stream)[0] == pytest.approx(total, rel=1e-12)


def test_windows_do_not_change_the_score():
    lm = _fit()
    X = [["the", "dog", "runs"] * 50]  # longer than one evaluation window
    reference = lm.score(X)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("skrnn.language_model._EVAL_WINDOW", 7)
        assert lm.score(X) == pytest.approx(reference, rel=1e-12)


def test_generation_is_reproducible_and_stops_at_the_end_token():
    lm = _fit(max_iter=3)
    a = lm.generate(5, max_length=12, random_state=3)
    b = lm.generate(5, max_length=12, random_state=3)
    assert a == b
    assert len(a) == 5 and all(len(s) <= 12 for s in a)
    assert all("<eos>" not in s for s in a)
    known = set(lm.vocabulary_)
    assert all(set(s) <= known for s in a)
    with_prefix = lm.generate(3, prefix=["the", "zebra"], random_state=0)
    assert all(s[:2] == ["the", "zebra"] for s in with_prefix)
    greedy = lm.generate(4, top_k=1, random_state=0, max_length=6)
    assert all(s == greedy[0] for s in greedy)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"n_sequences": 0}, "n_sequences"),
        ({"prefix": "the dog"}, "prefix is a str"),
    ],
)
def test_generate_bad_arguments(kwargs, match):
    lm = _fit()
    with pytest.raises(ValueError, match=match):
        lm.generate(**kwargs)


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="X is empty"):
        RNNLanguageModel(**SMALL).fit([])
    with pytest.raises(TypeError, match=r"X\[1\] holds a token of type int"):
        RNNLanguageModel(**SMALL).fit([["a", "b"], ["c", 3]])
    with pytest.raises(ValueError, match="bptt_steps"):
        RNNLanguageModel(**SMALL, bptt_steps=0).fit(CORPUS)
    with pytest.raises(ValueError, match="embedding_dim == hidden_size"):
        RNNLanguageModel(hidden_size=8, embedding_dim=4, tie_weights=True).fit(CORPUS)
    with pytest.raises(ValueError, match="integer token ids"):
        RNNLanguageModel(**SMALL).fit(np.array([[0.5, 1.0], [2.0, 3.0]]))


def test_unknown_words_map_to_unk_and_never_fail():
    lm = _fit()
    unseen = [["zebras", "quantum", "the"]]
    as_unk = [["<unk>", "<unk>", "the"]]
    np.testing.assert_allclose(lm.score_samples(unseen), lm.score_samples(as_unk))
    assert lm.predict(unseen).shape == (1,)
    tokens, log_p = lm.predict_top_k(unseen, k=3)
    assert tokens[0].shape == (4, 3) and np.all(np.diff(log_p[0], axis=1) <= 0)


def test_top_k_agrees_with_predict_proba():
    lm = _fit(softmax="class", n_classes=3)
    tokens, log_p = lm.predict_top_k(CORPUS[:2], k=2)
    proba = lm.predict_log_proba(CORPUS[:2])
    for toks, lp, full in zip(tokens, log_p, proba, strict=True):
        np.testing.assert_allclose(lp[:, 0], full.max(axis=1))
        assert [lm.vocabulary_[t] for t in toks[:, 0]] == full.argmax(axis=1).tolist()


def test_min_freq_and_max_vocabulary_build_the_vocabulary():
    lm = _fit(min_freq=5)
    # "a", "dog", "sleeps" are seen 4 times: unknown
    assert set(lm.vocabulary_) == {"the", "cat", "runs", "<eos>", "<unk>"}
    assert lm.counts_[lm.unk_id_] == 12
    lm = _fit(max_vocabulary=2)
    assert len(lm.vocabulary_) == 4
    counts = lm.counts_
    assert np.all(np.diff(counts) <= 0)  # ids sorted by frequency


def test_tied_weights_share_the_table():
    lm = _fit(tie_weights=True)
    assert "out.W" not in lm.params_
    assert np.isfinite(lm.perplexity(CORPUS))


def test_two_d_id_array_rows_are_independent_sequences():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, (12, 4))
    lm = _fit(X)
    assert lm.n_features_in_ == 4
    scores = lm.score_samples(X)
    np.testing.assert_allclose(scores[3], lm.score_samples(X[3:4])[0], rtol=1e-12)
    proba = lm.predict_proba(X)
    assert proba.shape == (12, 5, len(lm.vocabulary_))
    # predict gives the vocabulary ids (columns of predict_proba) for id input
    np.testing.assert_array_equal(lm.predict(X), proba[:, -1].argmax(axis=1))
    assert lm.n_predicted_tokens(X) == 12 * 5
    with pytest.raises(ValueError, match="features"):
        lm.score(X[:, :3])


def test_the_caller_input_is_not_modified():
    X = [list(s) for s in CORPUS]
    copy = [list(s) for s in X]
    lm = _fit(X)
    lm.score(X)
    lm.generate(prefix=X[0])
    assert X == copy


def test_works_with_cross_val_score_and_early_stopping():
    X = make_grammar(60, random_state=0)
    lm = RNNLanguageModel(**{**SMALL, "max_iter": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(lm, X, cv=3)
        fitted = clone(lm).set_params(early_stopping=True, max_iter=3).fit(X)
    assert scores.shape == (3,) and np.all(scores < 0)
    assert len(fitted.validation_scores_) == fitted.n_iter_


def test_warm_start_continues_training():
    lm = _fit(warm_start=True, max_iter=1)
    first = lm.params_["embed.0"].copy()
    lm.fit(CORPUS)
    assert lm.n_iter_ == 2
    assert not np.allclose(first, lm.params_["embed.0"])


# --- the step schedule of short fits (short_fit_steps) --------------------------------

# 200 sentences of 15 tokens: 3,200 tokens, 5 BPTT windows an epoch at the defaults
TOY = [["a", "b", "c"] * 5] * 200
TOY_PARAMS = dict(hidden_size=16, embedding_dim=16, max_iter=20, random_state=0)


@pytest.fixture
def step_rates(monkeypatch):
    """The learning rate of every optimizer step taken while the test runs."""
    from skrnn._engine.optimizers import SGD, Adam

    seen = []
    for optimizer in (Adam, SGD):

        def spy(self, params, grads, update=optimizer.update):
            seen.append(self.learning_rate)
            return update(self, params, grads)

        monkeypatch.setattr(optimizer, "update", spy)
    return seen


def _epoch_schedule(lm, n_epochs, windows, first_epoch=1):
    """The rate of each step under the epoch schedule (before short_fit_steps)."""
    return [
        lm.learning_rate * lm.learning_rate_decay ** max(0, epoch - lm.decay_after)
        for epoch in range(first_epoch, first_epoch + n_epochs)
        for _ in range(windows)
    ]


def test_a_small_corpus_trains_at_the_defaults():
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        lm = RNNLanguageModel(**TOY_PARAMS).fit(TOY)
    # every planned step was taken: the convergence monitor did not stop it
    assert lm.n_iter_ == 20 and lm.t_ == 100
    assert lm.perplexity(TOY) < 1.5  # 1.18
    # the epoch schedule had halved the rate 10 times when it stopped at epoch 14
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        old = RNNLanguageModel(**TOY_PARAMS, short_fit_steps=None).fit(TOY)
    assert old.n_iter_ < 20 and old.perplexity(TOY) > 3  # 14, 3.55


def test_short_fit_beats_the_epoch_schedule_on_held_out_text():
    train, test = make_grammar(300, random_state=0), make_grammar(500, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        new = RNNLanguageModel(**TOY_PARAMS).fit(train)
        old = RNNLanguageModel(**TOY_PARAMS, short_fit_steps=None).fit(train)
    # 300 sentences, 4 windows an epoch: the epoch schedule stays near the
    # unigram perplexity (33.9), the short fit learns the grammar (12.4)
    assert new.perplexity(test) < 0.6 * old.perplexity(test)


def test_short_fit_rate_falls_linearly_from_the_raised_rate(step_rates):
    # 48 tokens in 4 columns of 12, windows of 2: 6 steps an epoch, 12 planned
    params = dict(max_iter=2, batch_size=4, bptt_steps=2, learning_rate=0.01)
    lr, planned = params["learning_rate"], 12
    for short_fit_steps, boost in [(30, 30 / 12), (100_000, 4.0)]:
        step_rates.clear()
        lm = _fit(**params, short_fit_steps=short_fit_steps)
        expected = [2 * lr * boost * (1 - k / planned) for k in range(planned)]
        np.testing.assert_allclose(step_rates, expected, rtol=1e-12)
        # history_ holds each epoch's last rate
        assert lm.history_.column("learning_rate") == [step_rates[5], step_rates[11]]
    # planned for at least short_fit_steps (or None): the epoch schedule
    for short_fit_steps in (12, None):
        step_rates.clear()
        lm = _fit(**params, short_fit_steps=short_fit_steps, decay_after=1)
        assert step_rates == _epoch_schedule(lm, 2, 6) == [lr] * 6 + [lr / 2] * 6


def test_short_fit_with_warm_start_plans_each_fit_on_its_own(step_rates):
    params = dict(max_iter=1, batch_size=4, bptt_steps=2, warm_start=True)
    lm = _fit(**params)  # 6 planned steps: 4x the rate, falling
    lm.fit(CORPUS)
    lr = lm.learning_rate
    one_fit = [2 * lr * 4 * (1 - k / 6) for k in range(6)]
    np.testing.assert_allclose(step_rates, one_fit * 2, rtol=1e-12)
    assert lm.n_iter_ == 2


@pytest.mark.parametrize("carry_state", [True, False])
@pytest.mark.parametrize("batch_size, bptt_steps", [(1, 35), (3, 2), (4, 5), (20, 35)])
def test_windows_per_epoch_counts_the_optimizer_steps(
    carry_state, batch_size, bptt_steps
):
    X = make_grammar(23, random_state=0)  # sentences of different lengths
    lm = _fit(
        X,
        max_iter=1,
        carry_state=carry_state,
        batch_size=batch_size,
        bptt_steps=bptt_steps,
    )
    encoded = lm._encode(*lm._validate_X(X, reset=False))
    assert lm._windows_per_epoch(encoded, batch_size) == lm.t_


def test_windows_per_epoch_of_a_2d_id_array():
    X = np.random.default_rng(0).integers(0, 5, (13, 7))
    lm = _fit(X, max_iter=1, batch_size=4, bptt_steps=3)
    encoded = lm._encode(*lm._validate_X(X, reset=False))
    assert lm._windows_per_epoch(encoded, 4) == lm.t_ == 4 * 3  # 8 steps a row


class _EpochScheduleLM(RNNLanguageModel):
    """RNNLanguageModel's training epoch before short_fit_steps, verbatim."""

    def _run_epoch(self, network, encoded, weights, batch_size):
        epochs_decayed = max(0, self.n_iter_ + 1 - self.decay_after)
        self._optimizer.learning_rate = (
            self.learning_rate * self.learning_rate_decay**epochs_decayed
        )
        inputs, targets = encoded.ids[:, 0], encoded.targets
        total, n_steps = 0.0, 0
        for positions, lengths in self._layout(encoded, batch_size, self._rng):
            state = None
            for window, window_lengths in bptt_windows(
                positions, lengths, self.bptt_steps
            ):
                loss, grads, state = network.loss_and_grad(
                    self.params_,
                    inputs[window],
                    targets[window],
                    window_lengths,
                    state=state,
                    rng=self._rng,
                )
                clip_grad_norm(grads, self.clip_norm)
                self._optimizer.update(self.params_, grads)
                self.t_ += 1
                steps = int(window_lengths.sum())
                total += loss * steps
                n_steps += steps
        return total / n_steps


@pytest.mark.parametrize(
    "n_copies, fits, params",
    [
        # one fit of 6 epochs x 192 windows = 1,152 planned steps (decay after 4)
        (4, 1, {"max_iter": 6}),
        # the benchmark's pattern: one-epoch warm_start fits of 1,008 steps each
        (21, 3, {"max_iter": 1, "warm_start": True, "decay_after": 1}),
    ],
)
def test_a_fit_planned_for_short_fit_steps_or_more_is_unchanged(
    n_copies, fits, params, step_rates
):
    # a window of one token in one column: an epoch is a step per token, so a
    # corpus of a thousand tokens is planned above the default short_fit_steps
    # as PTB is (1,328 windows an epoch at the defaults)
    X = CORPUS * n_copies
    tiny = dict(
        hidden_size=2,
        embedding_dim=2,
        num_layers=1,
        softmax="full",
        batch_size=1,
        bptt_steps=1,
        random_state=0,
        **params,
    )
    new, old = RNNLanguageModel(**tiny), _EpochScheduleLM(**tiny)
    assert new.short_fit_steps == 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(fits):
            new.fit(X)
        new_rates = list(step_rates)
        for _ in range(fits):
            old.fit(X)
    windows = len(X) * 4
    assert new.t_ == old.t_ == fits * params["max_iter"] * windows >= 1000
    assert new_rates == step_rates[len(new_rates) :]
    assert new_rates == _epoch_schedule(new, new.n_iter_, windows)
    assert new.loss_curve_ == old.loss_curve_
    assert new.params_.keys() == old.params_.keys()
    for name, value in new.params_.items():
        np.testing.assert_array_equal(value, old.params_[name])  # bit for bit


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on the way to NaN
def test_diverging_fit_names_the_rate_it_stepped_at():
    lm = RNNLanguageModel(
        **SMALL,
        solver="sgd",
        learning_rate=1e30,
        clip_norm=None,
        max_iter=3,
        batch_size=4,
        bptt_steps=2,
    )
    with pytest.raises(ValueError, match="smaller learning_rate") as error:
        lm.fit(CORPUS)
    # 3 epochs of 6 windows, short of short_fit_steps: the rate is raised 4x and
    # falls; the step whose loss is not finite is the one after the lm.t_ taken
    rate = 2 * 4e30 * (1 - lm.t_ / 18)
    assert f"(it is 1e+30; this short fit stepped at {rate:.3g}) or" in str(error.value)
    assert "at epoch 1:" in str(error.value)
    with pytest.raises(ValueError, match=r"\(it is 1e\+30\) or"):
        lm.set_params(short_fit_steps=None).fit(CORPUS)
    # the epoch schedule names a decayed rate too
    with pytest.raises(
        ValueError, match=r"\(it is 1e\+30; this epoch stepped at 5e\+29\)"
    ):
        lm.set_params(decay_after=0).fit(CORPUS)


def test_short_fit_steps_is_validated():
    with pytest.raises(ValueError, match="short_fit_steps"):
        RNNLanguageModel(**SMALL, short_fit_steps=0).fit(CORPUS)


def _ptb(name):
    data_dir = os.environ.get("SKRNN_DATA_DIR")
    if not data_dir:
        pytest.skip("SKRNN_DATA_DIR is not set (PTB test)")
    path = Path(data_dir) / "ptb" / f"ptb.{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with open(path) as f:
        return [line.split() for line in f]


def test_ptb_test_set_has_82430_predicted_tokens():
    test = _ptb("test")
    lm = _fit(test[:200])
    assert lm.n_predicted_tokens(test) == 82_430
    assert sum(map(len, test)) == 78_669 and len(test) == 3_761
