"""Layer normalization as one op with its compact hand-derived backward (Ba, Kiros & Hinton, 2016)."""

import numpy as np

from tinyreg.tensor import Function


class LayerNorm(Function):
    """Normalize each sample over its last axes, then scale and shift:

        μ = mean(x),   σ = √(mean((x − μ)²) + ε),   x̂ = (x − μ) / σ,   y = γ ⊙ x̂ + β

    (means over the H normalized elements of one sample; the variance is the biased one, as in torch).

    Backward. With ĝ = g ⊙ γ the gradient reaching x̂, and x̂ depending on every x_j of the sample through μ and σ
    (∂μ/∂x_j = 1/H, ∂σ/∂x_j = x̂_j / H), the chain rule collapses to

        dL/dx = (1/σ) (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂))
        dL/dγ = Σ_samples g ⊙ x̂,     dL/dβ = Σ_samples g

    The two subtracted means remove exactly the components of ĝ that a shift (mean) or a rescaling (x̂ direction) of
    x could not change, since the output is invariant to both.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_ndim, eps):
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        centered = x - np.mean(x, axis=axes, keepdims=True)
        # Center twice: in floating point mean(x − μ) is not exactly 0 (in float32 it is off by ~1e-7·|μ|, large
        # next to σ when |μ| ≫ σ), and the backward formula relies on mean(x̂) = 0; the second pass removes the
        # residue and makes float32 gradients of such inputs ~100x more accurate.
        centered -= np.mean(centered, axis=axes, keepdims=True)
        inv_sigma = 1 / np.sqrt(np.mean(centered * centered, axis=axes, keepdims=True) + eps)
        x_hat = centered * inv_sigma
        ctx.save_for_backward(x_hat, inv_sigma, weight)
        ctx.axes = axes
        y = x_hat
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_sigma, weight = ctx.saved
        axes = ctx.axes
        sample_axes = tuple(range(grad.ndim - len(axes)))
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            g_hat = grad if weight is None else grad * weight
            grad_x = inv_sigma * (g_hat - np.mean(g_hat, axis=axes, keepdims=True)
                                  - x_hat * np.mean(g_hat * x_hat, axis=axes, keepdims=True))
        if ctx.needs_input_grad[1]:
            grad_w = np.sum(grad * x_hat, axis=sample_axes)
        if ctx.needs_input_grad[2]:
            grad_b = np.sum(grad, axis=sample_axes)
        return grad_x, grad_w, grad_b


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm``: normalize over the last ``len(normalized_shape)`` axes, whose sizes must equal it."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if n == 0 or x.ndim < n or tuple(x.shape[x.ndim - n:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(x.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(p.shape)} and normalized_shape = {list(normalized_shape)}")
    return LayerNorm.apply(x, weight, bias, normalized_ndim=n, eps=eps)
