"""
===========================================
A language model as a small tagger's start
===========================================

Tagged sentences are expensive; untagged text is not. Here a
:class:`~skrnn.RNNLanguageModel` is fitted on 3,000 sentences without tags, and
passed as ``embeddings=`` to :class:`~skrnn.RNNTagger`, which then learns from a
few dozen tagged sentences. The language model's input embeddings have learnt
which words occur in the same contexts, so words that the small tagged set shows
rarely, or never, arrive with a useful vector.

The data is :func:`~skrnn.datasets.make_tagging`'s synthetic language: 1,000
words in 8 word classes (tags) that follow a Markov chain, plus ambiguous words
whose tag depends on the previous one. Its words are ``w0``, ``w1``, ...: their
spelling says nothing of their tag, so a tagger can learn a word only from
its occurrences.
"""

# %%
# Unlabelled text, a test set and growing tagged sets
# ---------------------------------------------------
import time
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNLanguageModel, RNNTagger
from skrnn.datasets import make_tagging
from skrnn.metrics import flat_accuracy_score

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_tagging(n_sequences=4000, vocabulary_size=1000, n_tags=8, random_state=0)
unlabelled = X[:3000]  # the tags of these are never used
X_test, y_test = X[3000:3500], y[3000:3500]
X_pool, y_pool = X[3500:], y[3500:]

start = time.perf_counter()
lm = RNNLanguageModel(hidden_size=32, embedding_dim=32, num_layers=1, random_state=0)
lm.fit(unlabelled)
print(
    f"language model: {time.perf_counter() - start:.1f} s, "
    f"test perplexity {lm.perplexity(X_test):.1f}"
)

# %%
# The tagger with and without the language model
# ----------------------------------------------
sizes = [25, 50, 100, 200]
accuracy = {"random embeddings": [], "embeddings=lm": []}
for n in sizes:
    for name, embeddings in (("random embeddings", None), ("embeddings=lm", lm)):
        tagger = RNNTagger(embeddings=embeddings, random_state=0)
        tagger.fit(X_pool[:n], y_pool[:n])
        accuracy[name].append(flat_accuracy_score(y_test, tagger.predict(X_test)))
    print(
        f"{n:4d} tagged sentences: "
        + ", ".join(f"{name} {acc[-1]:.3f}" for name, acc in accuracy.items())
    )

# %%
# Accuracy against the size of the tagged set
# -------------------------------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, values in accuracy.items():
    ax.plot(sizes, values, marker="o", label=name)
ax.set_xscale("log")
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_xlabel("tagged training sentences")
ax.set_ylabel("test token accuracy")
ax.legend()
fig.tight_layout()
