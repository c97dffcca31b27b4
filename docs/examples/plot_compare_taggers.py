"""
===========================================
HMM against RNN taggers by cross-validation
===========================================

A tagger's sample is a whole sequence, so
:func:`~sklearn.model_selection.cross_val_score` splits between sequences with no
extra help. Scoring needs a flat (token-level) scorer from :mod:`skrnn.metrics`,
because ``scoring="accuracy"`` cannot read lists of tag sequences.

We compare :class:`~skrnn.HMMTagger` with first- and second-order transitions and a
small one-layer :class:`~skrnn.RNNTagger`, left-to-right and bidirectional, by 3-fold
cross-validation, and plot the mean token accuracy with the standard deviation over
the folds as error bars.

On :func:`~skrnn.datasets.make_tagging` data a share of the tokens are ambiguous
words whose tag is a fixed function of the word *and* the previous tag. The HMM's
factorisation :math:`P(y_t \\mid y_{t-1})\\,P(x_t \\mid y_t)` scores the word and
the transition separately and cannot express that interaction; an RNN reads the word
together with a state that encodes the previous tag, and learns it.

When the environment variable ``SKRNN_DATA_DIR`` names the data directory, the
comparison is repeated on the first 1,000 sentences of UD English EWT, where the
picture changes: with little training data and few epochs, the counting HMMs are
close to the RNNs at a fraction of the fit time. (On the full training set the
default ``RNNTagger()`` is more than two points ahead; see :doc:`/benchmarks`.)
"""

# %%
# Models and scorer
# -----------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score

from skrnn import HMMTagger, RNNTagger
from skrnn.datasets import data_dir, load_conllu, make_tagging
from skrnn.metrics import flat_accuracy_scorer

# The short runs here stop at max_iter on purpose.
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def rnn(bidirectional, max_iter):
    # Small and short on purpose: the point is the comparison, not the last point.
    return RNNTagger(
        hidden_size=32,
        num_layers=1,
        bidirectional=bidirectional,
        learning_rate=0.01,
        max_iter=max_iter,
        n_iter_no_change=3,
        random_state=0,
    )


def models(rnn_epochs):
    return {
        "HMM\norder=1": HMMTagger(order=1),
        "HMM\norder=2": HMMTagger(order=2),
        "RNN\nleft-to-right": rnn(False, rnn_epochs),
        "RNN\nbidirectional": rnn(True, rnn_epochs),
    }


def compare(X, y, rnn_epochs):
    scores = {}
    for name, model in models(rnn_epochs).items():
        scores[name] = cross_val_score(model, X, y, cv=3, scoring=flat_accuracy_scorer)
        print(f"{name.replace(chr(10), ' '):<22} {scores[name].round(3)}")
    return scores


# %%
# Synthetic data
# --------------
X, y = make_tagging(n_sequences=400, random_state=0)
results = {"make_tagging(n_sequences=400)": compare(X, y, rnn_epochs=15)}

# %%
# UD English EWT (only with ``SKRNN_DATA_DIR``)
# ---------------------------------------------
root = data_dir()
ewt = None if root is None else root / "ud_english_ewt" / "en_ewt-ud-train.conllu"
if ewt is not None and ewt.exists():
    X_ewt, y_ewt = load_conllu(ewt)
    name = "UD EWT, first 1,000 sentences"
    results[name] = compare(X_ewt[:1000], y_ewt[:1000], rnn_epochs=4)
else:
    print("SKRNN_DATA_DIR is not set: the synthetic comparison only.")

# %%
# Mean and standard deviation over the folds
# ------------------------------------------
fig, axes = plt.subplots(
    1,
    len(results),
    figsize=(4.8 * len(results), 3.8),
    layout="constrained",
    squeeze=False,
)
for ax, (title, scores) in zip(axes[0], results.items(), strict=True):
    names = list(scores)
    means = np.array([scores[n].mean() for n in names])
    stds = np.array([scores[n].std() for n in names])
    ax.bar(names, means, yerr=stds, capsize=6, color=["C0", "C0", "C1", "C1"])
    low = max(0.0, (means - stds).min() - 0.05)
    ax.set(ylim=(low, 1.04), ylabel="token accuracy (3-fold CV)", title=title)
    for i, (m, s) in enumerate(zip(means, stds, strict=True)):
        ax.annotate(
            f"{m:.3f}",
            (i, m + s),
            ha="center",
            va="bottom",
            xytext=(0, 2),
            textcoords="offset points",
        )
plt.show()
