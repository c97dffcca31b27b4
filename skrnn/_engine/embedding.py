"""Embedding tables: token ids to vectors, and their sparse row gradients."""

from typing import NamedTuple

import numpy as np


class SparseRows(NamedTuple):
    """Gradient of an embedding table that is non-zero only on ``rows``.

    A batch touches a few hundred rows of a table of tens of thousands, so the
    optimizers update those rows only ("lazy" updates, as torch's ``SparseAdam``).
    """

    rows: np.ndarray
    values: np.ndarray
    shape: tuple

    def toarray(self):
        dense = np.zeros(self.shape, dtype=self.values.dtype)
        dense[self.rows] = self.values
        return dense


def embed(tables, ids, features=None):
    """Concatenate the embeddings of every id stream (and the dense features).

    ``ids`` is ``(T, B, n_streams)``; ``tables[k]`` embeds stream ``k``.
    """
    parts = [table[ids[..., k]] for k, table in enumerate(tables)]
    if features is not None:
        parts.append(features)
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)


def embedding_grads(dx, ids, mask, tables):
    """Row gradients of every table from ``dx`` of shape ``(T, B, D)``.

    Only valid steps count; each table's rows are summed with one flattened
    ``np.bincount`` over the distinct ids of the batch.
    """
    valid_ids = ids[mask]
    valid_dx = dx[mask]
    grads, start = [], 0
    for k, table in enumerate(tables):
        dim = table.shape[1]
        rows, inverse = np.unique(valid_ids[:, k], return_inverse=True)
        flat_index = (inverse[:, None] * dim + np.arange(dim)).ravel()
        summed = np.bincount(
            flat_index,
            weights=valid_dx[:, start : start + dim].ravel(),
            minlength=rows.size * dim,
        )
        values = summed.reshape(rows.size, dim).astype(table.dtype, copy=False)
        grads.append(SparseRows(rows, values, table.shape))
        start += dim
    return grads


def init_table(rng, n_rows, dim, dtype):
    """N(0, 1/dim)-scaled rows, so that an embedded vector has unit expected norm."""
    return (rng.standard_normal((n_rows, dim)) / np.sqrt(dim)).astype(dtype)
