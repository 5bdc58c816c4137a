"""``.data`` and ``.grad`` are Tensors (tinyreg/tensor.py), the graph as torch shows it (grad_fn, next_functions),
backward(gradient=), retain_grad, detach_ and grad mode: each against torch."""

import re

import numpy as np
import pytest

import tinyreg as tr
from tests.helpers import assert_close, import_torch


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    torch = import_torch()
    for lib in (tr, torch):
        w = lib.ones(2, 3, requires_grad=True)
        d = w.data
        assert isinstance(d, lib.Tensor) and not d.requires_grad and d.is_leaf and d.grad_fn is None
        d[0, 0] = 5.0
        d[1].fill_(2.0)                            # through a view of .data too
        assert w.tolist() == [[5.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
        assert w.grad_fn is None and w._version == 0   # .data's writes are not counted on w (torch's rule)


def test_data_assignment_rebinds_the_storage_like_torch():
    torch = import_torch()
    for lib in (tr, torch):
        p = lib.zeros(3, requires_grad=True)
        new = lib.ones(5, dtype=lib.float64)
        p.data = new                               # torch allows another shape and dtype here
        new[0] = 7.0
        assert p.shape == (5,) and p.dtype == new.dtype and p[0].item() == 7.0
        assert p.requires_grad and p._version == 0
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got float"):
            p.data = 0.0
        with pytest.raises(RuntimeError, match="data set to a tensor that requires gradients must be floating point"):
            p.data = lib.zeros(3, dtype=lib.int64)


def test_grad_is_a_tensor_of_the_parameters_shape_and_dtype():
    p = tr.nn.Parameter(np.arange(6.0).reshape(2, 3))
    (p * p).sum().backward()
    g = p.grad
    assert isinstance(g, tr.Tensor) and not g.requires_grad and g.shape == p.shape and g.dtype == p.dtype
    np.testing.assert_array_equal(g, 2 * np.arange(6.0).reshape(2, 3))
    g.data[0, 0] = -1.0                            # .grad.data shares the gradient's memory
    assert p.grad[0, 0].item() == -1.0
    assert p.grad.zero_() is g and not np.asarray(p.grad).any()
    (p * p).sum().backward()
    assert p.grad is g                             # accumulated in place into the same tensor
    p.grad = None
    assert p.grad is None


@pytest.mark.parametrize("value", [0.0, "array", "(4,)", "(4, 3)", "float64"])
def test_grad_assignment_is_checked_like_torch(value):
    torch = import_torch()
    messages = []
    for lib in (tr, torch):
        p = lib.zeros(3, 4, requires_grad=True)
        bad = {"array": np.zeros((3, 4), np.float32), "(4,)": lib.zeros(4), "(4, 3)": lib.zeros(4, 3),
               "float64": lib.zeros(3, 4, dtype=lib.float64)}.get(value, value)
        with pytest.raises((TypeError, RuntimeError)) as info:
            p.grad = bad
        messages.append((type(info.value), str(info.value)))
        assert p.grad is None
    (ours_type, ours), (theirs_type, theirs) = messages
    assert ours_type is theirs_type
    if value == "float64":                         # torch 2.13 words it with its grad_dtype attribute
        assert ours.startswith("attempting to assign a gradient with dtype 'float64' to a tensor with dtype 'float32'")
        assert theirs.startswith("attempting to assign a gradient with dtype")
    else:
        assert ours == theirs


def test_an_assigned_grad_is_the_grad_and_accumulates_in_place_like_torch():
    torch = import_torch()
    for lib in (tr, torch):
        p = lib.ones(2, requires_grad=True)
        g = lib.full((2,), 10.0)
        p.grad = g
        (p * 3).sum().backward()
        assert p.grad is g and g.tolist() == [13.0, 13.0]


def test_backward_gradient_keyword_like_torch():
    torch = import_torch()
    upstream = np.array([[1.0, -2.0], [0.5, 3.0]])
    grads = []
    for lib in (tr, torch):
        x = lib.tensor(upstream * 0 + 1.5, requires_grad=True)
        (x * x).backward(gradient=lib.tensor(upstream))
        grads.append(x.grad)
    assert_close(grads[0], grads[1])
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\] has a shape of"):
        tr.ones(2, requires_grad=True).sum().backward(gradient=tr.ones(2))
    with pytest.raises(NotImplementedError, match="create_graph"):
        tr.ones(1, requires_grad=True).sum().backward(create_graph=True)


def describe(node):
    """A node and everything behind it as nested (name, [inputs]), with leaves by their AccumulateGrad name."""
    if node is None:
        return None
    return node.name(), [(describe(n), k) for n, k in node.next_functions]


def test_grad_fn_and_next_functions_like_torch():
    torch = import_torch()
    graphs = []
    for lib in (tr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([0.5, 0.5], requires_grad=True)
        y = (x * w + 1.0).exp().sum()
        assert re.fullmatch(r"<SumBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
        mul = y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
        assert [n.variable for n, _ in mul.next_functions] == [x, w]
        graphs.append(describe(y.grad_fn))
    assert graphs[0] == graphs[1]
    assert tr.ones(2, requires_grad=True).grad_fn is None


def test_retain_grad_keeps_a_non_leaf_gradient_like_torch():
    torch = import_torch()
    grads = []
    for lib in (tr, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        h = x * 3
        h.retain_grad()
        (h * h).sum().backward()
        grads.append(h.grad)
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
            lib.ones(2).retain_grad()
    assert_close(grads[0], grads[1])


def test_detach_shares_memory_and_detach_inplace_makes_a_leaf():
    torch = import_torch()
    for lib in (tr, torch):
        y = lib.ones(3, requires_grad=True) * 2
        d = y.detach()
        d[0] = 9.0
        assert y[0].item() == 9.0 and y._version == 1 and not d.requires_grad
        y.detach_()
        assert y.is_leaf and not y.requires_grad and y.grad_fn is None
        with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
            (lib.ones(1, requires_grad=True) * 2).requires_grad_(False)


def test_set_grad_enabled_and_enable_grad_like_torch():
    torch = import_torch()
    for lib in (tr, torch):
        assert lib.is_grad_enabled()
        lib.set_grad_enabled(False)                # as a function: takes effect at once
        try:
            assert not lib.is_grad_enabled()
            assert not (lib.ones(1, requires_grad=True) * 2).requires_grad
            with lib.enable_grad():
                assert (lib.ones(1, requires_grad=True) * 2).requires_grad
            assert not lib.is_grad_enabled()
        finally:
            lib.set_grad_enabled(True)
        for mode in (False, True):
            with lib.set_grad_enabled(mode):       # as a context manager: restores the previous mode
                assert lib.is_grad_enabled() is mode
            assert lib.is_grad_enabled()
        with lib.no_grad():
            @lib.enable_grad()
            def doubled(x):
                return x * 2
            assert doubled(lib.ones(1, requires_grad=True)).requires_grad
        with pytest.raises(TypeError, match="set_grad_enabled\\(\\): argument 'enabled' \\(position 1\\) must be bool"):
            lib.set_grad_enabled(1)
