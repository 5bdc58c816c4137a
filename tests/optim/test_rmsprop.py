"""RMSprop: backends bit-identical, torch's RMSprop step by step (every option, param groups), state_dict both ways."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.optim.cases import DTYPES
from tests.optim.checks import SHAPES, assert_backends_bit_identical, assert_matches_torch
from tinyreg.optim import RMSprop


# α ≥ 0.5: at α = 0 the centered variance v − a² of a single gradient is exactly 0 in exact arithmetic, and torch
# (one rounding in a fused v − a·a) takes the root of rounding noise there: no bound on inputs covers that.
@st.composite
def group(draw, decay=st.sampled_from(["l2", "decoupled", "paper"])):
    return dict(lr=draw(st.floats(1e-4, 0.1)), alpha=draw(st.sampled_from([0.99, 0.9]) | st.floats(0.5, 0.999)),
                eps=draw(st.sampled_from([1e-8, 1e-6, 1e-3])), weight_decay=draw(st.sampled_from([0.0, 0.01]) |
                                                                                 st.floats(0.0, 0.5)),
                momentum=draw(st.sampled_from([0.0, 0.9]) | st.floats(0.0, 0.99)), centered=draw(st.booleans()),
                maximize=draw(st.booleans()), decay=draw(decay))


@settings(deadline=None, max_examples=20)
@given(groups=st.lists(group(), min_size=1, max_size=2), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_backends_are_bit_identical(groups, dtype, shapes, seed):
    assert_backends_bit_identical(RMSprop, groups, dtype, shapes, seed)


@settings(deadline=None, max_examples=25)
@given(groups=st.lists(group(decay=st.just("l2")), min_size=1, max_size=2), dtype=DTYPES, shapes=SHAPES,
       seed=st.integers(0, 2**31))
def test_matches_torch_step_by_step(groups, dtype, shapes, seed):
    assert_matches_torch(RMSprop, groups, dtype, shapes, seed)


def test_centered_eps_sits_outside_the_root():
    """torch: avg = √(v − a²) + ε. One step from zero state with g = 1, α = 0.5: v = a² + ... exactly known."""
    import tinyreg as tr
    p = tr.nn.Parameter(np.zeros(1))
    opt = RMSprop([p], lr=1.0, alpha=0.5, eps=0.25, centered=True)
    p.grad = tr.ones(1, dtype=tr.float64)
    opt.step()
    # v = 0.5, a = 0.5, v − a² = 0.25, avg = 0.5 + 0.25: θ = −1/0.75
    assert np.asarray(p)[0] == -1 / 0.75
