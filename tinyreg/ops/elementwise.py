"""Elementwise functions: exp log sqrt tanh sigmoid relu abs clamp, and where.

At kinks the subgradient is torch's: relu'(0) = 0, |x|'(0) = 0, and clamp passes the gradient on the closed
interval [min, max].
"""

import numpy as np

from tinyreg.tensor import Function, Tensor, promote_with_numbers


class Exp(Function):
    """y = e^x;   dy/dx = e^x = y."""

    floating = True

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * y,)


class Log(Function):
    """y = ln x;   dy/dx = 1/x."""

    floating = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad / x,)


class Sqrt(Function):
    """y = √x;   dy/dx = 1 / (2√x) = 1 / (2y)."""

    floating = True

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad / (2 * y),)


class Tanh(Function):
    """y = tanh x;   dy/dx = 1 - y^2."""

    floating = True

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * (1 - y * y),)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e^-x);   dy/dx = y (1 - y).

    Computed from e = e^-|x| (never overflows): y = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, which keeps full
    relative precision for very negative x where 1 - σ(-x) would cancel to 0.
    """

    floating = True

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1, e) / (1 + e)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * (y * (1 - y)),)


class ReLU(Function):
    """y = max(x, 0);   dy/dx = 1 if x > 0 else 0   (0 at x = 0, as in torch)."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * (y > 0),)


class Abs(Function):
    """y = |x|;   dy/dx = sign(x)   (0 at x = 0, as in torch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * np.sign(x),)


class Clamp(Function):
    """y = min(max(x, lo), hi);   dy/dx = 1 where lo <= x <= hi, else 0.

    The bounds take part in type promotion like scalar operands: an int tensor clamped to 0.5 becomes float32.
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        x = promote_with_numbers(x, lo, hi)
        ctx.save_for_backward(x)
        ctx.bounds = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        lo, hi = ctx.bounds
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return (grad * inside,)


class Where(Function):
    """z = x where condition else y;   dz/dx = condition,  dz/dy = not condition."""

    promotes = True

    @staticmethod
    def forward(ctx, x, y, condition):
        ctx.condition = condition
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        zero = np.zeros((), dtype=grad.dtype)
        c = ctx.condition
        return (np.where(c, grad, zero) if ctx.needs_input_grad[0] else None,
                np.where(c, zero, grad) if ctx.needs_input_grad[1] else None)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return ReLU.apply(x)


def abs(x):
    return Abs.apply(x)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min or max must not be None")
    return Clamp.apply(x, lo=min, hi=max)


def where(condition, x, y):
    """Pick elements of ``x`` where ``condition`` is true, else of ``y`` (condition is a constant, no gradient)."""
    condition = np.asarray(condition._array if isinstance(condition, Tensor) else condition, dtype=bool)
    return Where.apply(x, y, condition=condition)
