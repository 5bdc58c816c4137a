"""Arithmetic ops + - * / ** neg: values and gradients against finite differences and torch, with broadcasting,
Python scalars and NumPy arrays on either side, dtype rules and shape errors."""

import itertools
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import FORMS, call, check_against_torch, check_op, import_torch, numpy_dtype
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


@pytest.mark.parametrize("form", ["operator", *FORMS])
@given(x=shapes().flatmap(lambda s: arrays(s, away_from=[0.0], margin=0.3)),
       exponent=st.sampled_from([2, 3, -1, -2, 0, 1, 2.0, 3.0]), seed=SEEDS)
def test_pow_integer_exponent_any_sign_of_base(form, x, exponent, seed):
    torch = import_torch()
    forms = {"operator": lambda lib, t: t ** exponent, "function": lambda lib, t: lib.pow(t, exponent),
             "method": lambda lib, t: t.pow(exponent)}
    check_op(lambda t: forms[form](tr, t), lambda t: forms[form](torch, t), [x], seed)


@given(x=shapes().flatmap(positive_arrays), exponent=st.sampled_from([0.5, 1.5, -0.5, -2.5, 0.25]), seed=SEEDS)
def test_pow_fractional_exponent_positive_base(x, exponent, seed):
    check_op(lambda t: t ** exponent, lambda t: t ** exponent, [x], seed)


@given(shapes_=broadcastable_pair(), data=st.data(), seed=SEEDS)
def test_pow_with_a_tensor_exponent_differentiates_both(shapes_, data, seed):
    base, exponent = data.draw(positive_arrays(shapes_[0])), data.draw(arrays(shapes_[1], low=-2.0, high=2.0))
    check_op(lambda x, y: x ** y, lambda x, y: x ** y, [base, exponent], seed)
    check_op(lambda x, y: tr.pow(input=x, exponent=y), lambda x, y: torch_pow(x, y), [base, exponent], seed)


def torch_pow(x, y):
    return import_torch().pow(input=x, exponent=y)


@pytest.mark.parametrize("base", [2, 2.0, 0.5])
@given(x=shapes().flatmap(arrays), seed=SEEDS)
def test_number_base_to_a_tensor_power(base, x, seed):
    torch = import_torch()
    check_op(lambda t: base ** t, lambda t: base ** t, [x], seed)
    check_op(lambda t: tr.pow(base, t), lambda t: torch.pow(base, t), [x], seed)


def test_tensor_exponent_at_zero_base_and_dtypes_follow_torch():
    torch = import_torch()
    check_against_torch(lambda x, y: x ** y, lambda x, y: x ** y, [[0.0, 2.0, 0.0], [0.0, 0.5, 2.0]], np.float64)
    for make in (lambda lib: 2 ** lib.tensor([1, 2]), lambda lib: lib.pow(2.0, lib.tensor([1, 2])),
                 lambda lib: lib.tensor([1, 2]) ** lib.tensor(0.5)):
        assert make(tr).dtype == numpy_dtype(make(torch).dtype)
        np.testing.assert_allclose(make(tr).numpy(), make(torch).numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="exponent must be a number or a tensor"):
        tr.tensor([1.0]) ** "2"


def test_floor_divide_matches_torch_and_stays_outside_the_graph():
    torch = import_torch()
    for a, b in [([7.0, -7.0, 2.5], 2.0), ([7, -7, 3], 2), ([7, -7], [2.0, 3.0])]:
        for expr in (lambda lib: lib.tensor(a) // (lib.tensor(b) if isinstance(b, list) else b),
                     lambda lib: 10 // lib.tensor(a)):
            ours, theirs = expr(tr), expr(torch)
            assert ours.dtype == numpy_dtype(theirs.dtype)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not (tr.tensor([1.0], requires_grad=True) // 2).requires_grad


@pytest.mark.parametrize("form", ["operator", *FORMS])
@given(x=shapes().flatmap(arrays), seed=SEEDS)
def test_neg(form, x, seed):
    torch = import_torch()
    check_op(lambda t: -t if form == "operator" else call(tr, form, "neg", t),
             lambda t: -t if form == "operator" else call(torch, form, "neg", t), [x], seed)


NAMED = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", NAMED)
@given(pair=broadcastable_pair(), seed=SEEDS, data=st.data())
def test_named_forms_of_binary_ops(name, form, pair, seed, data):
    """tr.add(x, y) and x.add(y) (likewise sub, mul, div), with broadcasting, against torch's same forms."""
    torch = import_torch()
    a, b = data.draw(operand(pair[0], NAMED[name])), data.draw(operand(pair[1], NAMED[name]))
    check_op(lambda x, y: call(tr, form, name, x, y), lambda x, y: call(torch, form, name, x, y), [a, b], seed)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["add", "sub"])
@given(pair=broadcastable_pair(), alpha=st.sampled_from([2, -0.5, 1, 0]), other_is_number=st.booleans(), seed=SEEDS,
       data=st.data())
def test_add_and_sub_scale_the_other_operand_by_alpha(name, form, pair, alpha, other_is_number, seed, data):
    """torch.add(x, y, alpha=a) = x + a*y and torch.sub(x, y, alpha=a) = x - a*y, for a tensor or a number y."""
    torch = import_torch()
    a, b = data.draw(arrays(pair[0])), data.draw(arrays(pair[1]))
    if other_is_number:
        check_op(lambda x: call(tr, form, name, x, 1.5, alpha=alpha),
                 lambda x: call(torch, form, name, x, 1.5, alpha=alpha), [a], seed)
    else:
        check_op(lambda x, y: call(tr, form, name, x, y, alpha=alpha),
                 lambda x, y: call(torch, form, name, x, y, alpha=alpha), [a, b], seed)



def alpha_operand(lib, kind):
    """One of the operand kinds torch.add/sub meet: tensors of several dtypes, a raw NumPy array (torch: the same
    array as a tensor), a 0-d tensor and a Python number."""
    if kind == "python int":
        return 3
    dtype, values = {"float32": (np.float32, [1.5, -2.0]), "float16": (np.float16, [1.5, -2.0]),
                     "int64": (np.int64, [3, -4]), "int32": (np.int32, [3, -4]), "bool": (np.bool_, [True, False]),
                     "0-d float64": (np.float64, 0.25), "numpy int64": (np.int64, [5, 6])}[kind]
    array = np.array(values, dtype=dtype)
    if kind == "numpy int64":
        return array if lib is tr else lib.from_numpy(array)
    return tr.tensor(array) if lib is tr else lib.from_numpy(array)


@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_never_promotes_and_is_checked_like_torch(name):
    """torch computes x ± alpha*y in the dtype of x ± y, converting alpha to it: alpha never changes the result dtype
    (NumPy's int array * 0.5 would be float64), and a float alpha with an integral result, a bool alpha with a
    non-bool result, or a complex alpha with a real result is a RuntimeError."""
    torch = import_torch()
    firsts = ["float32", "float16", "int64", "int32"] + (["bool"] if name == "add" else [])  # torch: no bool sub
    seconds = ["float32", "int64", "0-d float64", "numpy int64", "python int"] + (["bool"] if name == "add" else [])
    alphas = [2, -0.5, 1.0, True, np.bool_(True), np.float64(2.0), np.int64(-3), 0.5j]
    wrong = []
    for kind_x, kind_y, alpha in itertools.product(firsts, seconds, alphas):
        def outcome(lib):
            try:
                out = getattr(lib, name)(alpha_operand(lib, kind_x), alpha_operand(lib, kind_y), alpha=alpha)
            except RuntimeError as err:
                return str(err)
            return out.dtype if lib is tr else numpy_dtype(out.dtype), np.asarray(out.tolist(), dtype=np.complex128)
        ours, theirs = outcome(tr), outcome(torch)
        case = f"{kind_x} {name} {kind_y}, alpha={alpha!r}"
        if isinstance(theirs, str) or isinstance(ours, str):
            if not (isinstance(theirs, str) and isinstance(ours, str) and ours.startswith(theirs)):
                wrong.append(f"{case}: {ours} (torch {theirs})")
        elif ours[0] != theirs[0] or not np.allclose(ours[1], theirs[1], rtol=1e-3):
            wrong.append(f"{case}: {ours[0]} {ours[1]} (torch {theirs[0]} {theirs[1]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_scaled_operand_of_another_dtype_gets_its_gradient_in_its_dtype(name):
    """float64 x ± 0.5 * float32 y is float64; dL/dy = ±0.5 dL/dz, returned as float32, as in torch."""
    x, y = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.5], dtype=np.float32)
    check_against_torch(lambda a, b: getattr(tr, name)(a, b, alpha=0.5),
                        lambda a, b: getattr(import_torch(), name)(a, b, alpha=0.5), [x, y])

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
# NumPy's rules: x_f32 * np.float64(0.1) must stay float32 (promotion.promote_like_torch).
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
    # when every tensor operand is 0-d, a NumPy scalar is still weak, like a Python number
    "zero_dim_float32_times_numpy_float64": lambda lib: lib.ones(3).sum() * np.float64(0.1),
    "numpy_float64_times_zero_dim_float32": lambda lib: np.float64(0.1) * lib.ones(3).sum(),
    "int64_tensor_times_numpy_float64": lambda lib: lib.tensor([1, 2]) * np.float64(0.5),
    "zero_dim_int64_times_numpy_float64": lambda lib: lib.tensor(1) * np.float64(0.5),
    "zero_dim_float64_times_numpy_float32": lambda lib: lib.tensor(1.0, dtype=lib.float64) * np.float32(0.5),
    "zero_dim_int32_times_numpy_int64": lambda lib: lib.tensor(1, dtype=lib.int32) * np.int64(2),
    "zero_dim_bool_times_numpy_int64": lambda lib: lib.tensor(True) * np.int64(2),
    "zero_dim_bool_plus_numpy_bool": lambda lib: lib.tensor(True) + np.bool_(True),  # torch reads np.bool_ as a float
    "zero_dim_float32_times_python_int": lambda lib: lib.ones(3).sum() * 2,
    # 0-d tensors against each other promote normally; against a dimensioned tensor only by a higher category
    "zero_dim_float32_times_zero_dim_float64": lambda lib: lib.tensor(1.0) * lib.tensor(2.0, dtype=lib.float64),
    "zero_dim_int32_times_zero_dim_float64": lambda lib: lib.tensor(1, dtype=lib.int32) * lib.tensor(2.0,
                                                                                                   dtype=lib.float64),
    "int32_tensor_plus_zero_dim_int64": lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor(2),
    "bool_tensor_plus_zero_dim_int32": lambda lib: lib.tensor([True]) + lib.tensor(2, dtype=lib.int32),
    "where_zero_dim_float64_and_float32": lambda lib: lib.where(lib.ones(2) > 0, lib.tensor(1.0, dtype=lib.float64),
                                                                lib.ones(2)),
    # pow: the exponent promotes like any scalar operand
    "int64_tensor_to_python_float_power": lambda lib: lib.tensor([1, 2, 3]) ** 0.5,
    "int64_tensor_to_numpy_float64_power": lambda lib: lib.tensor([1, 2, 3]) ** np.float64(0.5),
    "int64_tensor_to_python_int_power": lambda lib: lib.tensor([1, 2, 3]) ** 2,
    "int32_tensor_to_python_int_power": lambda lib: lib.tensor([1, 2], dtype=lib.int32) ** 2,
    "bool_tensor_to_python_int_power": lambda lib: lib.tensor([True, False]) ** 2,
    "float32_tensor_to_python_int_power": lambda lib: lib.ones(2) ** 2,
    "float64_tensor_to_numpy_float32_power": lambda lib: lib.ones(2, dtype=lib.float64) ** np.float32(2.0),
    "zero_dim_float32_to_numpy_float64_power": lambda lib: lib.tensor(2.0) ** np.float64(0.5),
    "clamp_int64_tensor_to_python_float": lambda lib: lib.tensor([1, 2]).clamp(0.5),
    # integer inputs to ops with a real-valued result become torch's default float32 (NumPy: float64)
    "int64_tensor_divided_by_zero_dim_float64": lambda lib: lib.tensor([1, 2]) / lib.tensor(0.5, dtype=lib.float64),
    "zero_dim_int64_divided_by_numpy_int64": lambda lib: lib.tensor(3) / np.int64(2),
    "int64_tensor_true_division": lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 4]),
    "int64_tensor_divided_by_python_int": lambda lib: lib.tensor([1, 2]) / 2,
    "exp_of_int64_tensor": lambda lib: lib.tensor([1, 2]).exp(),
    "softmax_of_int64_tensor": lambda lib: lib.tensor([1, 2]).float().softmax(-1) * lib.tensor([1, 2]).sqrt(),
}


@pytest.mark.parametrize("case", PROMOTIONS)
def test_weak_operands_promote_like_torch(case):
    torch = import_torch()
    ours, theirs = PROMOTIONS[case](tr), PROMOTIONS[case](torch)
    assert ours.dtype == numpy_dtype(theirs.dtype)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6)


OPERAND_KINDS = ["tensor", "zero_dim", "python", "numpy"]
OPERAND_DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]


def make_operand(lib, kind, dtype):
    """A bool, int or float operand of one kind: a (2,) tensor, a 0-d tensor, a Python number or a NumPy number."""
    value = {"b": True, "i": 3, "f": 0.5}[np.dtype(dtype).kind]
    if kind == "python":
        return value
    if kind == "numpy":
        return np.dtype(dtype).type(value)
    array = np.array([value, value] if kind == "tensor" else value, dtype=dtype)
    return tr.tensor(array) if lib is tr else lib.from_numpy(array)


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.truediv], ids=lambda op: op.__name__)
def test_every_operand_kind_and_dtype_pair_promotes_like_torch(op):
    """All pairs of (kind, dtype) with at least one tensor, on either side; a Python number only in its own type."""
    torch = import_torch()
    operands = [(kind, dtype) for kind in OPERAND_KINDS for dtype in OPERAND_DTYPES
                if kind != "python" or dtype in (np.bool_, np.int64, np.float64)]
    wrong = []
    for (kind_a, dtype_a), (kind_b, dtype_b) in itertools.product(operands, repeat=2):
        if kind_a in ("python", "numpy") and kind_b in ("python", "numpy"):
            continue
        ours = op(make_operand(tr, kind_a, dtype_a), make_operand(tr, kind_b, dtype_b))
        theirs = op(make_operand(torch, kind_a, dtype_a), make_operand(torch, kind_b, dtype_b))
        if ours.dtype != numpy_dtype(theirs.dtype):
            pair = f"{kind_a} {np.dtype(dtype_a)}, {kind_b} {np.dtype(dtype_b)}"
            wrong.append(f"{pair}: {ours.dtype} (torch {theirs.dtype})")
    assert not wrong, "\n".join(wrong)


def test_pow_and_clamp_take_a_plain_number_like_the_other_ops():
    assert tr.pow(2, 3).item() == 8 and tr.clamp(2.5, 0, 1).item() == 1.0
    assert tr.pow(2, 3).dtype == np.int64            # int ** int stays integral, as torch.tensor(2) ** 3
