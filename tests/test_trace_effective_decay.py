"""tr.optim.effective_decay and the trace's derived lines: ``decay``, what the λθ terms took off θ in one step, checked
against torch (for SGD, by the linearity of its momentum buffer) and independent sums over the θ history; ``λ_eff``,
the rate the decay settles to, checked against torch's state and against what the optimizer does when θ is held
still (the rate's definition)."""

import json

import numpy as np
import pytest

from tests.helpers import import_torch
from tinyreg import ones_like, tensor, zeros_like
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
        p.grad, q.grad = tensor(g), torch.tensor(g)
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
        p.grad = tensor(g)
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
    """Hold θ still (reset it after each step) with ∇f = 0: the step then moves θ by λ_eff·θ, the definition; and
    the trace's decay line, the decay of one step, has grown to that same λ_eff·θ."""
    theta0 = np.array([1.5, -0.5])
    p = Parameter(theta0.copy())
    optimizer = make([p])
    with trace(optimizer, [(p, 0)]) as tape:
        for _ in range(400):
            p.data[...] = theta0
            p.grad = zeros_like(p)
            optimizer.step()
    np.testing.assert_allclose((theta0 - np.asarray(p)) / theta0, expected, rtol=1e-9)
    np.testing.assert_allclose(effective_decay(optimizer).rates["params[0]"], expected, rtol=1e-12)
    assert tape.steps[-1][0]["decay"] == pytest.approx(expected * theta0[0], rel=1e-9)
    assert tape.steps[-1][0]["lambda_eff"] == pytest.approx(expected, rel=1e-12)


def moves(make_torch, theta0, grads):
    """θ_{t−1} − θ_t of a torch optimizer at every step on the given gradients, and its state after each step."""
    torch = import_torch()
    q = torch.tensor(theta0.copy(), requires_grad=True)
    optimizer = make_torch([q])
    out, states, before = [], [], theta0.copy()
    for g in grads:
        q.grad = torch.tensor(g.copy())
        optimizer.step()
        out.append(before - q.detach().numpy())
        states.append({key: value.numpy().copy() for key, value in optimizer.state[q].items()})
        before = q.detach().numpy().copy()
    return out, states


def traced(optimizer, p, grads):
    """Step ``optimizer`` on the gradients under a trace of every element of ``p``: (decay per step, the trace)."""
    with trace(optimizer, [(p, i) for i in range(p.numel())]) as tape:
        for g in grads:
            p.grad = tensor(g)
            optimizer.step()
    return [np.array([step[i]["decay"] for i in range(p.numel())]) for step in tape.steps], tape


@pytest.mark.parametrize("options", [dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                                     dict(momentum=0.8, nesterov=True), dict()],
                         ids=["momentum", "dampening", "nesterov", "plain"])
def test_sgd_decay_line_is_what_the_decay_moved_in_torch(options):
    """The gradients are fixed numbers, not functions of θ, so torch's momentum buffer is linear in them: a run with λ
    and one with λ = 0 on the same gradients move θ by the same gradient part, and the difference of their moves is
    exactly what the λθ terms moved. The decay line must be that: γλθ on step 1 (b_1 = g_1, as SGDW's), then growing
    towards λ_eff·θ = γλθ(1 − τ)/(1 − μ) as the buffer fills — not the settled rate from the first step."""
    torch = import_torch()
    theta0 = np.array([1.5, -0.5, 2.0])
    grads = gradient_steps(3, (3,), 8, np.array([1.0, 0.1, 3.0]))
    with_decay, _ = moves(lambda ps: torch.optim.SGD(ps, lr=LR, weight_decay=LAMBDA, **options), theta0, grads)
    without, _ = moves(lambda ps: torch.optim.SGD(ps, lr=LR, **options), theta0, grads)
    p = Parameter(theta0.copy())
    recorded, _ = traced(SGD([p], lr=LR, weight_decay=LAMBDA, **options), p, grads)
    for step, (decay, a, b) in enumerate(zip(recorded, with_decay, without), 1):
        np.testing.assert_allclose(decay, a - b, rtol=1e-9, atol=1e-15, err_msg=f"step {step}")
    if options == dict(momentum=0.9):
        np.testing.assert_allclose(recorded[0], LR * LAMBDA * theta0, rtol=1e-12)


def test_sgdw_l2_decay_line_is_the_sum_over_the_buffer():
    """SGDW with decay="l2": m_t holds Σ_s β₁^{t−s}·lr·λθ_{s−1}, all of which leaves θ at step t (Alg. 1 lines 8–9)."""
    theta0, beta1 = np.array([1.5, -0.5]), 0.9
    grads = gradient_steps(4, (2,), 6, np.array([1.0, 0.01]))
    p = Parameter(theta0.copy())
    recorded, tape = traced(SGDW([p], lr=LR, momentum=beta1, weight_decay=LAMBDA, decay="l2"), p, grads)
    history = [np.array([step[i]["theta_prev"] for i in range(2)]) for step in tape.steps]
    for t, decay in enumerate(recorded, 1):
        expected = sum(beta1 ** (t - s) * LR * LAMBDA * history[s - 1] for s in range(1, t + 1))
        np.testing.assert_allclose(decay, expected, rtol=1e-12, err_msg=f"step {t}")


def test_adam_l2_decay_line_is_the_decay_share_of_torchs_move():
    """m is linear in g: m_t = m_t(∇f alone) + d_t. Torch's Adam moves θ by lr·m̂_t/(√v̂_t + ε); removing the part due
    to the gradients alone (their average computed here, v̂_t from torch's state) leaves what λθ moved."""
    torch = import_torch()
    theta0, (beta1, beta2), eps = np.array([2.0, -1.0, 0.5]), (0.9, 0.999), 1e-8
    grads = gradient_steps(5, (3,), 6, np.array([10.0, 0.01, 0.3]))
    p = Parameter(theta0.copy())
    recorded, _ = traced(Adam([p], lr=0.1, weight_decay=LAMBDA), p, grads)
    torch_moves, states = moves(lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=LAMBDA), theta0, grads)
    m_grad = np.zeros(3)
    for t, (decay, move, state, g) in enumerate(zip(recorded, torch_moves, states, grads), 1):
        m_grad = beta1 * m_grad + (1 - beta1) * g
        v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)
        expected = move - 0.1 * (m_grad / (1 - beta1 ** t)) / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(decay, expected, rtol=1e-7, atol=1e-13, err_msg=f"step {t}")


def test_paper_convention_scales_with_the_schedule_multiplier():
    p = Parameter(np.ones(3))
    optimizer = AdamW([p], lr=0.1, weight_decay=0.01, decay="paper")
    optimizer.param_groups[0]["lr"] = 0.025        # η_t = 0.25
    with trace(optimizer, [(p, 0)]) as tape:
        p.grad = ones_like(p)
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
        w.grad, b.grad = tensor(rng.standard_normal((4, 5)) * np.logspace(-3, 1, 5)), tensor(rng.standard_normal(5))
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
    header = next(line for line in text.splitlines() if line.startswith("  parameter"))
    assert header.split()[:3] == ["parameter", "shape", "t"], "Adam's v̂_t depends on t: the table shows it"
    with pytest.raises(ValueError, match="not in the optimizer's param groups"):
        effective_decay(optimizer, [("other", Parameter(np.zeros(1)))])


def test_sgd_report_has_no_step_column():
    """torch's SGD keeps no step count (and its λ_eff needs none): no t, rather than a column of zeros."""
    p = Parameter(np.ones((2, 2)))
    optimizer = SGD([p], lr=LR, momentum=0.9, weight_decay=LAMBDA)
    for _ in range(3):
        p.grad = ones_like(p)
        optimizer.step()
    report = effective_decay(optimizer, [("w", p)])
    header, row = str(report).splitlines()[-2:]
    assert header.split() == ["parameter", "shape", "min", "25%", "median", "75%", "max"]
    assert row.split()[:3] == ["w", "(2,", "2)"] and float(row.split()[3]) == pytest.approx(LR * LAMBDA / 0.1)
    assert report.rows[0]["t"] is None and report.to_dict()["parameters"][0]["t"] is None
    sgdw = SGDW([Parameter(np.ones(2))], lr=LR, momentum=0.9)
    assert effective_decay(sgdw).rows[0]["t"] == 0, "SGDW counts its steps (Alg. 1 line 4)"
