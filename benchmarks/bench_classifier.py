"""Sentence sentiment on SST-2 (train -> test): RNNClassifier against bag-of-words.

Usage::

    python benchmarks/bench_classifier.py --data DIR [--seeds 0 1 2] [--quick]
        [--rnn-params '{"hidden_size": 128}' ...] [--no-baselines]
        [--vote-sizes 2 3 5] [--glove]

``DIR`` holds ``sst2/stsa.binary.{train,dev,test}`` (default: ``$SKRNN_DATA_DIR``).
Every model is fitted on the 6,920 training sentences only and scored on the 1,821
test sentences (and the 872 dev sentences, reported but never used for fitting or
selection). The baselines are MultinomialNB on unigram+bigram counts and TF-IDF
(unigrams+bigrams) + LogisticRegression(C=10); ``RNNClassifier`` runs with its default
parameters, once per seed, and the table gives the mean and the standard deviation
over seeds and every seed's test accuracy. Each ``--rnn-params`` JSON adds a row
of ``RNNClassifier(**params)`` over the same seeds (the ablations in
docs/benchmarks.md). ``--vote-sizes K`` adds, for each row, the soft vote of
every group of ``K`` of its seeds' fitted models (what
``VotingClassifier(voting="soft")`` of them predicts), at no extra fit.
``--glove`` adds the row ``RNNClassifier(embeddings=glove50)``: GloVe 6B 50d
read once by ``skrnn.datasets.load_word_vectors`` from its text file (see
``_glove.py``; the ``bench`` extra); ``"embeddings": "glove50"`` in a
``--rnn-params`` JSON means the same vectors.
"""

import argparse
import itertools
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from _glove import glove_path
from _summary import mean_range
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier
from skrnn.datasets import load_sst2, load_word_vectors


def load(data_dir, quick):
    splits = {}
    for split in ("train", "dev", "test"):
        X, y = load_sst2(Path(data_dir) / "sst2" / f"stsa.binary.{split}")
        if quick:
            X, y = X[:1000], y[:1000]
        splits[split] = (X, y)
    return splits


def _bag_of_words(classifier, tfidf):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    vectorizer = (TfidfVectorizer if tfidf else CountVectorizer)(
        analyzer=_identity_bigrams
    )
    return make_pipeline(vectorizer, classifier)


def _identity_bigrams(tokens):
    """Lowercased unigrams and bigrams of an already tokenized sentence."""
    words = [t.lower() for t in tokens]
    return words + [f"{a} {b}" for a, b in zip(words[:-1], words[1:], strict=True)]


def baselines():
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    return {
        "MultinomialNB, unigram+bigram counts": lambda seed: _bag_of_words(
            MultinomialNB(), tfidf=False
        ),
        "TF-IDF unigram+bigram + LogisticRegression(C=10)": lambda seed: _bag_of_words(
            LogisticRegression(C=10.0, max_iter=1000), tfidf=True
        ),
    }


def run(name, factory, splits, seeds, verbose):
    rows = []
    for seed in seeds:
        model = factory(seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(*splits["train"])
        fit_time = time.perf_counter() - start
        row = {
            "seed": seed,
            "fit": fit_time,
            "dev": model.score(*splits["dev"]),
            "test": model.score(*splits["test"]),
            "epochs": getattr(model, "n_iter_", None),
            "classes": model.classes_,
            "proba": {s: model.predict_proba(splits[s][0]) for s in ("dev", "test")},
        }
        rows.append(row)
        if verbose:
            print(f"  {name} seed {seed}: {row}", flush=True)
    return rows


def soft_votes(rows, size, splits):
    """Rows for the soft vote (mean ``predict_proba``) of every group of ``size``
    of the seeds' fitted models: what ``VotingClassifier(voting="soft")`` of
    those members predicts. Its fit time is the members' summed."""
    votes = []
    for group in itertools.combinations(rows, size):
        row = {"fit": sum(r["fit"] for r in group), "epochs": None}
        for split in ("dev", "test"):
            proba = np.mean([r["proba"][split] for r in group], axis=0)
            predicted = group[0]["classes"][proba.argmax(axis=1)]
            row[split] = float(np.mean(predicted == np.asarray(splits[split][1])))
        votes.append(row)
    return votes


def report(results):
    print(
        "| model | test accuracy % (mean (range)) | per seed | dev accuracy % | "
        "fit time (s) | epochs |"
    )
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        tests = [r["test"] for r in rows]
        seeded = "seed" in rows[0]  # a vote's row stands for a group of seeds
        per_seed = ", ".join(f"{100 * t:.2f}" for t in tests) if seeded else "-"
        epochs = [r["epochs"] for r in rows if r["epochs"] is not None]
        print(
            f"| {name} | {mean_range(100 * np.array(tests), '.2f')} | {per_seed} | "
            f"{mean_range([100 * r['dev'] for r in rows], '.2f')} | "
            f"{statistics.fmean(r['fit'] for r in rows):.1f} | "
            f"{', '.join(map(str, epochs)) or '-'} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKRNN_DATA_DIR"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--quick", action="store_true", help="1,000 sentences per split"
    )
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--rnn-params",
        nargs="*",
        default=[],
        help="JSON of RNNClassifier params; each adds a row",
    )
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument(
        "--glove", action="store_true", help="add RNNClassifier(embeddings=glove50)"
    )
    parser.add_argument(
        "--vote-sizes",
        type=int,
        nargs="*",
        default=[],
        help="also the soft votes of every group of this many seeds' models",
    )
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data DIR or set SKRNN_DATA_DIR")
    splits = load(args.data, args.quick)
    print(
        f"SST-2: train {len(splits['train'][0])}, dev {len(splits['dev'][0])}, "
        f"test {len(splits['test'][0])} sentences; {platform.processor() or ''} "
        f"{os.cpu_count()} cores, numpy {np.__version__}\n"
    )
    results = {}
    if not args.no_baselines:
        for name, factory in baselines().items():
            # deterministic: one run stands for every seed
            results[name] = run(name, factory, splits, args.seeds[:1], args.verbose)
    variants = {"RNNClassifier() defaults": {}}
    specs = [json.loads(spec) for spec in args.rnn_params]
    if args.glove:
        specs.insert(0, {"embeddings": "glove50"})
    for params in specs:
        variants[f"RNNClassifier({_call_args(params)})"] = params
    glove = _glove_if_named(specs)
    for name, params in variants.items():
        if params.get("embeddings") == "glove50":
            params = {**params, "embeddings": glove}
        results[name] = run(
            name,
            lambda seed, params=params: RNNClassifier(random_state=seed, **params),
            splits,
            args.seeds,
            args.verbose,
        )
        for size in args.vote_sizes:
            votes = soft_votes(results[name], size, splits)
            results[f"soft vote of {size} {name} ({len(votes)} groups)"] = votes
    report(results)


def _call_args(params):
    return ", ".join(
        f"{key}={value if key == 'embeddings' else repr(value)}"
        for key, value in params.items()
    )


def _glove_if_named(specs):
    """GloVe 6B 50d, read from its text file once, if a row uses it."""
    if not any(spec.get("embeddings") == "glove50" for spec in specs):
        return None
    start = time.perf_counter()
    glove = load_word_vectors(glove_path())
    print(f"{glove} read in {time.perf_counter() - start:.1f} s\n", flush=True)
    return glove


if __name__ == "__main__":
    main()
