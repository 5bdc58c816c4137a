"""Shape ops reshape view flatten transpose permute unsqueeze squeeze .T, indexing, cat, stack: values and gradients
against finite differences and torch, as functions and methods; repeated integer indices add their gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import FORMS, call, check_against_torch, check_op, import_torch
from tests.strategies import SEEDS, arrays, shapes


def dim_in(ndim, extra=0):
    """An axis of an ``ndim``-dim tensor, possibly negative (``extra=1``: also the slot after the last axis)."""
    rank = max(ndim + extra, 1)
    return st.integers(-rank, rank - 1)


@st.composite
def reshape_targets(draw, shape):
    """The same number of elements arranged differently: sides shuffled, 1s inserted, one side maybe written -1."""
    sides = list(draw(st.permutations(shape)))
    for _ in range(draw(st.integers(0, 2))):
        sides.insert(draw(st.integers(0, len(sides))), 1)
    if sides and draw(st.booleans()):
        sides[draw(st.integers(0, len(sides) - 1))] = -1
    return tuple(sides)


@pytest.mark.parametrize("form", ["function", "method", "view"])
@given(data=st.data(), seed=SEEDS)
def test_reshape_and_view(form, data, seed):
    x = data.draw(shapes().flatmap(arrays))
    target = data.draw(reshape_targets(x.shape))
    fns = {"function": lambda t: tr.reshape(t, target), "method": lambda t: t.reshape(*target),
           "view": lambda t: t.view(target)}
    check_op(fns[form], lambda t: t.reshape(target), [x], seed)


def test_reshape_to_a_wrong_size_names_both():
    with pytest.raises(ValueError, match=r"Reshape: shape \(4,\) is invalid for input of size 6"):
        tr.ones(2, 3).reshape(4)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), seed=SEEDS)
def test_flatten(form, data, seed):
    torch = import_torch()
    x = data.draw(shapes().flatmap(arrays))
    start, end = sorted(data.draw(st.lists(st.integers(0, max(x.ndim - 1, 0)), min_size=2, max_size=2)))
    start, end = start - data.draw(st.sampled_from([0, max(x.ndim, 1)])), end  # the start possibly negative
    check_op(lambda t: call(tr, form, "flatten", t, start, end), lambda t: call(torch, form, "flatten", t, start, end),
             [x], seed)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), seed=SEEDS)
def test_transpose(form, data, seed):
    torch = import_torch()
    x = data.draw(shapes(min_dims=1).flatmap(arrays))
    dim0, dim1 = data.draw(dim_in(x.ndim)), data.draw(dim_in(x.ndim))
    check_op(lambda t: call(tr, form, "transpose", t, dim0, dim1),
             lambda t: call(torch, form, "transpose", t, dim0, dim1), [x], seed)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), seed=SEEDS)
def test_permute(form, data, seed):
    x = data.draw(shapes().flatmap(arrays))
    dims = tuple(d - data.draw(st.sampled_from([0, x.ndim])) for d in data.draw(st.permutations(range(x.ndim))))
    fn = (lambda t: tr.permute(t, dims)) if form == "function" else (lambda t: t.permute(*dims))
    check_op(fn, lambda t: t.permute(dims), [x], seed)


@pytest.mark.parametrize("dims", [(0, 0), (0,), (0, 1, 2), (-2, 0)])
def test_permute_rejects_a_non_permutation(dims):
    with pytest.raises(ValueError, match=r"permute: dims .* are not a permutation of the 2 axes of shape \(2, 3\)"):
        tr.ones(2, 3).permute(*dims)


@given(x=shapes().flatmap(arrays), seed=SEEDS)
def test_T_reverses_the_axes(x, seed):
    # torch's .T is only defined for 2-D tensors now; tinyreg keeps NumPy's "reverse all axes" meaning.
    check_op(lambda t: t.T, lambda t: t.T if t.ndim == 2 else t.permute(tuple(reversed(range(t.ndim)))), [x], seed)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), seed=SEEDS)
def test_unsqueeze(form, data, seed):
    torch = import_torch()
    x = data.draw(shapes().flatmap(arrays))
    dim = data.draw(dim_in(x.ndim, extra=1))
    check_op(lambda t: call(tr, form, "unsqueeze", t, dim), lambda t: call(torch, form, "unsqueeze", t, dim), [x],
             seed)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), seed=SEEDS)
def test_squeeze(form, data, seed):
    torch = import_torch()
    x = data.draw(shapes(max_side=2).flatmap(arrays))  # sides of 1 are common, so there is something to squeeze
    dims = data.draw(st.lists(dim_in(x.ndim), max_size=2, unique_by=lambda d: d % max(x.ndim, 1)))
    dim = data.draw(st.sampled_from([None, tuple(dims)] + dims))
    args = () if dim is None else (dim,)
    check_op(lambda t: call(tr, form, "squeeze", t, *args), lambda t: call(torch, form, "squeeze", t, *args), [x],
             seed)


@pytest.mark.parametrize("shape, dim", [((1, 3), 2), ((3, 1), -3), ((1, 3), (0, 2))])
def test_squeeze_rejects_an_out_of_range_dim_like_torch(shape, dim):
    """Wrapping dim modulo ndim would squeeze axis 0 of (1, 3) for dim=2; torch raises instead."""
    torch = import_torch()
    with pytest.raises(IndexError) as expected:
        torch.zeros(shape).squeeze(dim)
    with pytest.raises(IndexError, match=r"Dimension out of range") as got:
        tr.tensor(np.zeros(shape)).squeeze(dim)
    assert str(got.value) == str(expected.value)


@st.composite
def basic_indices(draw, shape):
    """Ints and slices (positive steps: torch has no negative ones) for leading axes, optionally an Ellipsis followed
    by more for trailing axes, and maybe a None (a new axis) anywhere."""
    def part(side):
        return st.one_of(st.integers(-side, side - 1),
                         st.builds(slice, st.none() | st.integers(-5, 5), st.none() | st.integers(-5, 5),
                                   st.none() | st.integers(1, 3)))

    n_lead = draw(st.integers(0, len(shape)))
    parts = [draw(part(side)) for side in shape[:n_lead]]
    if draw(st.booleans()):
        n_trail = draw(st.integers(0, len(shape) - n_lead))
        parts += [Ellipsis] + [draw(part(side)) for side in shape[len(shape) - n_trail:]]
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


@given(data=st.data(), seed=SEEDS)
def test_basic_indexing(data, seed):
    x = data.draw(shapes().flatmap(arrays))
    index = data.draw(basic_indices(x.shape))
    check_op(lambda t: t[index], lambda t: t[index], [x], seed)


@st.composite
def integer_array_indices(draw, shape):
    """Integer arrays (with repeats and negative entries) on one or two axes, optionally after a leading slice."""
    rng = np.random.default_rng(draw(SEEDS))
    n_arrays = draw(st.integers(1, min(2, len(shape))))
    lead = draw(st.integers(0, len(shape) - n_arrays))
    picks = draw(st.sampled_from([(5,), (2, 3), ()]))
    arrays_ = tuple(rng.integers(-side, side, size=picks) for side in shape[lead:lead + n_arrays])
    return (slice(None),) * lead + arrays_


@given(data=st.data(), seed=SEEDS)
def test_integer_array_indexing(data, seed):
    torch = import_torch()
    x = data.draw(shapes(min_dims=1).flatmap(arrays))
    index = data.draw(integer_array_indices(x.shape))
    torch_index = tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in index)
    check_op(lambda t: t[index], lambda t: t[torch_index], [x], seed)


@pytest.mark.parametrize("index_type", ["list", "ndarray", "tensor"])
def test_repeated_indices_add_their_gradients(index_type):
    torch = import_torch()
    picks = [0, 2, 0, 0, 3]
    index = {"list": picks, "ndarray": np.array(picks), "tensor": tr.tensor(picks)}[index_type]
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    check_op(lambda t: t[index], lambda t: t[torch.tensor(picks)], [x], upstream_seed=10)
    t = tr.tensor(x, requires_grad=True)
    t[index].sum().backward()
    np.testing.assert_array_equal(t.grad, [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])  # row 0 picked 3 times


def test_boolean_mask_indexing():
    torch = import_torch()
    x = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    mask = x > 0
    check_op(lambda t: t[mask], lambda t: t[torch.from_numpy(mask)], [x], upstream_seed=11)
    check_op(lambda t: t[t > 0], lambda t: t[t > 0], [x], upstream_seed=11)


@st.composite
def cat_inputs(draw, stack=False):
    """1 to 3 arrays that agree in every side except (for cat) the one along ``axis``, and that axis."""
    shape = draw(shapes(min_dims=0 if stack else 1))
    axis = draw(dim_in(len(shape), extra=1 if stack else 0))
    n = draw(st.integers(1, 3))
    if stack:
        return [draw(arrays(shape)) for _ in range(n)], axis
    sides = [draw(st.integers(1, 3)) for _ in range(n)]
    return [draw(arrays(shape[:axis % len(shape)] + (s,) + shape[axis % len(shape) + 1:])) for s in sides], axis


@pytest.mark.parametrize("name", ["cat", "stack"])
@pytest.mark.parametrize("keyword", ["axis", "dim"])
@given(data=st.data(), seed=SEEDS)
def test_cat_and_stack(name, keyword, data, seed):
    torch = import_torch()
    xs, axis = data.draw(cat_inputs(stack=name == "stack"))
    check_op(lambda *ts: getattr(tr, name)(list(ts), **{keyword: axis}),
             lambda *ts: getattr(torch, name)(ts, dim=axis), xs, seed)


def test_cat_with_an_input_that_needs_no_grad():
    a = tr.tensor([[1.0, 2.0]], requires_grad=True)
    b = tr.tensor([[3.0, 4.0], [5.0, 6.0]])
    out = tr.cat([a, b])
    out.backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(a.grad, [[0.0, 1.0]])
    assert b.grad is None


def test_cat_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"Cat:.*\(2, 3\), \(2, 4\)"):
        tr.cat([tr.ones(2, 3), tr.ones(2, 4)])


# Every op that takes a dim, called with one out of range (for a (2, 1, 3) tensor dims are -3..2; unsqueeze and stack
# accept -4..3): torch raises IndexError("Dimension out of range (expected to be in range of [-3, 2], but got 5)").
BAD_DIMS = {
    "sum": lambda lib, t: t.sum(5),
    "mean": lambda lib, t: lib.mean(t, dim=(0, -4)),
    "var": lambda lib, t: t.var(3),
    "amax": lambda lib, t: t.amax(-5),
    "max": lambda lib, t: lib.max(t, 3),
    "argmax": lambda lib, t: t.argmax(3),
    "logsumexp": lambda lib, t: t.logsumexp(3),
    "softmax": lambda lib, t: t.softmax(5),
    "log_softmax": lambda lib, t: lib.log_softmax(t, dim=-4),
    "cat": lambda lib, t: lib.cat([t, t], 5),
    "stack": lambda lib, t: lib.stack([t, t], 4),
    "stack_negative": lambda lib, t: lib.stack([t, t], -5),
    "transpose": lambda lib, t: t.transpose(0, 5),
    "squeeze": lambda lib, t: t.squeeze(3),
    "unsqueeze": lambda lib, t: t.unsqueeze(4),
    "unsqueeze_negative": lambda lib, t: lib.unsqueeze(t, -5),
    "flatten": lambda lib, t: t.flatten(0, 3),
    "permute": lambda lib, t: t.permute(0, 1, 3),
}


@pytest.mark.parametrize("case", BAD_DIMS)
def test_out_of_range_dims_raise_torchs_index_error(case):
    torch = import_torch()
    with pytest.raises(IndexError) as theirs:
        BAD_DIMS[case](torch, torch.zeros(2, 1, 3))
    with pytest.raises(IndexError) as ours:
        BAD_DIMS[case](tr, tr.zeros(2, 1, 3))
    assert str(ours.value) == str(theirs.value)


def test_flatten_dims_in_the_wrong_order_like_torch():
    torch = import_torch()
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        torch.zeros(2, 1, 3).flatten(1, 0)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        tr.zeros(2, 1, 3).flatten(1, 0)


# ---- torch API: expand repeat unflatten clone view; fuzz fixes -------------------------------------------------
@st.composite
def expand_cases(draw):
    """A shape with some size-1 axes, and torch sizes to expand it to (new leading axes, -1 to keep a size)."""
    shape = draw(shapes(max_dims=3, max_side=3))
    target = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    sizes = tuple(-1 if draw(st.booleans()) else n for n, old in zip(target, shape))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return shape, lead + sizes, lead + target


@given(case=expand_cases(), data=st.data(), seed=SEEDS)
def test_expand(case, data, seed):
    torch = import_torch()
    shape, sizes, target = case
    x = data.draw(arrays(shape))
    check_op(lambda t: t.expand(sizes), lambda t: t.expand(sizes), [x], seed)
    if sizes:
        check_op(lambda t: t.expand(*sizes), lambda t: t.expand(*sizes), [x], seed)
    check_op(lambda t: t.expand_as(tr.zeros(target)), lambda t: t.expand_as(torch.zeros(target)), [x], seed)


def test_expand_refuses_a_non_singleton_axis_like_torch():
    torch = import_torch()
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(2, 3).expand(4, 3, 3)
    with pytest.raises(RuntimeError) as ours:
        tr.ones(2, 3).expand(4, 3, 3)
    assert str(ours.value) == str(theirs.value)


@given(x=shapes(max_dims=3, max_side=3).flatmap(arrays), data=st.data(), seed=SEEDS)
def test_repeat(x, data, seed):
    repeats = tuple(data.draw(st.lists(st.integers(1, 3), min_size=x.ndim, max_size=x.ndim + 2)))
    check_op(lambda t: t.repeat(repeats), lambda t: t.repeat(repeats), [x], seed)


@given(data=st.data(), seed=SEEDS)
def test_unflatten_and_clone(data, seed):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    sizes = data.draw(st.sampled_from([(n, 1), (1, n), (-1,), (n, -1)]))
    x = data.draw(arrays(shape))
    check_op(lambda t: t.unflatten(dim, sizes), lambda t: t.unflatten(dim, sizes), [x], seed)
    check_op(lambda t: t.clone() * t, lambda t: t.clone() * t, [x], seed)


def test_clone_owns_its_memory():
    x = tr.tensor([1.0, 2.0])
    y = x.clone()
    np.asarray(y)[0] = 5.0
    assert x.tolist() == [1.0, 2.0]


def test_view_of_a_non_contiguous_tensor_raises_torchs_error():
    torch = import_torch()
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(2, 3).t().view(6)
    with pytest.raises(RuntimeError) as ours:
        tr.zeros(2, 3).t().view(6)
    assert str(ours.value) == str(theirs.value)
    assert tr.zeros(2, 3).t().reshape(6).shape == (6,)
    base = tr.zeros(2, 3)
    np.asarray(base.view(3, 2))[0, 0] = 1.0  # a view shares memory
    assert base[0, 0].item() == 1.0


@pytest.mark.parametrize("dims", [(0, 0), (0, -1), (-1, -1)])
def test_transpose_of_a_0d_tensor(dims):
    check_op(lambda t: t.transpose(*dims) * 2, lambda t: t.transpose(*dims) * 2, [np.array(1.5)])


@pytest.mark.parametrize("name", ["cat", "stack"])
def test_cat_and_stack_promote_dtypes_like_torch(name):
    """float32 with int64 is float32 in torch (NumPy concatenates to float64)."""
    torch = import_torch()
    for pair in [(np.float32, np.int64), (np.int32, np.int64), (np.bool_, np.float64), (np.float32, np.float64)]:
        ours = getattr(tr, name)([tr.tensor(np.ones(2, dtype=d)) for d in pair])
        theirs = getattr(torch, name)([torch.tensor(np.ones(2, dtype=d)) for d in pair])
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), pair
    check_against_torch(lambda a: getattr(tr, name)([a, tr.tensor([1, 2])]),
                        lambda a: getattr(torch, name)([a, torch.tensor([1, 2])]), [[0.5, 1.5]], np.float32)
