"""Arithmetic ops + - * / ** neg: values and gradients against finite differences and torch, with broadcasting,
Python scalars and NumPy arrays on either side, dtype rules and shape errors."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import check_against_torch, check_op, import_torch, numpy_dtype
from tests.strategies import SEEDS, arrays, broadcastable_pair, positive_arrays, shapes

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]
OP_NAMES = {operator.add: "Add", operator.sub: "Sub", operator.mul: "Mul", operator.truediv: "Div"}


def operand(shape, op):
    """Values for either side of ``op``: kept away from 0 so a divisor is never near a pole."""
    return arrays(shape, away_from=[0.0], margin=0.5) if op is operator.truediv else arrays(shape)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@given(pair=broadcastable_pair(), seed=SEEDS, data=st.data())
def test_binary_op_with_broadcasting(op, pair, seed, data):
    a, b = data.draw(operand(pair[0], op)), data.draw(operand(pair[1], op))
    check_op(op, op, [a, b], seed)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@given(x=shapes().flatmap(lambda s: arrays(s, away_from=[0.0], margin=0.5)),
       scalar=st.sampled_from([2.5, -0.75, 3, -2]), scalar_first=st.booleans(), seed=SEEDS)
def test_python_scalar_on_either_side(op, x, scalar, scalar_first, seed):
    def fn(t):
        return op(scalar, t) if scalar_first else op(t, scalar)

    check_op(fn, fn, [x], seed)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@given(pair=broadcastable_pair(), array_first=st.booleans(), seed=SEEDS, data=st.data())
def test_numpy_array_on_either_side(op, pair, array_first, seed, data):
    # ndarray OP Tensor must reach Tensor.__rOP__ (not NumPy broadcasting over an object array). The array takes the
    # tensor's dtype here; mixed dtypes are tested below.
    torch = import_torch()
    const = data.draw(operand(pair[0], op))

    def apply(c, t):
        return op(c, t) if array_first else op(t, c)

    check_op(lambda t: apply(const.astype(t.dtype), t),
             lambda t: apply(torch.from_numpy(const).to(t.dtype), t), [data.draw(operand(pair[1], op))], seed)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@given(pair=broadcastable_pair(min_dims=1), seed=SEEDS, data=st.data())
def test_float32_with_float64_promotes_like_torch(op, pair, seed, data):
    # Both operands have dimensions here; a 0-d operand loses to a dimensioned one in torch (see PROMOTIONS below).
    a = data.draw(operand(pair[0], op).map(lambda v: v.astype(np.float32)))
    b = data.draw(operand(pair[1], op))
    check_against_torch(op, op, [a, b], None, seed)
    check_against_torch(op, op, [b, a], None, seed)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
def test_python_scalars_keep_float32(op):
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    for scalar in (2.0, 3, -0.5):
        for y in (op(x, scalar), op(scalar, x)):
            assert y.dtype == np.float32, (op, scalar)
            y.sum().backward()
            assert x.grad.dtype == np.float32


@pytest.mark.parametrize("form", ["operator", "method"])
@given(x=shapes().flatmap(lambda s: arrays(s, away_from=[0.0], margin=0.3)),
       exponent=st.sampled_from([2, 3, -1, -2, 0, 1, 2.0, 3.0]), seed=SEEDS)
def test_pow_integer_exponent_any_sign_of_base(form, x, exponent, seed):
    def fn(t):
        return t ** exponent if form == "operator" else t.pow(exponent)

    check_op(fn, fn, [x], seed)


@given(x=shapes().flatmap(positive_arrays), exponent=st.sampled_from([0.5, 1.5, -0.5, -2.5, 0.25]), seed=SEEDS)
def test_pow_fractional_exponent_positive_base(x, exponent, seed):
    check_op(lambda t: t ** exponent, lambda t: t ** exponent, [x], seed)


def test_pow_exponent_must_be_a_number():
    x = tr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="exponent must be a number.*Tensor"):
        x ** tr.tensor([2.0, 2.0])


@pytest.mark.parametrize("form", ["operator", "method"])
@given(x=shapes().flatmap(arrays), seed=SEEDS)
def test_neg(form, x, seed):
    def fn(t):
        return -t if form == "operator" else t.neg()

    check_op(fn, fn, [x], seed)


def test_operand_used_twice_gets_both_gradients():
    def fn(t):
        return t * t - t / (t * t + 1)

    check_op(fn, fn, [np.array([[0.5, -1.5], [2.0, 0.25]])], upstream_seed=1)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
def test_broadcast_mismatch_names_op_and_both_shapes(op):
    name = OP_NAMES[op]
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        op(tr.ones(2, 3), tr.ones(4))
    with pytest.raises(ValueError, match=rf"{name}.*\(3,\).*\(2, 1, 4\)"):
        op(np.ones(3), tr.ones(2, 1, 4))


# Operands whose dtype loses to a float tensor's in torch (NumPy scalars, 0-d tensors, integer tensors) but not under
# NumPy's rules: x_f32 * np.float64(0.1) must stay float32 (tensor.promote_like_torch).
PROMOTIONS = {
    "mul_numpy_float64_scalar": lambda lib: lib.ones(2) * np.float64(0.5),
    "mul_numpy_int64_scalar": lambda lib: lib.ones(2) * np.int64(2),
    "mul_zero_dim_float64_tensor": lambda lib: lib.ones(2) * lib.tensor(0.5, dtype=lib.float64),
    "mul_int64_tensor": lambda lib: lib.ones(2) * lib.tensor([1, 2]),
    "int64_tensor_times_python_float": lambda lib: lib.tensor([1, 2]) * 0.5,
    "pow_numpy_float64_exponent": lambda lib: lib.ones(2) ** np.float64(2.0),
    "clamp_numpy_float64_bound": lambda lib: lib.ones(2).clamp(np.float64(0.5)),
    "where_numpy_float64_scalar": lambda lib: lib.where(lib.ones(2) > 0, lib.ones(2), np.float64(0.0)),
    # ... and where both rules agree, the wider dtype must still win:
    "mul_float64_tensor": lambda lib: lib.ones(2) * lib.ones(2, dtype=lib.float64),
    "int64_tensor_times_zero_dim_float64": lambda lib: lib.tensor([1, 2]) * lib.tensor(0.5, dtype=lib.float64),
    "bool_tensor_plus_python_int": lambda lib: lib.tensor([True, False]) + 1,
    # integer inputs to ops with a real-valued result become torch's default float32 (NumPy: float64)
    "int64_tensor_true_division": lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 4]),
    "int64_tensor_divided_by_python_int": lambda lib: lib.tensor([1, 2]) / 2,
    "exp_of_int64_tensor": lambda lib: lib.tensor([1, 2]).exp(),
    "softmax_of_int64_tensor": lambda lib: lib.tensor([1, 2]).float().softmax(-1) * lib.tensor([1, 2]).sqrt(),
}


@pytest.mark.parametrize("case", PROMOTIONS)
def test_weak_operands_promote_like_torch(case):
    torch = import_torch()
    assert PROMOTIONS[case](tr).dtype == numpy_dtype(PROMOTIONS[case](torch).dtype)
