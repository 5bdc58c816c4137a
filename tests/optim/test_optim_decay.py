"""Weight decay: the paper's propositions on numbers, the three conventions and their converter, normalized weight
decay, and decay_groups."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyreg as tr
import tinyreg.optim  # noqa: F401  (tr.optim)
from tinyreg import nn

STEPS = 50


def train(make_optimizer, theta0, grads):
    """θ after feeding the gradient sequence to a fresh optimizer."""
    p = tr.nn.Parameter(theta0.copy())
    opt = make_optimizer([p])
    for g in grads:
        p.grad = tr.tensor(g)
        opt.step()
    return np.array(p)


def sequence(seed, shape=(6,), scales=1.0, steps=STEPS):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), [rng.standard_normal(shape) * scales for _ in range(steps)]


# ---- Proposition 1 (plain SGD: decoupled λ == L2 with λ/α), and its failure with momentum -----------------------
@settings(deadline=None, max_examples=15)
@given(lr=st.floats(1e-3, 0.5), lambda_=st.floats(1e-4, 0.1), seed=st.integers(0, 2**31))
def test_proposition_1_sgdw_equals_sgd_with_l2_scaled_by_lr(lr, lambda_, seed):
    theta0, grads = sequence(seed)
    sgdw = train(lambda ps: tr.optim.SGDW(ps, lr=lr, weight_decay=lambda_, decay="paper"), theta0, grads)
    sgd_l2 = train(lambda ps: tr.optim.SGD(ps, lr=lr, weight_decay=lambda_ / lr), theta0, grads)
    np.testing.assert_allclose(sgdw, sgd_l2, rtol=1e-12, atol=1e-12)
    no_decay = train(lambda ps: tr.optim.SGD(ps, lr=lr), theta0, grads)
    assert not np.allclose(sgdw, no_decay, rtol=1e-9, atol=1e-9), "both ignoring λ would also pass the equality"


def test_with_momentum_l2_and_decoupled_sgd_differ():
    """The L2 term passes through the momentum buffer, the decoupled one does not: no longer the same update."""
    theta0, grads = sequence(3)
    sgdw = train(lambda ps: tr.optim.SGDW(ps, lr=0.1, momentum=0.9, weight_decay=0.01), theta0, grads)
    sgdw_l2 = train(lambda ps: tr.optim.SGDW(ps, lr=0.1, momentum=0.9, weight_decay=0.1, decay="l2"), theta0, grads)
    assert np.max(np.abs(sgdw - sgdw_l2)) > 1e-3


def test_sgdw_with_constant_lr_is_torch_sgd_momentum_up_to_rounding():
    """Algorithm 1 keeps α inside the buffer (line 8), torch outside: the same while lr is constant."""
    theta0, grads = sequence(4)
    sgdw = train(lambda ps: tr.optim.SGDW(ps, lr=0.05, momentum=0.9, weight_decay=0.02, decay="l2"), theta0, grads)
    sgd = train(lambda ps: tr.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.02), theta0, grads)
    np.testing.assert_allclose(sgdw, sgd, rtol=1e-12, atol=1e-12)


# ---- Adam: λ = 0 makes the conventions agree; with λ > 0 no L2 factor reproduces decoupled decay ----------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_without_decay_adam_and_adamw_are_identical(dtype):
    theta0, grads = sequence(5)
    theta0, grads = theta0.astype(dtype), [g.astype(dtype) for g in grads]
    runs = [train(lambda ps: cls(ps, lr=0.01, weight_decay=0.0, decay=decay), theta0, grads)
            for cls in (tr.optim.Adam, tr.optim.AdamW) for decay in ("l2", "decoupled", "paper")]
    for other in runs[1:]:
        np.testing.assert_array_equal(other, runs[0])


def decay_reaching_theta(make_optimizer, theta0, grads):
    """How much the decay removed from each weight: θ trained without decay minus θ trained with it."""
    return train(lambda ps: make_optimizer(ps, 0.0), theta0, grads) - train(make_optimizer, theta0, grads)


def test_proposition_2_large_gradient_history_is_decayed_less_under_adam_l2():
    """Weight 0 sees gradients 1000x larger than weight 1. AdamW removes the same fraction of both; Adam + L2
    divides λθ by √v̂ + ε, so weight 0 — the one with the large gradient history — is decayed far less."""
    theta0 = np.array([1.0, 1.0])
    rng = np.random.default_rng(0)
    grads = [np.array([10.0, 0.01]) * rng.choice([-1.0, 1.0], size=2) for _ in range(STEPS)]
    lr = 1e-2
    adamw = decay_reaching_theta(lambda ps, lam=0.1: tr.optim.AdamW(ps, lr=lr, weight_decay=lam), theta0, grads)
    np.testing.assert_allclose(adamw[0], adamw[1], rtol=0.05)                       # same rate for both weights
    assert adamw[0] == pytest.approx(1 - (1 - lr * 0.1) ** STEPS, rel=0.1)           # ≈ the pure decay factor
    l2 = decay_reaching_theta(lambda ps, lam=0.1: tr.optim.Adam(ps, lr=lr, weight_decay=lam), theta0, grads)
    assert l2[0] < 0.1 * adamw[0] and l2[0] < 0.05 * l2[1]                          # the paper's argument
    for lam in np.logspace(-4, 2, 19):                   # and no L2 factor reproduces AdamW on both weights at once
        l2 = decay_reaching_theta(lambda ps, lam=lam: tr.optim.Adam(ps, lr=lr, weight_decay=lam), theta0, grads)
        assert np.max(np.abs(l2 - adamw) / adamw) > 0.5, f"λ'={lam:g} reproduces AdamW's decay"


# ---- the two decoupled conventions and the converter -------------------------------------------------------------
def test_paper_and_torch_conventions_agree_through_the_converter():
    theta0, grads = sequence(6)
    lr, lam = 3e-3, 1e-2
    torch_form = train(lambda ps: tr.optim.AdamW(ps, lr=lr, weight_decay=lam), theta0, grads)
    paper = tr.optim.paper_from_decoupled(lam, lr)
    paper_form = train(lambda ps: tr.optim.AdamW(ps, lr=lr, weight_decay=paper, decay="paper"), theta0, grads)
    np.testing.assert_array_equal(paper_form, torch_form)       # η_t = 1: 1 − 1·(λ·α) is exactly 1 − α·λ
    assert paper == pytest.approx(3e-5) and tr.optim.decoupled_from_paper(paper, lr) == pytest.approx(lam)


@pytest.mark.parametrize("cls", [tr.optim.AdamW, tr.optim.SGDW])
def test_paper_decay_does_not_change_with_the_learning_rate(cls):
    """With zero gradients only the decay acts: θ_T = θ_0·(1 − η·λ)^T under "paper" whatever α is, while under
    "decoupled" the decay grows with α — the separability of λ and α the paper argues for."""
    theta0, zeros = np.array([2.0, -1.0]), [np.zeros(2)] * STEPS
    for lr in (1e-3, 1e-1):
        paper = train(lambda ps: cls(ps, lr=lr, weight_decay=0.01, decay="paper"), theta0, zeros)
        np.testing.assert_allclose(paper, theta0 * 0.99 ** STEPS, rtol=1e-12)
        torch_form = train(lambda ps: cls(ps, lr=lr, weight_decay=0.01, decay="decoupled"), theta0, zeros)
        np.testing.assert_allclose(torch_form, theta0 * (1 - lr * 0.01) ** STEPS, rtol=1e-12)


def test_paper_decay_follows_the_schedule_multiplier():
    """η_t = lr_t / lr_0: halving the learning rate halves the paper-form decay (zero gradients isolate it)."""
    p = tr.nn.Parameter(np.array([1.0]))
    opt = tr.optim.AdamW([p], lr=0.1, weight_decay=0.2, decay="paper")
    p.grad = tr.zeros_like(p)
    opt.step()
    opt.param_groups[0]["lr"] = 0.05
    opt.step()
    np.testing.assert_allclose(p, [(1 - 0.2) * (1 - 0.5 * 0.2)], rtol=1e-15)


def test_normalized_weight_decay():
    # λ_norm·√(b/(B·T)) by hand: 0.05·√(128 / (50,000·100)) = 0.05·0.0050596... = 2.5298e-4
    assert tr.optim.normalized_weight_decay(0.05, batch_size=128, n_train=50_000, epochs=100) == \
        pytest.approx(0.05 * math.sqrt(128 / 5_000_000), rel=1e-15)
    assert tr.optim.normalized_weight_decay(0.05, 128, 50_000, 100) == pytest.approx(2.5298e-4, rel=1e-4)
    # 4x the epochs at the same λ_norm: half the per-step decay
    assert tr.optim.normalized_weight_decay(0.05, 128, 50_000, 400) == \
        pytest.approx(tr.optim.normalized_weight_decay(0.05, 128, 50_000, 100) / 2)


# ---- decay_groups --------------------------------------------------------------------------------------------
def model():
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 2))


def test_decay_groups_leave_biases_and_layernorm_undecayed():
    m = model()
    groups = tr.optim.decay_groups(m, weight_decay=0.05)
    named = dict(m.named_parameters())
    assert groups[0] == {"params": [named["0.weight"], named["3.weight"]], "weight_decay": 0.05}
    assert groups[1]["params"] == [named["0.bias"], named["1.weight"], named["1.bias"], named["3.bias"]]
    assert groups[1]["weight_decay"] == 0.0
    report = str(groups.report)
    assert "weight decay 0.05 on 2 of 6 tensors (48 of 74 values)" in report
    assert "decayed      0.weight" in report and "not decayed  1.weight" in report


def test_decay_groups_feed_an_optimizer_and_only_weights_shrink():
    m = model()
    opt = tr.optim.AdamW(tr.optim.decay_groups(m, weight_decay=0.5), lr=0.1)
    before = {name: np.array(p) for name, p in m.named_parameters()}
    for p in m.parameters():
        p.grad = tr.zeros_like(p)
    opt.step()
    for name, p in m.named_parameters():
        factor = 1 - 0.1 * 0.5 if name.endswith("weight") and name != "1.weight" else 1.0
        np.testing.assert_allclose(p, before[name] * factor, rtol=1e-6, err_msg=name)


def test_decay_groups_custom_rule():
    groups = tr.optim.decay_groups(model(), 0.1, no_decay=lambda name, p: name.startswith("3."))
    assert len(groups[0]["params"]) == 4 and len(groups[1]["params"]) == 2
