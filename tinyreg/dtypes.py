"""torch's names for dtypes, so ``x.type(torch.float)`` and ``torch.zeros(3, dtype=torch.long)`` port unchanged.

A tinyreg dtype is a ``numpy.dtype``; these are aliases of the ones in :mod:`tinyreg.tensor`:

    float, float32 -> float32      double, float64 -> float64      half, float16 -> float16
    long, int64 -> int64           int, int32 -> int32             short, int16 -> int16
    int8, uint8                    bool -> bool
"""

from tinyreg.tensor import bool_, float16, float32, float64, int8, int16, int32, int64, uint8

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
bool = bool_

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]
