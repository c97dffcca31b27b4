"""
=====================================
Training curves of the RNN estimators
=====================================

After ``fit``, :class:`~skrnn.RNNTagger` and :class:`~skrnn.RNNClassifier` keep the
record of their training as :class:`~sklearn.neural_network.MLPClassifier` does:
``loss_curve_`` (the mean training loss of each epoch), ``validation_scores_`` (the
accuracy on the held-out ``validation_fraction`` of the training sequences, with
``early_stopping=True``, the default), ``best_validation_score_`` and ``n_iter_``.
``history_`` holds the same numbers as one dict per epoch.

Here three recurrent cells learn the synthetic tagging task of
:func:`~skrnn.datasets.make_tagging`, in which a share of the words are ambiguous and
their tag depends on the previous tag. Early stopping ends each run once the
validation accuracy has not improved for ``n_iter_no_change`` epochs and restores the
parameters of the best epoch (the marked points).
"""

# %%
# Fit one small tagger per cell
# -----------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNTagger
from skrnn.datasets import make_tagging

# The short runs here stop at max_iter on purpose.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_tagging(n_sequences=400, random_state=0)

taggers = {}
for cell in ("rnn", "gru", "lstm"):
    taggers[cell] = RNNTagger(
        cell=cell,
        hidden_size=32,
        num_layers=1,
        learning_rate=0.01,
        max_iter=25,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X, y)
    tagger = taggers[cell]
    print(
        f"{cell:>4}: {tagger.n_iter_} epochs, "
        f"best validation accuracy {tagger.best_validation_score_:.3f}"
    )

# %%
# Plot ``loss_curve_`` and ``validation_scores_``
# -----------------------------------------------
fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for cell, tagger in taggers.items():
    epochs = np.arange(1, tagger.n_iter_ + 1)
    (line,) = ax_loss.plot(epochs, tagger.loss_curve_, marker=".", label=cell)
    ax_val.plot(epochs, tagger.validation_scores_, marker=".", color=line.get_color())
    best = int(np.argmax(tagger.validation_scores_))
    ax_val.plot(
        best + 1,
        tagger.validation_scores_[best],
        "o",
        ms=9,
        mfc="none",
        color=line.get_color(),
    )
ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss_curve_", yscale="log")
ax_val.set(xlabel="epoch", ylabel="token accuracy", title="validation_scores_")
ax_loss.legend(title="cell")
plt.show()

# %%
# The same numbers, epoch by epoch
# --------------------------------
# ``history_`` also records the speed (steps per second) and the elapsed time;
# ``verbose=1`` prints one such line per epoch during ``fit``.
first = taggers["gru"].history_[0]
print(sorted(first))
print({key: round(first[key], 3) for key in ("loss", "validation_score")})
