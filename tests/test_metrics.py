import pickle
from collections import Counter

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skrnn.metrics import (
    flat_accuracy_score,
    flat_accuracy_scorer,
    flat_classification_report,
    flat_f1_macro_scorer,
    flat_f1_micro_scorer,
    flat_f1_score,
    flat_f1_weighted_scorer,
    flat_precision_score,
    flat_recall_score,
    sequence_accuracy_score,
    sequence_accuracy_scorer,
)

Y_TRUE = [["D", "N", "V"], ["N", "V"], ["D", "N"]]
Y_PRED = [["D", "N", "N"], ["N", "V"], ["D", "V"]]


class MostFrequentTagger(BaseEstimator):
    """Tags each token with its most frequent training tag; returns arrays."""

    def __init__(self, min_count=1):
        self.min_count = min_count

    def fit(self, X, y):
        counts = {}
        for tokens, tags in zip(X, y, strict=True):
            for tok, tag in zip(tokens, tags, strict=True):
                counts.setdefault(tok, Counter())[tag] += 1
        everything = sum(counts.values(), Counter())
        self.default_ = everything.most_common(1)[0][0]
        self.lookup_ = {
            tok: c.most_common(1)[0][0]
            for tok, c in counts.items()
            if c.total() >= self.min_count
        }
        return self

    def predict(self, X):
        return [
            np.array([self.lookup_.get(t, self.default_) for t in s], dtype=object)
            for s in X
        ]


def _corpus(n=60, seed=0):
    rng = np.random.RandomState(seed)
    words = {"the": "D", "a": "D", "cat": "N", "dog": "N", "runs": "V", "sees": "V"}
    vocab = list(words)
    X = [list(rng.choice(vocab, size=rng.randint(1, 6))) for _ in range(n)]
    y = [[words[w] for w in s] for s in X]
    return X, y


def test_flat_scores_match_hand_computed_values():
    # 7 tokens: 5 right. Per tag (tp, fp, fn): D (2,0,0), N (2,1,1), V (1,1,1)
    assert flat_accuracy_score(Y_TRUE, Y_PRED) == pytest.approx(5 / 7)
    assert flat_accuracy_score(Y_TRUE, Y_PRED, normalize=False) == 5
    p = {"D": 1.0, "N": 2 / 3, "V": 1 / 2}
    r = {"D": 1.0, "N": 2 / 3, "V": 1 / 2}
    f = {k: 2 * p[k] * r[k] / (p[k] + r[k]) for k in p}
    assert flat_precision_score(Y_TRUE, Y_PRED, average="macro") == pytest.approx(
        np.mean(list(p.values()))
    )
    assert flat_recall_score(Y_TRUE, Y_PRED, average="macro") == pytest.approx(
        np.mean(list(r.values()))
    )
    assert flat_f1_score(Y_TRUE, Y_PRED, average="macro") == pytest.approx(
        np.mean(list(f.values()))
    )
    assert flat_f1_score(Y_TRUE, Y_PRED, average="micro") == pytest.approx(5 / 7)
    support = {"D": 2, "N": 3, "V": 2}
    weighted = sum(f[k] * support[k] for k in f) / 7
    assert flat_f1_score(Y_TRUE, Y_PRED, average="weighted") == pytest.approx(weighted)
    per_tag = flat_f1_score(Y_TRUE, Y_PRED, average=None)
    np.testing.assert_allclose(per_tag, [f["D"], f["N"], f["V"]])
    # labels= restricts the average, e.g. to leave out a dominant tag.
    assert flat_f1_score(
        Y_TRUE, Y_PRED, average="macro", labels=["N", "V"]
    ) == pytest.approx((f["N"] + f["V"]) / 2)


def test_sequence_accuracy_counts_whole_sequences():
    assert sequence_accuracy_score(Y_TRUE, Y_PRED) == pytest.approx(1 / 3)
    assert sequence_accuracy_score(Y_TRUE, Y_PRED, normalize=False) == 1
    assert sequence_accuracy_score(Y_TRUE, Y_TRUE) == 1.0
    # An empty sequence is vacuously right.
    assert sequence_accuracy_score([[], ["N"]], [[], ["V"]]) == 0.5
    w = [1.0, 3.0, 0.0]
    assert sequence_accuracy_score(Y_TRUE, Y_PRED, sample_weight=w) == 0.75


def test_sample_weight_is_per_sequence():
    w = [0.0, 1.0, 2.0]
    # Tokens of sequence 1 (2 right) weigh 1, of sequence 2 (1 of 2 right) 2.
    assert flat_accuracy_score(Y_TRUE, Y_PRED, sample_weight=w) == pytest.approx(
        (2 + 2 * 1) / (2 + 2 * 2)
    )
    with pytest.raises(ValueError, match="one weight per sequence"):
        flat_accuracy_score(Y_TRUE, Y_PRED, sample_weight=[1.0] * 7)


def test_flat_arrays_and_mixed_forms():
    yt = np.array(["D", "N", "V", "N", "V", "D", "N"])
    yp = np.array(["D", "N", "N", "N", "V", "D", "V"])
    assert flat_accuracy_score(yt, yp) == pytest.approx(5 / 7)
    # Sequences against the flat output of the 2-D path.
    assert flat_accuracy_score(Y_TRUE, yp) == pytest.approx(5 / 7)
    assert flat_f1_score(yt, yp, average="macro") == pytest.approx(
        flat_f1_score(Y_TRUE, Y_PRED, average="macro")
    )
    # Flat labels are sequences of length one for sequence accuracy.
    assert sequence_accuracy_score(yt, yp) == pytest.approx(5 / 7)
    # Integer tags and a list of 1-D arrays.
    yi = [np.array([0, 1, 1]), np.array([1, 0])]
    assert flat_f1_score(yi, [[0, 1, 0], [1, 0]]) == pytest.approx(
        f1_score([0, 1, 1, 1, 0], [0, 1, 0, 1, 0])
    )
    # A 2-D array is one equally long sequence per row.
    y2 = np.array([["D", "N"], ["N", "V"]])
    assert sequence_accuracy_score(y2, [["D", "N"], ["N", "N"]]) == 0.5


def test_inputs_are_not_modified():
    yt = [list(s) for s in Y_TRUE]
    yp = [np.array(s) for s in Y_PRED]
    flat_f1_score(yt, yp, average="macro", sample_weight=[1, 2, 3])
    sequence_accuracy_score(yt, yp)
    assert yt == Y_TRUE
    assert [list(s) for s in yp] == Y_PRED


def test_errors():
    with pytest.raises(ValueError, match="Sequence 1 has 2 true tags but 1"):
        flat_accuracy_score(Y_TRUE, [["D", "N", "N"], ["N"], ["D", "V"]])
    with pytest.raises(ValueError, match="3 sequences but y_pred has 2"):
        flat_f1_score(Y_TRUE, Y_PRED[:2], average="macro")
    with pytest.raises(ValueError, match="mixes tag sequences and single labels"):
        flat_accuracy_score([["D"], "N"], [["D"], ["N"]])
    with pytest.raises(TypeError, match="bare str"):
        flat_accuracy_score("DNV", ["D", "N", "V"])
    with pytest.raises(ValueError, match="holds 7 labels but y_pred holds 6"):
        flat_accuracy_score(Y_TRUE, ["D"] * 6)
    with pytest.raises(ValueError, match="Mix of label input types"):
        sequence_accuracy_score([["D", "N"]], [[0, 1]])
    with pytest.raises(ValueError, match="average"):
        flat_f1_score(Y_TRUE, Y_PRED)  # multiclass tags need an average


def test_classification_report():
    report = flat_classification_report(Y_TRUE, Y_PRED, output_dict=True)
    assert report["N"]["precision"] == pytest.approx(2 / 3)
    assert report["V"]["support"] == 2
    assert report["accuracy"] == pytest.approx(5 / 7)
    text = flat_classification_report(Y_TRUE, Y_PRED, digits=3)
    assert "0.667" in text


def test_cross_val_score_with_flat_scorers():
    X, y = _corpus()
    cv = KFold(3)
    scorer = make_scorer(flat_f1_score, average="macro")
    scores = cross_val_score(MostFrequentTagger(), X, y, cv=cv, scoring=scorer)
    expected = []
    for train, test in cv.split(X):
        est = MostFrequentTagger().fit([X[i] for i in train], [y[i] for i in train])
        pred = est.predict([X[i] for i in test])
        expected.append(flat_f1_score([y[i] for i in test], pred, average="macro"))
    np.testing.assert_allclose(scores, expected)
    # Every word has a single tag, so the lookup is perfect.
    np.testing.assert_allclose(scores, 1.0)
    for ready in (
        flat_accuracy_scorer,
        flat_f1_macro_scorer,
        flat_f1_micro_scorer,
        flat_f1_weighted_scorer,
        sequence_accuracy_scorer,
    ):
        np.testing.assert_allclose(
            cross_val_score(MostFrequentTagger(), X, y, cv=cv, scoring=ready), 1.0
        )


def test_grid_search_picks_the_better_model():
    X, y = _corpus()
    # min_count=1000 falls back to the overall most frequent tag everywhere.
    search = GridSearchCV(
        MostFrequentTagger(),
        {"min_count": [1000, 1]},
        scoring={"acc": flat_accuracy_scorer, "f1": flat_f1_macro_scorer},
        refit="f1",
        cv=3,
    ).fit(X, y)
    assert search.best_params_ == {"min_count": 1}
    res = search.cv_results_
    assert res["mean_test_f1"][1] == pytest.approx(1.0)
    assert res["mean_test_acc"][0] < 0.6
    assert flat_accuracy_score(y, search.predict(X)) == 1.0


def test_scorers_pickle_and_clone_with_n_jobs():
    X, y = _corpus(30)
    scorer = pickle.loads(pickle.dumps(flat_f1_macro_scorer))
    est = clone(MostFrequentTagger())
    scores = cross_val_score(est, X, y, cv=2, scoring=scorer, n_jobs=2)
    np.testing.assert_allclose(scores, 1.0)
