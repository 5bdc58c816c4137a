"""Activation layers: ``ReLU``, ``Tanh``, ``Sigmoid`` (the ops are in :mod:`tinyreg.ops.elementwise`), and
``Softmax``, ``LogSoftmax`` along one dim (:mod:`tinyreg.ops.softmax`)."""

from tinyreg.nn import functional as F
from tinyreg.nn.module import Module


class ReLU(Module):
    """y = max(x, 0); with ``inplace=True`` y is written into the input, which is returned (``x.relu_()``)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """y = tanh x."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + e^−x)."""

    def forward(self, x):
        return F.sigmoid(x)


class _AlongDim(Module):
    """A layer applying a function along one ``dim`` of its input (None: torch's implicit choice, with a warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """y_i = e^{x_i} / Σ_j e^{x_j} along ``dim``."""

    def forward(self, x):
        return F.softmax(x, dim=self.dim)


class LogSoftmax(_AlongDim):
    """y_i = x_i − log Σ_j e^{x_j} along ``dim``: the input ``NLLLoss`` expects."""

    def forward(self, x):
        return F.log_softmax(x, dim=self.dim)
