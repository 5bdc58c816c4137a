"""Two backends, one semantics: run a step in place with the fused Numba kernel or the NumPy reference step.

``"numba"`` (the default) runs the optimizer's element kernel (:mod:`tinyreg.optim.kernels`): one pass, no
temporaries. ``"numpy"`` calls the optimizer's reference step itself on the flat buffers and copies its results back:
slower, but it is the code you read and step through. Both are tested bit-identical. Choose per optimizer
(``Adam(..., backend="numpy")``) or for every optimizer created afterwards with :func:`set_default_backend`.
"""

from tinyreg.optim import kernels

BACKENDS = ("numba", "numpy")
_default = "numba"

# The NumPy backend runs the reference step on chunks of this many elements: its temporaries (one array per line)
# then stay in the L2 cache, ~3x faster than one pass over a large buffer. Every line is elementwise, so chunking
# changes no result.
CHUNK = 1 << 15


def set_default_backend(name: str) -> None:
    """Make ``name`` ("numba" or "numpy") the backend of optimizers created without ``backend=``."""
    global _default
    _default = check_backend(name)


def get_default_backend() -> str:
    return _default


def check_backend(name):
    if name not in BACKENDS:
        raise ValueError(f"Invalid backend: {name!r} (choose one of {', '.join(map(repr, BACKENDS))})")
    return name


def run(optimizer, theta, grad, state, arguments, coefficients=None):
    """One step of ``optimizer``'s declared math on flat arrays, in place, with its backend.

    ``state``: the optimizer's state arrays in its ``state_keys`` order, None for one the group does not use;
    ``arguments``: the reference step's keywords (``optimizer.step_arguments``); ``coefficients``: the kernel's
    NamedTuple (computed from ``arguments`` when not given).
    """
    if optimizer.backend == "numba":
        coefficients = coefficients or optimizer.coefficients(arguments, theta.dtype)
        # (list comprehensions, not generators: this runs every step, and a generator costs a frame per item)
        buffers = tuple([kernels.NO_BUFFER[theta.dtype] if s is None else s for s in state])
        variant = sum([1 << k for k, name in enumerate(optimizer.optional_states)
                       if state[optimizer.state_keys.index(name)] is not None])
        optimizer.kernel(theta, grad, buffers, coefficients, variant, optimizer.parallel)
        return
    for s in _chunks(theta.size):
        theta[s], *new = optimizer.reference_step(theta[s], grad[s], *(None if x is None else x[s] for x in state),
                                                  **arguments)
        for x, x_t in zip(state, new):
            if x is not None:
                x[s] = x_t


def _chunks(size):
    return (slice(lo, lo + CHUNK) for lo in range(0, size, CHUNK))
