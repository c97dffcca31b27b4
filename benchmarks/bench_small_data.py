"""Taggers on small data: 5-fold cross-validation on the first N sentences of
UD English EWT dev, HMMTagger against RNNTagger (issue 12's third goal).

Usage::

    python benchmarks/bench_small_data.py --data DIR [--sizes 100,400,1600]
        [--seeds 0,1,2] [--rnn-params '{"batch_size": 8}']

The folds are ``KFold(5)`` without shuffling, as ``cross_val_score(model, X, y,
cv=5)`` makes them; the RNN's figure is the mean and range over ``--seeds``
(its ``random_state``), each the mean of the 5 folds. Time is the mean fit +
score time per fold. Dev, not test: this is where the small-data schedule is
chosen.
"""

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from _summary import mean_range
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate

from skrnn import HMMTagger, RNNTagger
from skrnn.datasets import load_conllu


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
    print(
        "| sentences | HMMTagger() | s/fold | RNNTagger (mean, range over seeds) "
        "| s/fold |"
    )
    print("|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        X, y = X_all[:size], y_all[:size]
        hmm_score, hmm_time = cv_accuracy(HMMTagger(), X, y)
        runs = [
            cv_accuracy(RNNTagger(random_state=seed, **rnn_params), X, y)
            for seed in seeds
        ]
        scores, times = np.array(runs).T
        print(
            f"| {size} | {hmm_score:.4f} | {hmm_time:.2f} | {mean_range(scores)} "
            f"| {times.mean():.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"# total {time.perf_counter() - start:.0f} s")
