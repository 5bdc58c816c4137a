"""Ops that move elements without changing them: reshape/view, permute, indexing (and its out-of-place write), cat,
stack, expand, repeat.

Their backward moves the gradient back the same way: reshape it back, apply the inverse permutation, scatter it into
the indexed positions, split it among the inputs, or sum the copies that expand and repeat made.
"""

import numpy as np

from tinyreg.ops.reduce import normalized_axes
from tinyreg.tensor import Function, Tensor, reduce_to_shape


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


class View(Reshape):
    """y = x with a new shape, sharing x's memory: as torch, refused when the strides allow no such view (after a
    transpose, say), instead of silently copying as reshape does."""

    @staticmethod
    def forward(ctx, x, shape):
        Reshape.forward(ctx, x, shape)  # the size check and its message
        try:
            return np.reshape(x, shape, copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view, no copy);   dL/dx = dL/dy summed over the copies."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return (reduce_to_shape(grad, ctx.in_shape),)


class Repeat(Function):
    """y = x tiled ``repeats[i]`` times along axis i (``torch.repeat``, NumPy's tile);   dL/dx = the sum of the
    gradient over the copies: dL/dy reshaped to (r₀, s₀, r₁, s₁, ...) and summed over every rᵢ."""

    @staticmethod
    def forward(ctx, x, repeats):
        x = x.reshape((1,) * (len(repeats) - x.ndim) + x.shape)  # torch: extra repeats add leading axes
        ctx.in_shape, ctx.repeats = x.shape, repeats
        return np.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        split = [n for pair in zip(ctx.repeats, ctx.in_shape) for n in pair]
        return (grad.reshape(split).sum(axis=tuple(range(0, len(split), 2))),)


class Clone(Function):
    """y = a copy of x in new memory;   dL/dx = dL/dy."""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return (grad,)


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
    """y = [x_1, ..., x_n] joined along ``axis``;   dL/dx_i = the slice of dL/dy that x_i filled.

    The inputs are promoted like torch's (float32 with int64 gives float32, where NumPy gives float64).
    """

    promotes = True

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        ctx.ends = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.ends, axis=ctx.axis))


class Stack(Function):
    """y = [x_1, ..., x_n] stacked along a new ``axis``;   dL/dx_i = dL/dy taken at position i of that axis.

    The inputs are promoted like torch's, as in :class:`Cat`.
    """

    promotes = True

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


def reshape(input, *shape):
    return Reshape.apply(input, shape=_shape_arg(shape))


def clone(input):
    return Clone.apply(input)


def view(input, *shape):
    return View.apply(input, shape=_shape_arg(shape))


def expand(input, *sizes):
    """Broadcast ``input`` to ``sizes`` without copying; -1 keeps a size, new axes go in front (torch's rule)."""
    sizes = _shape_arg(sizes)
    offset = len(sizes) - input.ndim
    if offset < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({input.ndim})")
    shape = tuple(input.shape[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(sizes))
    for i, n in enumerate(input.shape):
        if n != 1 and n != shape[i + offset]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[i + offset]}) must match the existing size "
                               f"({n}) at non-singleton dimension {i + offset}.  Target sizes: {list(sizes)}.  "
                               f"Tensor sizes: {list(input.shape)}")
    return Expand.apply(input, shape=shape)


def repeat(input, *repeats):
    repeats = _shape_arg(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return Repeat.apply(input, repeats=repeats)


def unflatten(input, dim, sizes):
    """Split axis ``dim`` into ``sizes`` (one entry may be -1), the inverse of flatten."""
    (dim,) = normalized_axes(dim, input.ndim)
    return Reshape.apply(input, shape=input.shape[:dim] + tuple(sizes) + input.shape[dim + 1:])


def permute(input, *dims):
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise ValueError(f"permute: dims {dims} are not a permutation of the {input.ndim} axes of shape {input.shape}")
    axes = tuple(normalized_axes(d, input.ndim)[0] for d in dims)  # backward inverts the order: must be non-negative
    if sorted(axes) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {input.ndim} axes of shape {input.shape}")
    return Permute.apply(input, dims=axes)


def transpose(input, dim0, dim1):
    if input.ndim == 0:  # only dims 0 and -1 exist, and swapping them leaves the tensor as it is
        normalized_axes((dim0, dim1), 0)
        return Permute.apply(input, dims=())
    dim0, dim1 = normalized_axes(dim0, input.ndim) + normalized_axes(dim1, input.ndim)  # range-checked, non-negative
    dims = list(range(input.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(input, dims=tuple(dims))


def unsqueeze(input, dim):
    (dim,) = normalized_axes(dim, input.ndim + 1)  # the new axis may also go after the last one
    shape = list(input.shape)
    shape.insert(dim, 1)
    return Reshape.apply(input, shape=tuple(shape))


def squeeze(input, dim=None):
    """Drop axes of size 1 (only ``dim`` if given; like torch, a ``dim`` whose size is not 1 is left alone)."""
    if dim is None:
        shape = tuple(n for n in input.shape if n != 1)
    else:
        dims = set(normalized_axes(dim, input.ndim))  # an out-of-range dim raises instead of wrapping around
        shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    return Reshape.apply(input, shape=shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` (inclusive) into one."""
    if input.ndim == 0:
        return Reshape.apply(input, shape=(1,))
    (start,), (end,) = normalized_axes(start_dim, input.ndim), normalized_axes(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape[:start] + (-1,) + input.shape[end + 1:]
    return Reshape.apply(input, shape=shape)


def getitem(input, index):
    return GetItem.apply(input, index=plain_index(index))


def setitem(input, index, value):
    """``input`` with ``input[index]`` replaced by ``value``, as a new tensor (``x[index] = value`` writes into x)."""
    return SetItem.apply(input, value, index=plain_index(index))


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
