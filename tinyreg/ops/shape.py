"""Ops that move elements without changing them: reshape, permute, indexing (and its out-of-place write), cat, stack.

Their backward moves the gradient back the same way: reshape it back, apply the inverse permutation, scatter it into
the indexed positions, or split it among the inputs.
"""

import numpy as np

from tinyreg.ops.reduce import normalized_axes
from tinyreg.tensor import Function, Tensor


class Reshape(Function):
    """y = x viewed with a new shape;   dL/dx = dL/dy reshaped to x's shape."""

    may_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return np.reshape(x, shape)
        except ValueError:
            raise ValueError(f"shape {tuple(shape)} is invalid for input of size {x.size}") from None

    @staticmethod
    def backward(ctx, grad):
        return (np.reshape(grad, ctx.in_shape),)


class Permute(Function):
    """y = x with its axes reordered by ``dims``;   dL/dx = dL/dy with the inverse order."""

    may_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return (np.transpose(grad, ctx.inverse),)


class GetItem(Function):
    """y = x[index];   dL/dx = zeros with dL/dy added at the indexed positions.

    With integer-array indexing the same element can be picked twice; ``np.add.at`` adds both gradients (a plain
    assignment would keep only the last one).
    """

    may_view = True  # basic indexing (slices, ints) gives a view

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        grad_x = np.zeros(ctx.in_shape, dtype=grad.dtype)
        if _is_basic(ctx.index):
            grad_x[ctx.index] = grad  # slices never pick an element twice
        else:
            np.add.at(grad_x, ctx.index, grad)
        return (grad_x,)


class SetItem(Function):
    """y = x with y[index] = v (the out-of-place form of ``x[index] = v``);
    dL/dx = dL/dy with zeros at the overwritten positions,   dL/dv = dL/dy[index] (summed where v was broadcast)."""

    @staticmethod
    def forward(ctx, x, v, index):
        ctx.index = index
        y = x.copy()
        y[index] = v
        return y

    @staticmethod
    def backward(ctx, grad):
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = grad.copy()
            grad_x[ctx.index] = 0
        return grad_x, grad[ctx.index] if ctx.needs_input_grad[1] else None


class Cat(Function):
    """y = [x_1, ..., x_n] joined along ``axis``;   dL/dx_i = the slice of dL/dy that x_i filled."""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        ctx.ends = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.ends, axis=ctx.axis))


class Stack(Function):
    """y = [x_1, ..., x_n] stacked along a new ``axis``;   dL/dx_i = dL/dy taken at position i of that axis."""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def _is_basic(index) -> bool:
    """True for basic indexing (ints, slices, None, ...), which never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def plain_index(index):
    """Turn tensors and lists inside an index into NumPy arrays."""
    if isinstance(index, tuple):
        return tuple(plain_index(p) for p in index)
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _shape_arg(shape):
    """Accept ``reshape(2, 3)`` and ``reshape((2, 3))`` like torch."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def reshape(x, *shape):
    return Reshape.apply(x, shape=_shape_arg(shape))


def permute(x, *dims):
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    axes = tuple(normalized_axes(d, x.ndim)[0] for d in dims)  # backward inverts the order: must be non-negative
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Permute.apply(x, dims=axes)


def transpose(x, dim0, dim1):
    dim0, dim1 = normalized_axes(dim0, x.ndim) + normalized_axes(dim1, x.ndim)  # range-checked, non-negative
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


def unsqueeze(x, dim):
    (dim,) = normalized_axes(dim, x.ndim + 1)  # the new axis may also go after the last one
    shape = list(x.shape)
    shape.insert(dim, 1)
    return Reshape.apply(x, shape=tuple(shape))


def squeeze(x, dim=None):
    """Drop axes of size 1 (only ``dim`` if given; like torch, a ``dim`` whose size is not 1 is left alone)."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = set(normalized_axes(dim, x.ndim))  # an out-of-range dim raises instead of wrapping around
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` (inclusive) into one."""
    if x.ndim == 0:
        return Reshape.apply(x, shape=(1,))
    (start,), (end,) = normalized_axes(start_dim, x.ndim), normalized_axes(end_dim, x.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    return Reshape.apply(x, shape=shape)


def getitem(x, index):
    return GetItem.apply(x, index=plain_index(index))


def setitem(x, index, value):
    """``x`` with ``x[index]`` replaced by ``value``, as a new tensor (``x[index] = value`` writes it into x)."""
    return SetItem.apply(x, value, index=plain_index(index))


def cat(tensors, axis=0, *, dim=None):
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    (axis,) = normalized_axes(axis if dim is None else dim, np.ndim(tensors[0]))
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, axis=0, *, dim=None):
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    (axis,) = normalized_axes(axis if dim is None else dim, np.ndim(tensors[0]) + 1)
    return Stack.apply(*tensors, axis=axis)
