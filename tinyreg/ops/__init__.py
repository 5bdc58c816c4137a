"""Every differentiable op, each a :class:`~tinyreg.tensor.Function` with its forward and backward side by side.

| file          | ops                                                        |
|---------------|------------------------------------------------------------|
| arithmetic.py | add sub mul div neg pow                                    |
| elementwise.py| exp log sqrt tanh sigmoid relu abs clamp where             |
| reduce.py     | sum mean var amax max logsumexp (argmax: no gradient)      |
| softmax.py    | softmax log_softmax                                        |
| matmul.py     | matmul                                                     |
| shape.py      | reshape permute transpose (un)squeeze flatten getitem setitem cat stack |
| linear.py     | linear (x Wᵀ + b as one op, for nn.Linear)                 |
| layer_norm.py | layer_norm (one op, compact hand-derived backward)         |
| cross_entropy.py | cross_entropy (logits and integer labels, stable)       |

Comparisons and dtype casts, which have no useful derivative, are defined here.
"""

import numpy as np

from tinyreg.ops.arithmetic import add, div, mul, neg, pow, sub
from tinyreg.ops.elementwise import abs, clamp, exp, log, relu, sigmoid, sqrt, tanh, where
from tinyreg.ops.matmul import matmul
from tinyreg.ops.reduce import amax, argmax, logsumexp, max, mean, sum, var
from tinyreg.ops.shape import cat, flatten, getitem, permute, reshape, setitem, squeeze, stack, transpose, unsqueeze
from tinyreg.ops.softmax import log_softmax, softmax
from tinyreg.tensor import Function, Tensor


def compare(ufunc, x, y) -> Tensor:
    """Elementwise comparison giving a boolean tensor outside the graph."""
    return Tensor._wrap(ufunc(x._array if isinstance(x, Tensor) else x, y._array if isinstance(y, Tensor) else y))


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


__all__ = ["abs", "add", "amax", "argmax", "cast", "cat", "clamp", "compare", "div", "exp", "flatten", "getitem",
           "log", "log_softmax", "logsumexp", "matmul", "max", "mean", "mul", "neg", "permute", "pow", "relu",
           "reshape", "setitem", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub", "sum", "tanh", "transpose",
           "unsqueeze", "var", "where"]
