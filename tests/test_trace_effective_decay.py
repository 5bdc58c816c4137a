"""tr.optim.effective_decay and the trace's λ_eff lines: the decay that reaches θ, checked against torch's state and
against what the optimizer does when θ is held still (the rate's definition)."""

import json

import numpy as np
import pytest

from tests.helpers import import_torch
from tinyreg.nn import Parameter
from tinyreg.optim import SGD, SGDW, Adam, AdamW, effective_decay
from tinyreg.optim.trace import trace, width

LR, LAMBDA = 0.01, 0.1


def gradient_steps(seed, shape, steps, scales):
    """Gradients whose scale differs per column: the columns' gradient histories differ by orders of magnitude."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) * scales for _ in range(steps)]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_l2_rate_matches_torchs_second_moment(amsgrad):
    """λ_eff = lr·λ/(√v̂_t + ε) with v̂_t from torch.optim.Adam's own state after the same steps."""
    torch = import_torch()
    shape, scales = (3, 4), np.array([1e-3, 1e-1, 1.0, 10.0])
    theta0 = np.random.default_rng(1).standard_normal(shape)
    grads = gradient_steps(2, shape, 6, scales)
    p = Parameter(theta0.copy())
    optimizer = Adam([p], lr=LR, weight_decay=LAMBDA, amsgrad=amsgrad)
    q = torch.tensor(theta0.copy(), requires_grad=True)
    reference = torch.optim.Adam([q], lr=LR, weight_decay=LAMBDA, amsgrad=amsgrad)
    for g in grads:
        p.grad, q.grad = g.copy(), torch.tensor(g)
        optimizer.step()
        reference.step()
    state = reference.state[q]
    v = (state["max_exp_avg_sq"] if amsgrad else state["exp_avg_sq"]).numpy()
    expected = LR * LAMBDA / (np.sqrt(v / (1 - 0.999 ** len(grads))) + 1e-8)
    report = effective_decay(optimizer, [("w", p)])
    np.testing.assert_allclose(report.rates["w"], expected, rtol=1e-9)
    # the lesson: columns with a large gradient history are decayed less, by orders of magnitude
    per_column = report.rates["w"].mean(axis=0)
    assert np.all(np.diff(per_column) < 0) and per_column[0] / per_column[-1] > 100


def test_trace_decay_is_the_decay_share_of_adams_first_step():
    """On step 1, m̂ = g + λθ and v̂ = (g + λθ)², so torch's Adam moves θ by lr·(g + λθ)/(|g + λθ| + ε): the part due to
    λθ is lr·λθ/(√v̂ + ε), the trace's "decay" line."""
    torch = import_torch()
    theta0, g = np.array([2.0, 2.0, -1.0]), np.array([10.0, 0.01, 0.3])
    p = Parameter(theta0.copy())
    optimizer = Adam([p], lr=0.1, weight_decay=LAMBDA)
    with trace(optimizer, [(p, i) for i in range(3)]) as tape:
        p.grad = g.copy()
        optimizer.step()
    q = torch.tensor(theta0.copy(), requires_grad=True)
    torch_adam = torch.optim.Adam([q], lr=0.1, weight_decay=LAMBDA)
    q.grad = torch.tensor(g)
    torch_adam.step()
    moved = theta0 - q.detach().numpy()
    share = moved * (LAMBDA * theta0) / (g + LAMBDA * theta0)
    for i in range(3):
        assert tape.steps[0][i]["decay"] == pytest.approx(share[i], rel=1e-9)
    assert tape.steps[0][0]["lambda_eff"] < LR * LAMBDA < tape.steps[0][1]["lambda_eff"]


@pytest.mark.parametrize("make,expected", [
    (lambda ps: SGD(ps, lr=LR, weight_decay=LAMBDA), LR * LAMBDA),
    (lambda ps: SGD(ps, lr=LR, momentum=0.9, dampening=0.3, weight_decay=LAMBDA), LR * LAMBDA * 0.7 / 0.1),
    (lambda ps: SGD(ps, lr=LR, momentum=0.8, nesterov=True, weight_decay=LAMBDA), LR * LAMBDA / 0.2),
    (lambda ps: SGD(ps, lr=LR, momentum=0.9, weight_decay=LAMBDA, decay="decoupled"), LR * LAMBDA),
    (lambda ps: SGDW(ps, lr=LR, momentum=0.9, weight_decay=LAMBDA, decay="l2"), LR * LAMBDA / 0.1),
    (lambda ps: SGDW(ps, lr=LR, momentum=0.9, weight_decay=LAMBDA), LAMBDA),
    (lambda ps: AdamW(ps, lr=LR, weight_decay=LAMBDA), LR * LAMBDA),
], ids=["sgd", "sgd-momentum-dampening", "sgd-nesterov", "sgd-decoupled", "sgdw-l2", "sgdw-paper", "adamw"])
def test_rate_is_the_decay_per_step_once_the_momentum_has_settled(make, expected):
    """Hold θ still (reset it after each step) with ∇f = 0: the step then moves θ by λ_eff·θ, the definition."""
    theta0 = np.array([1.5, -0.5])
    p = Parameter(theta0.copy())
    optimizer = make([p])
    for _ in range(400):
        p.data[...] = theta0
        p.grad = np.zeros(2)
        optimizer.step()
    np.testing.assert_allclose((theta0 - p.data) / theta0, expected, rtol=1e-9)
    np.testing.assert_allclose(effective_decay(optimizer).rates["params[0]"], expected, rtol=1e-12)


def test_paper_convention_scales_with_the_schedule_multiplier():
    p = Parameter(np.ones(3))
    optimizer = AdamW([p], lr=0.1, weight_decay=0.01, decay="paper")
    optimizer.param_groups[0]["lr"] = 0.025        # η_t = 0.25
    with trace(optimizer, [(p, 0)]) as tape:
        p.grad = np.ones(3)
        optimizer.step()
    assert tape.steps[0][0]["lambda_eff"] == pytest.approx(0.25 * 0.01)
    assert tape.steps[0][0]["theta"] == pytest.approx(1 - 0.25 * 0.01)
    np.testing.assert_allclose(effective_decay(optimizer).rates["params[0]"], 0.25 * 0.01)


def test_report_table_and_data():
    rng = np.random.default_rng(0)
    w, b = Parameter(rng.standard_normal((4, 5))), Parameter(np.zeros(5))
    optimizer = Adam([{"params": [w]}, {"params": [b], "weight_decay": 0.0}], lr=LR, weight_decay=LAMBDA)
    before = effective_decay(optimizer, [("fc.weight", w), ("fc.bias", b)])
    assert before.rates["fc.weight"] is None and np.all(before.rates["fc.bias"] == 0)
    assert "no step yet" in str(before)
    for _ in range(3):
        w.grad, b.grad = rng.standard_normal((4, 5)) * np.logspace(-3, 1, 5), rng.standard_normal(5)
        optimizer.step()
    report = effective_decay(optimizer, [("fc.weight", w), ("fc.bias", b)])
    text = str(report)
    assert all(width(line) <= 100 for line in text.splitlines())
    assert "λ_eff ← lr·λ / (√v̂_t + ε)" in text and "fc.weight" in text and "no decay" in text
    data = json.loads(json.dumps(report.to_dict()))
    quantiles = data["parameters"][0]["quantiles"]
    assert quantiles[0] == pytest.approx(report.rates["fc.weight"].min())
    assert quantiles[-1] == pytest.approx(report.rates["fc.weight"].max())
    assert data["parameters"][0]["t"] == 3 and data["groups"][1]["weight_decay"] == 0.0
    with pytest.raises(ValueError, match="not in the optimizer's param groups"):
        effective_decay(optimizer, [("other", Parameter(np.zeros(1)))])
