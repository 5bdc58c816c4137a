"""``nn.LayerNorm``: normalize each sample over its last axes, then apply a learned scale and shift."""

import numpy as np

from tinyreg.nn import functional as F
from tinyreg.nn import init
from tinyreg.nn.module import Module
from tinyreg.nn.parameter import Parameter
from tinyreg.tensor import float32


class LayerNorm(Module):
    """y = γ ⊙ (x − μ) / √(σ² + ε) + β over the last ``len(normalized_shape)`` axes of each sample.

    μ and σ² are the sample's mean and biased variance over those axes; γ (``weight``, starts at 1) and β (``bias``,
    starts at 0) have shape ``normalized_shape`` and exist when ``elementwise_affine`` (β only when ``bias``).
    The forward and its compact backward are one op: :class:`tinyreg.ops.layer_norm.LayerNorm`.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = np.dtype(dtype or float32)
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
