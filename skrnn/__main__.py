"""Train and compare skrnn's sequence estimators.

Without a command (or with "tag") HMMTagger and RNNTagger are trained and scored
side by side on synthetic tagged sequences that skrnn generates itself, so this works
on a fresh machine; "classify" does the same for RNNClassifier; --data DIR runs them
on the real corpora instead (DIR/ud_english_ewt/, DIR/sst2/). "lm" trains
RNNLanguageModel (DIR/ptb/ with --data). "compare" compares the taggers on your own
corpus.
"""

import argparse
import sys
import time
from collections import namedtuple
from pathlib import Path

from sklearn.model_selection import train_test_split

from . import _compare, datasets


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


def _tag(args):
    from . import HMMTagger, RNNTagger

    models = [
        ("HMMTagger()", HMMTagger()),
        ("HMMTagger(order=2)", HMMTagger(order=2)),
        ("RNNTagger(random_state=0)", RNNTagger(random_state=0, verbose=args.verbose)),
    ]
    _run(models, *_tagging_data(args), metric="token acc")
    return 0


def _classify(args):
    from . import RNNClassifier

    model = RNNClassifier(random_state=0, verbose=args.verbose)
    _run([("RNNClassifier(random_state=0)", model)], *_classification_data(args),
         metric="accuracy")
    return 0


def _lm(args):
    from ._lm_demo import run_lm_demo

    data = None if args.data is None else Path(args.data) / "ptb"
    if data is not None and not data.is_dir():
        raise _compare.InputError(f"{data} is not a directory (expected PTB there)")
    run_lm_demo(data, verbose=args.verbose, max_iter=args.max_iter)
    return 0


def _add_lm_options(parser):
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="directory holding ptb/ptb.{train,valid,test}.txt (default: sentences "
        "of a small synthetic grammar)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        metavar="N",
        help="epochs (default 6 on PTB, 10 on the grammar)",
    )
    parser.add_argument(
        "--verbose", type=int, default=0, metavar="N", help="1: a line per epoch"
    )


def _add_demo_options(parser, in_command=False):
    """The options of ``tag`` and ``classify``, given before or after their name.

    A command's defaults would overwrite the values given before its name
    (``--data DIR tag``), so there they default to ``argparse.SUPPRESS``.
    """

    def default(value):
        return argparse.SUPPRESS if in_command else value

    parser.add_argument(
        "--data",
        default=default(None),
        metavar="DIR",
        help="directory holding ud_english_ewt/ and sst2/ (default: synthetic data)",
    )
    parser.add_argument(
        "--n-sequences",
        type=int,
        default=default(2000),
        metavar="N",
        help="size of the synthetic data (default 2000)",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=default(0),
        metavar="N",
        help="1: the RNN prints a line per epoch",
    )


Command = namedtuple("Command", "help description add_options run")

# One entry per command; run(args) returns the exit status. One more entry adds one.
COMMANDS = {
    "tag": Command(
        "HMMTagger vs RNNTagger on synthetic data or --data DIR (the default)",
        None,
        lambda parser: _add_demo_options(parser, in_command=True),
        _tag,
    ),
    "classify": Command(
        "RNNClassifier on synthetic data or --data DIR",
        None,
        lambda parser: _add_demo_options(parser, in_command=True),
        _classify,
    ),
    "lm": Command(
        "RNNLanguageModel: perplexity per epoch and samples, on a synthetic grammar "
        "or --data DIR (Penn Treebank)",
        None,
        _add_lm_options,
        _lm,
    ),
    "compare": Command(
        "compare the taggers on your own CoNLL-U, TOKEN<TAB>TAG or CoNLL corpus",
        _compare.DESCRIPTION,
        _compare.add_arguments,
        _compare.run,
    ),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line: the usage that argparse prints first is what --help is for.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser():
    parser = _Parser(
        prog="python -m skrnn",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_demo_options(parser)
    parser.set_defaults(run=_tag, parser=parser)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, spec in COMMANDS.items():
        command = commands.add_parser(
            name,
            help=spec.help,
            description=spec.description or spec.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        spec.add_options(command)
        command.set_defaults(run=spec.run, parser=command)
    return parser


def main(argv=None):
    """Run the command line and return 0.

    Bad input (argparse's errors and :class:`_compare.InputError`) exits with
    status 2 and one line on stderr.
    """
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except _compare.InputError as exc:
        args.parser.exit(2, f"{args.parser.prog}: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
