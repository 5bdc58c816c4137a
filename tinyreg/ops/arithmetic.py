"""Arithmetic: + - * / ** and negation, with NumPy broadcasting.

Each backward returns gradients in the output's (broadcast) shape; the engine sums them back to each input's shape.
"""

import numpy as np

from tinyreg.tensor import Function


class Add(Function):
    """z = x + y;   dz/dx = 1,  dz/dy = 1."""

    promotes = True

    @staticmethod
    def forward(ctx, x, y):
        return np.add(x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = x - y;   dz/dx = 1,  dz/dy = -1."""

    promotes = True

    @staticmethod
    def forward(ctx, x, y):
        return np.subtract(x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y;   dz/dx = y,  dz/dy = x."""

    promotes = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.multiply(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return (grad * y if ctx.needs_input_grad[0] else None,
                grad * x if ctx.needs_input_grad[1] else None)


class Div(Function):
    """z = x / y;   dz/dx = 1/y,  dz/dy = -x/y^2 = -z/y."""

    floating = True
    promotes = True

    @staticmethod
    def forward(ctx, x, y):
        z = np.divide(x, y)
        ctx.save_for_backward(y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        y, z = ctx.saved
        grad_x = grad / y
        return (grad_x if ctx.needs_input_grad[0] else None,
                -grad_x * z if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """z = -x;   dz/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return (-grad,)


class Pow(Function):
    """z = x^p for a constant number p;   dz/dx = p * x^(p-1)   (0 when p = 0, as in torch).

    The exponent takes part in type promotion like any operand: int tensor ** 0.5 is float32, int ** 2 stays int.
    """

    promotes = True

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return np.power(x, exponent)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        p = ctx.exponent
        if p == 0:
            return np.zeros_like(grad), None
        return grad * (p * np.power(x, p - 1)), None


def add(x, y, *, alpha=1):
    """x + alpha * y, like ``torch.add`` (``y * alpha`` is an ordinary product: a Mul node when y is a tensor)."""
    return Add.apply(x, y if alpha == 1 else y * alpha)


def sub(x, y, *, alpha=1):
    """x - alpha * y, like ``torch.sub``."""
    return Sub.apply(x, y if alpha == 1 else y * alpha)


def mul(x, y):
    return Mul.apply(x, y)


def div(x, y):
    return Div.apply(x, y)


def neg(x):
    return Neg.apply(x)


def pow(x, exponent):
    """``x ** exponent`` for a constant Python/NumPy number ``exponent``."""
    if not isinstance(exponent, (int, float, np.integer, np.floating)):
        raise TypeError(f"pow: the exponent must be a number (a constant), got {type(exponent).__name__}")
    return Pow.apply(x, exponent)
