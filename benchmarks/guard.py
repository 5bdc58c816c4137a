"""The correctness guard: a fast wrong kernel must not reach the table.

After its timed steps, every implementation's θ and optimizer state are compared with the float64 run of the
optimizer's reference step (the math as written, run by tinyreg's NumPy backend) for the same number of steps from the same θ_0
and g. float64 makes the oracle a different computation from every float32 implementation under test, and torch's
rows pass through the same check, so the reference itself is cross-checked against torch on every run.

What is compared is each array's *change* since the start, Δ = x_N − x_0, because that is what the kernel computes;
comparing x_N alone would let a kernel that drops a small term (the decay, a bias correction) hide behind the size of
θ. Allowed per element: 10⁻³·|Δ_ref| (a few float32 ulps of the update, each step) plus N · 8 ulps of the array's
largest value (float32 rounding of θ, and of terms that nearly cancel such as g + λθ, carried through N steps). The
benchmark's weight decay (λ = 0.1, see :data:`HYPERPARAMETERS`) makes the decay ~10 % of each update, a hundred times
the first allowance, and an element left out of the update is off by its whole change.
"""

import numpy as np

from tinyreg import tensor
from tinyreg.nn import Parameter
from tinyreg.optim import OPTIMIZERS

# One configuration per optimizer, shared by every implementation: each optimizer's declared ``benchmark`` settings
# (λ = 0.1 for those with torch-style decay, a typical AdamW value that makes the decay a visible share of each
# update, see the guard above; the time of an update does not depend on the values).
HYPERPARAMETERS = {name: dict(cls.benchmark) for name, cls in OPTIMIZERS.items() if cls.benchmark}


def make(optimizer: str, arrays, **options):
    """The tinyreg optimizer ``optimizer`` (a key of :data:`HYPERPARAMETERS`) over Parameters holding ``arrays``."""
    return OPTIMIZERS[optimizer]([Parameter(a) for a in arrays], **HYPERPARAMETERS[optimizer], **options)


def state_names(optimizer: str) -> tuple:
    """The state arrays the benchmark's settings use, in torch's names (e.g. ("exp_avg", "exp_avg_sq"))."""
    opt = make(optimizer, [np.zeros(1, np.float32)])
    return tuple(opt.state_names(opt.param_groups[0]))


class WrongResult(AssertionError):
    """An implementation's result disagrees with the reference: its timing must not be reported."""


def reference_run(optimizer: str, theta_0: np.ndarray, grad: np.ndarray, steps: int) -> dict:
    """θ and state after ``steps`` steps of the optimizer's reference step (its NumPy backend) in float64, as a
    dict of flat arrays ("θ" and the state names)."""
    opt = make(optimizer, [theta_0.astype(np.float64)], backend="numpy")
    (p,) = opt.param_groups[0]["params"]
    for _ in range(steps):
        p.grad = tensor(grad.astype(np.float64))
        opt.step()
    return {"θ": np.asarray(p), **{name: opt.state[p][name] for name in state_names(optimizer)}}


def check(implementation: str, got: dict, want: dict, start: dict, steps: int) -> None:
    """Raise :class:`WrongResult` naming the implementation, the array and the worst element if any element is off.

    ``got``, ``want``, ``start``: flat arrays keyed by "θ" and the state names; ``start`` lacks the state arrays
    (they start at zero).
    """
    for name, x_ref in want.items():
        x = np.asarray(got[name], dtype=np.float64)
        if x.shape != x_ref.shape:
            raise WrongResult(f"{implementation}: {name} has shape {x.shape}, the reference {x_ref.shape}")
        x_0 = start.get(name, 0.0)
        delta, delta_ref = x - x_0, x_ref - x_0
        allowed = 1e-3 * np.abs(delta_ref) + steps * 8 * 2.0**-23 * np.max(np.abs(x_ref))
        excess = np.abs(delta - delta_ref) - allowed
        if not np.all(excess <= 0):  # also catches NaN
            i = int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess)))
            raise WrongResult(
                f"{implementation}: after {steps} steps {name}[{i}] moved by {delta[i]!r}, the reference by "
                f"{delta_ref[i]!r} (allowed difference {allowed[i]:.3g}); a wrong result is never timed")
