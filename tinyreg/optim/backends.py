"""Two backends, one semantics: run a step in place with the fused Numba kernel or the NumPy reference step.

``"numba"`` (the default) calls :mod:`tinyreg.optim.kernels`: one pass, no temporaries. ``"numpy"`` calls the
reference step itself (:mod:`tinyreg.optim.reference`) on the flat buffers and copies its results back: slower,
but it is the code you read and step through. Both are tested bit-identical. Choose per optimizer
(``Adam(..., backend="numpy")``) or for every optimizer created afterwards with :func:`set_default_backend`.
"""

from tinyreg.optim import kernels, reference

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


def sgd(backend, parallel, theta, grad, b, *, first, **hyper):
    """torch's SGD on flat arrays, in place (``b`` unused and possibly None when momentum is 0)."""
    if backend == "numba":
        kernels.sgd(theta, grad, b, first=first, parallel=parallel, **hyper)
        return
    for s in _chunks(theta.size):
        theta_t, b_t = reference.sgd_step(theta[s], grad[s], None if first or b is None else b[s], **hyper)
        theta[s] = theta_t
        if b_t is not None:
            b[s] = b_t


def sgdw(backend, parallel, theta, grad, m, **hyper):
    """Algorithm 1 (SGDW) on flat arrays, in place."""
    if backend == "numba":
        kernels.sgdw(theta, grad, m, parallel=parallel, **hyper)
        return
    for s in _chunks(theta.size):
        theta[s], m[s] = reference.sgdw_step(theta[s], grad[s], m[s], **hyper)


def adam(backend, parallel, theta, grad, m, v, v_max, **hyper):
    """Algorithm 2 (Adam/AdamW) on flat arrays, in place (``v_max`` None without AMSGrad)."""
    if backend == "numba":
        kernels.adam(theta, grad, m, v, v_max, parallel=parallel, **hyper)
        return
    for s in _chunks(theta.size):
        theta_t, m_t, v_t, v_max_t = reference.adam_step(theta[s], grad[s], m[s], v[s],
                                                         None if v_max is None else v_max[s], **hyper)
        theta[s], m[s], v[s] = theta_t, m_t, v_t
        if v_max_t is not None:
            v_max[s] = v_max_t


def _chunks(size):
    return (slice(lo, lo + CHUNK) for lo in range(0, size, CHUNK))
