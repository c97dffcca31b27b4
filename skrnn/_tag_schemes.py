"""Entity tag schemes: which tag may start a sequence, follow another, end one.

Under IOB2 (BIO) an ``I-X`` only continues a ``B-X`` or ``I-X``. Under IOBES a
``B-X`` or ``I-X`` must go on with ``I-X`` or ``E-X``; everything else (``O``,
``E-*``, ``S-*``, the sequence start) is followed by ``O``, ``B-*`` or ``S-*``, and
a sequence ends on ``O``, ``E-*`` or ``S-*``. A tagger that keeps to these rules
never outputs a broken span.

The two schemes say the same thing of a valid sequence: ``rewrite`` turns one
into the other (``S-X`` is a ``B-X`` with no ``I-X`` after it, ``E-X`` the last
``I-X`` of a span).
"""

from dataclasses import dataclass

import numpy as np

SCHEMES = ("IOB2", "IOBES")
_PREFIXES = {"IOB2": "BI", "IOBES": "BIES"}


def _parse(tag):
    """``("O", None)``, ``(prefix, type)`` for an entity tag, or None."""
    if tag == "O":
        return "O", None
    if isinstance(tag, str) and len(tag) > 2 and tag[1] == "-" and tag[0] in "BIES":
        return tag[0], tag[2:]
    return None


def detect_scheme(tags):
    """The scheme of a set of entity tags: ``"IOBES"`` if any has the prefix
    ``E-`` or ``S-``, else ``"IOB2"``; None if they are not all ``O`` or entity
    tags, or are all ``O``. (IOB1 tags read as IOB2 here; they break its
    rules.)"""
    parsed = [_parse(tag) for tag in set(tags)]
    if any(p is None for p in parsed) or all(p == "O" for p, _ in parsed):
        return None
    return "IOBES" if any(p in "ES" for p, _ in parsed) else "IOB2"


@dataclass(frozen=True)
class Transitions:
    """Which tags may start a sequence ``(K,)``, follow a tag ``(K, K)`` (row:
    the previous tag) and end a sequence ``(K,)``."""

    start: np.ndarray
    trans: np.ndarray
    end: np.ndarray

    def penalties(self, dtype):
        """The same as scores to add: 0 where allowed, ``-inf`` where not."""
        return tuple(
            np.where(allowed, 0.0, -np.inf).astype(dtype)
            for allowed in (self.start, self.trans, self.end)
        )

    def count_invalid(self, ids, lengths):
        """Invalid starts, transitions and ends in the flat tag ids of
        sequences of ``lengths`` (empty ones included)."""
        ids = np.asarray(ids)
        lengths = np.asarray(lengths)
        nonempty = lengths > 0
        firsts = (np.cumsum(lengths) - lengths)[nonempty]
        lasts = np.cumsum(lengths)[nonempty] - 1
        follows = np.ones(ids.size, dtype=bool)
        follows[firsts] = False
        after = np.flatnonzero(follows)
        return int(
            np.count_nonzero(~self.start[ids[firsts]])
            + np.count_nonzero(~self.trans[ids[after - 1], ids[after]])
            + np.count_nonzero(~self.end[ids[lasts]])
        )


def transitions(classes, scheme):
    """The ``Transitions`` of ``scheme`` over the tags ``classes``.

    Raises ValueError when a tag is not one of the scheme's.
    """
    parsed = [_parse(tag) for tag in classes]
    allowed = _PREFIXES[scheme]
    for tag, p in zip(classes, parsed, strict=True):
        if p is None or (p[0] != "O" and p[0] not in allowed):
            forms = ", ".join(f"'{prefix}-'" for prefix in allowed)
            raise ValueError(
                f"tag_scheme={scheme!r} needs 'O' or tags of the prefixes {forms} "
                f"and an entity type, such as 'B-PER'; got the tag {tag!r}."
            )
    prefix = np.array([p for p, _ in parsed])
    kind = np.array([t or "" for _, t in parsed])
    inside = np.isin(prefix, ["I", "E"])  # continues a span
    opens = np.isin(prefix, ["B", "I"])  # must be continued (IOBES only)
    same_type = kind[:, None] == kind[None, :]
    if scheme == "IOB2":
        trans = ~inside[None, :] | (opens[:, None] & same_type)
        end = np.ones(len(classes), dtype=bool)
    else:
        trans = np.where(opens[:, None], inside[None, :] & same_type, ~inside[None, :])
        end = ~opens
    return Transitions(start=~inside, trans=trans, end=end)


def rewrite(tags, lengths, scheme):
    """The flat ``tags`` of sequences of ``lengths``, valid under IOB2 or IOBES,
    written in ``scheme``: an object array of the same size."""
    tags = np.asarray(tags, dtype=object)
    if not tags.size:
        return tags.copy()
    distinct, inverse = np.unique(tags, return_inverse=True)
    parsed = [_parse(tag) or ("O", None) for tag in distinct]
    # through IOB2: an S- opens a span as a B- does, an E- goes on as an I- does
    iob2 = {"S": "B", "E": "I"}
    prefix = np.array([iob2.get(p, p) for p, _ in parsed])[inverse]
    kind = np.array([t or "" for _, t in parsed], dtype=object)[inverse]
    entity = np.array([t is not None for _, t in parsed], dtype=bool)[inverse]
    out = np.where(entity, prefix + "-" + kind, tags).astype(object)
    if scheme == "IOB2":
        return out
    last = np.zeros(tags.size, dtype=bool)
    last[np.cumsum(lengths)[np.asarray(lengths) > 0] - 1] = True
    goes_on = np.zeros(tags.size, dtype=bool)
    goes_on[:-1] = (prefix[1:] == "I") & (kind[1:] == kind[:-1])
    goes_on &= ~last
    ends = entity & ~goes_on
    out[ends & (prefix == "B")] = "S-" + kind[ends & (prefix == "B")]
    out[ends & (prefix == "I")] = "E-" + kind[ends & (prefix == "I")]
    return out
