"""Adam (L2 decay, coupled) and AdamW (decoupled decay): Algorithm 2 of Loshchilov & Hutter, one reference step.

Both classes run :func:`adam_step` and its kernel, differing only in the default ``weight_decay`` and ``decay``
convention (torch's AdamW is likewise Adam with decoupled decay: ``Adam(decoupled_weight_decay=True)``).
"""

import functools
from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.optimizer import Optimizer, decay_from_torch, schedule_multiplier
from tinyreg.optim.reference import PAPER_L2, REMOVED, coupled_decay, decoupled_decay, gradient, ignore


def adam_step(theta, grad, m, v, v_max=None, *, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, lambda_=0.0,
              decay="l2", eta_t=1.0, amsgrad=False, maximize=False, record=None):
    """Algorithm 2 of the paper: Adam (``decay="l2"``, torch's Adam) or AdamW (``"decoupled"``: torch's AdamW;
    ``"paper"``: the paper's own scaling).

    ``t`` is this step's number (1 on the first step); ``m``, ``v`` (and ``v_max`` with AMSGrad) are the moments after
    step t − 1, zeros before the first. Returns ``(theta_t, m_t, v_t, v_max_t)``; ``v_max_t`` is None without AMSGrad.
    torch computes line 12 as θ − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε) with a ±1-ulp square root, so float32 results
    differ from torch's by a few ulps (see the tests for the bound). The bias corrections multiply by the reciprocal
    1/(1 − βᵗ), computed once per step: one division per element left instead of three.
    """
    record = record or ignore
    g_t = gradient(grad, maximize, "Alg. 2, line 5", record)            # Alg. 2 line 5 (maximize: ascend)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "Alg. 2, line 6", record, PAPER_L2)  # Alg. 2 line 6: λθ joins g_t
    m_t = beta1 * m + (1 - beta1) * g_t                                 # Alg. 2 line 7
    record("m_t", m_t, "m_t ← β₁·m_{t−1} + (1 − β₁)·g_t", "Alg. 2, line 7")
    v_t = beta2 * v + (1 - beta2) * g_t * g_t                           # Alg. 2 line 8
    record("v_t", v_t, "v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²", "Alg. 2, line 8")
    m_hat = m_t * (1 / (1 - beta1 ** t))                                # Alg. 2 line 9 (one division per step)
    record("m_hat", m_hat, "m̂_t ← m_t / (1 − β₁ᵗ)", "Alg. 2, line 9")
    v_max_t = None
    if amsgrad:
        v_max_t = np.maximum(v_max, v_t)                                # AMSGrad: the largest v so far
        record("v_max_t", v_max_t, "v_t^max ← max(v_{t−1}^max, v_t)", "torch Adam (amsgrad)")
        v_hat = v_max_t * (1 / (1 - beta2 ** t))                        # Alg. 2 line 10, with v_t^max for v_t
        record("v_hat", v_hat, "v̂_t ← v_t^max / (1 − β₂ᵗ)", "Alg. 2, line 10")
    else:
        v_hat = v_t * (1 / (1 - beta2 ** t))                            # Alg. 2 line 10
        record("v_hat", v_hat, "v̂_t ← v_t / (1 − β₂ᵗ)", "Alg. 2, line 10")
    record("eta_t", eta_t, "η_t ← SetScheduleMultiplier(t)", "Alg. 2, line 11")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "Alg. 2, line 12", record)  # Alg. 2 line 12 (AdamW)
    theta_t = theta - lr * m_hat / (np.sqrt(v_hat) + eps)               # Alg. 2 line 12, with η_t·α = lr_t
    record("theta_t", theta_t, "θ_t ← θ − η_t·α·m̂_t / (√v̂_t + ε)", "Alg. 2, line 12")
    return theta_t, m_t, v_t, v_max_t


class AdamCoefficients(NamedTuple):
    lr: np.floating
    beta1: np.floating
    one_minus_beta1: np.floating
    beta2: np.floating
    one_minus_beta2: np.floating
    eps: np.floating
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool
    inv_bias1: np.floating      # 1/(1 − β₁ᵗ): the only two that change with the step t
    inv_bias2: np.floating      # 1/(1 − β₂ᵗ)


@njit(cache=True, error_model="numpy")
def adam_element(i, theta, grad, state, c, amsgrad):
    m, v, v_max = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # Alg. 2 lines 5–6
    m_t = c.beta1 * m[i] + c.one_minus_beta1 * g_t                      # Alg. 2 line 7
    v_t = c.beta2 * v[i] + c.one_minus_beta2 * g_t * g_t                # Alg. 2 line 8
    m_hat = m_t * c.inv_bias1                                           # Alg. 2 line 9
    if amsgrad:
        v_max_t = np.maximum(v_max[i], v_t)                             # AMSGrad: the largest v so far
        v_hat = v_max_t * c.inv_bias2                                   # Alg. 2 line 10, with v_t^max for v_t
        v_max[i] = v_max_t
    else:
        v_hat = v_t * c.inv_bias2                                       # Alg. 2 line 10
    theta_i = theta[i] * c.keep                                         # decoupled decay (keep = 1 if coupled)
    theta[i] = theta_i - c.lr * m_hat / (np.sqrt(v_hat) + c.eps)        # Alg. 2 line 12, with η_t·α = lr_t
    m[i], v[i] = m_t, v_t


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (Algorithm 2 of Loshchilov & Hutter with its line 6)::

        g_t ← ∇f_t(θ_{t−1})                          (−∇f_t with maximize)
        g_t ← g_t + λ·θ_{t−1}                         if λ ≠ 0   (decay="l2", the default: coupled)
        m_t ← β₁·m_{t−1} + (1 − β₁)·g_t
        v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²
        m̂_t ← m_t / (1 − β₁ᵗ)
        v̂_t ← v_t / (1 − β₂ᵗ)                         (max of all v_t so far with amsgrad)
        θ_t ← θ_{t−1} − lr·m̂_t / (√v̂_t + ε)

    With coupled decay λθ travels through m and is divided by √v̂: a weight whose gradients have been large is
    decayed *less* (Proposition 2 of the paper). ``decay="decoupled"`` (or torch's
    ``decoupled_weight_decay=True``) or ``"paper"`` turns this into AdamW.

    Args: ``lr``, ``betas`` (β₁, β₂), ``eps`` ε, ``weight_decay`` λ, ``amsgrad``, ``maximize``; ``decay``
    ("l2" | "decoupled" | "paper", see :mod:`tinyreg.optim.reference`), ``backend`` ("numba" | "numpy"),
    ``parallel`` (opt-in multi-core kernel); torch's ``foreach``, ``fused``, ``capturable``, ``differentiable``.
    """

    name = "adam"
    state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    optional_states = ("max_exp_avg_sq",)
    reference_step = staticmethod(adam_step)
    kernel = kernels.Kernel(adam_element)
    step_line = "Alg. 2, line 4"
    explain = dict(decay="l2")
    benchmark = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, decay="l2")
    default_decay = "l2"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decay=None, decoupled_weight_decay=None, backend=None, parallel=False,
                 **torch_keywords):
        decay = decay_from_torch(type(self).__name__, decay, decoupled_weight_decay, self.default_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        check_adam_like(group)

    def state_names(self, group):
        return self.state_keys if group["amsgrad"] else self.state_keys[:2]

    def step_arguments(self, group, state):
        beta1, beta2 = group["betas"]
        return dict(t=state["step"] + 1, lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                    eps=float(group["eps"]), lambda_=float(group["weight_decay"]), decay=group["decay"],
                    eta_t=schedule_multiplier(group), amsgrad=bool(group["amsgrad"]),
                    maximize=bool(group["maximize"]))

    @staticmethod
    def coefficients(arguments, dtype):
        beta1, beta2, t = arguments["beta1"], arguments["beta2"], arguments["t"]
        dt = dtype.type
        return AdamCoefficients(*_group_coefficients(dtype, arguments["lr"], beta1, beta2, arguments["eps"],
                                                     arguments["lambda_"], arguments["decay"], arguments["eta_t"],
                                                     arguments["maximize"]),
                                dt(1 / (1 - beta1 ** t)), dt(1 / (1 - beta2 ** t)))

    def coupled_lambda_eff(self, group, state):
        """lr·λ / (√v̂_t + ε): λθ joins g_t, so it is divided by √v̂_t like the gradient, per weight."""
        equation = "λ_eff ← lr·λ / (√v̂_t + ε)"
        if state is None:
            return equation, None
        v = state["max_exp_avg_sq"] if group["amsgrad"] else state["exp_avg_sq"]
        v_hat = v / (1 - float(group["betas"][1]) ** int(state["step"]))   # Alg. 2 line 10 after step t
        return equation, float(group["lr"]) * float(group["weight_decay"]) / (np.sqrt(v_hat) + float(group["eps"]))

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        beta1, lambda_theta = float(group["betas"][0]), float(group["weight_decay"]) * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        d_t = beta1 * d_prev + (1 - beta1) * lambda_theta
        record("d_t", d_t, "d_t ← β₁·d_{t−1} + (1 − β₁)·λθ", "λθ's part of m_t")
        d_hat = d_t / (1 - beta1 ** (step + 1))
        record("d_hat", d_hat, "d̂_t ← d_t / (1 − β₁ᵗ)", "λθ's part of m̂_t")
        record("decay", float(group["lr"]) * d_hat / (np.sqrt(element["v_hat"]) + float(group["eps"])),
               "decay ← lr·d̂_t / (√v̂_t + ε)", REMOVED)
        return d_t


@functools.lru_cache(maxsize=64)
def _group_coefficients(dtype, lr, beta1, beta2, eps, lambda_, decay, eta_t, maximize):
    """The coefficients that stay the same from step to step (all but the bias corrections), in
    :class:`AdamCoefficients` order. Rounding them to θ's dtype costs more than a small model's update, so they are
    computed once per setting: the same arguments give the same numbers, so the cache changes no result."""
    dt = dtype.type
    decay = kernels.decay_coefficients(dict(lr=lr, lambda_=lambda_, decay=decay, eta_t=eta_t, maximize=maximize),
                                       dtype)
    return (dt(lr), dt(beta1), dt(1 - beta1), dt(beta2), dt(1 - beta2), dt(eps),
            decay["lambda_"], decay["keep"], decay["maximize"], decay["l2"])


def check_adam_like(group):
    """torch's checks of lr, eps, betas and weight_decay (Adam, NAdam, RAdam, and Lion's betas)."""
    beta1, beta2 = group["betas"]
    if not 0.0 <= group["lr"]:
        raise ValueError(f"Invalid learning rate: {group['lr']}")
    if not 0.0 <= group["eps"]:
        raise ValueError(f"Invalid epsilon value: {group['eps']}")
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    if not 0.0 <= group["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")


class AdamW(Adam):
    """AdamW: Adam with the weight decay taken out of the gradient and applied to θ directly.

    ``decay="decoupled"`` (default) is ``torch.optim.AdamW``: θ ← θ·(1 − lr_t·λ), the decay scaled by the learning
    rate. ``decay="paper"`` is line 12 of Algorithm 2: θ ← θ·(1 − η_t·λ) with η_t = lr_t/lr_0, scaled by the
    schedule multiplier alone, so λ must be given in the paper's units (λ_paper = lr_0·λ_torch, see
    :func:`tinyreg.optim.paper_from_decoupled`). The moments never see λθ, so every weight decays at the same rate
    whatever its gradient history.
    """

    name = "adamw"
    explain = dict(decay="decoupled")
    benchmark = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, decay="decoupled")
    default_decay = "decoupled"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, decay=None, backend=None, parallel=False, **torch_keywords):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decay=decay,
                         backend=backend, parallel=parallel, **torch_keywords)
