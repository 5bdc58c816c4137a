"""Adagrad: backends bit-identical, torch's Adagrad step by step (every option, param groups), state_dict both
ways, the accumulator's initial value."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyreg as tr
from tests.optim.cases import DTYPES
from tests.optim.checks import SHAPES, assert_backends_bit_identical, assert_matches_torch
from tinyreg.optim import Adagrad


INITIAL = st.sampled_from([0.0, 0.1]) | st.floats(0.0, 2.0)


@st.composite
def group(draw, decay=st.sampled_from(["l2", "decoupled", "paper"]), initial=True):
    return dict(lr=draw(st.floats(1e-4, 0.5)), lr_decay=draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 1.0)),
                weight_decay=draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 0.5)),
                eps=draw(st.sampled_from([1e-10, 1e-6, 1e-3])), maximize=draw(st.booleans()), decay=draw(decay),
                **(dict(initial_accumulator_value=draw(INITIAL)) if initial else {}))


@settings(deadline=None, max_examples=20)
@given(groups=st.lists(group(), min_size=1, max_size=2), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_backends_are_bit_identical(groups, dtype, shapes, seed):
    assert_backends_bit_identical(Adagrad, groups, dtype, shapes, seed)


@settings(deadline=None, max_examples=25)
@given(groups=st.lists(group(decay=st.just("l2"), initial=False), min_size=1, max_size=2), initial=INITIAL,
       dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_matches_torch_step_by_step(groups, initial, dtype, shapes, seed):
    """torch fills every group's sum from the constructor's initial_accumulator_value (a group's own is ignored
    there, honoured here), so the comparison sets it in the constructor."""
    assert_matches_torch(Adagrad, groups, dtype, shapes, seed, common=dict(initial_accumulator_value=initial))


def test_lr_decay_and_initial_accumulator_by_hand():
    """Step 2 with lr_decay 1: clr = lr/2; the sum starts at initial_accumulator_value (s = 3 + 1 + 1 = 5)."""
    p = tr.nn.Parameter(np.zeros(1))
    opt = Adagrad([p], lr=1.0, lr_decay=1.0, initial_accumulator_value=3.0, eps=0.0)
    for _ in range(2):
        p.grad = tr.ones(1, dtype=tr.float64)
        opt.step()
    assert np.asarray(p)[0] == -(1 / 2.0) - (0.5 / np.sqrt(5.0))
    assert opt.state[p]["sum"][0] == 5.0
