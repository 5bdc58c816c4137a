"""tinyreg.optim against torch.optim, step for step over 50+ steps of hand-set gradients.

SGD is equal bit for bit: every line of torch's SGD is either a product by a scalar or ``x.add(y, alpha=a)``, which
torch's CPU kernel rounds once (an FMA), and tinyreg rounds those lines once too (tinyreg.optim.fma).

Adam cannot be bit-equal: torch's CPU ``sqrt`` is not correctly rounded (±1 ulp on ~17% of float32 elements,
measured), torch updates m by ``lerp`` and evaluates line 12 as θ − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε), while tinyreg
writes the paper's lines. Each step then differs by a few roundings of θ and of the update, so after T steps
|Δθ| ≤ C·ε·(|θ| + Σ|θ_s − θ_{s−1}|) (the movement bounds the accumulated update roundings); m and v, averages of
g_t = g + λθ, differ by at most C·ε·T·G (G² for v) with G = max_s |g_s| + λ|θ_s|. C = 8 (measured worst over 150 examples: 2.9). A semantic
slip (bias correction, decay position, amsgrad) moves θ by ~lr per step, orders of magnitude above these bounds.
The coupled decay line g + λθ, where the two terms can cancel, is rounded once exactly as torch does.
"""

import numpy as np
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
