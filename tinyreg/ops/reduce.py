"""Reductions: sum mean var std prod norm amax/max amin/min logsumexp (and argmax/argmin, which have no gradient).

``axis`` is an int, a tuple of ints or None (all axes); torch's spelling ``dim=``/``keepdim=`` is accepted too, and as
in torch an empty tuple or list (``dim=()``) means all axes.
Every backward first puts the reduced axes back (as size 1) so the gradient broadcasts against the input.
"""

from collections import namedtuple

import numpy as np

from tinyreg.ops.elementwise import maximum, minimum
from tinyreg.tensor import Function, Tensor


def resolve_axis(axis, dim, keepdims=False, keepdim=None):
    """Accept torch's ``dim``/``keepdim`` as aliases of NumPy's ``axis``/``keepdims``."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis or dim, not both")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    if axis == ():  # torch reads "no dims given" as all dims (NumPy would reduce over none)
        axis = None
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

    Ties share the gradient evenly, like ``torch.amax``. A NaN is the maximum of its slice (it propagates) and takes
    the gradient. ``pick=np.amin`` makes the same op amin.
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims, pick=np.amax):
        axes = normalized_axes(axis, x.ndim)
        y = pick(x, axis=axes, keepdims=True)
        ctx.save_for_backward((x == y) | (np.isnan(x) & np.isnan(y)))
        ctx.axes, ctx.keepdims = axes, keepdims
        return y if keepdims else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (is_max,) = ctx.saved
        share = is_max / np.sum(is_max, axis=ctx.axes, keepdims=True)
        return (_keep_reduced_axes(grad, ctx.axes, ctx.keepdims) * share.astype(grad.dtype),)


class Prod(Function):
    """y = ∏_i x_i over the axes;   dy/dx_i = ∏_{j≠i} x_j.

    The product of the others is taken as (product of those before i) · (product of those after i), two cumulative
    products, rather than y / x_i, which would divide by zero when some x_i = 0.
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = normalized_axes(axis, x.ndim)
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        return np.prod(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # The reduced axes moved last and merged into one, so both cumulative products run along axis -1.
        kept = [a for a in range(x.ndim) if a not in ctx.axes]
        moved = np.transpose(x, kept + list(ctx.axes))
        rows = moved.reshape(moved.shape[:len(kept)] + (-1,))
        ones = np.ones(rows.shape[:-1] + (1,), dtype=x.dtype)
        before = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = np.transpose((before * after).reshape(moved.shape), np.argsort(kept + list(ctx.axes)))
        return (_keep_reduced_axes(grad, ctx.axes, ctx.keepdims) * others,)


class Norm(Function):
    """y = ‖x‖_p = (Σ_i |x_i|^p)^(1/p) over the axes (p = inf: max_i |x_i|);

        dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1)      (p = 2: x_i / y;  p = 1: sign(x_i))

    and 0 where y = 0, as in torch (the norm is not differentiable at 0; torch picks the zero subgradient). For
    p = inf the gradient sign(x_i) goes to the elements of largest magnitude, shared evenly among ties.
    """

    floating = True

    @staticmethod
    def forward(ctx, x, p, axis, keepdims):
        axes = normalized_axes(axis, x.ndim)
        magnitude = np.abs(x)
        if p == np.inf:
            y = np.amax(magnitude, axis=axes, keepdims=True)
        else:
            y = np.sum(magnitude ** p, axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdims = p, axes, keepdims
        return y if keepdims else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        p = ctx.p
        with np.errstate(divide="ignore", invalid="ignore"):  # y = 0 is masked below
            if p == np.inf:
                is_max = np.abs(x) == y
                d = np.sign(x) * is_max / np.sum(is_max, axis=ctx.axes, keepdims=True)
            elif p == 1:
                d = np.sign(x)
            else:
                d = np.sign(x) * np.abs(x) ** (p - 1) / y ** (p - 1)
        d = np.where(y == 0, 0, d).astype(grad.dtype)
        return (_keep_reduced_axes(grad, ctx.axes, ctx.keepdims) * d,)


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


# The public functions take torch's keyword names (``tr.sum(input=x, dim=1)``).
def sum(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Sum.apply(input, axis=axis, keepdims=keepdims)


def mean(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Mean.apply(input, axis=axis, keepdims=keepdims)


def prod(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Prod.apply(input, axis=axis, keepdims=keepdims)


def var(input, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
    """Variance; ``unbiased=True`` (torch's default) divides by n - 1. ``correction`` overrides it, as in torch."""
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    if correction is None:
        correction = 1 if unbiased else 0
    return Var.apply(input, axis=axis, correction=correction, keepdims=keepdims)


def std(input, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
    """Standard deviation √var (same arguments as :func:`var`); its gradient is the chain rule through both ops."""
    return var(input, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction).sqrt()


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: the p-norm (default 2, also spelled "fro") over ``dim`` (None: all elements, flattened).

    ``p`` is a positive number or ``inf``; ``dtype`` converts the input first.
    """
    if dtype is not None:
        input = input.to(dtype)
    p = 2 if p == "fro" else p
    if isinstance(p, str) or not p > 0:
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r} (the 0-norm and nuclear norm "
                         f"are not supported)")
    axis, keepdim = resolve_axis(None, dim, keepdim)
    return Norm.apply(input, p=float(p), axis=axis, keepdims=keepdim)


def amax(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Amax.apply(input, axis=axis, keepdims=keepdims)


def amin(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return Amax.apply(input, axis=axis, keepdims=keepdims, pick=np.amin)


MaxResult = namedtuple("MaxResult", ["values", "indices"])
MinResult = namedtuple("MinResult", ["values", "indices"])


def max(input, axis=None, keepdims=False, *, dim=None, keepdim=None, other=None):
    """``max(x)``: the largest element. ``max(x, dim)``: ``(values, indices)`` like torch. ``max(x, y)`` with a
    tensor ``y`` (or ``other=y``): the elementwise :func:`~tinyreg.ops.elementwise.maximum`.

    Unlike ``torch.max(x, dim)``, whose gradient goes to one index per slice, ``values`` shares the gradient evenly
    among ties exactly as :func:`amax` does (they differ only when a slice has repeated maxima).
    """
    return _extreme(input, axis, keepdims, dim, keepdim, other, amax, argmax, maximum, MaxResult)


def min(input, axis=None, keepdims=False, *, dim=None, keepdim=None, other=None):
    """``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, ``min(x, y)``: as :func:`max`, for the smallest."""
    return _extreme(input, axis, keepdims, dim, keepdim, other, amin, argmin, minimum, MinResult)


def _extreme(x, axis, keepdims, dim, keepdim, other, reduce, arg, elementwise, result):
    if isinstance(axis, Tensor):  # torch.max(a, b): the second positional argument is a tensor, not an axis
        axis, other = None, axis
    if other is not None:
        return elementwise(x, other)
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    values = reduce(x, axis, keepdims)
    if axis is None:
        return values
    return result(values, arg(x, axis, keepdims))


def _without_gradient(pick, x, axis, keepdims, dim, keepdim, dtype):
    """A reduction with no derivative (an index or a truth value): computed on the array, outside the graph."""
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    data = x._array if isinstance(x, Tensor) else np.asarray(x)
    if axis is not None:
        normalized_axes(axis, data.ndim)  # an out-of-range axis: torch's IndexError, not NumPy's AxisError
    return Tensor._wrap(np.asarray(pick(data, axis=axis, keepdims=keepdims)).astype(dtype))


def argmax(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest element (int64, no gradient); the whole tensor is flattened when axis is None."""
    return _without_gradient(np.argmax, input, axis, keepdims, dim, keepdim, np.int64)


def argmin(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest element (int64, no gradient); the whole tensor is flattened when axis is None."""
    return _without_gradient(np.argmin, input, axis, keepdims, dim, keepdim, np.int64)


def _truth(pick, input, axis, keepdims, dim, keepdim, out):
    if out is not None:   # np.all(t) passes out=None; a real out= array is NumPy's, not torch's
        raise TypeError("tinyreg's all/any return a new tensor: out= is not supported")
    return _without_gradient(pick, input, axis, keepdims, dim, keepdim, np.bool_)


def all(input, axis=None, keepdims=False, *, dim=None, keepdim=None, out=None):
    """Whether every element is nonzero (bool, no gradient): ``(net(X) == Y).all()``."""
    return _truth(np.all, input, axis, keepdims, dim, keepdim, out)


def any(input, axis=None, keepdims=False, *, dim=None, keepdim=None, out=None):
    """Whether some element is nonzero (bool, no gradient)."""
    return _truth(np.any, input, axis, keepdims, dim, keepdim, out)


def logsumexp(input, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = resolve_axis(axis, dim, keepdims, keepdim)
    return LogSumExp.apply(input, axis=axis, keepdims=keepdims)
