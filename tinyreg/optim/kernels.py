"""The fused kernels: the reference steps compiled by Numba into one pass over flat buffers.

Each ``_*_element`` function is its reference step (:mod:`tinyreg.optim.reference`) for one element, line for line,
so the two can be read side by side; per element it reads θ, g and the state once and returns their new values,
with no temporary arrays. The loops run it over a whole flat buffer — one call updates every parameter of a group.
The public functions update their arrays **in place** and take the reference step's keyword arguments.

Compiled with ``error_model="numpy"`` (a division by zero gives inf/nan instead of a checked Python error, which is
what lets the loop vectorise) and without fastmath, which would reorder operations and change results.

Equality with the reference is bit for bit, for three reasons:
- per-step scalars (1 − β₁, 1 − β₁ᵗ, 1 − lr·λ, ...) are computed in Python float64 and rounded to θ's dtype once,
  exactly what NumPy does with a Python float meeting a float32 array;
- every operation then runs in θ's dtype in the reference's order (Numba keeps float32 arithmetic float32);
- ``x + a·y`` lines that torch rounds once use the same LLVM ``fma`` on both sides (:mod:`tinyreg.optim.fma`).

Known slow case, left as is: when a weight's gradient is exactly zero for many steps, Adam's m and v decay into
float32 subnormals, which the CPU handles ~2.5x slower (torch does the same; flushing them to zero would change
results).

``parallel=True`` runs the same element function under ``prange`` (an element's update does not depend on any
other element, so the result is identical). It is opt-in: Numba's default OpenMP layer spin-waits next to
multi-threaded BLAS and slowed whole training steps ~7× in our measurements, so the first parallel call selects the
``workqueue`` threading layer unless you chose one (``NUMBA_THREADING_LAYER``); buffers under 2^20 elements run
the serial loop, where threads cost more than they save.
"""

import numba
import numpy as np
from numba import njit, prange

from tinyreg.optim.fma import fma_scalar as fma

PARALLEL_MIN_SIZE = 1 << 20


# ---- SGD (torch's form) -------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _sgd_element(theta, grad, b, has_momentum, lr, momentum, one_minus_dampening, lambda_, keep, maximize, l2, first,
                 nesterov):
    g_t = -grad if maximize else grad                                   # torch: maximize follows +∇f
    if l2:
        g_t = fma(lambda_, theta, g_t)                                  # Alg. 1 line 6: coupled, λθ joins g_t
    b_t = b
    if has_momentum:                                                    # μ ≠ 0 (judged before rounding μ, as torch)
        b_t = g_t if first else fma(one_minus_dampening, g_t, momentum * b)  # torch: b_t ← μ·b_{t−1} + (1 − τ)·g_t
        g_t = fma(momentum, b_t, g_t) if nesterov else b_t              # torch: Nesterov looks one step ahead
    theta = theta * keep                                                # decoupled decay (keep = 1 if coupled)
    theta_t = fma(-lr, g_t, theta)                                      # torch: θ_t ← θ_{t−1} − γ·g_t
    return theta_t, b_t


# The loops pick between "with" and "without" the optional state array outside the element loop, with a constant
# flag, so that the compiler drops the unused branch: a branch left inside becomes masked vector stores, which cost
# ~40% on AMD Zen. serial and parallel differ only in range/prange.
@njit(cache=True, error_model="numpy")
def _sgd_serial(theta, grad, b, coefficients):
    if b.size:                                                          # momentum: a buffer
        for i in range(theta.size):
            theta[i], b[i] = _sgd_element(theta[i], grad[i], b[i], True, *coefficients)
    else:                                                               # momentum 0: none (an empty array)
        for i in range(theta.size):
            theta[i], _ = _sgd_element(theta[i], grad[i], grad[i], False, *coefficients)


@njit(cache=True, error_model="numpy", parallel=True)
def _sgd_parallel(theta, grad, b, coefficients):
    if b.size:
        for i in prange(theta.size):
            theta[i], b[i] = _sgd_element(theta[i], grad[i], b[i], True, *coefficients)
    else:
        for i in prange(theta.size):
            theta[i], _ = _sgd_element(theta[i], grad[i], grad[i], False, *coefficients)


# ---- SGD with momentum as in Algorithm 1 (SGDW) -------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _sgdw_element(theta, grad, m, lr, beta1, lambda_, keep, maximize, l2):
    g_t = -grad if maximize else grad                                   # Alg. 1 line 5 (maximize: ascend)
    if l2:
        g_t = fma(lambda_, theta, g_t)                                  # Alg. 1 line 6: coupled, λθ joins g_t
    m_t = beta1 * m + lr * g_t                                          # Alg. 1 line 8, with η_t·α = lr_t
    theta = theta * keep                                                # Alg. 1 line 9's decay term (decoupled)
    theta_t = theta - m_t                                               # Alg. 1 line 9
    return theta_t, m_t


@njit(cache=True, error_model="numpy")
def _sgdw_serial(theta, grad, m, coefficients):
    for i in range(theta.size):
        theta[i], m[i] = _sgdw_element(theta[i], grad[i], m[i], *coefficients)


@njit(cache=True, error_model="numpy", parallel=True)
def _sgdw_parallel(theta, grad, m, coefficients):
    for i in prange(theta.size):
        theta[i], m[i] = _sgdw_element(theta[i], grad[i], m[i], *coefficients)


# ---- Adam / AdamW (Algorithm 2) -----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _adam_element(theta, grad, m, v, v_max, amsgrad, lr, beta1, one_minus_beta1, beta2, one_minus_beta2, eps,
                  lambda_, inv_bias1, inv_bias2, keep, maximize, l2):
    g_t = -grad if maximize else grad                                   # Alg. 2 line 5 (maximize: ascend)
    if l2:
        g_t = fma(lambda_, theta, g_t)                                  # Alg. 2 line 6: coupled, λθ joins g_t
    m_t = beta1 * m + one_minus_beta1 * g_t                             # Alg. 2 line 7
    v_t = beta2 * v + one_minus_beta2 * g_t * g_t                       # Alg. 2 line 8
    m_hat = m_t * inv_bias1                                             # Alg. 2 line 9 (inv_bias1 = 1/(1 − β₁ᵗ))
    v_max_t = np.maximum(v_max, v_t) if amsgrad else v_max              # AMSGrad: the largest v so far
    v_hat = (v_max_t if amsgrad else v_t) * inv_bias2                   # Alg. 2 line 10 (inv_bias2 = 1/(1 − β₂ᵗ))
    theta = theta * keep                                                # decoupled decay (keep = 1 if coupled)
    theta_t = theta - lr * m_hat / (np.sqrt(v_hat) + eps)               # Alg. 2 line 12, with η_t·α = lr_t
    return theta_t, m_t, v_t, v_max_t


@njit(cache=True, error_model="numpy")
def _adam_serial(theta, grad, m, v, v_max, coefficients):
    if v_max.size:                                                      # AMSGrad: one more state array
        for i in range(theta.size):
            theta[i], m[i], v[i], v_max[i] = _adam_element(theta[i], grad[i], m[i], v[i], v_max[i], True,
                                                           *coefficients)
    else:
        for i in range(theta.size):
            theta[i], m[i], v[i], _ = _adam_element(theta[i], grad[i], m[i], v[i], v[i], False, *coefficients)


@njit(cache=True, error_model="numpy", parallel=True)
def _adam_parallel(theta, grad, m, v, v_max, coefficients):
    if v_max.size:
        for i in prange(theta.size):
            theta[i], m[i], v[i], v_max[i] = _adam_element(theta[i], grad[i], m[i], v[i], v_max[i], True,
                                                           *coefficients)
    else:
        for i in prange(theta.size):
            theta[i], m[i], v[i], _ = _adam_element(theta[i], grad[i], m[i], v[i], v[i], False, *coefficients)


# ---- in-place entry points: the reference step's arguments, per-step scalars rounded to θ's dtype once --------------
# Stands in for a state buffer the step does not use. A fresh array, never a view of θ: the loop vectoriser checks
# at run time that the arrays do not overlap, and an empty view at θ's address fails that check (4x slower).
_NO_BUFFER = {np.dtype(np.float32): np.empty(0, np.float32), np.dtype(np.float64): np.empty(0, np.float64)}


def _keep(decay, lr, lambda_, eta_t):
    """θ's decoupled-decay factor: 1 − lr·λ ("decoupled"), 1 − η_t·λ ("paper"), 1 when the decay is coupled."""
    return {"decoupled": 1 - lr * lambda_, "paper": 1 - eta_t * lambda_}.get(decay, 1.0)


def _loop(serial, parallel_loop, parallel, size):
    if parallel and size >= PARALLEL_MIN_SIZE:
        _select_threading_layer()
        return parallel_loop
    return serial


def _select_threading_layer():
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"


def sgd(theta, grad, b, *, first, lr, momentum=0.0, dampening=0.0, nesterov=False, maximize=False, lambda_=0.0,
        decay="l2", eta_t=1.0, parallel=False):
    """:func:`~tinyreg.optim.reference.sgd_step` in place; ``first`` marks the step that sets b_1 = g_1.

    ``b`` is ignored (and may be None) when ``momentum == 0``.
    """
    dt = theta.dtype.type
    b = b if momentum != 0 else _NO_BUFFER[theta.dtype]
    coefficients = (dt(lr), dt(momentum), dt(1 - dampening), dt(lambda_), dt(_keep(decay, lr, lambda_, eta_t)),
                    maximize, decay == "l2" and lambda_ != 0, first, nesterov)
    _loop(_sgd_serial, _sgd_parallel, parallel, theta.size)(theta, grad, b, coefficients)


def sgdw(theta, grad, m, *, lr, beta1=0.0, maximize=False, lambda_=0.0, decay="paper", eta_t=1.0, parallel=False):
    """:func:`~tinyreg.optim.reference.sgdw_step` in place."""
    dt = theta.dtype.type
    coefficients = (dt(lr), dt(beta1), dt(lambda_), dt(_keep(decay, lr, lambda_, eta_t)), maximize,
                    decay == "l2" and lambda_ != 0)
    _loop(_sgdw_serial, _sgdw_parallel, parallel, theta.size)(theta, grad, m, coefficients)


def adam(theta, grad, m, v, v_max, *, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, lambda_=0.0, decay="l2", eta_t=1.0,
         amsgrad=False, maximize=False, parallel=False):
    """:func:`~tinyreg.optim.reference.adam_step` in place; ``v_max`` may be None without AMSGrad."""
    dt = theta.dtype.type
    v_max = v_max if amsgrad else _NO_BUFFER[theta.dtype]
    coefficients = (dt(lr), dt(beta1), dt(1 - beta1), dt(beta2), dt(1 - beta2), dt(eps), dt(lambda_),
                    dt(1 / (1 - beta1 ** t)), dt(1 / (1 - beta2 ** t)), dt(_keep(decay, lr, lambda_, eta_t)), maximize,
                    decay == "l2" and lambda_ != 0)
    _loop(_adam_serial, _adam_parallel, parallel, theta.size)(theta, grad, m, v, v_max, coefficients)
