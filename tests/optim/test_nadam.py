"""NAdam: backends bit-identical, torch's NAdam step by step (coupled and decoupled decay, param groups), mu_product
kept as torch keeps it, state_dict both ways."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.optim.cases import DTYPES
from tests.optim.checks import SHAPES, assert_backends_bit_identical, assert_matches_torch
from tinyreg.optim import NAdam


@st.composite
def group(draw, decay=st.sampled_from(["l2", "decoupled", "paper"])):
    return dict(lr=draw(st.floats(1e-4, 0.1)), betas=(draw(st.sampled_from([0.9, 0.0]) | st.floats(0.0, 0.99)),
                                                       draw(st.sampled_from([0.999, 0.99]) | st.floats(0.5, 0.9999))),
                eps=draw(st.sampled_from([1e-8, 1e-6, 1e-3])),
                weight_decay=draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 0.5)),
                momentum_decay=draw(st.sampled_from([4e-3, 0.0]) | st.floats(0.0, 0.1)),
                maximize=draw(st.booleans()), decay=draw(decay))


@settings(deadline=None, max_examples=20)
@given(groups=st.lists(group(), min_size=1, max_size=2), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_backends_are_bit_identical(groups, dtype, shapes, seed):
    assert_backends_bit_identical(NAdam, groups, dtype, shapes, seed)


@settings(deadline=None, max_examples=25)
@given(groups=st.lists(group(decay=st.sampled_from(["l2", "decoupled"])), min_size=1, max_size=2), dtype=DTYPES,
       shapes=SHAPES, seed=st.integers(0, 2**31))
def test_matches_torch_step_by_step(groups, dtype, shapes, seed):
    """Also checks mu_product and step bit for bit against torch's (float32 0-d tensors)."""
    assert_matches_torch(NAdam, groups, dtype, shapes, seed, decoupled_keyword=True)
