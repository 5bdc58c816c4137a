"""torch.optim's three CPU code paths, timed as a user runs them: ``optimizer.step()`` with the grads already set.

    for-loop   foreach=False  one tensor at a time, several ATen ops per tensor (torch's default on CPU: its
                              foreach and fused defaults only switch on for GPU tensors)
    foreach    foreach=True   each op applied to the whole list of tensors at once (torch._foreach_*)
    fused      fused=True     one C++ kernel per tensor doing the whole update in one pass

Each tensor is its own allocation, as in a torch model: there is no flat buffer to exploit.
"""

import inspect

import numpy as np

from guard import HYPERPARAMETERS, state_names
from tinyreg.optim import OPTIMIZERS
from workloads import split

VARIANTS = {"torch for-loop": dict(foreach=False), "torch foreach": dict(foreach=True), "torch fused": dict(fused=True)}


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def supports(variant: str, optimizer: str) -> bool:
    """Whether torch has the optimizer (same class name as tinyreg's; Lion it has not) and this code path for it
    (``fused`` exists for SGD, Adam, AdamW and Adagrad only)."""
    import torch

    cls = getattr(torch.optim, OPTIMIZERS[optimizer].__name__, None)
    return cls is not None and all(key in inspect.signature(cls).parameters for key in VARIANTS[variant])


def build(variant: str, optimizer: str, workload, start, threads: int):
    """``(step, state)``: one optimizer step, and the flat θ and state arrays after it (for the guard). The thread
    count is set process-wide (``torch.set_num_threads``) by the caller."""
    import torch

    params = [torch.from_numpy(a.copy()).requires_grad_() for a in split(start.theta, workload.shapes)]
    for p, g in zip(params, split(start.grad, workload.shapes)):
        p.grad = torch.from_numpy(g.copy())
    settings = {key: value for key, value in HYPERPARAMETERS[optimizer].items() if key != "decay"}
    cls = getattr(torch.optim, OPTIMIZERS[optimizer].__name__)
    if HYPERPARAMETERS[optimizer].get("decay") == "decoupled" and "decoupled_weight_decay" in \
            inspect.signature(cls).parameters:
        settings["decoupled_weight_decay"] = True   # torch's NAdam and RAdam take the decoupled form as a flag
    opt = cls(params, **settings, **VARIANTS[variant])

    def state() -> dict:
        arrays = {"θ": [p.detach() for p in params]}
        for name in state_names(optimizer):
            arrays[name] = [opt.state[p][name] for p in params]
        return {name: np.concatenate([t.numpy().ravel() for t in ts]) for name, ts in arrays.items()}

    return opt.step, state
