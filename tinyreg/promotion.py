"""torch's type promotion: the dtype of an op's result from its operands' dtypes, and the conversions it implies.

NumPy and torch agree within a category (float32 with float64 is float64) but not across them, nor on scalars:

    float32 tensor * np.float64(0.1)     torch: float32     NumPy: float64
    int64 tensor * 0.5                   torch: float32     NumPy: float64
    float32 tensor * 0-d float64 tensor  torch: float32     NumPy: float64

:func:`result_type` is torch's rule; :func:`promote_like_torch` converts an op's operands to it (``Function.apply``
calls it for every op that combines operands), and :func:`promote_with_numbers` does it for number parameters.
"""

import numpy as np

float32 = np.dtype(np.float32)
bool_ = np.dtype(np.bool_)
int64 = np.dtype(np.int64)

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < floating < complex
_SCALAR_DEFAULT = {0: bool_, 1: int64, 2: float32, 3: np.dtype(np.complex64)}
_PYTHON_REALS = (bool, int, float)  # exact types: np.float64 subclasses float but is not weak to NumPy


def _is_python_number(a) -> bool:
    # np.float64 subclasses float; NumPy treats it as a typed scalar, so converting it is up to promote_like_torch.
    return isinstance(a, (bool, int, float, complex)) and not isinstance(a, np.generic)


def _is_scalar(a) -> bool:
    """A Python or NumPy number: torch treats both as "weak" (``np.float64(0.5)`` acts like ``0.5``)."""
    return _is_python_number(a) or isinstance(a, np.generic)


def scalar_dtype(value) -> np.dtype:
    """The dtype torch gives a number standing alone: bool, int64, float32 (its default float) or complex64.

    ``np.bool_`` counts as a float, as in torch, whose argument parser reads every NumPy scalar that is not an
    integer as a double (``torch.tensor([1, 2]) + np.bool_(True)`` is float32).
    """
    if isinstance(value, np.bool_):
        return float32
    return _SCALAR_DEFAULT[_CATEGORY[np.asarray(value).dtype.kind]]


def _promote_types(a, b):
    """``torch.promote_types``: NumPy's rule within a category, the higher category's dtype across categories.

    NumPy widens int64 with float32 to float64; torch keeps float32 (an integer never widens a float).
    """
    if a is None or b is None:
        return b if a is None else a
    if _CATEGORY[a.kind] != _CATEGORY[b.kind] and min(_CATEGORY[a.kind], _CATEGORY[b.kind]) <= 1:
        return a if _CATEGORY[a.kind] > _CATEGORY[b.kind] else b
    return np.promote_types(a, b)


def _weaker_only_raises_category(stronger, weaker):
    """Combine a stronger group's dtype with a weaker group's: the weaker one counts only if its category is higher.

    A float tensor with a complex scalar becomes complex of the tensor's precision, as in torch.
    """
    if weaker is None or (stronger is not None and _CATEGORY[weaker.kind] <= _CATEGORY[stronger.kind]):
        return stronger
    if stronger is not None and stronger.kind == "f":
        return np.result_type(stronger, np.complex64)
    return weaker


def result_type(operands: list) -> np.dtype:
    """The dtype torch gives an op on ``operands`` (tensors, arrays, Python and NumPy numbers).

    Operands fall into three groups of decreasing strength: tensors with dimensions, 0-d tensors, and numbers
    (Python or NumPy, each counted as bool, int64, float32 or complex64). Each group promotes within itself; a weaker
    group changes the result only when its category (bool < int < float < complex) is higher:

        float32 tensor * float64 tensor          -> float64
        float32 tensor * 0-d float64 tensor      -> float32   (NumPy: float64)
        0-d float32 tensor * np.float64(0.1)     -> float32   (NumPy: float64)
        int64 tensor * np.float64(0.5)           -> float32, torch's default float (NumPy: float64)
        int32 tensor + 0-d int64 tensor          -> int32
        int64 tensor * 0-d float64 tensor        -> float64
    """
    groups = [None, None, None]  # dimensioned, 0-d, numbers
    for a in operands:
        if _is_scalar(a):
            group, dtype = 2, scalar_dtype(a)
        else:
            a = np.asarray(a)
            group, dtype = (0 if a.ndim > 0 else 1), a.dtype
        groups[group] = _promote_types(groups[group], dtype)
    dimensioned, zero_dim, numbers = groups
    return _weaker_only_raises_category(dimensioned, _weaker_only_raises_category(zero_dim, numbers))


def nothing_to_promote(operands: list) -> bool:
    """The common case, decided without :func:`result_type` (which costs 1-3 µs per op): arrays of one floating dtype
    and Python bools, ints and floats, which never promote a float."""
    dtype = None
    for a in operands:
        if type(a) is np.ndarray:
            dtype = a.dtype if dtype is None else dtype
            if a.dtype != dtype or dtype.kind != "f":
                return False
        elif type(a) not in _PYTHON_REALS:
            return False
    return dtype is not None


def promote_like_torch(operands: list, floating: bool = False) -> list:
    """Convert array operands to :func:`result_type` (to float32 if ``floating`` and it is integral or bool).

    Python numbers stay Python numbers, which NumPy treats as weak too; NumPy numbers become 0-d arrays of the
    result dtype. Without this, ``loss + lam * penalty`` with ``lam`` from ``np.logspace`` would silently turn a
    float32 model into float64.
    """
    if nothing_to_promote(operands):
        return operands
    dtype = result_type(operands)
    if floating and dtype.kind in "biu":
        dtype = float32
    return [a if _is_python_number(a) or (isinstance(a, np.ndarray) and a.dtype == dtype)
            else np.asarray(a, dtype=dtype) for a in operands]


def promote_with_numbers(x: np.ndarray, *numbers) -> np.ndarray:
    """``x`` converted to the dtype torch gives an op on ``x`` and number parameters (pow's exponent, clamp's bounds;
    None = absent), e.g. int64 with 0.5 -> float32. A real number never widens a float, so only bool and integer ``x``
    can change."""
    x = np.asarray(x)   # a plain number works as it does for every other op (tr.exp(2))
    if x.dtype.kind not in "biu":
        return x
    return x.astype(result_type([x, *(n for n in numbers if n is not None)]), copy=False)
