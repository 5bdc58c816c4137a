"""One place for what every test needs: the torch oracle, closeness checks and data requirements.

Tests that need torch or Fashion-MNIST must *run* in CI: when the ``CI`` environment variable is set and the
dependency is missing they fail with a message saying what to install; elsewhere they skip.
"""

import os

import numpy as np
import pytest

import tinyreg as tr

IN_CI = bool(os.environ.get("CI"))


def require(missing_message: str):
    """Fail (in CI) or skip (elsewhere) because something a test needs is missing."""
    if IN_CI:
        pytest.fail(f"{missing_message} (CI is set, so this test must run, not skip)")
    pytest.skip(missing_message)


def import_torch():
    """The torch module, the test oracle (torch==2.13.0, CPU build)."""
    try:
        import torch
    except ImportError:
        require("torch is not installed: pip install torch==2.13.0")
    return torch


# Tolerances per dtype for comparing two *different* computations of the same math (tinyreg vs torch, or vs a
# hand-written NumPy formula). float64 rounding differences stay ~1e-15 relative per op, so 1e-10 leaves room for
# long graphs; float32 carries ~6e-8 relative per op and reductions add a few ulps per term, hence 1e-4.
TOLERANCES = {np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12), np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5)}


def assert_close(actual, expected, dtype=None, rtol=None, atol=None, what=""):
    """assert_allclose with tolerances chosen by dtype (float64 tight, float32 loose) unless given."""
    actual = np.asarray(actual.detach() if hasattr(actual, "detach") else actual)
    expected = np.asarray(expected.detach().numpy() if hasattr(expected, "detach") else expected)
    tol = TOLERANCES[np.dtype(dtype or actual.dtype)]
    np.testing.assert_allclose(actual, expected, rtol=tol["rtol"] if rtol is None else rtol,
                               atol=tol["atol"] if atol is None else atol, err_msg=what)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"


def numpy_dtype(torch_dtype) -> np.dtype:
    """torch.float32 -> numpy float32 (the names agree for every dtype tinyreg uses)."""
    return np.dtype(str(torch_dtype).removeprefix("torch."))


def check_against_torch(fn_tr, fn_torch, arrays, dtype=None, upstream_seed=0):
    """Run one expression in tinyreg and in torch and compare the output and the gradient of every input.

    Each array in ``arrays`` (cast to ``dtype``, or kept as it is when ``dtype`` is None) becomes a leaf that requires
    grad in both frameworks; ``fn_tr`` and ``fn_torch`` receive them positionally. Backward is seeded with the same
    random dL/d(output) in both, so every Jacobian entry counts, not only column sums as with ``.sum()``. Dtypes and
    shapes must agree exactly; values within TOLERANCES of the least precise input dtype.
    """
    torch = import_torch()
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    tol_dtype = min((a.dtype for a in arrays), key=lambda d: d.itemsize)
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn_tr(*xs), fn_torch(*ts)
    assert out.dtype == numpy_dtype(expected.dtype), f"output dtype {out.dtype}, torch gives {expected.dtype}"
    assert_close(out, expected, tol_dtype, what="output")
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert (x.grad is None) == (t.grad is None), f"input {i}: grad {x.grad}, torch grad {t.grad}"
        if t.grad is not None:
            assert x.grad.dtype == numpy_dtype(t.grad.dtype), f"input {i}: grad dtype {x.grad.dtype} != {t.grad.dtype}"
            assert_close(x.grad, t.grad, tol_dtype, what=f"grad of input {i}")


def check_op(fn_tr, fn_torch, arrays, upstream_seed=0):
    """The contract of every differentiable op at the point ``arrays``.

    Its gradients agree with central finite differences in float64 (``tr.gradcheck``, the whole Jacobian), and its
    output and gradients agree with torch in float64 (tight) and float32 (loose, and float32 must stay float32).
    """
    inputs = [tr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert tr.gradcheck(fn_tr, inputs)
    for dtype in (np.float64, np.float32):
        check_against_torch(fn_tr, fn_torch, arrays, dtype, upstream_seed)


FORMS = ("function", "method")


def call(lib, form, name, x, *args, **kwargs):
    """``lib.name(x, ...)`` for form "function", ``x.name(...)`` for "method" (ops with both are tested in both)."""
    return getattr(lib, name)(x, *args, **kwargs) if form == "function" else getattr(x, name)(*args, **kwargs)
