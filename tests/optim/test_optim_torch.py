"""tinyreg.optim against torch.optim, step for step over 50+ steps of hand-set gradients.

SGD is equal bit for bit: every line of torch's SGD is either a product by a scalar or ``x.add(y, alpha=a)``, which
torch's CPU kernel rounds once (an FMA), and tinyreg rounds those lines once too (tinyreg.optim.fma).

Adam cannot be bit-equal: torch's CPU ``sqrt`` is not correctly rounded (±1 ulp on ~17% of float32 elements,
measured), torch updates m by ``lerp`` and evaluates line 12 as θ − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε), while tinyreg
writes the paper's lines. Each step then differs by a few roundings of θ and of the update, so after T steps
|Δθ| ≤ C·ε·(|θ| + Σ|θ_s − θ_{s−1}|) (the movement bounds the accumulated update roundings); m and v, averages of
g_t = g + λθ, differ by at most C·ε·T·G (G² for v) with G = max_s |g_s| + λ|θ_s|. C = 8 (measured worst over 150
examples: 2.9). A semantic slip (bias correction, decay position, amsgrad) moves θ by ~lr per step, orders of
magnitude above these bounds (the wrong decay position: ≥ 5,700·ε·(...) in the same 150 examples). The coupled decay
line g + λθ, where the two terms can cancel, is rounded once exactly as torch does.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import import_torch
from tests.optim.cases import (DTYPES, SHAPES, adam_hyper, assert_state_close, assert_theta_close, gradients,
                               initial_values, sgd_hyper, torch_trajectory)
from tinyreg.optim import reference

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


@settings(deadline=None, max_examples=15)
@given(hyper=sgd_hyper(), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_sgd_reference_is_torch_bit_for_bit(hyper, dtype, shapes, seed):
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, STEPS)
    history, optimizer, params = torch_trajectory(torch_sgd(hyper), values, grad_steps)
    for i, theta in enumerate(values):
        b = None
        for grads in grad_steps:
            theta, b = reference.sgd_step(theta, grads[i], b, **hyper)
        np.testing.assert_array_equal(theta, history[-1][i])
        if hyper["momentum"]:
            np.testing.assert_array_equal(b, optimizer.state[params[i]]["momentum_buffer"].numpy())


@settings(deadline=None, max_examples=20)
@given(hyper=adam_hyper(), decay=st.sampled_from(["l2", "decoupled"]), dtype=DTYPES, shapes=SHAPES,
       seed=st.integers(0, 2**31))
def test_adam_reference_matches_torch(hyper, decay, dtype, shapes, seed):
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, STEPS)
    history, optimizer, params = torch_trajectory(torch_adam(hyper, decay), values, grad_steps)
    for i, theta0 in enumerate(values):
        theta, m, v = theta0, np.zeros_like(theta0), np.zeros_like(theta0)
        v_max = np.zeros_like(theta0) if hyper["amsgrad"] else None
        for t, grads in enumerate(grad_steps, 1):
            theta, m, v, v_max = reference.adam_step(theta, grads[i], m, v, v_max, t=t, decay=decay, **hyper)
        trajectory = [step[i] for step in history]
        assert_theta_close(theta, trajectory, theta0, dtype, what=f"param {i}")
        state = optimizer.state[params[i]]
        G = max(np.abs(g[i]).max() + hyper["lambda_"] * np.abs(th).max() for g, th in zip(grad_steps, trajectory))
        assert_state_close(m, state["exp_avg"].numpy(), G, STEPS, dtype, what=f"m of param {i}")
        assert_state_close(v, state["exp_avg_sq"].numpy(), G * G, STEPS, dtype, what=f"v of param {i}")
        if hyper["amsgrad"]:
            assert_state_close(v_max, state["max_exp_avg_sq"].numpy(), G * G, STEPS, dtype, what="v_max")


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


def run_both(run, torch_group, ours_group, make_torch, make_ours):
    """Train torch and tinyreg side by side; returns (values, grads per step, torch history, ours history)."""
    import tinyreg as tr
    torch = import_torch()
    torch.set_num_threads(1)
    rng = np.random.default_rng(run["seed"])
    values = [rng.standard_normal(shape).astype(dtype) for shape, dtype in zip(run["shapes"], run["dtypes"])]
    t_params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    o_params = [tr.nn.Parameter(v.copy()) for v in values]
    k = run["split"]
    t_opt = make_torch([{"params": t_params[:k], **torch_group(run["groups"][0])},
                        {"params": t_params[k:], **torch_group(run["groups"][1])}])
    o_opt = make_ours([{"params": o_params[:k], **ours_group(run["groups"][0])},
                       {"params": o_params[k:], **ours_group(run["groups"][1])}])
    grad_steps, t_history, o_history = [], [], []
    for step in range(STEPS):
        grads = [None if rng.random() < run["missing"] else (rng.standard_normal(v.shape) * 0.5).astype(v.dtype)
                 for v in values]
        for tp, op, g in zip(t_params, o_params, grads):
            tp.grad = None if g is None else torch.tensor(g.copy())
            if g is None:
                op.grad = None
            elif op.grad is not None and step % 2:
                op.grad[...] = g            # write into the live gradient (the flat buffer's view)
            else:
                op.grad = g.copy()          # rebind: the optimizer must notice and adopt it
        t_opt.step()
        o_opt.step()
        grad_steps.append(grads)
        t_history.append([p.detach().numpy().copy() for p in t_params])
        o_history.append([p.data.copy() for p in o_params])
    return values, grad_steps, t_history, o_history, (t_opt, t_params), (o_opt, o_params)


def sgd_group(h):
    return dict(lr=h["lr"], momentum=h["momentum"], dampening=h["dampening"], weight_decay=h["lambda_"],
                nesterov=h["nesterov"], maximize=h["maximize"])


def adam_group(h):
    return dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["lambda_"],
                amsgrad=h["amsgrad"], maximize=h["maximize"])


@settings(deadline=None, max_examples=10)
@given(run=training_runs(sgd_hyper()))
def test_sgd_class_is_torch_bit_for_bit(run):
    import tinyreg as tr
    torch = import_torch()
    *_, t_history, o_history, (t_opt, t_params), (o_opt, o_params) = run_both(
        run, sgd_group, sgd_group, torch.optim.SGD, lambda groups: tr.optim.SGD(groups, backend=run["backend"]))
    for step, (t_values, o_values) in enumerate(zip(t_history, o_history)):
        for i, (t, o) in enumerate(zip(t_values, o_values)):
            np.testing.assert_array_equal(o, t, err_msg=f"step {step + 1}, param {i}")
    for tp, op in zip(t_params, o_params):
        t_state, o_state = t_opt.state.get(tp, {}), o_opt.state.get(op, {})
        assert t_state.keys() == o_state.keys()
        if "momentum_buffer" in t_state:
            np.testing.assert_array_equal(o_state["momentum_buffer"], t_state["momentum_buffer"].numpy())


@settings(deadline=None, max_examples=12)
@given(run=training_runs(adam_hyper()), decoupled=st.booleans())
def test_adam_and_adamw_classes_match_torch(run, decoupled):
    import tinyreg as tr
    torch = import_torch()
    make_torch = torch.optim.AdamW if decoupled else torch.optim.Adam
    make_ours = tr.optim.AdamW if decoupled else tr.optim.Adam
    values, grad_steps, t_history, o_history, (t_opt, t_params), (o_opt, o_params) = run_both(
        run, adam_group, adam_group, make_torch, lambda groups: make_ours(groups, backend=run["backend"]))
    for i, (v0, tp, op) in enumerate(zip(values, t_params, o_params)):
        trajectory = [step[i] for step in t_history]
        assert_theta_close(o_history[-1][i], trajectory, v0, v0.dtype, what=f"param {i}")
        t_state, o_state = t_opt.state.get(tp, {}), o_opt.state.get(op, {})
        assert t_state.keys() == o_state.keys(), f"param {i}"
        if t_state:
            assert float(o_state["step"]) == float(t_state["step"])
            lambda_ = run["groups"][int(i >= run["split"])]["lambda_"]
            G = max(np.abs(g[i]).max() + lambda_ * np.abs(th[i]).max()
                    for g, th in zip(grad_steps, t_history) if g[i] is not None)
            assert_state_close(o_state["exp_avg"], t_state["exp_avg"].numpy(), G, STEPS, v0.dtype, f"m of {i}")
            assert_state_close(o_state["exp_avg_sq"], t_state["exp_avg_sq"].numpy(), G * G, STEPS, v0.dtype,
                               f"v of {i}")


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
    tinyreg optimizer with other hyperparameters, then continue both on the same gradients: the same trajectory,
    to the tolerance of the tests above (SGD bit for bit)."""
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
    loaded_at = [p.detach().numpy().copy() for p in t_params]
    o_params = [tr.nn.Parameter(v.copy()) for v in loaded_at]
    o_opt = getattr(tr.optim, ours)([{"params": o_params[:2]}, {"params": o_params[2:]}], lr=0.3)
    o_opt.load_state_dict(t_opt.state_dict())
    assert [g["lr"] for g in o_opt.param_groups] == [0.05, 0.02]
    assert all(g["decay"] == decay and not set(g) & {"foreach", "fused", "decoupled_weight_decay"}
               for g in o_opt.param_groups)
    history = []
    for gs in grads[4:]:
        for t, o, g in zip(t_params, o_params, gs):
            t.grad, o.grad = torch.tensor(g.copy()), g.copy()
        t_opt.step()
        o_opt.step()
        history.append([p.detach().numpy().copy() for p in t_params])
    for i, (o, start) in enumerate(zip(o_params, loaded_at)):
        if name == "SGD":
            np.testing.assert_array_equal(o.data, history[-1][i])
        else:
            assert_theta_close(o.data, [step[i] for step in history], start, dtype, what=f"param {i}")
