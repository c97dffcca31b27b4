"""scikit-learn's estimator checks on every public estimator, with default
parameters and no expected failures (DESIGN.md)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import (
    HMMTagger,
    RNNClassifier,
    RNNLanguageModel,
    RNNTagger,
    VotingTagger,
    WordFeatures,
)


@parametrize_with_checks(
    [
        HMMTagger(),
        RNNClassifier(),
        RNNLanguageModel(),
        RNNTagger(),
        RNNTagger(output="crf"),
        # a settings object as a parameter: cloned, compared and set as nested
        # parameters by the checks
        RNNTagger(word_features=WordFeatures(suffix_length=2)),
        # set_random_state reaches only the vote's own parameters, so the
        # idempotence checks need a member seeded here (as scikit-learn's own
        # checks of VotingClassifier use deterministic members).
        VotingTagger([("hmm", HMMTagger()), ("rnn", RNNTagger(random_state=0))]),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
