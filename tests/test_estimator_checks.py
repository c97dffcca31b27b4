"""scikit-learn's estimator checks on every public estimator, with default
parameters and no expected failures (DESIGN.md)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import HMMTagger, RNNClassifier, RNNLanguageModel, RNNTagger


@parametrize_with_checks(
    [HMMTagger(), RNNClassifier(), RNNLanguageModel(), RNNTagger()]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
