"""Matrix product: values and gradients against finite differences and torch for 1-D, 2-D and batched operands with
broadcast batch axes, as ``@``, ``tr.matmul`` and ``.matmul``, with NumPy arrays on either side; shape errors."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import call, check_against_torch, check_op, import_torch
from tests.strategies import SEEDS, arrays, broadcastable_pair

PRODUCTS = {"operator": operator.matmul, "function": tr.matmul, "method": lambda a, b: a.matmul(b)}


@st.composite
def matmul_shapes(draw):
    """Shapes (n, k) @ (k, p) with up to one broadcast batch axis each, either side possibly a 1-D vector (k,)."""
    n, k, p = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_pair(min_dims=0, max_dims=1))
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, p)
    return a, b


@pytest.mark.parametrize("form", PRODUCTS)
@given(shapes=matmul_shapes(), seed=SEEDS, data=st.data())
def test_matmul(form, shapes, seed, data):
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    check_op(PRODUCTS[form], operator.matmul, [a, b], seed)


@given(shapes=matmul_shapes(), array_first=st.booleans(), seed=SEEDS, data=st.data())
def test_matmul_with_numpy_array_on_either_side(shapes, array_first, seed, data):
    torch = import_torch()
    const_shape, x_shape = shapes if array_first else reversed(shapes)
    const, x = data.draw(arrays(const_shape)), data.draw(arrays(x_shape))

    def product(c, t):
        return c @ t if array_first else t @ c

    check_op(lambda t: product(const.astype(t.dtype), t),
             lambda t: product(torch.from_numpy(const).to(t.dtype), t), [x], seed)


@pytest.mark.parametrize("a_shape,b_shape,message", [
    ((2, 3), (4, 5), r"MatMul: inner dimensions differ \(3 != 4\).*\(2, 3\), \(4, 5\)"),
    ((3,), (4,), r"MatMul: inner dimensions differ \(3 != 4\).*\(3,\), \(4,\)"),
    ((2, 2, 3), (3, 3, 1), r"MatMul:.*\(2, 2, 3\), \(3, 3, 1\)"),  # batch axes 2 and 3 do not broadcast
    ((), (3,), r"MatMul: both arguments need at least 1 dimension.*\(\), \(3,\)"),
])
def test_shape_mismatch_names_op_and_both_shapes(a_shape, b_shape, message):
    with pytest.raises(ValueError, match=message):
        tr.ones(a_shape) @ tr.ones(b_shape)


# ---- torch's shape-checked products: mm bmm dot outer -----------------------------------------------------------
@st.composite
def named_product_shapes(draw, name):
    n, k, m, b = (draw(st.integers(1, 4)) for _ in range(4))
    return {"mm": ((n, k), (k, m)), "bmm": ((b, n, k), (b, k, m)), "dot": ((k,), (k,)), "outer": ((n,), (m,))}[name]


@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("name", ["mm", "bmm", "dot", "outer"])
@given(data=st.data(), seed=SEEDS)
def test_named_products(name, form, data, seed):
    torch = import_torch()
    shape_a, shape_b = data.draw(named_product_shapes(name))
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    check_op(lambda x, y: call(tr, form, name, x, y), lambda x, y: call(torch, form, name, x, y), [a, b], seed)


@pytest.mark.parametrize("name,shape_a,shape_b", [
    ("mm", (2, 3), (2, 3)), ("mm", (3,), (3, 2)), ("bmm", (2, 3), (3, 2)), ("bmm", (2, 2, 3), (3, 3, 2)),
    ("dot", (3,), (2,)), ("dot", (1, 3), (3,)), ("outer", (2, 1), (3,))])
def test_named_products_refuse_other_shapes_with_torchs_message(name, shape_a, shape_b):
    torch = import_torch()
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, name)(torch.ones(shape_a), torch.ones(shape_b))
    with pytest.raises(RuntimeError) as ours:
        getattr(tr, name)(tr.ones(shape_a), tr.ones(shape_b))
    assert str(ours.value) == str(theirs.value)


def test_linear_with_a_one_dimensional_weight_has_torchs_gradient():
    """The fuzz found x.grad = 1.5 (a dot product of the gradient with w) instead of [[1, .5], [1, .5]]."""
    torch = import_torch()
    x, w = [[1.0, 2.0], [3.0, 4.0]], [1.0, 0.5]
    for dtype in (np.float64, np.float32):
        check_against_torch(lambda *t: tr.nn.functional.linear(*t), lambda *t: torch.nn.functional.linear(*t),
                            [x, w], dtype)
    x_tr = tr.tensor(x, requires_grad=True)
    tr.nn.functional.linear(x_tr, tr.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x_tr.grad, [[1.0, 0.5], [1.0, 0.5]])
