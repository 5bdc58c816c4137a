"""Adam (L2 decay, coupled) and AdamW (decoupled decay): validate, then dispatch to a backend.

The math is :func:`tinyreg.optim.reference.adam_step` and its kernel; both classes run it, differing only in the
default ``weight_decay`` and ``decay`` convention (torch's AdamW is likewise Adam with decoupled decay).
"""

from tinyreg.optim import backends
from tinyreg.optim.optimizer import Optimizer


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
    decayed *less* (Proposition 2 of the paper). ``decay="decoupled"`` or ``"paper"`` turns this into AdamW.

    Args: ``lr``, ``betas`` (β₁, β₂), ``eps`` ε, ``weight_decay`` λ, ``amsgrad``, ``maximize``; ``decay``
    ("l2" | "decoupled" | "paper", see :mod:`tinyreg.optim.reference`), ``backend`` ("numba" | "numpy"),
    ``parallel`` (opt-in multi-core kernel).
    """

    _state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decay="l2", backend=None, parallel=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decay=decay)
        super().__init__(params, defaults, backend=backend, parallel=parallel)

    def _check_group(self, group):
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

    def _state_names(self, group):
        return self._state_keys if group["amsgrad"] else self._state_keys[:2]

    def _update(self, group, buffer, span, step):
        beta1, beta2 = group["betas"]
        state = buffer.state
        backends.adam(self.backend, self.parallel, buffer.theta[span], buffer.grad[span], state["exp_avg"][span],
                      state["exp_avg_sq"][span], state["max_exp_avg_sq"][span] if group["amsgrad"] else None,
                      t=step + 1, lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                      eps=float(group["eps"]), lambda_=float(group["weight_decay"]), decay=group["decay"],
                      eta_t=self._eta(group), amsgrad=bool(group["amsgrad"]), maximize=bool(group["maximize"]))


class AdamW(Adam):
    """AdamW: Adam with the weight decay taken out of the gradient and applied to θ directly.

    ``decay="decoupled"`` (default) is ``torch.optim.AdamW``: θ ← θ·(1 − lr_t·λ), the decay scaled by the learning
    rate. ``decay="paper"`` is line 12 of Algorithm 2: θ ← θ·(1 − η_t·λ) with η_t = lr_t/lr_0, scaled by the
    schedule multiplier alone, so λ must be given in the paper's units (λ_paper = lr_0·λ_torch, see
    :func:`tinyreg.optim.paper_from_decoupled`). The moments never see λθ, so every weight decays at the same rate
    whatever its gradient history.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, decay="decoupled", backend=None, parallel=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decay=decay,
                         backend=backend, parallel=parallel)
