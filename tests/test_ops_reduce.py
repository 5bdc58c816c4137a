"""Reductions sum mean var amax max logsumexp argmax: values and gradients against finite differences and torch over
axis None/int/tuple, keepdims, both spellings (axis=/keepdims= and torch's dim=/keepdim=), as functions and methods;
variance corrections; ties sharing the gradient like torch.amax; logsumexp stable at large magnitude."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import FORMS, call, check_against_torch, check_op, import_torch
from tests.strategies import SEEDS, arrays, distinct_arrays, reduction_axes, shapes


def torch_dim(axis, ndim):
    """torch spells "every axis" as the tuple of all axes (logsumexp and amax require a dim)."""
    return tuple(range(ndim)) if axis is None else axis


def tr_kwargs(spelling, axis, keepdim):
    return dict(axis=axis, keepdims=keepdim) if spelling == "numpy" else dict(dim=axis, keepdim=keepdim)


@st.composite
def reduction_cases(draw, values=arrays):
    """An input, the axes to reduce, keepdim, and which spelling of the arguments tinyreg gets."""
    shape = draw(shapes())
    return (draw(values(shape)), draw(reduction_axes(len(shape))), draw(st.booleans()),
            draw(st.sampled_from(["numpy", "torch"])))


# amax is differentiable only without ties: its values are kept distinct (ties have their own test).
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name,values", [("sum", arrays), ("mean", arrays), ("logsumexp", arrays),
                                         ("amax", distinct_arrays)])
@given(data=st.data(), seed=SEEDS)
def test_reduction(name, values, form, data, seed):
    torch = import_torch()
    x, axis, keepdim, spelling = data.draw(reduction_cases(values))
    dim = torch_dim(axis, x.ndim)
    check_op(lambda t: call(tr, form, name, t, **tr_kwargs(spelling, axis, keepdim)),
             lambda t: call(torch, form, name, t, dim=dim, keepdim=keepdim), [x], seed)


def reduced_count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes])) if shape else 1


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), correction=st.sampled_from([("unbiased", True), ("unbiased", False), ("correction", 0),
                                                    ("correction", 1), ("correction", 2)]), seed=SEEDS)
def test_var(form, data, correction, seed):
    torch = import_torch()
    x, axis, keepdim, spelling = data.draw(reduction_cases())
    kind, value = correction
    assume(reduced_count(x.shape, axis) > (value if kind == "correction" else int(value)))
    dim = torch_dim(axis, x.ndim)
    check_op(lambda t: call(tr, form, "var", t, **tr_kwargs(spelling, axis, keepdim), **{kind: value}),
             lambda t: call(torch, form, "var", t, dim=dim, keepdim=keepdim, **{kind: value}), [x], seed)


def test_var_positional_arguments_follow_torch_order():
    torch = import_torch()
    x = np.array([[1.0, 2.5, -1.0], [0.5, 0.0, 3.0]])
    check_against_torch(lambda t: t.var(1, False, True), lambda t: t.var(1, False, True), [x], upstream_seed=6)


def test_var_without_degrees_of_freedom_is_nan_like_torch():
    assert np.isnan(tr.tensor([2.0]).var().item())
    assert tr.tensor([2.0]).var(unbiased=False).item() == 0.0
    x = tr.tensor([2.0], requires_grad=True)
    x.var().backward()  # torch: grad nan (0/0), not an exception
    assert np.isnan(x.grad).all()


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), keepdim=st.booleans(), seed=SEEDS)
def test_max_along_a_dim_gives_values_and_indices(form, data, keepdim, seed):
    torch = import_torch()
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(distinct_arrays(shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda t: call(tr, form, "max", t, dim, keepdim).values,
             lambda t: call(torch, form, "max", t, dim, keepdim).values, [x], seed)
    values, indices = call(tr, form, "max", tr.tensor(x), dim=dim, keepdim=keepdim)
    expected = torch.max(torch.tensor(x), dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(values, expected.values.numpy())
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, expected.indices.numpy())


@pytest.mark.parametrize("form", FORMS)
@given(x=shapes().flatmap(distinct_arrays), seed=SEEDS)
def test_max_of_everything(form, x, seed):
    torch = import_torch()
    check_op(lambda t: call(tr, form, "max", t), lambda t: call(torch, form, "max", t), [x], seed)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
def test_argmax(form, data):
    torch = import_torch()
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(distinct_arrays(shape))
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans()) and dim is not None
    got = call(tr, form, "argmax", tr.tensor(x), dim=dim, keepdim=keepdim)
    expected = call(torch, form, "argmax", torch.tensor(x), dim=dim, keepdim=keepdim)
    assert got.dtype == np.int64 and not got.requires_grad
    np.testing.assert_array_equal(got, expected.numpy())


TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 0.5], [0.0, -4.0, 1.5, 1.5]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("expr,torch_expr", [
    (lambda t: t.amax(dim=1), lambda t: t.amax(dim=1)),
    (lambda t: tr.amax(t, dim=0, keepdim=True), lambda t: t.amax(dim=0, keepdim=True)),
    (lambda t: t.amax(), lambda t: t.amax()),
    (lambda t: (t * 0 + 1).amax(), lambda t: (t * 0 + 1).amax()),  # every element ties
    (lambda t: t.max(), lambda t: t.max()),
    # torch.max(x, dim) sends a tie's gradient to one index; tinyreg documents that it shares it like amax.
    (lambda t: t.max(dim=1).values, lambda t: t.amax(dim=1)),
], ids=["amax_dim", "amax_keepdim", "amax_all", "amax_all_tied", "max_all", "max_dim_values"])
def test_tied_maxima_share_the_gradient_like_torch_amax(expr, torch_expr, dtype):
    check_against_torch(expr, torch_expr, [TIES], dtype, upstream_seed=7)


def test_tie_gradient_by_hand():
    x = tr.tensor([1.0, 3.0, 3.0, 3.0], requires_grad=True, dtype=tr.float64)
    x.amax().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), offset=st.sampled_from([1000.0, -1000.0, 1e4]), seed=SEEDS)
def test_logsumexp_is_stable_at_large_magnitude(form, data, offset, seed):
    torch = import_torch()
    x, axis, keepdim, _ = data.draw(reduction_cases())
    dim = torch_dim(axis, x.ndim)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        check_op(lambda t: call(tr, form, "logsumexp", t + offset, dim=axis, keepdim=keepdim),
                 lambda t: call(torch, form, "logsumexp", t + offset, dim=dim, keepdim=keepdim), [x], seed)


@pytest.mark.filterwarnings("error")  # log 0 = -inf is the answer here, not a numerical accident to warn about
def test_logsumexp_of_minus_infinity_slice():
    torch = import_torch()
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    np.testing.assert_array_equal(np.asarray(tr.tensor(x).logsumexp(dim=1)), torch.tensor(x).logsumexp(dim=1).numpy())


def test_axis_out_of_range_and_both_spellings_are_errors():
    x = tr.ones(2, 3)
    with pytest.raises(IndexError, match=r"Dimension out of range.*\[-2, 1\].*got 2"):
        x.sum(axis=2)
    with pytest.raises(IndexError, match="got -3"):
        x.mean(dim=(0, -3))
    with pytest.raises(TypeError, match="axis or dim"):
        x.sum(axis=0, dim=1)


def test_dim_as_list_like_torch():
    torch = import_torch()
    x = np.arange(24.0).reshape(2, 3, 4)
    check_against_torch(lambda t: t.sum(dim=[0, 2]), lambda t: t.sum(dim=[0, 2]), [x], upstream_seed=8)


# ---- prod, norm, std, amin/min/argmin (torch API) and the fuzz fixes -------------------------------------------
@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), keepdim=st.booleans(), seed=SEEDS)
def test_prod(form, data, keepdim, seed):
    torch = import_torch()
    shape = data.draw(shapes())
    x = data.draw(arrays(shape, low=-1.5, high=1.5))
    dim = data.draw(st.none() | st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))  # torch: one dim or all
    if dim is None:
        check_op(lambda t: call(tr, form, "prod", t), lambda t: call(torch, form, "prod", t), [x], seed)
    else:
        check_op(lambda t: call(tr, form, "prod", t, dim=dim, keepdim=keepdim),
                 lambda t: call(torch, form, "prod", t, dim=dim, keepdim=keepdim), [x], seed)


@pytest.mark.parametrize("x", [[1.0, 0.0, 3.0], [0.0, 2.0, 0.0], [[2.0, 0.0], [3.0, 4.0]]])
def test_prod_gradient_with_zeros_is_the_product_of_the_others(x):
    """y / x_i would divide by zero; torch (and tinyreg) give the product of the other elements."""
    check_against_torch(lambda t: t.prod(), lambda t: t.prod(), [x], np.float64)
    check_against_torch(lambda t: t.prod(-1), lambda t: t.prod(-1), [x], np.float64)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf"), "fro"])
@given(data=st.data(), keepdim=st.booleans(), seed=SEEDS)
def test_norm(form, p, data, keepdim, seed):
    torch = import_torch()
    shape = data.draw(shapes())
    x = data.draw(distinct_arrays(shape) if p == float("inf") else arrays(shape, away_from=[0.0], margin=0.1))
    axis = data.draw(reduction_axes(len(shape)))
    torch_p = 2 if p == "fro" else p  # the same vector 2-norm (torch's "fro" with dims insists on exactly two)
    check_op(lambda t: call(tr, form, "norm", t, p=p, dim=axis, keepdim=keepdim),
             lambda t: call(torch, form, "norm", t, p=torch_p, dim=axis, keepdim=keepdim), [x], seed)


@pytest.mark.parametrize("p", [2, 1, 3, float("inf")])
def test_norm_of_zeros_has_torchs_zero_subgradient(p):
    check_against_torch(lambda t: t.norm(p), lambda t: t.norm(p), [np.zeros((2, 3))], np.float64)
    check_against_torch(lambda t: tr.norm(t, p, dim=1), lambda t: import_torch().norm(t, p, dim=1),
                        [[[0.0, 0.0], [3.0, -4.0]]], np.float32)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), unbiased=st.booleans(), seed=SEEDS)
def test_std(form, data, unbiased, seed):
    torch = import_torch()
    x, axis, keepdim, spelling = data.draw(reduction_cases())
    assume(reduced_count(x.shape, axis) > 1)
    check_op(lambda t: call(tr, form, "std", t, unbiased=unbiased, **tr_kwargs(spelling, axis, keepdim)),
             lambda t: call(torch, form, "std", t, dim=torch_dim(axis, x.ndim), keepdim=keepdim, unbiased=unbiased),
             [x], seed)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data(), seed=SEEDS)
def test_amin_and_min(form, data, seed):
    torch = import_torch()
    x, axis, keepdim, spelling = data.draw(reduction_cases(distinct_arrays))
    check_op(lambda t: call(tr, form, "amin", t, **tr_kwargs(spelling, axis, keepdim)),
             lambda t: call(torch, form, "amin", t, dim=torch_dim(axis, x.ndim), keepdim=keepdim), [x], seed)
    check_op(lambda t: call(tr, form, "min", t), lambda t: call(torch, form, "min", t), [x], seed)
    if x.ndim:
        check_op(lambda t: call(tr, form, "min", t, 0, keepdim).values,
                 lambda t: call(torch, form, "min", t, 0, keepdim).values, [x], seed)
        for lib_result in (call(tr, form, "min", tr.tensor(x), dim=-1), call(tr, form, "argmin", tr.tensor(x), -1)):
            indices = lib_result.indices if hasattr(lib_result, "indices") else lib_result
            np.testing.assert_array_equal(indices.numpy(), torch.tensor(x).argmin(-1).numpy())
        np.testing.assert_array_equal(call(tr, form, "argmin", tr.tensor(x)).numpy(), np.argmin(x))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp"])
@pytest.mark.parametrize("empty", [(), []])
def test_an_empty_dim_reduces_over_every_dim_like_torch(name, empty):
    """The fuzz found NumPy's reading (no reduction; var gave nan) where torch reduces everything."""
    torch = import_torch()
    x = np.array([[1.0, 2.5, -1.0], [0.5, 0.0, 3.0]])
    # torch 2.13 itself stumbles on dim=() in var's backward (inf/nan) and logsumexp (a shape error): for those
    # two the oracle is torch over the explicit tuple of all dims, which is what dim=() means.
    every = empty if name in ("sum", "mean", "amax") else (0, 1)
    check_against_torch(lambda t: getattr(t, name)(dim=empty), lambda t: getattr(torch, name)(t, dim=every), [x],
                        np.float64)
    check_against_torch(lambda t: getattr(tr, name)(t, dim=empty, keepdim=True),
                        lambda t: getattr(torch, name)(t, dim=every, keepdim=True), [x], np.float32)


def test_max_along_a_dim_with_a_nan_takes_it_like_torch():
    torch = import_torch()
    x = np.array([[1.0, np.nan, 0.5], [3.0, 2.0, -1.0]])
    check_against_torch(lambda t: t.max(dim=1).values, lambda t: t.max(dim=1).values, [x], np.float64)
    check_against_torch(lambda t: t.max(0).values, lambda t: t.max(0).values, [x], np.float32)
    np.testing.assert_array_equal(tr.tensor(x).max(1).indices.numpy(), torch.tensor(x).max(1).indices.numpy())
