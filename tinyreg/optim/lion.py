"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an interpolated momentum.

Not in torch; tests compare it with the paper's Algorithm 2 written out independently in float64.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.optimizer import Optimizer, schedule_multiplier
from tinyreg.optim.reference import coupled_decay, decoupled_decay, gradient, ignore


def lion_step(theta, grad, m, *, lr, beta1=0.9, beta2=0.99, maximize=False, lambda_=0.0, decay="decoupled",
              eta_t=1.0, record=None):
    """Algorithm 2 of Chen et al. (2023). ``m`` is the momentum m_{t−1} (zeros before the first step). Returns
    ``(theta_t, m_t)``."""
    record = record or ignore
    g_t = gradient(grad, maximize, "Lion, line 5", record)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "L2 (not in the paper)", record)
    c_t = beta1 * m + (1 - beta1) * g_t                                 # interpolate: the update's direction
    record("c_t", c_t, "c_t ← β₁·m_{t−1} + (1 − β₁)·g_t", "Lion, line 6")
    u_t = np.sign(c_t)                                                  # every coordinate moves by exactly ±lr
    record("u_t", u_t, "u_t ← sign(c_t)", "Lion, line 7")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "decoupled (L&H paper form)", record)
    theta_t = theta - lr * u_t                                          # Lion line 8: θ ← θ − η_t·(u_t + λθ)
    record("theta_t", theta_t, "θ_t ← θ − lr·u_t", "Lion, line 8")
    m_t = beta2 * m + (1 - beta2) * g_t                                 # the momentum, with its own β₂
    record("m_t", m_t, "m_t ← β₂·m_{t−1} + (1 − β₂)·g_t", "Lion, line 9")
    return theta_t, m_t


class LionCoefficients(NamedTuple):
    lr: np.floating
    beta1: np.floating
    one_minus_beta1: np.floating
    beta2: np.floating
    one_minus_beta2: np.floating
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def lion_element(i, theta, grad, state, c, variant):
    (m,) = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # maximize, then coupled decay
    c_t = c.beta1 * m[i] + c.one_minus_beta1 * g_t
    theta_i = theta[i] * c.keep                                         # decoupled decay: θ·(1 − lr·λ)
    theta[i] = theta_i - c.lr * np.sign(c_t)
    m[i] = c.beta2 * m[i] + c.one_minus_beta2 * g_t


class Lion(Optimizer):
    """Lion (EvoLved Sign Momentum), Algorithm 2 of Chen et al. (2023)::

        g_t ← ∇f_t(θ_{t−1})                          (−∇f_t with maximize)
        c_t ← β₁·m_{t−1} + (1 − β₁)·g_t               interpolate gradient and momentum
        θ_t ← θ_{t−1} − lr·(sign(c_t) + λ·θ_{t−1})    decay="decoupled" (the paper's, the default)
        m_t ← β₂·m_{t−1} + (1 − β₂)·g_t               the momentum, updated after θ with its own β₂

    Every coordinate moves by exactly lr per step (plus the decay), so Lion wants a learning rate 3–10× smaller
    than AdamW's and a weight decay 3–10× larger for the same lr·λ. ``decay="l2"`` adds λθ to g_t instead: the sign
    then swallows its size, and λθ only tips the direction where it outweighs the gradient; ``"paper"`` shrinks θ
    by (1 − η_t·λ), Loshchilov & Hutter's schedule-multiplier form.

    Args: ``lr``, ``betas`` (β₁, β₂), ``weight_decay`` λ, ``maximize``, ``decay``, ``backend``, ``parallel``;
    torch's ``foreach``, ``fused``, ``capturable``, ``differentiable`` are accepted.
    """

    name = "lion"
    state_keys = ("exp_avg",)
    reference_step = staticmethod(lion_step)
    kernel = kernels.Kernel(lion_element)
    explain = dict(decay="decoupled")
    benchmark = dict(lr=1e-4, weight_decay=1.0, decay="decoupled")

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0, *, maximize=False, decay="decoupled",
                 backend=None, parallel=False, **torch_keywords):
        defaults = dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        beta1, beta2 = group["betas"]
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= beta1 <= 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 <= 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def step_arguments(self, group, state):
        beta1, beta2 = group["betas"]
        return dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), maximize=bool(group["maximize"]),
                    lambda_=float(group["weight_decay"]), decay=group["decay"], eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt, beta1, beta2 = dtype.type, arguments["beta1"], arguments["beta2"]
        return LionCoefficients(lr=dt(arguments["lr"]), beta1=dt(beta1), one_minus_beta1=dt(1 - beta1),
                                beta2=dt(beta2), one_minus_beta2=dt(1 - beta2),
                                **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        """None: under the sign, λθ has no rate. It changes θ only by tipping sign(c_t), never in proportion to θ."""
        return "λ_eff: none (sign(c_t) absorbs λθ)", None

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        record("lambda_theta", float(group["weight_decay"]) * theta_prev, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        return None
