"""``nn.functional`` (import as ``F``): the layers and losses as plain functions of tensors, like torch.nn.functional.

The modules in :mod:`tinyreg.nn` hold parameters and settings and call these. The single-op kernels (linear,
layer_norm, cross_entropy) live in :mod:`tinyreg.ops`, each with its forward and backward side by side.
"""

import warnings

import numpy as np

from tinyreg.nn.penalties import l1_penalty, l2_penalty
from tinyreg.ops import log_softmax, relu, sigmoid, softmax, tanh
from tinyreg.ops.cross_entropy import REDUCTIONS, cross_entropy
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

    ``inplace`` is accepted for torch compatibility, but ``x`` is never modified (the result has the same values).
    """
    check_dropout_probability(p)
    if not training or p == 0:
        return x
    keep = generator().random(x.shape) >= p  # P(keep) = 1 − p
    scaled_mask = keep.astype(x.dtype)
    scaled_mask *= 0.0 if p == 1 else 1.0 / (1.0 - p)
    return x * scaled_mask


def _reduce(losses, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean_i (input_i − target_i)² (or the sum, or each term with ``reduction='none'``).

    As in torch, shapes that differ but broadcast (a (N, 1) prediction against a (N,) target) give a warning: the
    broadcast compares every prediction with every target, which is rarely what was meant.
    """
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=2)
    diff = input - target
    return _reduce(diff * diff, reduction)


def squared_loss(y_hat, y):
    """d2l's per-sample squared loss ½ (ŷ − y)², with y reshaped to ŷ's shape; no reduction (call ``.mean()``).

    The ½ makes the gradient exactly ŷ − y. Its mean is half of ``mse_loss``.
    """
    diff = y_hat - y.reshape(y_hat.shape)
    return diff * diff / 2


__all__ = ["cross_entropy", "dropout", "l1_penalty", "l2_penalty", "layer_norm",
           "linear", "log_softmax", "mse_loss", "relu", "sigmoid", "softmax", "squared_loss", "tanh"]
