"""Arithmetic: + - * / ** (a number or a tensor exponent) and negation, with NumPy broadcasting; // has no gradient.

Each backward returns gradients in the output's (broadcast) shape; the engine sums them back to each input's shape.
"""

import numpy as np

from tinyreg.promotion import promote_with_numbers, result_type, scalar_dtype
from tinyreg.tensor import Function, Tensor


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

    The exponent takes part in type promotion like a scalar operand: int tensor ** 0.5 is float32, int ** 2 stays int.
    """

    @staticmethod
    def forward(ctx, x, exponent):
        x = promote_with_numbers(x, exponent)
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return np.power(x, exponent)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        p = ctx.exponent
        if p == 0:
            return (np.zeros_like(grad),)
        return (grad * (p * np.power(x, p - 1)),)


class PowTensor(Function):
    """z = x^y with a tensor (or a tensor base and a number exponent given as a tensor);

        dz/dx = y x^(y-1)   (0 where y = 0),     dz/dy = x^y ln x   (0 where x = 0 and y >= 0, as in torch)

    ``2 ** x`` and ``tr.pow(2.0, x)`` are this op with a constant base.
    """

    promotes = True

    @staticmethod
    def forward(ctx, x, y):
        z = np.power(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved
        grad_x = grad_y = None
        with np.errstate(divide="ignore", invalid="ignore"):  # x < 0 gives nan for dz/dy, as in torch
            if ctx.needs_input_grad[0]:
                grad_x = grad * np.where(y == 0, 0, y * np.power(x, y - 1))
            if ctx.needs_input_grad[1]:
                grad_y = grad * np.where((x == 0) & (y >= 0), 0, z * np.log(x))
        return grad_x, grad_y


def _times_alpha(x, y, alpha):
    """alpha * y for x ± alpha * y, as torch computes it: in the dtype of x ± y, to which alpha is converted, so alpha
    never changes the result's dtype (``y * alpha`` would: int array * 0.5 is float64 in NumPy). torch's checks first:
    a bool alpha only for a bool result, a float alpha not for an integral one, a complex alpha only for a complex one.
    """
    if type(alpha) is int and alpha == 1:  # the default (every + and -): an int alpha passes every check
        return y
    dtype = result_type([v._array if isinstance(v, Tensor) else v for v in (x, y)])
    kind = scalar_dtype(alpha).kind  # np.bool_ counts as a float, as in torch
    if kind == "b" and dtype.kind != "b":
        raise RuntimeError(f"Boolean alpha only supported for Boolean results. (alpha={alpha!r}, result {dtype})")
    if kind in "fc" and dtype.kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number. "
                           f"(alpha={alpha!r}, result {dtype})")
    if kind == "c" and dtype.kind != "c":
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number. "
                           f"(alpha={alpha!r}, result {dtype})")
    if not isinstance(y, Tensor):
        y = np.asarray(y, dtype=dtype)
    elif y.dtype != dtype:
        y = y.to(dtype)
    return Mul.apply(y, dtype.type(alpha).item())


# The public functions take torch's keyword names (``tr.add(input=x, other=y)``).
def add(input, other, *, alpha=1):
    """input + alpha * other, like ``torch.add`` (alpha * other is a Mul node when other is a tensor)."""
    return Add.apply(input, _times_alpha(input, other, alpha))


def sub(input, other, *, alpha=1):
    """input - alpha * other, like ``torch.sub``."""
    return Sub.apply(input, _times_alpha(input, other, alpha))


def mul(input, other):
    return Mul.apply(input, other)


def div(input, other):
    return Div.apply(input, other)


def neg(input):
    return Neg.apply(input)


_NUMBERS = (int, float, np.integer, np.floating)


def pow(input, exponent):
    """``input ** exponent``: a number exponent is a constant (Pow); a tensor exponent, or a number base
    (``2 ** x``), gets its own gradient (PowTensor)."""
    if isinstance(exponent, _NUMBERS):
        return Pow.apply(input, exponent=exponent)
    if not isinstance(exponent, (Tensor, np.ndarray)):
        raise TypeError(f"pow: the exponent must be a number or a tensor, got {type(exponent).__name__}")
    return PowTensor.apply(input, exponent)


def floor_divide(input, other):
    """⌊input / other⌋ elementwise (``//``), in the promoted dtype; a step function, so outside the graph."""
    arrays = [np.asarray(v) if isinstance(v, Tensor) else v for v in (input, other)]
    dtype = result_type(arrays)
    return Tensor._wrap(np.floor_divide(*arrays).astype(dtype, copy=False))
