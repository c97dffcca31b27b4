# cython: language_level=3
"""What every compiled kernel shares: the float type."""

ctypedef fused real:
    float
    double
