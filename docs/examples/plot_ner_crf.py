"""
=======================================================
Named entities: span rules and a CRF on the RNN tagger
=======================================================

A softmax tagger picks every tag on its own, so nothing stops it from writing
``O I-PER`` (an entity that never began) or ``B-LOC I-ORG`` (one that changes type
halfway). :class:`~skrnn.RNNTagger` has two remedies, described in the user guide's
page on structured output:

- **span rules** (``tag_scheme``, on by default for entity tags): ``predict`` returns
  the most probable tag sequence that keeps to the IOB2 or IOBES rules; the network
  and its training are unchanged;
- **a CRF output** (``output="crf"``): learned scores of every tag transition on top
  of the network's per-token scores, trained with the network on whole tag
  sequences, under the same rules.

This example compares them on :func:`~skrnn.datasets.make_entity_tagging`, a
synthetic task in which the word before a span gives its type (``mr`` before a
person, ``in`` before a place, ``at`` before an organisation) while the names
themselves are shared between types. The networks are small (one bidirectional GRU
layer of 32 units), trained for five epochs on 25, 50 and 100 sentences with three
seeds each, and scored on 200 other sentences. Each variant is also run without
the rules (``tag_scheme=None``), to separate what the rules do from what the CRF
does.
"""

# %%
# Fit four variants on growing training sets
# ------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNTagger
from skrnn.datasets import make_entity_tagging
from skrnn.metrics import entity_f1_score, invalid_transitions

# The short runs here stop at max_iter on purpose.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_entity_tagging(n_sequences=300, random_state=0)
X_test, y_test = X[100:], y[100:]
print(" ".join(f"{word}/{tag}" for word, tag in zip(X[2], y[2], strict=True)))

variants = {
    "softmax, no rules": dict(output="softmax", tag_scheme=None),
    "softmax + IOB2 rules": dict(output="softmax"),  # tag_scheme="auto" finds IOB2
    "CRF, no rules": dict(output="crf", tag_scheme=None),
    "CRF + IOB2 rules": dict(output="crf"),
}
sizes = [25, 50, 100]
seeds = [0, 1, 2]
f1 = {name: np.zeros((len(sizes), len(seeds))) for name in variants}
invalid = {name: np.zeros((len(sizes), len(seeds))) for name in variants}
crf_tagger = None
for i, n in enumerate(sizes):
    for j, seed in enumerate(seeds):
        for name, kwargs in variants.items():
            tagger = RNNTagger(
                hidden_size=32, num_layers=1, max_iter=5, random_state=seed, **kwargs
            )
            y_pred = tagger.fit(X[:n], y[:n]).predict(X_test)
            f1[name][i, j] = entity_f1_score(y_test, y_pred)
            invalid[name][i, j] = invalid_transitions(y_pred, scheme="IOB2")
            if name == "CRF + IOB2 rules" and n == sizes[-1] and seed == 0:
                crf_tagger = tagger

print(f"{'':22}" + "".join(f"{n:>14} sent." for n in sizes))
for name in variants:
    cells = "".join(
        f"  F1 {f1[name][i].mean():.3f} ({invalid[name][i].mean():4.1f})"
        for i in range(len(sizes))
    )
    print(f"{name:22}{cells}")
print("entity F1, mean of 3 seeds (in brackets: invalid transitions in the output)")

# %%
# Entity F1 and invalid spans
# ---------------------------
# Bars are means over the three seeds, the black lines their range.
#
# - The rules remove every invalid transition, for the softmax and the CRF alike;
#   without them both write broken spans when trained on few sentences.
# - For the softmax the rules act at decoding only (same network, same weights);
#   here they also add a little F1.
# - The CRF trained *under* the rules learns most from few sentences. Without the
#   rules the CRF scores about as the softmax does, so on this data its gain comes
#   from the rules inside its loss rather than from the transition scores it
#   learns (see the last figure). A likely reason: the CRF's probabilities are
#   spread over valid sequences only, so once a span has begun as ``B-ORG`` the
#   loss does not ask the network to tell ``I-ORG`` from ``I-PER`` on the tokens
#   that follow; the rules settle it.
# - Given 100 sentences all four tag this easy task almost perfectly: here the
#   differences are a small-data effect. How they turn out on real data is in
#   the benchmarks (NER on CoNLL-2002 Spanish).
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
positions = np.arange(len(sizes))
width = 0.2
for k, name in enumerate(variants):
    offset = (k - 1.5) * width
    for ax, values in zip(axes, (f1[name], invalid[name]), strict=True):
        mean = values.mean(axis=1)
        err = np.stack([mean - values.min(axis=1), values.max(axis=1) - mean])
        ax.bar(positions + offset, mean, width, yerr=err, capsize=3, label=name)
for ax in axes:
    ax.set_xticks(positions, [f"{n} sentences" for n in sizes])
    ax.set_xlabel("training set")
axes[0].set_ylabel("entity F1 (test)")
axes[0].set_ylim(0.5, 1.02)
axes[1].set_ylabel("invalid transitions in the predictions")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside upper center", ncols=4, fontsize=9)
plt.show()

# %%
# The learned transition scores
# -----------------------------
# ``transitions_[i, j]`` is the CRF's score of tag ``j`` right after tag ``i``
# (here of the CRF with rules, seed 0, trained on 100 sentences);
# ``start_transitions_`` and ``end_transitions_`` score the first and the last
# tag, drawn as an extra row and column. The scores start at zero and are trained
# with the network. Grey cells are ``-inf``: what the IOB2 rules forbid, in
# training and in decoding (an ``I-`` tag after ``O``, after another type or at
# the start; the corner is no transition). After five epochs the allowed scores
# are a few tenths at most, and mostly sensible: ``B-X`` after ``B-Y`` (two
# entities in a row, which this data never has) scores lower than ``O`` after
# ``I-X``.
tags = crf_tagger.classes_.tolist()
K = len(tags)
scores = np.full((K + 1, K + 1), -np.inf)
scores[:K, :K] = crf_tagger.transitions_
scores[K, :K] = crf_tagger.start_transitions_  # a row for the sentence start
scores[:K, K] = crf_tagger.end_transitions_  # a column for its end
masked = np.ma.masked_invalid(scores)
limit = np.abs(masked).max()
cmap = plt.get_cmap("RdBu_r").copy()
cmap.set_bad("0.8")

fig, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
image = ax.imshow(masked, cmap=cmap, vmin=-limit, vmax=limit)
for i in range(K + 1):
    for j in range(K + 1):
        if np.isfinite(scores[i, j]):
            ax.text(j, i, f"{scores[i, j]:.2f}", ha="center", va="center", fontsize=8)
ax.set_xticks(range(K + 1), tags + ["<end>"], rotation=45, ha="right")
ax.set_yticks(range(K + 1), tags + ["<start>"])
ax.set_xlabel("next tag")
ax.set_ylabel("previous tag")
ax.set_title("CRF transition scores (grey: forbidden by IOB2)", fontsize=10)
fig.colorbar(image, ax=ax, shrink=0.8)
plt.show()
