"""Speed as users see it: ``fit`` and ``predict`` of the estimators against the
plain PyTorch model a user would write for the same job, in the same run.

Tagging: UD English EWT train (12,544 sentences) → test; classification: SST-2
train (6,920 sentences) → test. Equal work on both sides: one word embedding of
100, one recurrent layer of ``--hidden`` units (uni- or bidirectional), batches
of 32, plain SGD (learning rate 0.1) with the gradient norm clipped at 5, no
dropout, no early stopping. skrnn keeps its default moving average of the
weights (``average_decay``); its extra id streams and word dropout are switched
off, since the torch model has neither. The classifier reads the last state
(``pooling="last"``, no bag of n-grams).

- skrnn: an epoch is ``(fit(max_iter=3) - fit(max_iter=1)) / 2`` through the
  estimator (validation, encoding and set-up cancel out); ``predict`` is timed
  as called on the raw test sentences, encoding included.
- torch 2.13 as its tutorials write it: ``nn.Embedding`` → ``nn.RNN/GRU/LSTM
  (batch_first=True)`` → ``nn.Linear``, ``cross_entropy(ignore_index=-100)``,
  ``torch.optim.SGD``, ``clip_grad_norm_``; the same length-bucketed batches as
  skrnn's, padded into tensors once before the clock starts (an advantage skrnn
  does not get); padded and packed variants, the faster one counts; torch's
  default of one thread per core (2 here). Inference: ``torch.no_grad`` over
  the test batches (256 sentences, as skrnn predicts), padded beforehand.

Runs alternate skrnn / torch padded / torch packed, ``--repeats`` times (with
``--numpy``, skrnn once more with its NumPy cells, ``SKRNN_ENGINE=numpy``); each
figure is the median. The ratio is skrnn's time over torch's (below 1: skrnn is
faster). Torch belongs in a benchmark venv, never in the project's::

    python3 -m venv /work/venv-bench
    /work/venv-bench/bin/pip install torch==2.13.0 -e ".[bench]"
    SKRNN_DATA_DIR=../shared/data /work/venv-bench/bin/python \\
        benchmarks/bench_estimators.py
"""

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from skrnn import RNNClassifier, RNNTagger
from skrnn._engine import length_batches
from skrnn._engine.compiled_cells import compiled_isa
from skrnn.datasets import load_conllu, load_sst2

EMBEDDING = 100
BATCH_SIZE = 32
PREDICT_BATCH = 256
LEARNING_RATE = 0.1
CLIP_NORM = 5.0
EPOCHS = (1, 3)  # an epoch is the difference of these two fits, halved


def skrnn_estimator(task, cell, hidden, bidirectional, max_iter):
    common = dict(
        cell=cell,
        hidden_size=hidden,
        embedding_dim=EMBEDDING,
        bidirectional=bidirectional,
        num_layers=1,
        dropout=0.0,
        word_dropout=0.0,
        solver="sgd",
        learning_rate=LEARNING_RATE,
        momentum=0.0,
        alpha=0.0,
        batch_size=BATCH_SIZE,
        clip_norm=CLIP_NORM,
        early_stopping=False,
        max_iter=max_iter,
        random_state=0,
    )
    if task == "tag":
        # no linear model beside the network, and the rate as given (these fits
        # of 1-3 epochs are short): the same work as the torch tagger
        return RNNTagger(
            **common,
            word_features=None,
            linear_window=None,
            short_fit_steps=None,
        )
    return RNNClassifier(**common, pooling="last", ngram_range=None)


def time_skrnn(task, config, data):
    """Epoch seconds through ``fit`` and seconds of ``predict``."""
    X, y, X_test = data
    seconds = {}
    for max_iter in EPOCHS:
        est = skrnn_estimator(task, *config, max_iter)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        seconds[max_iter] = time.perf_counter() - start
    start = time.perf_counter()
    est.predict(X_test)
    predict = time.perf_counter() - start
    return (seconds[3] - seconds[1]) / (EPOCHS[1] - EPOCHS[0]), predict


# ---------------------------------------------------------------------- torch


def torch_model(task, cell, hidden, bidirectional, n_words, n_outputs):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rnn_class = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(n_words, EMBEDDING, padding_idx=0)
            self.rnn = rnn_class(
                EMBEDDING, hidden, batch_first=True, bidirectional=bidirectional
            )
            self.out = nn.Linear(hidden * (1 + bidirectional), n_outputs)

        def forward(self, ids, lengths, packed):
            x = self.embedding(ids)
            if packed:
                x = pack_padded_sequence(
                    x, lengths, batch_first=True, enforce_sorted=False
                )
            out, h = self.rnn(x)
            if task == "tag":
                if packed:
                    out, _ = pad_packed_sequence(out, batch_first=True)
                return self.out(out)  # (B, T, n_tags)
            h = h[0] if cell == "lstm" else h
            if packed:  # the final states of the last layer, both directions
                last = torch.cat(list(h[-(1 + bidirectional) :]), dim=1)
            else:
                index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.size(2))
                last = out.gather(1, index).squeeze(1)
                if bidirectional:
                    last[:, hidden:] = out[:, 0, hidden:]
            return self.out(last)

    torch.manual_seed(0)
    return Model()


def torch_batches(task, ids, targets, batch_size, rng):
    """Padded ``(ids, lengths, targets)`` tensors of skrnn's length-bucketed
    batches (a new shuffled set per epoch with ``rng``)."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    lengths = np.array([len(s) for s in ids])
    batches = []
    for index in length_batches(lengths, batch_size, rng):
        seqs = [torch.as_tensor(ids[i]) for i in index]
        batch_targets = (
            pad_sequence(
                [torch.as_tensor(targets[i]) for i in index],
                batch_first=True,
                padding_value=-100,
            )
            if task == "tag"
            else torch.as_tensor(targets[index])
        )
        batches.append(
            (
                pad_sequence(seqs, batch_first=True),
                torch.as_tensor(lengths[index]),
                batch_targets,
            )
        )
    return batches


def time_torch(task, config, encoded, packed):
    import torch
    import torch.nn.functional as F

    ids, targets, ids_test, n_words, n_outputs = encoded
    model = torch_model(task, *config, n_words, n_outputs)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    rng = np.random.default_rng(0)
    epochs = [torch_batches(task, ids, targets, BATCH_SIZE, rng) for _ in range(2)]
    seconds = []
    model.train()
    for batches in epochs:
        start = time.perf_counter()
        for x, lengths, y in batches:
            optimizer.zero_grad()
            logits = model(x, lengths, packed)
            loss = F.cross_entropy(
                logits.reshape(-1, n_outputs), y.reshape(-1), ignore_index=-100
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    dummy = np.zeros(len(ids_test), dtype=np.int64)
    test_targets = [np.zeros(len(s), np.int64) for s in ids_test]
    test = torch_batches(
        task, ids_test, test_targets if task == "tag" else dummy, PREDICT_BATCH, None
    )
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for x, lengths, _ in test:
            model(x, lengths, packed).argmax(-1)
    return min(seconds), time.perf_counter() - start


def encode_for_torch(X, y, X_test, task):
    vocabulary = {}
    for sentence in X:
        for word in sentence:
            vocabulary.setdefault(word, len(vocabulary) + 1)  # 0 pads / unknown

    def ids(sentences):
        return [np.array([vocabulary.get(w, 0) for w in s]) for s in sentences]

    if task == "tag":
        tags = {t: i for i, t in enumerate(sorted({t for s in y for t in s}))}
        targets = [np.array([tags[t] for t in s]) for s in y]
        n_outputs = len(tags)
    else:
        classes = {c: i for i, c in enumerate(sorted(set(y)))}
        targets = np.array([classes[c] for c in y])
        n_outputs = len(classes)
    return ids(X), targets, ids(X_test), len(vocabulary) + 1, n_outputs


# ---------------------------------------------------------------------- main


def load(task, data_dir):
    if task == "tag":
        root = Path(data_dir) / "ud_english_ewt"
        X, y = load_conllu(root / "en_ewt-ud-train.conllu")
        X_test, _ = load_conllu(root / "en_ewt-ud-test.conllu")
    else:
        root = Path(data_dir) / "sst2"
        X, y = load_sst2(root / "stsa.binary.train")
        X_test, _ = load_sst2(root / "stsa.binary.test")
    return X, y, X_test


def configs(quick, spec=None):
    if spec:
        return [
            (cell, int(hidden), direction == "bi")
            for cell, hidden, direction in (c.split(":") for c in spec.split(","))
        ]
    if quick:
        return [("rnn", 128, False), ("lstm", 128, True)]
    grid = [(c, 128, bi) for c in ("rnn", "gru", "lstm") for bi in (False, True)]
    grid += [(c, h, False) for c in ("rnn", "lstm") for h in (64, 256)]
    return grid


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--tasks", default="tag,classify")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="two configurations")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="threads of both: torch.set_num_threads, and skrnn's BLAS limit "
        "(default: the cores)",
    )
    parser.add_argument("--configs", help="e.g. rnn:128:uni,lstm:128:bi")
    parser.add_argument(
        "--numpy",
        action="store_true",
        help="also time skrnn with its NumPy cells (SKRNN_ENGINE=numpy)",
    )
    args = parser.parse_args()
    if args.data is None:
        parser.error("pass --data DIR or set SKRNN_DATA_DIR")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, {args.threads} threads "
        f"each, median of {args.repeats}; skrnn's compiled kernels: {compiled_isa()}"
    )
    header = (
        f"{'task':<9}{'cell':<6}{'H':>4} {'dir':<4}"
        f"{'skrnn ep':>9}{'torch ep':>9}{'ratio':>7}"
        f"{'skrnn pred':>11}{'torch pred':>11}{'ratio':>7}  torch best"
        + (f"{'numpy ep':>10}{'ratio':>7}{'numpy pred':>11}" if args.numpy else "")
    )
    print(header)
    for task in args.tasks.split(","):
        data = load(task, args.data)
        encoded = encode_for_torch(*data, task)
        for config in configs(args.quick, args.configs):
            runs = {"skrnn": [], "padded": [], "packed": []}
            if args.numpy:
                runs["numpy"] = []
            for _ in range(args.repeats):
                runs["skrnn"].append(time_skrnn(task, config, data))
                if args.numpy:
                    os.environ["SKRNN_ENGINE"] = "numpy"
                    runs["numpy"].append(time_skrnn(task, config, data))
                    del os.environ["SKRNN_ENGINE"]
                runs["padded"].append(time_torch(task, config, encoded, False))
                runs["packed"].append(time_torch(task, config, encoded, True))
            med = {
                k: tuple(statistics.median(r[i] for r in v) for i in (0, 1))
                for k, v in runs.items()
            }
            best = min(("padded", "packed"), key=lambda k: med[k][0])
            best_pred = min(med["padded"][1], med["packed"][1])
            cell, hidden, bi = config
            print(
                f"{task:<9}{cell:<6}{hidden:>4} {'bi' if bi else 'uni':<4}"
                f"{med['skrnn'][0]:>9.2f}{med[best][0]:>9.2f}"
                f"{med['skrnn'][0] / med[best][0]:>7.2f}"
                f"{med['skrnn'][1]:>11.3f}{best_pred:>11.3f}"
                f"{med['skrnn'][1] / best_pred:>7.2f}  {best:<6}"
                + (
                    f"{med['numpy'][0]:>10.2f}{med['numpy'][0] / med[best][0]:>7.2f}"
                    f"{med['numpy'][1]:>11.3f}"
                    if args.numpy
                    else ""
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
