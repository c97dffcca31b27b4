import itertools
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm
from sklearn.utils._param_validation import InvalidParameterError

from skrnn import HMMTagger
from skrnn._hmm_inference import _logsumexp, forward_backward, viterbi
from skrnn._hmm_lexicon import SuffixModel

# ----------------------------------------------------------- exact inference


def _random_model(rng, K, order):
    def log_normalise(a):
        return np.log(a / a.sum(axis=-1, keepdims=True))

    if order == 1:
        rows = log_normalise(rng.random((K, K + 1)))
        return log_normalise(rng.random(K)), rows[:, :K], rows[:, K]
    rows = log_normalise(rng.random((K + 1, K, K + 1)))
    return log_normalise(rng.random(K)), rows[:, :, :K], rows[:, :, K]


def _log_joint(y, model, log_emit, order, K):
    log_start, log_trans, log_end = model
    total = log_start[y[0]] + log_emit[0, y[0]]
    for t in range(1, len(y)):
        if order == 1:
            total += log_trans[y[t - 1], y[t]]
        else:
            total += log_trans[y[t - 2] if t >= 2 else K, y[t - 1], y[t]]
        total += log_emit[t, y[t]]
    if order == 1:
        return total + log_end[y[-1]]
    return total + log_end[y[-2] if len(y) >= 2 else K, y[-1]]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_inference_matches_brute_force(order, seed):
    rng = np.random.default_rng(seed)
    K = 3
    model = _random_model(rng, K, order)
    lengths = np.array([4, 1, 0, 3, 5, 2, 5])
    log_emit = np.log(rng.random((lengths.sum(), K)))
    path, best = viterbi(*model, log_emit, lengths, order)
    log_post, log_lik = forward_backward(*model, log_emit, lengths, order)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for i, T in enumerate(lengths):
        part = slice(offsets[i], offsets[i + 1])
        if T == 0:
            assert best[i] == 0.0 and log_lik[i] == 0.0
            continue
        paths = list(itertools.product(range(K), repeat=T))
        joint = np.array(
            [_log_joint(y, model, log_emit[part], order, K) for y in paths]
        )
        assert_array_equal(path[part], paths[np.argmax(joint)])
        assert_allclose(best[i], joint.max())
        log_z = _logsumexp(joint, axis=0)
        assert_allclose(log_lik[i], log_z)
        marginals = np.zeros((T, K))
        for y, p in zip(paths, np.exp(joint - log_z), strict=True):
            marginals[np.arange(T), list(y)] += p
        assert_allclose(np.exp(log_post[part]), marginals, atol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_estimator_matches_brute_force_gaussian(order):
    # The estimator's own model, enumerated with scipy's normal density.
    rng = np.random.default_rng(3)
    lengths = np.array([3, 4, 2, 5] * 5)
    X = rng.normal(size=(lengths.sum(), 2))
    y = rng.integers(0, 3, size=lengths.sum())
    X += y[:, None]
    tagger = HMMTagger(order=order).fit(X, y, lengths=lengths)
    K = 3
    with np.errstate(divide="ignore"):
        model = tuple(
            np.log(a) for a in (tagger.startprob_, tagger.transmat_, tagger.endprob_)
        )
    X_test = rng.normal(size=(4, 2)) + 1.0
    log_emit = np.column_stack(
        [
            norm.logpdf(X_test, tagger.means_[k], np.sqrt(tagger.vars_[k])).sum(1)
            for k in range(K)
        ]
    )
    paths = list(itertools.product(range(K), repeat=4))
    joint = np.array([_log_joint(p, model, log_emit, order, K) for p in paths])
    log_z = _logsumexp(joint, axis=0)
    marginals = np.zeros((4, K))
    for p, w in zip(paths, np.exp(joint - log_z), strict=True):
        marginals[np.arange(4), list(p)] += w
    assert_array_equal(tagger.predict(X_test, lengths=[4]), paths[np.argmax(joint)])
    assert_allclose(tagger.score_samples(X_test, lengths=[4]), [log_z])
    assert_allclose(tagger.predict_proba(X_test, lengths=[4]), marginals, atol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_long_sequence_is_finite(order):
    rng = np.random.default_rng(0)
    X = [list(rng.choice(["a", "b", "c", "d"], size=50)) for _ in range(20)]
    y = [["N" if w in "ab" else "V" for w in seq] for seq in X]
    tagger = HMMTagger(order=order).fit(X, y)
    long = [list(rng.choice(["a", "b", "c", "d", "unseen"], size=10_000))]
    (tags,) = tagger.predict(long)
    assert len(tags) == 10_000
    (log_lik,) = tagger.score_samples(long)
    assert np.isfinite(log_lik) and log_lik < -1000
    (proba,) = tagger.predict_proba(long)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1.0)
    expected = np.where(np.isin(long[0], ["a", "b"]), "N", "V")
    assert_array_equal(
        tags[np.isin(long[0], ["a", "b", "c", "d"])],
        expected[np.isin(long[0], ["a", "b", "c", "d"])],
    )


# ------------------------------------------------------------ known models


def _true_hmm(rng, K=3, V=12):
    start = rng.dirichlet(np.ones(K))
    trans = rng.dirichlet(np.ones(K + 1) * 0.5, size=K)  # last column: end
    trans[:, K] = 0.1
    trans[:, :K] *= 0.9 / trans[:, :K].sum(axis=1, keepdims=True)
    emit = rng.dirichlet(np.ones(V) * 0.3, size=K)
    return start, trans, emit


def _sample_hmm(rng, start, trans, emit, n):
    K, V = emit.shape
    X, y = [], []
    for _ in range(n):
        tags = [rng.choice(K, p=start)]
        while True:
            nxt = rng.choice(K + 1, p=trans[tags[-1]])
            if nxt == K:
                break
            tags.append(nxt)
        X.append([f"w{rng.choice(V, p=emit[t])}" for t in tags])
        y.append(tags)
    return X, y


def test_recovers_known_hmm():
    rng = np.random.default_rng(0)
    start, trans, emit = _true_hmm(rng)
    X, y = _sample_hmm(rng, start, trans, emit, 600)
    X_test, y_test = _sample_hmm(rng, start, trans, emit, 300)
    tagger = HMMTagger().fit(X, y)
    assert_allclose(tagger.transmat_, trans[:, :3], atol=0.05)
    assert_allclose(tagger.endprob_, trans[:, 3], atol=0.05)

    lengths = np.array([len(s) for s in X_test])
    ids = np.array([int(w[1:]) for w in itertools.chain.from_iterable(X_test)])
    true_path, _ = viterbi(
        np.log(start),
        np.log(trans[:, :3]),
        np.log(trans[:, 3]),
        np.log(emit[:, ids].T),
        lengths,
    )
    gold = np.concatenate(y_test)
    oracle = np.mean(true_path == gold)
    learned = tagger.score(X_test, y_test)
    assert oracle > 0.6  # the task is not trivial...
    assert learned >= oracle - 0.02  # ...and the fitted model is as good


# ---------------------------------------------------------- sample weights


@pytest.mark.parametrize("order", [1, 2])
def test_sample_weight_equals_repetition(order):
    rng = np.random.default_rng(1)
    start, trans, emit = _true_hmm(rng)
    X, y = _sample_hmm(rng, start, trans, emit, 40)
    weights = rng.integers(0, 4, size=len(X))
    X_rep = [s for s, w in zip(X, weights, strict=True) for _ in range(w)]
    y_rep = [s for s, w in zip(y, weights, strict=True) for _ in range(w)]
    weighted = HMMTagger(order=order).fit(X, y, sample_weight=weights)
    repeated = HMMTagger(order=order).fit(X_rep, y_rep)
    X_test, _ = _sample_hmm(rng, start, trans, emit, 20)
    X_test.append(["never-seen", "w1"])
    for attr in ("startprob_", "transmat_", "endprob_"):
        assert_allclose(getattr(weighted, attr), getattr(repeated, attr))
    assert weighted.vocabulary_ == repeated.vocabulary_
    assert_allclose(weighted.emissionprob_, repeated.emissionprob_)
    assert_allclose(
        np.concatenate(weighted.predict_proba(X_test)),
        np.concatenate(repeated.predict_proba(X_test)),
    )
    assert_allclose(weighted.score_samples(X_test), repeated.score_samples(X_test))


def test_sample_weight_errors():
    X, y = [["a", "b"], ["c"]], [["N", "V"], ["N"]]
    with pytest.raises(ValueError, match="sample_weight"):
        HMMTagger().fit(X, y, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="non-zero"):
        HMMTagger().fit(X, y, sample_weight=[0, 0])
    with pytest.raises(ValueError, match="positive sample_weight"):
        HMMTagger().fit([[], ["a"]], [[], ["N"]], sample_weight=[1, 0])
    with pytest.raises(ValueError, match="Negative"):
        HMMTagger().fit(X, y, sample_weight=[1, -1])


# ------------------------------------------------------- tokens and lexicon


X_TOY = [
    ["The", "dog", "barks", "loudly"],
    ["a", "cat", "sleeps", "quietly"],
    ["the", "bird", "sings", "happily"],
    ["Dogs", "run", "quickly"],
]
Y_TOY = [
    ["DET", "NOUN", "VERB", "ADV"],
    ["DET", "NOUN", "VERB", "ADV"],
    ["DET", "NOUN", "VERB", "ADV"],
    ["NOUN", "VERB", "ADV"],
]


def test_unseen_words_use_suffixes_and_lowercase():
    tagger = HMMTagger().fit(X_TOY, Y_TOY)
    # "slowly" is unseen; its suffix "-ly" is only ever an adverb.
    (tags,) = tagger.predict([["the", "cat", "runs", "slowly"]])
    assert tags[3] == "ADV"
    # "Cat" is unseen but "cat" is a known noun; "Zat" has no such help.
    proba = tagger.predict_proba([["Cat"], ["Zat"]])
    noun = list(tagger.classes_).index("NOUN")
    assert proba[0][0, noun] > proba[1][0, noun] + 0.1


def test_suffix_model_successive_abstraction():
    words = ["walking", "talking", "quickly", "slowly", "Paris", "London"]
    counts = np.array(
        [[0, 0, 1], [0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]], float
    )  # tags: ADV, PROPN, VERB
    model = SuffixModel(max_length=4).fit(words, counts)
    proba = np.exp(model.predict_log_proba(["running", "Berlin", "happily", "42"]))
    assert_allclose(proba.sum(axis=1), 1.0)
    assert np.argmax(proba[0]) == 2  # "-ing": a lower-case suffix of verbs
    assert np.argmax(proba[1]) == 1  # capitalised: the capitalised tree
    assert np.argmax(proba[2]) == 0
    assert_allclose(proba[3], model.prior_)  # a shape never seen: the prior


def test_outputs_follow_input_form_and_inputs_unchanged():
    X = [list(s) for s in X_TOY]
    y = [list(s) for s in Y_TOY]
    tagger = HMMTagger(order=2).fit(X, y)
    assert X == X_TOY and y == Y_TOY
    X_test = [["the", "cat"], [], ["zebra"]]
    pred = tagger.predict(X_test)
    proba = tagger.predict_proba(X_test)
    assert [len(p) for p in pred] == [2, 0, 1]
    assert [p.shape for p in proba] == [(2, 4), (0, 4), (1, 4)]
    assert_allclose(
        np.exp(np.concatenate(tagger.predict_log_proba(X_test))), np.concatenate(proba)
    )
    assert tagger.score(X_TOY, Y_TOY) == 1.0
    assert tagger.score_samples(X_test).shape == (3,)
    assert_array_equal(pickle.loads(pickle.dumps(tagger)).predict(X_test)[0], pred[0])


@pytest.mark.parametrize("order", [1, 2])
def test_fitted_distributions_are_normalised(order):
    tagger = HMMTagger(order=order).fit(X_TOY, Y_TOY)
    assert_allclose(tagger.startprob_.sum(), 1.0)
    assert_allclose(tagger.transmat_.sum(axis=-1) + tagger.endprob_, 1.0)
    assert tagger.emissionprob_.shape == (4, len(tagger.vocabulary_))
    assert np.all(tagger.emissionprob_ > 0)


def test_numeric_forms_agree():
    rng = np.random.default_rng(0)
    lengths = np.array([3, 5, 2])
    X = rng.normal(size=(10, 2))
    y = rng.integers(0, 2, size=10)
    flat = HMMTagger().fit(X, y, lengths=lengths)
    parts = np.split(X, np.cumsum(lengths)[:-1])
    ragged = HMMTagger().fit(parts, np.split(y, np.cumsum(lengths)[:-1]))
    assert_allclose(flat.means_, ragged.means_)
    assert_allclose(flat.vars_, ragged.vars_)
    assert_array_equal(
        np.concatenate(ragged.predict(parts)), flat.predict(X, lengths=lengths)
    )
    assert ragged.n_features_in_ == flat.n_features_in_ == 2


@pytest.mark.parametrize("order", [1, 2])
def test_sample(order):
    tagger = HMMTagger(order=order).fit(X_TOY, Y_TOY)
    X, y = tagger.sample(50, random_state=0)
    X2, y2 = tagger.sample(50, random_state=0)
    assert X == X2
    assert len(X) == len(y) == 50
    assert all(len(s) == len(t) > 0 for s, t in zip(X, y, strict=True))
    vocab = set(tagger.vocabulary_)
    assert all(w in vocab for s in X for w in s)

    # Frequencies in a large sample follow the model.
    X, y = tagger.sample(3000, random_state=0)
    K = len(tagger.classes_)
    ids = [np.searchsorted(tagger.classes_, t) for t in y]
    first = np.bincount([t[0] for t in ids], minlength=K) / len(ids)
    assert_allclose(first, tagger.startprob_, atol=0.03)
    ctx = (K + 1, K) if order == 2 else (K,)
    counts = np.zeros(ctx + (K + 1,))
    for t in ids:
        padded = np.concatenate([[K] * (order - 1), t, [K]]).astype(int)
        for n in range(order - 1, len(padded) - 1):
            counts[tuple(padded[n - order + 1 : n + 1]) + (padded[n + 1],)] += 1
    often = counts.sum(axis=-1) >= 500
    assert often.sum() >= 2
    model = np.concatenate([tagger.transmat_, tagger.endprob_[..., None]], axis=-1)
    empirical = counts[often] / counts[often].sum(axis=-1, keepdims=True)
    assert_allclose(empirical, model[often], atol=0.04)
    words = [w for s in X for w in s]
    tags = np.concatenate(y)
    noun_words = [w for w, t in zip(words, tags, strict=True) if t == "NOUN"]
    emitted = np.array([noun_words.count(w) for w in tagger.vocabulary_])
    noun = list(tagger.classes_).index("NOUN")
    expected = tagger.emissionprob_[noun] / tagger.emissionprob_[noun].sum()
    assert_allclose(emitted / emitted.sum(), expected, atol=0.03)

    numeric = HMMTagger(order=order).fit(np.arange(20.0).reshape(10, 2), [0, 1] * 5)
    Xn, yn = numeric.sample(5, random_state=1)
    assert all(a.shape == (len(t), 2) for a, t in zip(Xn, yn, strict=True))
    with pytest.raises(ValueError, match="n_sequences"):
        tagger.sample(0)


def test_errors():
    tagger = HMMTagger().fit(X_TOY, Y_TOY)
    with pytest.raises(ValueError, match="fitted on tokens"):
        tagger.predict(np.ones((3, 2)))
    with pytest.raises(ValueError, match="split into characters"):
        tagger.predict("the dog barks")
    with pytest.raises(ValueError, match="y\\[1\\] has 3 tags"):
        HMMTagger().fit(X_TOY[:2], [Y_TOY[0], Y_TOY[1][:3]])
    with pytest.raises(InvalidParameterError):
        HMMTagger(order=3).fit(X_TOY, Y_TOY)
    with pytest.raises(ValueError, match="positive sample_weight"):
        HMMTagger().fit([[], []], [[], []])


# ------------------------------------------------------------- real data


def test_ewt_accuracy():
    data = os.environ.get("SKRNN_DATA_DIR")
    if not data:
        pytest.skip("SKRNN_DATA_DIR is not set; UD English EWT is needed.")
    from skrnn.datasets import load_conllu

    ewt = Path(data) / "ud_english_ewt"
    X, y = load_conllu(ewt / "en_ewt-ud-train.conllu")
    X_dev, y_dev = load_conllu(ewt / "en_ewt-ud-dev.conllu")
    # The default must beat NLTK's TnT (92.4% on test; ~92% on dev here).
    assert HMMTagger().fit(X, y).score(X_dev, y_dev) > 0.915


def _random_word_sequences(X, n=300, seed=0):
    """Sequences of training words in random order, plus an unseen word: the
    transitions the training text never shows, where rules matter."""
    rng = np.random.default_rng(seed)
    vocab = sorted({w for s in X for w in s})
    return [
        [*rng.choice(vocab, size=rng.integers(1, 12)), "zz-unseen"] for _ in range(n)
    ]


@pytest.mark.parametrize("scheme", ["IOB2", "IOBES"])
@pytest.mark.parametrize("order", [1, 2])
def test_span_rules_hold_in_every_method(order, scheme):
    from skrnn._tag_schemes import transitions
    from skrnn.datasets import make_entity_tagging

    X, y = make_entity_tagging(300, scheme=scheme, random_state=0)[:2]
    X_random = _random_word_sequences(X)
    lengths = [len(s) for s in X_random]
    free = HMMTagger(order=order, tag_scheme=None).fit(X, y)
    tagger = HMMTagger(order=order).fit(X, y)
    assert free.tag_scheme_ is None and tagger.tag_scheme_ == scheme
    rules = transitions(tagger.classes_, scheme)

    def n_invalid(model):
        tags = np.concatenate(model.predict(X_random))
        return rules.count_invalid(np.searchsorted(model.classes_, tags), lengths)

    assert n_invalid(free) > 0  # without the rules, random text breaks spans
    assert n_invalid(tagger) == 0
    # the fitted model gives forbidden transitions probability 0 ...
    assert np.all(tagger.startprob_[~rules.start] == 0)
    assert np.all(tagger.transmat_[..., ~rules.trans] == 0)
    assert np.all(tagger.endprob_[..., ~rules.end] == 0)
    assert_allclose(tagger.startprob_.sum(), 1.0)
    reached = tagger.transmat_.sum(axis=-1) + tagger.endprob_ > 0
    assert_allclose((tagger.transmat_.sum(axis=-1) + tagger.endprob_)[reached], 1.0)
    # ... so the marginals, the likelihood and the samples keep to the rules too
    proba = tagger.predict_proba(X_random)
    inside = np.array([not allowed for allowed in rules.start])
    assert max(float(p[0, inside].max(initial=0)) for p in proba) == 0
    assert np.all(np.isfinite(tagger.score_samples(X_random)))
    _, sampled = tagger.sample(50, random_state=0)
    tags = np.concatenate(sampled)
    assert rules.count_invalid(
        np.searchsorted(tagger.classes_, tags), [len(t) for t in sampled]
    ) == 0
    # on the training text itself the rules cost nothing
    assert tagger.score(X, y) >= free.score(X, y) - 1e-12


def test_an_explicit_scheme_the_tags_break_is_refused():
    X = [["a", "b"], ["c"]]
    y = [["O", "I-PER"], ["B-LOC"]]
    with pytest.raises(ValueError, match="breaks the IOB2 scheme in 1 place"):
        HMMTagger(tag_scheme="IOB2").fit(X, y)
    assert HMMTagger().fit(X, y).tag_scheme_ is None  # "auto": no scheme
    assert HMMTagger().fit([["a"]], [["NOUN"]]).tag_scheme_ is None
