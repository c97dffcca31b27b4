"""
=====================================================
Classifying multichannel series: which pooling?
=====================================================

:class:`~skrnn.RNNClassifier` classifies whole sequences, including numeric series
of different lengths passed as a list of ``(T_i, n_channels)`` arrays. Here each
series is Gaussian noise on three channels with one short burst somewhere; the
channel that bursts is the class (:func:`~skrnn.datasets.make_multichannel_series`).

``pooling`` decides how the hidden states of all steps become the one vector the
softmax reads. A left-to-right RNN that classifies from its last state
(``pooling="last"``) must carry the burst through every step of noise that follows
it. Max pooling over time (the default) takes each unit's strongest response
wherever it happened; mean pooling averages it with the noise. A logistic regression
on per-channel maxima, a hand-made feature that knows where the answer is, gives a
reference point.
"""

# %%
# Data: series of 30 to 80 steps
# ------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skrnn import RNNClassifier
from skrnn.datasets import make_multichannel_series

# The short runs here stop at max_iter on purpose.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_multichannel_series(
    500,
    n_channels=3,
    n_classes=3,
    n_timesteps=80,
    min_timesteps=30,
    burst_length=4,
    burst_amplitude=2.0,
    random_state=0,
)
X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
print(len(X), "series, lengths", min(map(len, X)), "to", max(map(len, X)))

# %%
# One classifier per pooling
# --------------------------
# A small ``dropout`` suits numeric series (the default, 0.6, was tuned on short
# texts); ``early_stopping=False`` trains every model for the same ``max_iter``
# epochs, so the poolings are compared at equal training.
scores = {}
for pooling in ("last", "mean", "max"):
    clf = RNNClassifier(
        pooling=pooling,
        bidirectional=False,
        hidden_size=24,
        dropout=0.1,
        early_stopping=False,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    scores[f'pooling="{pooling}"'] = clf.score(X_test, y_test)


def channel_maxima(series):
    return np.array([s.max(axis=0) for s in series])


reference = LogisticRegression().fit(channel_maxima(X_train), y_train)
scores["channel maxima\n+ LogisticRegression"] = reference.score(
    channel_maxima(X_test), y_test
)
for name, score in scores.items():
    print(f"{name.replace(chr(10), ' '):<40} test accuracy {score:.3f}")

# %%
# One series of each class, and the accuracies
# --------------------------------------------
fig, axes = plt.subplots(1, 4, figsize=(15, 3.2), layout="constrained")
for c, ax in enumerate(axes[:3]):
    series = X_train[int(np.flatnonzero(y_train == c)[0])]
    ax.plot(series, lw=0.8, label=[f"channel {k}" for k in range(3)])
    ax.set(title=f"class {c}: burst on channel {c}", xlabel="time step")
axes[0].legend(fontsize=8, loc="lower left")
axes[3].barh(list(scores), list(scores.values()), color=["C1", "C1", "C1", "C7"])
axes[3].set(
    xlim=(0, 1), xlabel="test accuracy", title="pooling vs. a hand-made feature"
)
axes[3].invert_yaxis()
plt.show()
