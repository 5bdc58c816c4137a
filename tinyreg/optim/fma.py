"""Fused multiply-add: ``fma(a, b, c) = a·b + c`` rounded **once** (IEEE 754 fusedMultiplyAdd).

Why the optimizers need it: torch's CPU kernel for ``x.add(y, alpha=a)`` — the op behind SGD's every line and
Adam's coupled decay ``grad.add(param, alpha=weight_decay)`` — compiles to an FMA instruction, so it rounds
``x + a·y`` once. Computing ``g + λ·θ`` in two roundings (product, then sum) differs from torch by one ulp on some
elements, and where ``g ≈ −λθ`` cancel that ulp is the whole result. Rounding once, like torch, removes the
difference at its source; it is also the more accurate answer.

Two spellings of the same LLVM ``llvm.fma`` instruction:

- :func:`fma_scalar` for Numba kernels (``@njit`` code calls it per element);
- :data:`fma`, a NumPy ufunc (float32 and float64 loops) for the NumPy reference steps. Python-float arguments are
  "weak" scalars, so ``fma(0.01, theta32, g32)`` runs the float32 loop with 0.01 rounded to float32 first — the
  same rounding torch applies to ``alpha``.
"""

from numba import njit, vectorize
from numba.core import types
from numba.extending import intrinsic


@intrinsic
def _llvm_fma(typingctx, a, b, c):
    """Emit LLVM's ``fma`` intrinsic for three floats of one type (a hardware FMA on x86-64 with FMA3)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@njit(cache=True, error_model="numpy")
def fma_scalar(a, b, c):
    """``a·b + c`` rounded once; ``a``, ``b``, ``c`` must share one float type (float32 or float64)."""
    return _llvm_fma(a, b, c)


@vectorize(["float32(float32, float32, float32)", "float64(float64, float64, float64)"], cache=True)
def fma(a, b, c):
    """``a·b + c`` rounded once, elementwise, with NumPy broadcasting and dtype rules."""
    return _llvm_fma(a, b, c)
