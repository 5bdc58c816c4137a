"""The Tensor and its graph: construction, dtypes, accumulation, graph shapes, no_grad, memory, errors."""

import gc
import re
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyreg as tr
from tests.helpers import assert_close, import_torch, numpy_dtype
from tests.strategies import shapes


# ---- construction and dtypes -----------------------------------------------------------------------------------
def test_default_dtypes_follow_torch():
    torch = import_torch()
    for data in ([1.0, 2.0], 3.5, [1, 2], True, np.array([1.0, 2.0]), np.array([1, 2], dtype=np.int32)):
        assert tr.tensor(data).dtype == np.dtype(str(torch.tensor(data).dtype).removeprefix("torch.")), data


def test_tensor_copies_its_data():
    source = np.zeros(3)
    t = tr.tensor(source)
    source[0] = 1
    assert np.asarray(t)[0] == 0


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tr.tensor([1, 2], requires_grad=True)


def test_array_facts_and_conversions():
    t = tr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert (t.shape, t.ndim, t.size(), t.size(0), t.size(-1), len(t), t.numel()) == ((2, 3), 2, (2, 3), 2, 3, 2, 6)
    assert t.T.shape == (3, 2)
    assert np.asarray(t) is t.numpy()  # both hand out the tensor's own array
    t.numpy()[0, 0] = 9.0
    assert t[0, 0].item() == 9.0
    assert tr.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="6 elements"):
        t.item()
    with pytest.raises(RuntimeError, match="detach"):
        tr.tensor([1.0], requires_grad=True).numpy()


def test_numpy_conversion_follows_numpy2_copy_contract():
    t = tr.tensor([1.0, 2.0, 3.0])
    copied = np.array(t)  # np.array copies by default (copy=True)
    copied[0] = 5
    assert t[0].item() == 1.0, "np.array(t) must not hand out the tensor's own buffer"
    np.asarray(t)[1] = 7.0  # copy=None: no copy needed, none made
    np.array(t, copy=False)[2] = 8.0
    assert t.tolist() == [1.0, 7.0, 8.0]
    converted = np.asarray(t, dtype=np.float64)  # a dtype change needs a copy, so copy=None makes one
    assert converted.dtype == np.float64 and not np.shares_memory(converted, t.numpy())
    with pytest.raises(ValueError, match="copy"):
        np.array(t, dtype=np.float64, copy=False)


# Element values that drive each of torch's print modes: anything float32 can hold (nan, inf, subnormals, 3e38:
# scientific), whole numbers (integer mode), moderate fractions (fixed), and tiny or wide-ranging ones (scientific).
PRINTED_VALUES = st.sampled_from([
    st.floats(width=32),
    st.integers(-10**5, 10**5).map(float),
    st.floats(-100, 100, width=32),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 1e-5, 2000.0, np.nan, np.inf, -np.inf]),
])


def torch_repr(t) -> str:
    """torch's repr with the module prefix tinyreg uses (the only naming difference)."""
    return repr(t).replace("torch.", "tinyreg.")


def suffixes_on_one_line(text: str) -> str:
    """Undo the wrapping of ``dtype=...``/``grad_fn=...`` suffixes past 80 columns, which "tinyreg." (2 characters
    longer than "torch.") can shift; where tinyreg wraps is tested on its own below."""
    return re.sub(r",\n +(?=dtype=|grad_fn=|requires_grad=)", ", ", text)


@given(data=st.data())
def test_repr_matches_torch_for_float32(data):
    # sides up to 12 make rows wrap past 80 columns and 3-D shapes pass 1000 elements (summarized with ...)
    shape = data.draw(shapes(0, 3, max_side=12))
    values = data.draw(PRINTED_VALUES.flatmap(lambda el: hnp.arrays(np.float32, shape, elements=el)))
    torch = import_torch()
    assert repr(tr.tensor(values)) == torch_repr(torch.tensor(values))


@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.bool_]),
       requires_grad=st.booleans())
def test_repr_matches_torch_for_other_dtypes_and_grad_suffixes(data, dtype, requires_grad):
    shape = data.draw(shapes(0, 2, min_side=0, max_side=5))  # sides of 0: empty tensors show their size
    if np.dtype(dtype).kind == "f":
        values = data.draw(PRINTED_VALUES.flatmap(lambda el: hnp.arrays(dtype, shape, elements=el)))
    else:
        values = data.draw(hnp.arrays(dtype, shape))
        requires_grad = False
    torch = import_torch()
    ours, theirs = tr.tensor(values, requires_grad=requires_grad), torch.tensor(values, requires_grad=requires_grad)
    pairs = [(ours, theirs)]
    if requires_grad:  # an op's output names its backward, e.g. grad_fn=<MulBackward0>
        pairs += [(ours * 2.0, theirs * 2.0), (-ours + 1, -theirs + 1)]
    for a, b in pairs:
        assert suffixes_on_one_line(repr(a)) == suffixes_on_one_line(torch_repr(b))


@pytest.mark.parametrize("shape", [(2000,), (40, 50), (11, 10, 12), (3, 400)])
def test_repr_summarizes_large_tensors_like_torch(shape):
    values = (np.random.default_rng(0).standard_normal(shape) * 100).astype(np.float32)
    values.flat[values.size // 2] = 1e-7  # hidden by the summary, so it must not switch the mode to scientific
    torch = import_torch()
    assert repr(tr.tensor(values)) == torch_repr(torch.tensor(values))


def test_repr_examples():
    x = tr.tensor([1.5, 2.25], requires_grad=True)
    assert repr(x * 2.0) == "tensor([3.0000, 4.5000], grad_fn=<MulBackward0>)"
    assert repr(tr.tensor(3.5)) == "tensor(3.5000)"
    assert repr(tr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tr.tensor([3.7835e-44])) == "tensor([3.7835e-44])"
    assert repr(tr.tensor([1.0], dtype=tr.float64)) == "tensor([1.], dtype=tinyreg.float64)"
    # torch's rule for a suffix that would pass 80 columns: it goes on its own line, under the first bracket
    assert repr(tr.tensor([-10.5] * 3, dtype=tr.float64, requires_grad=True)) == (
        "tensor([-10.5000, -10.5000, -10.5000], dtype=tinyreg.float64,\n       requires_grad=True)")


def test_constructors_shapes_dtypes_and_seed():
    assert tr.zeros(2, 3).shape == tr.ones((2, 3)).shape == (2, 3)
    assert tr.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert tr.full((2,), 7, dtype=tr.float64).dtype == np.float64
    assert tr.arange(4).dtype == np.int64 and tr.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert tr.zeros_like(tr.ones(2, dtype=tr.float64)).dtype == np.float64
    tr.manual_seed(3)
    a = (tr.randn(4), tr.rand(4))
    generator = tr.random.generator()
    tr.manual_seed(3)
    assert tr.random.generator() is generator, "reseeding must keep the one generator object"
    b = (tr.randn(4), tr.rand(4))
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    assert np.all((np.asarray(b[1]) >= 0) & (np.asarray(b[1]) < 1))
    with pytest.raises(ValueError, match="seed"):
        tr.manual_seed(-1)


@pytest.mark.parametrize("fill_value", [3, -2, True, 3.0, np.int32(3), np.float64(3.5), np.bool_(False)])
def test_full_infers_its_dtype_from_the_fill_value_like_torch(fill_value):
    torch = import_torch()
    ours, theirs = tr.full((2,), fill_value), torch.full((2,), fill_value)
    assert ours.dtype == numpy_dtype(theirs.dtype)
    assert ours.tolist() == theirs.tolist()


# ---- gradient accumulation and graph shapes ----------------------------------------------------------------------
def test_node_used_twice_accumulates():
    x = tr.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype=tr.float64)
    (x * x + x).sum().backward()  # d/dx (x² + x) = 2x + 1: x reaches the sum along three edges
    np.testing.assert_array_equal(x.grad, 2 * np.asarray(x) + 1)


def test_gradients_accumulate_across_backward_calls_in_place():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    held = x.grad
    (x * 3).sum().backward()
    assert x.grad is held, "a second backward must add into the existing array (optimizers hold views of it)"
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_diamond_graph_matches_torch():
    torch = import_torch()
    values = np.array([0.3, -1.2, 2.0])

    def f(lib, x):
        a = x.exp()
        b, c = a * 2, a.tanh()  # two paths from a to d
        return (b * c + b).sum()

    x = tr.tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True)
    f(tr, x).backward()
    f(torch, xt).backward()
    assert_close(x.grad, xt.grad)


def test_first_gradient_is_not_aliased_between_leaves():
    # Add's backward hands the same array to both inputs; each leaf must own a copy.
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    b = tr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_leaf_gradient_keeps_leaf_dtype_under_promotion():
    x = tr.tensor([1.0, 2.0], requires_grad=True)  # float32
    w = tr.tensor([0.5, 0.25], dtype=tr.float64)
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


@given(st.integers(1, 5), st.integers(1, 5))
def test_broadcast_gradient_reduced_to_input_shape(rows, cols):
    torch = import_torch()
    rng = np.random.default_rng(rows * 10 + cols)
    a_np, b_np = rng.normal(size=(rows, 1)), rng.normal(size=(cols,))
    a, b = tr.tensor(a_np, requires_grad=True), tr.tensor(b_np, requires_grad=True)
    at, bt = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    (a * b).sum().backward()
    (at * bt).sum().backward()
    assert_close(a.grad, at.grad)
    assert_close(b.grad, bt.grad)


def test_chain_of_100000_ops_needs_no_recursion():
    x = tr.tensor(1.0, requires_grad=True, dtype=tr.float64)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


# ---- graph recording ------------------------------------------------------------------------------------------
def test_no_grad_builds_no_graph_as_context_and_decorator():
    x = tr.tensor([1.0], requires_grad=True)
    with tr.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert tr.is_grad_enabled()

    @tr.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert (x * 2).requires_grad


def test_no_grad_decorates_with_and_without_parentheses_like_torch():
    torch = import_torch()
    for lib in (torch, tr):  # torch first: the test also pins the behaviour being copied
        @lib.no_grad
        def bare(t):
            """Doubles t."""
            return t * 2

        @lib.no_grad()
        def called(t):
            return t * 2

        x = lib.ones(2, requires_grad=True)
        assert not bare(x).requires_grad and not called(x).requires_grad, lib.__name__
        assert (bare.__name__, bare.__doc__) == ("bare", "Doubles t."), lib.__name__
        assert (x * 2).requires_grad and lib.is_grad_enabled(), lib.__name__


def test_detach_and_requires_grad_():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    (x * d).sum().backward()  # d is a constant: dx = d
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    z = tr.zeros(2).requires_grad_()
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


def test_saved_arrays_released_after_backward():
    x = tr.tensor(np.ones(1000), requires_grad=True)
    y = x.exp()  # Exp saves its output for backward
    saved = weakref.ref(y.grad_fn.saved[0])
    loss = y.sum()
    del y
    loss.backward()
    gc.collect()
    assert saved() is None, "backward must free the graph's saved arrays"
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp()).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(np.asarray(x)), rtol=1e-6)


# ---- errors a user can act on ------------------------------------------------------------------------------------
def test_backward_errors_match_torch_rules():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        tr.tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.ones(2))  # an explicit upstream gradient is fine
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_shape_errors_name_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3\).*\(4, 5\)"):
        tr.ones(2, 3) @ tr.ones(4, 5)
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4, 5\)"):
        tr.ones(2, 3) + tr.ones(4, 5)
