"""The language model's class softmax, NumPy loop against compiled: ms a window.

One window of ``RNNLanguageModel()``'s shape (20 streams of 35 steps: 700
states of ``H = 200``) against real targets: consecutive 700-word stretches of
Penn Treebank's training text, under the frequency classes a default fit
builds on it (about sqrt(V) = 100). The states and weights are random: the
cost does not depend on their values. Timed: the loss with its gradients (a
training step's head) and the log-probabilities alone (validation, ``score``),
each over ``--windows`` windows, with the word half in NumPy
(``SKRNN_ENGINE=numpy``) and compiled (``_kernels.class_softmax``), at 1 and 2
engine threads, BLAS at one thread as in skrnn's fits; rounds alternate and
each figure is the median of ``--rounds``. This is a profile of the head
alone; the epoch users wait for is ``bench_language_model.py``'s.

Run ``python benchmarks/bench_class_softmax.py --data $SKRNN_DATA_DIR``.
"""

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skrnn._engine.gemm import threads
from skrnn._engine.word_softmax import (
    class_softmax_log_prob,
    class_softmax_loss,
    frequency_classes,
)

STEPS, STREAMS, HIDDEN = 35, 20, 200


def ptb_windows(data_dir, n_windows):
    """The class bounds of PTB's vocabulary and ``n_windows`` target windows."""
    root = Path(data_dir)
    root = root / "ptb" if (root / "ptb").is_dir() else root
    with open(root / "ptb.train.txt") as f:
        words = [w for line in f for w in [*line.split(), "<eos>"]]
    counts = Counter(words)
    vocabulary = [w for w, _ in counts.most_common()]  # ids by decreasing count
    index = {w: i for i, w in enumerate(vocabulary)}
    n_classes = max(1, round(np.sqrt(len(vocabulary))))  # as RNNLanguageModel sets it
    bounds = frequency_classes([counts[w] for w in vocabulary], n_classes)
    n = STEPS * STREAMS
    ids = np.array([index[w] for w in words[: n * n_windows]])
    return bounds, len(vocabulary), ids.reshape(n_windows, n)


def time_head(function, windows):
    start = time.perf_counter()
    for targets in windows:
        function(targets)
    return 1e3 * (time.perf_counter() - start) / len(windows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--windows", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("pass --data or set SKRNN_DATA_DIR (the folder holding ptb/)")
    bounds, V, windows = ptb_windows(args.data, args.windows)
    rng = np.random.default_rng(0)
    C = bounds.size - 1
    h = rng.standard_normal((STEPS * STREAMS, HIDDEN)).astype(np.float32)
    W = (0.1 * rng.standard_normal((V, HIDDEN))).astype(np.float32)
    b = np.zeros(V, dtype=np.float32)
    Wc = (0.1 * rng.standard_normal((C, HIDDEN))).astype(np.float32)
    bc = np.zeros(C, dtype=np.float32)
    heads = {
        "loss and gradients": lambda t: class_softmax_loss(h, W, b, Wc, bc, t, bounds),
        "log-probabilities": lambda t: class_softmax_log_prob(
            h, W, b, Wc, bc, t, bounds
        ),
    }
    times = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(args.rounds):
            for engine in ("numpy", "compiled"):
                os.environ["SKRNN_ENGINE"] = engine if engine == "numpy" else ""
                for n_threads in (1, 2):
                    with threads(n_threads):
                        for head, function in heads.items():
                            key = (head, n_threads, engine)
                            times.setdefault(key, []).append(
                                time_head(function, windows)
                            )
    os.environ.pop("SKRNN_ENGINE")
    print(
        f"# PTB: {V} words in {C} classes; windows of {STEPS * STREAMS} targets, "
        f"H={HIDDEN}, float32; median of {args.rounds} rounds of {args.windows} "
        "windows"
    )
    print("| head | threads | NumPy loop (ms) | compiled (ms) | × |")
    print("|---|---:|---:|---:|---:|")
    for head in heads:
        for n_threads in (1, 2):
            numpy_ms = statistics.median(times[(head, n_threads, "numpy")])
            compiled_ms = statistics.median(times[(head, n_threads, "compiled")])
            print(
                f"| {head} | {n_threads} | {numpy_ms:.2f} | {compiled_ms:.2f} "
                f"| {numpy_ms / compiled_ms:.1f} |"
            )


if __name__ == "__main__":
    main()
