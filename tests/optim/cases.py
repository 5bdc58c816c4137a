"""What the optimizer tests share: hyperparameter and gradient strategies, the torch runs, the tolerance rule.

Tolerance rule for comparing with torch (derived in test_optim_torch.py's docstring): SGD is compared bit for bit;
Adam, whose line 12 torch evaluates differently and with a ±1-ulp square root, per element to

    |θ − θ_torch| ≤ C·ε·(|θ_torch| + Σ_s |θ_s − θ_{s−1}|)        (C = 8; ε the dtype's machine epsilon)
    |m − m_torch| ≤ C·ε·T·G,   |v − v_torch| ≤ C·ε·T·G²       (G = max_s |g_s| + λ·|θ_s|, bounding every m, √v)
"""

import numpy as np
from hypothesis import strategies as st

from tests.helpers import import_torch

DTYPES = st.sampled_from([np.float32, np.float64])
C = 8


@st.composite
def adam_hyper(draw):
    return dict(lr=draw(st.floats(1e-4, 0.3)), beta1=draw(st.sampled_from([0.0, 0.3, 0.9]) | st.floats(0.0, 0.99)),
                beta2=draw(st.sampled_from([0.999, 0.99]) | st.floats(0.5, 0.9999)),
                eps=draw(st.sampled_from([1e-8, 1e-6, 1e-3])), lambda_=draw(st.sampled_from([0.0, 0.01]) |
                                                                              st.floats(0.0, 0.5)),
                amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))


@st.composite
def sgd_hyper(draw):
    momentum = draw(st.sampled_from([0.0, 0.9]) | st.floats(0.0, 0.99))
    nesterov = momentum > 0 and draw(st.booleans())
    return dict(lr=draw(st.floats(1e-4, 0.5)), momentum=momentum,
                dampening=0.0 if nesterov else draw(st.sampled_from([0.0, 0.5]) | st.floats(0.0, 0.9)),
                nesterov=nesterov, lambda_=draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 0.5)),
                maximize=draw(st.booleans()))


@st.composite
def sgdw_hyper(draw):
    return dict(lr=draw(st.floats(1e-4, 0.5)), beta1=draw(st.sampled_from([0.0, 0.9]) | st.floats(0.0, 0.99)),
                lambda_=draw(st.floats(0.0, 0.1)), maximize=draw(st.booleans()))


SHAPES = st.lists(st.sampled_from([(), (1,), (3,), (7,), (2, 5), (3, 1, 4), (17,)]), min_size=1, max_size=3)


def gradients(seed, shapes, dtype, steps):
    """``steps`` lists of gradients (one array per shape), with a per-parameter scale between 1e-3 and 10."""
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-3, 1, size=len(shapes))
    return [[(s * rng.standard_normal(shape)).astype(dtype) for s, shape in zip(scales, shapes)]
            for _ in range(steps)]


def initial_values(seed, shapes, dtype):
    rng = np.random.default_rng(seed + 1)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def torch_trajectory(make_optimizer, values, grad_steps):
    """Run a torch optimizer over the gradient sequence; returns (θ after every step per param, optimizer, params)."""
    torch = import_torch()
    torch.set_num_threads(1)
    params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    optimizer = make_optimizer(params)
    history = []
    for grads in grad_steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g.copy())
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, optimizer, params


def assert_theta_close(actual, history, initial, dtype, what=""):
    """The θ rule above; ``history`` is torch's θ after each step for this parameter."""
    expected = history[-1]
    path = np.abs(np.diff(np.stack([initial, *history]), axis=0)).sum(axis=0)
    bound = C * np.finfo(dtype).eps * (np.abs(expected) + path)
    excess = np.abs(actual.astype(np.float64) - expected) - bound
    assert np.all(excess <= 0), f"{what}: θ differs from torch beyond C·ε·(|θ| + path) by up to {excess.max():.3g}"


def assert_state_close(actual, expected, scale, steps, dtype, what=""):
    """The state rule above; ``scale`` is G for m and G² for v."""
    bound = C * np.finfo(dtype).eps * steps * scale
    excess = np.abs(np.asarray(actual, np.float64) - np.asarray(expected)) - bound
    assert np.all(excess <= 0), f"{what}: state differs from torch beyond C·ε·T·scale by up to {excess.max():.3g}"
