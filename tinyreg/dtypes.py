"""torch's names for dtypes, so ``x.type(torch.float)`` and ``torch.zeros(3, dtype=torch.long)`` port unchanged.

A tinyreg dtype is a ``numpy.dtype``. The names, and what they are:

    float, float32 -> float32      double, float64 -> float64      half, float16 -> float16
    long, int64 -> int64           int, int32 -> int32             short, int16 -> int16
    int8, uint8                    bool -> bool
"""

import numpy as np

from tinyreg.tensor import bool_, float32, float64, int32, int64

float16 = np.dtype(np.float16)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
bool = bool_

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]
