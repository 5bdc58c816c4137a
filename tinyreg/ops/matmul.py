"""Matrix product with NumPy's ``@`` rules: 1-D vectors, 2-D matrices and broadcast batches of matrices."""

import numpy as np

from tinyreg.tensor import Function


def _check_shapes(a_shape, b_shape):
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError("both arguments need at least 1 dimension")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(f"inner dimensions differ ({k_a} != {k_b})")
    np.broadcast_shapes(a_shape[:-2], b_shape[:-2])  # batch dimensions must broadcast


class MatMul(Function):
    """C = A B;   dL/dA = G Bᵀ,  dL/dB = Aᵀ G   (on the last two axes; batch axes broadcast).

    A 1-D ``a`` acts as a row (1, k) and a 1-D ``b`` as a column (k, 1), whose extra axis the product drops; backward
    puts that axis back into G, multiplies, and drops it again.
    """

    @staticmethod
    def forward(ctx, a, b):
        a, b = np.asarray(a), np.asarray(b)
        _check_shapes(a.shape, b.shape)
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        a2 = a[np.newaxis, :] if a_vector else a
        b2 = b[:, np.newaxis] if b_vector else b
        g = grad
        if b_vector:
            g = g[..., np.newaxis]
        if a_vector:
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = np.matmul(g, np.swapaxes(b2, -1, -2))
            if a_vector:
                grad_a = grad_a[..., 0, :]
        if ctx.needs_input_grad[1]:
            grad_b = np.matmul(np.swapaxes(a2, -1, -2), g)
            if b_vector:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


def matmul(a, b):
    return MatMul.apply(a, b)
