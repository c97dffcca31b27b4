import numpy as np
import pytest

from skrnn import HMMTagger, RNNTagger
from skrnn.datasets import make_tagging


@pytest.mark.parametrize("make_tagger", [HMMTagger, lambda: RNNTagger(max_iter=2)])
def test_score_is_token_accuracy_with_per_sequence_weights(make_tagger):
    X, y = make_tagging(n_sequences=60, random_state=3)
    tagger = make_tagger().fit(X, y)
    predicted = tagger.predict(X)
    right = np.concatenate(
        [p == np.asarray(t) for p, t in zip(predicted, y, strict=True)]
    )
    weights = np.arange(1, 61, dtype=float)
    token_weights = np.repeat(weights, [len(s) for s in X])
    expected = np.average(right, weights=token_weights)
    assert expected != pytest.approx(right.mean())
    assert tagger.score(X, y, sample_weight=weights) == pytest.approx(expected)
    assert tagger.score(X, y) == pytest.approx(right.mean())


@pytest.mark.parametrize("tagger", [HMMTagger(), RNNTagger()])
def test_taggers_require_y(tagger):
    assert tagger.__sklearn_tags__().target_tags.required
    with pytest.raises(ValueError, match="requires y"):
        tagger.fit(np.ones((4, 2)), None)
