"""Peak memory of a grid search over an RNNClassifier with GloVe 6B 50d.

Usage::

    python benchmarks/bench_grid_memory.py --data DIR [--n-jobs 1 2] [--sentences 1000]

An 8-candidate ``GridSearchCV`` (hidden_size x learning_rate x pooling, 3-fold
CV, 24 fits and a refit) of ``RNNClassifier(embeddings=glove50, max_iter=2)`` on
the first ``--sentences`` sentences of SST-2 train. The table (400,000 x 50
float32, 80 MB) is read once by ``load_word_vectors``. Each ``--n-jobs`` runs in
a fresh process; its peak resident memory is the largest sum, sampled every
0.1 s, of the resident sets of the process and of all its descendants (joblib's
workers; pages they share are counted in each, so it is an upper bound). It is
printed beside the same search with scikit-learn's plain clone, which
deep-copies the parameter: that is what ``PretrainedInputMixin.__sklearn_clone__``
avoids. Linux only (it reads /proc).
"""

import argparse
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path


def search(data, n_jobs, sentences, share):
    from _glove import glove_path
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from skrnn import RNNClassifier
    from skrnn.datasets import load_sst2, load_word_vectors

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_sst2(Path(data) / "sst2" / "stsa.binary.train")
    X, y = X[:sentences], y[:sentences]
    glove = load_word_vectors(glove_path())
    estimator = RNNClassifier(embeddings=glove, max_iter=2, random_state=0)
    if not share:  # scikit-learn's own clone: parameters deep-copied
        RNNClassifier.__sklearn_clone__ = BaseEstimator.__sklearn_clone__
    grid = {
        "hidden_size": [32, 64],
        "learning_rate": [0.002, 0.005],
        "pooling": ["max", "mean"],
    }
    peak = _PeakMemory()
    start = time.perf_counter()
    with peak:
        GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs).fit(X, y)
    seconds = time.perf_counter() - start
    print(f"{peak.bytes / 2**30:.2f} {seconds:.0f}")


class _PeakMemory:
    """The largest resident memory of this process and its descendants, sampled
    in a thread while the ``with`` block runs."""

    def __enter__(self):
        self.bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        while True:
            self.bytes = max(self.bytes, _tree_rss(os.getpid()))
            if self._stop.wait(0.1):
                return


def _tree_rss(root):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue  # the process ended
    tree, frontier = {root}, [root]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        tree.update(children)
        frontier = children
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.data is None:
        parser.error("give --data or set SKRNN_DATA_DIR")
    if args.child:
        n_jobs, share = int(args.child[0]), args.child[1] == "shared"
        return search(args.data, n_jobs, args.sentences, share)
    print("| n_jobs | clone | peak resident memory (GiB) | search time (s) |")
    print("|---:|---|---:|---:|")
    for n_jobs in args.n_jobs:
        for share in ("shared", "deep-copied"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--data",
                    args.data,
                    "--sentences",
                    str(args.sentences),
                    "--child",
                    str(n_jobs),
                    share,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            print(f"| {n_jobs} | {share} | {out[0]} | {out[1]} |", flush=True)


if __name__ == "__main__":
    main()
