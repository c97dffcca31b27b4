"""Loaders for the benchmark corpora and small synthetic sequence tasks.

The loaders read files the user already has (nothing is downloaded); ``data_dir``
returns the directory named by the ``SKRNN_DATA_DIR`` environment variable. The
generators return data in skrnn's input forms and are built so that a model has
to use context: per-token lookups or the last hidden state alone fall short.
"""

import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._word_vectors import WordVectors, load_word_vectors

__all__ = [
    "WordVectors",
    "data_dir",
    "load_conll",
    "load_conllu",
    "load_sst2",
    "load_token_tag",
    "load_word_vectors",
    "make_entity_tagging",
    "make_multichannel_series",
    "make_sequence_classification",
    "make_tagging",
]

_CONLLU_COLUMN = {"upos": 3, "xpos": 4}


def data_dir():
    """Return the data directory named by ``SKRNN_DATA_DIR``, or None if unset.

    Returns
    -------
    path : pathlib.Path or None
        The directory holding ``ud_english_ewt/``, ``sst2/`` and ``ptb/``.
    """
    value = os.environ.get("SKRNN_DATA_DIR")
    return Path(value) if value else None


@validate_params(
    {"path": [str, os.PathLike], "tag": [StrOptions({"upos", "xpos"})]},
    prefer_skip_nested_validation=True,
)
def load_conllu(path, tag="upos"):
    """Read the word forms and tags of a CoNLL-U file.

    Comment lines, multiword-token ranges (``1-2``) and empty nodes (``8.1``) are
    skipped, so each sentence holds its syntactic words once.

    Parameters
    ----------
    path : str or path-like
        A ``.conllu`` file (UTF-8).
    tag : {"upos", "xpos"}, default="upos"
        Which tag column to return: universal or language-specific POS tags.

    Returns
    -------
    X : list of list of str
        The word forms of each sentence.
    y : list of list of str
        The tags, one per form.

    Examples
    --------
    >>> from skrnn.datasets import data_dir, load_conllu
    >>> ewt = "ud_english_ewt/en_ewt-ud-train.conllu"
    >>> X, y = load_conllu(data_dir() / ewt)  # doctest: +SKIP
    >>> len(X), sum(map(len, X))  # doctest: +SKIP
    (12544, 204577)
    """
    column = _CONLLU_COLUMN[tag]

    def token(lineno, line):
        if line.startswith("#"):
            return None
        fields = line.split("\t")
        if len(fields) != 10:
            raise ValueError(
                f"{path}, line {lineno}: a CoNLL-U token line has 10 "
                f"tab-separated fields, found {len(fields)}."
            )
        if "-" in fields[0] or "." in fields[0]:
            return None
        return fields[1], fields[column]

    return _read_tagged(path, token)


def _read_tagged(path, token):
    """Sentences of a file of one token per line, blank lines between sentences:
    ``token(lineno, line)`` gives a line's ``(form, tag)``, or None to skip it."""
    X, y = [], []
    for block in _line_blocks(path):
        pairs = [pair for pair in (token(n, line) for n, line in block) if pair]
        if pairs:
            forms, tags = zip(*pairs, strict=True)
            X.append(list(forms))
            y.append(list(tags))
    return X, y


def _line_blocks(path):
    """The non-blank lines, with their numbers, of each block between blank
    lines."""
    block = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                block.append((lineno, line))
            elif block:
                yield block
                block = []
    if block:
        yield block


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def load_sst2(path):
    """Read a sentence-classification file of ``<label> <tokens>`` lines.

    This is the format of the SST-2 files ``stsa.binary.{train,dev,test}``:
    an integer label, a space, then space-separated tokens. Blank lines are
    skipped.

    Parameters
    ----------
    path : str or path-like
        The file (UTF-8).

    Returns
    -------
    X : list of list of str
        The tokens of each sentence.
    y : ndarray of shape (n_sentences,), dtype=int
        The labels.
    """
    X, labels = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                labels.append(int(parts[0]))
            except ValueError:
                raise ValueError(
                    f"{path}, line {lineno}: expected '<integer label> <tokens>', "
                    f"got {line.strip()[:60]!r}."
                ) from None
            X.append(parts[1:])
    return X, np.asarray(labels, dtype=np.int64)


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def load_token_tag(path):
    """Read a tagged corpus of ``TOKEN<TAB>TAG`` lines, sentences split by blank lines.

    The plain format of many taggers' training files: one token per line, its
    tag after a single tab, and an empty (or whitespace-only) line after each
    sentence. There are no comment lines, since ``#`` is a token like any other;
    a token may hold spaces but not a tab.

    Parameters
    ----------
    path : str or path-like
        The file (UTF-8).

    Returns
    -------
    X : list of list of str
        The tokens of each sentence.
    y : list of list of str
        The tags, one per token.

    Examples
    --------
    >>> from skrnn.datasets import load_token_tag
    >>> X, y = load_token_tag("corpus.tsv")  # doctest: +SKIP
    """

    def token(lineno, line):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0] or not fields[1]:
            raise ValueError(
                f"{path}, line {lineno}: expected 'TOKEN<TAB>TAG' (two non-empty "
                f"tab-separated fields), got {line[:60]!r}."
            )
        return fields[0], fields[1]

    return _read_tagged(path, token)


@validate_params(
    {"path": [str, os.PathLike], "column": [Integral]},
    prefer_skip_nested_validation=True,
)
def load_conll(path, column=-1):
    """Read a CoNLL-2002/2003 style corpus of whitespace-separated columns.

    The format of the CoNLL-2002 and CoNLL-2003 named-entity files: one token
    per line, its fields separated by spaces (or tabs), the token first and the
    tags after it (``EU NNP B-NP B-ORG`` in CoNLL-2003, ``Melbourne B-LOC`` in
    CoNLL-2002), and a blank (or whitespace-only) line after each sentence.
    ``-DOCSTART-`` lines, which mark where a document starts, are skipped, and
    so the blank line after them ends no sentence.

    Parameters
    ----------
    path : str or path-like
        The file (UTF-8).
    column : int, default=-1
        The field that holds the tag, counted from 0 (the token) as a Python
        index: ``-1``, the last field, is the named-entity tag of both
        CoNLL-2002 and CoNLL-2003; ``1`` is CoNLL-2003's POS tag. A line that
        has no such field besides the token is a ValueError.

    Returns
    -------
    X : list of list of str
        The tokens of each sentence.
    y : list of list of str
        The tags, one per token.

    See Also
    --------
    load_token_tag : ``TOKEN<TAB>TAG`` files, whose tokens may hold spaces.

    Examples
    --------
    >>> from skrnn.datasets import data_dir, load_conll
    >>> X, y = load_conll(data_dir() / "conll2002_es/esp.train")  # doctest: +SKIP
    >>> X[0][:3], y[0][:3]  # doctest: +SKIP
    (['Melbourne', '(', 'Australia'], ['B-LOC', 'O', 'B-LOC'])
    """
    if column == 0:
        raise ValueError(
            "column=0 is the token's field; the tag is in another field (-1, the "
            "last, by default)."
        )

    def token(lineno, line):
        fields = line.split()
        if fields[0] == "-DOCSTART-":
            return None
        # The token is field 0, so the tag's field must be another one.
        if not 0 < (column if column >= 0 else len(fields) + column) < len(fields):
            raise ValueError(
                f"{path}, line {lineno}: expected a token and its tag in "
                f"whitespace-separated field {column}, got {len(fields)} "
                f"field(s): {line[:60]!r}."
            )
        return fields[0], fields[column]

    return _read_tagged(path, token)


def _lengths(rng, n, min_length, max_length):
    if min_length > max_length:
        raise ValueError(
            f"min_length={min_length} must not exceed max_length={max_length}."
        )
    return rng.randint(min_length, max_length + 1, size=n)


def _cut(names, ids, lengths):
    """Rows of an id matrix cut to their lengths, as lists of names."""
    return [names[row[:n]].tolist() for row, n in zip(ids, lengths, strict=True)]


def _sample_rows(rng, cum_probs):
    """Draw one index per row from the row's cumulative distribution."""
    u = rng.random_sample(cum_probs.shape[0])[:, None]
    return np.minimum((u >= cum_probs).sum(axis=1), cum_probs.shape[1] - 1)


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "vocabulary_size": [Interval(Integral, 2, None, closed="left")],
        "n_tags": [Interval(Integral, 2, None, closed="left")],
        "min_length": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "ambiguous_rate": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_tagging(
    n_sequences=200,
    vocabulary_size=50,
    n_tags=5,
    *,
    min_length=3,
    max_length=15,
    ambiguous_rate=0.3,
    random_state=None,
):
    """Generate a tagging task whose ambiguous words are resolved by context.

    Tags follow a random Markov chain. Most words belong to one tag and are
    drawn from it with Zipf-like frequencies (so rare words exist). A share
    ``ambiguous_rate`` of the tokens are instead drawn from a small set of
    ambiguous words (a tenth of the vocabulary) whose tag is a fixed function of
    the word and the previous tag, and each ambiguous word takes every tag after
    some previous tag. The tags of a sequence are therefore fully determined by
    its words read left to right, while a per-word lookup is wrong on most
    ambiguous tokens: a recurrent model can reach 100% token accuracy where a
    most-frequent-tag baseline cannot.

    Parameters
    ----------
    n_sequences : int, default=200
        Number of sequences.
    vocabulary_size : int, default=50
        Number of distinct words, ``w0`` ... (at least ``n_tags`` plus the
        ambiguous words).
    n_tags : int, default=5
        Number of distinct tags, ``t0`` ...
    min_length, max_length : int, default=3, 15
        Sequence lengths are uniform in ``[min_length, max_length]``.
    ambiguous_rate : float, default=0.3
        Probability that a token is an ambiguous word.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of list of str
        Token sequences.
    y : list of list of str
        Tag sequences, one tag per token.

    Examples
    --------
    >>> from skrnn.datasets import make_tagging
    >>> X, y = make_tagging(n_sequences=3, random_state=0)
    >>> len(X), len(X[0]) == len(y[0])
    (3, True)
    """
    rng = check_random_state(random_state)
    n_amb = max(1, vocabulary_size // 10)
    n_plain = vocabulary_size - n_amb
    if n_plain < n_tags:
        raise ValueError(
            f"vocabulary_size={vocabulary_size} is too small for n_tags={n_tags}: "
            f"each tag needs a word of its own besides the {n_amb} ambiguous ones."
        )
    lengths = _lengths(rng, n_sequences, min_length, max_length)

    transmat = rng.dirichlet(np.full(n_tags, 0.5), size=n_tags)
    cum_trans = np.cumsum(transmat, axis=1)
    # Words 0..n_amb-1 are ambiguous; the rest are split among the tags.
    plain = n_amb + rng.permutation(n_plain)
    groups = np.array_split(plain, n_tags)
    width = max(len(g) for g in groups)
    tag_words = np.zeros((n_tags, width), dtype=np.intp)
    cum_emit = np.ones((n_tags, width))
    for k, g in enumerate(groups):
        zipf = 1.0 / np.arange(1, len(g) + 1)
        tag_words[k, : len(g)] = g
        cum_emit[k, : len(g)] = np.cumsum(zipf / zipf.sum())
    # resolve[w, p]: tag of ambiguous word w after previous tag p (p = n_tags at
    # the start); a permutation over p < n_tags makes every word take every tag.
    resolve = np.empty((n_amb, n_tags + 1), dtype=np.intp)
    resolve[:, :n_tags] = rng.rand(n_amb, n_tags).argsort(axis=1)
    resolve[:, n_tags] = rng.randint(n_tags, size=n_amb)

    n = n_sequences
    words = np.empty((n, max_length), dtype=np.intp)
    tags = np.empty((n, max_length), dtype=np.intp)
    prev = np.full(n, n_tags)
    start = rng.randint(n_tags, size=n)
    for t in range(max_length):
        is_amb = rng.random_sample(n) < ambiguous_rate
        amb_word = rng.randint(n_amb, size=n)
        markov = start if t == 0 else _sample_rows(rng, cum_trans[prev])
        slot = _sample_rows(rng, cum_emit[markov])
        tags[:, t] = np.where(is_amb, resolve[amb_word, prev], markov)
        words[:, t] = np.where(is_amb, amb_word, tag_words[markov, slot])
        prev = tags[:, t]

    word_names = np.array([f"w{i}" for i in range(vocabulary_size)], dtype=object)
    tag_names = np.array([f"t{i}" for i in range(n_tags)], dtype=object)
    return _cut(word_names, words, lengths), _cut(tag_names, tags, lengths)


# make_entity_tagging's vocabulary. Names of one type only, names shared by two
# types, and the triggers: the word before a span, which alone decides its type.
_ENTITY_NAMES = {
    "PER": ["alice", "bruno", "chen", "dmitri", "elena", "farid", "greta", "hiro"],
    "LOC": ["oslo", "lima", "kyoto", "nairobi", "quito", "perth", "bergen", "cusco"],
    "ORG": ["acme", "initech", "globex", "hooli", "vandelay", "cyberdyne"],
}
_SHARED_NAMES = {
    ("PER", "LOC"): ["jordan", "georgia", "victoria", "florence", "austin"],
    ("LOC", "ORG"): ["amazon", "delta", "orange", "panama"],
    ("PER", "ORG"): ["ford", "dell", "morgan", "disney", "wells"],
}
_TRIGGERS = {
    "PER": ["mr", "ms", "dr"],
    "LOC": ["in", "to", "near"],
    "ORG": ["at", "of"],
}
_FILLERS = (
    "the a said was and we met saw visited left today with for on new report team "
    "people after when they her his from by that is very news then"
).split()
_ENTITY_RATE = 0.25  # chance that an entity (trigger and span) starts at a token
_SPAN_LENGTHS = (1, 2, 3)
_SPAN_PROBS = np.array([0.5, 0.3, 0.2])
_TRIGGER_AS_FILLER = 0.2  # share of the filler tokens that are trigger words


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "scheme": [StrOptions({"IOB2", "IOBES"})],
        "min_length": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_entity_tagging(
    n_sequences=200,
    *,
    scheme="IOB2",
    min_length=5,
    max_length=20,
    random_state=None,
):
    """Generate a named-entity task whose entity types are read from context.

    Sentences of lowercase filler words hold entity spans of 1 to 3 name
    tokens of the types ``PER``, ``LOC`` and ``ORG``. Each span follows a
    trigger word of its type (``mr``, ``ms``, ``dr`` before ``PER``; ``in``,
    ``to``, ``near`` before ``LOC``; ``at``, ``of`` before ``ORG``), and the
    trigger alone decides the type:

    - the first name of a span is drawn from the names of its type, among
      which some (``jordan``, ``ford``, ``amazon``, ...) are names of two
      types, so their type is not in the word;
    - the later names of a span are drawn from those shared names whatever the
      span's type, so their tag (``I-ORG`` for ``wells`` in ``at acme
      wells``) continues the span's type rather than following the word;
    - trigger words also occur as plain filler words (tag ``O``) before words
      that are no names.

    Name tokens occur only inside spans and spans never touch, so the tags are
    a function of the words read left to right: a model that uses the previous
    word and the previous tag can tag every token correctly, while a per-word
    lookup (or an HMM, whose state before any span is ``O``) cannot type the
    shared names.

    Parameters
    ----------
    n_sequences : int, default=200
        Number of sentences.
    scheme : {"IOB2", "IOBES"}, default="IOB2"
        The tags: ``B-X`` on a span's first token, ``I-X`` on the others and
        ``O`` outside spans; or IOBES, where a one-token span is ``S-X`` and
        the last token of a longer one ``E-X``.
    min_length, max_length : int, default=5, 20
        Sentence lengths in tokens are uniform in ``[min_length, max_length]``
        (a span needs two tokens: its trigger and a name).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of list of str
        Token sequences.
    y : list of list of str
        Tag sequences, one tag per token, valid under ``scheme``.

    See Also
    --------
    make_tagging : A part-of-speech-like task with ambiguous words.

    Examples
    --------
    >>> from skrnn.datasets import make_entity_tagging
    >>> X, y = make_entity_tagging(n_sequences=3, random_state=0)
    >>> len(X), len(X[0]) == len(y[0])
    (3, True)
    """
    rng = check_random_state(random_state)
    lengths = _lengths(rng, n_sequences, min_length, max_length)
    types = sorted(_ENTITY_NAMES)
    # A span's first name: its type's own names and those it shares.
    first = {t: list(_ENTITY_NAMES[t]) for t in types}
    for pair, names in _SHARED_NAMES.items():
        for t in pair:
            first[t] += names
    later = [w for names in _SHARED_NAMES.values() for w in names]
    triggers = [w for t in types for w in _TRIGGERS[t]]
    X, y = [], []
    # A loop over tokens is fine here: this builds a small data set once.
    for length in lengths:
        words, tags = [], []
        while len(words) < length:
            room = length - len(words) - 1  # tokens left for a span's names
            if room >= 1 and rng.random_sample() < _ENTITY_RATE:
                kind = types[rng.randint(len(types))]
                n = rng.choice(_SPAN_LENGTHS, p=_SPAN_PROBS)
                n = min(int(n), room)
                words.append(_pick(rng, _TRIGGERS[kind]))
                words.append(_pick(rng, first[kind]))
                words.extend(_pick(rng, later) for _ in range(n - 1))
                tags.append("O")
                tags.extend(_span_tags(kind, n, scheme))
            else:
                filler = rng.random_sample() < _TRIGGER_AS_FILLER
                words.append(_pick(rng, triggers if filler else _FILLERS))
                tags.append("O")
        X.append(words)
        y.append(tags)
    return X, y


def _pick(rng, words):
    return words[rng.randint(len(words))]


def _span_tags(kind, n, scheme):
    """The tags of an ``n``-token span of type ``kind`` under ``scheme``."""
    if scheme == "IOBES":
        if n == 1:
            return [f"S-{kind}"]
        return [f"B-{kind}", *[f"I-{kind}"] * (n - 2), f"E-{kind}"]
    return [f"B-{kind}", *[f"I-{kind}"] * (n - 1)]


@validate_params(
    {
        "n_sequences": [Interval(Integral, 1, None, closed="left")],
        "vocabulary_size": [Interval(Integral, 2, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "min_length": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "trigger": [StrOptions({"anywhere", "start"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_sequence_classification(
    n_sequences=200,
    vocabulary_size=20,
    n_classes=2,
    *,
    min_length=5,
    max_length=20,
    trigger="anywhere",
    random_state=None,
):
    """Generate token sequences labelled by one trigger token.

    Words ``w0`` ... ``w{n_classes - 1}`` are triggers; every sequence holds
    exactly one, the trigger of its class, and is otherwise filled with the
    other words drawn uniformly. With ``trigger="start"`` the trigger is the
    first token, so a model reading left to right must carry it to the end
    (the test of memory through the last state ``h_T``).

    Parameters
    ----------
    n_sequences : int, default=200
        Number of sequences.
    vocabulary_size : int, default=20
        Number of distinct words, triggers included (more than ``n_classes``).
    n_classes : int, default=2
        Number of classes, ``0`` ... ``n_classes - 1``, drawn uniformly.
    min_length, max_length : int, default=5, 20
        Sequence lengths are uniform in ``[min_length, max_length]``.
    trigger : {"anywhere", "start"}, default="anywhere"
        Where the trigger sits: at a uniformly random position, or first.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of list of str
        Token sequences.
    y : ndarray of shape (n_sequences,), dtype=int
        The class of each sequence.
    """
    if vocabulary_size <= n_classes:
        raise ValueError(
            f"vocabulary_size={vocabulary_size} must exceed n_classes={n_classes}: "
            "besides one trigger word per class, filler words are needed."
        )
    rng = check_random_state(random_state)
    lengths = _lengths(rng, n_sequences, min_length, max_length)
    y = rng.randint(n_classes, size=n_sequences)
    words = rng.randint(n_classes, vocabulary_size, size=(n_sequences, max_length))
    if trigger == "start":
        pos = np.zeros(n_sequences, dtype=np.intp)
    else:
        pos = (rng.random_sample(n_sequences) * lengths).astype(np.intp)
    words[np.arange(n_sequences), pos] = y
    names = np.array([f"w{i}" for i in range(vocabulary_size)], dtype=object)
    return _cut(names, words, lengths), y


@validate_params(
    {
        "n_series": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "n_timesteps": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "min_timesteps": [Interval(Integral, 1, None, closed="left"), None],
        "burst_length": [Interval(Integral, 1, None, closed="left")],
        "burst_amplitude": [Interval(Real, 0, None, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_multichannel_series(
    n_series=200,
    n_channels=3,
    n_timesteps=50,
    n_classes=2,
    *,
    min_timesteps=None,
    burst_length=5,
    burst_amplitude=3.0,
    noise=1.0,
    random_state=None,
):
    """Generate noisy multichannel series classified by one short burst.

    Each series is Gaussian noise plus one burst of ``burst_length`` steps at a
    random position; the burst of class ``c`` raises channel ``c`` by
    ``burst_amplitude``. The class is visible only during the burst, so
    max-pooling over time finds it wherever it is, while the last hidden state
    must remember it through the noise that follows.

    Parameters
    ----------
    n_series : int, default=200
        Number of series.
    n_channels : int, default=3
        Number of channels (at least ``n_classes``).
    n_timesteps : int, default=50
        Length of each series (the maximum length if ``min_timesteps`` is set).
    n_classes : int, default=2
        Number of classes, ``0`` ... ``n_classes - 1``, drawn uniformly.
    min_timesteps : int, default=None
        If set, lengths are uniform in ``[min_timesteps, n_timesteps]`` and a
        list of arrays is returned.
    burst_length : int, default=5
        Steps in the burst (at most the shortest length).
    burst_amplitude : float, default=3.0
        Height of the burst above the noise.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_series, n_timesteps, n_channels) or list of ndarray
        The series: a 3-D array, or with ``min_timesteps`` a list of 2-D arrays
        of shape ``(T_i, n_channels)``.
    y : ndarray of shape (n_series,), dtype=int
        The class of each series.
    """
    if n_classes > n_channels:
        raise ValueError(
            f"n_classes={n_classes} needs at least as many channels, got "
            f"n_channels={n_channels}: each class bursts on its own channel."
        )
    shortest = n_timesteps if min_timesteps is None else min_timesteps
    if shortest > n_timesteps:
        raise ValueError(
            f"min_timesteps={min_timesteps} must not exceed n_timesteps={n_timesteps}."
        )
    if burst_length > shortest:
        raise ValueError(
            f"burst_length={burst_length} is longer than the shortest series "
            f"({shortest} steps)."
        )
    rng = check_random_state(random_state)
    lengths = _lengths(rng, n_series, shortest, n_timesteps)
    y = rng.randint(n_classes, size=n_series)
    X = noise * rng.standard_normal((n_series, n_timesteps, n_channels))
    start = (rng.random_sample(n_series) * (lengths - burst_length + 1)).astype(np.intp)
    steps = start[:, None] + np.arange(burst_length)
    X[np.arange(n_series)[:, None], steps, y[:, None]] += burst_amplitude
    if min_timesteps is None:
        return X, y
    return [x[:n] for x, n in zip(X, lengths, strict=True)], y
