"""Cross-entropy of logits against integer class labels, as one numerically stable op."""

import numpy as np

from tinyreg.ops.softmax import stable_log_softmax
from tinyreg.tensor import Function, Tensor

REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    """ℓ_i = −log softmax(z_i)[y_i] = logsumexp(z_i) − z_{i,y_i},  then the mean, the sum, or each ℓ_i.

    z_i are the logits of one sample (classes on the last axis here) and y_i its label. log softmax is computed as
    (z − m) − log Σ e^(z − m) with m = max z, so no exponential overflows and no log(0) appears.

        dℓ_i/dz_i = softmax(z_i) − onehot(y_i)

    times the incoming gradient of ℓ_i (divided by the number of samples for the mean).
    """

    @staticmethod
    def forward(ctx, logits, target, reduction):
        log_p = stable_log_softmax(logits, -1)
        losses = -np.take_along_axis(log_p, target[..., np.newaxis], axis=-1)[..., 0]
        ctx.save_for_backward(log_p, target)
        ctx.reduction = reduction
        if reduction == "mean":
            return np.mean(losses)
        if reduction == "sum":
            return np.sum(losses)
        return losses

    @staticmethod
    def backward(ctx, grad):
        log_p, target = ctx.saved
        if ctx.reduction == "none":
            grad = grad[..., np.newaxis]
        elif ctx.reduction == "mean":
            grad = grad / target.size
        d_logits = np.exp(log_p)
        label = target[..., np.newaxis]
        np.put_along_axis(d_logits, label, np.take_along_axis(d_logits, label, axis=-1) - 1, axis=-1)
        return (d_logits * grad,)


def cross_entropy(logits, target, reduction="mean"):
    """``F.cross_entropy`` for integer labels: logits (C,), (N, C) or (N, C, d1, ...) and target (), (N,) or
    (N, d1, ...), classes on axis 1 as in torch (axis 0 for a single unbatched sample)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    labels = np.asarray(target._array if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {labels.dtype} "
                        f"(probability targets are not supported)")
    class_axis = 0 if logits.ndim == 1 else 1
    expected = logits.shape[:class_axis] + logits.shape[class_axis + 1:]
    if labels.shape != expected:
        raise ValueError(f"cross_entropy: target shape {labels.shape} does not match logits shape {logits.shape} "
                         f"(expected target shape {expected}, one class index per sample)")
    n_classes = logits.shape[class_axis]
    bad = labels[(labels < 0) | (labels >= n_classes)]
    if bad.size:
        raise IndexError(f"Target {bad.flat[0]} is out of bounds: labels must lie in [0, {n_classes - 1}] "
                         f"for {n_classes} classes")
    if logits.ndim > 2:  # move the class axis last: (N, C, d1, ...) -> (N, d1, ..., C)
        logits = logits.permute(0, *range(2, logits.ndim), 1)
    return CrossEntropy.apply(logits, target=labels.astype(np.intp, copy=False), reduction=reduction)
