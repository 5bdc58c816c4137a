"""Elementwise ops exp log sqrt sin cos tanh sigmoid relu abs sign clamp maximum minimum where: values and gradients
against finite differences and torch, as functions and as methods; torch's subgradients at the kinks and ties;
sigmoid stable at large magnitude; where's dtype for two numbers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyreg as tr
from tests.helpers import FORMS, call, check_against_torch, check_op, import_torch
from tests.strategies import SEEDS, arrays, broadcastable_pair, positive_arrays, shapes

# Where each op is smooth: log and sqrt need x > 0, relu and abs are kept away from their kink at 0.
DOMAINS = {
    "exp": arrays,
    "log": positive_arrays,
    "sqrt": positive_arrays,
    "tanh": arrays,
    "sigmoid": lambda shape: arrays(shape, low=-8.0, high=8.0),
    "relu": lambda shape: arrays(shape, away_from=[0.0]),
    "abs": lambda shape: arrays(shape, away_from=[0.0]),
    "sin": arrays,
    "cos": arrays,
    "sign": lambda shape: arrays(shape, away_from=[0.0]),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", DOMAINS)
@given(data=st.data(), seed=SEEDS)
def test_unary_op(name, form, data, seed):
    torch = import_torch()
    x = data.draw(shapes().flatmap(DOMAINS[name]))
    check_op(lambda t: call(tr, form, name, t), lambda t: call(torch, form, name, t), [x], seed)


BOUNDS = [(-1.0, None), (None, 0.5), (-0.5, 1.0), (-2, 2)]


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), bounds=st.sampled_from(BOUNDS), seed=SEEDS)
def test_clamp(form, data, bounds, seed):
    torch = import_torch()
    lo, hi = bounds
    x = data.draw(shapes().flatmap(lambda s: arrays(s, away_from=[b for b in bounds if b is not None])))
    check_op(lambda t: call(tr, form, "clamp", t, min=lo, max=hi),
             lambda t: call(torch, form, "clamp", t, min=lo, max=hi), [x], seed)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min or max"):
        tr.tensor([1.0]).clamp()


KINKS = np.array([[-1.0, 0.0, 0.5], [0.0, 2.0, -0.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("expr", [
    lambda t: t.relu(),
    lambda t: t.abs(),
    lambda t: t.clamp(0.0, 0.5),  # both boundaries hit exactly
    lambda t: t.clamp(min=0.0),
    lambda t: t.clamp(max=0.5),
    lambda t: t.clamp(1.0, -1.0),  # min > max: every element becomes max, no gradient passes
], ids=["relu", "abs", "clamp_both", "clamp_min", "clamp_max", "clamp_crossed"])
def test_subgradients_at_kinks_match_torch(expr, dtype):
    check_against_torch(expr, expr, [KINKS], dtype, upstream_seed=3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_stable_at_large_magnitude(dtype):
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        check_against_torch(lambda t: t.sigmoid(), lambda t: t.sigmoid(), [x], dtype, upstream_seed=4)
    # Far in the negative tail sigma(x) ~ e^x must keep its relative precision, not round to 0 via 1 - sigma(-x).
    small = tr.sigmoid(tr.tensor([-30.0], dtype=tr.float64)).item()
    assert small == pytest.approx(np.exp(-30.0) / (1 + np.exp(-30.0)), rel=1e-14)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4), seed=SEEDS, data=st.data())
def test_where_with_broadcasting(shapes, seed, data):
    torch = import_torch()
    cond_shape, x_shape, y_shape = shapes.input_shapes
    condition = np.asarray(np.random.default_rng(seed).random(cond_shape) < 0.5)
    x, y = data.draw(arrays(x_shape)), data.draw(arrays(y_shape))
    check_op(lambda a, b: tr.where(condition, a, b),
             lambda a, b: torch.where(torch.from_numpy(condition), a, b), [x, y], seed)


def test_where_with_tensor_condition_and_python_scalar():
    torch = import_torch()
    x = np.array([[-1.5, 0.5], [2.0, -0.25]])
    check_op(lambda t: tr.where(t > 0, t, 0.0), lambda t: torch.where(t > 0, t, 0.0), [x], upstream_seed=5)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(pair=broadcastable_pair(), data=st.data(), seed=SEEDS)
def test_maximum_and_minimum(name, form, pair, data, seed):
    torch = import_torch()
    x = data.draw(arrays(pair[0], away_from=[0.0], margin=0.1))
    y = data.draw(arrays(pair[1], low=-0.05, high=0.05))  # |x| >= 0.1 > |y|: no ties, so differentiable
    check_op(lambda a, b: call(tr, form, name, a, b), lambda a, b: call(torch, form, name, a, b), [x, y], seed)


@pytest.mark.parametrize("name", ["maximum", "minimum", "max", "min"])
def test_elementwise_extremes_split_ties_like_torch(name):
    """torch halves the gradient between the two inputs where they are equal; tr.max(a, b) is maximum."""
    a, b = [1.0, 2.0, 2.0, -1.0], [1.0, 1.0, 3.0, -1.0]
    check_against_torch(lambda x, y: getattr(tr, name)(x, y), lambda x, y: getattr(import_torch(), name)(x, y),
                        [a, b], np.float64)
    check_against_torch(lambda x, y: getattr(tr, name)(input=x, other=y),
                        lambda x, y: getattr(import_torch(), name)(input=x, other=y), [a, b], np.float32)


def test_where_of_two_numbers_has_torchs_dtype():
    torch = import_torch()
    for values in [(1.0, 0.0), (1, 0), (1, 0.5), (True, False)]:
        ours = tr.where(tr.tensor([True, False]), *values)
        theirs = torch.where(torch.tensor([True, False]), *values)
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), values
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
