"""Reductions: sum mean var amax/max logsumexp (and argmax, which has no gradient).

``axis`` is an int, a tuple of ints or None (all axes); torch's spelling ``dim=``/``keepdim=`` is accepted too.
Every backward first puts the reduced axes back (as size 1) so the gradient broadcasts against the input.
"""

from collections import namedtuple

import numpy as np

from tinyreg.tensor import Function, Tensor


def resolve_axis(axis, dim, keepdims=False, keepdim=None):
    """Accept torch's ``dim``/``keepdim`` as aliases of NumPy's ``axis``/``keepdims``."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis or dim, not both")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, (keepdims if keepdim is None else keepdim)


def normalized_axes(axis, ndim):
    """The axes ``axis`` (an int, a tuple or None = all) names in an ``ndim``-dim tensor, as a sorted tuple of
    non-negative ints; an axis outside [-ndim, ndim) raises torch's IndexError. Every op taking a dim checks it here.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    rank = ndim if ndim else 1  # a 0-d tensor accepts dim 0 or -1, as in torch
    for a in axes:
        if not -rank <= a < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {a})")
    return tuple(sorted(a % rank for a in axes)) if ndim else ()


def _keep_reduced_axes(grad, axes, keepdims):
    """Re-insert reduced axes as size 1 so ``grad`` broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


def stable_logsumexp(x: np.ndarray, axis) -> np.ndarray:
    """log Σ e^x over ``axis`` (kept as size 1), as m + log Σ e^(x - m) with m the max, so e^x cannot overflow."""
    m = np.amax(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # an all -inf slice must give -inf, not nan
    with np.errstate(divide="ignore"):  # ... which is log 0: the right answer, not a warning
        return m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


class Sum(Function):
    """y = Σ_i x_i over the axes;   dy/dx_i = 1."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape = x.shape
        ctx.axes = normalized_axes(axis, x.ndim)
        ctx.keepdims = keepdims
        return np.sum(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return (np.broadcast_to(_keep_reduced_axes(grad, ctx.axes, ctx.keepdims), ctx.shape),)


class Mean(Function):
    """y = (1/n) Σ_i x_i over the axes (n elements);   dy/dx_i = 1/n."""

    floating = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape = x.shape
        ctx.axes = normalized_axes(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.n = int(np.prod([x.shape[a] for a in ctx.axes]))
        return np.mean(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        g = _keep_reduced_axes(grad, ctx.axes, ctx.keepdims) / ctx.n
        return (np.broadcast_to(g, ctx.shape),)


class Var(Function):
    """y = Σ_i (x_i - x̄)² / (n - c), c the correction (1 = unbiased);   dy/dx_i = 2 (x_i - x̄) / (n - c).

    The x̄ term of the derivative vanishes because Σ_i (x_i - x̄) = 0.
    """

    floating = True

    @staticmethod
    def forward(ctx, x, axis, correction, keepdims):
        axes = normalized_axes(axis, x.ndim)
        centered = x - np.mean(x, axis=axes, keepdims=True)
        n = int(np.prod([x.shape[a] for a in axes]))
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdims, ctx.dof = axes, keepdims, n - correction
        with np.errstate(divide="ignore", invalid="ignore"):  # n <= correction gives nan/inf, as in torch
            return np.sum(centered * centered, axis=axes, keepdims=keepdims) / ctx.dof

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved
        g = _keep_reduced_axes(grad, ctx.axes, ctx.keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):  # dof = 0: nan, as in torch (not ZeroDivisionError)
            return (g * centered * 2 / ctx.dof,)


class Amax(Function):
    """y = max_i x_i over the axes;   dy/dx_i = 1/k if x_i is one of the k maximal elements, else 0.

    Ties share the gradient evenly, like ``torch.amax``.
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = normalized_axes(axis, x.ndim)
        y = np.amax(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x == y)
        ctx.axes, ctx.keepdims = axes, keepdims
        return y if keepdims else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (is_max,) = ctx.saved
        share = is_max / np.sum(is_max, axis=ctx.axes, keepdims=True)
        return (_keep_reduced_axes(grad, ctx.axes, ctx.keepdims) * share.astype(grad.dtype),)


class LogSumExp(Function):
    """y = log Σ_i e^{x_i} = m + log Σ_i e^{x_i - m} with m = max_i x_i (no overflow);   dy/dx_i = softmax(x)_i."""

    floating = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = normalized_axes(axis, x.ndim)
        y = stable_logsumexp(x, axes)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdims = axes, keepdims
        return y if keepdims else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return (_keep_reduced_axes(grad, ctx.axes, ctx.keepdims) * np.exp(x - y),)


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
    """Variance; ``unbiased=True`` (torch's default) divides by n - 1. ``correction`` overrides it, as in torch."""
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    if correction is None:
        correction = 1 if unbiased else 0
    return Var.apply(x, axis=axis, correction=correction, keepdims=keepdims)


def amax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Amax.apply(x, axis=axis, keepdims=keepdims)


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """``max(x)``: the largest element. ``max(x, dim)``: ``(values, indices)`` like torch.

    Unlike ``torch.max(x, dim)``, whose gradient goes to one index per slice, ``values`` shares the gradient evenly
    among ties exactly as :func:`amax` does (they differ only when a slice has repeated maxima).
    """
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    values = Amax.apply(x, axis=axis, keepdims=keepdims)
    if axis is None:
        return values
    return MaxResult(values, argmax(x, axis, keepdims))


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest element (int64, no gradient); the whole tensor is flattened when axis is None."""
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    data = x._array if isinstance(x, Tensor) else np.asarray(x)
    if axis is not None:
        normalized_axes(axis, data.ndim)  # an out-of-range axis: torch's IndexError, not NumPy's AxisError
    return Tensor._wrap(np.argmax(data, axis=axis, keepdims=keepdims).astype(np.int64))


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)
