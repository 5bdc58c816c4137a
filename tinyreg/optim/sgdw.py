"""SGDW: SGD with momentum as printed in Algorithm 1 of Loshchilov & Hutter, decoupled decay by default."""

from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.optimizer import Optimizer, schedule_multiplier
from tinyreg.optim.reference import PAPER_L2, REMOVED, coupled_decay, decoupled_decay, gradient, ignore


def sgdw_step(theta, grad, m, *, lr, beta1=0.0, maximize=False, lambda_=0.0, decay="paper", eta_t=1.0,
              record=None):
    """Algorithm 1 of the paper (SGD with momentum; SGDW when the decay is decoupled), as printed.

    Unlike torch's SGD the learning rate sits *inside* the momentum buffer (line 8), m_0 = 0, and there is no
    dampening or Nesterov. With a constant learning rate and no dampening it matches torch's SGD up to rounding.
    Returns ``(theta_t, m_t)``.
    """
    record = record or ignore
    g_t = gradient(grad, maximize, "Alg. 1, line 5", record)            # Alg. 1 line 5 (maximize: ascend)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "Alg. 1, line 6", record, PAPER_L2)  # Alg. 1 line 6: λθ joins g_t
    record("eta_t", eta_t, "η_t ← SetScheduleMultiplier(t)", "Alg. 1, line 7")
    m_t = beta1 * m + lr * g_t                                          # Alg. 1 line 8, with η_t·α = lr_t
    record("m_t", m_t, "m_t ← β₁·m_{t−1} + η_t·α·g_t", "Alg. 1, line 8")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "Alg. 1, line 9", record)  # Alg. 1 line 9 (SGDW)
    theta_t = theta - m_t                                               # Alg. 1 line 9
    record("theta_t", theta_t, "θ_t ← θ − m_t", "Alg. 1, line 9")
    return theta_t, m_t


class SGDWCoefficients(NamedTuple):
    lr: np.floating
    beta1: np.floating
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def sgdw_element(i, theta, grad, state, c, variant):
    (m,) = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # Alg. 1 lines 5–6
    m_t = c.beta1 * m[i] + c.lr * g_t                                   # Alg. 1 line 8, with η_t·α = lr_t
    theta_i = theta[i] * c.keep                                         # Alg. 1 line 9's decay term (decoupled)
    theta[i] = theta_i - m_t                                            # Alg. 1 line 9
    m[i] = m_t


class SGDW(Optimizer):
    """SGD with momentum as printed in Algorithm 1 of the paper, with decoupled weight decay by default::

        g_t ← ∇f_t(θ_{t−1})                      (+ λ·θ_{t−1} with decay="l2": line 6)
        η_t ← lr_t / lr_0                         (line 7: the schedule multiplier)
        m_t ← β₁·m_{t−1} + η_t·α·g_t              (line 8: the learning rate sits inside the buffer, m_0 = 0)
        θ_t ← θ_{t−1} − m_t − η_t·λ·θ_{t−1}       (line 9; decay="paper", the default)

    With decay="decoupled" the last term is lr_t·λ·θ_{t−1} (torch's scaling); the two agree when λ_paper = α·λ.
    ``momentum`` is the paper's β₁. ``weight_decay`` is λ in the chosen convention's units: with "paper" it is the
    fraction of θ removed per step at η_t = 1, so typical values are ~α times smaller than torch-style ones.
    Without momentum, SGDW(λ, decay="paper") equals SGD(weight_decay=λ/α) — Proposition 1.
    """

    name = "sgdw"
    state_keys = ("momentum_buffer",)
    reference_step = staticmethod(sgdw_step)
    kernel = kernels.Kernel(sgdw_element)
    step_line = "Alg. 1, line 4"
    explain = dict(decay="paper", momentum=0.9)

    def __init__(self, params, lr=1e-3, momentum=0, weight_decay=0, *, maximize=False, decay="paper",
                 backend=None, parallel=False, **torch_keywords):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (the paper's β₁: 0 <= momentum < 1)")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def step_arguments(self, group, state):
        return dict(lr=float(group["lr"]), beta1=float(group["momentum"]), maximize=bool(group["maximize"]),
                    lambda_=float(group["weight_decay"]), decay=group["decay"], eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt = dtype.type
        return SGDWCoefficients(lr=dt(arguments["lr"]), beta1=dt(arguments["beta1"]),
                                **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        return "λ_eff ← lr·λ / (1 − β₁)", float(group["lr"]) * float(group["weight_decay"]) / (
            1 - float(group["momentum"]))

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        lambda_theta = float(group["weight_decay"]) * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        d_t = float(group["momentum"]) * d_prev + float(group["lr"]) * lambda_theta
        record("d_t", d_t, "d_t ← β₁·d_{t−1} + η_t·α·λθ", "λθ's part of m_t")
        record("decay", d_t, "decay ← d_t", REMOVED)
        return d_t
