"""One training epoch (and one inference pass) of an EWT-shaped tagging workload.

The workload has the shape of Universal Dependencies English EWT's training set:
12,544 synthetic sequences whose lengths follow a gamma law fitted to EWT (mean 16.3,
standard deviation 12.4, at most 159 tokens), token ids from a Zipf-like law over a
vocabulary of 20,000, 17 tags, an embedding of 100, minibatches of 32 sequences cut
from length-sorted order, plain SGD (learning rate 0.1) with global-norm clipping
at 5. Every configuration (cell × hidden size × directions) is timed with skrnn's
engine in float32 and, when PyTorch is importable, with ``torch.nn.RNN/GRU/LSTM`` on
padded and on packed batches (``--torch-threads``, default the cores; several values
run one variant each), in the same process, runs alternating, reporting the
median of ``--repeats`` epochs. The ratio is skrnn's time over the faster torch
variant's (below 1: skrnn is faster).

Both engines get the same minibatches, gathered by skrnn's ``make_batch`` inside the
timed loop (torch wraps the arrays with ``torch.from_numpy``).

Run ``python benchmarks/bench_engine.py`` (add ``--quick`` for a smoke run). Torch
belongs in a separate venv, never in the project's::

    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch==2.13.0 numpy scipy scikit-learn
    /work/torchvenv/bin/pip install -e . --no-deps
    /work/torchvenv/bin/python benchmarks/bench_engine.py
"""

import argparse
import os
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


# ---------------------------------------------------------------------------- torch


def torch_runner_class():
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    modules = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

    class Tagger(nn.Module):
        def __init__(self, cell, hidden, bidirectional):
            super().__init__()
            self.embed = nn.Embedding(VOCABULARY, EMBEDDING)
            self.rnn = modules[cell](EMBEDDING, hidden, bidirectional=bidirectional)
            self.out = nn.Linear(hidden * (2 if bidirectional else 1), N_TAGS)

        def forward(self, ids, lengths, valid, packed):
            x = self.embed(ids)  # (T, B, E), time-major like skrnn
            if packed:
                x = pack_padded_sequence(x, lengths, enforce_sorted=False)
                h, _ = self.rnn(x)
                h, _ = pad_packed_sequence(h)
            else:
                h, _ = self.rnn(x)
            # valid steps in skrnn's target order: sequence after sequence
            return self.out(h.transpose(0, 1)[valid])

    class TorchRunner:
        def __init__(self, data, cell, hidden, bidirectional, packed, threads):
            self.ids, self.tags, self.lengths, self.offsets = data
            self.packed = packed
            self.threads = threads
            self.name = f"{'packed' if packed else 'padded'}/{threads}t"
            torch.manual_seed(SEED)
            self.model = Tagger(cell, hidden, bidirectional)
            self.loss = nn.CrossEntropyLoss()

        def _batch(self, index):
            batch = make_batch(
                index, self.offsets, self.lengths, ids=self.ids, targets=self.tags
            )
            return (
                torch.from_numpy(batch.ids[..., 0]),
                torch.from_numpy(batch.lengths),
                torch.from_numpy(batch.mask.T.copy()),
                torch.from_numpy(batch.targets),
            )

        def train_epoch(self, rng, n_batches=None):
            torch.set_num_threads(self.threads)
            self.model.train()
            opt = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
            losses = []
            for index in length_batches(self.lengths, BATCH_SIZE, rng)[:n_batches]:
                ids, lengths, valid, targets = self._batch(index)
                opt.zero_grad()
                loss = self.loss(self.model(ids, lengths, valid, self.packed), targets)
                loss.backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), CLIP_NORM)
                opt.step()
                losses.append(loss.item())
            return float(np.mean(losses))

        def infer(self):
            torch.set_num_threads(self.threads)
            self.model.eval()
            n_correct = 0
            with torch.inference_mode():
                for index in length_batches(self.lengths, BATCH_SIZE):
                    ids, lengths, valid, targets = self._batch(index)
                    logits = self.model(ids, lengths, valid, self.packed)
                    log_proba = torch.log_softmax(logits, dim=1)
                    n_correct += int((log_proba.argmax(dim=1) == targets).sum())
            return n_correct / self.lengths.sum()

    return TorchRunner


# ---------------------------------------------------------------------------- timing


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def bench_config(data, cell, hidden, bidirectional, repeats, torch_runner, threads):
    runners = [SkrnnRunner(data, cell, hidden, bidirectional)]
    if torch_runner is not None:
        runners += [
            torch_runner(data, cell, hidden, bidirectional, packed, n)
            for n in threads
            for packed in (False, True)
        ]
    for runner in runners:  # warm-up: lazy initialisation, caches, allocator
        runner.train_epoch(np.random.default_rng(SEED), n_batches=20)
    train = {r.name: [] for r in runners}
    infer = {r.name: [] for r in runners}
    for repeat in range(repeats):
        # alternate the engines so that noise from other processes hits all alike;
        # each engine sees the same batch order in the same repeat
        for runner in runners if repeat % 2 == 0 else runners[::-1]:
            rng = np.random.default_rng(SEED + repeat)
            train[runner.name].append(timed(runner.train_epoch, rng))
            infer[runner.name].append(timed(runner.infer))
    return (
        {k: statistics.median(v) for k, v in train.items()},
        {k: statistics.median(v) for k, v in infer.items()},
    )


def ratio(times):
    torch_times = [v for k, v in times.items() if k != "skrnn"]
    return times["skrnn"] / min(torch_times) if torch_times else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"])
    parser.add_argument("--hidden", nargs="+", type=int, default=[64, 128, 256])
    parser.add_argument(
        "--directions", nargs="+", type=int, choices=(1, 2), default=[1, 2]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequences", type=int, default=N_SEQUENCES)
    parser.add_argument("--no-torch", action="store_true", help="skrnn only")
    parser.add_argument(
        "--torch-threads",
        nargs="+",
        type=int,
        default=[os.cpu_count()],
        help="torch.set_num_threads of each torch variant (default: the cores)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: rnn, H=64, 1,000 sequences"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.cells, args.hidden, args.directions = ["rnn"], [64], [1]
        args.repeats, args.sequences = 1, 1000

    torch_runner = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not importable: skrnn only")
        else:
            torch_runner = torch_runner_class()
            print(f"torch {torch.__version__}, threads {args.torch_threads}")
    data = ewt_like_data(args.sequences)
    lengths = data[2]
    print(
        f"numpy {np.__version__}; {lengths.size} sequences, {lengths.sum()} tokens, "
        f"mean length {lengths.mean():.1f}, max {lengths.max()}; "
        f"median of {args.repeats} repeats"
    )
    header = None
    for cell in args.cells:
        for hidden in args.hidden:
            for n_dir in args.directions:
                train, infer = bench_config(
                    data,
                    cell,
                    hidden,
                    n_dir == 2,
                    args.repeats,
                    torch_runner,
                    args.torch_threads,
                )
                if header is None:
                    names = " ".join(f"{name:>9}" for name in train)
                    header = (
                        f"{'':14} | {'train s/epoch':^{len(names)}} {'':5} | "
                        f"{'inference s':^{len(names)}} {'':5} |\n"
                        f"{'cell':5} {'H':>4} {'dir':>3} | {names} ratio | "
                        f"{names} ratio | {'RSS MB':>6}"
                    )
                    print(header)
                cols = [
                    " ".join(f"{v:9.2f}" for v in times.values())
                    + f" {ratio(times):5.2f}"
                    for times in (train, infer)
                ]
                print(
                    f"{cell:5} {hidden:>4} {n_dir:>3} | {cols[0]} | {cols[1]} | "
                    f"{peak_rss_mb():6.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
