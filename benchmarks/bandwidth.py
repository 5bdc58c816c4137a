"""Byte models of the updates, and the memory-bandwidth ceiling measured with the same bytes.

Byte model (float32, 4 B a value). An elementwise update has to move each array it reads and each it writes once;
nothing faster is possible when the arrays do not fit in cache. θ and each state array are read and written, g is
read, so with k state arrays (from the optimizer's declaration) it moves (2·(1 + k) + 1) × 4 B per element:

    SGD-momentum, RMSprop, Adagrad, Lion   reads θ, g, one state   writes θ, the state   5 × 4 B = 20 B/element
    Adam, AdamW, NAdam, RAdam              reads θ, g, m, v        writes θ, m, v        7 × 4 B = 28 B/element

Effective bandwidth = bytes/element × elements / step time. It counts only these compulsory bytes: a NumPy step that
makes temporaries moves more bytes than it is credited with, which is exactly the inefficiency the number exposes.

The ceiling. STREAM's triad (a = b + s·c) writes an array it never read, so its byte count leaves out the
write-allocate read of ``a`` that the CPU performs anyway; an in-place update has no such hidden traffic, so on this
machine a triad reports far less (~28 GB/s on one core) than an in-place update can reach (~45 GB/s). The ceiling
here is therefore one fused in-place pass with the update's exact access pattern and no arithmetic to speak of: per
element it loads θ, g and each state array once, then stores θ and each state array once (``x ← x + c·g`` for every
read-write array x), over flat buffers of the update's size, timed in the same rounds as the updates.

Loads first, then stores, as in the update kernels: an earlier version wrote ``x[i] += c·g[i]`` once per state
array, and the compiled loop then re-read g after every store (the compiler cannot prove the store left g alone) and
put each store between loads at the same offset within a 4 KiB page (every buffer starts at the same page offset),
which CPUs that match loads to pending stores by the low 12 address bits may stall on. The update kernels do
neither, and in the committed results they ran up to 8 % faster than that "ceiling" (see README.md, "% ceil.").
"""

import numba
import numpy as np

from guard import state_names

FLOAT32_BYTES = 4


def read_write_arrays(optimizer: str) -> int:
    """Arrays each element reads and writes back: θ and the state arrays the benchmark's settings use (g is only
    read). From the optimizer's declaration, so a new optimizer needs no entry here."""
    return 1 + len(state_names(optimizer))


def bytes_per_element(optimizer: str) -> int:
    """The byte model: each read-write array counts twice (read, write), the gradient once."""
    return FLOAT32_BYTES * (2 * read_write_arrays(optimizer) + 1)


def gb_per_s(optimizer: str, elements: int, seconds: float) -> float:
    """Effective bandwidth in GB/s (10⁹ bytes per second) under the byte model."""
    return bytes_per_element(optimizer) * elements / seconds / 1e9


def _rmw2(x, y, g, c):
    """SGD-momentum's traffic in one pass: per element read x (θ), y (b) and g once, then write x and y once."""
    for i in numba.prange(x.size):
        x_i, y_i, g_i = x[i], y[i], g[i]
        x[i], y[i] = x_i + c * g_i, y_i + c * g_i


def _rmw3(x, y, z, g, c):
    """Adam's traffic in one pass: per element read x (θ), y (m), z (v) and g once, then write x, y and z once."""
    for i in numba.prange(x.size):
        x_i, y_i, z_i, g_i = x[i], y[i], z[i], g[i]
        x[i], y[i], z[i] = x_i + c * g_i, y_i + c * g_i, z_i + c * g_i


# One body, two compilations: ``prange`` is a plain ``range`` unless ``parallel=True``.
_SERIAL = {2: numba.njit(_rmw2), 3: numba.njit(_rmw3)}
_PARALLEL = {2: numba.njit(parallel=True)(_rmw2), 3: numba.njit(parallel=True)(_rmw3)}

# Small enough that values barely move over thousands of calls, large enough not to be a denormal.
_C = np.float32(1e-8)


def threading_layer() -> str | None:
    """The Numba threading layer the parallel kernels ran on (None before any parallel kernel ran)."""
    try:
        return numba.threading_layer()
    except ValueError:
        return None


def ceiling_steps(optimizer: str, elements: int, threads: int, rng: np.random.Generator) -> dict:
    """Functions streaming one step's worth of bytes in place over fresh flat float32 buffers of ``elements``.

    ``{"serial": fn}`` for one thread; with more, also ``"parallel"``: the ``prange`` kernel on Numba's pool (sized by
    ``numba.set_num_threads``). The ceiling is the faster of the two, because on a small in-cache workload waking the
    threads costs more than they save, and a bound that a serial kernel beats would not be a bound.
    """
    n_state = read_write_arrays(optimizer)
    state = [rng.standard_normal(elements, dtype=np.float32) for _ in range(n_state)]
    g = rng.standard_normal(elements, dtype=np.float32)
    kernels = {"serial": _SERIAL[n_state]} if threads == 1 else {"serial": _SERIAL[n_state],
                                                                 "parallel": _PARALLEL[n_state]}
    return {name: (lambda kernel=kernel: kernel(*state, g, _C)) for name, kernel in kernels.items()}
