import pickle
import warnings
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skrnn import HMMTagger
from skrnn.metrics import (
    entity_classification_report,
    entity_f1_macro_scorer,
    entity_f1_score,
    entity_f1_scorer,
    entity_precision_score,
    entity_precision_scorer,
    entity_recall_score,
    entity_recall_scorer,
    invalid_transitions,
)

SCORES = {
    "f1": entity_f1_score,
    "precision": entity_precision_score,
    "recall": entity_recall_score,
}
AVERAGES = ["micro", "macro", "weighted", None]
IOB2_TAGS = ["O", "B-A", "I-A", "B-B", "I-B", "B-CC", "I-CC"]
IOBES_TAGS = IOB2_TAGS + ["E-A", "S-A", "E-B", "S-B", "E-CC", "S-CC"]


def _prf(y_true, y_pred, **kwargs):
    return tuple(
        SCORES[k](y_true, y_pred, zero_division=0.0, **kwargs)
        for k in ("precision", "recall", "f1")
    )


# Hand-made cases -------------------------------------------------------------


def test_i_after_o_starts_an_entity_only_in_lenient_mode():
    y_true = [["O", "B-PER", "I-PER", "O"]]
    y_pred = [["O", "I-PER", "I-PER", "O"]]
    # Lenient: the I-PER after O opens PER over tokens 1-2, as in the truth.
    assert _prf(y_true, y_pred) == (1.0, 1.0, 1.0)
    # Strict IOB2: the predicted I-PER I-PER is no entity at all.
    assert _prf(y_true, y_pred, mode="strict", scheme="IOB2") == (0.0, 0.0, 0.0)


def test_lenient_and_strict_iob2_entities():
    y_true = [["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]]
    # PER right, LOC 3 right; I-ORG changes the type, so LOC 4-5 is not found.
    y_pred = [["B-PER", "I-PER", "O", "B-LOC", "I-ORG", "I-LOC"]]
    # Lenient entities of y_pred: PER(0,2), LOC(3,4), ORG(4,5), LOC(5,6)
    p, r, f = _prf(y_true, y_pred)
    assert (p, r) == (pytest.approx(2 / 4), pytest.approx(2 / 3))
    assert f == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))
    # Strict IOB2 entities of y_pred: PER(0,2), LOC(3,4); the I- tags are dropped.
    p, r, _ = _prf(y_true, y_pred, mode="strict", scheme="IOB2")
    assert (p, r) == (1.0, pytest.approx(2 / 3))
    # Types sorted: LOC, ORG (no true entity: zero_division), PER.
    per_type = entity_recall_score(y_true, y_pred, average=None, zero_division=0.0)
    np.testing.assert_allclose(per_type, [1 / 2, 0.0, 1.0])


def test_iobes_entities_need_their_end_in_strict_mode():
    y_true = [["B-A", "I-A", "E-A", "S-B", "O", "B-A", "E-A"]]
    # Unfinished B-A I-A (no E-A), a correct S-B, a correct B-A E-A.
    y_pred = [["B-A", "I-A", "O", "S-B", "O", "B-A", "E-A"]]
    p, r, _ = _prf(y_true, y_pred, mode="strict", scheme="IOBES")
    assert (p, r) == (1.0, pytest.approx(2 / 3))
    # Lenient reads B-A I-A (ended by O) as an entity of tokens 0-1: wrong span.
    p, r, _ = _prf(y_true, y_pred)
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    # S- and E- close entities in lenient mode too: S-A S-A is two entities.
    report = entity_classification_report(
        [["S-A", "S-A"]], [["B-A", "E-A"]], output_dict=True
    )
    assert report["A"]["support"] == 2
    assert report["A"]["precision"] == 0.0


def test_entities_stay_within_their_sequence():
    y_true = [["O", "B-PER"], ["I-PER", "O"]]
    report = entity_classification_report(y_true, y_true, output_dict=True)
    assert report["PER"]["support"] == 2
    merged = [["B-PER"], ["I-PER"]]
    assert entity_f1_score(merged, [["B-PER"], ["O"]]) == pytest.approx(2 / 3)


def test_averages_over_types():
    y_true = [["B-A", "O", "B-A", "O", "B-B"]]
    y_pred = [["B-A", "O", "O", "O", "O"]]
    # A: p=1, r=1/2, f=2/3 (2 true); B: p=0 (no prediction), r=0, f=0 (1 true).
    kw = {"zero_division": 0.0}
    assert entity_recall_score(y_true, y_pred, average="macro", **kw) == 0.25
    assert entity_recall_score(y_true, y_pred, average="weighted", **kw) == (
        pytest.approx(1 / 3)
    )
    assert entity_recall_score(y_true, y_pred, **kw) == pytest.approx(1 / 3)
    assert entity_precision_score(y_true, y_pred, **kw) == 1.0
    np.testing.assert_allclose(
        entity_f1_score(y_true, y_pred, average=None, **kw), [2 / 3, 0.0]
    )


def test_zero_division():
    y_true = [["B-A", "O"]]
    nothing = [["O", "O"]]
    with pytest.warns(UndefinedMetricWarning):
        assert entity_precision_score(y_true, nothing) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert entity_precision_score(y_true, nothing, zero_division=1.0) == 1.0
        assert np.isnan(entity_precision_score(y_true, nothing, zero_division=np.nan))
        # Recall is defined: 0 of 1 true entity found.
        assert entity_recall_score(y_true, nothing, zero_division=1.0) == 0.0
        assert entity_f1_score(y_true, nothing, zero_division=1.0) == 0.0


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
@pytest.mark.parametrize("name", sorted(SCORES))
def test_no_entity_on_either_side(name, average):
    score = SCORES[name]
    y = [["O", "O"], []]
    with pytest.warns(UndefinedMetricWarning, match="neither y_true nor y_pred"):
        assert score(y, y, average=average) == 0.0
    assert score(y, y, average=average, zero_division=1.0) == 1.0
    assert np.isnan(score(y, y, average=average, zero_division=np.nan))
    assert score(y, y, average=None, zero_division=1.0).shape == (0,)
    report = entity_classification_report(y, y, zero_division=1.0, output_dict=True)
    assert set(report) == {"micro avg", "macro avg", "weighted avg"}
    assert report["macro avg"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1-score": 1.0,
        "support": 0,
    }


def test_sample_weight_weighs_each_sequences_entities():
    y_true = [["B-A", "O", "B-B"], ["B-A", "I-A"], ["O", "B-B"]]
    y_pred = [["B-A", "O", "O"], ["B-A", "O"], ["O", "B-B"]]
    doubled = ([y_true[0], y_true[0], y_true[1]], [y_pred[0], y_pred[0], y_pred[1]])
    for average in AVERAGES:
        for score in SCORES.values():
            weighted = score(
                y_true,
                y_pred,
                average=average,
                sample_weight=[2, 1, 0],
                zero_division=0.0,
            )
            expected = score(*doubled, average=average, zero_division=0.0)
            np.testing.assert_allclose(weighted, expected)
    report = entity_classification_report(
        y_true, y_pred, sample_weight=[2, 1, 0], output_dict=True, zero_division=0.0
    )
    assert report["A"]["support"] == pytest.approx(3.0)


def test_tagger_output_forms_and_inputs_not_modified():
    y_true = [["B-A", "I-A", "O"], ["O", "B-B", "O"]]
    y_pred = [np.array(s, dtype=object) for s in [["B-A", "I-A", "O"], ["O"] * 3]]
    before = [s.copy() for s in y_pred]
    assert entity_recall_score(y_true, y_pred) == 0.5
    for a, b in zip(y_pred, before, strict=True):
        np.testing.assert_array_equal(a, b)
    # A 2-D array holds equally long sequences, one per row.
    assert entity_recall_score(np.array(y_true), np.array(y_pred, dtype=str)) == 0.5
    assert entity_recall_score(tuple(map(tuple, y_true)), y_pred) == 0.5


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, error, match",
    [
        ([["B-A"]], [["B-A"]], {"mode": "strict"}, ValueError, "scheme='IOB2'"),
        ([["E-A"]], [["B-A"]], {"scheme": "IOB2"}, ValueError, "'E-A' in y_true"),
        (
            [["B-A"]],
            [["S-A"]],
            {"mode": "strict", "scheme": "IOB2"},
            ValueError,
            "'S-A' in y_pred sequence 0 is not an entity tag of the IOB2",
        ),
        ([["PER"]], [["B-A"]], {}, ValueError, "expected 'O' or one of"),
        ([["B-"]], [["B-A"]], {}, ValueError, "'B-'"),
        ([["o"]], [["B-A"]], {}, ValueError, "'o'"),
        ([[1, 2]], [["B-A", "O"]], {}, TypeError, "must be strings"),
        ([["B-A", "O"]], [["B-A"]], {}, ValueError, "Sequence 0 has 2 true"),
        ([["B-A"], ["O"]], [["B-A"]], {}, ValueError, "2 sequences but y_pred has 1"),
        (["B-A", "O"], ["B-A", "O"], {}, TypeError, "flat list of tags"),
        (np.array(["B-A"]), np.array(["B-A"]), {}, TypeError, "flat array"),
        ("B-A", "B-A", {}, TypeError, "must be an array-like"),
        ([["B-A"]], [["B-A"]], {"mode": "conll"}, ValueError, "'mode' parameter"),
        ([["B-A"]], [["B-A"]], {"scheme": "IOB1"}, ValueError, "'scheme' param"),
        ([["B-A"]], [["B-A"]], {"average": "binary"}, ValueError, "'average'"),
        ([["B-A"]], [["B-A"]], {"zero_division": 2}, ValueError, "zero_division"),
        (
            [["B-A"]],
            [["B-A"]],
            {"sample_weight": [1, 2]},
            ValueError,
            r"sample_weight.shape == \(2,\)",
        ),
    ],
)
def test_errors(y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        entity_f1_score(y_true, y_pred, **kwargs)


def test_report_text():
    y_true = [["B-PER", "I-PER", "O", "B-LOCATION"]]
    y_pred = [["B-PER", "I-PER", "O", "O"]]
    text = entity_classification_report(y_true, y_pred, digits=3, zero_division=0.0)
    lines = text.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[2].split() == ["LOCATION", "0.000", "0.000", "0.000", "1"]
    assert lines[3].split() == ["PER", "1.000", "1.000", "1.000", "1"]
    assert lines[5].split() == ["micro", "avg", "1.000", "0.500", "0.667", "2"]
    assert lines[4] == "" and text.endswith("\n")


# Against seqeval 1.2.2 -------------------------------------------------------


def _pair(alphabet):
    lengths = st.lists(st.integers(0, 7), min_size=1, max_size=5)

    def tags(n):
        return st.lists(st.sampled_from(alphabet), min_size=n, max_size=n)

    return lengths.flatmap(
        lambda ls: st.tuples(
            st.tuples(*map(tags, ls)).map(list),
            st.tuples(*map(tags, ls)).map(list),
        )
    )


CASES = [
    ("lenient", None, IOBES_TAGS),
    ("strict", "IOB2", IOB2_TAGS),
    ("strict", "IOBES", IOBES_TAGS),
]


def _seqeval_kwargs(mode, scheme):
    if mode == "lenient":
        return {}
    from seqeval import scheme as schemes

    return {"mode": "strict", "scheme": getattr(schemes, scheme)}


@pytest.mark.parametrize("mode, scheme, alphabet", CASES)
def test_scores_match_seqeval(mode, scheme, alphabet):
    seqeval = pytest.importorskip("seqeval.metrics", reason="compares with seqeval")
    theirs = {
        "f1": seqeval.f1_score,
        "precision": seqeval.precision_score,
        "recall": seqeval.recall_score,
    }
    kw = _seqeval_kwargs(mode, scheme)

    @settings(max_examples=40, deadline=None)
    @given(_pair(alphabet))
    def check(pair):
        y_true, y_pred = pair
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, score in SCORES.items():
                for average in AVERAGES:
                    for zd in ("warn", 0, 1):
                        ours = score(
                            y_true,
                            y_pred,
                            mode=mode,
                            scheme=scheme,
                            average=average,
                            zero_division=zd if zd == "warn" else float(zd),
                        )
                        ref = theirs[name](
                            y_true, y_pred, average=average, zero_division=zd, **kw
                        )
                        if average == "macro" and np.isnan(ref):
                            # seqeval averages an empty list when there is no
                            # entity at all; we return zero_division instead.
                            assert ours == (0.0 if zd == "warn" else zd)
                            continue
                        assert np.shape(ours) == np.shape(ref)
                        np.testing.assert_allclose(ours, ref)

    check()


@pytest.mark.parametrize("mode, scheme, alphabet", CASES)
def test_report_matches_seqeval(mode, scheme, alphabet):
    seqeval = pytest.importorskip("seqeval.metrics", reason="compares with seqeval")
    kw = _seqeval_kwargs(mode, scheme)

    @settings(max_examples=40, deadline=None)
    @given(_pair(alphabet))
    def check(pair):
        y_true, y_pred = pair
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = entity_classification_report(
                y_true, y_pred, mode=mode, scheme=scheme, output_dict=True
            )
            if len(ours) == 3:
                return  # no entity: seqeval's report fails on the empty table
            ref = seqeval.classification_report(
                y_true, y_pred, output_dict=True, **kw
            )
            assert list(ours) == list(ref)
            for row, values in ref.items():
                for key, value in values.items():
                    assert ours[row][key] == pytest.approx(value)
            text = entity_classification_report(
                y_true, y_pred, mode=mode, scheme=scheme, digits=4
            )
            _assert_same_report(
                text, seqeval.classification_report(y_true, y_pred, digits=4, **kw), 4
            )

    check()


def _assert_same_report(ours, theirs, digits):
    """The same table, character for character but for a number printed one unit
    apart in its last digit: a tie such as 0.46875 is exact in ours (3.75 / 8)
    and 0.46874999999999994 in seqeval's weighted average (NumPy's average), so
    the two round it to 0.4688 and 0.4687 (found by hypothesis)."""
    lines, their_lines = ours.splitlines(), theirs.splitlines()
    assert [len(line) for line in lines] == [len(line) for line in their_lines]
    for line, their_line in zip(lines, their_lines, strict=True):
        words, their_words = line.split(), their_line.split()
        assert len(words) == len(their_words), (line, their_line)
        for word, their_word in zip(words, their_words, strict=True):
            if word == their_word:
                continue
            assert abs(float(word) - float(their_word)) <= 1.01 * 10.0**-digits, (
                line,
                their_line,
            )


def test_strict_rejects_what_seqeval_rejects():
    pytest.importorskip("seqeval", reason="compares with seqeval")
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    y = [["B-A", "E-A"]]
    with pytest.raises(ValueError):
        f1_score(y, y, mode="strict", scheme=IOB2)
    with pytest.raises(ValueError, match="IOB2"):
        entity_f1_score(y, y, mode="strict", scheme="IOB2")


# Scorers ---------------------------------------------------------------------


def _ner_corpus(n=90, seed=0):
    """Sentences with PER (first name, optional surname) and LOC entities."""
    rng = np.random.RandomState(seed)
    X, y = [], []
    for _ in range(n):
        tokens, tags = [], []
        for _ in range(rng.randint(2, 7)):
            kind = rng.choice(["O", "PER", "LOC"], p=[0.6, 0.25, 0.15])
            if kind == "PER":
                tokens.append(rng.choice(["ann", "bob", "eve"]))
                tags.append("B-PER")
                if rng.rand() < 0.5:
                    tokens.append(rng.choice(["smith", "jones"]))
                    tags.append("I-PER")
            elif kind == "LOC":
                tokens.append(rng.choice(["paris", "rome", "jones"]))
                tags.append("B-LOC")
            else:
                tokens.append(rng.choice(["the", "saw", "in", "and", "met"]))
                tags.append("O")
        X.append(tokens)
        y.append(tags)
    return X, y


def test_grid_search_with_entity_scorers_matches_manual_scores():
    X, y = _ner_corpus()
    cv = KFold(3, shuffle=True, random_state=0)
    scoring = {
        "f1": entity_f1_scorer,
        "f1_macro": entity_f1_macro_scorer,
        "precision": entity_precision_scorer,
        "recall": entity_recall_scorer,
        "strict": make_scorer(entity_f1_score, mode="strict", scheme="IOB2"),
    }
    grid = {"alpha": [1e-3, 10.0], "suffix_length": [0, 3]}
    search = GridSearchCV(HMMTagger(), grid, scoring=scoring, refit="f1", cv=cv)
    search.fit(X, y)
    for i, params in enumerate(search.cv_results_["params"]):
        scores = {k: [] for k in scoring}
        for train, test in cv.split(X):
            tagger = clone(HMMTagger()).set_params(**params)
            tagger.fit([X[j] for j in train], [y[j] for j in train])
            pred = tagger.predict([X[j] for j in test])
            true = [y[j] for j in test]
            scores["f1"].append(entity_f1_score(true, pred))
            scores["f1_macro"].append(entity_f1_score(true, pred, average="macro"))
            scores["precision"].append(entity_precision_score(true, pred))
            scores["recall"].append(entity_recall_score(true, pred))
            scores["strict"].append(
                entity_f1_score(true, pred, mode="strict", scheme="IOB2")
            )
        for name, values in scores.items():
            assert search.cv_results_[f"mean_test_{name}"][i] == pytest.approx(
                np.mean(values)
            )
    assert 0.5 < search.best_score_ <= 1.0


def test_scorers_pickle_and_run_in_parallel():
    X, y = _ner_corpus(n=30)
    scorers = {"f1": entity_f1_scorer, "recall": entity_recall_scorer}
    restored = pickle.loads(pickle.dumps(scorers))
    one = cross_validate(HMMTagger(), X, y, scoring=restored, cv=3)
    two = cross_validate(HMMTagger(), X, y, scoring=scorers, cv=3, n_jobs=2)
    np.testing.assert_allclose(one["test_f1"], two["test_f1"])
    np.testing.assert_allclose(one["test_recall"], two["test_recall"])


# --- invalid_transitions ----------------------------------------------------------


def _valid_sequences(length, types, scheme):
    """Every tag sequence of ``length`` that ``scheme`` allows, built from spans."""
    if length == 0:
        yield []
        return
    yield from (["O", *rest] for rest in _valid_sequences(length - 1, types, scheme))
    for n in range(1, length + 1):
        for t in types:
            if scheme == "IOBES":
                span = [f"S-{t}"] if n == 1 else [f"B-{t}", *[f"I-{t}"] * (n - 2)]
                span += [] if n == 1 else [f"E-{t}"]
            else:
                span = [f"B-{t}", *[f"I-{t}"] * (n - 1)]
            for rest in _valid_sequences(length - n, types, scheme):
                yield span + rest


@pytest.mark.parametrize("scheme", ["IOB2", "IOBES"])
def test_invalid_transitions_is_zero_exactly_on_valid_sequences(scheme):
    tags = IOB2_TAGS[:5] if scheme == "IOB2" else IOBES_TAGS[:5] + IOBES_TAGS[7:11]
    for length in range(5):
        valid = {tuple(s) for s in _valid_sequences(length, ["A", "B"], scheme)}
        for seq in product(tags, repeat=length):
            n_invalid = invalid_transitions([list(seq)], scheme=scheme)
            assert (n_invalid == 0) == (seq in valid), seq


@pytest.mark.parametrize(
    "y, scheme, expected",
    [
        ([["I-A"]], None, 1),  # at the start
        ([["O", "I-A", "I-A"]], None, 1),  # counted once, where the span breaks
        ([["B-A", "I-B"], ["B-A"], ["I-A"]], None, 2),  # another type; per sequence
        ([["B-A", "I-A", "O", "B-B"]], None, 0),
        ([["B-A", "I-A", "O"]], "IOBES", 1),  # B-X I-X left open
        ([["B-A"]], "IOBES", 1),  # left open at the end
        ([["O", "I-A", "O"]], "IOBES", 2),  # I-X after O, and not ended
        ([["E-A"]], None, 1),  # an E- tag makes it IOBES
        ([["S-A", "B-B", "I-B", "E-B", "O"]], None, 0),
        ([["B-A", "E-B"]], None, 1),  # one transition, both wrong: counted once
        ([], None, 0),
        ([[], ["O"]], None, 0),
    ],
)
def test_invalid_transitions_counts(y, scheme, expected):
    assert invalid_transitions(y, scheme=scheme) == expected
    assert invalid_transitions([np.array(s, dtype=object) for s in y], scheme) == (
        expected
    )


def test_invalid_transitions_errors():
    with pytest.raises(ValueError, match="'E-A' .* not an entity tag of the IOB2"):
        invalid_transitions([["B-A", "E-A"]], scheme="IOB2")
    with pytest.raises(ValueError, match="'NOUN' .* not an entity tag"):
        invalid_transitions([["O", "NOUN"]])
    with pytest.raises(TypeError, match="flat list of tags"):
        invalid_transitions(["O", "B-A"])
    with pytest.raises(ValueError, match="'scheme' parameter"):
        invalid_transitions([["O"]], scheme="BIO")
