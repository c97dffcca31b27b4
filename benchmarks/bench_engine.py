"""A profile of the engine alone: one training epoch (and one inference pass) of an
EWT-shaped tagging workload, without the estimators around it.

The workload has the shape of Universal Dependencies English EWT's training set:
12,544 synthetic sequences whose lengths follow a gamma law fitted to EWT (mean 16.3,
standard deviation 12.4, at most 159 tokens), token ids from a Zipf-like law over a
vocabulary of 20,000, 17 tags, an embedding of 100, minibatches of 32 sequences cut
from length-sorted order, plain SGD (learning rate 0.1) with global-norm clipping
at 5, float32, one BLAS thread. Each figure is the median of ``--repeats`` epochs.

This is a profile, not a result: what users call is measured, against PyTorch, by
``benchmarks/bench_estimators.py``. (An earlier version timed torch here too, with
per-batch gathers inside its clock and a time-major layout; that handicapped torch
and was dropped.)

Run ``python benchmarks/bench_engine.py`` (add ``--quick`` for a smoke run).
"""

import argparse
import resource
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skrnn._engine import (
    OPTIMIZERS,
    SequenceNetwork,
    clip_grad_norm,
    length_batches,
    make_batch,
)

N_SEQUENCES = 12_544
VOCABULARY = 20_000
EMBEDDING = 100
N_TAGS = 17
BATCH_SIZE = 32
LEARNING_RATE = 0.1
CLIP_NORM = 5.0
SEED = 0


def ewt_like_data(n_sequences, seed=SEED):
    """Flat ids ``(n_steps, 1)``, flat tags, lengths and offsets of synthetic data."""
    rng = np.random.default_rng(seed)
    # gamma(shape, scale) with EWT's mean 16.3 and standard deviation 12.4
    shape, scale = (16.3 / 12.4) ** 2, 12.4**2 / 16.3
    lengths = np.clip(np.rint(rng.gamma(shape, scale, n_sequences)), 1, 159)
    lengths = lengths.astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n_steps = int(offsets[-1])
    ranks = np.arange(1, VOCABULARY + 1)
    p = 1.0 / (ranks + 2.7)
    ids = rng.choice(VOCABULARY, size=n_steps, p=p / p.sum())
    # tags depend on the token (mostly), so that the task is learnable
    tags = np.where(
        rng.random(n_steps) < 0.9, ids % N_TAGS, rng.integers(0, N_TAGS, n_steps)
    )
    return ids.reshape(-1, 1), tags, lengths, offsets


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------- skrnn


class SkrnnRunner:
    name = "skrnn"

    def __init__(self, data, cell, hidden, bidirectional):
        self.ids, self.tags, self.lengths, self.offsets = data
        self.net = SequenceNetwork(
            N_TAGS,
            vocab_sizes=(VOCABULARY,),
            embedding_dims=(EMBEDDING,),
            cell=cell,
            hidden_size=hidden,
            bidirectional=bidirectional,
            dtype=np.float32,
        )
        self.params = self.net.init_params(np.random.default_rng(SEED))

    def _batch(self, index):
        return make_batch(
            index, self.offsets, self.lengths, ids=self.ids, targets=self.tags
        )

    # One BLAS thread, as skrnn's estimators run the engine (skrnn/_base.py): the
    # per-step GEMMs are small, and a second thread stalls when a core is busy.
    @threadpool_limits.wrap(limits=1, user_api="blas")
    def train_epoch(self, rng, n_batches=None):
        opt = OPTIMIZERS["sgd"](learning_rate=LEARNING_RATE)
        losses = []
        for index in length_batches(self.lengths, BATCH_SIZE, rng)[:n_batches]:
            batch = self._batch(index)
            loss, grads = self.net.loss_and_grad(self.params, batch)
            clip_grad_norm(grads, CLIP_NORM)
            opt.update(self.params, grads)
            losses.append(loss)
        return float(np.mean(losses))

    @threadpool_limits.wrap(limits=1, user_api="blas")
    def infer(self):
        n_correct = 0
        for index in length_batches(self.lengths, BATCH_SIZE):
            batch = self._batch(index)
            log_proba = self.net.predict_log_proba(self.params, batch)
            n_correct += int((log_proba.argmax(axis=1) == batch.targets).sum())
        return n_correct / self.lengths.sum()


# ---------------------------------------------------------------------------- timing


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def bench_config(data, cell, hidden, bidirectional, repeats):
    runner = SkrnnRunner(data, cell, hidden, bidirectional)
    runner.train_epoch(np.random.default_rng(SEED), n_batches=20)  # warm-up
    train, infer = [], []
    for repeat in range(repeats):
        train.append(timed(runner.train_epoch, np.random.default_rng(SEED + repeat)))
        infer.append(timed(runner.infer))
    return statistics.median(train), statistics.median(infer)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"])
    parser.add_argument("--hidden", nargs="+", type=int, default=[64, 128, 256])
    parser.add_argument(
        "--directions", nargs="+", type=int, choices=(1, 2), default=[1, 2]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequences", type=int, default=N_SEQUENCES)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: rnn, H=64, 1,000 sequences"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.cells, args.hidden, args.directions = ["rnn"], [64], [1]
        args.repeats, args.sequences = 1, 1000

    data = ewt_like_data(args.sequences)
    lengths = data[2]
    print(
        f"numpy {np.__version__}; {lengths.size} sequences, {lengths.sum()} tokens, "
        f"mean length {lengths.mean():.1f}, max {lengths.max()}; "
        f"median of {args.repeats} repeats"
    )
    print(
        f"{'cell':5} {'H':>4} {'dir':>3} {'train s/epoch':>14} {'inference s':>12}"
        f" {'RSS MB':>7}"
    )
    for cell in args.cells:
        for hidden in args.hidden:
            for n_dir in args.directions:
                train, infer = bench_config(
                    data, cell, hidden, n_dir == 2, args.repeats
                )
                print(
                    f"{cell:5} {hidden:>4} {n_dir:>3} {train:14.2f} {infer:12.2f}"
                    f" {peak_rss_mb():7.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
