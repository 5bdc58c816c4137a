"""``nn.Linear`` (a fully connected layer) and ``nn.Identity``."""

import math

import numpy as np

from tinyreg.nn import functional as F
from tinyreg.nn import init
from tinyreg.nn.module import Module
from tinyreg.nn.parameter import Parameter
from tinyreg.tensor import float32


class Linear(Module):
    """y = x Wᵀ + b with weight W of shape (out_features, in_features) and bias b of shape (out_features,).

    Initialised as torch does: W ~ U(−1/√in, 1/√in) (``kaiming_uniform_`` with a = √5) and b ~ U(−1/√in, 1/√in).
    ``dtype`` (default float32) is the parameters' dtype.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        dtype = np.dtype(dtype or float32)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x; any constructor arguments are ignored (a placeholder where a layer is switched off)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
