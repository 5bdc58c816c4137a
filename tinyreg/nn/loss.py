"""Loss layers ``MSELoss`` and ``CrossEntropyLoss``: the functions of :mod:`tinyreg.nn.functional` with a stored
``reduction`` ('mean', 'sum' or 'none'), called as ``loss_fn(prediction, target)``."""

from tinyreg.nn import functional as F
from tinyreg.nn.module import Module
from tinyreg.ops.cross_entropy import REDUCTIONS


class _Loss(Module):
    def __init__(self, *, reduction="mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction


class MSELoss(_Loss):
    """mean((input − target)²), see :func:`tinyreg.nn.functional.mse_loss`."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits against integer class labels, see :func:`tinyreg.nn.functional.cross_entropy`."""

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)
