"""``nn.init``: fill a parameter in place with the initial values torch's layers use.

Every function overwrites the tensor in place under ``no_grad`` (same array, same dtype, so an optimizer already
holding the parameter stays valid), draws from tinyreg's one generator (seeded by ``tr.manual_seed``) and returns the
tensor.

Fans of a weight of shape (out, in, *kernel): fan_in = in · ∏kernel, fan_out = out · ∏kernel.
"""

import math

import numpy as np

from tinyreg.grad_mode import no_grad
from tinyreg.random import generator


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through a layer followed by ``nonlinearity``.

    linear/sigmoid: 1, tanh: 5/3, relu: √2, leaky_relu with negative slope a (default 0.01): √(2 / (1 + a²)).
    """
    if nonlinearity in ("linear", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight with at least 2 dimensions (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fill(tensor, values):
    with no_grad():
        tensor[...] = values
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Samples of U(a, b)."""
    return _fill(tensor, generator().uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Samples of N(mean, std²)."""
    return _fill(tensor, generator().normal(mean, std, size=tensor.shape))


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def constant_(tensor, val):
    return _fill(tensor, val)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al. (2015): U(−bound, bound) with bound = gain · √(3 / fan), gain = calculate_gain(nonlinearity, a).

    The uniform's variance bound²/3 = gain² / fan. nn.Linear uses a = √5, which gives bound = 1/√fan_in.
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    if tensor.numel() == 0:
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot & Bengio (2010): U(−bound, bound) with bound = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)
