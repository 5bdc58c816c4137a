"""NAdam, as ``torch.optim.NAdam`` (Dozat 2016: Adam with Nesterov momentum), with every decay form."""

from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.adam import Adam, check_adam_like
from tinyreg.optim.optimizer import Optimizer, decay_from_torch, schedule_multiplier
from tinyreg.optim.reference import coupled_decay, decoupled_decay, gradient, ignore


def momentum_schedule(beta1, momentum_decay, t) -> float:
    """μ_t = β₁·(1 − ½·0.96^(t·ψ)): Dozat's warming-up momentum, ψ = ``momentum_decay``."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


def nadam_step(theta, grad, m, v, *, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3,
               mu_product, maximize=False, lambda_=0.0, decay="l2", eta_t=1.0, record=None):
    """torch's NAdam. ``t`` is this step's number; ``mu_product`` is Π_t = μ_1·…·μ_t *including* this step's μ_t,
    kept per parameter in float32 as torch keeps it (see :meth:`NAdam.step_arguments`). Returns
    ``(theta_t, m_t, v_t)``."""
    record = record or ignore
    g_t = gradient(grad, maximize, "torch NAdam", record)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "torch NAdam", record)  # decay="l2": λθ joins g_t
    mu_t = momentum_schedule(beta1, momentum_decay, t)
    record("mu_t", mu_t, "μ_t ← β₁·(1 − ½·0.96^(t·ψ))", "torch NAdam")
    mu_next = momentum_schedule(beta1, momentum_decay, t + 1)
    record("mu_next", mu_next, "μ_{t+1} ← β₁·(1 − ½·0.96^((t+1)·ψ))", "torch NAdam")
    record("mu_product", mu_product, "Π_t ← Π_{t−1}·μ_t", "torch NAdam")
    m_t = beta1 * m + (1 - beta1) * g_t
    record("m_t", m_t, "m_t ← β₁·m_{t−1} + (1 − β₁)·g_t", "torch NAdam")
    v_t = beta2 * v + (1 - beta2) * g_t * g_t
    record("v_t", v_t, "v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²", "torch NAdam")
    denom = np.sqrt(v_t / (1 - beta2 ** t)) + eps
    record("denom", denom, "denom ← √(v_t / (1 − β₂ᵗ)) + ε", "torch NAdam")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "decoupled (paper form)", record)
    lr_g = lr * (1 - mu_t) / (1 - mu_product)                           # the weight of this gradient
    lr_m = lr * mu_next / (1 - mu_product * mu_next)                    # the weight of the momentum, one step ahead
    theta_t = theta - lr_g * (g_t / denom) - lr_m * (m_t / denom)
    record("theta_t", theta_t, "θ_t ← θ − lr·(1 − μ_t)/(1 − Π_t)·g_t/denom − lr·μ_{t+1}/(1 − Π_t·μ_{t+1})·m_t/denom",
           "torch NAdam")
    return theta_t, m_t, v_t


class NAdamCoefficients(NamedTuple):
    beta1: np.floating
    one_minus_beta1: np.floating
    beta2: np.floating
    one_minus_beta2: np.floating
    bias2: np.floating          # 1 − β₂ᵗ
    eps: np.floating
    lr_g: np.floating           # lr·(1 − μ_t)/(1 − Π_t)
    lr_m: np.floating           # lr·μ_{t+1}/(1 − Π_t·μ_{t+1})
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def nadam_element(i, theta, grad, state, c, variant):
    m, v = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # maximize, then coupled decay
    m_t = c.beta1 * m[i] + c.one_minus_beta1 * g_t
    v_t = c.beta2 * v[i] + c.one_minus_beta2 * g_t * g_t
    denom = np.sqrt(v_t / c.bias2) + c.eps
    theta_i = theta[i] * c.keep                                         # decoupled decay (keep = 1 if coupled)
    theta[i] = theta_i - c.lr_g * (g_t / denom) - c.lr_m * (m_t / denom)
    m[i], v[i] = m_t, v_t


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam``::

        g_t ← ∇f_t(θ_{t−1})                          (−∇f_t with maximize)
        g_t ← g_t + λ·θ_{t−1}                         if λ ≠ 0 and decay="l2" (the default: coupled)
        θ_{t−1} ← θ_{t−1}·(1 − lr·λ)                  if decay="decoupled" (torch: decoupled_weight_decay=True)
        μ_t ← β₁·(1 − ½·0.96^(t·ψ)),  μ_{t+1} ← β₁·(1 − ½·0.96^((t+1)·ψ)),  Π_t ← Π_{t−1}·μ_t
        m_t ← β₁·m_{t−1} + (1 − β₁)·g_t
        v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²
        θ_t ← θ_{t−1} − lr·(1 − μ_t)/(1 − Π_t)·g_t/(√v̂_t + ε) − lr·μ_{t+1}/(1 − Π_t·μ_{t+1})·m_t/(√v̂_t + ε)

    with v̂_t = v_t/(1 − β₂ᵗ): Adam whose momentum looks one step ahead (Nesterov), with a momentum μ_t that warms up
    as ψ = ``momentum_decay`` makes 0.96^(t·ψ) fall. Π_t is kept per parameter in float32, as torch keeps it.

    Args: ``lr``, ``betas``, ``eps``, ``weight_decay`` λ, ``momentum_decay`` ψ, ``decoupled_weight_decay`` (torch's
    switch) or ``decay``, ``maximize``, ``backend``, ``parallel``; torch's ``foreach``, ``capturable``,
    ``differentiable`` (and ``fused``) are accepted.
    """

    name = "nadam"
    state_keys = ("exp_avg", "exp_avg_sq")
    scalar_state = {"mu_product": 1.0}
    reference_step = staticmethod(nadam_step)
    kernel = kernels.Kernel(nadam_element)
    step_line = "torch NAdam"
    explain = dict(decay="l2")
    # Decoupled in the benchmark: with L2, elements where g + λθ nearly cancels oscillate around g + λθ = 0 under the
    # look-ahead momentum, and 25 steps in float32 and float64 part by more than the correctness guard allows there.
    benchmark = dict(lr=1e-3, weight_decay=0.1, decay="decoupled")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=None, *, maximize=False, decay=None, backend=None, parallel=False,
                 **torch_keywords):
        decay = decay_from_torch(type(self).__name__, decay, decoupled_weight_decay, "l2")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        check_adam_like(group)
        if not 0.0 <= group["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {group['momentum_decay']}")

    def step_arguments(self, group, state):
        beta1, beta2 = group["betas"]
        t, momentum_decay = state["step"] + 1, float(group["momentum_decay"])
        # torch multiplies a float32 0-d tensor by μ_t: Π_t ← fl32(Π_{t−1}·fl32(μ_t))
        mu_product = float(np.float32(state["mu_product"]) * np.float32(momentum_schedule(float(beta1),
                                                                                            momentum_decay, t)))
        return dict(t=t, lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                    momentum_decay=momentum_decay, mu_product=mu_product, maximize=bool(group["maximize"]),
                    lambda_=float(group["weight_decay"]), decay=group["decay"], eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt, beta1, beta2, t, lr = dtype.type, arguments["beta1"], arguments["beta2"], arguments["t"], arguments["lr"]
        mu_t = momentum_schedule(beta1, arguments["momentum_decay"], t)
        mu_next = momentum_schedule(beta1, arguments["momentum_decay"], t + 1)
        mu_product = arguments["mu_product"]
        return NAdamCoefficients(beta1=dt(beta1), one_minus_beta1=dt(1 - beta1), beta2=dt(beta2),
                                 one_minus_beta2=dt(1 - beta2), bias2=dt(1 - beta2 ** t), eps=dt(arguments["eps"]),
                                 lr_g=dt(lr * (1 - mu_t) / (1 - mu_product)),
                                 lr_m=dt(lr * mu_next / (1 - mu_product * mu_next)),
                                 **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        """lr·λ / (√v̂_t + ε) once settled (μ_t → β₁, Π_t → 0, and m's λθ share settles at λθ), as for Adam."""
        return Adam.coupled_lambda_eff(self, {**group, "amsgrad": False}, state)

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        """NAdam splits its step into a gradient part and a momentum part; the λθ in both is what decay removed."""
        beta1, lambda_theta = float(group["betas"][0]), float(group["weight_decay"]) * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        d_t = beta1 * d_prev + (1 - beta1) * lambda_theta
        record("d_t", d_t, "d_t ← β₁·d_{t−1} + (1 − β₁)·λθ", "λθ's part of m_t")
        lr, mu_t, mu_next, product = (float(group["lr"]), element["mu_t"], element["mu_next"],
                                      element["mu_product"])
        decay = (lr * (1 - mu_t) / (1 - product) * lambda_theta + lr * mu_next / (1 - product * mu_next) * d_t) \
            / element["denom"]
        record("decay", decay, "decay ← lr·((1 − μ_t)/(1 − Π_t)·λθ + μ_{t+1}/(1 − Π_t·μ_{t+1})·d_t) / denom",
               "taken off θ this step")
        return d_t
