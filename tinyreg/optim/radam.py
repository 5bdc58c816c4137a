"""RAdam, as ``torch.optim.RAdam`` (Liu et al. 2020: Adam with its variance rectified), with every decay form."""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.adam import Adam, check_adam_like
from tinyreg.optim.optimizer import Optimizer, decay_from_torch, schedule_multiplier
from tinyreg.optim.reference import REMOVED, coupled_decay, decoupled_decay, gradient, ignore

RHO_THRESHOLD = 5.0     # torch rectifies once ρ_t > 5 (the paper's 4 is where r_t is defined; torch waits longer)


def rectification(beta2, t):
    """``(rho_t, r_t)``: the length of the approximated simple moving average ρ_t = ρ_∞ − 2t·β₂ᵗ/(1 − β₂ᵗ), with
    ρ_∞ = 2/(1 − β₂) − 1, and the variance rectification r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))
    (None while ρ_t ≤ 5: no rectified step yet)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2 ** t) / (1 - beta2 ** t)
    if rho_t <= RHO_THRESHOLD:
        return rho_t, None
    return rho_t, ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def radam_step(theta, grad, m, v, *, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, maximize=False, lambda_=0.0,
               decay="l2", eta_t=1.0, record=None):
    """torch's RAdam. ``t`` is this step's number. Returns ``(theta_t, m_t, v_t)``."""
    record = record or ignore
    g_t = gradient(grad, maximize, "torch RAdam", record)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "torch RAdam", record)  # decay="l2": λθ joins g_t
    m_t = beta1 * m + (1 - beta1) * g_t
    record("m_t", m_t, "m_t ← β₁·m_{t−1} + (1 − β₁)·g_t", "torch RAdam")
    v_t = beta2 * v + (1 - beta2) * g_t * g_t
    record("v_t", v_t, "v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²", "torch RAdam")
    m_hat = m_t / (1 - beta1 ** t)
    record("m_hat", m_hat, "m̂_t ← m_t / (1 − β₁ᵗ)", "torch RAdam")
    rho_t, r_t = rectification(beta2, t)
    record("rho_t", rho_t, "ρ_t ← ρ_∞ − 2t·β₂ᵗ / (1 − β₂ᵗ)", "torch RAdam")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "decoupled (paper form)", record)
    if r_t is None:                                                     # ρ_t ≤ 5: plain momentum SGD
        theta_t = theta - m_hat * lr
        record("theta_t", theta_t, "θ_t ← θ − lr·m̂_t", "torch RAdam (ρ_t ≤ 5)")
        return theta_t, m_t, v_t
    record("r_t", r_t, "r_t ← √((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t))", "torch RAdam")
    adaptive = (1 - beta2 ** t) ** 0.5 / (np.sqrt(v_t) + eps)           # 1/√v̂_t, with ε on √v_t as torch
    record("adaptive", adaptive, "l_t ← √(1 − β₂ᵗ) / (√v_t + ε)", "torch RAdam")
    theta_t = theta - m_hat * lr * adaptive * r_t
    record("theta_t", theta_t, "θ_t ← θ − lr·m̂_t·l_t·r_t", "torch RAdam (ρ_t > 5)")
    return theta_t, m_t, v_t


class RAdamCoefficients(NamedTuple):
    lr: np.floating
    beta1: np.floating
    one_minus_beta1: np.floating
    beta2: np.floating
    one_minus_beta2: np.floating
    bias1: np.floating          # 1 − β₁ᵗ
    sqrt_bias2: np.floating     # √(1 − β₂ᵗ)
    eps: np.floating
    rectified: bool             # ρ_t > 5
    r_t: np.floating
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def radam_element(i, theta, grad, state, c, variant):
    m, v = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # maximize, then coupled decay
    m_t = c.beta1 * m[i] + c.one_minus_beta1 * g_t
    v_t = c.beta2 * v[i] + c.one_minus_beta2 * g_t * g_t
    m_hat = m_t / c.bias1
    theta_i = theta[i] * c.keep                                         # decoupled decay (keep = 1 if coupled)
    if c.rectified:
        adaptive = c.sqrt_bias2 / (np.sqrt(v_t) + c.eps)
        theta[i] = theta_i - m_hat * c.lr * adaptive * c.r_t
    else:
        theta[i] = theta_i - m_hat * c.lr
    m[i], v[i] = m_t, v_t


class RAdam(Optimizer):
    """RAdam, as ``torch.optim.RAdam``::

        g_t ← ∇f_t(θ_{t−1})                          (−∇f_t with maximize)
        g_t ← g_t + λ·θ_{t−1}                         if λ ≠ 0 and decay="l2" (the default: coupled)
        θ_{t−1} ← θ_{t−1}·(1 − lr·λ)                  if decay="decoupled" (torch: decoupled_weight_decay=True)
        m_t ← β₁·m_{t−1} + (1 − β₁)·g_t;   v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²;   m̂_t ← m_t / (1 − β₁ᵗ)
        ρ_∞ ← 2/(1 − β₂) − 1;   ρ_t ← ρ_∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
        if ρ_t > 5:  l_t ← √(1 − β₂ᵗ)/(√v_t + ε);  r_t ← √((ρ_t−4)(ρ_t−2)ρ_∞/((ρ_∞−4)(ρ_∞−2)ρ_t))
                     θ_t ← θ_{t−1} − lr·m̂_t·l_t·r_t
        else:        θ_t ← θ_{t−1} − lr·m̂_t

    Early on, v's estimate is too noisy to divide by, so RAdam takes plain momentum steps until ρ_t > 5 (t = 6 with
    β₂ = 0.999) and then scales the adaptive step by r_t → 1. Coupled decay in the first steps is therefore not
    divided by √v̂ at all.

    Args: ``lr``, ``betas``, ``eps``, ``weight_decay`` λ, ``decoupled_weight_decay`` (torch's switch) or
    ``decay``, ``maximize``, ``backend``, ``parallel``; torch's ``foreach``, ``capturable``, ``differentiable``
    (and ``fused``) are accepted.
    """

    name = "radam"
    state_keys = ("exp_avg", "exp_avg_sq")
    reference_step = staticmethod(radam_step)
    kernel = kernels.Kernel(radam_element)
    step_line = "torch RAdam"
    explain = dict(decay="l2")
    benchmark = dict(lr=1e-3, weight_decay=0.1, decay="l2")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=None,
                 *, maximize=False, decay=None, backend=None, parallel=False, **torch_keywords):
        decay = decay_from_torch(type(self).__name__, decay, decoupled_weight_decay, "l2")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        check_adam_like(group)

    def step_arguments(self, group, state):
        beta1, beta2 = group["betas"]
        return dict(t=state["step"] + 1, lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                    eps=float(group["eps"]), maximize=bool(group["maximize"]), lambda_=float(group["weight_decay"]),
                    decay=group["decay"], eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt, beta1, beta2, t = dtype.type, arguments["beta1"], arguments["beta2"], arguments["t"]
        _, r_t = rectification(beta2, t)
        return RAdamCoefficients(lr=dt(arguments["lr"]), beta1=dt(beta1), one_minus_beta1=dt(1 - beta1),
                                 beta2=dt(beta2), one_minus_beta2=dt(1 - beta2), bias1=dt(1 - beta1 ** t),
                                 sqrt_bias2=dt((1 - beta2 ** t) ** 0.5), eps=dt(arguments["eps"]),
                                 rectified=r_t is not None, r_t=dt(math.nan if r_t is None else r_t),
                                 **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        """lr·λ / (√v̂_t + ε) once settled (r_t → 1), as for Adam."""
        return Adam.coupled_lambda_eff(self, {**group, "amsgrad": False}, state)

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        beta1, lambda_theta = float(group["betas"][0]), float(group["weight_decay"]) * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        d_t = beta1 * d_prev + (1 - beta1) * lambda_theta
        record("d_t", d_t, "d_t ← β₁·d_{t−1} + (1 − β₁)·λθ", "λθ's part of m_t")
        d_hat = d_t / (1 - beta1 ** (step + 1))
        scale = element["adaptive"] * element["r_t"] if "r_t" in element else 1.0
        record("decay", float(group["lr"]) * d_hat * scale, "decay ← lr·d̂_t·l_t·r_t (lr·d̂_t while ρ_t ≤ 5)",
               REMOVED)
        return d_t
