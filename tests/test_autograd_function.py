"""Custom autograd functions (tinyreg/autograd/function.py), written exactly as for torch and checked against it."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import assert_close, import_torch
from tests.strategies import arrays, shapes


def functions(lib):
    """The same source text on top of ``lib.autograd.Function`` (tinyreg or torch)."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):
            (y,) = ctx.saved_tensors
            return grad_y * y

    class ScaledProduct(lib.autograd.Function):
        """(a * b * scale, a + b): two outputs, a constant argument, needs_input_grad recorded in forward."""

        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            ctx.seen_needs = ctx.needs_input_grad
            return a * b * scale, a + b

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            a, b = ctx.saved_tensors
            grad_a = grad_product * b * ctx.scale + grad_sum if ctx.needs_input_grad[0] else None
            grad_b = grad_product * a * ctx.scale + grad_sum if ctx.needs_input_grad[1] else None
            return grad_a, grad_b, None

    return Exp, ScaledProduct


@given(shape=shapes(max_dims=2), data=st.data())
def test_a_hand_written_backward_matches_torch_and_finite_differences(shape, data):
    torch = import_torch()
    x = data.draw(arrays(shape))
    Exp, _ = functions(tr)
    TorchExp, _ = functions(torch)
    ours, theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, y_torch = Exp.apply(ours), TorchExp.apply(theirs)
    assert_close(y, y_torch, what="output")
    upstream = np.cos(np.arange(y.numel())).reshape(y.shape)
    (y * tr.tensor(upstream)).sum().backward()
    (y_torch * torch.tensor(upstream)).sum().backward()
    assert_close(ours.grad, theirs.grad, what="gradient")
    assert tr.gradcheck(Exp.apply, tr.tensor(x, requires_grad=True))


@pytest.mark.parametrize("use", ["both", "product only", "sum only"])
def test_several_outputs_and_a_constant_argument_match_torch(use):
    """An output the loss does not use still gets a gradient in backward: zeros, as torch materializes them."""
    torch = import_torch()
    a_np, b_np = np.array([[0.5, -1.0, 2.0]]), np.array([[1.5], [0.25]])
    results = []
    for lib in (tr, torch):
        _, ScaledProduct = functions(lib)
        a, b = lib.tensor(a_np, requires_grad=True), lib.tensor(b_np)
        product, total = ScaledProduct.apply(a, b, 3.0)
        loss = {"both": (product * total).sum(), "product only": product.sum(), "sum only": (total ** 2).sum()}[use]
        loss.backward()
        results.append((product, total, a.grad))
        assert b.grad is None
        node = product.grad_fn
        assert node.seen_needs == (True, False, False) and node.name() == "ScaledProductBackward"
        assert total.grad_fn is node
    for ours, theirs, what in zip(results[0], results[1], ("product", "sum", "grad of a")):
        assert_close(ours, theirs, what=what)
    a, b = tr.tensor(a_np, requires_grad=True), tr.tensor(b_np, requires_grad=True)
    assert tr.gradcheck(lambda a, b: functions(tr)[1].apply(a, b, 3.0), (a, b))


def test_grad_fn_prints_like_torch():
    torch = import_torch()
    reprs = []
    for lib in (tr, torch):
        y = functions(lib)[0].apply(lib.tensor([0.0, 1.0], requires_grad=True))
        reprs.append((repr(y), repr(y.grad_fn)))
    assert reprs[0][0] == reprs[1][0] == "tensor([1.0000, 2.7183], grad_fn=<ExpBackward>)"
    assert re.fullmatch(r"<ExpBackward object at 0x[0-9a-f]+>", reprs[0][1])
    assert reprs[1][1].startswith("<torch.autograd.function.ExpBackward object at 0x")


def test_no_graph_under_no_grad_or_without_inputs_that_require_grad():
    Exp, _ = functions(tr)
    with tr.no_grad():
        y = Exp.apply(tr.ones(2, requires_grad=True))
    z = Exp.apply(tr.ones(2))
    assert y.grad_fn is None and not y.requires_grad and z.grad_fn is None


def bad_function(backward_result=None, saves=None):
    class Bad(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if saves is not None:
                ctx.save_for_backward(saves)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return backward_result(grad)

    return Bad


@pytest.mark.parametrize("backward_result, error, message", [
    (lambda g: (g, g), RuntimeError,
     "function BadBackward returned an incorrect number of gradients (expected 1, got 2)"),
    (lambda g: tr.ones(4), RuntimeError, "Function BadBackward returned an invalid gradient at index 0 - got [4] but "
                                         "expected shape compatible with [2]"),
    (lambda g: 1.0, TypeError, "function BadBackward returned a gradient of type float at index 0"),
])
def test_a_wrong_backward_gets_torchs_error(backward_result, error, message):
    y = bad_function(backward_result).apply(tr.ones(2, requires_grad=True))
    with pytest.raises(error, match=re.escape(message)):
        y.sum().backward()


def test_trailing_nones_and_broadcast_gradients_are_accepted_like_torch():
    x = tr.ones(2, requires_grad=True)
    bad_function(lambda g: (tr.ones(3, 2), None, None)).apply(x).sum().backward()   # summed back to x's shape
    assert x.grad.tolist() == [3.0, 3.0]


def test_saved_tensors_are_checked_and_freed():
    with pytest.raises(TypeError, match="save_for_backward can only save variables, but argument 0 is of type int"):
        bad_function(saves=3).apply(tr.ones(2, requires_grad=True))
    Exp, _ = functions(tr)
    y = Exp.apply(tr.ones(3, requires_grad=True))
    with tr.no_grad():
        y.mul_(2)                                  # Exp saved its output
    with pytest.raises(RuntimeError, match=re.escape("[torch.FloatTensor [3]] is at version 1; expected version 0")):
        y.sum().backward()
    y = Exp.apply(tr.ones(3, requires_grad=True))
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
