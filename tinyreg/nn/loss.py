"""Loss layers: ``MSELoss L1Loss HuberLoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss``, the functions of
:mod:`tinyreg.nn.functional` with a stored ``reduction`` ('mean', 'sum' or 'none'), called as
``loss_fn(prediction, target)``."""

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


class L1Loss(_Loss):
    """mean(|input − target|), see :func:`tinyreg.nn.functional.l1_loss`."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic within ``delta`` of the target, linear beyond, see :func:`tinyreg.nn.functional.huber_loss`."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_Loss):
    """−log-probability of the label, see :func:`tinyreg.nn.functional.nll_loss` (after ``LogSoftmax``)."""

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities, see :func:`tinyreg.nn.functional.binary_cross_entropy`."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction=reduction)
        self.weight = weight

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, see :func:`tinyreg.nn.functional.binary_cross_entropy_with_logits`."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction=reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
