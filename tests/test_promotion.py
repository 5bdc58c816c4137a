"""The engine's fast paths are tested equal to the general paths they skip, on random operands."""

import numpy as np
from hypothesis import given, settings
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
       st.sampled_from([np.float32, np.float64]), st.sampled_from([(), (3,), (2, 3)]))
def test_backward_walk_gives_torchs_gradients(steps, dtype, shape):
    """The newest-first walk over random graphs (a value used several times, broadcasting sums) gives torch's
    gradients."""
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
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
