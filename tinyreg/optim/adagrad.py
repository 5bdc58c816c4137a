"""Adagrad, as ``torch.optim.Adagrad`` (Duchi, Hazan & Singer 2011), with every decay form."""

from typing import NamedTuple

import numpy as np
from numba import njit

from tinyreg.optim import kernels
from tinyreg.optim.optimizer import Optimizer, schedule_multiplier
from tinyreg.optim.reference import REMOVED, coupled_decay, decoupled_decay, gradient, ignore


def adagrad_step(theta, grad, s, *, t, lr, lr_decay=0.0, eps=1e-10, maximize=False, lambda_=0.0, decay="l2",
                 eta_t=1.0, record=None):
    """torch's Adagrad: divide by the root of the sum of all squared gradients so far.

    ``t`` is this step's number; ``s`` the sum after step t − 1 (``initial_accumulator_value`` before the first).
    Returns ``(theta_t, s_t)``.
    """
    record = record or ignore
    g_t = gradient(grad, maximize, "torch Adagrad", record)
    g_t = coupled_decay(g_t, theta, decay, lambda_, "torch Adagrad", record)  # decay="l2": λθ joins g_t
    clr = lr / (1 + (t - 1) * lr_decay)                                 # the decayed learning rate, per step
    record("clr", clr, "clr ← lr / (1 + (t − 1)·lr_decay)", "torch Adagrad")
    s_t = s + g_t * g_t                                                 # the sum of squares
    record("s_t", s_t, "s_t ← s_{t−1} + g_t²", "torch Adagrad")
    std = np.sqrt(s_t) + eps
    record("std", std, "std ← √s_t + ε", "torch Adagrad")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "decoupled (paper form)", record)
    theta_t = theta - clr * (g_t / std)
    record("theta_t", theta_t, "θ_t ← θ − clr·g_t / std", "torch Adagrad")
    return theta_t, s_t


class AdagradCoefficients(NamedTuple):
    clr: np.floating
    eps: np.floating
    lambda_: np.floating
    keep: np.floating
    maximize: bool
    l2: bool


@njit(cache=True, error_model="numpy")
def adagrad_element(i, theta, grad, state, c, variant):
    (s,) = state
    g_t = kernels.gradient(grad[i], theta[i], c)                       # maximize, then coupled decay
    s_t = s[i] + g_t * g_t                                              # the sum of squares
    std = np.sqrt(s_t) + c.eps
    theta_i = theta[i] * c.keep                                         # decoupled decay (keep = 1 if coupled)
    theta[i] = theta_i - c.clr * (g_t / std)                            # θ_t ← θ − clr·g_t / std
    s[i] = s_t


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``::

        g_t ← ∇f_t(θ_{t−1})                          (−∇f_t with maximize)
        g_t ← g_t + λ·θ_{t−1}                         if λ ≠ 0   (decay="l2", the default: coupled)
        clr ← lr / (1 + (t − 1)·lr_decay)
        s_t ← s_{t−1} + g_t²                          s_0 = initial_accumulator_value
        θ_t ← θ_{t−1} − clr·g_t / (√s_t + ε)

    The step size of each weight only shrinks, fastest where gradients have been large; coupled decay shrinks
    with it. ``decay="decoupled"`` shrinks θ by (1 − lr·λ) instead (lr, not clr), ``"paper"`` by (1 − η_t·λ).

    One difference from torch: a param group's own ``initial_accumulator_value`` is honoured (torch fills every
    group's sum from the constructor's value).

    Args: ``lr``, ``lr_decay``, ``weight_decay`` λ, ``initial_accumulator_value``, ``eps`` ε, ``maximize``;
    ``decay``, ``backend``, ``parallel`` as for :class:`~tinyreg.optim.Adam`; torch's ``foreach``, ``fused``,
    ``differentiable`` (and ``capturable``) are accepted.
    """

    name = "adagrad"
    state_keys = ("sum",)
    reference_step = staticmethod(adagrad_step)
    kernel = kernels.Kernel(adagrad_element)
    step_line = "torch Adagrad"
    explain = dict(decay="l2")
    benchmark = dict(lr=1e-2, weight_decay=0.1, decay="l2")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False, decay="l2", backend=None, parallel=False, **torch_keywords):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel, **torch_keywords)

    def check_group(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["initial_accumulator_value"]:
            raise ValueError(f"Invalid initial_accumulator_value value: {group['initial_accumulator_value']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")

    def initial_state(self, group):
        return {"sum": group["initial_accumulator_value"]}

    def step_arguments(self, group, state):
        return dict(t=state["step"] + 1, lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                    eps=float(group["eps"]), maximize=bool(group["maximize"]), lambda_=float(group["weight_decay"]),
                    decay=group["decay"], eta_t=schedule_multiplier(group))

    @staticmethod
    def coefficients(arguments, dtype):
        dt = dtype.type
        clr = arguments["lr"] / (1 + (arguments["t"] - 1) * arguments["lr_decay"])
        return AdagradCoefficients(clr=dt(clr), eps=dt(arguments["eps"]), **kernels.decay_coefficients(arguments, dtype))

    def coupled_lambda_eff(self, group, state):
        """clr·λ / (√s_t + ε): per weight, and falling as the sum grows."""
        equation = "λ_eff ← clr·λ / (√s_t + ε)"
        if state is None:
            return equation, None
        t = int(state["step"])
        clr = float(group["lr"]) / (1 + (t - 1) * float(group["lr_decay"]))
        return equation, clr * float(group["weight_decay"]) / (np.sqrt(state["sum"]) + float(group["eps"]))

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        lambda_theta = float(group["weight_decay"]) * theta_prev
        record("lambda_theta", lambda_theta, "λθ ← λ·θ_{t−1}", "the decay's term in g_t")
        record("decay", element["clr"] * (lambda_theta / element["std"]), "decay ← clr·λθ / std", REMOVED)
        return None
