"""softmax and log_softmax: values and gradients against finite differences and torch along any axis, as functions
and methods, with the axis given positionally or as dim=; stable for inputs of magnitude 1000 and more."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import FORMS, call, check_against_torch, check_op, import_torch
from tests.strategies import SEEDS, arrays, shapes

NAMES = ["softmax", "log_softmax"]


@st.composite
def softmax_cases(draw):
    """An input with at least one axis, an axis (possibly negative), and whether it is passed as dim=."""
    shape = draw(shapes(min_dims=1))
    return draw(arrays(shape)), draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())


def axis_args(axis, as_keyword):
    return ((), dict(dim=axis)) if as_keyword else ((axis,), {})


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", NAMES)
@given(case=softmax_cases(), seed=SEEDS)
def test_softmax(name, form, case, seed):
    torch = import_torch()
    x, axis, as_keyword = case
    args, kwargs = axis_args(axis, as_keyword)
    check_op(lambda t: call(tr, form, name, t, *args, **kwargs), lambda t: call(torch, form, name, t, axis),
             [x], seed)


# Shifting by 1000 overflows a naive e^x (e^1000 = inf); scaling by 300 saturates softmax to nearly one-hot.
@pytest.mark.parametrize("name", NAMES)
@given(case=softmax_cases(), transform=st.sampled_from([(1.0, 1000.0), (1.0, -1000.0), (300.0, 0.0), (1.0, 1e5)]),
       seed=SEEDS)
def test_softmax_is_stable_at_large_magnitude(name, case, transform, seed):
    torch = import_torch()
    x, axis, _ = case
    scale, offset = transform
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        check_op(lambda t: getattr(tr, name)(t * scale + offset, axis),
                 lambda t: getattr(torch, name)(t * scale + offset, axis), [x], seed)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_softmax_of_the_issue_example(name, dtype):
    torch = import_torch()
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.5, 0.0]])
    check_against_torch(lambda t: getattr(tr, name)(t, dim=1), lambda t: getattr(torch, name)(t, dim=1), [x],
                        dtype, upstream_seed=9)


def test_softmax_rows_sum_to_one():
    x = tr.tensor(np.array([[[3.0, -1.0], [0.5, 0.5]], [[10.0, 9.0], [-2.0, 4.0]]]))
    np.testing.assert_allclose(np.asarray(x.softmax(-1)).sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(np.asarray(tr.log_softmax(x, -1))), np.asarray(tr.softmax(x, -1)), rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
def test_softmax_without_dim_picks_torchs_implicit_dim_and_warns(name, ndim):
    """torch: dim 0 for 0-, 1- and 3-D input, else dim 1, with a UserWarning (tinyreg once took the last axis)."""
    torch = import_torch()
    x = np.random.default_rng(ndim).standard_normal((2, 3, 4, 5)[:ndim])
    with pytest.warns(UserWarning, match="Implicit dimension choice") as ours:
        result = getattr(tr.nn.functional, name)(tr.tensor(x))
    with pytest.warns(UserWarning, match="Implicit dimension choice") as theirs:
        expected = getattr(torch.nn.functional, name)(torch.tensor(x))
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # the warning points at the caller's line
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-12)
