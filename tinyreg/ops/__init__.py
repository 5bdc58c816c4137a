"""Every differentiable op, each a :class:`~tinyreg.tensor.Function` with its forward and backward side by side.

| file          | ops                                                        |
|---------------|------------------------------------------------------------|
| arithmetic.py | add sub mul div neg pow (number or tensor exponent); floor_divide (no gradient) |
| elementwise.py| exp log sqrt sin cos tanh sigmoid relu abs sign clamp maximum minimum where |
| reduce.py     | sum mean prod var std norm amax/max amin/min logsumexp (argmax argmin all any: no gradient) |
| softmax.py    | softmax log_softmax                                        |
| matmul.py     | matmul, and the shape-checked mm bmm dot outer             |
| shape.py      | clone reshape view permute transpose (un)squeeze (un)flatten expand repeat getitem setitem cat stack |
| linear.py     | linear (x Wᵀ + b as one op, for nn.Linear)                 |
| layer_norm.py | layer_norm (one op, compact hand-derived backward)         |
| cross_entropy.py | cross_entropy (logits and integer labels), binary cross-entropy of probabilities and logits |

Comparisons and dtype casts, which have no useful derivative, are defined here.
"""

import numpy as np

from tinyreg.ops.arithmetic import add, div, floor_divide, mul, neg, pow, sub
from tinyreg.ops.elementwise import (abs, clamp, cos, exp, log, maximum, minimum, relu, sigmoid, sign, sin, sqrt, tanh,
                                     where)
from tinyreg.ops.matmul import bmm, dot, matmul, mm, outer
from tinyreg.ops.reduce import (all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var)
from tinyreg.ops.shape import (cat, clone, expand, flatten, getitem, permute, repeat, reshape, setitem, squeeze,
                               stack, transpose, unflatten, unsqueeze, view)
from tinyreg.ops.softmax import log_softmax, softmax
from tinyreg.tensor import Function, Tensor


def compare(ufunc, x, y) -> Tensor:
    """Elementwise comparison giving a boolean tensor outside the graph."""
    return Tensor._wrap(ufunc(x._array if isinstance(x, Tensor) else x, y._array if isinstance(y, Tensor) else y))


def eq(input, other):
    return compare(np.equal, input, other)


def ne(input, other):
    return compare(np.not_equal, input, other)


def lt(input, other):
    return compare(np.less, input, other)


def le(input, other):
    return compare(np.less_equal, input, other)


def gt(input, other):
    return compare(np.greater, input, other)


def ge(input, other):
    return compare(np.greater_equal, input, other)


class Cast(Function):
    """y = x converted to another floating dtype;   dL/dx = dL/dy converted back (the engine does it)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return (grad,)


def cast(x, dtype) -> Tensor:
    """Convert to ``dtype``; to an integer or bool dtype the result leaves the graph (no gradient flows through it)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return Tensor._wrap(x._array.astype(dtype))
    return Cast.apply(x, dtype=dtype)


__all__ = ["abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "bmm", "cast", "cat", "clamp", "clone", "compare", "cos",
           "div", "dot", "eq", "exp", "expand", "flatten", "floor_divide", "ge", "getitem", "gt", "le", "log",
           "log_softmax", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min", "minimum", "mm", "mul", "ne",
           "neg", "norm", "outer", "permute", "pow", "prod", "relu", "repeat", "reshape", "setitem", "sigmoid",
           "sign", "sin", "softmax", "sqrt", "squeeze", "stack", "std", "sub", "sum", "tanh", "transpose",
           "unflatten", "unsqueeze", "var", "view", "where"]
