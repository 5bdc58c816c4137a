"""tinyreg.optim against torch.optim over 50 steps of hand-set gradients, every step checked.

SGD is equal bit for bit: every line of torch's SGD is either a product by a scalar or ``x.add(y, alpha=a)``, which
torch's CPU kernel rounds once (an FMA), and tinyreg rounds those lines once too (tinyreg.optim.fma). Equal steps from
equal states stay equal, so SGD runs free and its whole trajectory is torch's.

Adam cannot be bit-equal: torch's CPU ``sqrt`` is not correctly rounded (±1 ulp on ~17% of float32 elements,
measured), torch updates m by ``lerp`` and evaluates line 12 as θ − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε), while tinyreg
writes the paper's lines. Each step therefore differs by a few roundings, and in a free run nothing bounds what
they grow into: Adam's step map can expand differences (with a large lr, a small β₁ and a strong coupled decay, θ_t
depends on θ_{t−1} with a gain above 1), so one ulp grows geometrically. In the example pinned below (lr 0.25,
β₁ 0.055, λ 0.387, float32) the gap grows ~1.45× per step, from 1e-7 at step 35 to 3e-5 at step 50, though every
step is right. A tolerance on the 50th θ could only come from amplification measured example by example (a test
calibrated on the oracle's own sensitivity) or be loose enough to pass the slips below, so Adam has no free run.

So Adam is compared one step at a time from a common state (teacher forcing): tinyreg's step t starts from exactly
the θ_{t−1}, m_{t−1}, v_{t−1} (v_max_{t−1}) and t that torch's step t starts from, and must land where torch's lands
within a few roundings of each line: |x − x_torch| ≤ C·ε·scale(x) for x in θ_t, m_t, v_t, v_max_t, where scale(x)
is the same step evaluated in absolute values (tests.optim.cases.adam_magnitudes) — the usual forward-error bound,
each line's roundings being relative to the terms it sums. C = 8; measured worst |Δ|/(ε·scale) over 500 random
examples: 1.9 for θ, 1.0 for m, v and v_max. Over 50 steps this checks that tinyreg's trajectory is one torch's map
takes, to one step's roundings at every step, without amplification. The reference step is a pure function (every
input explicit), so it is fed torch's recorded states. The classes keep state across steps, so they run free and
torch follows them: before each step torch is given tinyreg's θ and state (its ``load_state_dict``), which also
checks the classes' bookkeeping (step counts, flat buffers, rebound gradients, skipped parameters) at every step.

A semantic slip moves a step by a relative amount of order one, not of order ε. Measured with each slip planted in
a copy of adam_step (|Δ|/(ε·scale), caught above C = 8), worst over 160–190 examples where it matters:
maximize ignored 1.7e6; the decay position swapped (λ ≥ 1e-3) 2.4e5; m's bias correction dropped (β₁ ≥ 0.01) 200;
v's dropped 235; AMSGrad's v_max unused in the denominator (lr ≥ 1e-3, 83 examples) 27, and its v_max state is
compared as well. A slip smaller than one ulp of θ (β₁ = 1e-4 with lr = 1e-4 in float32) is invisible to any test.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import import_torch
from tests.optim.cases import (DTYPES, SHAPES, adam_hyper, assert_adam_step_close, gradients, initial_values,
                               sgd_hyper, snapshot, torch_trajectory)
from tinyreg.optim.adam import adam_step
from tinyreg.optim.sgd import sgd_step

STEPS = 50


def torch_sgd(hyper):
    torch = import_torch()
    return lambda params: torch.optim.SGD(params, lr=hyper["lr"], momentum=hyper["momentum"],
                                          dampening=hyper["dampening"], weight_decay=hyper["lambda_"],
                                          nesterov=hyper["nesterov"], maximize=hyper["maximize"])


def torch_adam(hyper, decay):
    torch = import_torch()
    cls = torch.optim.AdamW if decay == "decoupled" else torch.optim.Adam
    return lambda params: cls(params, lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["eps"],
                              weight_decay=hyper["lambda_"], amsgrad=hyper["amsgrad"], maximize=hyper["maximize"])


@settings(deadline=None)
@given(hyper=sgd_hyper(), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_sgd_reference_is_torch_bit_for_bit(hyper, dtype, shapes, seed):
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, STEPS)
    states = torch_trajectory(torch_sgd(hyper), values, grad_steps)
    for i, theta in enumerate(values):
        b = None
        for t, grads in enumerate(grad_steps, 1):
            theta, b = sgd_step(theta, grads[i], b, first=t == 1, **hyper)
            np.testing.assert_array_equal(theta, states[t][i]["param"], err_msg=f"step {t}, param {i}")
        if hyper["momentum"]:
            np.testing.assert_array_equal(b, states[-1][i]["momentum_buffer"])


@settings(deadline=None)
@given(hyper=adam_hyper(), decay=st.sampled_from(["l2", "decoupled"]), dtype=DTYPES, shapes=SHAPES,
       seed=st.integers(0, 2**31))
@example(hyper=dict(lr=0.25, beta1=0.0546875, beta2=0.99, eps=1e-08, lambda_=0.38671875, amsgrad=False,
                    maximize=False), decay="l2", dtype=np.float32, shapes=[(3, 1, 4), (), (2, 5)], seed=759)
def test_adam_reference_matches_torch_at_every_step(hyper, decay, dtype, shapes, seed):
    """Step t of the reference from torch's state after step t − 1 lands on torch's state after step t."""
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, STEPS)
    states = torch_trajectory(torch_adam(hyper, decay), values, grad_steps)
    for t, grads in enumerate(grad_steps, 1):
        for i, grad in enumerate(grads):
            before, theirs = states[t - 1][i], states[t][i]
            zeros = np.zeros_like(before["param"])          # the moments before the first step
            theta, m, v, v_max = adam_step(
                before["param"], grad, before.get("exp_avg", zeros), before.get("exp_avg_sq", zeros),
                before.get("max_exp_avg_sq", zeros) if hyper["amsgrad"] else None, t=t, decay=decay, **hyper)
            ours = dict(param=theta, exp_avg=m, exp_avg_sq=v, **({"max_exp_avg_sq": v_max} if hyper["amsgrad"] else {}))
            assert_adam_step_close(ours, theirs, before, grad, t, hyper, decay, what=f"param {i}")


# ---- the optimizer classes: several param groups, mixed dtypes, missing gradients, both backends -------------------
@st.composite
def training_runs(draw, hyper_strategy):
    """Two param groups (the second overriding some hyperparameters), a dtype per parameter, and which gradients
    are None at each step (torch then skips the parameter: no update, no step count)."""
    shapes = draw(st.lists(st.sampled_from([(3,), (2, 5), (1,), (4, 1, 2)]), min_size=2, max_size=4))
    dtypes = draw(st.lists(DTYPES, min_size=len(shapes), max_size=len(shapes)))
    split = draw(st.integers(1, len(shapes) - 1))
    missing = draw(st.sampled_from([0.0, 0.2]))
    return dict(shapes=shapes, dtypes=dtypes, split=split, groups=[draw(hyper_strategy), draw(hyper_strategy)],
                missing=missing, seed=draw(st.integers(0, 2**31)), backend=draw(st.sampled_from(["numba", "numpy"])))


def follow(torch_side, ours_side):
    """Give torch tinyreg's θ and optimizer state (both number the parameters alike, group after group)."""
    torch = import_torch()
    (t_opt, t_params), (o_opt, o_params) = torch_side, ours_side
    saved = t_opt.state_dict()
    saved["state"] = {index: {name: torch.tensor(value) for name, value in entry.items()}
                      for index, entry in o_opt.state_dict()["state"].items()}
    t_opt.load_state_dict(saved)
    with torch.no_grad():
        for tp, op in zip(t_params, o_params):
            tp.copy_(torch.from_numpy(np.asarray(op)))


def step_both(torch_side, ours_side, grads, step, follows):
    """One step of each on the same gradients (None: no gradient); returns the snapshots (tinyreg before, tinyreg
    after, torch after). With ``follows``, torch first takes tinyreg's θ and state: both step from one state."""
    torch = import_torch()
    (t_opt, t_params), (o_opt, o_params) = torch_side, ours_side
    before = snapshot(o_opt, o_params)
    if follows:
        follow(torch_side, ours_side)
    for tp, op, g in zip(t_params, o_params, grads):
        tp.grad = None if g is None else torch.tensor(g.copy())
        if g is None:
            op.grad = None
        elif op.grad is not None and step % 2:
            op.grad[...] = g            # write into the live gradient (the flat buffer's view)
        else:
            op.grad = tr.tensor(g)      # rebind: the optimizer must notice and adopt it
    t_opt.step()
    o_opt.step()
    return before, snapshot(o_opt, o_params), snapshot(t_opt, t_params)


def run_both(run, group, make_torch, make_ours, follows):
    """Train torch and tinyreg side by side for STEPS steps; returns [(gradients, step_both's snapshots)] and the
    hyperparameters of each parameter's group."""
    torch = import_torch()
    import tinyreg as tr
    torch.set_num_threads(1)
    rng = np.random.default_rng(run["seed"])
    values = [rng.standard_normal(shape).astype(dtype) for shape, dtype in zip(run["shapes"], run["dtypes"])]
    t_params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    o_params = [tr.nn.Parameter(v.copy()) for v in values]
    k = run["split"]
    groups = [(t_params[:k], o_params[:k], run["groups"][0]), (t_params[k:], o_params[k:], run["groups"][1])]
    torch_side = make_torch([{"params": t, **group(h)} for t, _, h in groups]), t_params
    ours_side = make_ours([{"params": o, **group(h)} for _, o, h in groups]), o_params
    steps = []
    for step in range(STEPS):
        grads = [None if rng.random() < run["missing"] else (rng.standard_normal(v.shape) * 0.5).astype(v.dtype)
                 for v in values]
        steps.append((grads, step_both(torch_side, ours_side, grads, step, follows)))
    return steps, [run["groups"][int(i >= k)] for i in range(len(values))]


def sgd_group(h):
    return dict(lr=h["lr"], momentum=h["momentum"], dampening=h["dampening"], weight_decay=h["lambda_"],
                nesterov=h["nesterov"], maximize=h["maximize"])


def adam_group(h):
    return dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["lambda_"],
                amsgrad=h["amsgrad"], maximize=h["maximize"])


def assert_same(ours, theirs, what):
    """Two snapshots of one parameter, bit for bit."""
    assert ours.keys() == theirs.keys(), f"{what}: state {sorted(ours)}, torch's {sorted(theirs)}"
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=f"{what}: {name}")


def assert_steps_match(steps, adam_hypers=None, decay=None):
    """Every step of every parameter: SGD (no ``adam_hypers``) bit for bit; Adam, given each parameter's
    hyperparameters and the decay convention, by the one-step rule from the state tinyreg started from (torch
    followed it). A parameter without gradient is left exactly as it was."""
    for step, (grads, (before, ours, theirs)) in enumerate(steps, 1):
        for i, grad in enumerate(grads):
            what = f"step {step}, param {i}"
            if grad is None:
                assert_same(ours[i], before[i], what)
            if grad is None or adam_hypers is None:
                assert_same(ours[i], theirs[i], what)
            else:
                assert ours[i].keys() == theirs[i].keys(), f"{what}: {sorted(ours[i])}, torch's {sorted(theirs[i])}"
                t = int(before[i].get("step", 0)) + 1
                # torch took tinyreg's count, so the count is checked here: one more per step with a gradient
                assert int(ours[i]["step"]) == int(theirs[i]["step"]) == t, f"{what}: step count {ours[i]['step']}"
                assert_adam_step_close(ours[i], theirs[i], before[i], grad, t, adam_hypers[i], decay, what)


@settings(deadline=None)
@given(run=training_runs(sgd_hyper()))
def test_sgd_class_is_torch_bit_for_bit(run):
    import tinyreg as tr
    torch = import_torch()
    steps, _ = run_both(run, sgd_group, torch.optim.SGD,
                        lambda groups: tr.optim.SGD(groups, backend=run["backend"]), follows=False)
    assert_steps_match(steps)


@settings(deadline=None)
@given(run=training_runs(adam_hyper()), decoupled=st.booleans())
def test_adam_and_adamw_classes_match_torch_at_every_step(run, decoupled):
    import tinyreg as tr
    torch = import_torch()
    make_torch = torch.optim.AdamW if decoupled else torch.optim.Adam
    make_ours = tr.optim.AdamW if decoupled else tr.optim.Adam
    steps, hypers = run_both(run, adam_group, make_torch, lambda groups: make_ours(groups, backend=run["backend"]),
                             follows=True)
    assert_steps_match(steps, hypers, "decoupled" if decoupled else "l2")


# ---- loading torch's own state_dict ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, ours, kwargs, decay", [
    ("SGD", "SGD", dict(momentum=0.9, dampening=0.1, weight_decay=0.1), "l2"),
    ("SGD", "SGD", dict(momentum=0.8, nesterov=True, weight_decay=0.01), "l2"),
    ("Adam", "Adam", dict(weight_decay=0.1, amsgrad=True), "l2"),
    ("AdamW", "AdamW", dict(weight_decay=0.1), "decoupled"),
    ("Adam", "AdamW", dict(weight_decay=0.1), "l2"),            # decoupled_weight_decay=False: Adam's math
    ("AdamW", "Adam", dict(weight_decay=0.1), "decoupled"),     # decoupled_weight_decay=True: AdamW's math
])
def test_a_torch_state_dict_loads_and_training_continues_as_in_torch(name, ours, kwargs, decay, dtype):
    """Train torch a few steps, load its state_dict (torch tensors, torch-only keys, no ``decay`` key) into a fresh
    tinyreg optimizer with other hyperparameters: the state is torch's, bit for bit. Then continue both on the same
    gradients, every step checked as above (SGD running free, bit for bit; Adam from a common state)."""
    import tinyreg as tr
    torch = import_torch()
    torch.set_num_threads(1)
    rng = np.random.default_rng(7)
    values = [rng.standard_normal(shape).astype(dtype) for shape in [(3,), (2, 4), (5,)]]
    grads = [[(rng.standard_normal(v.shape) * 0.5).astype(dtype) for v in values] for _ in range(12)]
    t_params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    t_opt = getattr(torch.optim, name)([{"params": t_params[:2]}, {"params": t_params[2:], "lr": 0.02}], lr=0.05,
                                       **kwargs)
    for gs in grads[:4]:
        for p, g in zip(t_params, gs):
            p.grad = torch.tensor(g.copy())
        t_opt.step()
    o_params = [tr.nn.Parameter(p.detach().numpy().copy()) for p in t_params]
    o_opt = getattr(tr.optim, ours)([{"params": o_params[:2]}, {"params": o_params[2:]}], lr=0.3)
    o_opt.load_state_dict(t_opt.state_dict())
    assert [g["lr"] for g in o_opt.param_groups] == [0.05, 0.02]
    assert all(g["decay"] == decay and not set(g) & {"foreach", "fused", "decoupled_weight_decay"}
               for g in o_opt.param_groups)
    for i, (o, t) in enumerate(zip(snapshot(o_opt, o_params), snapshot(t_opt, t_params))):
        assert_same(o, t, f"loaded, param {i}")
    adam = name != "SGD"
    steps = [(gs, step_both((t_opt, t_params), (o_opt, o_params), gs, step, follows=adam))
             for step, gs in enumerate(grads[4:])]
    if adam:
        hypers = [dict(lr=g["lr"], beta1=g["betas"][0], beta2=g["betas"][1], eps=g["eps"], lambda_=g["weight_decay"],
                       amsgrad=g["amsgrad"], maximize=g["maximize"]) for g in t_opt.param_groups for _ in g["params"]]
        assert_steps_match(steps, hypers, decay)
    else:
        assert_steps_match(steps)
