"""
=========================================
A language model: perplexity and samples
=========================================

:class:`~skrnn.RNNLanguageModel` learns P(next word | words so far) from raw
sentences, by truncated backpropagation through time over the corpus cut into
parallel streams. Here it learns the sentences of a small synthetic grammar (nouns
and verbs agree in number, noun phrases nest); we follow its validation perplexity
epoch by epoch with ``warm_start``, compare the full and the class-factorised
softmax, and sample a few sentences from it.

A uniform guess over the vocabulary has a perplexity equal to the vocabulary size
(here about 44 words and the end token); the grammar itself, with its random choices,
sets the floor.
"""

# %%
# Fit epoch by epoch
# ------------------
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNLanguageModel
from skrnn._lm_demo import make_grammar

warnings.filterwarnings("ignore", category=ConvergenceWarning)

train = make_grammar(1500, random_state=0)
valid = make_grammar(300, random_state=1)
n_words = len({word for sentence in train for word in sentence})

curves = {}
for softmax in ("full", "class"):
    model = RNNLanguageModel(
        softmax=softmax,
        hidden_size=48,
        embedding_dim=48,
        batch_size=16,
        bptt_steps=20,
        max_iter=1,
        warm_start=True,  # each fit adds one epoch
        random_state=0,
    )
    curves[softmax] = []
    for _ in range(6):
        model.fit(train)
        curves[softmax].append(model.perplexity(valid))
    print(f"{softmax:>5} softmax: validation perplexity {curves[softmax][-1]:.2f}")

# %%
# Perplexity per epoch
# --------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
for softmax, curve in curves.items():
    ax.plot(range(1, len(curve) + 1), curve, marker="o", label=f"{softmax} softmax")
ax.axhline(n_words + 1, color="grey", linestyle=":", label="uniform guess")
ax.set_xlabel("epoch")
ax.set_ylabel("validation perplexity")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()

# %%
# Samples
# -------
# ``generate`` samples sentences until the end token, reproducibly with
# ``random_state``; ``temperature`` below 1 sharpens the distribution.
for sentence in model.generate(5, max_length=20, temperature=0.8, random_state=0):
    print(" ".join(sentence))
