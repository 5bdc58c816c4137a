"""tinyreg's update, timed as it runs inside the optimizers: over one flat buffer holding every parameter.

    tinyreg numpy           backend "numpy": the reference steps (:mod:`tinyreg.optim.reference`) on the whole flat
                            buffer, one NumPy pass per equation with its temporaries, results copied back
    tinyreg fused serial    backend "numba": the fused kernel (:mod:`tinyreg.optim.kernels`), one pass, one thread
    tinyreg fused parallel  the same kernel under ``prange`` on Numba's thread pool (``parallel=True``)
    tinyreg optimizer       ``tr.optim.SGD/Adam/AdamW(params, ...).step()`` as a training loop calls it: default
                            backend (numba), ``parallel=True`` when more than one thread is measured, Parameters
                            moved into flat buffers by the constructor, the step's checks and dispatch included

The first three call :mod:`tinyreg.optim.backends` with the arguments the optimizer classes pass, so they time the
work of ``step()`` without its bookkeeping; the last row adds the bookkeeping.
"""

import numpy as np

from guard import make, state_names
from tinyreg import tensor
from workloads import split

BACKEND_VARIANTS = {"tinyreg numpy": ("numpy", False), "tinyreg fused serial": ("numba", False),
                    "tinyreg fused parallel": ("numba", True)}
VARIANTS = (*BACKEND_VARIANTS, "tinyreg optimizer")


def build(variant: str, optimizer: str, workload, start, threads: int):
    """``(step, state)``: one optimizer step, and the flat θ and state arrays after it (for the guard)."""
    if variant == "tinyreg optimizer":
        return _build_optimizer(optimizer, workload, start, parallel=threads > 1)
    from tinyreg.optim import backends

    backend, parallel = BACKEND_VARIANTS[variant]
    # A one-parameter optimizer supplies the declaration (step arguments, kernel) for the benchmark's settings; the
    # update itself runs on this module's own flat arrays, as step() runs it on a group's flat buffer.
    opt = make(optimizer, [np.zeros(1, start.theta.dtype)], backend=backend, parallel=parallel)
    group = opt.param_groups[0]
    theta, grad = start.theta.copy(), start.grad.copy()
    fresh = opt.initial_state(group)
    used = state_names(optimizer)
    state = {name: np.full_like(theta, fresh.get(name, 0)) for name in used}
    counts = {"step": 0, **opt.scalar_state}

    def step():
        arguments = opt.step_arguments(group, counts)
        backends.run(opt, theta, grad, [state.get(name) for name in opt.state_keys], arguments)
        counts.update({"step": counts["step"] + 1, **{name: arguments[name] for name in opt.scalar_state}})

    def result():
        return {"θ": theta, **state}

    return step, result


def _build_optimizer(optimizer: str, workload, start, parallel: bool):
    params_arrays = split(start.theta, workload.shapes)
    opt = make(optimizer, params_arrays, parallel=parallel)
    params = opt.param_groups[0]["params"]
    for p, g in zip(params, split(start.grad, workload.shapes)):
        p.grad = tensor(g)

    def state() -> dict:
        arrays = {"θ": [np.asarray(p) for p in params]}
        per_param = opt.state  # builds its views once
        for name in state_names(optimizer):
            arrays[name] = [per_param[p][name] for p in params]
        return {name: np.concatenate([a.ravel() for a in values]) for name, values in arrays.items()}

    return opt.step, state
