"""A call that raises changes nothing (issue 14, items 1-3), for every optimizer: a failed step() leaves every
parameter, gradient, state array and step count byte-identical; a failed constructor leaves the parameters' arrays
alone; lr = 0 groups step like torch, with or without a scheduler; gradients that do not fit are refused when
assigned (as torch does) and, when rebound behind the setter's back (``p.grad.data = ...``), by the optimizer, never
broadcast or cast."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyreg as tr
from tinyreg.optim import OPTIMIZERS

NAMES = sorted(OPTIMIZERS)


def bad_group_value(optimizer, rng):
    """Set a value the optimizer must refuse in the last group (after construction, as a user could)."""
    group = optimizer.param_groups[-1]
    key, value = [("lr", -1.0), ("lr", np.array([1e-3])), ("lr", "0.1"), ("weight_decay", -0.5),
                  ("decay", "l1"), ("maximize", "yes")][rng.integers(6)]
    group[key] = value


def bad_gradient(optimizer, rng):
    """A gradient that does not fit: the ``.grad`` setter refuses it and keeps the old one; rebinding the gradient's
    memory (``p.grad.data = ...``, which torch allows too) gets it past the setter, for step() to refuse."""
    p = optimizer.param_groups[-1]["params"][-1]
    shape, dtype = p.shape, p.dtype
    other = np.float64 if dtype == np.float32 else np.float32
    wrong = [np.ones((1,) * max(1, len(shape)) if shape != (1,) else (2,), dtype),        # broadcastable, wrong
             np.ones(shape, other)][rng.integers(2)]                                      # silently castable
    grad = p.grad
    with pytest.raises(RuntimeError, match="attempting to assign a gradient"):
        p.grad = tr.tensor(wrong)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        p.grad = np.ones(shape, dtype)                                                    # not a Tensor
    assert p.grad is grad
    p.grad.data = tr.tensor(wrong)


def rebound_parameter(optimizer, rng):
    """A ``.data`` of another shape or floating dtype is accepted (as in torch) for step() to refuse; an integer one
    is refused at assignment, the parameter untouched."""
    p = optimizer.param_groups[-1]["params"][-1]
    other = np.float64 if p.dtype == np.float32 else np.float32
    values = np.asarray(p).copy()
    with pytest.raises(RuntimeError, match="must be floating point"):
        p.data = tr.ones(p.shape, dtype=tr.int64)
    assert np.asarray(p).tobytes() == values.tobytes()
    p.data = tr.tensor([np.ones((5, 5), p.dtype), np.ones(p.shape, other)][rng.integers(2)])


FAULTS = {"bad group value": bad_group_value, "bad gradient": bad_gradient, "rebound parameter": rebound_parameter}


def fingerprint(optimizer):
    """Every byte a step could change: parameters, gradients, state arrays and step counts (via state_dict)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state = optimizer.state_dict()["state"]
    return ([np.asarray(p).tobytes() for p in params],
            [None if p.grad is None else np.asarray(p.grad).tobytes() for p in params],
            {i: {k: np.asarray(v).tobytes() for k, v in entry.items()} for i, entry in state.items()})


@settings(deadline=None, max_examples=60)
@given(name=st.sampled_from(NAMES), fault=st.sampled_from(sorted(FAULTS)), dtype=st.sampled_from([np.float32,
                                                                                                      np.float64]),
       steps=st.integers(0, 3), seed=st.integers(0, 2**31), backend=st.sampled_from(["numba", "numpy"]))
def test_a_step_that_raises_changes_nothing(name, fault, dtype, steps, seed, backend):
    rng = np.random.default_rng(seed)
    params = [tr.nn.Parameter(rng.standard_normal(shape).astype(dtype)) for shape in ((3,), (2, 2), (4,))]
    optimizer = OPTIMIZERS[name]([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], lr=0.01,
                                 weight_decay=0.1, backend=backend)
    for _ in range(steps):
        for p in params:
            p.grad = tr.tensor(rng.standard_normal(p.shape).astype(dtype))
        optimizer.step()
    for p in params:
        p.grad = tr.tensor(rng.standard_normal(p.shape).astype(dtype))
    FAULTS[fault](optimizer, rng)
    before = fingerprint(optimizer)
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        optimizer.step()
    assert fingerprint(optimizer) == before


# ---- the cases of issue 14, one by one ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sgd", "adamw", "rmsprop", "nadam"])
@pytest.mark.parametrize("with_scheduler", [False, True])
def test_a_group_with_lr_zero_steps_like_torch(name, with_scheduler):
    """torch steps fine with an lr = 0 group and any scheduler; its parameters do not move, the others do."""
    a, b = tr.nn.Parameter(np.ones(3)), tr.nn.Parameter(np.ones(3))
    optimizer = OPTIMIZERS[name]([{"params": [a]}, {"params": [b], "lr": 0.0}], lr=1e-2)
    scheduler = tr.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5) if with_scheduler else None
    for _ in range(3):
        a.grad, b.grad = tr.ones_like(a), tr.ones_like(b)
        optimizer.step()
        if scheduler:
            scheduler.step()
    assert np.all(np.asarray(a) != 1.0) and np.all(np.asarray(b) == 1.0)
    if scheduler:
        assert scheduler.get_last_eta() == [0.125, 1.0]


def test_an_array_lr_is_refused_before_anything_changes():
    a, b = tr.nn.Parameter(np.ones(2)), tr.nn.Parameter(np.ones(2))
    optimizer = tr.optim.Adam([{"params": [a]}, {"params": [b]}])
    optimizer.param_groups[1]["lr"] = np.array([1e-3])         # in group 2: group 1 would be updated first
    a.grad, b.grad = tr.ones_like(a), tr.ones_like(b)
    with pytest.raises(ValueError, match=r"Invalid lr: array\(\[0.001\]\) \(expected a real number"):
        optimizer.step()
    assert np.all(np.asarray(a) == 1.0)
    with pytest.raises(ValueError, match="Invalid lr"):
        tr.optim.SGD([{"params": [tr.nn.Parameter(np.ones(2))], "lr": np.array([1e-3])}])


@pytest.mark.parametrize("grad, message", [
    (np.ones(4, np.float32), "has shape \\(4,\\) but the parameter has shape \\(3, 4\\)"),
    (np.ones(1, np.float32), "has shape \\(1,\\) but the parameter has shape \\(3, 4\\)"),
    (np.ones(5, np.float32), "has shape \\(5,\\)"),
    (np.ones((3, 4), np.float64), "has dtype float64 but the parameter has dtype float32"),
])
def test_gradients_set_before_the_optimizer_are_checked(grad, message):
    """The ``.grad`` setter refuses a gradient that does not fit (torch's check); one rebound behind it
    (``p.grad.data = ...``) is refused by the constructor, which then has rebound nothing."""
    p = tr.nn.Parameter(np.zeros((3, 4), np.float32))
    with pytest.raises(RuntimeError, match="attempting to assign a gradient"):
        p.grad = tr.tensor(grad)
    assert p.grad is None, "the refused gradient was not stored"
    p.grad = tr.zeros_like(p)
    p.grad.data = tr.tensor(grad)
    data, gradient, gradient_array = np.asarray(p), p.grad, np.asarray(p.grad)
    with pytest.raises(RuntimeError, match=message):
        tr.optim.AdamW([p])
    assert np.asarray(p) is data and p.grad is gradient and np.asarray(p.grad) is gradient_array, \
        "the failed constructor rebound nothing"


def test_a_constructor_that_raises_has_rebound_nothing():
    p = tr.nn.Parameter(np.ones(3))
    data = np.asarray(p)
    with pytest.raises(ValueError, match="more than one parameter group"):
        tr.optim.Adam([{"params": [p]}, {"params": [p]}])
    assert np.asarray(p) is data
    q = tr.nn.Parameter(np.ones(3))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        tr.optim.SGD([{"params": [q]}, {"params": [tr.nn.Parameter(np.ones(2))], "lr": -1.0}])
    assert np.asarray(q).base is None, "the first group was not moved into a flat buffer"


# ---- torch's keywords -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_torch_implementation_keywords_are_accepted_and_the_impossible_ones_refused(name):
    cls = OPTIMIZERS[name]
    cls([tr.nn.Parameter(np.ones(2))], foreach=True, fused=None, capturable=False, differentiable=False)
    for key in ("capturable", "differentiable"):
        with pytest.raises(ValueError, match=f"{key}=True is not supported"):
            cls([tr.nn.Parameter(np.ones(2))], **{key: True})
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        cls([tr.nn.Parameter(np.ones(2))], foo=1)


def test_adam_decoupled_weight_decay_is_adamw():
    a, b = tr.nn.Parameter(np.linspace(-1, 1, 5)), tr.nn.Parameter(np.linspace(-1, 1, 5))
    adam = tr.optim.Adam([a], lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)
    adamw = tr.optim.AdamW([b], lr=0.1, weight_decay=0.1)
    for _ in range(3):
        a.grad, b.grad = tr.ones_like(a), tr.ones_like(b)
        adam.step()
        adamw.step()
    assert adam.param_groups[0]["decay"] == "decoupled" and np.asarray(a).tobytes() == np.asarray(b).tobytes()
    with pytest.raises(ValueError, match="contradicts decoupled_weight_decay=True"):
        tr.optim.Adam([tr.nn.Parameter(np.ones(2))], decay="l2", decoupled_weight_decay=True)
