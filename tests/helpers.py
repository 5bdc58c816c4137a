"""One place for what every test needs: the torch oracle, closeness checks and data requirements.

Tests that need torch or Fashion-MNIST must *run* in CI: when the ``CI`` environment variable is set and the
dependency is missing they fail with a message saying what to install; elsewhere they skip.
"""

import os

import numpy as np
import pytest

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
    actual = np.asarray(getattr(actual, "data", actual))
    expected = np.asarray(expected.detach().numpy() if hasattr(expected, "detach") else expected)
    tol = TOLERANCES[np.dtype(dtype or actual.dtype)]
    np.testing.assert_allclose(actual, expected, rtol=tol["rtol"] if rtol is None else rtol,
                               atol=tol["atol"] if atol is None else atol, err_msg=what)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
