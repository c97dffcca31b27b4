"""Minibatches of similar length, padded and time-major, from flat sequences.

Sequences are stored flat (all steps concatenated) with their lengths; a batch is cut
from a length-sorted order so that little padding is needed, and gathered with one
fancy-indexing call.
"""

import numpy as np

from .network import Batch


def length_batches(lengths, batch_size, rng=None):
    """Indices of the sequences of each minibatch.

    Sequences are sorted by length (ties broken at random when ``rng`` is given) and
    cut into batches of ``batch_size``; with ``rng`` the order of the batches is
    shuffled, so every epoch sees different batches in a different order.
    """
    lengths = np.asarray(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(lengths.size), lengths))
    batches = [order[i : i + batch_size] for i in range(0, order.size, batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def token_batches(lengths, max_tokens):
    """Indices of the sequences of each batch for prediction: longest first, each
    batch as many sequences as fit in ``max_tokens`` padded steps (at least one).

    Cutting by padded size rather than by a count of sequences keeps little
    padding on long sequences and few, large steps on short ones.
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    sizes = np.maximum(max_tokens // np.maximum(np.asarray(lengths)[order], 1), 1)
    batches, start = [], 0
    while start < order.size:  # one pass per batch, not per sequence
        stop = start + int(sizes[start])
        batches.append(order[start:stop])
        start = stop
    return batches


def padded_positions(offsets, lengths, index):
    """``(T, B)`` positions into the flat arrays for sequences ``index`` (padding
    points at each sequence's first step), and the batch lengths."""
    batch_lengths = lengths[index]
    T = int(batch_lengths.max())
    steps = np.minimum(np.arange(T)[:, None], np.maximum(batch_lengths - 1, 0))
    return offsets[index][None, :] + steps, batch_lengths


def make_batch(
    index,
    offsets,
    lengths,
    *,
    ids=None,
    features=None,
    targets=None,
    sequence_targets=None,
    weights=None,
    bag_ids=None,
    bag_offsets=None,
):
    """Gather a ``Batch`` for sequences ``index`` from flat arrays.

    ``ids`` ``(n_steps, n_streams)``, ``features`` ``(n_steps, n_features)`` and
    per-step ``targets`` ``(n_steps,)`` are flat over all sequences;
    ``sequence_targets``
    and ``weights`` have one entry per sequence. ``bag_ids`` are the bags of
    n-gram ids of all sequences, concatenated; sequence ``i``'s bag starts at
    ``bag_offsets[i]`` and ends at ``bag_offsets[i + 1]``.
    """
    positions, batch_lengths = padded_positions(offsets, lengths, index)
    batch = Batch(lengths=batch_lengths)
    if ids is not None:
        batch.ids = ids[positions]
    if features is not None:
        batch.features = features[positions]
    if targets is not None:
        # valid steps in batch order: sequence after sequence
        valid = positions.T[batch.mask.T]
        batch.targets = targets[valid]
    if sequence_targets is not None:
        batch.targets = sequence_targets[index]
    if weights is not None:
        batch.weights = weights[index]
    if bag_ids is not None:
        counts = bag_offsets[index + 1] - bag_offsets[index]
        batch.bag_ids = bag_ids[segment_positions(bag_offsets[index], counts)]
        batch.bag_offsets = np.concatenate([[0], np.cumsum(counts)])
    return batch


def segment_positions(starts, counts):
    """Flat positions of the segments ``[starts[i], starts[i] + counts[i])``, one
    after the other."""
    shift = np.repeat(starts - np.cumsum(counts) + counts, counts)
    return shift + np.arange(counts.sum())


# --- streams for language models -------------------------------------------------


def stream_positions(n_steps, n_streams):
    """Cut a flat stream of ``n_steps`` into ``n_streams`` contiguous columns.

    The classic language-model layout (Mikolov; Zaremba et al., 2014): column
    ``b`` reads positions ``[start_b, start_b + length_b)`` in order, so that a
    state carried from one window to the next continues the text. Nothing is
    dropped: the first ``n_steps % n_streams`` columns are one step longer, and the
    missing step of the others is padding (``lengths`` says which).

    Returns
    -------
    positions : ndarray of shape (T, n_streams)
        Padding points at the column's last position.
    lengths : ndarray of shape (n_streams,)
    """
    n_streams = max(1, min(int(n_streams), int(n_steps)))
    base, extra = divmod(int(n_steps), n_streams)
    lengths = np.full(n_streams, base, dtype=np.int64)
    lengths[:extra] += 1
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    T = int(lengths.max())
    steps = np.minimum(np.arange(T)[:, None], lengths - 1)
    return starts[None, :] + steps, lengths


def bptt_windows(positions, lengths, bptt_steps):
    """Windows of ``bptt_steps`` time steps over a ``(T, B)`` grid of positions:
    yields ``(positions[t0:t1], window_lengths)``; a column that has ended has
    window length 0 (its state is not read again)."""
    T = positions.shape[0]
    for t0 in range(0, T, bptt_steps):
        t1 = min(t0 + bptt_steps, T)
        yield positions[t0:t1], np.clip(lengths - t0, 0, t1 - t0)
