"""Taggers on small data: 5-fold cross-validation on the first N sentences of
UD English EWT dev, HMMTagger against RNNTagger (issue 12's third goal).

Usage::

    python benchmarks/bench_small_data.py --data DIR [--sizes 100,400,1600]
        [--seeds 0,1,2] [--rnn-params '{"batch_size": 8}']
        [--embeddings none lm glove50]

The folds are ``KFold(5)`` without shuffling, as ``cross_val_score(model, X, y,
cv=5)`` makes them; the RNN's figure is the mean and range over ``--seeds``
(its ``random_state``), each the mean of the 5 folds. Time is the mean fit +
score time per fold. Dev, not test: this is where the small-data schedule is
chosen.

``--embeddings`` gives one RNNTagger column per source of pretrained vectors:
``none`` (the defaults), ``lm`` (an ``RNNLanguageModel(max_iter=2,
random_state=0)`` pretrained first on the tag-free text of EWT train plus PTB
train; its fit time is printed) and ``glove50`` (GloVe 6B 50d, see
``_glove.py``).
"""

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from _glove import glove_path
from _summary import mean_range
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate

from skrnn import HMMTagger, RNNLanguageModel, RNNTagger
from skrnn.datasets import load_conllu, load_word_vectors


def cv_accuracy(model, X, y):
    """Mean 5-fold token accuracy and mean seconds (fit + score) per fold."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = cross_validate(model, X, y, cv=5)
    seconds = result["fit_time"] + result["score_time"]
    return result["test_score"].mean(), seconds.mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--sizes", default="100,400,1600")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--rnn-params", default="{}", help="JSON of RNNTagger params")
    parser.add_argument(
        "--embeddings", nargs="+", default=["none"], choices=["none", "lm", "glove50"]
    )
    args = parser.parse_args()
    if args.data is None:
        parser.error("give --data or set SKRNN_DATA_DIR")
    dev = Path(args.data) / "ud_english_ewt" / "en_ewt-ud-dev.conllu"
    X_all, y_all = load_conllu(dev)
    rnn_params = json.loads(args.rnn_params)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"RNNTagger params {rnn_params or 'defaults'}"
    )
    sources = {name: pretrained(name, args.data) for name in args.embeddings}
    header = "| sentences | HMMTagger() | s/fold |"
    for name in sources:
        header += f" RNNTagger(embeddings={name}) (mean, range over seeds) | s/fold |"
    print(header)
    print("|---:" * (3 + 2 * len(sources)) + "|")
    for size in (int(s) for s in args.sizes.split(",")):
        X, y = X_all[:size], y_all[:size]
        hmm_score, hmm_time = cv_accuracy(HMMTagger(), X, y)
        row = f"| {size} | {hmm_score:.4f} | {hmm_time:.2f} |"
        for embeddings in sources.values():
            runs = [
                cv_accuracy(
                    RNNTagger(random_state=seed, embeddings=embeddings, **rnn_params),
                    X,
                    y,
                )
                for seed in seeds
            ]
            scores, times = np.array(runs).T
            row += f" {mean_range(scores)} | {times.mean():.1f} |"
        print(row, flush=True)


def pretrained(name, data):
    """The ``embeddings`` of a column: None, a language model pretrained on
    unlabelled text, or GloVe."""
    if name == "none":
        return None
    start = time.perf_counter()
    if name == "glove50":
        source = load_word_vectors(glove_path())
    else:
        data = Path(data)
        text, _ = load_conllu(data / "ud_english_ewt" / "en_ewt-ud-train.conllu")
        with open(data / "ptb" / "ptb.train.txt", encoding="utf-8") as f:
            text += [line.split() for line in f if line.strip()]
        source = RNNLanguageModel(max_iter=2, random_state=0).fit(text)
    print(f"# {name}: {time.perf_counter() - start:.0f} s to read or pretrain")
    return source


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"# total {time.perf_counter() - start:.0f} s")
