"""``python -m skrnn``: train and compare the sequence estimators.

Without arguments it runs on small synthetic data that skrnn generates itself, so it
works on a fresh machine; ``--data DIR`` points it at the real corpora
(``ud_english_ewt/`` for tagging, ``sst2/`` for classification).
"""

import argparse
import sys
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

from . import datasets


def _synthetic(make, n_sequences, stratify):
    """``make``'s data split 3:1 into train and test, with its name."""
    X, y = make(n_sequences=n_sequences, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y if stratify else None
    )
    return (
        f"synthetic (skrnn.datasets.{make.__name__})",
        X_train,
        y_train,
        X_test,
        y_test,
    )


def _tagging_data(args):
    if args.data is None:
        return _synthetic(datasets.make_tagging, args.n_sequences, stratify=False)
    root = Path(args.data) / "ud_english_ewt"
    X_train, y_train = datasets.load_conllu(root / "en_ewt-ud-train.conllu")
    X_test, y_test = datasets.load_conllu(root / "en_ewt-ud-test.conllu")
    return f"UD English EWT ({root})", X_train, y_train, X_test, y_test


def _classification_data(args):
    if args.data is None:
        return _synthetic(
            datasets.make_sequence_classification, args.n_sequences, stratify=True
        )
    root = Path(args.data) / "sst2"
    X_train, y_train = datasets.load_sst2(root / "stsa.binary.train")
    X_test, y_test = datasets.load_sst2(root / "stsa.binary.test")
    return f"SST-2 ({root})", X_train, y_train, X_test, y_test


def _run(models, data_name, X_train, y_train, X_test, y_test, metric):
    print(f"data: {data_name}: {len(X_train)} train / {len(X_test)} test sequences")
    print(f"{'model':<34}{metric:>10}{'fit s':>9}{'predict s':>11}")
    for name, model in models:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fitted = time.perf_counter()
        score = model.score(X_test, y_test)
        done = time.perf_counter()
        print(f"{name:<34}{score:>10.4f}{fitted - start:>9.2f}{done - fitted:>11.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skrnn", description=__doc__)
    parser.add_argument(
        "task",
        nargs="?",
        default="tag",
        choices=["tag", "classify"],
        help="tag: HMMTagger vs RNNTagger; classify: RNNClassifier (default: tag)",
    )
    parser.add_argument("--data", help="directory holding ud_english_ewt/ and sst2/")
    parser.add_argument(
        "--n-sequences", type=int, default=2000, help="size of the synthetic data"
    )
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)

    from . import HMMTagger, RNNClassifier, RNNTagger

    if args.task == "tag":
        models = [
            ("HMMTagger()", HMMTagger()),
            ("HMMTagger(order=2)", HMMTagger(order=2)),
            (
                "RNNTagger(random_state=0)",
                RNNTagger(random_state=0, verbose=args.verbose),
            ),
        ]
        _run(models, *_tagging_data(args), metric="token acc")
    else:
        models = [
            (
                "RNNClassifier(random_state=0)",
                RNNClassifier(random_state=0, verbose=args.verbose),
            )
        ]
        _run(models, *_classification_data(args), metric="accuracy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
