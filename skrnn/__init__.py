"""skrnn: scikit-learn estimators for sequences on a small NumPy BPTT engine."""

__version__ = "0.1.0.dev0"

__all__ = []
