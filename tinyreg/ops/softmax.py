"""softmax and log_softmax along one axis, computed stably (the max is subtracted before exponentiating)."""

import warnings

import numpy as np

from tinyreg.ops.reduce import normalized_axes, resolve_axis
from tinyreg.tensor import Function


def _shift_by_max(x, axis):
    """x - max(x) along ``axis``: the same softmax, but e^(x - max) <= 1 cannot overflow."""
    return x - np.amax(x, axis=axis, keepdims=True)


def stable_log_softmax(x, axis):
    """log softmax(x) along ``axis`` as (x_i - m) - log Σ_j e^{x_j - m}, m the max.

    x_i - m rounds relative to its own size, whereas x_i - (m + log Σ) would round m + log Σ at the scale of m (an
    absolute error of ~6e-5 in float32 when m = 1000).
    """
    shifted = _shift_by_max(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class Softmax(Function):
    """s_i = e^{x_i} / Σ_j e^{x_j};   ds_i/dx_k = s_i (δ_ik - s_k),  so  dL/dx = s ⊙ (g - Σ_j g_j s_j)."""

    floating = True

    @staticmethod
    def forward(ctx, x, axis):
        axis = normalized_axes(axis, x.ndim)  # range-checked (IndexError like torch); () for a 0-d x
        e = np.exp(_shift_by_max(x, axis))
        s = e / np.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(s)
        ctx.axis = axis
        return s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved
        return (s * (grad - np.sum(grad * s, axis=ctx.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y_i = x_i - log Σ_j e^{x_j};   dy_i/dx_k = δ_ik - softmax_k,  so  dL/dx = g - softmax ⊙ Σ_j g_j."""

    floating = True

    @staticmethod
    def forward(ctx, x, axis):
        axis = normalized_axes(axis, x.ndim)
        y = stable_log_softmax(x, axis)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad - np.exp(y) * np.sum(grad, axis=ctx.axis, keepdims=True),)


def _softmax_axis(name, x, axis, dim):
    """The axis given (``axis`` or torch's ``dim``), or torch's implicit choice with its warning when neither is:
    axis 0 for 0-, 1- and 3-dimensional input, else axis 1 (for (N, C) and (N, C, H, W) the class axis C)."""
    axis, _ = resolve_axis(axis, dim)
    if axis is not None:
        return axis
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  f"argument.", UserWarning, stacklevel=3)
    return 0 if np.ndim(x) in (0, 1, 3) else 1


def softmax(input, axis=None, *, dim=None):
    return Softmax.apply(input, axis=_softmax_axis("softmax", input, axis, dim))


def log_softmax(input, axis=None, *, dim=None):
    return LogSoftmax.apply(input, axis=_softmax_axis("log_softmax", input, axis, dim))
