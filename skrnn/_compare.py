"""``python -m skrnn compare``: the taggers side by side on the user's own corpus.

With ``--test`` each estimator is fitted on the ``--train`` file and scored on the
test file; otherwise every estimator is cross-validated on the same ``KFold``
splits of the train file (shuffled, seeded by ``--random-state``), so the folds'
scores are those of ``cross_val_score(est, X, y, cv=KFold(...),
scoring=flat_accuracy_scorer)``. The loop over the splits is written out here
because the OOV accuracy needs each fold's training vocabulary. When the tags are
entity tags (IOB2 or IOBES) each fold is also scored by whole entities
(``skrnn.metrics.entity_*_score``, conlleval's rules) and its predictions are
checked for invalid transitions (``skrnn._entities.invalid_transitions``).

The other libraries' taggers (NLTK's perceptron, sklearn-crfsuite's CRF) are in
``skrnn._peers``, where the benchmarks import them too.
"""

import argparse
import time
import warnings
from collections import namedtuple
from itertools import chain
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

from . import datasets
from ._entities import invalid_transitions
from ._peers import CRFSuiteTagger, NLTKPerceptronTagger
from ._tag_schemes import detect_scheme as entity_scheme
from .metrics import (
    entity_f1_score,
    entity_precision_score,
    entity_recall_score,
    flat_accuracy_score,
)

DESCRIPTION = """\
Compare the taggers on your own tagged corpus.

With --test each estimator is fitted on the --train file and scored on the test
file; otherwise it is cross-validated on the train file (K-fold, the same folds
for every estimator). The table gives the token accuracy, the accuracy on OOV
tokens (test tokens not seen in the training data), both as mean ± std over
the folds, and the mean fit and predict seconds. When the tags are entity tags
(each "O" or B-, I-, E-, S- and a type, as in B-PER), it also gives entity
precision, recall and F1 (whole entities, conlleval's rules, mean ± std over
the folds) and the invalid spans: the predicted tag transitions that the
scheme forbids (an I-X after O or after another type; in IOBES also an E-X so,
or a B-X/I-X that does not go on), summed over the folds.

A corpus is CoNLL-U; TOKEN<TAB>TAG lines with a blank line after each
sentence; or CoNLL-2002/2003 columns (the token, then tags, separated by
spaces; -DOCSTART- lines skipped). The format is detected from the first token
line unless --format is given: 10 tab-separated fields are CoNLL-U, 2 are
TOKEN<TAB>TAG, and a line of 2 or more space-separated fields without a tab is
CoNLL. Bad input (a missing file, a file in another format, an empty corpus, a
line without its tag, a tag column that is empty) ends with one line on stderr
and exit status 2.

examples:
  python -m skrnn compare --train train.conllu --cv 5 --plot cmp.png
  python -m skrnn compare --train esp.train --test esp.testb --estimators hmm,rnn"""


class InputError(Exception):
    """A problem with the user's input: ``main`` prints one line and exits with 2.

    Any command may raise it (``python -m skrnn``'s ``main`` catches it).
    """


# --- estimators ---------------------------------------------------------------------


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
        "rnn-crf": lambda: RNNTagger(output="crf", **rnn),
        "rnn-softmax": lambda: RNNTagger(output="softmax", **rnn),
        "perceptron": lambda: NLTKPerceptronTagger(random_state=args.random_state),
        "crfsuite": lambda: CRFSuiteTagger(),
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
    if "crfsuite" in names:
        _require(
            "sklearn_crfsuite", "--estimators crfsuite", "pip install sklearn-crfsuite"
        )
    return {name: makers[name]() for name in dict.fromkeys(names)}


def _require(module, option, install):
    try:
        __import__(module)
    except ImportError:
        raise InputError(
            f"{option} needs {module}, which is not installed ({install})."
        ) from None


# --- data -------------------------------------------------------------------------

_FORMATS = {
    "conllu": "CoNLL-U (10 tab-separated fields)",
    "tsv": "TOKEN<TAB>TAG",
    "conll": "CoNLL (space-separated TOKEN ... TAG columns)",
}
# A format given with --format reads the files the sniffer finds in these formats:
# a TOKEN<TAB>TAG line is also a line of two whitespace-separated columns.
_READS = {"conllu": {"conllu"}, "tsv": {"tsv"}, "conll": {"conll", "tsv"}}


def _sniff(path):
    """The format of the first token line (None for no token line) and its number.

    Tabs decide first, since a TOKEN<TAB>TAG token may hold spaces: 10
    tab-separated fields are CoNLL-U, 2 are TOKEN<TAB>TAG. A line without a
    tab is CoNLL if it has at least two space-separated fields (a token and a
    tag).
    """
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            n_tab_fields = len(line.split("\t"))
            if (
                not line.strip()  # a sentence break
                or (n_tab_fields == 1 and line.startswith("#"))  # a CoNLL-U comment
                or line.startswith("-DOCSTART-")  # a CoNLL document break
            ):
                continue
            if n_tab_fields == 1:
                if len(line.split()) >= 2:
                    return "conll", lineno
                raise InputError(
                    f"{path}, line {lineno} has one field, a token without a tag: "
                    f"expected {_FORMATS['conll']}, {_FORMATS['tsv']} or "
                    f"{_FORMATS['conllu']}."
                )
            fmt = {10: "conllu", 2: "tsv"}.get(n_tab_fields)
            if fmt is None:
                raise InputError(
                    f"{path}, line {lineno} has {n_tab_fields} tab-separated fields: "
                    f"neither {_FORMATS['conllu']} nor {_FORMATS['tsv']} (--format "
                    "conll reads whitespace-separated columns)."
                )
            return fmt, lineno
    return None, None


def _column(text):
    """Parse --column: a CoNLL-U column name or a CoNLL field number."""
    if text in ("upos", "xpos"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose upos or xpos for CoNLL-U, or a field "
            "number for CoNLL)"
        ) from None


def _check_column(path, fmt, column):
    """Refuse a --column that does not fit the file's format."""
    if column is None:
        return
    if isinstance(column, str) and fmt != "conllu":
        hint = {
            "tsv": "its one tag column is read; drop --column",
            "conll": "give the tag's field number (-1, the last, by default)",
        }[fmt]
        raise InputError(
            f"--column {column} names a CoNLL-U column, but {path} is "
            f"{_FORMATS[fmt]}: {hint}."
        )
    if isinstance(column, int) and fmt != "conll":
        hint = {
            "tsv": "drop --column, or pass --format conll to read it as columns",
            "conllu": "give upos or xpos",
        }[fmt]
        raise InputError(
            f"--column {column} is a field number of CoNLL columns, but {path} is "
            f"{_FORMATS[fmt]}: {hint}."
        )
    if column == 0:
        raise InputError(
            "--column 0 is the token's field; give the tag's field (-1, the last, "
            "by default)."
        )


def read_corpus(path, fmt=None, column=None):
    """Read a tagged corpus, checking its format, its tags and that it is not empty.

    Parameters
    ----------
    path : str
        A CoNLL-U, ``TOKEN<TAB>TAG`` or CoNLL (whitespace-separated columns) file.
    fmt : {"conllu", "tsv", "conll"} or None
        The expected format; None detects it from the first token line.
    column : {"upos", "xpos"}, int or None
        The CoNLL-U tag column (None: ``"upos"``), or the field of the tag in a
        CoNLL file (None: ``-1``, the last); an error for a ``TOKEN<TAB>TAG``
        file.

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
        if fmt is not None and found not in _READS[fmt]:
            raise InputError(
                f"{path} is not {_FORMATS[fmt]}: line {lineno} is {_FORMATS[found]}; "
                f"pass --format {found} or leave --format out."
            )
        fmt = fmt or found
        _check_column(path, fmt, column)
        if fmt == "tsv":
            X, y = datasets.load_token_tag(path)
            kind = "TOKEN<TAB>TAG"
        elif fmt == "conll":
            column = -1 if column is None else column
            X, y = datasets.load_conll(path, column=column)
            kind = "CoNLL, " + ("last field" if column == -1 else f"field {column}")
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
        what = f"tags in field {column}" if fmt == "conll" else f"{column} tags"
        raise InputError(
            f"{path} has no {what} (the column holds only '_'); try another --column."
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


def _evaluate(name, estimator, folds, verbose, scheme=None):
    """Fit a clone on each fold; return its scores and the last fold's model.

    The scores are one value per fold of accuracy, OOV accuracy (NaN if the
    fold has no OOV token), fit seconds and predict seconds; with an entity
    ``scheme`` also entity precision, recall and F1 and the number of invalid
    transitions in the predicted tags. ``capped`` is the number of fits that
    ran all ``max_iter`` epochs (reported once, under the table, instead of a
    ConvergenceWarning per fold).
    """
    rows = []
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
        row = {
            "accuracy": accuracy,
            "oov": oov,
            "fit": fitted - start,
            "predict": done - fitted,
        }
        line = f"accuracy {accuracy:.4f}, OOV accuracy {oov:.4f}"
        if scheme is not None:
            row.update(_entity_scores(fold.y_test, predicted, scheme))
            line += f", entity F1 {row['f1']:.4f}, invalid spans {row['invalid']}"
        rows.append(row)
        if verbose:
            print(
                f"{name} fold {k + 1}/{len(folds)}: {line}, fit {fitted - start:.2f}s",
                flush=True,
            )
    scores = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    return {**scores, "capped": capped}, model


def _entity_scores(y_true, y_pred, scheme):
    """Entity precision, recall and F1 (conlleval's rules, all types together)
    and the number of transitions in ``y_pred`` that ``scheme`` forbids."""
    # Predictions are strings read from the training tags, so they parse as
    # entity tags; a fold without any entity scores 0, as conlleval does.
    kwargs = {"zero_division": 0.0}
    return {
        "precision": entity_precision_score(y_true, y_pred, **kwargs),
        "recall": entity_recall_score(y_true, y_pred, **kwargs),
        "f1": entity_f1_score(y_true, y_pred, **kwargs),
        "invalid": invalid_transitions(y_pred, scheme=scheme),
    }


def _flat(sequences):
    return np.asarray(list(chain.from_iterable(sequences)))


def _cell(values):
    """Mean ± std over the folds (the value alone for one test set)."""
    if np.isnan(values).all():
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{np.nanmean(values):.4f} ± {np.nanstd(values):.4f}"


# The score columns of the table: (header, key). The entity columns are printed
# for entity tags only.
_COLUMNS = [("accuracy", "accuracy"), ("OOV accuracy", "oov")]
_ENTITY_COLUMNS = [
    ("entity prec.", "precision"),
    ("entity recall", "recall"),
    ("entity F1", "f1"),
]


def _print_table(estimators, results, scheme=None):
    width = max(len(repr(est)) for est in estimators.values()) + 2
    columns = _COLUMNS + (_ENTITY_COLUMNS if scheme is not None else [])
    header = f"{'name':<12}{'estimator':<{width}}"
    header += "".join(f"{title:<17}" for title, _ in columns)
    if scheme is not None:
        header += f"{'invalid spans':>13}"
    print(header + f"{'fit s':>8}{'predict s':>11}")
    for name, est in estimators.items():
        r = results[name]
        row = f"{name:<12}{est!r:<{width}}"
        row += "".join(f"{_cell(r[key]):<17}" for _, key in columns)
        if scheme is not None:
            row += f"{int(r['invalid'].sum()):>13}"  # the folds' test sets: disjoint
        print(row + f"{r['fit'].mean():>8.2f}{r['predict'].mean():>11.2f}")


def _describe_entities(scheme, y):
    """The lines above the table that say how entities are scored."""
    types = sorted({tag[2:] for tag in chain.from_iterable(y) if tag != "O"})
    in_true = invalid_transitions(y, scheme=scheme)  # not 0 for IOB1, say
    return [
        f"entities: {scheme} tags of {len(types)} type(s) ({', '.join(types)}), "
        "scored as whole entities by conlleval's rules",
        f"invalid spans: predicted tag transitions that {scheme} forbids, summed "
        f"over the test sets (in the true tags: {in_true})",
    ]


# --- outputs ------------------------------------------------------------------------


def plot(results, path, title):
    """Bar charts of accuracy and OOV accuracy (and entity F1 when the results
    have it), mean ± std, and of fit time."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend is needed

    names = list(results)
    x = np.arange(len(names))
    series = [("accuracy", "accuracy"), ("oov", "OOV accuracy")]
    if "f1" in results[names[0]]:
        series.append(("f1", "entity F1"))
    # No bars for a score no fold has (OOV accuracy without OOV tokens).
    series = [
        (key, label)
        for key, label in series
        if not all(np.isnan(results[n][key]).all() for n in names)
    ]
    bar = 0.8 / len(series)
    fig = Figure(figsize=(3 + 0.8 * len(series) * len(names), 4), layout="constrained")
    fig.suptitle(title, fontsize="medium")
    acc_ax, time_ax = fig.subplots(1, 2, width_ratios=[2, 1])
    for k, (key, label) in enumerate(series):
        offset = (k - (len(series) - 1) / 2) * bar
        means = [np.nanmean(results[n][key]) for n in names]
        stds = [np.nanstd(results[n][key]) for n in names]
        bars = acc_ax.bar(x + offset, means, bar, yerr=stds, capsize=3, label=label)
        acc_ax.bar_label(bars, fmt="%.3f", fontsize="small", label_type="center")
    acc_ax.set(xticks=x, xticklabels=names, ylim=(0, 1), ylabel="score")
    acc_ax.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1), ncols=len(series), frameon=False
    )
    # Log scale: an HMM fits in milliseconds, an RNN in minutes.
    bars = time_ax.bar(x, [results[n]["fit"].mean() for n in names], 0.6, color="gray")
    time_ax.bar_label(bars, fmt="%.2g", fontsize="small")
    time_ax.set(xticks=x, xticklabels=names, yscale="log", ylabel="fit time (s)")
    time_ax.margins(y=0.2)
    fig.savefig(path, dpi=100)


def save(models, directory):
    """Save each fitted model as ``directory/<name>.skrnn``; return the paths.

    Models without a ``save`` method (the other libraries' taggers) are reported
    and skipped.
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
        help="conllu; tsv for TOKEN<TAB>TAG lines with a blank line after each "
        "sentence; or conll for CoNLL-2002/2003 files: the token and its tags in "
        "whitespace-separated columns, -DOCSTART- lines skipped (default: "
        "detected from the first token line)",
    )
    parser.add_argument(
        "--column",
        type=_column,
        metavar="COLUMN",
        help="the tag column: upos or xpos in CoNLL-U (default upos); in CoNLL, "
        "the tag's field counted from 0, the token, negative from the end "
        "(default -1, the last: the entity tag of CoNLL-2002/2003)",
    )
    parser.add_argument(
        "--estimators",
        default="hmm,hmm2,rnn",
        metavar="LIST",
        help="comma-separated: hmm = HMMTagger(), hmm2 = HMMTagger(order=2), "
        "rnn = RNNTagger(random_state=SEED) (a CRF output for entity tags, "
        "a softmax for others), rnn-crf and rnn-softmax = the same with "
        "output='crf' or 'softmax', perceptron = NLTK's "
        "PerceptronTagger, 5 iterations (needs nltk), crfsuite = sklearn-crfsuite's "
        "CRF on its tutorial's word features (needs sklearn-crfsuite) (default: "
        "%(default)s)",
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
        help="write a bar chart of accuracy (and entity F1; mean ± std) and fit "
        "time (needs matplotlib)",
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
    y_test = [tags for fold in folds for tags in fold.y_test]
    scheme = entity_scheme(chain(chain.from_iterable(y), chain.from_iterable(y_test)))
    if scheme is not None:
        print(*_describe_entities(scheme, y_test), sep="\n")
    results, models = {}, {}
    for name, estimator in estimators.items():
        results[name], models[name] = _evaluate(
            name, estimator, folds, args.verbose, scheme
        )
    _print_table(estimators, results, scheme)
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
