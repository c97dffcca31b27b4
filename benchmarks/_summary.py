"""How every benchmark prints a seeded figure: the mean and the range over seeds."""

import numpy as np


def mean_range(values, fmt=".4f"):
    """``"mean (min–max)"`` of ``values`` in the format ``fmt``; the value alone
    when there is one."""
    values = np.asarray(values, dtype=float)
    if values.size == 1:
        return format(values[0], fmt)
    low, high = format(values.min(), fmt), format(values.max(), fmt)
    return f"{format(values.mean(), fmt)} ({low}–{high})"
