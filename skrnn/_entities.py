"""Entity-level precision, recall and F1 for BIO, IOB2 and IOBES tag sequences.

A tag is ``"O"`` (outside) or a prefix ``B``, ``I``, ``E`` or ``S``, a hyphen and
an entity type (``"B-PER"``). The tags of a sequence are read into entities, each
a type and a span of tokens; a predicted entity counts when the true tags hold
the same type over the same span. The counts per type then go to scikit-learn's
own precision/recall/F1 (each entity is one sample whose true and predicted
labels are its type, or a label outside ``labels`` on the side that lacks it), so
``average``, ``zero_division`` and the warnings are scikit-learn's.

Two ways of reading tags into entities, as in seqeval:

- ``mode="lenient"`` (conlleval's rules): an entity starts at ``B-`` or ``S-``,
  at an ``I-``/``E-`` that follows ``O``, an ``E-`` or an ``S-``, or wherever the
  type changes; it ends before ``B-``, ``S-`` or ``O``, after ``E-``/``S-``, or
  where the type changes. So ``O I-PER I-PER`` is one PER entity (IOB1 input
  reads as intended) and all prefixes may be mixed.
- ``mode="strict"`` with ``scheme="IOB2"``: an entity is ``B-X`` followed by the
  longest run of ``I-X``; an ``I-`` that does not continue one is no entity.
  With ``scheme="IOBES"``: ``S-X``, or ``B-X``, any ``I-X`` and an ``E-X``; an
  unfinished ``B-X I-X`` is no entity.

Entities never cross from one sequence into the next.

``invalid_transitions`` counts the neighbouring tags that a scheme forbids (an
``I-X`` after ``O``, ...): the spans that lenient mode reads by conlleval's
rules, strict mode drops, and a constrained decoder never outputs.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn import metrics as _skm
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight

from ._tag_schemes import transitions

__all__ = [
    "entity_classification_report",
    "entity_f1_score",
    "entity_precision_score",
    "entity_recall_score",
    "invalid_transitions",
]

_SCHEME_PREFIXES = {"IOB2": "BI", "IOBES": "BIES"}
_ALL_PREFIXES = "BIES"
_OUTSIDE = ("O", None)
# The label of an entity on the side (true or predicted) that does not have it.
_MISSING = -1


def _tag_parser(allowed, scheme, name):
    """Return a cached function from a tag to its ``(prefix, type)``."""
    cache = {"O": _OUTSIDE}

    def parse(tag, seq_index):
        try:
            return cache[tag]
        except (KeyError, TypeError):
            pass
        if not isinstance(tag, str):
            raise TypeError(
                f"Entity tags must be strings; {name} sequence {seq_index} holds "
                f"{tag!r} of type {type(tag).__name__}."
            )
        if len(tag) > 2 and tag[1] == "-" and tag[0] in allowed:
            cache[tag] = parsed = (tag[0], tag[2:])
            return parsed
        forms = ", ".join(f"'{p}-'" for p in allowed)
        of_scheme = f" of the {scheme} scheme" if scheme else ""
        raise ValueError(
            f"Tag {tag!r} in {name} sequence {seq_index} is not an entity tag"
            f"{of_scheme}: expected 'O' or one of the prefixes {forms} followed by "
            "an entity type, such as 'B-PER'."
        )

    return parse


def _lenient_spans(parsed):
    """Entities ``(type, start, stop)`` by conlleval's rules."""
    spans = []
    start = 0
    prev_p, prev_t = _OUTSIDE
    for i, (p, t) in enumerate([*parsed, _OUTSIDE]):
        if prev_p != "O" and (
            prev_p in "ES" or p in "BSO" or prev_t != t
        ):
            spans.append((prev_t, start, i))
        if p != "O" and (p in "BS" or prev_p in "ESO" or prev_t != t):
            start = i
        prev_p, prev_t = p, t
    return spans


def _strict_spans(parsed, scheme):
    """Entities ``(type, start, stop)`` that follow ``scheme`` exactly."""
    spans = []
    n = len(parsed)
    i = 0
    while i < n:
        p, t = parsed[i]
        if p == "S":
            spans.append((t, i, i + 1))
        elif p == "B":
            j = i + 1
            while j < n and parsed[j] == ("I", t):
                j += 1
            if scheme == "IOB2":
                spans.append((t, i, j))
                i = j
                continue
            if j < n and parsed[j] == ("E", t):
                spans.append((t, i, j + 1))
                i = j + 1
                continue
            # An IOBES entity left open is none; its last tag may begin another.
            i = j
            continue
        i += 1
    return spans


def _check_tag_sequences(y, name):
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise TypeError(
            f"{name} must be a list of tag sequences, got {type(y).__name__}."
        )
    if isinstance(y, np.ndarray) and y.ndim != 2 and y.dtype != object:
        raise TypeError(
            f"{name} must be a list of tag sequences; a flat array of labels has "
            "no entity boundaries."
        )
    for i, seq in enumerate(y):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
            raise TypeError(
                f"{name} must be a list of tag sequences, but element {i} is "
                f"{seq!r}; a flat list of tags has no sequence boundaries, wrap it "
                "in a list."
            )


def _entity_samples(y_true, y_pred, mode, scheme, sample_weight):
    """One sample per entity found in ``y_true`` or ``y_pred``.

    Returns the type ids on each side (``_MISSING`` where that side lacks the
    entity), the samples' weights and the sorted entity types.
    """
    if mode == "strict" and scheme is None:
        raise ValueError(
            "mode='strict' reads tags by a scheme's rules: pass scheme='IOB2' or "
            "scheme='IOBES'."
        )
    _check_tag_sequences(y_true, "y_true")
    _check_tag_sequences(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} sequences but y_pred has {len(y_pred)}."
        )
    weights = _check_sample_weight(sample_weight, np.empty(len(y_true)))
    allowed = _SCHEME_PREFIXES[scheme] if scheme else _ALL_PREFIXES
    parse_true = _tag_parser(allowed, scheme, "y_true")
    parse_pred = _tag_parser(allowed, scheme, "y_pred")
    keys, sides, seq_ids = [], [], []
    for s, (true, pred) in enumerate(zip(y_true, y_pred, strict=True)):
        if len(true) != len(pred):
            raise ValueError(
                f"Sequence {s} has {len(true)} true tags but {len(pred)} predicted "
                "tags; each predicted sequence must be as long as the true one."
            )
        true_spans = _spans([parse_true(t, s) for t in true], mode, scheme)
        pred_spans = _spans([parse_pred(t, s) for t in pred], mode, scheme)
        # Sorted, so that weighted sums add up in the same order on every run.
        for span in sorted(true_spans | pred_spans):
            keys.append(span[0])
            sides.append((span in true_spans, span in pred_spans))
            seq_ids.append(s)
    types = sorted(set(keys))
    type_id = {t: k for k, t in enumerate(types)}
    ids = np.fromiter((type_id[t] for t in keys), dtype=np.intp, count=len(keys))
    sides = np.asarray(sides, dtype=bool).reshape(-1, 2)
    codes_true = np.where(sides[:, 0], ids, _MISSING)
    codes_pred = np.where(sides[:, 1], ids, _MISSING)
    return codes_true, codes_pred, weights[np.asarray(seq_ids, dtype=np.intp)], types


def _spans(parsed, mode, scheme):
    if mode == "strict":
        return set(_strict_spans(parsed, scheme))
    return set(_lenient_spans(parsed))


def _no_entities(average, zero_division, metric):
    """The score when neither side holds an entity: every ratio is 0 / 0."""
    if average is None:
        return np.empty(0)
    if zero_division == "warn":
        _warn_no_entities(metric)
        return 0.0
    return float(zero_division)


def _warn_no_entities(metric):
    warnings.warn(
        f"{metric} is ill-defined and being set to 0.0: neither y_true nor y_pred "
        "holds an entity. Use `zero_division` parameter to control this behavior.",
        UndefinedMetricWarning,
        stacklevel=5,
    )


_COMMON_PARAMS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "mode": [StrOptions({"lenient", "strict"})],
    "scheme": [StrOptions({"IOB2", "IOBES"}), None],
    "sample_weight": ["array-like", None],
    "zero_division": [Options(Real, {0.0, 1.0}), "nan", StrOptions({"warn"})],
}
_SCORE_PARAMS = {
    **_COMMON_PARAMS,
    "average": [StrOptions({"micro", "macro", "weighted"}), None],
}


def _entity_score(func, metric, y_true, y_pred, mode, scheme, average, sw, zd):
    yt, yp, weights, types = _entity_samples(y_true, y_pred, mode, scheme, sw)
    if not types:
        return _no_entities(average, zd, metric)
    score = func(
        yt,
        yp,
        labels=np.arange(len(types)),
        average=average,
        sample_weight=weights,
        zero_division=zd,
    )
    return score if average is None else float(score)


_SCORE_DOC = """Entity-level {name}: entities of each type found as a whole.

    An entity is a type and a span of tokens read from the tags (see ``mode``); a
    predicted entity is correct when the true tags give the same type over the
    same span. {formula}

    Parameters
    ----------
    y_true : list of array-like of str
        True tag sequences, such as ``["B-PER", "I-PER", "O"]``.
    y_pred : list of array-like of str
        Predicted tag sequences (a tagger's ``predict`` output), each as long as
        the true one.
    mode : {{"lenient", "strict"}}, default="lenient"
        ``"lenient"`` reads entities by conlleval's rules (an ``I-`` after ``O``
        starts an entity; seqeval's default). ``"strict"`` reads them by the
        rules of ``scheme`` (an ``I-`` after ``O`` is no entity; seqeval's
        ``mode="strict"``).
    scheme : {{"IOB2", "IOBES"}} or None, default=None
        The tagging scheme; required by ``mode="strict"``. When given, a tag
        with a prefix outside the scheme (``E-``/``S-`` in IOB2) raises a
        ValueError in either mode; when None, lenient mode reads ``B-``,
        ``I-``, ``E-`` and ``S-``.
    average : {{"micro", "macro", "weighted"}} or None, default="micro"
        ``"micro"`` counts entities of all types together (the figure usually
        reported for NER), ``"macro"`` is the unweighted mean over types,
        ``"weighted"`` the mean weighted by each type's number of true entities,
        None returns one score per type, types sorted.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its entities.
    zero_division : {{"warn", 0.0, 1.0, np.nan}}, default="warn"
        The value of a ratio with a zero denominator, as in
        :func:`sklearn.metrics.{name}_score`. When neither side holds an entity
        every average is this value (``"warn"``: 0.0 and a warning).

    Returns
    -------
    score : float or ndarray of shape (n_types,)
        One value per entity type, types sorted, when ``average=None``.

    See Also
    --------
    entity_classification_report : Precision, recall and F1 per entity type.

    Examples
    --------
    >>> from skrnn.metrics import entity_{name}_score
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "I-LOC"]]
    >>> entity_{name}_score(y_true, y_pred)
    1.0
    >>> entity_{name}_score(y_true, y_pred, mode="strict", scheme="IOB2")
    {strict}
    """


@validate_params(_SCORE_PARAMS, prefer_skip_nested_validation=True)
def entity_f1_score(
    y_true,
    y_pred,
    *,
    mode="lenient",
    scheme=None,
    average="micro",
    sample_weight=None,
    zero_division="warn",
):
    return _entity_score(
        _skm.f1_score,
        "F-score",
        y_true,
        y_pred,
        mode,
        scheme,
        average,
        sample_weight,
        zero_division,
    )


@validate_params(_SCORE_PARAMS, prefer_skip_nested_validation=True)
def entity_precision_score(
    y_true,
    y_pred,
    *,
    mode="lenient",
    scheme=None,
    average="micro",
    sample_weight=None,
    zero_division="warn",
):
    return _entity_score(
        _skm.precision_score,
        "Precision",
        y_true,
        y_pred,
        mode,
        scheme,
        average,
        sample_weight,
        zero_division,
    )


@validate_params(_SCORE_PARAMS, prefer_skip_nested_validation=True)
def entity_recall_score(
    y_true,
    y_pred,
    *,
    mode="lenient",
    scheme=None,
    average="micro",
    sample_weight=None,
    zero_division="warn",
):
    return _entity_score(
        _skm.recall_score,
        "Recall",
        y_true,
        y_pred,
        mode,
        scheme,
        average,
        sample_weight,
        zero_division,
    )


entity_f1_score.__doc__ = _SCORE_DOC.format(
    name="f1",
    formula="F1 is the harmonic mean of precision and recall.",
    strict="0.666...",
)
entity_precision_score.__doc__ = _SCORE_DOC.format(
    name="precision",
    formula="Precision is the share of predicted entities that are correct.",
    strict="1.0",
)
entity_recall_score.__doc__ = _SCORE_DOC.format(
    name="recall",
    formula="Recall is the share of true entities that are predicted.",
    strict="0.5",
)


@validate_params(
    {
        **_COMMON_PARAMS,
        "digits": [Interval(Integral, 0, None, closed="left")],
        "output_dict": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def entity_classification_report(
    y_true,
    y_pred,
    *,
    mode="lenient",
    scheme=None,
    sample_weight=None,
    digits=2,
    output_dict=False,
    zero_division="warn",
):
    """Entity-level precision, recall, F1 and support per type, and their averages.

    The rows are the entity types found in ``y_true`` or ``y_pred``, sorted,
    then ``"micro avg"``, ``"macro avg"`` and ``"weighted avg"``, laid out as
    :func:`sklearn.metrics.classification_report` (and seqeval) do.

    Parameters
    ----------
    y_true : list of array-like of str
        True tag sequences.
    y_pred : list of array-like of str
        Predicted tag sequences, each as long as the true one.
    mode : {"lenient", "strict"}, default="lenient"
        How tags are read into entities; see :func:`entity_f1_score`.
    scheme : {"IOB2", "IOBES"} or None, default=None
        The tagging scheme; required by ``mode="strict"``.
    sample_weight : array-like of shape (n_sequences,), default=None
        Weight of each sequence, given to each of its entities.
    digits : int, default=2
        Digits of the floats in the text report.
    output_dict : bool, default=False
        Return a dict ``{row: {"precision", "recall", "f1-score", "support"}}``
        instead of text.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        The value of a ratio with a zero denominator.

    Returns
    -------
    report : str or dict
        The support of a type is its number of true entities (weighted by
        ``sample_weight``).

    Examples
    --------
    >>> from skrnn.metrics import entity_classification_report
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "B-PER"], ["B-LOC", "O"]]
    >>> print(entity_classification_report(y_true, y_pred))
                  precision    recall  f1-score   support
    <BLANKLINE>
             LOC       1.00      0.50      0.67         2
             PER       0.50      1.00      0.67         1
    <BLANKLINE>
       micro avg       0.67      0.67      0.67         3
       macro avg       0.75      0.75      0.67         3
    weighted avg       0.83      0.67      0.67         3
    <BLANKLINE>
    """
    yt, yp, weights, types = _entity_samples(
        y_true, y_pred, mode, scheme, sample_weight
    )
    rows = {}
    if types:
        p, r, f, s = _skm.precision_recall_fscore_support(
            yt,
            yp,
            labels=np.arange(len(types)),
            average=None,
            sample_weight=weights,
            zero_division=zero_division,
        )
        for row in zip(types, p, r, f, s, strict=True):
            rows[row[0]] = row[1:]
        support = s.sum()
    else:
        support = 0.0
    # Supports are counts unless weights make them sums of weights.
    if sample_weight is None:
        support = int(support)
        rows = {k: (*v[:3], int(v[3])) for k, v in rows.items()}
    for average in ("micro", "macro", "weighted"):
        if types:
            avg = _skm.precision_recall_fscore_support(
                yt,
                yp,
                labels=np.arange(len(types)),
                average=average,
                sample_weight=weights,
                zero_division=zero_division,
            )[:3]
        else:
            avg = [_no_entities(average, zero_division, "Precision")] * 3
        rows[f"{average} avg"] = (*avg, support)
    if output_dict:
        return {
            name: {
                "precision": float(p),
                "recall": float(r),
                "f1-score": float(f),
                "support": s,
            }
            for name, (p, r, f, s) in rows.items()
        }
    return _format_report(rows, types, digits)


def _format_report(rows, types, digits):
    width = max([len(t) for t in types] + [len("weighted avg"), digits])
    headers = ["precision", "recall", "f1-score", "support"]
    report = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width)
    report += "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, row in rows.items():
        if name == "micro avg":
            report += "\n"
        report += row_fmt.format(name, *row, width=width, digits=digits)
    return report


@validate_params(
    {"y": ["array-like"], "scheme": [StrOptions({"IOB2", "IOBES"}), None]},
    prefer_skip_nested_validation=True,
)
def invalid_transitions(y, scheme=None):
    """Count the tag transitions that the tagging scheme forbids.

    A tagger that picks each tag on its own may emit ``O I-PER`` or
    ``B-LOC I-ORG``, spans that no correctly tagged text holds. This counts
    them: the pairs of neighbouring tags, the sentence start and end included,
    that no valid sequence of the scheme contains.

    - IOB2: an ``I-X`` that follows ``O``, the sentence start or a tag of
      another type (anything but ``B-X`` or ``I-X``).
    - IOBES: likewise an ``I-X`` or ``E-X``; and a ``B-X`` or ``I-X`` that is
      not followed by ``I-X`` or ``E-X`` (the span is left open), including at
      the end of the sentence.

    These are the transitions a constrained decoder rules out, so a sequence
    of tags is valid under the scheme exactly when its count is 0. (IOB1, where
    an entity may start with ``I-``, is not a scheme here: read as IOB2, its
    entities that start with ``I-`` count as invalid.)

    Parameters
    ----------
    y : list of array-like of str
        Tag sequences, such as a tagger's ``predict`` output.
    scheme : {"IOB2", "IOBES"} or None, default=None
        The tagging scheme. None reads ``y`` as IOBES if any tag has the
        prefix ``E-`` or ``S-``, and as IOB2 otherwise. Given ``"IOB2"``, an
        ``E-`` or ``S-`` tag is a ValueError.

    Returns
    -------
    n_invalid : int
        The number of forbidden transitions in all the sequences.

    See Also
    --------
    entity_f1_score : Entity-level F1, which reads invalid spans by conlleval's
        rules (``mode="lenient"``) or drops them (``mode="strict"``).

    Examples
    --------
    >>> from skrnn.metrics import invalid_transitions
    >>> invalid_transitions([["B-PER", "I-PER", "O"], ["O", "I-LOC", "I-ORG"]])
    2
    >>> invalid_transitions([["B-PER", "I-PER", "O"]], scheme="IOBES")
    1
    """
    _check_tag_sequences(y, "y")
    if scheme is None:
        any_es = any(
            isinstance(tag, str) and tag[:2] in ("E-", "S-") for seq in y for tag in seq
        )
        scheme = "IOBES" if any_es else "IOB2"
    parse = _tag_parser(_SCHEME_PREFIXES[scheme], scheme, "y")
    for s, seq in enumerate(y):
        for tag in seq:
            parse(tag, s)  # a clear error for a tag of another scheme
    lengths = [len(seq) for seq in y]
    if not sum(lengths):
        return 0
    classes, ids = np.unique(
        np.concatenate([np.asarray(seq, dtype=object) for seq in y]).astype(str),
        return_inverse=True,
    )
    return transitions(classes, scheme).count_invalid(ids, lengths)
