"""Named-entity recognition on CoNLL-2002 Spanish: entity F1, time, invalid spans.

Usage::

    python benchmarks/bench_ner.py --data DIR [--split dev] [--models a,b] \
        [--seeds 0,1,2]

Trains on ``esp.train`` and scores ``esp.testb`` (``--split dev``: ``esp.testa``,
where settings are chosen). The data is the CoNLL-2002 shared task's Spanish
corpus (Tjong Kim Sang, 2002) as ``DIR/conll2002_es`` holds it (see its
SOURCE.md). Entity precision, recall and F1 are conlleval's (exact type and
span); "invalid" counts the predicted tags that break IOB2 (an ``I-X`` after
``O``, at a sentence start or after another type). Seeded models give a row per
seed and a last row with the mean and range over the seeds. ``s/epoch`` is the
mean epoch of the fit (training plus the validation pass), for the CRF's cost
beside the softmax's.

``--train-scheme IOBES`` fits every model on the IOBES form of the IOB2 training
tags (``skrnn.preprocessing.convert_tag_scheme``) and writes its predictions back to
IOB2 before they are scored.

Peers: ``HMMTagger()`` and sklearn-crfsuite with the features of its own
tutorial (``skrnn._peers.CRFSuiteTagger``; skipped when it is not installed).
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from _cli import split_names
from _summary import mean_range

from skrnn import HMMTagger, RNNTagger
from skrnn._peers import CRFSuiteTagger
from skrnn.datasets import load_conll
from skrnn.metrics import (
    entity_f1_score,
    entity_precision_score,
    entity_recall_score,
    flat_accuracy_score,
    invalid_transitions,
)
from skrnn.preprocessing import convert_tag_scheme

# name -> (factory of seed, seeded)
MODELS = {
    "HMMTagger()": (lambda seed: HMMTagger(), False),
    # the HMM without span rules, as it was before it had them
    "HMMTagger(tag_scheme=None)": (lambda seed: HMMTagger(tag_scheme=None), False),
    "sklearn-crfsuite CRF": (lambda seed: CRFSuiteTagger(), False),
}

RNN_CONFIGS = {
    "RNNTagger(output='softmax')": {"output": "softmax"},
    "RNNTagger(output='crf')": {"output": "crf"},
    "RNNTagger(output='softmax', char_encoder='cnn')": {
        "output": "softmax",
        "char_encoder": "cnn",
    },
    "RNNTagger(output='crf', char_encoder='cnn')": {
        "output": "crf",
        "char_encoder": "cnn",
    },
    # adversarial training (0.2, as on EWT): dev +2.5 F1 over the CRF, seed 0
    "RNNTagger(output='softmax', adversarial=0.2)": {
        "output": "softmax",
        "adversarial": 0.2,
    },
    "RNNTagger(output='crf', adversarial=0.2)": {
        "output": "crf",
        "adversarial": 0.2,
    },
    "RNNTagger(output='crf', char_encoder='cnn', adversarial=0.2)": {
        "output": "crf",
        "char_encoder": "cnn",
        "adversarial": 0.2,
    },
}
for _name, _params in RNN_CONFIGS.items():
    MODELS[_name] = (lambda seed, p=_params: RNNTagger(random_state=seed, **p), True)


def _scores(y_true, y_pred):
    return {
        "f1": 100 * entity_f1_score(y_true, y_pred),
        "precision": 100 * entity_precision_score(y_true, y_pred),
        "recall": 100 * entity_recall_score(y_true, y_pred),
        "accuracy": 100 * flat_accuracy_score(y_true, y_pred),
        "invalid": invalid_transitions(y_pred, scheme="IOB2"),
    }


def _run(model, X, y, X_test, y_test, train_scheme="IOB2"):
    """Rows of one fit: the model as users call it and, for an RNNTagger whose
    predictions keep to a tag scheme, the same fit decoded without the rules
    (tag by tag), to show what the rules give. With ``train_scheme="IOBES"`` the
    model learns the IOBES form of ``y`` and its predictions are read back as
    IOB2 (the tag-by-tag row then has no IOB2 form: it may break IOBES)."""
    if train_scheme != "IOB2":
        y = convert_tag_scheme(y, train_scheme)
    start = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = model.predict(X_test)
    if train_scheme != "IOB2":
        y_pred = convert_tag_scheme(y_pred, "IOB2")
    predict_s = time.perf_counter() - start
    history = getattr(model, "history_", None)
    timing = {
        "fit_s": fit_s,
        "predict_s": predict_s,
        "epoch_s": np.mean([row["seconds"] for row in history]) if history else None,
        "epochs": len(history) if history else None,
    }
    rows = {"": {**_scores(y_test, y_pred), **timing}}
    if (
        train_scheme == "IOB2"
        and getattr(model, "tag_scheme_", None) is not None
        and getattr(model, "output_", None) == "softmax"
    ):
        scheme, model.tag_scheme_ = model.tag_scheme_, None
        rows[", tag by tag"] = {**_scores(y_test, model.predict(X_test)), **timing}
        model.tag_scheme_ = scheme
    return rows


COLUMNS = [
    ("F1", "f1", ".2f"),
    ("P", "precision", ".2f"),
    ("R", "recall", ".2f"),
    ("token acc", "accuracy", ".2f"),
    ("invalid", "invalid", ".0f"),
    ("fit s", "fit_s", ".0f"),
    ("s/epoch", "epoch_s", ".1f"),
    ("epochs", "epochs", ".0f"),
]


def _row(name, results):
    cells = []
    for _, key, fmt in COLUMNS:
        values = [r[key] for r in results if r[key] is not None]
        cells.append(mean_range(values, fmt) if values else "")
    return f"| {name} | " + " | ".join(cells) + " |"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=os.environ.get("SKRNN_DATA_DIR"),
        help="folder holding conll2002_es/ (default: $SKRNN_DATA_DIR)",
    )
    parser.add_argument("--split", choices=["test", "dev"], default="test")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--train-scheme",
        choices=["IOB2", "IOBES"],
        default="IOB2",
        help="fit on the training tags in this scheme (predictions scored as IOB2)",
    )
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("give --data or set SKRNN_DATA_DIR")
    folder = Path(args.data) / "conll2002_es"
    X, y = load_conll(folder / "esp.train")
    test_file = "esp.testa" if args.split == "dev" else "esp.testb"
    X_test, y_test = load_conll(folder / test_file)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = split_names(args.models)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(MODELS)}")
    print(
        f"CoNLL-2002 Spanish: {len(X)} training sentences -> {test_file} "
        f"({len(X_test)} sentences); {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; seeds {seeds}; trained on {args.train_scheme} tags"
    )
    header = "| model | " + " | ".join(title for title, _, _ in COLUMNS) + " |"
    print(header)
    print("|" + "---|" * (len(COLUMNS) + 1), flush=True)
    groups = {}
    for name in names:
        factory, seeded = MODELS[name]
        if name == "sklearn-crfsuite CRF":
            try:
                import sklearn_crfsuite  # noqa: F401
            except ImportError:
                print(f"| {name} | skipped: sklearn-crfsuite is not installed |")
                continue
        for seed in seeds if seeded else [None]:
            model = factory(seed)
            rows = _run(model, X, y, X_test, y_test, args.train_scheme)
            for suffix, result in rows.items():
                if args.train_scheme != "IOB2":
                    suffix = f" on {args.train_scheme} tags" + suffix
                label = name + suffix
                groups.setdefault(label, []).append(result)
                shown = label if seed is None else f"{label} seed {seed}"
                print(_row(shown, [result]), flush=True)
    if len(seeds) > 1:
        print("\nMean (min–max) over the seeds:\n")
        print(header)
        print("|" + "---|" * (len(COLUMNS) + 1))
        for label, results in groups.items():
            print(_row(label, results))


if __name__ == "__main__":
    main()
