"""RMSprop, as ``torch.optim.RMSprop`` (Hinton's lecture 6e; centered form of Graves 2013), with every decay form."""

from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.fma import fma, fma_scalar
from tinyreg.optim.optimizer import Optimizer, schedule_multiplier
from tinyreg.optim.reference import REMOVED, coupled_decay, decoupled_decay, gradient, ignore


def rmsprop_step(theta, grad, v, b=None, a=None, *, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False,
                 maximize=False, lambda_=0.0, decay="l2", eta_t=1.0, record=None):
    """torch's RMSprop: divide the gradient by a running root mean square of its recent values.

    ``v`` is the mean square v_{t−1}, ``b`` the momentum buffer (with ``momentum`` > 0), ``a`` the mean gradient
    (``centered``); zeros before the first step. Returns ``(theta_t, v_t, b_t, a_t)``, None for an unused state.
    """
    record = record or ignore
    g_t = gradient(grad, maximize, "torch RMSprop", record)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "torch RMSprop", record)  # decay="l2": λθ joins g_t
    v_t = alpha * v + (1 - alpha) * g_t * g_t                           # the mean square of the gradients
    record("v_t", v_t, "v_t ← α·v_{t−1} + (1 − α)·g_t²", "torch RMSprop")
    a_t = None
    if centered:
        a_t = alpha * a + (1 - alpha) * g_t                             # the mean gradient
        record("a_t", a_t, "a_t ← α·a_{t−1} + (1 − α)·g_t", "torch RMSprop (centered)")
        avg = np.sqrt(v_t - a_t * a_t) + eps                            # torch adds ε outside the root
        record("avg", avg, "avg ← √(v_t − a_t²) + ε", "torch RMSprop (centered)")
    else:
        avg = np.sqrt(v_t) + eps
        record("avg", avg, "avg ← √v_t + ε", "torch RMSprop")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "decoupled (paper form)", record)
    b_t = None
    if momentum > 0:
        b_t = momentum * b + g_t / avg                                  # torch: buf.mul_(μ).addcdiv_(g, avg)
        record("b_t", b_t, "b_t ← μ·b_{t−1} + g_t / avg", "torch RMSprop (momentum)")
        theta_t = fma(-lr, b_t, theta)                                  # θ_t ← θ − lr·b_t
        record("theta_t", theta_t, "θ_t ← θ − lr·b_t", "torch RMSprop (momentum)")
    else:
        theta_t = theta - lr * (g_t / avg)
        record("theta_t", theta_t, "θ_t ← θ − lr·g_t / avg", "torch RMSprop")
    return theta_t, v_t, b_t, a_t


class RMSpropCoefficients(NamedTuple):
    lr: np.floating
    alpha: np.floating
    one_minus_alpha: np.floating
    eps: np.floating
    momentum: np.floating
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def rmsprop_element(i, theta, grad, state, c, variant):
    v, b, a = state
    has_momentum, centered = variant & 1, variant & 2                   # which optional arrays are in use
    g_t = kernels.gradient(grad[i], theta[i], c)                       # maximize, then coupled decay
    v_t = c.alpha * v[i] + c.one_minus_alpha * g_t * g_t                # the mean square of the gradients
    if centered:
        a_t = c.alpha * a[i] + c.one_minus_alpha * g_t                  # the mean gradient
        avg = np.sqrt(v_t - a_t * a_t) + c.eps
        a[i] = a_t
    else:
        avg = np.sqrt(v_t) + c.eps
    theta_i = theta[i] * c.keep                                         # decoupled decay (keep = 1 if coupled)
    if has_momentum:
        b_t = c.momentum * b[i] + g_t / avg
        theta[i] = fma_scalar(-c.lr, b_t, theta_i)                      # θ_t ← θ − lr·b_t
        b[i] = b_t
    else:
        theta[i] = theta_i - c.lr * (g_t / avg)                         # θ_t ← θ − lr·g_t / avg
    v[i] = v_t


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``::

        g_t ← ∇f_t(θ_{t−1})                                  (−∇f_t with maximize)
        g_t ← g_t + λ·θ_{t−1}                                 if λ ≠ 0   (decay="l2", the default: coupled)
        v_t ← α·v_{t−1} + (1 − α)·g_t²                        the mean square
        a_t ← α·a_{t−1} + (1 − α)·g_t                         if centered: the mean gradient
        avg ← √(v_t − a_t²) + ε  if centered,  else  √v_t + ε   (ε outside the root, as torch)
        b_t ← μ·b_{t−1} + g_t / avg;   θ_t ← θ_{t−1} − lr·b_t    if μ > 0
        θ_t ← θ_{t−1} − lr·g_t / avg                             otherwise

    Coupled decay is divided by avg like the gradient: a weight with a large gradient history is decayed less, as
    under Adam + L2. ``decay="decoupled"`` shrinks θ by (1 − lr·λ) first instead, ``"paper"`` by (1 − η_t·λ).

    Args: ``lr``, ``alpha`` α, ``eps`` ε, ``weight_decay`` λ, ``momentum`` μ, ``centered``, ``maximize``;
    ``decay``, ``backend``, ``parallel`` as for :class:`~tinyreg.optim.Adam`; torch's ``foreach``,
    ``capturable``, ``differentiable`` (and ``fused``) are accepted.
    """

    name = "rmsprop"
    state_keys = ("square_avg", "momentum_buffer", "grad_avg")
    optional_states = ("momentum_buffer", "grad_avg")
    reference_step = staticmethod(rmsprop_step)
    kernel = kernels.Kernel(rmsprop_element)
    explain = dict(decay="l2", alpha=0.9)
    # No decay in the benchmark: with L2, elements where g + λθ nearly cancels swing around g + λθ = 0 under the
    # 1/√v scaling, and over hundreds of steps float32 and float64 part there by more than the correctness guard
    # allows (torch has no decoupled RMSprop to compare a decoupled setting with).
    benchmark = dict(lr=1e-3, alpha=0.99, eps=1e-8, weight_decay=0.0, decay="l2")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False, decay="l2", backend=None, parallel=False, **torch_keywords):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def state_names(self, group):
        return ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) + \
            (("grad_avg",) if group["centered"] else ())

    def step_arguments(self, group, state):
        return dict(lr=float(group["lr"]), alpha=float(group["alpha"]), eps=float(group["eps"]),
                    momentum=float(group["momentum"]), centered=bool(group["centered"]),
                    maximize=bool(group["maximize"]), lambda_=float(group["weight_decay"]), decay=group["decay"],
                    eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt, alpha = dtype.type, arguments["alpha"]
        return RMSpropCoefficients(lr=dt(arguments["lr"]), alpha=dt(alpha), one_minus_alpha=dt(1 - alpha),
                                   eps=dt(arguments["eps"]), momentum=dt(arguments["momentum"]),
                                   **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        """lr·λ / avg (divided by 1 − μ once a momentum buffer has settled): per weight, like Adam + L2."""
        momentum = float(group["momentum"])
        equation = "λ_eff ← lr·λ / avg" + (" / (1 − μ)" if momentum > 0 else "")
        if state is None:
            return equation, None
        return equation, float(group["lr"]) * float(group["weight_decay"]) / (average(group, state) * (1 - momentum))

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        lr, momentum, lambda_theta = float(group["lr"]), float(group["momentum"]), float(
            group["weight_decay"]) * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        if momentum == 0:
            record("decay", lr * (lambda_theta / element["avg"]), "decay ← lr·λθ / avg", REMOVED)
            return None
        d_t = momentum * d_prev + lambda_theta / element["avg"]
        record("d_t", d_t, "d_t ← μ·d_{t−1} + λθ / avg", "λθ's part of b_t")
        record("decay", lr * d_t, "decay ← lr·d_t", REMOVED)
        return d_t


def average(group, state):
    """avg = √(v − a²) + ε (centered) or √v + ε from a parameter's state after its step."""
    v = state["square_avg"]
    mean_square = v - state["grad_avg"] ** 2 if group["centered"] else v
    return np.sqrt(mean_square) + float(group["eps"])
