"""A tensor's text form, written by torch's rules: ``tensor([1.5000, 2.2500], grad_fn=<MulBackward0>)``.

Every element of one tensor is written in the same mode and right-aligned to the same width, so columns line up.
For floating tensors the mode is chosen from the nonzero finite elements (nan, inf and 0 never decide it):

- integer mode when all of them are whole numbers: ``tensor([1., 2.])`` (a point marks the floating dtype);
- scientific, 4 decimals, when max|x| / min|x| > 1000, max|x| > 1e8 or min|x| < 1e-4: ``tensor([3.7835e-44])``
  (whole numbers included: ``tensor([1.0000e+00, 1.0000e+09])``);
- otherwise fixed, 4 decimals: ``tensor([1.5000, 2.2500])``.

A row is wrapped to 80 columns. Above 1000 elements only the first and last 3 entries of every axis are shown,
around ``...``, and the mode is chosen from those, as torch does. Suffixes: ``dtype=tinyreg.float64`` for a dtype
other than float32, int64 and bool, then ``grad_fn=<OpBackward0>`` or ``requires_grad=True``. The grad_fn name is
tinyreg's op class (``Mul`` -> ``MulBackward0``); it equals torch's where the op names agree (Add, Sub, Mul, Div, Pow,
Neg, Exp, Sum, Mean, Softmax, ...).
"""

import numpy as np

PRECISION = 4
THRESHOLD = 1000  # more elements than this are summarized
EDGE_ITEMS = 3  # entries shown at each end of a summarized axis
LINE_WIDTH = 80
DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_), np.dtype(np.complex64))


class ElementFormat:
    """The mode and the common width for the elements ``shown`` (the ones that will be printed)."""

    def __init__(self, shown: np.ndarray):
        self.floating = shown.dtype.kind == "f"
        self.integer_mode, self.scientific = True, False
        if not self.floating:
            self.width = max((len(str(v)) for v in shown.ravel().tolist()), default=1)
            return
        values = shown[np.isfinite(shown) & (shown != 0)].astype(np.float64)
        self.width = 1
        if values.size == 0:
            return
        magnitude = np.abs(values)
        lo, hi = magnitude.min(), magnitude.max()
        self.integer_mode = bool(np.all(values == np.ceil(values)))
        self.scientific = bool(hi / lo > 1000 or hi > 1e8 or lo < 1e-4)
        # The width counts only these values: a nan, inf or 0 wider than them is not padded for.
        extra = 1 if self.integer_mode and not self.scientific else 0  # the point after a whole number
        self.width = max(len(self._plain(v)) + extra for v in values.tolist())

    def _plain(self, v: float) -> str:
        if self.scientific:
            return f"{v:.{PRECISION}e}"
        if self.integer_mode:
            return f"{v:.0f}"
        return f"{v:.{PRECISION}f}"

    def __call__(self, v) -> str:
        if not self.floating:
            text = str(v)
        else:
            text = self._plain(v)
            if self.integer_mode and not self.scientific and np.isfinite(v):
                text += "."
        return text.rjust(self.width)


def _shown(data: np.ndarray, summarize: bool) -> np.ndarray:
    """The elements that will be printed: all, or the first and last EDGE_ITEMS along every long axis."""
    if summarize:
        for axis, n in enumerate(data.shape):
            if n > 2 * EDGE_ITEMS:
                data = np.take(data, [*range(EDGE_ITEMS), *range(n - EDGE_ITEMS, n)], axis=axis)
    return data


def _rows(n: int, summarize: bool) -> list:
    """Indices printed along an axis of length n; None stands for the ``...`` gap."""
    if summarize and n > 2 * EDGE_ITEMS:
        return [*range(EDGE_ITEMS), None, *range(n - EDGE_ITEMS, n)]
    return list(range(n))


def _nested(data: np.ndarray, fmt: ElementFormat, indent: int, summarize: bool) -> str:
    """Brackets within brackets; ``indent`` is the column the opening bracket of ``data`` stands in."""
    if data.ndim == 0:
        return fmt(data.item())
    rows = _rows(data.shape[0], summarize)
    if data.ndim == 1:
        items = [" ..." if i is None else fmt(data[i].item()) for i in rows]
        per_line = max(1, (LINE_WIDTH - indent) // (fmt.width + 2))  # ", " follows each element
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = ["..." if i is None else _nested(data[i], fmt, indent + 1, summarize) for i in rows]
    # Blocks of a 3-D tensor are separated by a blank line, of a 4-D one by two, ...
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Append ``, suffix`` for each, moving a suffix to its own line when the last line would pass LINE_WIDTH."""
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > LINE_WIDTH:
            text += ",\n" + " " * indent + suffix
            last_line = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"


def tensor_repr(data: np.ndarray, grad_fn_name=None, requires_grad=False) -> str:
    prefix = "tensor("
    suffixes = []
    if data.size == 0:
        body = "[]"
        if data.ndim != 1:
            suffixes.append(f"size={data.shape}")
        if data.dtype != np.float32:  # an empty int64 tensor cannot show its dtype through its elements
            suffixes.append(f"dtype=tinyreg.{data.dtype.name}")
    else:
        if data.dtype not in DEFAULT_DTYPES:
            suffixes.append(f"dtype=tinyreg.{data.dtype.name}")
        summarize = data.size > THRESHOLD
        body = _nested(data, ElementFormat(_shown(data, summarize)), len(prefix), summarize)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, len(prefix))
