"""Elementwise activation layers: ``ReLU``, ``Tanh``, ``Sigmoid`` (the ops are in :mod:`tinyreg.ops.elementwise`)."""

from tinyreg.nn import functional as F
from tinyreg.nn.module import Module


class ReLU(Module):
    """y = max(x, 0). ``inplace`` is accepted for torch compatibility, but the input is never modified."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

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
