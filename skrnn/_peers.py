"""Other libraries' taggers behind skrnn's ``fit``/``predict`` interface.

``python -m skrnn compare`` and the benchmarks run them beside skrnn's own
taggers. Each imports its library inside ``fit``, so importing this module needs
neither: the libraries stay optional (``pip install nltk sklearn-crfsuite``).
Like skrnn's taggers they take lists of token sequences and tag sequences and
``predict`` returns one array of tags per sequence.
"""

import random

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["CRFSuiteTagger", "NLTKPerceptronTagger", "crfsuite_features"]


class NLTKPerceptronTagger(BaseEstimator):
    """NLTK's averaged perceptron tagger behind ``fit``/``predict``.

    NLTK shuffles the training sentences with Python's global ``random``; it is
    seeded for the fit and then restored, so a run is reproducible and the
    caller's random state is left as it was.

    Parameters
    ----------
    n_iter : int, default=5
        Passes over the training data.
    random_state : int, default=0
        Seed of the shuffling.
    """

    def __init__(self, n_iter=5, random_state=0):
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, X, y):
        """Train on token sequences ``X`` and their tag sequences ``y``."""
        from nltk.tag.perceptron import PerceptronTagger

        pairs = [list(zip(s, t, strict=True)) for s, t in zip(X, y, strict=True)]
        state = random.getstate()
        random.seed(self.random_state)
        try:
            self.tagger_ = PerceptronTagger(load=False)
            self.tagger_.train(pairs, nr_iter=self.n_iter)
        finally:
            random.setstate(state)
        return self

    def predict(self, X):
        """Return one array of tags per token sequence."""
        return [np.array([tag for _, tag in self.tagger_.tag(list(s))]) for s in X]


def _word_features(word, prefix=""):
    return {
        f"{prefix}word.lower()": word.lower(),
        f"{prefix}word.istitle()": word.istitle(),
        f"{prefix}word.isupper()": word.isupper(),
    }


def crfsuite_features(sentence):
    """The features of sklearn-crfsuite's tutorial, without the POS columns.

    The tutorial's ``word2features`` for every token: a bias, the word
    lowercased, its last three and two characters, whether it is upper case,
    title case or digits, and the lowercased form, title case and upper case
    of the previous and next words (``BOS``/``EOS`` at the ends of the
    sentence). Its ``postag`` features are left out: the CoNLL-2002 files
    skrnn reads have no POS column, and skrnn's taggers see none either.

    Parameters
    ----------
    sentence : sequence of str
        The tokens of one sentence.

    Returns
    -------
    features : list of dict
        One dict of feature names and values per token.
    """
    sentence = [str(word) for word in sentence]
    features = []
    for i, word in enumerate(sentence):
        f = {
            "bias": 1.0,
            **_word_features(word),
            "word[-3:]": word[-3:],
            "word[-2:]": word[-2:],
            "word.isdigit()": word.isdigit(),
        }
        if i > 0:
            f.update(_word_features(sentence[i - 1], "-1:"))
        else:
            f["BOS"] = True
        if i < len(sentence) - 1:
            f.update(_word_features(sentence[i + 1], "+1:"))
        else:
            f["EOS"] = True
        features.append(f)
    return features


class CRFSuiteTagger(BaseEstimator):
    """sklearn-crfsuite's linear-chain CRF on its tutorial's word features.

    The model of sklearn-crfsuite's CoNLL-2002 tutorial: :func:`crfsuite_features`
    for each token, and ``CRF(algorithm="lbfgs", c1=0.1, c2=0.1,
    max_iterations=100, all_possible_transitions=True)``. It needs
    ``pip install sklearn-crfsuite``.

    Parameters
    ----------
    c1 : float, default=0.1
        L1 regularization.
    c2 : float, default=0.1
        L2 regularization.
    max_iterations : int, default=100
        L-BFGS iterations.
    all_possible_transitions : bool, default=True
        Learn weights for tag transitions that the training data never shows
        (negative ones, so that the CRF learns to avoid ``O I-PER``).

    Attributes
    ----------
    crf_ : sklearn_crfsuite.CRF
        The fitted CRF.
    """

    def __init__(
        self, c1=0.1, c2=0.1, max_iterations=100, all_possible_transitions=True
    ):
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.all_possible_transitions = all_possible_transitions

    def fit(self, X, y):
        """Train on token sequences ``X`` and their tag sequences ``y``."""
        import sklearn_crfsuite

        self.crf_ = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=self.c1,
            c2=self.c2,
            max_iterations=self.max_iterations,
            all_possible_transitions=self.all_possible_transitions,
        )
        # crfsuite wants str tags in lists, not arrays.
        tags = [[str(tag) for tag in seq] for seq in y]
        self.crf_.fit([crfsuite_features(s) for s in X], tags)
        return self

    def predict(self, X):
        """Return one array of tags per token sequence."""
        predicted = self.crf_.predict([crfsuite_features(s) for s in X])
        return [np.array(tags, dtype=str) for tags in predicted]
