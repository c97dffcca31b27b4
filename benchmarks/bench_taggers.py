"""Part-of-speech taggers on UD English EWT (train -> test): accuracy and time.

Usage::

    python benchmarks/bench_taggers.py --data DIR [--models a,b] [--repeat 3] \
        [--split dev]

Each entry of ``TAGGERS`` is a named factory returning an object with
``fit(X, y)`` and ``predict(X)`` on lists of token / tag sequences; peers
(NLTK, sklearn-crfsuite) are wrapped to that interface and skipped when not
importable. To benchmark another tagger, register one more factory.
"""

import argparse
import functools
import itertools
import os
import platform
import time
from pathlib import Path

import numpy as np
from _cli import split_names
from _summary import mean_range

from skrnn import HMMTagger, RNNTagger, VotingTagger
from skrnn.datasets import load_conllu

TAGGERS = {}


def register(name):
    """Add a factory to ``TAGGERS`` under ``name``."""

    def decorator(factory):
        TAGGERS[name] = factory
        return factory

    return decorator


@register("HMMTagger(order=1)")
def _hmm1():
    return HMMTagger()


@register("HMMTagger(order=2)")
def _hmm2():
    return HMMTagger(order=2)


# name of a seeded entry -> the name of its group (the seed left out), whose
# mean and range the table ends with
SEED_GROUPS = {}


def register_seeds(name, seeds=(0, 1, 2), **params):
    """Register ``RNNTagger(random_state=seed, **params)`` for each seed, under
    ``name`` formatted with the seed. ``embeddings="glove50"`` stands for GloVe
    6B 50d, read once (before the first fit's clock starts)."""
    for seed in seeds:
        register(name.format(seed=seed))(
            lambda seed=seed: RNNTagger(random_state=seed, **_resolved(params))
        )
        SEED_GROUPS[name.format(seed=seed)] = name.format(seed="*")


def _resolved(params):
    if params.get("embeddings") == "glove50":
        return {**params, "embeddings": _glove50()}
    return params


@functools.cache
def _glove50():
    from _glove import glove_path

    from skrnn.datasets import load_word_vectors

    return load_word_vectors(glove_path())


# The RNN's result depends on its seed (about ±0.4 points here): run several.
register_seeds("RNNTagger(random_state={seed})")
# What the linear model beside the network costs and gives on EWT.
register_seeds("RNNTagger(linear_window=None) seed {seed}", linear_window=None)
# What max_steps saves and costs: all 15 epochs at a constant rate (the
# defaults before session 8).
register_seeds("RNNTagger(max_steps=None) seed {seed}", max_steps=None)
# The opt-in character CNN beside the id streams.
register_seeds("RNNTagger(char_encoder='cnn') seed {seed}", char_encoder="cnn")
# And adversarial training of its inputs (0.2 chosen on dev from 0.05-1.0).
_ADVERSARIAL_CNN = dict(char_encoder="cnn", adversarial=0.2)
register_seeds(
    "RNNTagger(char_encoder='cnn', adversarial=0.2) seed {seed}", **_ADVERSARIAL_CNN
)
# A soft vote of two of those, fitted side by side (one per core): members of
# seeds 0 and 1, 2 and 3, 4 and 5, so the three votes share no member.
_VOTE = "VotingTagger(2 RNNTagger(char_encoder='cnn', adversarial=0.2), n_jobs=2)"
for _first in (0, 2, 4):
    _name = f"{_VOTE} seeds {_first}+{_first + 1}"
    register(_name)(
        lambda first=_first: VotingTagger(
            [
                (f"seed{seed}", RNNTagger(random_state=seed, **_ADVERSARIAL_CNN))
                for seed in (first, first + 1)
            ],
            n_jobs=2,
        )
    )
    SEED_GROUPS[_name] = f"{_VOTE} seeds *"
# The CRF output layer (issue 29: no worse than the softmax on UPOS).
register_seeds("RNNTagger(output='crf') seed {seed}", output="crf")
# Pretrained word vectors (the bench extra).
register_seeds("RNNTagger(embeddings=glove50) seed {seed}", embeddings="glove50")
# ... with the character CNN (session 23: within goal 2's 180 s, no more accurate)
register_seeds(
    "RNNTagger(embeddings=glove50, char_encoder='cnn') seed {seed}",
    embeddings="glove50",
    char_encoder="cnn",
)
# ... with the character CNN and adversarial training (issue 28, goal 2; dev
# seed 0: 95.42% with GloVe alone, 95.59 with the CNN, 95.83 with both).
register_seeds(
    "RNNTagger(embeddings=glove50, char_encoder='cnn', adversarial=0.2) seed {seed}",
    embeddings="glove50",
    **_ADVERSARIAL_CNN,
)


class _NLTKAdapter:
    """fit/predict over lists of sequences for an NLTK tagger."""

    def __init__(self, train):
        self._train = train

    def fit(self, X, y):
        pairs = [list(zip(s, t, strict=True)) for s, t in zip(X, y, strict=True)]
        self.tagger_ = self._train(pairs)
        return self

    def predict(self, X):
        return [[tag for _, tag in self.tagger_.tag(list(s))] for s in X]


@register("NLTK HMM (Lidstone 0.1)")
def _nltk_hmm():
    from nltk.probability import LidstoneProbDist
    from nltk.tag.hmm import HiddenMarkovModelTrainer

    def train(pairs):
        return HiddenMarkovModelTrainer().train_supervised(
            pairs, estimator=lambda fd, bins: LidstoneProbDist(fd, 0.1, bins)
        )

    return _NLTKAdapter(train)


@register("NLTK TnT")
def _nltk_tnt():
    from nltk.tag.tnt import TnT

    def train(pairs):
        tagger = TnT()
        tagger.train(pairs)
        return tagger

    return _NLTKAdapter(train)


@register("NLTK Perceptron (5 it.)")
def _nltk_perceptron():
    from nltk.tag.perceptron import PerceptronTagger

    def train(pairs):
        tagger = PerceptronTagger(load=False)
        tagger.train(pairs, nr_iter=5)
        return tagger

    return _NLTKAdapter(train)


def _crf_features(sentence):
    feats = []
    for i, word in enumerate(sentence):
        f = {
            "bias": 1.0,
            "lower": word.lower(),
            "suf3": word[-3:],
            "suf2": word[-2:],
            "istitle": word.istitle(),
            "isupper": word.isupper(),
            "isdigit": word.isdigit(),
        }
        if i > 0:
            f["-1:lower"] = sentence[i - 1].lower()
            f["-1:istitle"] = sentence[i - 1].istitle()
        else:
            f["BOS"] = True
        if i < len(sentence) - 1:
            f["+1:lower"] = sentence[i + 1].lower()
            f["+1:istitle"] = sentence[i + 1].istitle()
        else:
            f["EOS"] = True
        feats.append(f)
    return feats


class _CRFAdapter:
    def fit(self, X, y):
        import sklearn_crfsuite

        self.crf_ = sklearn_crfsuite.CRF(
            algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=100
        )
        self.crf_.fit([_crf_features(s) for s in X], [list(t) for t in y])
        return self

    def predict(self, X):
        return self.crf_.predict([_crf_features(s) for s in X])


@register("sklearn-crfsuite CRF")
def _crf():
    import sklearn_crfsuite  # noqa: F401  (fail early when missing)

    return _CRFAdapter()


def _run(factory, X, y, X_test, repeat):
    """Best-of-``repeat`` fit and predict times, and the predictions."""
    fit_s, predict_s = [], []
    for _ in range(repeat):
        model = factory()
        start = time.perf_counter()
        model.fit(X, y)
        mid = time.perf_counter()
        pred = model.predict(X_test)
        end = time.perf_counter()
        fit_s.append(mid - start)
        predict_s.append(end - mid)
    return min(fit_s), min(predict_s), pred


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=os.environ.get("SKRNN_DATA_DIR"),
        help="directory holding ud_english_ewt/ (default: $SKRNN_DATA_DIR)",
    )
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated names from: " + "; ".join(TAGGERS),
    )
    parser.add_argument("--repeat", type=int, default=1, help="best of N timings")
    parser.add_argument(
        "--split",
        choices=("test", "dev"),
        default="test",
        help="the split scored: dev to choose a setting, test to report it",
    )
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data or set SKRNN_DATA_DIR")
    ewt = Path(args.data) / "ud_english_ewt"
    X, y = load_conllu(ewt / "en_ewt-ud-train.conllu")
    X_test, y_test = load_conllu(ewt / f"en_ewt-ud-{args.split}.conllu")
    names = list(TAGGERS) if args.models is None else split_names(args.models)

    gold = np.array(list(itertools.chain.from_iterable(y_test)))
    seen = set(itertools.chain.from_iterable(X))
    oov = np.array([w not in seen for w in itertools.chain.from_iterable(X_test)])
    print(
        f"UD English EWT: {len(X)} train sentences ({sum(map(len, X))} tokens), "
        f"{len(X_test)} {args.split} sentences ({len(gold)} tokens, "
        f"{oov.mean():.1%} OOV)"
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}\n")
    header = (
        f"| {'tagger':<26} | accuracy | OOV acc. | fit s | predict s | fit+predict s |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    groups = {}
    for name in names:
        try:
            factory = TAGGERS[name]
            factory()  # imports the peer library, if any
        except ImportError as exc:
            print(f"| {name:<26} | skipped: {exc} |")
            continue
        fit_s, predict_s, pred = _run(factory, X, y, X_test, args.repeat)
        pred = np.array(list(itertools.chain.from_iterable(pred)))
        correct = pred == gold
        print(
            f"| {name:<26} | {correct.mean():8.2%} | {correct[oov].mean():8.2%} | "
            f"{fit_s:5.2f} | {predict_s:9.2f} | {fit_s + predict_s:13.2f} |",
            flush=True,
        )
        if name in SEED_GROUPS:
            groups.setdefault(SEED_GROUPS[name], []).append(
                (correct.mean(), correct[oov].mean(), fit_s)
            )
    for group, runs in groups.items():
        if len(runs) > 1:
            accuracy, oov_accuracy, fit = np.array(runs).T
            print(
                f"| {group}, mean (range) over {len(runs)} seeds | "
                f"{mean_range(accuracy, '.2%')} | {mean_range(oov_accuracy, '.2%')} | "
                f"{mean_range(fit, '.1f')} | | |"
            )


if __name__ == "__main__":
    main()
