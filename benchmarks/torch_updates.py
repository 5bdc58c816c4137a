"""torch.optim's three CPU code paths, timed as a user runs them: ``optimizer.step()`` with the grads already set.

    for-loop   foreach=False  one tensor at a time, several ATen ops per tensor (torch's default on CPU: its
                              foreach and fused defaults only switch on for GPU tensors)
    foreach    foreach=True   each op applied to the whole list of tensors at once (torch._foreach_*)
    fused      fused=True     one C++ kernel per tensor doing the whole update in one pass

Each tensor is its own allocation, as in a torch model: there is no flat buffer to exploit.
"""

import numpy as np

from guard import HYPERPARAMETERS, STATE_NAMES
from workloads import split

VARIANTS = {"torch for-loop": dict(foreach=False), "torch foreach": dict(foreach=True), "torch fused": dict(fused=True)}
# torch's state keys for the symbols (tinyreg.optim uses the same keys).
STATE_KEYS = {"b": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq"}


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def build(variant: str, optimizer: str, workload, start, threads: int):
    """``(step, state)``: one optimizer step, and the flat θ and state arrays after it (for the guard). The thread
    count is set process-wide (``torch.set_num_threads``) by the caller."""
    import torch

    classes = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    params = [torch.from_numpy(a.copy()).requires_grad_() for a in split(start.theta, workload.shapes)]
    for p, g in zip(params, split(start.grad, workload.shapes)):
        p.grad = torch.from_numpy(g.copy())
    opt = classes[optimizer](params, **HYPERPARAMETERS[optimizer], **VARIANTS[variant])

    def state() -> dict:
        arrays = {"θ": [p.detach() for p in params]}
        for name in STATE_NAMES[optimizer]:
            arrays[name] = [opt.state[p][STATE_KEYS[name]] for p in params]
        return {name: np.concatenate([t.numpy().ravel() for t in ts]) for name, ts in arrays.items()}

    return opt.step, state
