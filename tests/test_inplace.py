"""In-place ops (tinyreg/inplace.py): values, the same object, torch's rules and errors, version counters, and the
error backward raises when a saved tensor was changed — each against torch."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import assert_close, import_torch
from tests.strategies import FLOAT_DTYPES, arrays, broadcastable_pair

# name -> (x, other) -> the in-place call; the same text runs on tinyreg and torch tensors.
BINARY = {
    "add_": lambda x, o: x.add_(o),
    "add_ alpha": lambda x, o: x.add_(o, alpha=-0.5),
    "sub_": lambda x, o: x.sub_(o),
    "sub_ alpha": lambda x, o: x.sub_(o, alpha=2),
    "mul_": lambda x, o: x.mul_(o),
    "div_": lambda x, o: x.div_(o),
    "copy_": lambda x, o: x.copy_(o),
}
AUGMENTED = {"+=": "__iadd__", "-=": "__isub__", "*=": "__imul__", "/=": "__itruediv__"}
UNARY = {
    "zero_": lambda x: x.zero_(),
    "fill_": lambda x: x.fill_(-1.25),
    "clamp_": lambda x: x.clamp_(-0.5, 1.0),
    "clamp_ min": lambda x: x.clamp_(min=0.0),
    "setitem": lambda x: x.__setitem__(x > 0, 0.0),
    "setitem slice": lambda x: x.__setitem__((Ellipsis, 0), 7.0),
}


def leaf_pair(lib, x, requires_grad=False):
    torch = import_torch()
    return (tr.tensor(x, requires_grad=requires_grad) if lib is tr else
            torch.tensor(x, requires_grad=requires_grad))


@given(pair=broadcastable_pair(min_dims=1), dtype=FLOAT_DTYPES, data=st.data())
def test_binary_inplace_ops_and_augmented_assignment_match_torch(pair, dtype, data):
    torch = import_torch()
    shape_x, shape_o = pair
    shape_x = np.broadcast_shapes(shape_x, shape_o)   # in place, x keeps its shape: only `other` may broadcast
    x = data.draw(arrays(shape_x, dtype=dtype))
    other = data.draw(arrays(shape_o, low=0.5, high=2.0, dtype=dtype))
    calls = {**BINARY, **{op: (lambda name: lambda x, o: getattr(x, name)(o))(m) for op, m in AUGMENTED.items()}}
    for name, call in calls.items():
        ours, theirs = tr.tensor(x), torch.tensor(x)
        result = call(ours, tr.tensor(other))
        call(theirs, torch.tensor(other))
        assert result is ours, f"{name} must return the tensor itself"
        assert_close(ours, theirs, what=name)
        assert ours.dtype == dtype and ours._version == theirs._version == 1, name


@given(shape=st.sampled_from([(), (3,), (2, 3)]), dtype=FLOAT_DTYPES, data=st.data())
def test_unary_inplace_ops_and_setitem_match_torch(shape, dtype, data):
    torch = import_torch()
    x = data.draw(arrays(shape, dtype=dtype))
    for name, call in UNARY.items():
        if name == "setitem slice" and shape == ():
            continue
        ours, theirs = tr.tensor(x), torch.tensor(x)
        result = call(ours)
        call(theirs)
        assert result is ours or name.startswith("setitem"), f"{name} must return the tensor itself"
        assert_close(ours, theirs, what=name)
        assert ours._version == theirs._version == 1, name


def test_augmented_assignment_changes_the_object_other_names_hold():
    params = [tr.ones(3), tr.ones(2)]
    for p in params:
        p -= 0.5                                   # rebinds the loop variable to the same object: params change
    assert [p.tolist() for p in params] == [[0.5] * 3, [0.5] * 2]


def test_d2l_sgd_trains_the_model_as_torch_does():
    """d2l's from-scratch linear regression: ``param -= lr * param.grad / batch_size; param.grad.zero_()`` under
    no_grad. Ten epochs on the same data and initial values reach torch's parameters, near the true ones."""
    torch = import_torch()
    rng = np.random.default_rng(0)
    features = rng.standard_normal((64, 2)).astype(np.float32)
    labels = (features @ np.array([2.0, -3.4], np.float32) + 4.2)[:, None]
    w0 = rng.normal(0, 0.01, (2, 1)).astype(np.float32)
    results = []
    for lib in (tr, torch):
        w, b = lib.tensor(w0, requires_grad=True), lib.zeros(1, requires_grad=True)
        X, y = lib.tensor(features), lib.tensor(labels)
        for _ in range(10):
            for i in range(0, 64, 16):
                loss = ((X[i:i + 16] @ w + b - y[i:i + 16]) ** 2 / 2).sum()
                loss.backward()
                with lib.no_grad():
                    for param in (w, b):
                        param -= 0.5 * param.grad / 16
                        param.grad.zero_()
        results.append((w, b))
    (w, b), (wt, bt) = results
    assert_close(w, wt, what="w")
    assert_close(b, bt, what="b")
    np.testing.assert_allclose(np.asarray(w).ravel(), [2.0, -3.4], atol=0.05)   # it trained


@pytest.mark.parametrize("name", [*BINARY, *AUGMENTED, *UNARY, "normal_", "uniform_"])
def test_inplace_on_a_leaf_that_requires_grad_raises_torchs_error(name):
    torch = import_torch()
    messages = []
    for lib in (tr, torch):
        x = lib.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            if name in BINARY:
                BINARY[name](x, lib.ones(3))
            elif name in AUGMENTED:
                getattr(x, AUGMENTED[name])(1.0)
            elif name in UNARY:
                UNARY[name](x)
            else:
                getattr(x, name)()
        messages.append(str(info.value))
        assert x._version == 0
    # (torch says "a view of a leaf Variable ..." for x[..., 0] = v: it writes through a view)
    assert messages[0] == "a leaf Variable that requires grad is being used in an in-place operation."
    assert messages[1].endswith(messages[0])


def test_inplace_is_allowed_under_no_grad_and_on_tensors_without_grad():
    w = tr.ones(3, requires_grad=True)
    with tr.no_grad():
        w.mul_(2)
        w[0] = 5.0
    c = tr.ones(3)
    c.add_(1)
    assert w.tolist() == [5.0, 2.0, 2.0] and w.is_leaf and w.requires_grad and w._version == 2
    assert c.tolist() == [2.0, 2.0, 2.0] and c.grad_fn is None


@pytest.mark.parametrize("dtype, call, message", [
    ("int64", lambda x, lib: x.add_(1.5), "result type Float can't be cast to the desired output type Long"),
    ("float32", lambda x, lib: x.add_(lib.ones(2, 3)),
     "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ("bool", lambda x, lib: x.add_(1), "result type Long can't be cast to the desired output type Bool"),
    ("int64", lambda x, lib: x.div_(2), "result type Float can't be cast to the desired output type Long"),
    ("float32", lambda x, lib: x.fill_(lib.ones(2)), "fill_ only supports 0-dimension value tensor but got tensor with "
                                                     "1 dimensions."),
])
def test_casting_and_shape_errors_match_torch(dtype, call, message):
    torch = import_torch()
    for lib, dtypes in ((tr, dict(int64=tr.int64, bool=tr.bool_, float32=tr.float32)),
                        (torch, dict(int64=torch.int64, bool=torch.bool, float32=torch.float32))):
        x = lib.zeros(3, dtype=dtypes[dtype])
        with pytest.raises(RuntimeError, match=re.escape(message)):
            call(x, lib)
        assert x._version == 0


def test_assignments_convert_to_the_tensors_dtype_like_torch():
    torch = import_torch()
    for lib in (tr, torch):
        x = lib.zeros(3, dtype=lib.int64)
        x.fill_(3.7)
        assert x.tolist() == [3, 3, 3]
        x.copy_(lib.tensor([1.9, -2.5, 3.0]))
        assert x.tolist() == [1, -2, 3]
        x[0] = 8.9
        assert x.tolist() == [8, -2, 3]
        with pytest.raises(TypeError, match=re.escape("copy_(): argument 'other' (position 1) must be Tensor, not "
                                                      "numpy.ndarray")):
            x.copy_(np.ones(3))


@pytest.mark.parametrize("name, draw", [("normal_", lambda g, shape: g.normal(0.5, 2.0, shape)),
                                        ("uniform_", lambda g, shape: g.uniform(-1.0, 3.0, shape))])
def test_random_fills_draw_from_tinyregs_generator(name, draw):
    args = (0.5, 2.0) if name == "normal_" else (-1.0, 3.0)
    tr.manual_seed(3)
    x = tr.zeros(4, 5)
    assert getattr(x, name)(*args) is x and x.dtype == np.float32 and x._version == 1
    expected = draw(np.random.Generator(np.random.PCG64(3)), (4, 5)).astype(np.float32)
    np.testing.assert_array_equal(x, expected)
    w = tr.nn.Linear(3, 2).weight
    w.data.normal_(0, 0.01)                        # the d2l/torch idiom: writes into the weight
    assert np.abs(np.asarray(w)).max() < 0.1
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(tr.zeros(2, dtype=tr.int64), name)()


# ---- version counters ----------------------------------------------------------------------------------------
def test_version_counters_follow_torch():
    """In-place writes bump the counter; views and detach() share it, .data does not (torch's rules)."""
    torch = import_torch()
    versions = []
    for lib in (tr, torch):
        x = lib.ones(2, 3)
        seen = [x._version]
        x[0] = 2.0
        x[x > 1] = 0.0
        x += 1
        x.zero_(), x.fill_(1.0), x.copy_(lib.ones(3)), x.clamp_(0.0, 1.0)
        seen.append(x._version)
        row = x[0]
        row.add_(1)                                 # a view: shares x's counter
        x.view(-1).mul_(2)
        seen += [x._version, row._version]
        d = x.data
        d.add_(1)                                   # .data has a counter of its own
        seen += [x._version, d._version]
        x.detach().sub_(1)                          # detach() shares it
        seen.append(x._version)
        versions.append(seen)
    assert versions[0] == versions[1]


def test_backward_refuses_a_saved_tensor_changed_in_place_like_torch():
    torch = import_torch()
    messages = []
    for lib in (tr, torch):
        x = lib.ones(3, 4, requires_grad=True)
        w = lib.ones(4, 4, requires_grad=True)
        out = (x @ w).sum()                         # matmul saves x and w
        with lib.no_grad():
            w.add_(1)
            w.mul_(2)
        with pytest.raises(RuntimeError) as info:
            out.backward()
        messages.append(str(info.value))
        y = lib.ones(3, requires_grad=True).exp()   # exp saves its output
        with lib.no_grad():
            y.add_(1)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        messages.append(str(info.value))
    head = "one of the variables needed for gradient computation has been modified by an inplace operation: "
    assert messages[0].startswith(head + "[torch.FloatTensor [4, 4]] is at version 2; expected version 0 instead.")
    assert messages[1].startswith(head + "[torch.FloatTensor [3]], which is output 0 of Exp, is at version 1; "
                                         "expected version 0 instead.")
    for ours, theirs in ((messages[0], messages[2]), (messages[1], messages[3])):
        assert ours.split(" Hint")[0] == theirs.split(" Hint")[0]


def test_a_change_to_an_unsaved_input_is_fine_like_torch():
    x = tr.ones(3, requires_grad=True)
    c = tr.full(3, 2.0)
    y = (x + c).sum()                              # add saves nothing: changing c cannot spoil its backward
    c.add_(1)
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_a_graph_built_before_optimizer_step_refuses_backward_like_torch(optimizer):
    """``out = model(x); opt.step(); out.backward()`` would use the updated weights with the old activations (a
    wrong gradient, silently): torch raises, and so does tinyreg."""
    torch = import_torch()
    for lib in (tr, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 1))
        opt = getattr(lib.optim, optimizer)(model.parameters(), lr=0.1)
        x = lib.ones(2, 4)
        model(x).sum().backward()
        out = model(x).sum()
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()
        opt.zero_grad()
        model(x).sum().backward()                  # a fresh forward pass after the step is fine
        assert all(p.grad is not None for p in model.parameters())


# ---- in-place ops in the graph -------------------------------------------------------------------------------
def graph_with_inplace(lib, x, w):
    """Every kind of recorded in-place write on non-leaf tensors, and writes of graph values into a plain tensor."""
    y = x * 2
    y.add_(w, alpha=0.5)
    y.mul_(x)
    y /= w
    y[0, 1] = x[1, 2] * 3
    y[y < 0] = 0.0                                 # a comparison is not recorded: y is still unused
    y.clamp_(max=4.0)
    out = lib.zeros(3, 2, dtype=x.dtype)
    out[:, 0] = w
    out[1] = w.sum()
    return (out * out).sum() + (y * y).sum()


@given(data=st.data())
def test_inplace_ops_in_the_graph_are_recorded_like_torch(data):
    torch = import_torch()
    x_np = data.draw(arrays((2, 3), low=-2, high=2, away_from=[0.0], margin=0.1))
    w_np = data.draw(arrays((3,), low=0.5, high=2))
    ours = [tr.tensor(a, requires_grad=True) for a in (x_np, w_np)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x_np, w_np)]
    loss, loss_torch = graph_with_inplace(tr, *ours), graph_with_inplace(torch, *theirs)
    assert_close(loss, loss_torch, what="loss")
    loss.backward()
    loss_torch.backward()
    for a, b, name in zip(ours, theirs, "xw"):
        assert_close(a.grad, b.grad, what=f"grad of {name}")


def test_gradcheck_through_inplace_writes():
    x = tr.tensor([[0.3, -1.2, 2.0], [0.7, 1.1, -0.4]], dtype=tr.float64, requires_grad=True)
    w = tr.tensor([1.5, 0.8, 1.2], dtype=tr.float64, requires_grad=True)
    assert tr.gradcheck(lambda x, w: graph_with_inplace(tr, x, w), (x, w))


def test_inplace_on_a_used_tensor_or_a_view_in_the_graph_names_the_out_of_place_form():
    """tinyreg's nodes point at tensors: re-pointing a tensor some node already uses would send that node's gradient
    to the wrong place, so such writes are refused (torch, whose nodes point at nodes, accepts some of them)."""
    x = tr.ones(2, 3, requires_grad=True)
    y = x * 2
    z = y + 1                                      # y is used
    row, flat = z[0], z.view(-1)                   # views
    for target, call in ((y, lambda t: t.add_(1)), (row, lambda t: t.mul_(2)), (flat, lambda t: t.clamp_(0, 1))):
        with pytest.raises(RuntimeError, match=re.escape("Use the out-of-place form: x = x")):
            call(target)
    with pytest.raises(RuntimeError, match="tr.where"):
        z[0] = x.sum()
    assert y.tolist() == [[2.0] * 3] * 2 and y._version == z._version == 0    # nothing was written
    with tr.no_grad():
        y.add_(1)                                  # allowed, as in torch; z's add saved nothing, so backward is right
    z.sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_a_recorded_write_into_a_view_of_a_tensor_outside_the_graph_is_refused_not_lost():
    """buf[0].copy_(w * 2) writes into buf's memory, but only the view could join the graph, so buf's later uses would
    send no gradient to w (torch rewrites buf's graph and gives w.grad = 10 here; tinyreg gave 2). Refused instead,
    before anything is written, for views of views too."""
    w = tr.ones(3, requires_grad=True)
    buf = tr.zeros(2, 3)
    writes = (lambda: buf[0].copy_(w * 2), lambda: buf[1].add_(w), lambda: buf.view(-1)[:3].mul_(w),
              lambda: buf.view(6).__setitem__(slice(0, 3), w * 2))
    for write in writes:
        with pytest.raises(RuntimeError, match="is a view"):
            write()
    assert buf.tolist() == [[0.0] * 3] * 2 and buf._version == 0 and not buf.requires_grad
    assert buf[0]._base is buf and buf.view(-1)[:3]._base is buf and buf._base is None
    with tr.no_grad():
        buf[0].copy_(w * 2)                        # outside the graph the write is allowed, as in torch
    assert buf.tolist() == [[2.0] * 3, [0.0] * 3] and buf._version == 1


@pytest.mark.parametrize("layer", ["relu", "dropout"])
def test_inplace_layers_write_into_their_input_and_give_torchs_gradients(layer):
    """nn.ReLU(inplace=True) and nn.Dropout(inplace=True) change their input and return it; the gradient through the
    recorded write equals torch's (dropout with p = 0.5 and the mask drawn by each framework: compared by its pattern)."""
    torch = import_torch()
    x0 = np.array([[-1.5, 0.0, 2.0, 0.5], [3.0, -0.25, 1.0, -2.0]])
    results = []
    for lib in (tr, torch):
        w = lib.tensor(x0, requires_grad=True)
        h = w * 1.0
        module = lib.nn.ReLU(inplace=True) if layer == "relu" else lib.nn.Dropout(0.5, inplace=True)
        y = module(h)
        assert y is h
        (y * y).sum().backward()
        kept = np.asarray(h.detach()) != 0
        results.append((np.asarray(h.detach()), np.asarray(w.grad), kept))
    (ours, our_grad, our_kept), (theirs, their_grad, their_kept) = results
    if layer == "relu":
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(our_grad, their_grad)
    else:    # kept units are scaled by 1/(1 − p) = 2, and d(y²)/dw = 2y·2 = 8w there, 0 where dropped
        for values, grad, kept in results:
            np.testing.assert_array_equal(values, np.where(kept, 2 * x0, 0.0))
            np.testing.assert_array_equal(grad, np.where(kept, 8 * x0, 0.0))
