"""nn.utils.clip_grad_norm_ and clip_grad_value_: the same clipped gradients and returned norm as torch, in place."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import assert_close, import_torch
from tests.strategies import SEEDS


def parameters_with_gradients(lib, seed, scale, dtype):
    """Three parameters of different shapes whose .grad is a fixed random array (set by a backward pass)."""
    rng = np.random.default_rng(seed)
    params = []
    for shape in [(3, 2), (4,), ()]:
        p = lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        (p * lib.tensor(scale * rng.standard_normal(shape).astype(dtype))).sum().backward()
        params.append(p)
    return params


@given(seed=SEEDS, scale=st.sampled_from([1e-3, 1.0, 30.0]), max_norm=st.sampled_from([0.1, 1.0, 5.0]),
       norm_type=st.sampled_from([2.0, 1, 3.0, math.inf]), dtype=st.sampled_from([np.float64, np.float32]))
def test_clip_grad_norm_matches_torch(seed, scale, max_norm, norm_type, dtype):
    torch = import_torch()
    ours = parameters_with_gradients(tr, seed, scale, dtype)
    theirs = parameters_with_gradients(torch, seed, scale, dtype)
    arrays = [p.grad for p in ours]  # the same arrays must come out changed (in place)
    total = tr.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert_close(total, expected)
    assert total.dtype == np.dtype(dtype)
    for p, t, array in zip(ours, theirs, arrays):
        assert_close(p.grad, t.grad)
        assert np.shares_memory(np.asarray(p.grad), np.asarray(array))


@given(seed=SEEDS, clip=st.sampled_from([0.01, 0.5, 2.0]))
def test_clip_grad_value_matches_torch(seed, clip):
    torch = import_torch()
    ours = parameters_with_gradients(tr, seed, 1.0, np.float32)
    theirs = parameters_with_gradients(torch, seed, 1.0, np.float32)
    tr.nn.utils.clip_grad_value_(ours, clip)
    torch.nn.utils.clip_grad_value_(theirs, clip)
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad)


def test_clipping_a_model_skips_missing_gradients_and_reports_non_finite_norms():
    model = tr.nn.Linear(3, 2)
    assert tr.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item() == 0.0  # no gradient yet: nothing to clip
    model(tr.ones(1, 3)).sum().backward()
    model.bias.grad = None
    assert tr.nn.utils.clip_grad_norm_(model.weight, 1.0).item() == pytest.approx(math.sqrt(6), rel=1e-6)
    np.asarray(model.weight.grad)[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        tr.nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
