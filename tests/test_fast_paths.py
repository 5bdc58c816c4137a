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
