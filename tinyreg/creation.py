"""Tensor constructors: zeros ones full empty eye arange linspace, random rand randn randint normal, the *_like forms,
and from_numpy (in :mod:`tinyreg.tensor`).

Floating tensors default to float32, as in torch. Random ones draw from tinyreg's one generator
(:func:`tinyreg.random.generator`), so ``tr.manual_seed`` fixes them. Every constructor takes torch's ``device=``
keyword, which may only name the CPU (:mod:`tinyreg.device`).
"""

import numpy as np

from tinyreg.device import check_device
from tinyreg.random import generator
from tinyreg.promotion import scalar_dtype
from tinyreg.tensor import Tensor, float32, int64


def _shape(size):
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))`` like torch."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _make(array, dtype, requires_grad, device=None) -> Tensor:
    check_device(device)
    t = Tensor._wrap(array.astype(np.dtype(dtype), copy=False))
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(_shape(size)), dtype or float32, requires_grad, device)


def ones(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return _make(np.ones(_shape(size)), dtype or float32, requires_grad, device)


def empty(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    """torch leaves the memory uninitialised; tinyreg fills it with zeros, so no garbage value can leak into a run."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype, unless given, is torch's for that number standing alone:
    int64 for a Python or NumPy integer, float32 for a Python or NumPy float, bool for a Python bool, but float32 for
    ``np.bool_`` (torch reads it as a float)."""
    return _make(np.full(_shape((size,)), fill_value), dtype or scalar_dtype(fill_value), requires_grad, device)


def eye(n, m=None, dtype=float32, device=None, requires_grad=False) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    return _make(np.eye(n, n if m is None else m), dtype or float32, requires_grad, device)


def randn(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples N(0, 1)."""
    return _make(generator().standard_normal(_shape(size)), dtype or float32, requires_grad, device)


def rand(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _make(generator().random(_shape(size)), dtype or float32, requires_grad, device)


def randint(*args, size=None, dtype=int64, device=None, requires_grad=False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)`` (torch's
    two forms; ``size`` a tuple, positional or keyword)."""
    if size is None:
        *args, size = args
    if len(args) not in (1, 2):
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    low, high = (0, *args) if len(args) == 1 else args
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _make(generator().integers(low, high, size=_shape((size,))), dtype or int64, requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Samples of N(mean, std²): ``normal(0, 1, size=(3, 2))`` with numbers, or elementwise means and standard
    deviations given as tensors (broadcast together; the result has their shape and dtype)."""
    shapes = [np.shape(v) for v in (mean, std) if isinstance(v, Tensor)]
    if size is None and not shapes:
        raise TypeError("normal(): with a number mean and std, give the output's size=")
    shape = _shape((size,)) if size is not None else np.broadcast_shapes(*shapes)
    if dtype is None:
        tensors = [v.dtype for v in (mean, std) if isinstance(v, Tensor)]
        dtype = np.result_type(*tensors) if tensors else float32
    draws = generator().normal(np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64), size=shape)
    return _make(draws, dtype, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``; int64 for integer arguments, else float32 (torch's rule)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else float32
    return _make(np.arange(start, end, step), dtype, requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 unless ``dtype`` says)."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps!r}")
    return _make(np.linspace(float(start), float(end), int(steps)), dtype or float32, requires_grad, device)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def rand_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)
