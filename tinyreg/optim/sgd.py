"""SGD, exactly as ``torch.optim.SGD``: its reference step, its kernel, its declaration.

Every ``x + a·y`` is rounded once (:func:`~tinyreg.optim.fma.fma`) like torch's ``add(alpha=a)``, so with
``decay="l2"`` this equals ``torch.optim.SGD`` bit for bit.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.fma import fma, fma_scalar
from tinyreg.optim.optimizer import Optimizer, schedule_multiplier
from tinyreg.optim.reference import REMOVED, coupled_decay, decoupled_decay, gradient, ignore


def sgd_step(theta, grad, b=None, *, lr, momentum=0.0, dampening=0.0, nesterov=False, maximize=False, first=False,
             lambda_=0.0, decay="l2", eta_t=1.0, record=None):
    """torch's SGD: momentum buffer ``b`` outside the learning rate, optional dampening τ and Nesterov.

    ``b`` is the momentum buffer b_{t−1}; ignored on the ``first`` step, when torch sets b_1 = g_1 (no dampening).
    Returns ``(theta_t, b_t)``; ``b_t`` is None when ``momentum == 0`` (torch keeps no buffer then).
    """
    record = record or ignore
    g_t = gradient(grad, maximize, "Alg. 1, line 5", record)            # torch: maximize follows +∇f
    g_t = coupled_decay(g_t, theta, decay, lambda_, "Alg. 1, line 6", record)  # decay="l2": λθ joins g_t
    b_t = None
    if momentum != 0:
        b_t = g_t if first else fma(1 - dampening, g_t, momentum * b)  # torch: b_t ← μ·b_{t−1} + (1 − τ)·g_t
        record("b_t", b_t, "b_1 ← g_1" if first else "b_t ← μ·b_{t−1} + (1 − τ)·g_t", "torch SGD")
        g_t = fma(momentum, b_t, g_t) if nesterov else b_t              # torch: Nesterov looks one step ahead
        record("g_t", g_t, "g_t ← g_t + μ·b_t" if nesterov else "g_t ← b_t", "torch SGD")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "Alg. 1, line 9", record)  # SGDW's decay
    theta_t = fma(-lr, g_t, theta)                                      # torch: θ_t ← θ_{t−1} − γ·g_t
    record("theta_t", theta_t, "θ_t ← θ − γ·g_t", "torch SGD")
    return theta_t, b_t


class SGDCoefficients(NamedTuple):
    lr: np.floating
    momentum: np.floating
    one_minus_dampening: np.floating
    first: bool
    nesterov: bool
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def sgd_element(i, theta, grad, state, c, has_momentum):
    (b,) = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # maximize, then coupled decay
    if has_momentum:                                                    # μ ≠ 0 (judged before rounding μ, as torch)
        b_t = g_t if c.first else fma_scalar(c.one_minus_dampening, g_t, c.momentum * b[i])  # b_t ← μ·b + (1 − τ)·g_t
        g_t = fma_scalar(c.momentum, b_t, g_t) if c.nesterov else b_t  # torch: Nesterov looks one step ahead
        b[i] = b_t
    theta_i = theta[i] * c.keep                                         # decoupled decay (keep = 1 if coupled)
    theta[i] = fma_scalar(-c.lr, g_t, theta_i)                          # torch: θ_t ← θ_{t−1} − γ·g_t


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, exactly as ``torch.optim.SGD`` (bit for bit)::

        g_t ← ∇f_t(θ_{t−1})                      (−∇f_t with maximize)
        g_t ← g_t + λ·θ_{t−1}                     if λ ≠ 0           (decay="l2": coupled, the default)
        b_t ← g_t if t = 1 else μ·b_{t−1} + (1 − τ)·g_t               if μ ≠ 0
        g_t ← g_t + μ·b_t if nesterov else b_t                       if μ ≠ 0
        θ_t ← θ_{t−1} − γ·g_t

    Args: ``lr`` γ, ``momentum`` μ, ``dampening`` τ, ``weight_decay`` λ, ``nesterov``, ``maximize``; ``decay``
    picks the weight-decay convention ("l2" | "decoupled" | "paper", see :mod:`tinyreg.optim.reference`);
    ``backend`` "numba" | "numpy" (default: :func:`~tinyreg.optim.set_default_backend`); ``parallel`` runs the
    Numba kernel on all cores (opt-in, see :mod:`tinyreg.optim.kernels`). torch's ``foreach``, ``fused``,
    ``capturable``, ``differentiable`` are accepted (see :mod:`tinyreg.optim.optimizer`).
    """

    name = "sgd"
    state_keys = ("momentum_buffer",)
    optional_states = ("momentum_buffer",)
    saves_step = False
    reference_step = staticmethod(sgd_step)
    kernel = kernels.Kernel(sgd_element)
    explain = dict(decay="l2", momentum=0.9, dampening=0.0)
    benchmark = dict(lr=1e-3, momentum=0.9, weight_decay=0.1, decay="l2")

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, decay="l2", backend=None, parallel=False, **torch_keywords):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def counts_step(self, group):
        return group["momentum"] != 0       # the "step" that matters to SGD: has the momentum buffer started?

    def step_arguments(self, group, state):
        return dict(lr=float(group["lr"]), momentum=float(group["momentum"]), dampening=float(group["dampening"]),
                    nesterov=bool(group["nesterov"]), maximize=bool(group["maximize"]), first=state["step"] == 0,
                    lambda_=float(group["weight_decay"]), decay=group["decay"], eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt = dtype.type
        return SGDCoefficients(lr=dt(arguments["lr"]), momentum=dt(arguments["momentum"]),
                               one_minus_dampening=dt(1 - arguments["dampening"]), first=arguments["first"],
                               nesterov=arguments["nesterov"], **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        momentum = float(group["momentum"])
        lr, lambda_ = float(group["lr"]), float(group["weight_decay"])
        if momentum == 0:
            return "λ_eff ← γ·λ", lr * lambda_
        return "λ_eff ← γ·λ·(1 − τ)/(1 − μ)", lr * lambda_ * (1 - float(group["dampening"])) / (1 - momentum)

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        lr, lambda_, momentum = float(group["lr"]), float(group["weight_decay"]), float(group["momentum"])
        if momentum == 0:
            record("decay", lr * (lambda_ * theta_prev), "decay ← γ·λ·θ_{t−1}", REMOVED)
            return None
        lambda_theta = lambda_ * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        if step == 0:
            d_t = lambda_theta
            record("d_t", d_t, "d_1 ← λθ", "λθ's part of b_t")
        else:
            d_t = momentum * d_prev + (1 - float(group["dampening"])) * lambda_theta
            record("d_t", d_t, "d_t ← μ·d_{t−1} + (1 − τ)·λθ", "λθ's part of b_t")
        if group["nesterov"]:
            record("decay", lr * (lambda_theta + momentum * d_t), "decay ← γ·(λθ + μ·d_t)", REMOVED)
        else:
            record("decay", lr * d_t, "decay ← γ·d_t", REMOVED)
        return d_t

