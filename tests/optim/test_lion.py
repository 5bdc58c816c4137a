"""Lion against Algorithm 2 of Chen et al. (2023), written out here independently in float64 (Lion is not in torch);
backends bit-identical; state_dict round trip."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyreg as tr
from tests.optim.cases import DTYPES, gradients, initial_values
from tests.optim.checks import SHAPES, assert_backends_bit_identical, groups_of, snapshot
from tinyreg.optim import Lion

C = 8


def paper_lion(theta, m, g, lr, beta1, beta2, lambda_, coupled):
    """One step of the paper's pseudo-code, element by element, in float64. ``coupled``: λθ added to the gradient
    instead of the paper's decoupled term (tinyreg's decay="l2")."""
    theta_t, m_t = np.empty_like(theta), np.empty_like(m)
    for i in range(theta.size):
        g_i = g.flat[i] + (lambda_ * theta.flat[i] if coupled else 0.0)
        c = beta1 * m.flat[i] + (1 - beta1) * g_i                      # c_t ← β₁m_{t−1} + (1 − β₁)g_t
        sign = 1.0 if c > 0 else -1.0 if c < 0 else 0.0
        decay = 0.0 if coupled else lambda_ * theta.flat[i]
        theta_t.flat[i] = theta.flat[i] - lr * (sign + decay)           # θ_t ← θ_{t−1} − η_t(sign(c_t) + λθ_{t−1})
        m_t.flat[i] = beta2 * m.flat[i] + (1 - beta2) * g_i             # m_t ← β₂m_{t−1} + (1 − β₂)g_t
    return theta_t, m_t


@st.composite
def group(draw, decay=st.sampled_from(["l2", "decoupled", "paper"])):
    return dict(lr=draw(st.floats(1e-5, 0.1)), betas=(draw(st.sampled_from([0.9, 0.0]) | st.floats(0.0, 1.0)),
                                                       draw(st.sampled_from([0.99, 0.9]) | st.floats(0.0, 1.0))),
                weight_decay=draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 2.0)), decay=draw(decay))


@settings(deadline=None, max_examples=20)
@given(groups=st.lists(group(), min_size=1, max_size=2), dtype=DTYPES, shapes=SHAPES, seed=st.integers(0, 2**31))
def test_backends_are_bit_identical(groups, dtype, shapes, seed):
    assert_backends_bit_identical(Lion, groups, dtype, shapes, seed)


@settings(deadline=None, max_examples=40)
@given(groups=st.lists(group(decay=st.sampled_from(["l2", "decoupled"])), min_size=1, max_size=2), dtype=DTYPES,
       shapes=SHAPES, seed=st.integers(0, 2**31))
def test_each_step_is_the_papers_within_rounding(groups, dtype, shapes, seed):
    """From tinyreg's state before each step, the paper's step in float64 lands where tinyreg's lands, within
    C·ε of the terms each line sums: |θ_{t−1}|·(1 + lr·λ) + lr for θ, |β₂m| + (1 − β₂)(|g| + |λθ|) for m. Where c_t is within
    its own rounding of 0 the sign may differ: there θ may be off by up to 2·lr."""
    steps, unit = 12, np.finfo(dtype).eps
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, steps)
    params = [tr.nn.Parameter(v.copy()) for v in values]
    opt = Lion(groups_of(params, groups))
    for t, grads in enumerate(grad_steps, 1):
        before = snapshot(opt, params)
        for p, g in zip(params, grads):
            p.grad = tr.tensor(g)
        opt.step()
        for k, (p, g, prev) in enumerate(zip(params, grads, before)):
            settings_ = groups[k % len(groups)]
            lr, (beta1, beta2), lambda_ = settings_["lr"], settings_["betas"], settings_["weight_decay"]
            coupled = settings_["decay"] == "l2"
            theta, m = prev["param"].astype(np.float64), prev.get("exp_avg", np.zeros_like(prev["param"]))
            g64 = np.asarray(g, np.float64) + (lambda_ * theta if coupled else 0.0)
            theta_p, m_p = paper_lion(theta, m.astype(np.float64), np.asarray(g, np.float64), lr, beta1, beta2,
                                      lambda_, coupled)
            c_scale = np.abs(beta1 * m) + np.abs((1 - beta1) * g64) + (np.abs(lambda_ * theta) if coupled else 0)
            c = beta1 * m + (1 - beta1) * g64
            uncertain = np.abs(c) <= C * unit * c_scale
            theta_bound = C * unit * (np.abs(theta) * (1 + lr * lambda_) + lr) + np.where(uncertain, 2 * lr, 0.0)
            g_terms = np.abs(np.asarray(g, np.float64)) + (np.abs(lambda_ * theta) if coupled else 0.0)  # λ rounds too
            m_bound = C * unit * (np.abs(beta2 * m) + np.abs(1 - beta2) * g_terms)
            state = opt.state[p]
            assert np.all(np.abs(np.asarray(p, np.float64) - theta_p) <= theta_bound), f"step {t}, θ{k}"
            assert np.all(np.abs(state["exp_avg"].astype(np.float64) - m_p) <= m_bound), f"step {t}, m{k}"


def test_lion_moves_every_coordinate_by_lr():
    """The sign: gradients of very different sizes give steps of the same size."""
    p = tr.nn.Parameter(np.zeros(3))
    opt = Lion([p], lr=0.01)
    p.grad = tr.tensor([1e-6, -3.0, 200.0], dtype=tr.float64)
    opt.step()
    np.testing.assert_array_equal(np.asarray(p), [-0.01, 0.01, -0.01])


def test_state_dict_round_trip():
    a, b = (tr.nn.Parameter(np.linspace(-1, 1, 4)) for _ in range(2))
    opt = Lion([a], lr=0.01, weight_decay=0.5)
    for g in (1.0, -2.0):
        a.grad = tr.full((4,), g, dtype=tr.float64)
        opt.step()
    other = Lion([b], lr=0.01, weight_decay=0.5)
    other.load_state_dict(opt.state_dict())
    assert other.state[b]["exp_avg"].tobytes() == opt.state[a]["exp_avg"].tobytes()
    assert int(other.state[b]["step"]) == 2
