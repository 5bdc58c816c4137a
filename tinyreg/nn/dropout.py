"""``nn.Dropout`` and Monte-Carlo dropout prediction (dropout kept on at inference to estimate uncertainty)."""

import numpy as np

from tinyreg.grad_mode import no_grad
from tinyreg.nn import functional as F
from tinyreg.nn.module import Module
from tinyreg.tensor import Tensor


class Dropout(Module):
    """Inverted dropout with drop probability ``p``: in training each unit is zeroed with probability p and the kept
    ones are scaled by 1/(1 − p); in evaluation (``model.eval()``) it is the identity. See
    :func:`tinyreg.nn.functional.dropout`."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F.check_dropout_probability(p)
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


def mc_dropout_predict(model, x, n_samples):
    """Monte-Carlo dropout (Gal & Ghahramani, 2016): run ``model(x)`` ``n_samples`` times with fresh dropout masks
    and return the mean and the standard deviation of the predictions, elementwise, as tensors of the output's shape.

        mean = (1/T) Σ_t f_t(x),     std = √((1/T) Σ_t (f_t(x) − mean)²)

    Only the Dropout layers are switched to training mode (everything else runs in evaluation mode) and no graph is
    recorded. Every module's mode is restored afterwards, also if the model raises.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"mc_dropout_predict: n_samples must be a positive integer, got {n_samples!r}")
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        for module in model.modules():
            if isinstance(module, Dropout):
                module.train()
        with no_grad():
            samples = np.stack([np.asarray(model(x)) for _ in range(n_samples)])
    finally:
        for module, training in modes:
            module.training = training
    return Tensor._wrap(samples.mean(axis=0)), Tensor._wrap(samples.std(axis=0))
