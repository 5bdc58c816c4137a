"""The engine's and the optimizer step's fast paths, tested equal to the general paths they skip, on random inputs."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tinyreg as tr
from tinyreg.promotion import nothing_to_promote, promote_like_torch, result_type

DTYPES = [np.bool_, np.int32, np.int64, np.float16, np.float32, np.float64, np.complex64]


@st.composite
def operand(draw):
    """An array of any dtype and shape (0-d too), or a Python or NumPy number."""
    kind = draw(st.sampled_from(["array", "python", "numpy"]))
    if kind == "python":
        return draw(st.one_of(st.booleans(), st.integers(-5, 5), st.floats(-5, 5), st.complex_numbers(max_magnitude=5)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    if kind == "numpy":
        return dtype.type(draw(st.integers(0, 3)))
    shape = draw(st.sampled_from([(), (1,), (3,), (2, 3)]))
    return np.ones(shape, dtype)


@settings(max_examples=300, deadline=None)
@given(st.lists(operand(), min_size=1, max_size=3), st.booleans())
def test_skipping_promotion_is_what_the_rule_gives(operands, floating):
    """Where Function.apply skips promote_like_torch (nothing_to_promote), torch's rule would change nothing: every
    array already has the result dtype, and the numbers stay as they are."""
    if nothing_to_promote(operands):
        dtype = result_type(operands)
        assert all(a.dtype == dtype for a in operands if isinstance(a, np.ndarray))
        assert not (floating and dtype.kind in "biu")
    promoted = promote_like_torch(operands, floating=floating)
    general = result_type(operands)
    if floating and general.kind in "biu":
        general = np.dtype(np.float32)
    assert all(a.dtype == general for a in promoted if isinstance(a, np.ndarray))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["mul", "add", "tanh", "reuse", "sum"]), min_size=1, max_size=12),
       st.sampled_from([(), (3,), (2, 3)]))
def test_backward_walk_gives_torchs_gradients(steps, shape):
    """The newest-first walk over random graphs (a value used several times, broadcasting sums) gives torch's
    gradients (in float64: the sums may run in another order, and float32 rounding of a cancelling sum differs)."""
    dtype = np.float64
    from tests.helpers import import_torch

    torch = import_torch()
    x0 = np.linspace(-0.9, 0.8, int(np.prod(shape))).reshape(shape).astype(dtype)
    grads = []
    for lib in (tr, torch):
        x = lib.tensor(x0, requires_grad=True)
        w = lib.tensor(np.full((1,) * len(shape), 0.7, dtype), requires_grad=True)
        values = [x]
        for step in steps:
            y = values[-1]
            y = {"mul": lambda: y * w, "add": lambda: y + 0.25, "tanh": lambda: y.tanh(),
                 "reuse": lambda: y * values[len(values) // 2], "sum": lambda: y.sum() + x}[step]()
            values.append(y)
        values[-1].sum().backward()
        grads.append([None if t.grad is None else np.asarray(t.grad) for t in (x, w)])
    for ours, theirs in zip(*grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


BAD_OR_GOOD_VALUES = {"lr": [1e-3, 0.5, -1.0, True, 1, float("nan"), np.array([1e-3]), [1e-3]],
                      "betas": [(0.9, 0.999), (0.8, 0.99), (0.9, 1.5), (True, 0.9), [0.9, 0.999], [0.9, 1.5]]}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(BAD_OR_GOOD_VALUES)), st.integers(0, 7)), min_size=1, max_size=6))
@example([("betas", 4), ("betas", 5)])   # a valid list, then the same list made invalid in place
@example([("lr", 4), ("lr", 3)])         # 1 == True, but True is refused
def test_a_step_validates_a_changed_group_as_a_new_optimizer_would(changes):
    """step() skips validating a group whose hyperparameters it already accepted: after every change of a value
    (in place too, for a list) it must raise exactly when the full validation raises, and a step that raises changes
    nothing."""
    p = tr.nn.Parameter(tr.ones(3))
    opt = tr.optim.Adam([p], lr=1e-3)
    p.grad = tr.full((3,), 0.5)
    opt.step()
    group = opt.param_groups[0]
    for key, k in changes:
        values = BAD_OR_GOOD_VALUES[key]
        value = values[k % len(values)]
        if isinstance(value, list) and isinstance(group[key], list):
            group[key][:] = value   # the same list changed in place
        else:
            group[key] = list(value) if isinstance(value, list) else value
        general_raises = False
        try:
            opt._check(group)   # the general path: the validation step() ran on every call before
        except (ValueError, TypeError):
            general_raises = True
        before = np.asarray(p).copy()
        try:
            opt.step()
            raised = False
        except (ValueError, TypeError):
            raised = True
            np.testing.assert_array_equal(np.asarray(p), before)
        assert raised == general_raises, (key, value)


def _every_view_in_place(buffer):
    """intact()'s general path: look at every parameter."""
    return all(p._array is data and p._grad is not None and p._grad._array is grad
               for p, data, grad in buffer._attached)


def _runs_by_keys(buffer, scalar_state):
    """runs()'s general path: the parameters' keys compared one by one (the remembered level forgotten)."""
    level, buffer._level = buffer._level, None
    runs = buffer.runs(scalar_state, all_have_grad=False)
    buffer._level = level
    return runs


ACTIONS = ["step", "backward", "zero_grad", "zero_grad_keep", "data=", "grad=", "grad.data=", "grad=None",
           "second optimizer", "load_state_dict", "grad_"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 2)), min_size=1, max_size=14),
       st.sampled_from(["adam", "nadam", "sgd"]))
@example([("backward", 0), ("step", 0), ("data=", 1)], "adam")                     # a rebinding after a check
@example([("backward", 0), ("step", 0), ("grad.data=", 2)], "adam")
@example([("backward", 0), ("step", 0), ("second optimizer", 0)], "adam")
@example([("backward", 0), ("step", 0), ("grad=None", 1), ("step", 0), ("backward", 0), ("step", 0)], "nadam")
@example([("backward", 0), ("grad=None", 1), ("step", 1), ("backward", 0), ("step", 0), ("load_state_dict", 0)],
         "adam")                                                                    # steps 1, 0, 1 loaded
def test_remembered_intact_and_level_are_what_a_full_look_finds(actions, name):
    """intact() answers from tinyreg.tensor.rebinds while no tensor was rebound, and runs() from a remembered level:
    after any sequence of rebinding, stepping, zeroing and loading, both answer what looking at every parameter
    answers."""
    params = [tr.nn.Parameter(tr.full((k + 1,), 0.5 * (k + 1))) for k in range(3)]
    opt = tr.optim.OPTIMIZERS[name](params, lr=0.1, **({"momentum": 0.9} if name == "sgd" else {}))
    saved = opt.state_dict()
    for action, k in actions:
        p = params[k]
        if action == "step":
            opt.step()
        elif action == "backward":
            sum((q * q).sum() for q in params).backward()
        elif action == "zero_grad":
            opt.zero_grad()
        elif action == "zero_grad_keep":
            opt.zero_grad(set_to_none=False)
        elif action == "data=":
            p.data = tr.full(p.shape, 2.0)
        elif action == "grad=":
            p.grad = tr.full(p.shape, 0.25)
        elif action == "grad.data=" and p.grad is not None:
            p.grad.data = tr.full(p.shape, -0.5)
        elif action == "grad=None":
            p.grad = None
        elif action == "second optimizer":
            tr.optim.SGD([p], lr=0.1)
        elif action == "load_state_dict":
            opt.load_state_dict(saved)
        elif action == "grad_" and p.grad is not None:
            p.grad.add_(1.0)
        saved = opt.state_dict() if k == 1 else saved
        for buffer in opt._buffers[0]:
            assert buffer.intact() == _every_view_in_place(buffer), action
            runs = buffer.runs(opt.scalar_state, all_have_grad=buffer.intact())
            assert [(lo, hi) for lo, hi, _ in runs] == [(lo, hi) for lo, hi, _ in _runs_by_keys(buffer, opt.scalar_state)]
            assert [state for _, _, state in runs] == [state for _, _, state in _runs_by_keys(buffer, opt.scalar_state)]
