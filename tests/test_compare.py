"""The pieces of ``python -m skrnn compare`` (the command itself: test_main.py)."""

import numpy as np
import pytest
from sklearn.base import clone

from skrnn._compare import entity_scheme
from skrnn._peers import CRFSuiteTagger, crfsuite_features
from skrnn.datasets import make_entity_tagging


@pytest.mark.parametrize(
    "tags, scheme",
    [
        (["O", "B-PER", "I-PER"], "IOB2"),
        (["O", "I-PER"], "IOB2"),  # IOB1 input: counted against IOB2's rules
        (["O", "B-LOC", "S-PER", "E-LOC"], "IOBES"),
        (["B-MISC-X"], "IOB2"),  # a type may hold hyphens
        (["O"], None),  # no entity
        (["NOUN", "VERB", "O"], None),
        (["O", "B-PER", "B"], None),  # "B" alone is no entity tag
        (["O", "X-PER"], None),
        ([], None),
    ],
)
def test_entity_scheme(tags, scheme):
    assert entity_scheme(tags) == scheme
    assert entity_scheme(iter(tags)) == scheme


def test_crfsuite_features_are_the_tutorials_without_pos():
    features = crfsuite_features(["El", "Abogado", "2002"])
    assert len(features) == 3
    assert features[0] == {
        "bias": 1.0,
        "word.lower()": "el",
        "word[-3:]": "El",
        "word[-2:]": "El",
        "word.isupper()": False,
        "word.istitle()": True,
        "word.isdigit()": False,
        "BOS": True,
        "+1:word.lower()": "abogado",
        "+1:word.istitle()": True,
        "+1:word.isupper()": False,
    }
    assert features[1]["word[-3:]"] == "ado" and features[1]["word[-2:]"] == "do"
    assert features[1]["-1:word.lower()"] == "el"
    assert features[1]["+1:word.lower()"] == "2002"
    assert "BOS" not in features[1] and "EOS" not in features[1]
    assert features[2]["word.isdigit()"] and features[2]["EOS"]
    assert not any("postag" in key for f in features for key in f)
    assert crfsuite_features([]) == []


def test_crfsuite_tagger():
    pytest.importorskip("sklearn_crfsuite", reason="CRFSuiteTagger needs it")
    X, y = make_entity_tagging(150, random_state=0)
    X_test, y_test = make_entity_tagging(50, random_state=1)
    tagger = CRFSuiteTagger()
    assert repr(tagger) == "CRFSuiteTagger()" and "crf_" not in vars(tagger)
    tagger.fit(X, y)
    assert tagger.crf_.get_params()["all_possible_transitions"] is True
    predicted = tagger.predict(X_test)
    assert all(isinstance(p, np.ndarray) for p in predicted)
    assert [len(p) for p in predicted] == [len(s) for s in X_test]
    accuracy = np.mean(np.concatenate(predicted) == np.concatenate(y_test))
    assert accuracy > 0.95  # the word before a span is one of its features
    refit = clone(tagger).set_params(max_iterations=5).fit(X, y)
    assert refit.crf_.max_iterations == 5
