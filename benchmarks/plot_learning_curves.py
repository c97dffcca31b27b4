"""Learning curves of HMMTagger and RNNTagger on UD English EWT (issue 12's
third goal): test accuracy against the number of training sentences.

Usage::

    python benchmarks/plot_learning_curves.py --data DIR [--pool 1600]
        [--seeds 0,1,2] [--out docs/images/learning_curves.png]

``sklearn.model_selection.learning_curve`` with ``cv=5`` (unshuffled folds, as
``cross_val_score`` makes them) over the first ``--pool`` sentences of EWT dev,
training on 5% to 100% of each fold's 80%; both taggers with their defaults.
The RNN's line is the mean over ``--seeds`` (its ``random_state``) with the band
from the lowest to the highest seed. Prints the table and writes the plot
(matplotlib, ``pip install "skrnn[bench]"``).
"""

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from _summary import mean_range
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import learning_curve

from skrnn import HMMTagger, RNNTagger
from skrnn.datasets import load_conllu

TRAIN_SIZES = np.array([0.05, 0.1, 0.2, 0.4, 0.7, 1.0])


def curve(model, X, y):
    """Training sizes, and the mean test accuracy over the 5 folds at each."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sizes, _, test_scores = learning_curve(
            model, X, y, train_sizes=TRAIN_SIZES, cv=5
        )
    return sizes, test_scores.mean(axis=1)


def plot(sizes, hmm, rnn, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise SystemExit(
            'The plot needs matplotlib: pip install "skrnn[bench]"'
        ) from error
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sizes, hmm, "o-", label="HMMTagger()")
    ax.plot(
        sizes,
        rnn.mean(axis=0),
        "s-",
        label=f"RNNTagger(), seeds: mean and range ({len(rnn)})",
    )
    ax.fill_between(sizes, rnn.min(axis=0), rnn.max(axis=0), alpha=0.25)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training sentences (UD English EWT)")
    ax.set_ylabel("token accuracy, 5-fold CV")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--pool", type=int, default=1600)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="docs/images/learning_curves.png")
    args = parser.parse_args()
    if args.data is None:
        parser.error("give --data or set SKRNN_DATA_DIR")
    dev = Path(args.data) / "ud_english_ewt" / "en_ewt-ud-dev.conllu"
    X, y = load_conllu(dev)
    X, y = X[: args.pool], y[: args.pool]
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes, hmm = curve(HMMTagger(), X, y)
    rnn = np.array([curve(RNNTagger(random_state=s), X, y)[1] for s in seeds])
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores; first {args.pool} "
        f"sentences of EWT dev, seeds {seeds}"
    )
    print("| training sentences | HMMTagger() | RNNTagger() mean (range) |")
    print("|---:|---:|---:|")
    for i, size in enumerate(sizes):
        print(
            f"| {size} | {hmm[i]:.4f} | {mean_range(rnn[:, i])} |"
        )
    plot(sizes, hmm, rnn, args.out)
    print(f"# wrote {args.out}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"# total {time.perf_counter() - start:.0f} s")
