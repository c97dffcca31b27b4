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
    lm = _fit(
        X,
        hidden_size=16,
        embedding_dim=16,
        max_iter=30,
        carry_state=False,
        solver="adam",
        learning_rate=0.02,
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
