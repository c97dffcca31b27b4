"""The language-model demo behind ``python -m skrnn lm``, and its synthetic data.

``make_grammar`` samples sentences from a small probabilistic grammar (subject
and verb agree in number, optional adjectives, prepositional phrases and
relative clauses), so that a model has structure to learn that a bigram cannot
fully capture; ``run_lm_demo`` fits RNNLanguageModel on it (or on PTB with a
data directory) and prints the perplexity per epoch and a few samples.
"""

import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

__all__ = ["make_grammar", "run_lm_demo"]

_DETERMINERS = {"sg": ["the", "a", "this", "every"], "pl": ["the", "some", "these"]}
_NOUNS = {
    "sg": ["dog", "cat", "bird", "child", "teacher", "farmer"],
    "pl": ["dogs", "cats", "birds", "children", "teachers", "farmers"],
}
_VERBS = {
    "sg": ["sees", "chases", "likes", "follows", "hears"],
    "pl": ["see", "chase", "like", "follow", "hear"],
}
_INTRANSITIVE = {"sg": ["sleeps", "runs", "sings"], "pl": ["sleep", "run", "sing"]}
_ADJECTIVES = ["big", "small", "old", "happy", "quiet"]
_PREPOSITIONS = ["near", "behind", "with"]


def make_grammar(n_sequences=2000, random_state=None):
    """Sample token sequences from a small English-like grammar.

    ``S -> NP VP``; ``NP -> Det Adj* N [PP | that VP]``; ``VP -> V_t NP | V_i``;
    the verb agrees in number with its subject's noun.

    Parameters
    ----------
    n_sequences : int, default=2000
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : list of list of str
    """
    rng = check_random_state(random_state)
    return [_sentence(rng) for _ in range(n_sequences)]


def _sentence(rng):
    subject, number = _noun_phrase(rng, depth=0)
    return subject + _verb_phrase(rng, number, depth=0)


def _noun_phrase(rng, depth):
    number = "sg" if rng.random_sample() < 0.6 else "pl"
    words = [_pick(rng, _DETERMINERS[number])]
    while rng.random_sample() < 0.3:
        words.append(_pick(rng, _ADJECTIVES))
    words.append(_pick(rng, _NOUNS[number]))
    if depth < 2:
        r = rng.random_sample()
        if r < 0.15:
            words += [_pick(rng, _PREPOSITIONS)] + _noun_phrase(rng, depth + 1)[0]
        elif r < 0.25:
            words += ["that"] + _verb_phrase(rng, number, depth + 1)
    return words, number


def _verb_phrase(rng, number, depth):
    if rng.random_sample() < 0.3:
        return [_pick(rng, _INTRANSITIVE[number])]
    return [_pick(rng, _VERBS[number])] + _noun_phrase(rng, depth + 1)[0]


def _pick(rng, words):
    return words[rng.randint(len(words))]


def _read_ptb(data_dir):
    """PTB's train/valid/test files from ``data_dir`` (or its ``ptb/``)."""
    root = Path(data_dir)
    if not (root / "ptb.train.txt").exists() and (root / "ptb").is_dir():
        root = root / "ptb"
    splits = {}
    for name in ("train", "valid", "test"):
        path = root / f"ptb.{name}.txt"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found; --data must be a directory with Mikolov's "
                "ptb.train.txt, ptb.valid.txt and ptb.test.txt."
            )
        with open(path) as f:
            splits[name] = [line.split() for line in f]
    return splits


def run_lm_demo(data_dir=None, verbose=0, max_iter=None, n_sequences=4000):
    """Fit RNNLanguageModel and print the perplexity per epoch and samples.

    Parameters
    ----------
    data_dir : str or None, default=None
        A directory with PTB (``ptb.train.txt`` ...); None uses ``n_sequences``
        sentences of :func:`make_grammar` (plus 500 held-out ones).
    verbose : int, default=0
        Passed to the model (its own per-epoch lines).
    max_iter : int or None, default=None
        Epochs; None means 6 on PTB (the defaults) and 10 on the grammar.
    n_sequences : int, default=4000
        Training sentences of the synthetic grammar.

    Returns
    -------
    model : RNNLanguageModel
    """
    from .language_model import RNNLanguageModel

    if data_dir is None:
        train = make_grammar(n_sequences, random_state=0)
        test = make_grammar(500, random_state=1)
        params = dict(hidden_size=64, embedding_dim=64, batch_size=16, bptt_steps=20)
        epochs = 10 if max_iter is None else max_iter
        label = f"synthetic grammar ({n_sequences} sentences)"
    else:
        splits = _read_ptb(data_dir)
        train, test = splits["train"], splits["test"]
        params, epochs = {}, 6 if max_iter is None else max_iter
        label = f"Penn Treebank ({data_dir})"
    model = RNNLanguageModel(
        **params, max_iter=1, warm_start=True, random_state=0, verbose=verbose
    )
    print(f"RNNLanguageModel on {label}: {model.get_params()['softmax']} softmax")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # warm_start: one epoch per fit; the schedule counts n_iter_
            model.fit(train)
        elapsed = time.perf_counter() - start
        train_ppl = np.exp(model.loss_curve_[-1])
        print(
            f"epoch {epoch:2d}  train perplexity {train_ppl:8.2f}  test perplexity "
            f"{model.perplexity(test):8.2f}  ({elapsed:.0f}s)",
            flush=True,
        )
    print("samples:")
    for sentence in model.generate(5, max_length=30, random_state=0):
        print("  " + " ".join(sentence))
    return model
