"""Tensor constructors: zeros ones full randn rand arange and the *_like forms.

Floating tensors default to float32, as in torch. Random ones draw from tinyreg's one generator
(:func:`tinyreg.random.generator`), so ``tr.manual_seed`` fixes them.
"""

import numpy as np

from tinyreg.random import generator
from tinyreg.tensor import Tensor, float32, scalar_dtype


def _shape(size):
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))`` like torch."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _make(array, dtype, requires_grad) -> Tensor:
    t = Tensor._wrap(array.astype(np.dtype(dtype), copy=False))
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=float32, requires_grad=False) -> Tensor:
    return _make(np.zeros(_shape(size)), dtype, requires_grad)


def ones(*size, dtype=float32, requires_grad=False) -> Tensor:
    return _make(np.ones(_shape(size)), dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype, unless given, is torch's for that number standing alone:
    int64 for a Python or NumPy integer, float32 for a Python or NumPy float, bool for a Python bool, but float32 for
    ``np.bool_`` (torch reads it as a float)."""
    return _make(np.full(_shape((size,)), fill_value), dtype or scalar_dtype(fill_value), requires_grad)


def randn(*size, dtype=float32, requires_grad=False) -> Tensor:
    """Standard normal samples N(0, 1)."""
    return _make(generator().standard_normal(_shape(size)), dtype, requires_grad)


def rand(*size, dtype=float32, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _make(generator().random(_shape(size)), dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``; int64 for integer arguments, else float32 (torch's rule)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else float32
    return _make(np.arange(start, end, step), dtype, requires_grad)


def zeros_like(x: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return zeros(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return ones(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)
