"""Mini-batches over aligned NumPy arrays: a DataLoader in spirit, one function in practice."""

import numpy as np

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
    is_int = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
    if not is_int or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = lengths[0]
    order = None
    if shuffle:
        order = generator_or_default(rng).permutation(n)
    stop = n - n % batch_size if drop_last else n
    return _epoch(arrays, order, batch_size, stop)


def _epoch(arrays, order, batch_size, stop):
    for start in range(0, stop, batch_size):
        rows = slice(start, start + batch_size)
        if order is not None:
            rows = order[rows]
        yield tuple(a[rows] for a in arrays)
