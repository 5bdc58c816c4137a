"""RAdam: backends bit-identical, torch's RAdam step by step (coupled and decoupled decay, param groups, both sides of
the ρ_t > 5 threshold), state_dict both ways."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.optim.cases import DTYPES
from tests.optim.checks import SHAPES, assert_backends_bit_identical, assert_matches_torch
from tinyreg.optim.radam import RAdam, rectification


@st.composite
def group(draw, decay=st.sampled_from(["l2", "decoupled", "paper"])):
    # β₂ small enough that ρ_t passes 5 within the 12 steps in most examples (β₂ = 0.999: at t = 6)
    return dict(lr=draw(st.floats(1e-4, 0.1)), betas=(draw(st.sampled_from([0.9, 0.0]) | st.floats(0.0, 0.99)),
                                                       draw(st.sampled_from([0.999, 0.9]) | st.floats(0.5, 0.9999))),
                eps=draw(st.sampled_from([1e-8, 1e-6, 1e-3])),
                weight_decay=draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 0.5)),
                maximize=draw(st.booleans()), decay=draw(decay))


@settings(deadline=None, max_examples=20)
@given(groups=st.lists(group(), min_size=1, max_size=2), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_backends_are_bit_identical(groups, dtype, shapes, seed):
    assert_backends_bit_identical(RAdam, groups, dtype, shapes, seed)


@settings(deadline=None, max_examples=25)
@given(groups=st.lists(group(decay=st.sampled_from(["l2", "decoupled"])), min_size=1, max_size=2), dtype=DTYPES,
       shapes=SHAPES, seed=st.integers(0, 2**31))
def test_matches_torch_step_by_step(groups, dtype, shapes, seed):
    assert_matches_torch(RAdam, groups, dtype, shapes, seed, decoupled_keyword=True)


def test_the_first_rectified_step_is_where_torch_puts_it():
    """torch rectifies from ρ_t > 5: with β₂ = 0.999 that is step 6 (ρ_5 ≈ 4.99, ρ_6 ≈ 5.99)."""
    assert [rectification(0.999, t)[1] is not None for t in range(1, 8)] == [False] * 5 + [True] * 2
