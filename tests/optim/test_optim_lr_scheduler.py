"""Schedulers equal torch's learning rates step for step, and feed η_t to the paper-form decay."""

import inspect
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyreg as tr
import tinyreg.optim  # noqa: F401  (tr.optim)
from tests.helpers import import_torch

LRS = (0.1, 0.03)


def pair(make_scheduler):
    """torch and tinyreg SGD with two groups (different lrs) and the same scheduler on each."""
    torch = import_torch()
    t_opt = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS])
    o_opt = tr.optim.SGD([{"params": [tr.nn.Parameter(np.zeros(2, np.float32))], "lr": lr} for lr in LRS])
    return (make_scheduler(torch.optim.lr_scheduler, t_opt), t_opt), (make_scheduler(tr.optim.lr_scheduler, o_opt),
                                                                     o_opt)


SCHEDULES = {
    "StepLR": lambda m, opt: m.StepLR(opt, step_size=7, gamma=0.5),
    "LambdaLR": lambda m, opt: m.LambdaLR(opt, lr_lambda=[lambda t: 0.97 ** t, lambda t: 1 / (1 + t)]),
    "CosineAnnealingLR": lambda m, opt: m.CosineAnnealingLR(opt, T_max=13, eta_min=1e-3),
    "CosineAnnealingWarmRestarts": lambda m, opt: m.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=1e-4),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_learning_rates_equal_torch_bit_for_bit(name):
    (t_sched, t_opt), (o_sched, o_opt) = pair(SCHEDULES[name])
    for step in range(60):                             # past several periods / restarts
        assert [g["lr"] for g in o_opt.param_groups] == [g["lr"] for g in t_opt.param_groups], step
        assert o_sched.get_last_lr() == t_sched.get_last_lr()
        t_opt.step(), o_opt.step()
        t_sched.step(), o_sched.step()


@settings(deadline=None, max_examples=20)
@given(T_0=st.integers(1, 6), T_mult=st.integers(1, 3), epochs=st.lists(st.floats(0, 40), min_size=1, max_size=8))
def test_warm_restarts_with_fractional_epochs_equal_torch(T_0, T_mult, epochs):
    make = lambda m, opt: m.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult)  # noqa: E731
    (t_sched, t_opt), (o_sched, o_opt) = pair(make)
    for epoch in epochs:
        t_sched.step(epoch), o_sched.step(epoch)
        t_sched.step(), o_sched.step()
        assert o_sched.get_last_lr() == t_sched.get_last_lr()


def test_cosine_recurrence_stays_on_the_closed_form():
    opt = tr.optim.SGD([tr.nn.Parameter(np.zeros(1))], lr=0.2)
    sched = tr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.01)
    for t in range(1, 41):
        sched.step()
        closed = 0.01 + (0.2 - 0.01) * (1 + math.cos(math.pi * t / 20)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_scheduler_errors_follow_torch():
    opt = tr.optim.SGD([tr.nn.Parameter(np.zeros(1))])
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        tr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        tr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        tr.optim.lr_scheduler.StepLR(object(), 3)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        tr.optim.lr_scheduler.LambdaLR(opt, [lambda t: 1.0] * 2)
    with pytest.raises(KeyError, match="initial_lr"):
        tr.optim.lr_scheduler.StepLR(tr.optim.SGD([tr.nn.Parameter(np.zeros(1))]), 3, last_epoch=4)


def test_warm_restarts_feed_eta_to_the_paper_decay():
    """Zero gradients isolate the decay: AdamWR (decay="paper") shrinks θ by Π(1 − η_t·λ) with η_t the SGDR
    multiplier, computed here from the closed form."""
    p = tr.nn.Parameter(np.array([1.0, -2.0]))
    opt = tr.optim.AdamW([p], lr=1e-3, weight_decay=0.02, decay="paper")
    sched = tr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    expected, t_cur, t_i = np.array([1.0, -2.0]), 0, 4
    for _ in range(20):
        eta = (1 + math.cos(math.pi * t_cur / t_i)) / 2
        assert sched.get_last_eta()[0] == pytest.approx(eta, rel=1e-12, abs=1e-15)
        p.grad = tr.zeros_like(p)
        opt.step()
        expected = expected * (1 - eta * 0.02)
        sched.step()
        t_cur += 1
        if t_cur == t_i:
            t_cur, t_i = 0, t_i * 2
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_proposition_1_holds_under_a_schedule():
    """SGD with L2 λ/α and SGDW with λ stay equal when the lr follows a schedule: both decays scale with η_t."""
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(5) for _ in range(50)]
    results = []
    for make in (lambda ps: tr.optim.SGDW(ps, lr=0.1, weight_decay=0.01),
                 lambda ps: tr.optim.SGD(ps, lr=0.1, weight_decay=0.01 / 0.1)):
        p = tr.nn.Parameter(np.ones(5))
        opt = make([p])
        sched = tr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10)
        for g in grads:
            p.grad = tr.tensor(g)
            opt.step()
            sched.step()
        results.append(np.array(p))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_scheduler_state_round_trip():
    opt = tr.optim.SGD([tr.nn.Parameter(np.zeros(1))], lr=0.1)
    sched = tr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for _ in range(7):
        sched.step()
    state = sched.state_dict()
    opt2 = tr.optim.SGD([tr.nn.Parameter(np.zeros(1))], lr=0.1)
    sched2 = tr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt2, T_0=3, T_mult=2)
    sched2.load_state_dict(state)
    opt2.load_state_dict(opt.state_dict())
    for _ in range(5):
        sched.step(), sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


def test_the_optim_page_names_every_scheduler():
    """Every scheduler class tinyreg has is named in docs/optim.md (its example runs as a doc test: conftest.py)."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "optim.md").read_text(encoding="utf-8")
    schedulers = [name for name, cls in vars(tr.optim.lr_scheduler).items()
                  if inspect.isclass(cls) and issubclass(cls, tr.optim.lr_scheduler.LRScheduler)
                  and cls is not tr.optim.lr_scheduler.LRScheduler]
    assert len(schedulers) == 4 and all(f"`{name}`" in page for name in schedulers)
