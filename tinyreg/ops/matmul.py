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


def matmul(input, other):
    return MatMul.apply(input, other)


# torch's stricter spellings of the same product: each checks its shapes (torch's messages) and is one MatMul node,
# so its gradient is MatMul's.
def mm(input, mat2):
    """Matrix times matrix: (n, k) @ (k, m) -> (n, m); both must be 2-D (no broadcasting, unlike matmul)."""
    for name, t in (("self", input), ("mat2", mat2)):
        if t.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return MatMul.apply(input, mat2)


def bmm(input, mat2):
    """A batch of matrix products: (b, n, k) @ (b, k, m) -> (b, n, m); both 3-D with the same batch size."""
    for name, t in (("batch1", input), ("batch2", mat2)):
        if t.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return MatMul.apply(input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of the same length: Σ_i x_i y_i, a 0-d tensor."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape != other.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
                           f"to have the same number of elements, but got {input.shape[0]} and {other.shape[0]} "
                           f"elements respectively")
    return MatMul.apply(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,) and (m,) -> (n, m) with entries x_i y_j, the product of a column
    (n, 1) and a row (1, m)."""
    for t in (input, vec2):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument self, but got {t.ndim}-D")
    return MatMul.apply(input.reshape(-1, 1), vec2.reshape(1, -1))
