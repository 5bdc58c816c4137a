"""What the optimizer tests share: hyperparameter and gradient strategies, the torch runs, the tolerance rule.

Tolerance rule for comparing with torch (derived in test_optim_torch.py's docstring): SGD is compared bit for bit;
Adam one step at a time, both sides starting from the same θ_{t−1}, m_{t−1}, v_{t−1} (v_max) and t, per element to

    |x − x_torch| ≤ C·ε·scale(x)      for x in θ_t, m_t, v_t, v_max_t      (C = 8; ε the dtype's machine epsilon)

where scale(x) is the step evaluated in absolute values (:func:`adam_magnitudes`): the size of the terms each line
sums, which bounds what that line's roundings can change.
"""

import inspect

import numpy as np
from hypothesis import strategies as st

from tests.helpers import import_torch
from tinyreg.optim import kernels

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


def snapshot(optimizer, params):
    """Per parameter, θ (key ``"param"``) and the optimizer's state, as NumPy copies; works for torch and tinyreg."""
    def copy(x):
        return np.array(x.numpy() if hasattr(x, "numpy") else x)       # a torch tensor, or already an ndarray
    state = optimizer.state
    return [{"param": copy(p.data), **{k: copy(v) for k, v in state.get(p, {}).items()}} for p in params]


def torch_trajectory(make_optimizer, values, grad_steps):
    """Run a torch optimizer over the gradient sequence; returns its snapshots, before the first step and after each."""
    torch = import_torch()
    torch.set_num_threads(1)
    params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    optimizer = make_optimizer(params)
    states = [snapshot(optimizer, params)]
    for grads in grad_steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g.copy())
        optimizer.step()
        states.append(snapshot(optimizer, params))
    return states


def adam_magnitudes(before, grad, t, hyper, decay, v_t):
    """Adam's step t from ``before`` (θ_{t−1} and the moments, none before the first step) with every term replaced
    by its absolute value: per line, the scale of its rounding error.

    ḡ = |∇f| + λ|θ_{t−1}| (coupled decay); m̄ = |m_{t−1}| + ḡ, unweighted because torch's lerp carries an absolute
    error in its weight 1 − β₁; v̄ = β₂·v_{t−1} + (1 − β₂)·ḡ²; θ̄ = |keep|·|θ_{t−1}| + lr/(1 − β₁ᵗ)·m̄/(√(v_t/(1 − β₂ᵗ))
    + ε), the update through which a rounding of m_t reaches θ_t. ``v_t`` is the second moment the step divides by
    (v_max_t with AMSGrad): a denominator has no cancellation, so its own value is its scale.
    """
    lr, beta1, beta2, lambda_ = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["lambda_"]
    theta = np.abs(before["param"].astype(np.float64))
    g_bar = np.abs(grad.astype(np.float64)) + (lambda_ * theta if decay == "l2" else 0.0)
    m_bar = np.abs(before.get("exp_avg", 0.0)) + g_bar
    v_bar = beta2 * before.get("exp_avg_sq", 0.0) + (1 - beta2) * g_bar * g_bar
    keep = abs(1 - lr * lambda_) if decay == "decoupled" else 1.0
    update = lr / (1 - beta1**t) * m_bar / (np.sqrt(np.asarray(v_t, np.float64) / (1 - beta2**t)) + hyper["eps"])
    return {"param": keep * theta + update, "exp_avg": m_bar, "exp_avg_sq": v_bar,
            "max_exp_avg_sq": np.maximum(before.get("max_exp_avg_sq", 0.0), v_bar)}


def assert_adam_step_close(ours, theirs, before, grad, t, hyper, decay, what=""):
    """The rule above for one step: ``ours`` and ``theirs`` (snapshots after tinyreg's and torch's step ``t`` on
    ``grad``) must agree on every state array torch keeps, ``before`` being the state both started from."""
    v_t = theirs["max_exp_avg_sq" if hyper["amsgrad"] else "exp_avg_sq"]
    scale = adam_magnitudes(before, grad, t, hyper, decay, v_t)
    unit = np.finfo(before["param"].dtype).eps
    names = theirs.keys() - {"step"}
    assert ours.keys() - {"step"} == names, f"{what}: state {sorted(ours)}, torch's {sorted(theirs)}"
    for name in names:
        excess = np.abs(ours[name].astype(np.float64) - theirs[name]) - C * unit * scale[name]
        assert np.all(excess <= 0), (f"{what}, step {t}: {name} differs from torch's beyond C·ε·scale by up to "
                                     f"{excess.max():.3g}")


def step_arguments(cls, t):
    """The per-step keywords of ``cls``'s reference step besides the hyperparameters: ``t`` (this step's number)
    and ``first`` (SGD's b_1 ← g_1), whichever it takes."""
    taken = inspect.signature(cls.reference_step).parameters
    return {key: value for key, value in (("t", t), ("first", t == 1)) if key in taken}


def kernel_and_reference(cls, theta, grads, arguments, parallel):
    """Run ``cls``'s reference step and its kernel over ``grads`` from θ = ``theta`` and zero state; ``arguments(t)``
    the reference step's keywords at step t. Returns ``((theta, states), (theta, states))``, reference then kernel;
    a state the settings do not use is None on both sides (the reference returns None for it)."""
    theta_r, state_r = theta, [np.zeros_like(theta) for _ in cls.state_keys]
    for t, g in enumerate(grads, 1):
        theta_r, *state_r = cls.reference_step(theta_r, g, *state_r, **arguments(t))
    used = [x is not None for x in state_r]
    theta_k = theta.copy()
    state_k = tuple(np.zeros_like(theta) if u else kernels.NO_BUFFER[theta.dtype] for u in used)
    variant = sum(1 << k for k, name in enumerate(cls.optional_states) if used[cls.state_keys.index(name)])
    for t, g in enumerate(grads, 1):
        cls.kernel(theta_k, g, state_k, cls.coefficients(arguments(t), theta.dtype), variant, parallel)
    return (theta_r, state_r), (theta_k, [x if u else None for x, u in zip(state_k, used)])
