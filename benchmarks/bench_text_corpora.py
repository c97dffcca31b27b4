"""Generality (issue 12): RNNClassifier() against bag-of-words baselines on
five public text-classification corpora of different kinds, 5-fold CV.

Usage::

    python benchmarks/bench_text_corpora.py --data DIR
        [--corpora ag_news,sms_spam,trec,cr,subj] [--seeds 0,1,2] [--max-docs N]
        [--rnn-params '{"max_iter": 1}'] [--glove]

``DIR`` (default: ``$SKRNN_CORPORA_DIR``) holds one directory per corpus, the files
copied unchanged from the GitHub repositories named below:

``ag_news/test.csv``, ``ag_news/classes.txt``
    News topic, 4 classes (World, Sports, Business, Sci/Tech; 1,900 each): the
    7,600-article test split of AG's News (Zhang, Zhao & LeCun, "Character-level
    Convolutional Networks for Text Classification", NIPS 2015), from
    suuuch/TransformerClassification, ``data/ag_news_csv/``. CSV rows
    ``"class","title","description"``, the class a 1-based line number of
    ``classes.txt``; a document is title + description, with
    the backslashes that stand for line breaks made spaces. The 120,000-article
    training split is not used.
``sms_spam/SMSSpamCollection``
    SMS spam, 2 classes (ham 4,827, spam 747): the UCI SMS Spam Collection v.1
    (Almeida, Gómez Hidalgo & Yamakami, "Contributions to the Study of SMS Spam
    Filtering", DocEng 2011), from hamzaaacodes/sms-spam-collection,
    ``SMSSpamCollection``. Lines ``label<TAB>message``; that copy's added header
    line ``Label<TAB>SMS`` is skipped.
``trec/train_5500.label``, ``trec/TREC_10.label``
    Question type, the 6 coarse classes (ABBR, DESC, ENTY, HUM, LOC, NUM) of the
    TREC question classification data (Li & Roth, "Learning Question
    Classifiers", COLING 2002), training and test sets pooled (5,452 + 500 =
    5,952 questions), from FreedomIntelligence/qnn, ``data/TREC/`` (SentEval's
    file names). Lines ``COARSE:fine question``, latin-1.
``cr/custrev.pos``, ``cr/custrev.neg``
    Product-review sentiment, 2 classes (pos 2,405, neg 1,366): the customer
    review sentences of Hu & Liu ("Mining and Summarizing Customer Reviews", KDD
    2004) as tokenized and distributed by Kim (2014) and SentEval, from
    FreedomIntelligence/qnn, ``data/CR/``. One sentence a line; the 4 empty
    lines are skipped.
``subj/subj.subjective``, ``subj/subj.objective``
    Subjectivity, 2 classes (5,000 each): Pang & Lee's subjectivity dataset v1.0
    (``quote.tok.gt9.5000`` / ``plot.tok.gt9.5000``; "A Sentimental Education",
    ACL 2004), from FreedomIntelligence/qnn, ``data/SUBJ/`` (SentEval's file
    names). One sentence a line. Snippets of movie reviews and plot summaries,
    but not SST.

No corpus is subsampled by default (the largest has 10,000 documents);
``--max-docs N`` keeps a stratified random ``N`` of each corpus
(``train_test_split(stratify=y, random_state=0)``), for smoke tests.

Every model sees the same tokens: ``re.findall(r"\\w+|[^\\w\\s]", text.lower())``.
The baselines are written as scikit-learn's text tutorials write them, with no
per-corpus tuning: ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` +
``LogisticRegression(max_iter=1000)``, and ``CountVectorizer(ngram_range=(1, 2))``
+ ``MultinomialNB()``, both fed the token lists (``tokenizer=`` identity,
``lowercase=False``). ``RNNClassifier(random_state=seed)`` runs with its
defaults for each of ``--seeds``. Accuracy is cross-validated with
``cross_validate`` over ``StratifiedKFold(5, shuffle=True, random_state=0)``, the
same folds for every model and seed; the RNN's figure is the mean over seeds
(each the mean of the 5 folds) and its range, its time the mean fit time per
fold. The baselines are deterministic and run once. ``--rnn-params`` (JSON)
overrides RNNClassifier parameters, for smoke tests only: the table is of the
defaults. ``--glove`` gives the RNN ``embeddings=`` GloVe 6B 50d (read once; see
``_glove.py``): issue 28's generality goal.
"""

import argparse
import csv
import json
import os
import platform
import re
import time
import warnings
from pathlib import Path

import numpy as np
from _glove import glove_path
from _summary import mean_range
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier
from skrnn.datasets import load_word_vectors

_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokenize(text):
    return _TOKEN.findall(text.lower())


def _lines(path, encoding="utf-8"):
    return [line for line in path.read_text(encoding=encoding).splitlines() if line]


def load_ag_news(directory):
    with open(directory / "test.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    classes = (directory / "classes.txt").read_text(encoding="utf-8").splitlines()
    texts = [f"{title} {body}".replace("\\", " ") for _, title, body in rows]
    return texts, [classes[int(label) - 1] for label, _, _ in rows]


def load_sms_spam(directory):
    pairs = [line.split("\t", 1) for line in _lines(directory / "SMSSpamCollection")]
    pairs = [(label, text) for label, text in pairs if label in ("ham", "spam")]
    return [text for _, text in pairs], [label for label, _ in pairs]


def load_trec(directory):
    texts, labels = [], []
    for name in ("train_5500.label", "TREC_10.label"):
        for line in _lines(directory / name, encoding="latin-1"):
            label, text = line.split(" ", 1)
            texts.append(text)
            labels.append(label.split(":")[0])
    return texts, labels


def _one_class_per_file(directory, files):
    texts, labels = [], []
    for label, name in files.items():
        lines = _lines(directory / name)
        texts += lines
        labels += [label] * len(lines)
    return texts, labels


def load_cr(directory):
    return _one_class_per_file(directory, {"pos": "custrev.pos", "neg": "custrev.neg"})


def load_subj(directory):
    return _one_class_per_file(
        directory, {"subjective": "subj.subjective", "objective": "subj.objective"}
    )


LOADERS = {
    "ag_news": load_ag_news,
    "sms_spam": load_sms_spam,
    "trec": load_trec,
    "cr": load_cr,
    "subj": load_subj,
}


def load(data_dir, name, max_docs):
    texts, labels = LOADERS[name](Path(data_dir) / name)
    X, y = [tokenize(t) for t in texts], np.asarray(labels)
    if max_docs is not None and max_docs < len(X):
        X, _, y, _ = train_test_split(
            X, y, train_size=max_docs, stratify=y, random_state=0
        )
    return X, y


def _identity(tokens):
    return tokens


def baselines():
    tokens = {"tokenizer": _identity, "lowercase": False, "token_pattern": None}
    return {
        "TF-IDF+LR": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, **tokens),
            LogisticRegression(max_iter=1000),
        ),
        "MNB": make_pipeline(
            CountVectorizer(ngram_range=(1, 2), **tokens), MultinomialNB()
        ),
    }


def cv_accuracy(model, X, y):
    """Mean 5-fold accuracy and mean fit seconds per fold."""
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = cross_validate(model, X, y, cv=cv, error_score="raise")
    return result["test_score"].mean(), result["fit_time"].mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_CORPORA_DIR"))
    parser.add_argument("--corpora", default=",".join(LOADERS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--max-docs", type=int, help="stratified subsample of each corpus"
    )
    parser.add_argument(
        "--rnn-params", default="{}", help="JSON of RNNClassifier params"
    )
    parser.add_argument("--glove", action="store_true", help="embeddings=glove50")
    args = parser.parse_args()
    if args.data is None:
        parser.error("give --data or set SKRNN_CORPORA_DIR")
    corpora = args.corpora.split(",")
    unknown = sorted(set(corpora) - set(LOADERS))
    if unknown:
        parser.error(f"unknown corpora {unknown}; known: {', '.join(LOADERS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    rnn_params = json.loads(args.rnn_params)
    shown = dict(rnn_params)
    if args.glove:
        rnn_params["embeddings"] = load_word_vectors(glove_path())
        shown["embeddings"] = "glove50"
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}; seeds {seeds}; "
        f"RNNClassifier params {shown or 'defaults'}"
        + (f"; at most {args.max_docs} docs per corpus" if args.max_docs else ""),
        flush=True,
    )
    rows = []
    for name in corpora:
        X, y = load(args.data, name, args.max_docs)
        base = {key: cv_accuracy(m, X, y) for key, m in baselines().items()}
        runs = []
        for seed in seeds:
            score, seconds = cv_accuracy(
                RNNClassifier(random_state=seed, **rnn_params), X, y
            )
            runs.append((score, seconds))
            print(
                f"# {name} seed {seed}: RNN {score:.4f}, {seconds:.1f} s/fold",
                flush=True,
            )
        scores, times = np.array(runs).T
        best = max(score for score, _ in base.values())
        rows.append(
            f"| {name} | {len(X)} | {len(np.unique(y))} | "
            f"{base['TF-IDF+LR'][0]:.4f} | {base['MNB'][0]:.4f} | "
            f"{mean_range(scores)} | "
            f"{times.mean():.1f} | {100 * (scores.mean() - best):+.2f} pt |"
        )
    print(
        "| corpus | docs | classes | TF-IDF+LR | MNB | RNNClassifier mean (range) "
        "| RNN s/fold | RNN − best baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"# total {time.perf_counter() - start:.0f} s")
