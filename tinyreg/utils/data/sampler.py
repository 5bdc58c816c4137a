"""The order of one epoch: which example indices form each mini-batch (shared by DataLoader and tinyreg.data.batches).

Plain Python, so :mod:`tinyreg.data` can use it without the tensor machinery.
"""

import numbers


def check_batch_size(batch_size):
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")


def epoch_batches(n, batch_size, shuffle, drop_last, rng):
    """The index sets of one epoch over ``n`` examples, ``batch_size`` at a time.

    ``shuffle=True`` draws one permutation from ``rng`` now (not lazily), so the order is fixed by the generator's
    state when the epoch starts, and each example appears exactly once; ``shuffle=False`` gives contiguous slices in
    order. ``drop_last=True`` leaves out a final batch smaller than ``batch_size``.
    """
    check_batch_size(batch_size)
    order = rng.permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    return _index_sets(order, batch_size, stop)


def _index_sets(order, batch_size, stop):
    for start in range(0, stop, batch_size):
        rows = slice(start, start + batch_size)
        yield rows if order is None else order[rows]


def number_of_batches(n, batch_size, drop_last):
    return n // batch_size if drop_last else -(-n // batch_size)
