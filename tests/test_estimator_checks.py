"""scikit-learn's estimator checks on every public estimator, with default
parameters and no expected failures (DESIGN.md)."""

import importlib

from sklearn.utils.estimator_checks import parametrize_with_checks

# Each public estimator, listed once; one that is not in the package yet is left
# out rather than failing the import of this module.
ESTIMATOR_NAMES = ["HMMTagger", "RNNClassifier", "RNNTagger"]

_skrnn = importlib.import_module("skrnn")
ESTIMATORS = [
    getattr(_skrnn, name)() for name in ESTIMATOR_NAMES if hasattr(_skrnn, name)
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
