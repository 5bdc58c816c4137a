"""Gradient clipping, in place, between ``loss.backward()`` and ``optimizer.step()``.

Both functions work on the NumPy arrays behind the gradients (``np.asarray(p.grad)`` shares their memory), so the
parameters' ``.grad`` and any optimizer buffer they view are what gets changed.
"""

import math

import numpy as np

from tinyreg.tensor import Tensor


def _gradients(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [np.asarray(p.grad) for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``; return the norm before.

    With g the gradients of all parameters concatenated into one vector and N = ‖g‖_p (``norm_type`` p, inf for the
    largest magnitude):

        g ← g · min(1, max_norm / (N + 1e-6))

    One factor for all parameters keeps the update's direction; only its length is capped. (The 1e-6 is torch's,
    so a zero gradient stays zero.) ``foreach`` is accepted for torch compatibility.
    """
    grads = _gradients(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    if norm_type == math.inf:
        norms = [np.max(np.abs(g), initial=0) for g in grads]
        total = np.max(norms)
    else:
        norms = [np.sum(np.abs(g) ** norm_type) ** (1 / norm_type) for g in grads]
        total = np.sum(np.power(norms, norm_type)) ** (1 / norm_type)
    total = np.asarray(total, dtype=np.result_type(*grads))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           f"cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    scale = min(1.0, float(max_norm) / (float(total) + 1e-6))
    for g in grads:
        g *= scale
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [−clip_value, clip_value] (each element on its own: the direction can turn)."""
    clip_value = float(clip_value)
    for g in _gradients(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
