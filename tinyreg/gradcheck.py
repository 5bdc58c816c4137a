"""``tr.gradcheck``: compare backward's gradients with central finite differences.

For a function f and an input element x_i, the central difference

    ∂f/∂x_i ≈ (f(x + ε e_i) - f(x - ε e_i)) / (2ε)

has error O(ε²), so in float64 with ε = 1e-6 it agrees with an exact derivative to about 1e-9 relative — far tighter
than any real bug. In float32 the rounding error of f itself (~1e-7 / ε) swamps the difference, which is why float32
inputs are refused.
"""

import numpy as np

from tinyreg.grad_mode import no_grad
from tinyreg.tensor import Tensor, float64


class GradcheckError(AssertionError):
    """An analytical gradient disagreed with its finite-difference estimate."""


def _as_outputs(result):
    return result if isinstance(result, (tuple, list)) else (result,)


def _analytical_jacobian(fn, inputs, checked, n_out):
    """Row j: d(output_j)/d(inputs), from one backward pass per output element."""
    rows = [[np.zeros(inputs[i].numel()) for i in checked] for _ in range(n_out)]
    outputs = _as_outputs(fn(*inputs))
    offset = 0
    for out in outputs:
        for k in range(out.numel()):
            for i in checked:
                inputs[i].grad = None
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed.flat[k] = 1
            if out.requires_grad:
                out.backward(seed, retain_graph=True)
            for col, i in enumerate(checked):
                if inputs[i].grad is not None:
                    rows[offset + k][col] = inputs[i].grad.numpy().ravel().copy()
        offset += out.numel()
    return rows


def _evaluate(fn, inputs):
    with no_grad():
        return np.concatenate([np.asarray(o, dtype=float64).ravel() for o in _as_outputs(fn(*inputs))])


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3) -> bool:
    """Check every gradient of ``fn`` at ``inputs`` against central differences.

    ``fn`` takes the entries of ``inputs`` (a tensor or a tuple; numbers and arrays in it are constants) and returns a
    tensor or a tuple of tensors of any shape: the whole Jacobian is checked. Every float64 input with ``requires_grad`` is checked element by element;
    an element passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.

    Returns True, or raises :class:`GradcheckError` naming the input, the element, the output element and both values.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    # Work on leaf copies: backward fills their .grad even where the caller passed non-leaves (x.double()), and
    # neither the caller's data nor its .grad is touched. Numbers and arrays pass through as constants.
    inputs = tuple(Tensor(t.detach(), requires_grad=t.requires_grad) if isinstance(t, Tensor) else t for t in inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 inputs "
                            f"(float32 rounding error ~1e-7/eps would swamp the estimate). Use tensor.double().")
    baseline = _evaluate(fn, inputs)
    analytical = _analytical_jacobian(fn, inputs, checked, baseline.size)
    for col, i in enumerate(checked):
        data = inputs[i]._array  # perturbed in place between evaluations (no graph: nothing to invalidate)
        for k, where in enumerate(np.ndindex(data.shape)):
            original = data[where]
            data[where] = original + eps
            f_plus = _evaluate(fn, inputs)
            data[where] = original - eps
            f_minus = _evaluate(fn, inputs)
            data[where] = original
            numerical = (f_plus - f_minus) / (2 * eps)
            for j in range(baseline.size):
                a, n = analytical[j][col][k], numerical[j]
                if not abs(a - n) <= atol + rtol * abs(n):
                    raise GradcheckError(
                        f"gradcheck: d(output element {j})/d(input {i}{list(where)}) disagrees: "
                        f"analytical {float(a)!r}, numerical {float(n)!r} "
                        f"(|diff| {abs(a - n):.3g} > atol {atol} + rtol {rtol} * |numerical|)")
    return True
