"""Cross-entropy as numerically stable ops: of logits against integer class labels (categorical), and binary
cross-entropy per element, of probabilities (BCE) and of logits (BCE with logits).

The binary ones return one loss per element; :mod:`tinyreg.nn.functional` applies the weight and the reduction.
"""

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


LOG_FLOOR = -100.0  # torch clamps each log at -100, so p = 0 or 1 gives a large finite loss instead of inf
EPSILON = 1e-12  # ... and keeps p (1 - p) away from 0 in the gradient


def softplus(x):
    """log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so that e^x never overflows."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropy(Function):
    """ℓ = −[y log p + (1 − y) log(1 − p)], each log clamped at −100 (torch);

        dℓ/dp = (p − y) / (p (1 − p))   (the denominator kept >= 1e-12),     dℓ/dy = log(1 − p) − log p

    (dℓ/dy uses the unclamped logs, as torch does: ±inf at p = 0 or 1.)
    """

    promotes = True

    @staticmethod
    def forward(ctx, p, y):
        with np.errstate(divide="ignore"):  # log 0 = -inf, clamped just below
            log_p = np.maximum(np.log(p), LOG_FLOOR)
            log_1mp = np.maximum(np.log1p(-p), LOG_FLOOR)
        ctx.save_for_backward(p, y)
        return -(y * log_p + (1 - y) * log_1mp)

    @staticmethod
    def backward(ctx, grad):
        p, y = ctx.saved
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_p = grad * (p - y) / np.maximum(p * (1 - p), EPSILON)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_y = grad * (np.log1p(-p) - np.log(p))
        return grad_p, grad_y


class BinaryCrossEntropyWithLogits(Function):
    """BCE of p = σ(z) written in z, with w = 1 + (pos_weight − 1) y weighting the positive term (torch's form):

        ℓ = (1 − y) z + w · log(1 + e^−z)          (log(1 + e^−z) = softplus(−z), never overflows)
        dℓ/dz = (1 − y) − w σ(−z)                  (= σ(z) − y without pos_weight)
        dℓ/dy = −z + (pos_weight − 1) softplus(−z)

    ``pos_weight`` is a constant (a number or an array broadcasting against z).
    """

    promotes = True

    @staticmethod
    def forward(ctx, z, y, pos_weight):
        softplus_neg_z = softplus(-z)
        w = 1 + (pos_weight - 1) * y
        ctx.save_for_backward(z, y, w, softplus_neg_z)
        ctx.pos_weight = pos_weight
        return ((1 - y) * z + w * softplus_neg_z).astype(np.result_type(z, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        z, y, w, softplus_neg_z = ctx.saved
        grad_z = grad_y = None
        if ctx.needs_input_grad[0]:
            sigmoid_neg_z = np.exp(-softplus(z))  # σ(−z) = 1 / (1 + e^z), in log space: no overflow
            grad_z = grad * ((1 - y) - w * sigmoid_neg_z)
        if ctx.needs_input_grad[1]:
            grad_y = grad * (-z + (ctx.pos_weight - 1) * softplus_neg_z)
        return grad_z, grad_y


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
