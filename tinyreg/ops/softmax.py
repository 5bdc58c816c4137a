"""softmax and log_softmax along one axis, computed stably (the max is subtracted before exponentiating)."""

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


def softmax(x, axis=-1, *, dim=None):
    axis, _ = resolve_axis(None if dim is not None else axis, dim)
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1, *, dim=None):
    axis, _ = resolve_axis(None if dim is not None else axis, dim)
    return LogSoftmax.apply(x, axis=axis)
