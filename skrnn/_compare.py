"""``python -m skrnn compare``: the taggers side by side on the user's own corpus.

With ``--test`` each estimator is fitted on the ``--train`` file and scored on the
test file; otherwise every estimator is cross-validated on the same ``KFold``
splits of the train file (shuffled, seeded by ``--random-state``), so the folds'
scores are those of ``cross_val_score(est, X, y, cv=KFold(...),
scoring=flat_accuracy_scorer)``. The loop over the splits is written out here
because the OOV accuracy needs each fold's training vocabulary.
"""

import argparse
import random
import time
import warnings
from collections import namedtuple
from itertools import chain
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

from . import datasets
from .metrics import flat_accuracy_score

DESCRIPTION = """\
Compare the taggers on your own tagged corpus.

With --test each estimator is fitted on the --train file and scored on the test
file; otherwise it is cross-validated on the train file (K-fold, the same folds
for every estimator). The table gives the token accuracy, the accuracy on OOV
tokens (test tokens not seen in the training data), both as mean ± std over
the folds, and the mean fit and predict seconds.

A corpus is CoNLL-U, or TOKEN<TAB>TAG lines with a blank line after each
sentence; the format is detected from the first token line unless --format is
given. Bad input (a missing file, a file in another format, an empty corpus, a
tag column that is empty) ends with one line on stderr and exit status 2.

example: python -m skrnn compare --train train.conllu --cv 5 --plot cmp.png"""


class InputError(Exception):
    """A problem with the user's input: ``main`` prints one line and exits with 2.

    Any command may raise it (``python -m skrnn``'s ``main`` catches it).
    """


# --- estimators ---------------------------------------------------------------------


class NLTKPerceptronTagger(BaseEstimator):
    """NLTK's averaged perceptron tagger behind ``fit``/``predict``.

    NLTK shuffles the training sentences with Python's global ``random``; it is
    seeded for the fit and then restored, so a run is reproducible and the
    caller's random state is left as it was.
    """

    def __init__(self, n_iter=5, random_state=0):
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, X, y):
        from nltk.tag.perceptron import PerceptronTagger

        pairs = [list(zip(s, t, strict=True)) for s, t in zip(X, y, strict=True)]
        state = random.getstate()
        random.seed(self.random_state)
        try:
            self.tagger_ = PerceptronTagger(load=False)
            self.tagger_.train(pairs, nr_iter=self.n_iter)
        finally:
            random.setstate(state)
        return self

    def predict(self, X):
        return [np.array([tag for _, tag in self.tagger_.tag(list(s))]) for s in X]


def _estimators(args):
    """The named estimators to compare, built from the command line's options."""
    from . import HMMTagger, RNNTagger

    rnn = {"random_state": args.random_state}
    if args.max_iter is not None:
        rnn["max_iter"] = args.max_iter
    return {
        "hmm": lambda: HMMTagger(),
        "hmm2": lambda: HMMTagger(order=2),
        "rnn": lambda: RNNTagger(**rnn),
        "perceptron": lambda: NLTKPerceptronTagger(random_state=args.random_state),
    }


def _select(args):
    makers = _estimators(args)
    names = [name.strip() for name in args.estimators.split(",") if name.strip()]
    unknown = [name for name in names if name not in makers]
    if unknown or not names:
        raise InputError(
            f"unknown estimator {', '.join(map(repr, unknown)) or '(none given)'} "
            f"in --estimators; choose from {', '.join(makers)}."
        )
    if "perceptron" in names:
        _require("nltk", "--estimators perceptron", "pip install nltk")
    return {name: makers[name]() for name in dict.fromkeys(names)}


def _require(module, option, install):
    try:
        __import__(module)
    except ImportError:
        raise InputError(
            f"{option} needs {module}, which is not installed ({install})."
        ) from None


# --- data -------------------------------------------------------------------------

_FORMATS = {"conllu": "CoNLL-U (10 tab-separated fields)", "tsv": "TOKEN<TAB>TAG"}


def _sniff(path):
    """The format of the first token line (None for no token line) and its number."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            n_fields = len(line.rstrip("\r\n").split("\t"))
            if not line.strip() or (n_fields == 1 and line.startswith("#")):
                continue  # a sentence break, or a CoNLL-U comment
            fmt = {10: "conllu", 2: "tsv"}.get(n_fields)
            if fmt is None:
                raise InputError(
                    f"{path}, line {lineno} has {n_fields} tab-separated field(s): "
                    f"neither {_FORMATS['conllu']} nor {_FORMATS['tsv']}."
                )
            return fmt, lineno
    return None, None


def read_corpus(path, fmt=None, column=None):
    """Read a tagged corpus, checking its format, its tags and that it is not empty.

    Parameters
    ----------
    path : str
        A CoNLL-U or ``TOKEN<TAB>TAG`` file.
    fmt : {"conllu", "tsv"} or None
        The expected format; None detects it from the first token line.
    column : {"upos", "xpos"} or None
        The CoNLL-U tag column (None: ``"upos"``); an error for a TSV file.

    Returns
    -------
    X, y : list of list of str
        Tokens and tags; a :class:`InputError` says what is wrong otherwise.
    kind : str
        What was read, e.g. ``"CoNLL-U, upos"``.
    """
    try:
        found, lineno = _sniff(path)
        if found is None:
            raise InputError(f"{path} holds no sentences.")
        if fmt is not None and fmt != found:
            raise InputError(
                f"{path} is not {_FORMATS[fmt]}: line {lineno} is {_FORMATS[found]}; "
                f"pass --format {found} or leave --format out."
            )
        if found == "tsv":
            if column is not None:
                raise InputError(
                    f"--column {column} names a CoNLL-U column, but {path} is "
                    f"{_FORMATS['tsv']} (its one tag column is read); drop --column."
                )
            X, y = datasets.load_token_tag(path)
            kind = "TOKEN<TAB>TAG"
        else:
            column = column or "upos"
            X, y = datasets.load_conllu(path, tag=column)
            kind = f"CoNLL-U, {column}"
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start}).") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}.") from None
    except ValueError as exc:  # the loader's message names the line
        raise InputError(str(exc)) from None
    if not X:
        raise InputError(f"{path} holds no sentences.")
    if set(chain.from_iterable(y)) == {"_"}:
        raise InputError(
            f"{path} has no {column} tags (the column holds only '_'); "
            "try another --column."
        )
    return X, y, kind


# --- evaluation -------------------------------------------------------------------

Fold = namedtuple("Fold", "X_train y_train X_test y_test oov")


def _fold(X_train, y_train, X_test, y_test):
    seen = set(chain.from_iterable(X_train))
    oov = np.array([t not in seen for t in chain.from_iterable(X_test)], dtype=bool)
    return Fold(X_train, y_train, X_test, y_test, oov)


def _cv_folds(X, y, n_splits, random_state):
    if len(X) < n_splits:
        raise InputError(
            f"--cv {n_splits} needs at least {n_splits} sentences; the train file "
            f"has {len(X)}."
        )
    kfold = KFold(n_splits, shuffle=True, random_state=random_state)
    pick = lambda seqs, index: [seqs[i] for i in index]  # noqa: E731
    return [
        _fold(pick(X, train), pick(y, train), pick(X, test), pick(y, test))
        for train, test in kfold.split(X)
    ]


def _evaluate(name, estimator, folds, verbose):
    """Fit a clone on each fold; return its scores and the last fold's model.

    The scores are one value per fold of accuracy, OOV accuracy (NaN if the
    fold has no OOV token), fit seconds and predict seconds, and ``capped``, the
    number of fits that ran all ``max_iter`` epochs (reported once, under the
    table, instead of a ConvergenceWarning per fold).
    """
    scores = np.empty((len(folds), 4))
    capped = 0
    for k, fold in enumerate(folds):
        model = clone(estimator)
        if verbose and "verbose" in model.get_params():
            model.set_params(verbose=1)  # the RNN's line per epoch
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(fold.X_train, fold.y_train)
        fitted = time.perf_counter()
        capped += getattr(model, "n_iter_", 0) == model.get_params().get("max_iter")
        predicted = model.predict(fold.X_test)
        done = time.perf_counter()
        accuracy = flat_accuracy_score(fold.y_test, predicted)  # checks the lengths
        correct = _flat(predicted) == _flat(fold.y_test)
        oov = correct[fold.oov].mean() if fold.oov.any() else np.nan
        scores[k] = accuracy, oov, fitted - start, done - fitted
        if verbose:
            print(
                f"{name} fold {k + 1}/{len(folds)}: accuracy {accuracy:.4f}, "
                f"OOV accuracy {oov:.4f}, fit {fitted - start:.2f}s",
                flush=True,
            )
    keys = ["accuracy", "oov", "fit", "predict"]
    return {**dict(zip(keys, scores.T, strict=True)), "capped": capped}, model


def _flat(sequences):
    return np.asarray(list(chain.from_iterable(sequences)))


def _cell(values):
    """Mean ± std over the folds (the value alone for one test set)."""
    if np.isnan(values).all():
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{np.nanmean(values):.4f} ± {np.nanstd(values):.4f}"


def _print_table(estimators, results):
    width = max(len(repr(est)) for est in estimators.values()) + 2
    print(
        f"{'name':<12}{'estimator':<{width}}{'accuracy':<17}{'OOV accuracy':<17}"
        f"{'fit s':>8}{'predict s':>11}"
    )
    for name, est in estimators.items():
        r = results[name]
        print(
            f"{name:<12}{est!r:<{width}}{_cell(r['accuracy']):<17}"
            f"{_cell(r['oov']):<17}{r['fit'].mean():>8.2f}{r['predict'].mean():>11.2f}"
        )


# --- outputs ------------------------------------------------------------------------


def plot(results, path, title):
    """Bar charts of accuracy and OOV accuracy (mean ± std) and of fit time."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend is needed

    names = list(results)
    x = np.arange(len(names))
    fig = Figure(figsize=(3 + 1.6 * len(names), 4), layout="constrained")
    fig.suptitle(title, fontsize="medium")
    acc_ax, time_ax = fig.subplots(1, 2, width_ratios=[2, 1])
    for offset, key, label in [(-0.2, "accuracy", "all tokens"), (0.2, "oov", "OOV")]:
        means = [np.nanmean(results[n][key]) for n in names]
        stds = [np.nanstd(results[n][key]) for n in names]
        bars = acc_ax.bar(x + offset, means, 0.4, yerr=stds, capsize=3, label=label)
        acc_ax.bar_label(bars, fmt="%.3f", fontsize="small", label_type="center")
    acc_ax.set(xticks=x, xticklabels=names, ylim=(0, 1), ylabel="token accuracy")
    acc_ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1), ncols=2, frameon=False)
    # Log scale: an HMM fits in milliseconds, an RNN in minutes.
    bars = time_ax.bar(x, [results[n]["fit"].mean() for n in names], 0.6, color="gray")
    time_ax.bar_label(bars, fmt="%.2g", fontsize="small")
    time_ax.set(xticks=x, xticklabels=names, yscale="log", ylabel="fit time (s)")
    time_ax.margins(y=0.2)
    fig.savefig(path, dpi=100)


def save(models, directory):
    """Save each fitted model as ``directory/<name>.skrnn``; return the paths.

    Models without a ``save`` method (NLTK's perceptron) are reported and skipped.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in models.items():
        if not hasattr(model, "save"):
            print(f"{name}: not saved ({type(model).__name__} has no save method)")
            continue
        model.save(directory / f"{name}.skrnn")
        written.append(directory / f"{name}.skrnn")
    return written


# --- the command ------------------------------------------------------------------


def _at_least(low):
    def parse(text):
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its error messages
    return parse


def add_arguments(parser):
    """Add the options of ``compare`` to ``parser``."""
    parser.add_argument("--train", required=True, metavar="FILE", help="tagged corpus")
    parser.add_argument(
        "--test", metavar="FILE", help="score on this file (default: cross-validate)"
    )
    parser.add_argument(
        "--cv",
        type=_at_least(2),
        metavar="K",
        help="K-fold cross-validation on --train when there is no --test (default 5)",
    )
    parser.add_argument(
        "--format",
        choices=sorted(_FORMATS),
        help="conllu, or tsv for TOKEN<TAB>TAG lines with a blank line after each "
        "sentence (default: detected from the first token line)",
    )
    parser.add_argument(
        "--column",
        choices=["upos", "xpos"],
        help="the CoNLL-U tag column (default upos)",
    )
    parser.add_argument(
        "--estimators",
        default="hmm,hmm2,rnn",
        metavar="LIST",
        help="comma-separated: hmm = HMMTagger(), hmm2 = HMMTagger(order=2), "
        "rnn = RNNTagger(random_state=SEED), perceptron = NLTK's "
        "PerceptronTagger, 5 iterations (needs nltk) (default: %(default)s)",
    )
    parser.add_argument(
        "--max-iter",
        type=_at_least(1),
        metavar="N",
        help="RNNTagger's max_iter, its maximum number of epochs (default 15)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the RNN, the perceptron and the CV folds (default 0)",
    )
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="write a bar chart of accuracy (mean ± std) and fit time (needs "
        "matplotlib)",
    )
    parser.add_argument(
        "--save",
        metavar="DIR",
        help="save each fitted model as DIR/<name>.skrnn, to read back with "
        "skrnn.load (after --cv: refitted on the whole train file)",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        nargs="?",
        const=1,
        default=0,
        metavar="N",
        help="print a line per fold and the RNN's line per epoch",
    )


def _check_outputs(args):
    """Fail on an unusable --plot or --save before anything is fitted."""
    if args.plot is not None:
        if not Path(args.plot).parent.is_dir():
            raise InputError(f"--plot {args.plot}: no such directory.")
        _require("matplotlib", "--plot", "pip install matplotlib")
    if args.save is not None and Path(args.save).exists():
        if not Path(args.save).is_dir():
            raise InputError(f"--save {args.save} is a file, not a directory.")


def _folds(args, X, y):
    """The train/test folds and how they were made, for the report."""
    if args.test is not None:
        X_test, y_test, _ = read_corpus(args.test, args.format, args.column)
        return [_fold(X, y, X_test, y_test)], f"fit on train, scored on {args.test}"
    n_splits = args.cv or 5
    folds = _cv_folds(X, y, n_splits, args.random_state)
    seed = args.random_state
    return folds, f"{n_splits}-fold CV (KFold, shuffled, random_state={seed})"


def run(args):
    """Run ``compare``; a :class:`InputError` reports a problem with the input."""
    if args.test is not None and args.cv is not None:
        raise InputError("--cv and --test exclude each other: pass one of them.")
    estimators = _select(args)
    _check_outputs(args)
    X, y, kind = read_corpus(args.train, args.format, args.column)
    folds, how = _folds(args, X, y)
    print(
        f"train: {args.train} ({kind}): {len(X)} sentences, {sum(map(len, X))} "
        f"tokens, {len(set(chain.from_iterable(y)))} tags"
    )
    n_test = sum(fold.oov.size for fold in folds)
    n_oov = sum(int(fold.oov.sum()) for fold in folds)
    print(f"evaluation: {how}; {n_test} test tokens, {n_oov / n_test:.1%} OOV")
    results, models = {}, {}
    for name, estimator in estimators.items():
        results[name], models[name] = _evaluate(name, estimator, folds, args.verbose)
    _print_table(estimators, results)
    for name, result in results.items():
        if result["capped"]:
            print(
                f"note: {name} stopped at max_iter={estimators[name].max_iter} in "
                f"{result['capped']} of {len(folds)} fit(s), before converging; try "
                "a larger --max-iter."
            )
    if args.plot is not None:
        plot(results, args.plot, f"{args.train}: {how}")
        print(f"plot: {args.plot}")
    if args.save is not None:
        if args.test is None:  # refit on the whole train file, as GridSearchCV does
            models = {name: clone(est).fit(X, y) for name, est in estimators.items()}
        for path in save(models, args.save):
            print(f"saved: {path}")
    return 0
