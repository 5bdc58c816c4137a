"""SGD (torch's) and SGDW (Algorithm 1 of Loshchilov & Hutter): validate, then dispatch to a backend.

The math is in :func:`tinyreg.optim.reference.sgd_step` / :func:`~tinyreg.optim.reference.sgdw_step` and their
kernels; these classes only check hyperparameters and hand each flat buffer to the chosen backend.
"""

from tinyreg.optim import backends
from tinyreg.optim.optimizer import Optimizer


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
    Numba kernel on all cores (opt-in, see :mod:`tinyreg.optim.kernels`).
    """

    _state_keys = ("momentum_buffer",)
    _saves_step = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, decay="l2", backend=None, parallel=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel)

    def _check_group(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _counts_step(self, group):
        return group["momentum"] != 0       # the "step" that matters to SGD: has the momentum buffer started?

    def _update(self, group, buffer, span, step):
        b = buffer.state["momentum_buffer"][span] if group["momentum"] != 0 else None
        backends.sgd(self.backend, self.parallel, buffer.theta[span], buffer.grad[span], b, first=step == 0,
                     lr=float(group["lr"]), momentum=float(group["momentum"]), dampening=float(group["dampening"]),
                     nesterov=bool(group["nesterov"]), maximize=bool(group["maximize"]),
                     lambda_=float(group["weight_decay"]), decay=group["decay"], eta_t=self._eta(group))


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

    _state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0, weight_decay=0, *, maximize=False, decay="paper",
                 backend=None, parallel=False):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel)

    def _check_group(self, group):
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (the paper's β₁: 0 <= momentum < 1)")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _state_names(self, group):
        return ("momentum_buffer",)

    def _update(self, group, buffer, span, step):
        backends.sgdw(self.backend, self.parallel, buffer.theta[span], buffer.grad[span],
                      buffer.state["momentum_buffer"][span], lr=float(group["lr"]), beta1=float(group["momentum"]),
                      maximize=bool(group["maximize"]), lambda_=float(group["weight_decay"]), decay=group["decay"],
                      eta_t=self._eta(group))
