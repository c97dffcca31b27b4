"""RNNTagger's CRF output and its tag-scheme rules, as users call them."""

import itertools

import numpy as np
import pytest

from skrnn import RNNTagger
from skrnn._engine import crf
from skrnn._tag_schemes import detect_scheme, transitions
from skrnn.datasets import make_entity_tagging, make_tagging

SMALL = dict(hidden_size=16, embedding_dim=16, num_layers=1, max_iter=3)


def _invalid(tagger, y):
    """Invalid starts, transitions and ends in tag sequences ``y``."""
    rules = transitions(tagger.classes_, tagger.tag_scheme_)
    ids = np.searchsorted(tagger.classes_, np.concatenate(y))
    return rules.count_invalid(ids, [len(tags) for tags in y])


@pytest.fixture(scope="module")
def entities():
    X, y = make_entity_tagging(300, random_state=0)
    return X[:240], y[:240], X[240:], y[240:]


@pytest.fixture(scope="module")
def fitted(entities):
    X, y, _, _ = entities
    return {
        output: RNNTagger(output=output, random_state=0, **SMALL).fit(X, y)
        for output in ("softmax", "crf")
    }


def test_detect_scheme():
    assert detect_scheme(["B-PER", "I-PER", "O"]) == "IOB2"
    assert detect_scheme(["B-PER", "E-PER", "O", "S-LOC"]) == "IOBES"
    assert detect_scheme(["NOUN", "VERB"]) is None
    assert detect_scheme(["O", "I-PER"]) == "IOB2"  # IOB1 reads as IOB2
    assert detect_scheme(["O"]) is None
    assert detect_scheme([0, 1]) is None


@pytest.mark.parametrize("scheme", ["IOB2", "IOBES"])
def test_transitions_allow_exactly_the_valid_sequences(scheme):
    """Every sequence of up to 3 tags over 2 types: allowed by the rules if and
    only if reading it as spans and writing them back gives the same tags."""
    prefixes = "BI" if scheme == "IOB2" else "BIES"
    tags = ["O"] + [f"{p}-{t}" for p in prefixes for t in ("A", "B")]
    rules = transitions(tags, scheme)
    for n in (1, 2, 3):
        for seq in itertools.product(range(len(tags)), repeat=n):
            valid = _well_formed([tags[i] for i in seq], scheme)
            assert (rules.count_invalid(np.array(seq), [n]) == 0) == valid, seq


def _well_formed(tags, scheme):
    """By hand: every span opens with B (or is S) and, under IOBES, closes
    with E."""
    open_type = None
    for tag in tags:
        prefix, kind = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        if prefix in "IE" and open_type != kind:
            return False
        if scheme == "IOBES" and prefix in "BSO" and open_type is not None:
            return False
        open_type = kind if prefix in "BI" else None
        if scheme == "IOB2" and prefix == "O":
            open_type = None
    return scheme == "IOB2" or open_type is None


@pytest.mark.parametrize("output", ["softmax", "crf"])
def test_predictions_keep_to_the_scheme(fitted, entities, output):
    _, _, X_test, y_test = entities
    tagger = fitted[output]
    assert tagger.tag_scheme_ == "IOB2"
    # random token sequences make the network unsure where spans are
    rng = np.random.default_rng(0)
    words = sorted({w for s in X_test for w in s})
    noise = [list(rng.choice(words, size=rng.integers(1, 12))) for _ in range(200)]
    for X in (X_test, noise):
        assert _invalid(tagger, tagger.predict(X)) == 0
    assert tagger.score(X_test, y_test) > 0.85


def test_softmax_without_rules_breaks_spans_that_the_rules_mend(entities):
    X, y, _, _ = entities
    rng = np.random.default_rng(0)
    words = sorted({w for s in X for w in s})
    noise = [list(rng.choice(words, size=rng.integers(1, 12))) for _ in range(300)]
    free = RNNTagger(output="softmax", tag_scheme=None, random_state=0, **SMALL)
    free.fit(X, y)
    assert free.tag_scheme_ is None
    ruled = RNNTagger(output="softmax", random_state=0, **SMALL).fit(X, y)
    assert _invalid(ruled, free.predict(noise)) > 0
    # the rules change the decoding only: the per-token probabilities agree
    for a, b in zip(free.predict_proba(noise), ruled.predict_proba(noise), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # and the ruled tags are the most probable valid sequence, by Viterbi
    rules = transitions(ruled.classes_, "IOB2")
    start, trans, end = rules.penalties(np.float64)
    log_probas = ruled.predict_log_proba(noise[:20])
    for tokens, log_proba in zip(noise[:20], log_probas, strict=True):
        mask = np.ones((len(tokens), 1), dtype=bool)
        path, _ = crf.viterbi(log_proba[:, None], mask, trans, start, end)
        np.testing.assert_array_equal(
            ruled.classes_[path[:, 0]], ruled.predict([tokens])[0]
        )


def test_crf_sequence_probabilities_sum_to_one_over_every_tag_sequence():
    X = [["mr", "ford", "wells"], ["in", "lima", "perth"], ["the", "news"]] * 10
    y = [["O", "B-PER", "I-PER"], ["O", "B-LOC", "I-LOC"], ["O", "O"]] * 10
    tagger = RNNTagger(output="crf", random_state=0, **SMALL).fit(X, y)
    K = len(tagger.classes_)
    sentence = [["in", "ford", "news"]]
    all_paths = list(itertools.product(tagger.classes_, repeat=3))
    log_p = np.array(
        [tagger.sequence_log_proba(sentence, [list(p)])[0] for p in all_paths]
    )
    assert K == 5
    assert np.exp(log_p).sum() == pytest.approx(1.0, rel=1e-9)
    best = all_paths[int(np.argmax(log_p))]
    assert list(tagger.predict(sentence)[0]) == list(best)
    assert tagger.sequence_log_proba(sentence)[0] == pytest.approx(log_p.max())
    # invalid paths have probability 0
    invalid = [i for i, p in enumerate(all_paths) if p[0].startswith("I-")]
    assert np.all(np.isneginf(log_p[invalid]))
    # the marginals are sums over those paths
    proba = tagger.predict_proba(sentence)[0]
    for t in range(3):
        for k, tag in enumerate(tagger.classes_):
            on_tag = [p[t] == tag for p in all_paths]
            mass = np.exp(log_p[on_tag]).sum()
            assert proba[t, k] == pytest.approx(mass, abs=1e-9)


def test_softmax_sequence_log_proba_is_the_sum_over_tokens(fitted, entities):
    _, _, X_test, y_test = entities
    tagger = fitted["softmax"]
    log_proba = tagger.predict_log_proba(X_test[:10])
    ids = [np.searchsorted(tagger.classes_, tags) for tags in y_test[:10]]
    expected = [
        lp[np.arange(len(i)), i].sum() for lp, i in zip(log_proba, ids, strict=True)
    ]
    np.testing.assert_allclose(
        tagger.sequence_log_proba(X_test[:10], y_test[:10]), expected
    )


def test_crf_fitted_transitions_forbid_what_the_scheme_forbids(fitted):
    tagger = fitted["crf"]
    K = len(tagger.classes_)
    assert tagger.transitions_.shape == (K, K)
    classes = list(tagger.classes_)
    assert np.isneginf(tagger.transitions_[classes.index("O"), classes.index("I-PER")])
    assert np.isneginf(
        tagger.transitions_[classes.index("B-LOC"), classes.index("I-PER")]
    )
    assert np.isfinite(
        tagger.transitions_[classes.index("B-PER"), classes.index("I-PER")]
    )
    assert np.isneginf(tagger.start_transitions_[classes.index("I-LOC")])
    assert np.all(np.isfinite(tagger.end_transitions_))
    # learned: O is followed by O more readily than a span is continued wrongly
    assert np.any(tagger.transitions_[np.isfinite(tagger.transitions_)] != 0)
    with pytest.raises(AttributeError, match="output='crf'"):
        _ = fitted["softmax"].transitions_


def test_crf_predictions_of_a_sequence_do_not_depend_on_its_batch(fitted, entities):
    _, _, X_test, _ = entities
    tagger = fitted["crf"]
    together = tagger.predict_proba(X_test)
    alone = [tagger.predict_proba([s])[0] for s in X_test[:15]]
    for a, b in zip(alone, together, strict=False):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=0)
    np.testing.assert_allclose(
        tagger.sequence_log_proba(X_test[:15]),
        [tagger.sequence_log_proba([s])[0] for s in X_test[:15]],
        atol=1e-12,
        rtol=0,
    )


def test_iobes_crf(entities):
    X, y = make_entity_tagging(200, scheme="IOBES", random_state=1)
    tagger = RNNTagger(output="crf", random_state=0, **SMALL).fit(X, y)
    assert tagger.tag_scheme_ == "IOBES"
    classes = list(tagger.classes_)
    assert np.isneginf(tagger.end_transitions_[classes.index("B-ORG")])
    X_test, _ = make_entity_tagging(50, scheme="IOBES", random_state=2)
    assert _invalid(tagger, tagger.predict(X_test)) == 0


def test_auto_scheme_is_none_for_tags_that_break_every_scheme():
    X = [["a", "b", "c"]] * 40
    y = [["O", "I-PER", "B-PER"]] * 40  # IOB1-like: I- opens a span
    tagger = RNNTagger(output="crf", random_state=0, **SMALL).fit(X, y)
    assert tagger.tag_scheme_ is None
    assert np.all(np.isfinite(tagger.transitions_))
    with pytest.raises(ValueError, match="breaks the IOB2 scheme in 40 place"):
        RNNTagger(tag_scheme="IOB2", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="tag_scheme='IOBES' needs 'O' or tags"):
        RNNTagger(tag_scheme="IOBES", **SMALL).fit(*make_tagging(20, random_state=0))


def test_crf_partial_fit_rejects_tags_that_break_the_scheme(entities):
    X, y, _, _ = entities
    tagger = RNNTagger(output="crf", random_state=0, **SMALL)
    tagger.partial_fit(X, y)
    tagger.partial_fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="breaks the IOB2 scheme"):
        tagger.partial_fit([["a", "b"]], [["O", "I-PER"]])


def test_auto_output_is_the_crf_for_entity_tags_only(entities):
    X, y, _, _ = entities
    ner = RNNTagger(random_state=0, **SMALL).fit(X, y)
    assert (ner.tag_scheme_, ner.output_) == ("IOB2", "crf")
    assert "crf.trans" in ner.params_
    X_pos, y_pos = make_tagging(50, random_state=0)
    pos = RNNTagger(random_state=0, **SMALL).fit(X_pos, y_pos)
    assert (pos.tag_scheme_, pos.output_) == (None, "softmax")
    assert "crf.trans" not in pos.params_
    # entity tags without rules: no scheme, so the softmax
    free = RNNTagger(tag_scheme=None, random_state=0, **SMALL).fit(X, y)
    assert free.output_ == "softmax"


def test_crf_on_part_of_speech_tags_has_no_rules_and_learns():
    X, y = make_tagging(300, random_state=0)
    tagger = RNNTagger(output="crf", random_state=0, **SMALL).fit(X[:250], y[:250])
    assert tagger.tag_scheme_ is None
    assert tagger.score(X[250:], y[250:]) > 0.85


def test_crf_model_file_round_trip(fitted, entities, tmp_path):
    from skrnn import load

    _, _, X_test, _ = entities
    tagger = fitted["crf"]
    tagger.save(tmp_path / "crf.skrnn")
    loaded = load(tmp_path / "crf.skrnn")
    assert loaded.tag_scheme_ == "IOB2"
    np.testing.assert_array_equal(loaded.transitions_, tagger.transitions_)
    for a, b in zip(loaded.predict(X_test), tagger.predict(X_test), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        loaded.sequence_log_proba(X_test), tagger.sequence_log_proba(X_test)
    )
