"""``nn.functional`` (import as ``F``): the layers and losses as plain functions of tensors, like torch.nn.functional.

The modules in :mod:`tinyreg.nn` hold parameters and settings and call these. The single-op kernels (linear,
layer_norm, cross_entropy) live in :mod:`tinyreg.ops`, each with its forward and backward side by side.
"""

import warnings

import numpy as np

from tinyreg.nn.penalties import l1_penalty, l2_penalty
from tinyreg import ops
from tinyreg.ops import abs, expand, log_softmax, sigmoid, softmax, tanh, where
from tinyreg.ops.cross_entropy import REDUCTIONS, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, cross_entropy
from tinyreg.ops.layer_norm import layer_norm
from tinyreg.ops.linear import linear
from tinyreg.random import generator


def check_dropout_probability(p):
    """A drop probability is a number in [0, 1] (torch's rule and message)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(x, p=0.5, training=True, inplace=False):
    """Inverted dropout: y = x ⊙ m / (1 − p) with m_i ~ Bernoulli(1 − p) drawn from tinyreg's generator.

    Dividing the kept units by the keep probability 1 − p keeps E[y] = x, so nothing needs rescaling at evaluation,
    where dropout is the identity (``training=False``). p = 1 drops everything and gives zeros (the scale is taken
    as 0, never 0/0). dL/dx = m / (1 − p) ⊙ dL/dy: the gradient flows only through the kept units.

    ``inplace=True`` multiplies ``x`` itself by the mask and returns it (torch's rules for in-place writes apply).
    """
    check_dropout_probability(p)
    if not training or p == 0:
        return x
    keep = generator().random(x.shape) >= p  # P(keep) = 1 − p
    scaled_mask = keep.astype(x.dtype)
    scaled_mask *= 0.0 if p == 1 else 1.0 / (1.0 - p)
    return x.mul_(scaled_mask) if inplace else x * scaled_mask


def relu(x, inplace=False):
    """y = max(x, 0); ``inplace=True`` writes y into ``x`` and returns it (``x.relu_()``), as torch's ``F.relu``."""
    return x.relu_() if inplace else ops.relu(x)


def _reduce(losses, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _difference(input, target):
    """input − target for the pointwise regression losses, broadcast as torch does.

    As in torch, shapes that differ but broadcast (a (N, 1) prediction against a (N,) target) give a warning: the
    broadcast compares every prediction with every target, which is rarely what was meant. Both are expanded to the
    common shape before subtracting, as torch's ``broadcast_tensors`` does, so a 0-d float64 target with a float32
    input gives float64 (torch's dtype), not the 0-d rule's float32.
    """
    if tuple(input.shape) != tuple(np.shape(target)):
        warnings.warn(f"Using a target size ({tuple(np.shape(target))}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)
        shape = np.broadcast_shapes(input.shape, np.shape(target))
        input, target = expand(input, shape), expand(target, shape)
    return input - target


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean_i (input_i − target_i)² (or the sum, or each term with ``reduction='none'``)."""
    diff = _difference(input, target)
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: mean_i |input_i − target_i|;  d/d input_i = sign(input_i − target_i) / n."""
    return _reduce(abs(_difference(input, target)), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss with d = input − target: ½ d² where |d| <= δ, else δ (|d| − ½ δ).

    Quadratic near 0 and linear beyond δ, so outliers pull with a bounded gradient (δ · sign d); both pieces and
    their slopes meet at |d| = δ. The gradient is the chain rule through where, abs and the products.
    """
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. (got {delta})")
    d = _difference(input, target)
    magnitude = abs(d)
    return _reduce(where(magnitude <= delta, 0.5 * d * d, delta * (magnitude - 0.5 * delta)), reduction)


def _check_same_size(input, target):
    if tuple(input.shape) != tuple(np.shape(target)):
        raise ValueError(f"Using a target size ({tuple(np.shape(target))}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")


def _weighted(losses, weight):
    """losses ⊙ weight, the weight a constant in the losses' dtype (torch keeps the input's dtype)."""
    return losses if weight is None else losses * np.asarray(weight, dtype=losses.dtype)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """−[y log p + (1 − y) log(1 − p)] per element for probabilities p = ``input`` in [0, 1] (logs clamped at −100,
    as in torch), times ``weight`` if given, then reduced. Prefer :func:`binary_cross_entropy_with_logits`, which
    takes the logits and cannot lose precision in σ."""
    _check_same_size(input, target)
    p = np.asarray(input)
    if np.any((p < 0) | (p > 1)):  # (a nan fails both comparisons and passes, as in torch)
        raise RuntimeError("all elements of input should be between 0 and 1")
    return _reduce(_weighted(BinaryCrossEntropy.apply(input, target), weight), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE of σ(input) computed stably from the logits (see :class:`~tinyreg.ops.binary_cross_entropy.
    BinaryCrossEntropyWithLogits`); ``pos_weight`` weights the positive term (per class, broadcasting)."""
    _check_same_size(input, target)
    pos_weight = 1.0 if pos_weight is None else np.asarray(pos_weight)
    losses = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight=pos_weight)
    return _reduce(_weighted(losses, weight), reduction)


def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood of log-probabilities: ℓ_n = −input[n, target_n] (classes on axis 1, or axis 0 for
    one unbatched sample; extra axes (N, C, d1, ...) as in torch). With ``log_softmax`` in front it is
    ``cross_entropy``. The gradient is −1 at each picked entry (through indexing)."""
    labels = np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"nll_loss: expected target of integer class indices, got dtype {labels.dtype}")
    class_axis = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_axis]
    bad = labels[(labels < 0) | (labels >= n_classes)]
    if bad.size:
        raise IndexError(f"Target {bad.flat[0]} is out of bounds.")
    scores = input.unsqueeze(0) if input.ndim == 1 else input
    rows = scores.permute(0, *range(2, scores.ndim), 1).reshape(-1, n_classes)  # one row of class scores per sample
    picked = rows[np.arange(rows.shape[0]), labels.reshape(-1)].reshape(labels.shape)
    return _reduce(-picked, reduction)


def squared_loss(y_hat, y):
    """d2l's per-sample squared loss ½ (ŷ − y)², with y reshaped to ŷ's shape; no reduction (call ``.mean()``).

    The ½ makes the gradient exactly ŷ − y. Its mean is half of ``mse_loss``.
    """
    diff = y_hat - y.reshape(y_hat.shape)
    return diff * diff / 2


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "huber_loss",
           "l1_loss", "l1_penalty", "l2_penalty", "layer_norm", "linear", "log_softmax", "mse_loss", "nll_loss", "relu",
           "sigmoid", "softmax", "squared_loss", "tanh"]
