import random
import re
import subprocess
import sys
from itertools import chain
from unittest.mock import ANY

import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_val_score

from skrnn import HMMTagger
from skrnn.__main__ import _classify, _parser, _tag, main
from skrnn._lm_demo import make_grammar
from skrnn.datasets import make_entity_tagging, make_tagging
from skrnn.metrics import (
    entity_f1_score,
    entity_precision_score,
    entity_recall_score,
    flat_accuracy_scorer,
    invalid_transitions,
)


@pytest.mark.parametrize(
    "task, models",
    [
        ("tag", ["HMMTagger()", "HMMTagger(order=2)", "RNNTagger(random_state=0)"]),
        ("classify", ["RNNClassifier(random_state=0)"]),
    ],
)
def test_main_job_prints_a_score_per_model(task, models, capsys):
    assert main([task, "--n-sequences", "120"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("data: synthetic")
    rows = {line[:34].strip(): line[34:].split() for line in lines[2:]}
    assert list(rows) == models
    for score, fit_s, predict_s in rows.values():
        assert 0.5 < float(score) <= 1.0  # well above chance on these tasks
        assert float(fit_s) >= 0 and float(predict_s) >= 0


@pytest.mark.parametrize(
    "argv, run, data, n_sequences",
    [
        ([], _tag, None, 2000),  # no argument: the tag demo, as before commands
        (["--data", "D"], _tag, "D", 2000),
        (["--data", "D", "tag"], _tag, "D", 2000),  # kept, not reset by "tag"
        (["--n-sequences", "9", "classify"], _classify, None, 9),
        (["classify", "--data", "D", "--n-sequences", "9"], _classify, "D", 9),
    ],
)
def test_demo_options_before_or_after_the_command(argv, run, data, n_sequences):
    args = _parser().parse_args(argv)
    assert (args.run, args.data, args.n_sequences) == (run, data, n_sequences)


# --- compare ------------------------------------------------------------------------


def _write_conllu(path, X, y):
    with open(path, "w", encoding="utf-8") as f:
        for words, tags in zip(X, y, strict=True):
            f.write("# sent_id = s\n")
            for i, (word, tag) in enumerate(zip(words, tags, strict=True), start=1):
                f.write(f"{i}\t{word}\t{word}\t{tag}\t{tag.upper()}\t_\t0\tdep\t_\t_\n")
            f.write("\n")


def _write_tsv(path, X, y):
    with open(path, "w", encoding="utf-8") as f:
        for words, tags in zip(X, y, strict=True):
            f.writelines(f"{w}\t{t}\n" for w, t in zip(words, tags, strict=True))
            f.write("\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Train and test data in both formats; the test part has OOV words."""
    X, y = make_tagging(n_sequences=80, random_state=0)
    X_test = X[60:] + [["unseen1", "w1", "unseen2"]]
    y_test = y[60:] + [["t0", "t1", "t2"]]
    root = tmp_path_factory.mktemp("corpus")
    files = {"X": X[:60], "y": y[:60], "X_test": X_test, "y_test": y_test}
    for part, (Xp, yp) in {"train": (X[:60], y[:60]), "test": (X_test, y_test)}.items():
        _write_conllu(root / f"{part}.conllu", Xp, yp)
        _write_tsv(root / f"{part}.tsv", Xp, yp)
        files[part] = str(root / f"{part}.conllu")
        files[part + "_tsv"] = str(root / f"{part}.tsv")
    return files


_SCORE = r"(?P<{0}>n/a|[\d.]+)(?: ± (?P<{0}_std>[\d.]+))?"
_ROW = re.compile(
    rf"^(?P<name>\S+) +(?P<estimator>\w+\(.*?\)) +{_SCORE.format('acc')} +"
    rf"{_SCORE.format('oov')}"
    # The entity columns, printed for entity tags only.
    rf"(?: +{_SCORE.format('prec')} +{_SCORE.format('rec')} +{_SCORE.format('f1')}"
    r" +(?P<invalid>\d+))?"
    r" +(?P<fit>[\d.]+) +(?P<predict>[\d.]+)$"
)


def _table(out):
    """The rows of compare's table by name, and the other lines."""
    rows, other = {}, []
    for line in out.splitlines():
        match = _ROW.match(line)
        if match:
            rows[match["name"]] = match.groupdict()
        else:
            other.append(line)
    return rows, other


def test_compare_cv_scores_are_cross_val_score_on_the_same_folds(corpus, capsys):
    assert main(["compare", "--train", corpus["train"], "--cv", "3",
                 "--estimators", "hmm,hmm2", "--random-state", "4"]) == 0  # fmt: skip
    rows, other = _table(capsys.readouterr().out)
    assert other[0] == f"train: {corpus['train']} (CoNLL-U, upos): 60 sentences, " + (
        f"{sum(map(len, corpus['X']))} tokens, 5 tags"
    )
    assert other[1].startswith(
        "evaluation: 3-fold CV (KFold, shuffled, random_state=4);"
    )
    assert list(rows) == ["hmm", "hmm2"]
    assert rows["hmm2"]["estimator"] == "HMMTagger(order=2)"
    cv = KFold(3, shuffle=True, random_state=4)
    for name, est in [("hmm", HMMTagger()), ("hmm2", HMMTagger(order=2))]:
        scores = cross_val_score(
            est, corpus["X"], corpus["y"], cv=cv, scoring=flat_accuracy_scorer
        )
        assert rows[name]["acc"] == f"{scores.mean():.4f}"
        assert rows[name]["acc_std"] == f"{scores.std():.4f}"


def test_compare_test_file_oov_accuracy(corpus, capsys):
    assert main(["compare", "--train", corpus["train"], "--test", corpus["test"],
                 "--estimators", "hmm"]) == 0  # fmt: skip
    rows, other = _table(capsys.readouterr().out)
    # The figures the table should hold, computed here from their definitions.
    model = HMMTagger().fit(corpus["X"], corpus["y"])
    predicted = np.concatenate(model.predict(corpus["X_test"]))
    true = np.array(list(chain.from_iterable(corpus["y_test"])))
    seen = set(chain.from_iterable(corpus["X"]))
    oov = np.array([w not in seen for w in chain.from_iterable(corpus["X_test"])])
    assert oov.sum() >= 2  # at least the two unseen words put in the test file
    assert other[1] == (
        f"evaluation: fit on train, scored on {corpus['test']}; {oov.size} test "
        f"tokens, {oov.mean():.1%} OOV"
    )
    assert rows["hmm"]["acc"] == f"{(predicted == true).mean():.4f}"
    assert rows["hmm"]["acc_std"] is None  # one test set: no spread
    assert rows["hmm"]["oov"] == f"{(predicted == true)[oov].mean():.4f}"


def test_compare_reads_tsv_as_conllu(corpus, capsys):
    tables = []
    for train, test in [("train", "test"), ("train_tsv", "test_tsv")]:
        argv = ["compare", "--train", corpus[train], "--test", corpus[test]]
        assert main(argv + ["--estimators", "hmm2"]) == 0
        rows, other = _table(capsys.readouterr().out)
        tables.append([(r["acc"], r["oov"]) for r in rows.values()])
    assert "(TOKEN<TAB>TAG)" in other[0]
    assert tables[0] == tables[1]


def test_compare_xpos_column_and_explicit_format(corpus, capsys):
    argv = ["compare", "--train", corpus["train"], "--column", "xpos"]
    assert main(argv + ["--format", "conllu", "--cv", "2", "--estimators", "hmm"]) == 0
    rows, other = _table(capsys.readouterr().out)
    assert "(CoNLL-U, xpos)" in other[0] and float(rows["hmm"]["acc"]) > 0.5


# --- compare on entity tags ---------------------------------------------------------


def _write_conll(path, X, y, columns=False):
    """CoNLL-2002's ``TOKEN TAG`` lines, or with ``columns`` CoNLL-2003's
    ``TOKEN POS CHUNK TAG``; a -DOCSTART- line and its blank line first."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("-DOCSTART- -X- -X- O\n\n" if columns else "-DOCSTART- O\n\n")
        for words, tags in zip(X, y, strict=True):
            for w, t in zip(words, tags, strict=True):
                f.write(f"{w} P{len(w) % 3} I-NP {t}\n" if columns else f"{w} {t}\n")
            f.write("\n")


@pytest.fixture(scope="module")
def ner(tmp_path_factory):
    """Synthetic BIO train and test files in the CoNLL-2002 and -2003 layouts."""
    X, y = make_entity_tagging(n_sequences=60, random_state=0)
    X_test, y_test = make_entity_tagging(n_sequences=30, random_state=1)
    root = tmp_path_factory.mktemp("ner")
    files = {"X": X, "y": y, "X_test": X_test, "y_test": y_test}
    for part, (Xp, yp) in {"train": (X, y), "test": (X_test, y_test)}.items():
        for suffix, columns in [("", False), ("_2003", True)]:
            _write_conll(root / f"{part}{suffix}.txt", Xp, yp, columns)
            files[part + suffix] = str(root / f"{part}{suffix}.txt")
        _write_tsv(root / f"{part}.tsv", Xp, yp)
        files[part + "_tsv"] = str(root / f"{part}.tsv")
    return files


def _entity_row(y_true, y_pred):
    """Entity precision, recall and F1 as compare computes them, by hand."""
    return [
        score(y_true, y_pred, zero_division=0.0)
        for score in (entity_precision_score, entity_recall_score, entity_f1_score)
    ]


def test_compare_conll_cv_prints_entity_scores_and_invalid_spans(ner, capsys):
    argv = ["compare", "--train", ner["train"], "--cv", "3"]
    estimators = ["--estimators", "hmm,rnn,rnn-softmax", "--max-iter", "1"]
    assert main(argv + estimators) == 0
    rows, other = _table(capsys.readouterr().out)
    n_tags = len({t for tags in ner["y"] for t in tags})
    assert other[0] == (
        f"train: {ner['train']} (CoNLL, last field): 60 sentences, "
        f"{sum(map(len, ner['X']))} tokens, {n_tags} tags"
    )
    assert other[2:4] == [
        "entities: IOB2 tags of 3 type(s) (LOC, ORG, PER), scored as whole "
        "entities by conlleval's rules",
        "invalid spans: predicted tag transitions that IOB2 forbids, summed over "
        "the test sets (in the true tags: 0)",
    ]
    assert re.match(
        r"name +estimator +accuracy +OOV accuracy +entity prec\. +entity recall +"
        r"entity F1 +invalid spans +fit s +predict s$",
        other[4],
    )
    assert list(rows) == ["hmm", "rnn", "rnn-softmax"]
    # The hmm row, computed by hand on the same folds.
    X, y = ner["X"], ner["y"]
    scores, invalid, invalid_without_rules = [], 0, 0
    for train, test in KFold(3, shuffle=True, random_state=0).split(X):
        X_train, y_train = [X[i] for i in train], [y[i] for i in train]
        predicted = HMMTagger().fit(X_train, y_train).predict([X[i] for i in test])
        scores.append(_entity_row([y[i] for i in test], predicted))
        invalid += invalid_transitions(predicted)
        free = HMMTagger(tag_scheme=None).fit(X_train, y_train)
        invalid_without_rules += invalid_transitions(free.predict([X[i] for i in test]))
    scores = np.array(scores)
    assert scores[:, 2].std() > 0  # the folds differ: the std is printed
    for k, key in enumerate(["prec", "rec", "f1"]):
        assert rows["hmm"][key] == f"{scores[:, k].mean():.4f}"
        assert rows["hmm"][key + "_std"] == f"{scores[:, k].std():.4f}"
    # An HMM's state before a span is "O": without the span rules it emits some
    # "O I-X" here; with them (the default) none.
    assert invalid_without_rules > 0
    assert invalid == 0 and rows["hmm"]["invalid"] == "0"
    # RNNTagger decodes under the IOB2 rules it detected, softmax or CRF
    for name in ("rnn", "rnn-softmax"):
        assert rows[name]["f1_std"] is not None and rows[name]["invalid"] == "0"


def test_compare_conll_test_file_entity_f1_as_computed_by_hand(ner, capsys):
    tables = []
    for train, test in [("train", "test"), ("train_tsv", "test_tsv")]:
        argv = ["compare", "--train", ner[train], "--test", ner[test], "--verbose"]
        assert main(argv + ["--estimators", "hmm"]) == 0
        rows, other = _table(capsys.readouterr().out)
        tables.append(rows)
    # Entity tags are entity tags in any format.
    assert "(TOKEN<TAB>TAG)" in other[0] and tables[1] == tables[0] | {
        "hmm": tables[0]["hmm"] | {"fit": ANY, "predict": ANY}
    }
    predicted = HMMTagger().fit(ner["X"], ner["y"]).predict(ner["X_test"])
    precision, recall, f1 = _entity_row(ner["y_test"], predicted)
    assert entity_f1_score(ner["y_test"], predicted) == f1  # compare's zero_division
    row = tables[0]["hmm"]
    assert (row["prec"], row["rec"], row["f1"]) == (
        f"{precision:.4f}", f"{recall:.4f}", f"{f1:.4f}"
    )
    assert row["f1_std"] is None  # one test set: no spread
    assert row["invalid"] == str(invalid_transitions(predicted, scheme="IOB2"))
    fold = next(line for line in other if line.startswith("hmm fold 1/1: "))
    assert f"entity F1 {f1:.4f}, invalid spans {row['invalid']}, fit " in fold


def test_compare_conll_column(ner, capsys):
    tables = {}
    for train, column in [("train", None), ("train_2003", None), ("train_2003", "3"),
                          ("train_2003", "-1"), ("train_2003", "1"),
                          ("train_2003", "-3")]:  # fmt: skip
        argv = ["compare", "--train", ner[train], "--format", "conll", "--cv", "2"]
        argv += ["--estimators", "hmm"] + (["--column", column] if column else [])
        assert main(argv) == 0
        rows, other = _table(capsys.readouterr().out)
        tables[train, column] = rows["hmm"] | {"fit": ANY, "predict": ANY}, other[0]
    ner_row, first = tables["train", None]
    assert "(CoNLL, last field)" in first and ner_row["f1"] is not None
    for key in [("train_2003", None), ("train_2003", "3"), ("train_2003", "-1")]:
        assert tables[key][0] == ner_row  # the same tags read from field 3
    assert "(CoNLL, field 3)" in tables["train_2003", "3"][1]
    # Field 1 holds POS-like tags: no entity columns, the same as field -3.
    pos_row, first = tables["train_2003", "1"]
    assert first.endswith(" tokens, 3 tags") and "(CoNLL, field 1)" in first
    assert pos_row["f1"] is None and pos_row["invalid"] is None
    assert tables["train_2003", "-3"][0] == pos_row


def test_compare_pos_tags_have_no_entity_columns(corpus, capsys):
    assert main(["compare", "--train", corpus["train"], "--estimators", "hmm"]) == 0
    out = capsys.readouterr().out
    assert "entity F1" not in out and "invalid spans" not in out


def test_compare_crfsuite(ner, tmp_path, capsys):
    pytest.importorskip("sklearn_crfsuite", reason="crfsuite needs sklearn-crfsuite")
    from skrnn._peers import CRFSuiteTagger

    argv = ["compare", "--train", ner["train"], "--test", ner["test"]]
    argv += ["--estimators", "crfsuite,hmm", "--save", str(tmp_path)]
    assert main(argv) == 0
    rows, other = _table(capsys.readouterr().out)
    assert rows["crfsuite"]["estimator"] == "CRFSuiteTagger()"
    predicted = CRFSuiteTagger().fit(ner["X"], ner["y"]).predict(ner["X_test"])
    f1 = entity_f1_score(ner["y_test"], predicted)
    assert rows["crfsuite"]["f1"] == f"{f1:.4f}"
    # Its features see the word before a span, which decides the type here.
    assert f1 > float(rows["hmm"]["f1"])
    assert other[-2] == "crfsuite: not saved (CRFSuiteTagger has no save method)"
    assert [p.name for p in tmp_path.iterdir()] == ["hmm.skrnn"]


def test_compare_verbose_rnn_and_note(corpus, capsys):
    argv = ["compare", "--train", corpus["train_tsv"], "--cv", "2", "--verbose"]
    assert main(argv + ["--estimators", "rnn,hmm", "--max-iter", "1"]) == 0
    rows, other = _table(capsys.readouterr().out)
    assert list(rows) == ["rnn", "hmm"]
    assert rows["rnn"]["estimator"] == "RNNTagger(max_iter=1, random_state=0)"
    assert [line.split(":")[0] for line in other if " fold " in line] == [
        "rnn fold 1/2", "rnn fold 2/2", "hmm fold 1/2", "hmm fold 2/2",
    ]  # fmt: skip
    epochs = [line for line in other if line.split()[:1] == ["1/1"]]
    assert len(epochs) == 2  # the RNN's table: one epoch per fold
    assert other[-1].startswith("note: rnn stopped at max_iter=1 in 2 of 2 fit(s)")


def test_compare_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    options = ["--train", "--test", "--cv", "--format", "--column", "--estimators",
               "--max-iter", "--random-state", "--plot", "--save",
               "--verbose"]  # fmt: skip
    for option in options:
        # An option's own help line, not only its place in the usage.
        assert re.search(rf"^  {option}\b.*\S.*$", out, re.M), option
    names = ["hmm", "hmm2", "rnn", "perceptron", "crfsuite", "TOKEN<TAB>TAG",
             "CoNLL-2002/2003", "-DOCSTART-", "entity", "invalid spans"]  # fmt: skip
    for name in names:
        assert name in out


def _only_xpos_missing(path):
    path.write_text("1\tI\tI\tPRON\t_\t_\t0\troot\t_\t_\n", encoding="utf-8")


@pytest.mark.parametrize(
    "make, args, message",
    [
        (None, ["--train", "{d}/missing.conllu"], "missing.conllu: no such file"),
        (None, ["--train", "{d}"], "Is a directory"),
        ("empty", ["--train", "{f}"], "holds no sentences"),
        ("comments", ["--train", "{f}"], "holds no sentences"),
        ("conllu", ["--train", "{f}", "--format", "tsv"],
         "is not TOKEN<TAB>TAG: line 2 is CoNLL-U"),
        ("tsv", ["--train", "{f}", "--format", "conllu"],
         "is not CoNLL-U (10 tab-separated fields): line 1 is TOKEN<TAB>TAG"),
        ("one_field", ["--train", "{f}"],
         "line 1 has one field, a token without a tag: expected CoNLL"),
        ("three_tabs", ["--train", "{f}"],
         "line 1 has 3 tab-separated fields: neither CoNLL-U"),
        ("latin1", ["--train", "{f}"], "is not UTF-8 text"),
        ("tsv_bad_line", ["--train", "{f}"], "line 2: expected 'TOKEN<TAB>TAG'"),
        ("conllu", ["--train", "{f}", "--column", "xpos"], "has no xpos tags"),
        ("conllu", ["--train", "{f}", "--column", "deprel"],
         "argument --column: invalid choice: 'deprel'"),
        ("tsv", ["--train", "{f}", "--column", "upos"], "names a CoNLL-U column"),
        ("conll", ["--train", "{f}", "--column", "xpos"],
         "--column xpos names a CoNLL-U column, but {f} is CoNLL"),
        ("tsv", ["--train", "{f}", "--column", "1"],
         "--column 1 is a field number of CoNLL columns, but {f} is TOKEN<TAB>TAG"),
        ("conllu", ["--train", "{f}", "--column", "-1"],
         "--column -1 is a field number of CoNLL columns"),
        ("conll", ["--train", "{f}", "--column", "0"], "--column 0 is the token's"),
        ("conll", ["--train", "{f}", "--column", "2"],
         "line 3: expected a token and its tag in whitespace-separated field 2, "
         "got 2 field(s): 'I B-PER'"),
        ("conll", ["--train", "{f}", "--column", "-3"], "field -3, got 2 field(s)"),
        ("conll", ["--train", "{f}", "--column", "last"],
         "argument --column: invalid choice: 'last'"),
        ("conll_no_tag", ["--train", "{f}"],
         "line 4: expected a token and its tag in whitespace-separated field -1, "
         "got 1 field(s): 'ran'"),
        ("conll", ["--train", "{f}", "--format", "tsv"],
         "is not TOKEN<TAB>TAG: line 3 is CoNLL"),
        ("conllu", ["--train", "{f}", "--format", "conll"],
         "is not CoNLL (space-separated TOKEN ... TAG columns): line 2 is CoNLL-U"),
        ("docstart", ["--train", "{f}"], "holds no sentences"),
        ("conll", ["--train", "{f}", "--estimators", "hmm,crf"],
         "choose from hmm, hmm2, rnn, rnn-crf, rnn-softmax, perceptron, crfsuite"),
        ("tsv", ["--train", "{f}", "--test", "{d}/missing.tsv"], "no such file"),
        ("tsv", ["--train", "{f}", "--estimators", "hmm,crf"],
         "unknown estimator 'crf' in --estimators; choose from hmm, hmm2, rnn"),
        ("tsv", ["--train", "{f}", "--cv", "1"], "--cv: must be at least 2"),
        ("tsv", ["--train", "{f}", "--cv", "3"], "--cv 3 needs at least 3 sentences"),
        ("tsv", ["--train", "{f}", "--cv", "2", "--test", "{f}"], "exclude each other"),
        ("tsv", ["--train", "{f}", "--max-iter", "0"], "must be at least 1"),
        ("tsv", ["--train", "{f}", "--save", "{f}"], "is a file, not a directory"),
        ("tsv", ["--train", "{f}", "--plot", "{d}/no/x.png"], "no such directory"),
        ("tsv", ["--test", "{f}"], "the following arguments are required: --train"),
    ],
)  # fmt: skip
def test_compare_bad_input_is_one_line_and_status_2(
    tmp_path, capsys, make, args, message
):
    contents = {
        "empty": b"",
        "comments": b"# sent_id = 1\n\n",
        "conllu": b"# c\n1\tI\tI\tPRON\t_\t_\t0\troot\t_\t_\n",
        "tsv": b"I\tPRON\n\nran\tVERB\n",
        "one_field": b"I\n",
        "three_tabs": b"I\tPRON\tx\n",
        "conll": b"-DOCSTART- O\n\nI B-PER\n\nran O\n",
        "conll_no_tag": b"-DOCSTART- O\n\nI B-PER\nran\n",
        "docstart": b"-DOCSTART- -X- -X- O\n\n",
        "latin1": "caf\u00e9\tNOUN\n".encode("latin-1"),
        "tsv_bad_line": b"I\tPRON\nran\tVERB\tx\n",
    }
    path = tmp_path / "corpus.txt"
    if make is not None:
        path.write_bytes(contents[make])
    argv = [a.format(d=tmp_path, f=path) for a in args]
    with pytest.raises(SystemExit) as exc:
        main(["compare", *argv])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was fitted, or half-printed
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("python -m skrnn compare: error: ")
    assert message.format(f=path) in lines[0]


def test_compare_error_from_the_command_line_has_no_traceback(tmp_path):
    missing = tmp_path / "missing.conllu"
    result = subprocess.run(
        [sys.executable, "-m", "skrnn", "compare", "--train", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"python -m skrnn compare: error: {missing}: no such file.\n"
    )


@pytest.mark.parametrize(
    "module, args, what, install",
    [
        ("matplotlib", ["--plot", "out.png"], "--plot", "matplotlib"),
        ("nltk", ["--estimators", "hmm,perceptron"], "--estimators perceptron",
         "nltk"),
        ("sklearn_crfsuite", ["--estimators", "crfsuite"], "--estimators crfsuite",
         "sklearn-crfsuite"),
    ],
)  # fmt: skip
def test_compare_optional_package_absent(
    monkeypatch, corpus, capsys, module, args, what, install
):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--train", corpus["train"], *args])
    assert exc.value.code == 2
    assert capsys.readouterr().err == (
        f"python -m skrnn compare: error: {what} needs {module}, which is not "
        f"installed (pip install {install}).\n"
    )


@pytest.mark.parametrize("data", ["corpus", "ner"])  # ner: entity F1 bars too
def test_compare_plot_writes_a_png(data, request, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib")
    from matplotlib.image import imread

    corpus = request.getfixturevalue(data)
    out = tmp_path / "compare.png"
    argv = ["compare", "--train", corpus["train"], "--cv", "2", "--plot", str(out)]
    assert main(argv + ["--estimators", "hmm,hmm2"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"plot: {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(out)
    assert image.shape[0] > 200 and image.shape[1] > 400  # a figure, not a stub
    assert image[..., :3].std() > 0.05  # something drawn on the white canvas


def test_compare_nltk_perceptron(corpus, tmp_path, capsys):
    pytest.importorskip("nltk", reason="the perceptron estimator needs nltk")
    state = random.getstate()
    argv = ["compare", "--train", corpus["train"], "--test", corpus["test"]]
    assert main(argv + ["--estimators", "perceptron,hmm"]) == 0
    assert random.getstate() == state  # NLTK's seeding of `random` is undone
    rows, _ = _table(capsys.readouterr().out)
    assert rows["perceptron"]["estimator"] == "NLTKPerceptronTagger()"
    assert float(rows["perceptron"]["acc"]) > 0.6
    # Same seed, same scores; --save skips the model it cannot save.
    argv += ["--estimators", "perceptron", "--save", str(tmp_path)]
    assert main(argv) == 0
    again, other = _table(capsys.readouterr().out)
    assert again["perceptron"] == rows["perceptron"] | {"fit": ANY, "predict": ANY}
    assert other[-1] == (
        "perceptron: not saved (NLTKPerceptronTagger has no save method)"
    )
    assert list(tmp_path.iterdir()) == []


def _load():
    import skrnn

    if not hasattr(skrnn, "load"):
        pytest.skip("skrnn.load (skrnn/_persistence.py) is not in this checkout")
    return skrnn.load


def test_compare_save_after_test_is_the_scored_model(corpus, tmp_path, capsys):
    load = _load()
    out = tmp_path / "models"
    argv = ["compare", "--train", corpus["train"], "--test", corpus["test"]]
    argv += ["--estimators", "hmm,rnn", "--max-iter", "1", "--save", str(out)]
    assert main(argv) == 0
    rows, other = _table(capsys.readouterr().out)
    assert other[-2:] == [f"saved: {out / 'hmm.skrnn'}", f"saved: {out / 'rnn.skrnn'}"]
    for name in ["hmm", "rnn"]:
        model = load(out / f"{name}.skrnn")
        assert repr(model) == rows[name]["estimator"]
        score = model.score(corpus["X_test"], corpus["y_test"])
        assert f"{score:.4f}" == rows[name]["acc"]


def test_compare_save_after_cv_refits_on_the_whole_file(corpus, tmp_path, capsys):
    load = _load()
    out = tmp_path / "models"
    argv = ["compare", "--train", corpus["train_tsv"], "--cv", "2"]
    assert main(argv + ["--estimators", "hmm2", "--save", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"saved: {out / 'hmm2.skrnn'}"
    loaded = load(out / "hmm2.skrnn").predict(corpus["X_test"])
    model = HMMTagger(order=2).fit(corpus["X"], corpus["y"])
    expected = model.predict(corpus["X_test"])
    assert all(map(np.array_equal, loaded, expected))


def test_lm_command_prints_perplexity_per_epoch_and_samples(capsys):
    assert main(["lm", "--max-iter", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("RNNLanguageModel on synthetic grammar")
    epochs = [line for line in lines if line.startswith("epoch")]
    assert len(epochs) == 2
    n_words = len({w for s in make_grammar(4000, random_state=0) for w in s})
    for line in epochs:  # below a uniform model over the words and the end token
        assert 1 < float(line.split("test perplexity")[1].split()[0]) < n_words + 1
    samples = lines[lines.index("samples:") + 1 :]
    assert len(samples) == 5 and all(s.split() for s in samples)


def test_lm_command_with_a_missing_corpus_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["lm", "--data", str(tmp_path)])
    assert exc.value.code == 2
    assert "expected PTB there" in capsys.readouterr().err
