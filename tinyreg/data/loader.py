"""Mini-batches over aligned NumPy arrays: the array form of :class:`tinyreg.utils.data.DataLoader`, with the same
epoch order (:func:`tinyreg.utils.data.sampler.epoch_batches`) but NumPy arrays in and out."""

import numpy as np

from tinyreg.utils.data.sampler import epoch_batches

from ._generator import generator_or_default


def batches(*arrays, batch_size, shuffle=True, rng=None, drop_last=False):
    """Iterate over one epoch of aligned arrays in mini-batches.

    Yields tuples ``(a[idx], b[idx], ...)`` with one entry per array (a 1-tuple for one array), so
    ``for x, y in batches(X, Y, batch_size=64, rng=g)`` works. Every example appears exactly once
    per epoch; with ``drop_last=True`` a final batch smaller than ``batch_size`` is left out.

    ``shuffle=True`` draws one permutation from ``rng`` (default ``tinyreg.random.generator()``)
    when ``batches`` is called, so the order is fixed by the generator's state. Call ``batches``
    again for each epoch. ``shuffle=False`` yields contiguous slices (views) in order.
    """
    if not arrays:
        raise ValueError("batches needs at least one array")
    arrays = tuple(np.asarray(a) for a in arrays)
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"batches needs arrays of equal length (first dimension), got {lengths}")
    rng = generator_or_default(rng) if shuffle else None
    index_sets = epoch_batches(lengths[0], batch_size, shuffle, drop_last, rng)
    return (tuple(a[rows] for a in arrays) for rows in index_sets)
