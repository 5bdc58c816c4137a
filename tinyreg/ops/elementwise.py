"""Elementwise functions: exp log sqrt sin cos tanh sigmoid relu abs sign clamp, maximum minimum, and where.

At kinks the subgradient is torch's: relu'(0) = 0, |x|'(0) = 0, and clamp passes the gradient on the closed
interval [min, max].
"""

import numpy as np

from tinyreg.promotion import promote_with_numbers, result_type
from tinyreg.tensor import Function, Tensor


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


class Sin(Function):
    """y = sin x;   dy/dx = cos x."""

    floating = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * np.cos(x),)


class Cos(Function):
    """y = cos x;   dy/dx = -sin x."""

    floating = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (-grad * np.sin(x),)


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


class Sign(Function):
    """y = sign x ∈ {-1, 0, 1};   dy/dx = 0 (a step function: torch records it with a zero gradient)."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return (np.zeros_like(grad),)


class Maximum(Function):
    """z = max(x, y) elementwise;   dz/dx = 1 where x > y, dz/dy = 1 where y > x, and ½ each on a tie (torch's rule).

    ``minimum`` is the same op on the other side: min(x, y) = -max(-x, -y) would cost two extra nodes, so the
    comparison is a parameter instead.
    """

    promotes = True

    @staticmethod
    def forward(ctx, x, y, pick):
        ctx.save_for_backward(x, y)
        ctx.pick = pick
        return pick(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        x_wins = (x > y) if ctx.pick is np.maximum else (x < y)
        share_x = np.where(x == y, 0.5, x_wins).astype(grad.dtype)
        return (grad * share_x if ctx.needs_input_grad[0] else None,
                grad * (1 - share_x) if ctx.needs_input_grad[1] else None)


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


# The public functions take torch's keyword names (``tr.exp(input=x)``, ``tr.maximum(input, other)``).
def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def tanh(input):
    return Tanh.apply(input)


def sigmoid(input):
    return Sigmoid.apply(input)


def relu(input):
    return ReLU.apply(input)


def abs(input):
    return Abs.apply(input)


def sign(input):
    return Sign.apply(input)


def maximum(input, other):
    return Maximum.apply(input, other, pick=np.maximum)


def minimum(input, other):
    return Maximum.apply(input, other, pick=np.minimum)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min or max must not be None")
    return Clamp.apply(input, lo=min, hi=max)


def where(condition, input, other):
    """Pick elements of ``input`` where ``condition`` is true, else of ``other`` (condition is a constant, no
    gradient). Two numbers give torch's default dtype: ``where(c, 1.0, 0.0)`` is float32, not NumPy's float64."""
    condition = np.asarray(condition._array if isinstance(condition, Tensor) else condition, dtype=bool)
    if not isinstance(input, (Tensor, np.ndarray)) and not isinstance(other, (Tensor, np.ndarray)):
        input = np.asarray(input, dtype=result_type([input, other]))
    return Where.apply(input, other, condition=condition)
