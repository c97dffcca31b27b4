"""RNNLanguageModel on Mikolov's Penn Treebank: perplexity per epoch, time, memory.

Usage::

    python benchmarks/bench_language_model.py --data DIR [--configs a,b]
        [--epochs N] [--seeds 0,1,2] [--torch PYTHON]

``DIR`` holds ``ptb/ptb.{train,valid,test}.txt`` (or the three files). Each entry
of ``CONFIGS`` is a named parameter set of RNNLanguageModel; every epoch is one
``fit`` with ``warm_start=True`` (so the learning-rate schedule, which counts
``n_iter_``, runs as in one long fit) followed by the validation and test
perplexities, so that each printed line is a figure of docs/benchmarks.md.
``--torch PYTHON`` also runs the same model (a 2-layer LSTM as PyTorch's
word_language_model example writes it: nn.Embedding, nn.LSTM, nn.Linear, its
``--tied`` and ``--dropout``, the hidden state repackaged per window,
clip_grad_norm_, plain SGD), with the hidden size, tying and dropout of the first
of ``--configs`` (Zaremba et al.'s small LSTM for the defaults),
under that interpreter (the benchmark venv; torch is never a dependency of
skrnn) and reports the time ratio per epoch. Its test perplexity counts 82,429
tokens (the example does not predict the first word); its peak memory is not
reported (``ru_maxrss`` of a child started by this script keeps the parent's
high-water mark on Linux).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _summary import mean_range
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNLanguageModel

CONFIGS = {
    # the defaults: class softmax, 2x200 LSTM, carried state
    "default": {},
    "full softmax": {"softmax": "full"},
    "carry_state=False": {"carry_state": False},
    # the longer configuration for the <= 105 goal (see docs/benchmarks.md)
    "tied+dropout": {
        "hidden_size": 400,
        "embedding_dim": 400,
        "tie_weights": True,
        "dropout": 0.4,
        "decay_after": 6,
    },
}


def read_ptb(data_dir):
    root = Path(data_dir)
    if (root / "ptb").is_dir():
        root = root / "ptb"
    splits = {}
    for name in ("train", "valid", "test"):
        with open(root / f"ptb.{name}.txt") as f:
            splits[name] = [line.split() for line in f]
    return splits, root


def peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_skrnn(name, params, splits, epochs, seed):
    # every word plus one <eos> per sentence is predicted
    n_tokens = sum(map(len, splits["train"])) + len(splits["train"])
    model = RNNLanguageModel(
        **{**params, "max_iter": 1, "warm_start": True, "random_state": seed}
    )
    rows, train_time = [], 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(splits["train"])
        # the fit's epoch alone (history_), not the re-encoding of the corpus
        epoch_time = model.history_[-1]["seconds"]
        fit_call = time.perf_counter() - start
        train_time += fit_call
        row = {
            "model": name,
            "seed": seed,
            "epoch": epoch,
            "train_ppl": float(np.exp(model.loss_curve_[-1])),
            "valid_ppl": model.perplexity(splits["valid"]),
            "test_ppl": model.perplexity(splits["test"]),
            "epoch_s": epoch_time,
            "fit_call_s": fit_call,
            "cumulative_fit_s": train_time,
            "tokens_per_s": n_tokens / epoch_time,
            "peak_rss_gib": peak_rss_gib(),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    samples = model.generate(5, max_length=25, random_state=0)
    for sentence in samples:
        print("  sample: " + " ".join(sentence), flush=True)
    return rows, samples


TORCH_SCRIPT = r"""
import json, math, sys, time
import torch, torch.nn as nn

root = sys.argv[1]
epochs, seed, threads, H = (int(a) for a in sys.argv[2:6])
tied, dropout = sys.argv[6] == "tied", float(sys.argv[7])
torch.manual_seed(seed)
torch.set_num_threads(threads)

def read(name):
    with open(f"{root}/ptb.{name}.txt") as f:
        return [w for line in f for w in line.split() + ["<eos>"]]

train, valid, test = read("train"), read("valid"), read("test")
vocab = {}
for w in train:
    vocab.setdefault(w, len(vocab))
ids = lambda words: torch.tensor([vocab[w] for w in words])

def batchify(data, bsz):
    n = data.size(0) // bsz
    return data[: n * bsz].view(bsz, n).t().contiguous()

V, BPTT = len(vocab), 35
train_data, valid_data, test_data = (
    batchify(ids(train), 20), batchify(ids(valid), 10), batchify(ids(test), 1)
)

class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(V, H)
        self.rnn = nn.LSTM(H, H, 2, dropout=dropout)
        self.decoder = nn.Linear(H, V)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if tied:  # as the example's --tied
            self.decoder.weight = self.encoder.weight

    def forward(self, x, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return self.decoder(self.drop(output)), hidden

model, criterion = RNNModel(), nn.CrossEntropyLoss()

def repackage(h):
    return None if h is None else tuple(v.detach() for v in h)

def evaluate(data):
    model.eval()
    total, count, hidden = 0.0, 0, None
    with torch.no_grad():
        for i in range(0, data.size(0) - 1, BPTT):
            L = min(BPTT, data.size(0) - 1 - i)
            out, hidden = model(data[i : i + L], hidden)
            target = data[i + 1 : i + 1 + L].reshape(-1)
            total += criterion(out.view(-1, V), target).item() * target.numel()
            count += target.numel()
    return math.exp(total / count)

name = f"torch {H}x2 LSTM" + (", tied" if tied else "") + (
    f", dropout {dropout}" if dropout else ""
)
lr = 20.0
for epoch in range(1, epochs + 1):
    model.train()
    start, hidden, total, count = time.perf_counter(), None, 0.0, 0
    for i in range(0, train_data.size(0) - 1, BPTT):
        L = min(BPTT, train_data.size(0) - 1 - i)
        hidden = repackage(hidden)
        model.zero_grad()
        out, hidden = model(train_data[i : i + L], hidden)
        loss = criterion(out.view(-1, V), train_data[i + 1 : i + 1 + L].reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)
        total += loss.item() * L
        count += L
    epoch_s = time.perf_counter() - start
    if epoch >= 4:
        lr /= 2  # as RNNLanguageModel's default schedule: halved after epoch 4
    print(json.dumps({
        "model": name, "seed": seed, "epoch": epoch,
        "train_ppl": math.exp(total / count), "valid_ppl": evaluate(valid_data),
        "test_ppl": evaluate(test_data), "epoch_s": epoch_s,
        "tokens_per_s": train_data.numel() / epoch_s, "threads": threads,
    }), flush=True)
"""


def run_torch(python, root, epochs, seed, threads, params):
    """The example's model with the shape of ``params`` (an entry of CONFIGS):
    its hidden size (the embedding's too), tied weights and dropout."""
    shape = [
        str(params.get("hidden_size", 200)),
        "tied" if params.get("tie_weights") else "untied",
        str(params.get("dropout", 0.0)),
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(TORCH_SCRIPT)
    try:
        out = subprocess.run(
            [python, f.name, str(root), str(epochs), str(seed), str(threads)] + shape,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(f.name)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def print_summary(rows):
    """Test perplexity and epoch time per model and epoch, the mean and the range
    over seeds, and each model's time per epoch relative to torch's."""
    torch_s = [r["epoch_s"] for r in rows if r["model"].startswith("torch")]
    print("\n| model | epoch | seeds | test ppl | valid ppl | epoch (s) | / torch |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    keys = sorted({(r["model"], r["epoch"]) for r in rows}, key=str)
    for model, epoch in keys:
        group = [r for r in rows if r["model"] == model and r["epoch"] == epoch]
        seconds = float(np.mean([r["epoch_s"] for r in group]))
        ratio = f"{seconds / np.mean(torch_s):.2f}" if torch_s else ""
        print(
            f"| {model} | {epoch} | {len(group)} "
            f"| {mean_range([r['test_ppl'] for r in group], '.1f')} "
            f"| {mean_range([r['valid_ppl'] for r in group], '.1f')} "
            f"| {mean_range([r['epoch_s'] for r in group], '.1f')} | {ratio} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--configs", default="default")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--torch", default=None, help="python with torch installed")
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args()
    if not args.data:
        parser.error("--data DIR (or SKRNN_DATA_DIR) is required")
    splits, root = read_ptb(args.data)
    print(
        f"# {platform.platform()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    rows = []
    for seed in seeds:
        for name in names:
            rows += run_skrnn(name, CONFIGS[name], splits, args.epochs, seed)[0]
        if args.torch:  # the shape of the first configuration
            rows += run_torch(
                args.torch,
                root,
                args.epochs,
                seed,
                args.torch_threads,
                CONFIGS[names[0]],
            )
    print_summary(rows)
    print(f"# load at the end {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
