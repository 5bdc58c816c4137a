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

from guard import DECAY, HYPERPARAMETERS, STATE_NAMES
from torch_updates import STATE_KEYS
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
    h = HYPERPARAMETERS[optimizer]
    theta, grad = start.theta.copy(), start.grad.copy()
    state = {name: np.zeros_like(theta) for name in STATE_NAMES[optimizer]}
    t = 0

    def step():
        nonlocal t
        t += 1
        if optimizer == "sgd":
            backends.sgd(backend, parallel, theta, grad, state["b"], first=t == 1, lr=h["lr"],
                         momentum=h["momentum"], lambda_=h["weight_decay"], decay=DECAY[optimizer])
            return
        beta1, beta2 = h["betas"]
        backends.adam(backend, parallel, theta, grad, state["m"], state["v"], None, t=t, lr=h["lr"], beta1=beta1,
                      beta2=beta2, eps=h["eps"], lambda_=h["weight_decay"], decay=DECAY[optimizer])

    def result():
        return {"θ": theta, **state}

    return step, result


def _build_optimizer(optimizer: str, workload, start, parallel: bool):
    from tinyreg import optim, tensor
    from tinyreg.nn import Parameter

    classes = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}
    params = [Parameter(a) for a in split(start.theta, workload.shapes)]
    for p, g in zip(params, split(start.grad, workload.shapes)):
        p.grad = tensor(g)
    opt = classes[optimizer](params, **HYPERPARAMETERS[optimizer], parallel=parallel)

    def state() -> dict:
        arrays = {"θ": [np.asarray(p) for p in params]}
        per_param = opt.state  # builds its views once
        for name in STATE_NAMES[optimizer]:
            arrays[name] = [per_param[p][STATE_KEYS[name]] for p in params]
        return {name: np.concatenate([a.ravel() for a in values]) for name, values in arrays.items()}

    return opt.step, state
