"""The base of the objects that hold a group of an estimator's parameters
(``CharCNN``, ``WordFeatures``): nested parameters, as a pipeline's steps'."""

from sklearn.base import BaseEstimator


class _Settings(BaseEstimator):
    """Settings, not a model: a ``BaseEstimator`` for ``get_params``,
    ``set_params``, ``clone`` and its repr, compared by value."""

    def __eq__(self, other):
        # as scikit-learn's kernels: equal when their parameters are, so that a
        # clone's settings equal the original's
        return type(self) is type(other) and self.get_params() == other.get_params()

    __hash__ = None
