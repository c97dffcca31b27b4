"""
======================
A tag confusion matrix
======================

Which tags does a tagger confuse? The taggers return one array of tags per
sequence; :func:`numpy.concatenate` flattens them (and the true tag sequences) into
one label per token, which is what
:class:`~sklearn.metrics.ConfusionMatrixDisplay` reads. The flat metrics of
:mod:`skrnn.metrics` do the same flattening, with a check that each predicted
sequence is as long as the true one.

On :func:`~skrnn.datasets.make_tagging` data the HMM mostly errs on the ambiguous
words, whose tag depends on the previous tag in a way its factorisation cannot
express; the RNN learns that dependency.
"""

# %%
# Fit both taggers on the same split
# ----------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from skrnn import HMMTagger, RNNTagger
from skrnn.datasets import make_tagging
from skrnn.metrics import flat_accuracy_score, flat_classification_report

# The short runs here stop at max_iter on purpose.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_tagging(n_sequences=400, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

taggers = {
    "HMMTagger()": HMMTagger(),
    "RNNTagger(hidden_size=32, num_layers=1)": RNNTagger(
        hidden_size=32, num_layers=1, learning_rate=0.01, max_iter=20, random_state=0
    ),
}
predictions = {}
for name, tagger in taggers.items():
    predictions[name] = tagger.fit(X_train, y_train).predict(X_test)
    print(
        f"{name}: token accuracy {flat_accuracy_score(y_test, predictions[name]):.3f}"
    )

# %%
# The per-tag report of the HMM
# -----------------------------
print(flat_classification_report(y_test, predictions["HMMTagger()"], digits=3))

# %%
# Confusion matrices, normalised over the true tags
# -------------------------------------------------
y_flat = np.concatenate(y_test)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for ax, (name, pred) in zip(axes, predictions.items(), strict=True):
    ConfusionMatrixDisplay.from_predictions(
        y_flat,
        np.concatenate(pred),
        normalize="true",
        values_format=".2f",
        cmap="Blues",
        colorbar=False,
        ax=ax,
    )
    ax.set_title(name, fontsize=10)
plt.show()
