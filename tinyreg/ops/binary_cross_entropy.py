"""Binary cross-entropy, per element, of probabilities (BCE) and of logits (BCE with logits, the stable form).

Both return one loss per element; :mod:`tinyreg.nn.functional` applies the weight and the reduction.
"""

import numpy as np

from tinyreg.tensor import Function

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
