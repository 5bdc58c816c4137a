"""The fused kernels: each optimizer's element function, run by one loop over flat buffers, compiled by Numba.

Every optimizer file (``sgd.py``, ``adam.py``, ``rmsprop.py``, ...) declares an **element function**: its reference
step for element ``i`` of the flat buffers, line for line, so the two can be read side by side. It reads θ, g and the
state once, computes the new values in registers and writes them back, with no temporary arrays::

    @njit(cache=True, error_model="numpy")
    def element(i, theta, grad, state, c, variant):
        m, v = state            # the state arrays, in the optimizer's state order
        ...                     # the reference step's lines, on scalars
        theta[i] = theta_t      # every array written once

``c`` holds the per-step **coefficients**: a NamedTuple declared next to the element (``AdamCoefficients``), so a
kernel reads ``c.beta2`` and ``c.one_minus_beta2`` by name and swapping two cannot go unnoticed. ``variant`` says
which of the optimizer's *optional* state arrays (AMSGrad's v_max, SGD's momentum buffer, RMSprop's momentum
buffer and mean gradient) are in use, one bit each.

:class:`Kernel` turns an element function into its loops. One loop body, :func:`_loop`, compiled twice: serially,
and with ``parallel=True`` (``prange`` is a plain ``range`` unless Numba parallelises it), so serial and parallel
cannot drift apart. An element's update does not depend on any other element, so both give identical results.

Compiled with ``error_model="numpy"`` (a division by zero gives inf/nan instead of a checked Python error, which is
what lets the loop vectorise) and without fastmath, which would reorder operations and change results.

Equality with the reference is bit for bit, for three reasons:
- per-step scalars (1 − β₁, 1 − β₁ᵗ, 1 − lr·λ, ...) are computed in Python float64 and rounded to θ's dtype once
  (each optimizer's ``coefficients``), exactly what NumPy does with a Python float meeting a float32 array;
- every operation then runs in θ's dtype in the reference's order (Numba keeps float32 arithmetic float32);
- ``x + a·y`` lines that torch rounds once use the same LLVM ``fma`` on both sides (:mod:`tinyreg.optim.fma`).

Known slow case, left as is: when a weight's gradient is exactly zero for many steps, Adam's m and v decay into
float32 subnormals, which the CPU handles ~2.5x slower (torch does the same; flushing them to zero would change
results).

``parallel=True`` is opt-in: Numba's default OpenMP layer spin-waits next to multi-threaded BLAS and slowed whole
training steps ~7× in our measurements, so the first parallel call selects the ``workqueue`` threading layer unless
you chose one (``NUMBA_THREADING_LAYER``); buffers under 2^20 elements run the serial loop, where threads cost more
than they save.
"""

import types

import numba
import numpy as np
from numba import njit, prange

from tinyreg.optim.fma import fma_scalar as fma
from tinyreg.optim.reference import keep_factor

PARALLEL_MIN_SIZE = 1 << 20


def _loop(theta, grad, state, c, variant):
    # ``variant`` says which optional state arrays are in use (bit k: the k-th of ``optional_states``). Each variant
    # is its own loop, chosen outside the element loop, so the compiler sees a constant and drops the unused branches:
    # a branch left inside becomes masked vector stores (~40% slower on AMD Zen) or no vectorisation at all.
    if variant == 0:
        for i in prange(theta.size):
            element(i, theta, grad, state, c, 0)        # noqa: F821  (bound per optimizer by Kernel)
    elif variant == 1:
        for i in prange(theta.size):
            element(i, theta, grad, state, c, 1)        # noqa: F821
    elif variant == 2:
        for i in prange(theta.size):
            element(i, theta, grad, state, c, 2)        # noqa: F821
    else:
        for i in prange(theta.size):
            element(i, theta, grad, state, c, 3)        # noqa: F821


class Kernel:
    """The serial and parallel loops of one element function (see the module docstring).

    Numba caches compiled code on disk only for functions without closures, so instead of closing over ``element``
    each compilation of :func:`_loop` gets its own globals in which the name ``element`` is bound, and its own name
    (the cache's file name): ``adam_element_serial``, ``adam_element_parallel``.
    """

    def __init__(self, element):
        self.element = element
        self.serial = self._compile(element, parallel=False)
        self.parallel = self._compile(element, parallel=True)

    @staticmethod
    def _compile(element, parallel):
        name = f"{element.__name__}_{'parallel' if parallel else 'serial'}"
        loop = types.FunctionType(_loop.__code__, {**_loop.__globals__, "element": element}, name)
        loop.__qualname__ = name
        return njit(cache=True, error_model="numpy", parallel=parallel)(loop)

    def __call__(self, theta, grad, state, coefficients, variant, parallel=False):
        """Update ``theta`` and the ``state`` arrays in place; an unused optional array may be :data:`NO_BUFFER`.
        ``variant``: bit k set when the k-th optional state array is in use (at most two)."""
        if parallel and theta.size >= PARALLEL_MIN_SIZE:
            _select_threading_layer()
            self.parallel(theta, grad, state, coefficients, variant)
        else:
            self.serial(theta, grad, state, coefficients, variant)


# Stands in for a state buffer the step does not use. A fresh array, never a view of θ: the loop vectoriser checks
# at run time that the arrays do not overlap, and an empty view at θ's address fails that check (4x slower).
NO_BUFFER = {np.dtype(np.float32): np.empty(0, np.float32), np.dtype(np.float64): np.empty(0, np.float64)}


def _select_threading_layer():
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"


@njit(cache=True, error_model="numpy")
def gradient(grad, theta, c):
    """g_t for one element: −∇f with ``c.maximize``, then + λ·θ_{t−1} rounded once with coupled decay (``c.l2``):
    the reference's :func:`~tinyreg.optim.reference.gradient` and :func:`~tinyreg.optim.reference.coupled_decay`."""
    g_t = -grad if c.maximize else grad
    if c.l2:
        g_t = fma(c.lambda_, theta, g_t)                                # coupled: λθ joins g_t
    return g_t


def decay_coefficients(arguments, dtype):
    """The decay's share of every optimizer's coefficients: ``lambda_``, ``keep`` (θ's decoupled-decay factor,
    1 when coupled), ``maximize`` and ``l2`` (coupled decay on), each per-step scalar rounded to θ's dtype once."""
    decay, lambda_ = arguments["decay"], arguments["lambda_"]
    return dict(lambda_=dtype.type(lambda_),
                keep=dtype.type(keep_factor(decay, arguments["lr"], arguments["eta_t"], lambda_)),
                maximize=bool(arguments["maximize"]), l2=decay == "l2" and lambda_ != 0)
