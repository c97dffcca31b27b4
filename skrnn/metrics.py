"""Token-level and sequence-level metrics for tag sequences.

scikit-learn's metrics read one label per sample. A tagger's sample is a sequence,
so its ``y`` is a list of tag sequences, which ``scoring="accuracy"`` cannot read.
The ``flat_*`` functions flatten both sides (checking that each predicted sequence
is as long as the true one) and delegate to :mod:`sklearn.metrics`; the ``*_scorer``
objects plug them into ``cross_val_score`` and ``GridSearchCV``.

Every ``flat_*`` and ``sequence_*`` function also accepts flat 1-D label arrays,
which is what the taggers return for the 2-D numeric input path.

The ``entity_*`` functions score named-entity style tags (BIO/IOB2/IOBES) by whole
entities, as conlleval and seqeval do; they live in ``skrnn._entities``.
"""

from itertools import chain

import numpy as np
from sklearn import metrics as _skm
from sklearn.utils.multiclass import unique_labels

from ._entities import (
    entity_classification_report,
    entity_f1_score,
    entity_precision_score,
    entity_recall_score,
    invalid_transitions,
)

__all__ = [
    "invalid_transitions",
    "entity_classification_report",
    "entity_f1_macro_scorer",
    "entity_f1_score",
    "entity_f1_scorer",
    "entity_precision_score",
    "entity_precision_scorer",
    "entity_recall_score",
    "entity_recall_scorer",
    "flat_accuracy_score",
    "flat_accuracy_scorer",
    "flat_classification_report",
    "flat_f1_macro_scorer",
    "flat_f1_micro_scorer",
    "flat_f1_score",
    "flat_f1_weighted_scorer",
    "flat_precision_score",
    "flat_recall_score",
    "sequence_accuracy_score",
    "sequence_accuracy_scorer",
]

_SEQUENCE_TYPES = (list, tuple, np.ndarray)


def _is_sequence_form(y, name):
    """Return True for a collection of tag sequences, False for flat labels."""
    if isinstance(y, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of tag sequences or a 1-D array of labels, "
            f"got a bare {type(y).__name__}."
        )
    if isinstance(y, np.ndarray):
        if y.ndim == 2:
            # A 2-D array is a batch of equally long sequences, one per row.
            return True
        if y.ndim != 1:
            raise ValueError(
                f"{name} must be 1-D (flat labels) or a list of tag sequences, "
                f"got an array with shape {y.shape}."
            )
        if y.dtype != object:
            return False
    try:
        n = len(y)
    except TypeError:
        raise TypeError(
            f"{name} must be a list of tag sequences or a 1-D array of labels, "
            f"got {type(y).__name__}."
        ) from None
    is_seq = np.fromiter(
        (isinstance(s, _SEQUENCE_TYPES) for s in y), dtype=bool, count=n
    )
    if is_seq.all() and n > 0:
        return True
    if is_seq.any():
        bad = int(np.flatnonzero(~is_seq)[0])
        raise ValueError(
            f"{name} mixes tag sequences and single labels (see element {bad}); "
            "pass either a list of tag sequences or a flat 1-D array of labels."
        )
    return False


def _lengths(y):
    return np.fromiter(map(len, y), dtype=np.intp, count=len(y))


def _flatten_pair(y_true, y_pred, sample_weight=None):
    """Flatten ``y_true`` and ``y_pred``; expand per-sequence weights to tokens.

    Returns the flat labels and the per-sequence lengths of ``y_true`` (None when
    ``y_true`` was already flat).
    """
    true_seq = _is_sequence_form(y_true, "y_true")
    pred_seq = _is_sequence_form(y_pred, "y_pred")
    true_len = _lengths(y_true) if true_seq else None
    pred_len = _lengths(y_pred) if pred_seq else None
    if true_seq and pred_seq:
        if len(true_len) != len(pred_len):
            raise ValueError(
                f"y_true has {len(true_len)} sequences but y_pred has {len(pred_len)}."
            )
        bad = np.flatnonzero(true_len != pred_len)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"Sequence {i} has {true_len[i]} true tags but {pred_len[i]} "
                f"predicted tags ({bad.size} sequence(s) differ in length); each "
                "predicted sequence must be as long as the true one."
            )
    flat_true = _flat(y_true, true_seq)
    flat_pred = _flat(y_pred, pred_seq)
    if flat_true.shape[0] != flat_pred.shape[0]:
        raise ValueError(
            f"y_true holds {flat_true.shape[0]} labels but y_pred holds "
            f"{flat_pred.shape[0]}."
        )
    if sample_weight is not None and true_seq:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != true_len.shape:
            raise ValueError(
                "sample_weight must have one weight per sequence: expected shape "
                f"{true_len.shape}, got {sample_weight.shape}."
            )
        # A sequence's weight applies to each of its tokens.
        sample_weight = np.repeat(sample_weight, true_len)
    return flat_true, flat_pred, sample_weight, true_len


def _flat(y, is_seq):
    if not is_seq:
        return np.asarray(y)
    if isinstance(y, np.ndarray) and y.ndim == 2:
        return y.ravel()
    # Chaining the Python sequences keeps each label's own type; concatenating
    # arrays would promote an empty float array against string tags.
    return np.asarray(list(chain.from_iterable(y)))


def flat_accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Token accuracy: the fraction of tags predicted correctly, over all tokens.

    Parameters
    ----------
    y_true : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        True tags, as tag sequences or as flat labels.
    y_pred : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        Predicted tags, in either form; each predicted sequence must be as long
        as the true one.
    normalize : bool, default=True
        If False, return the number of correct tags instead of the fraction.
    sample_weight : array-like of shape (n_sequences,), default=None
        One weight per sequence, applied to each of its tokens (one per label for
        flat input).

    Returns
    -------
    score : float
        See :func:`sklearn.metrics.accuracy_score`.

    Examples
    --------
    >>> from skrnn.metrics import flat_accuracy_score
    >>> flat_accuracy_score([["D", "N"], ["V"]], [["D", "V"], ["V"]])
    0.666...
    """
    yt, yp, sw, _ = _flatten_pair(y_true, y_pred, sample_weight)
    return float(_skm.accuracy_score(yt, yp, normalize=normalize, sample_weight=sw))


def _prf_doc(name):
    return f"""Token-level {name} over all tokens of all sequences.

    Flattens both sides and calls :func:`sklearn.metrics.{name}_score`.

    Parameters
    ----------
    y_true : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        True tags, as tag sequences or as flat labels.
    y_pred : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        Predicted tags, in either form; each predicted sequence must be as long
        as the true one.
    labels : array-like, default=None
        The tags to include (e.g. all but an "O" tag); see scikit-learn.
    pos_label : int, float, bool or str, default=1
        The positive tag when ``average="binary"``.
    average : {{"binary", "micro", "macro", "weighted"}} or None, default="binary"
        How to average over tags, as in scikit-learn; tag sets are usually
        multiclass, so pass ``"micro"``, ``"macro"`` or ``"weighted"``.
    sample_weight : array-like of shape (n_sequences,), default=None
        One weight per sequence, applied to each of its tokens.
    zero_division : {{"warn", 0.0, 1.0, np.nan}}, default="warn"
        The value returned when a ratio has a zero denominator.

    Returns
    -------
    score : float or ndarray of shape (n_unique_labels,)
        One value per tag when ``average=None``.
    """


def _prf(func, y_true, y_pred, labels, pos_label, average, sample_weight, zd):
    yt, yp, sw, _ = _flatten_pair(y_true, y_pred, sample_weight)
    score = func(
        yt,
        yp,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sw,
        zero_division=zd,
    )
    return score if average is None else float(score)


def flat_f1_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _prf(
        _skm.f1_score,
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def flat_precision_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _prf(
        _skm.precision_score,
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def flat_recall_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    return _prf(
        _skm.recall_score,
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


flat_f1_score.__doc__ = _prf_doc("f1")
flat_precision_score.__doc__ = _prf_doc("precision")
flat_recall_score.__doc__ = _prf_doc("recall")


def flat_classification_report(y_true, y_pred, *, sample_weight=None, **kwargs):
    """Per-tag precision, recall and F1 over all tokens.

    Parameters
    ----------
    y_true : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        True tags, as tag sequences or as flat labels.
    y_pred : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        Predicted tags, in either form.
    sample_weight : array-like of shape (n_sequences,), default=None
        One weight per sequence, applied to each of its tokens.
    **kwargs
        Passed to :func:`sklearn.metrics.classification_report` (``labels``,
        ``target_names``, ``digits``, ``output_dict``, ``zero_division``).

    Returns
    -------
    report : str or dict
        See :func:`sklearn.metrics.classification_report`.
    """
    yt, yp, sw, _ = _flatten_pair(y_true, y_pred, sample_weight)
    return _skm.classification_report(yt, yp, sample_weight=sw, **kwargs)


def sequence_accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """The fraction of sequences whose tags are all correct.

    Flat 1-D input counts each label as a sequence of length one (as the taggers
    treat rows without ``lengths``), which makes this the token accuracy. An
    empty sequence counts as correct.

    Parameters
    ----------
    y_true : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        True tag sequences.
    y_pred : list of array-like of shape (n_tokens_i,) or array-like of shape \
            (n_tokens,)
        Predicted tag sequences, each as long as the true one.
    normalize : bool, default=True
        If False, return the number of entirely correct sequences.
    sample_weight : array-like of shape (n_sequences,), default=None
        One weight per sequence.

    Returns
    -------
    score : float

    Examples
    --------
    >>> from skrnn.metrics import sequence_accuracy_score
    >>> sequence_accuracy_score([["D", "N"], ["V"]], [["D", "V"], ["V"]])
    0.5
    """
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be a bool, got {normalize!r}.")
    yt, yp, _, lengths = _flatten_pair(y_true, y_pred)
    if lengths is None:
        lengths = np.ones(yt.shape[0], dtype=np.intp)
    if yt.size:
        # Raises a clear error when str tags meet numeric ones.
        unique_labels(yt, yp)
    wrong = np.asarray(yt != yp, dtype=np.float64)
    seq_id = np.repeat(np.arange(lengths.shape[0]), lengths)
    n_wrong = np.bincount(seq_id, weights=wrong, minlength=lengths.shape[0])
    correct = (n_wrong == 0).astype(np.float64)
    if sample_weight is None:
        weights = np.ones_like(correct)
    else:
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.shape != correct.shape:
            raise ValueError(
                "sample_weight must have one weight per sequence: expected shape "
                f"{correct.shape}, got {weights.shape}."
            )
    if not normalize:
        total = float(correct @ weights)
        return int(total) if sample_weight is None else total
    if correct.shape[0] == 0:
        raise ValueError("y_true holds no sequences.")
    return float(np.average(correct, weights=weights))


flat_accuracy_scorer = _skm.make_scorer(flat_accuracy_score)
flat_f1_macro_scorer = _skm.make_scorer(flat_f1_score, average="macro")
flat_f1_micro_scorer = _skm.make_scorer(flat_f1_score, average="micro")
flat_f1_weighted_scorer = _skm.make_scorer(flat_f1_score, average="weighted")
sequence_accuracy_scorer = _skm.make_scorer(sequence_accuracy_score)
# Lenient (conlleval) entity scores; for strict ones make a scorer with
# make_scorer(entity_f1_score, mode="strict", scheme="IOB2").
entity_f1_scorer = _skm.make_scorer(entity_f1_score)
entity_f1_macro_scorer = _skm.make_scorer(entity_f1_score, average="macro")
entity_precision_scorer = _skm.make_scorer(entity_precision_score)
entity_recall_scorer = _skm.make_scorer(entity_recall_score)
