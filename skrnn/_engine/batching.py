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
