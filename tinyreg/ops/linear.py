"""The affine map of a fully connected layer, y = x Wᵀ + b, as one op (three ops' work in one graph node)."""

import numpy as np

from tinyreg.ops.matmul import matmul
from tinyreg.tensor import Function


class Linear(Function):
    """y = x Wᵀ + b  for x (..., in), W (out, in), b (out,) or None.

    With the batch axes of x and G = dL/dy flattened into rows (x: (n, in), G: (n, out)):

        dL/dx = G W          (n, in)
        dL/dW = Gᵀ x         (out, in): one outer product per row, summed over the rows
        dL/db = Σ_rows G     (out,)

    Gradients that no input needs (a frozen W, data x that never requires grad) are not computed.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
            rows = int(np.prod(x.shape[:-1])) if x.ndim else 1
            raise ValueError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1] if x.ndim else 1} and "
                             f"{weight.shape[-1]}x{weight.shape[0]})")
        ctx.save_for_backward(x, weight)
        y = np.matmul(x, weight.T)
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        rows_g = grad.reshape(-1, grad.shape[-1])
        grad_x = grad @ weight if ctx.needs_input_grad[0] else None
        grad_w = rows_g.T @ x.reshape(-1, x.shape[-1]) if ctx.needs_input_grad[1] else None
        grad_b = rows_g.sum(axis=0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    """``F.linear``: x Wᵀ + b with W of shape (out_features, in_features), like torch.

    A 1-D weight w (in_features,) gives x w (the last axis reduced), as in torch: that is a matrix-vector product,
    so it goes through matmul, whose backward handles vectors (the Linear op's backward assumes a 2-D W).
    """
    if np.ndim(weight) == 1:
        out = matmul(input, weight)
        return out if bias is None else out + bias
    return Linear.apply(input, weight, bias)
