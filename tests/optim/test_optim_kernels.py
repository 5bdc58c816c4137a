"""The fused Numba kernels equal the NumPy reference steps bit for bit (serial and parallel), the FMA rounds once,
and the record hook reports each intermediate in order."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.optim.cases import DTYPES, adam_hyper, kernel_and_reference, sgd_hyper, sgdw_hyper, step_arguments
from tinyreg import optim
from tinyreg.optim import kernels
from tinyreg.optim.adam import adam_step
from tinyreg.optim.sgd import sgd_step
from tinyreg.optim.sgdw import sgdw_step
from tinyreg.optim.decay import DECAY_CONVENTIONS
from tinyreg.optim.fma import fma, fma_scalar

STEPS = 12


def correctly_rounded(exact: Fraction, dtype):
    """The float of ``dtype`` nearest to ``exact`` (ties to even), found by checking the neighbours."""
    guess = dtype(float(exact))
    candidates = [np.nextafter(guess, dtype(-np.inf)), guess, np.nextafter(guess, dtype(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - exact), int(np.abs(c).view(
        np.uint32 if dtype is np.float32 else np.uint64)) & 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_rounds_once(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(300).astype(dtype), rng.standard_normal(300).astype(dtype)
    c = np.concatenate([rng.standard_normal(150), -(a[150:] * b[150:])]).astype(dtype)  # half cancel a·b
    got = fma(a, b, c)
    assert got.dtype == dtype
    expected = [correctly_rounded(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)), dtype)
                for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(got, expected)
    assert fma_scalar(a[0], b[0], c[0]) == got[0]
    assert np.any(got != (a * b + c)), "the test should include inputs where two roundings differ"


def test_fma_python_floats_round_like_torch_alpha():
    """A Python-float factor is rounded to the array's dtype first (what torch does with ``alpha``)."""
    x = np.array([1.0, 3.0], np.float32)
    assert fma(0.1, x, x).dtype == np.float32
    np.testing.assert_array_equal(fma(0.1, x, x), fma(np.float32(0.1), x, x))


@pytest.fixture(autouse=True, scope="module")
def _parallel_even_on_small_arrays():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernels, "PARALLEL_MIN_SIZE", 0)
        yield


serial_and_parallel = pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])


def data(seed, size, dtype):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(size).astype(dtype)
    grads = [(rng.standard_normal(size) * 10.0 ** rng.uniform(-3, 1)).astype(dtype) for _ in range(STEPS)]
    return theta, grads


def assert_kernel_equals_reference(cls, hyper, decay, dtype, size, seed, parallel):
    theta, grads = data(seed, size, dtype)
    arguments = lambda t: dict(hyper, decay=decay, eta_t=0.75, **step_arguments(cls, t))  # noqa: E731
    (theta_r, state_r), (theta_k, state_k) = kernel_and_reference(cls, theta, grads, arguments, parallel)
    for name, x_r, x_k in zip(("theta", *cls.state_keys), [theta_r, *state_r], [theta_k, *state_k]):
        assert (x_r is None) == (x_k is None), name
        if x_r is not None:
            np.testing.assert_array_equal(x_k, x_r, err_msg=name)
    assert theta_k.dtype == dtype


@serial_and_parallel
@settings(deadline=None, max_examples=15)
@given(hyper=adam_hyper(), decay=st.sampled_from(DECAY_CONVENTIONS), dtype=DTYPES, size=st.integers(1, 300),
       seed=st.integers(0, 2**32 - 1))
def test_adam_kernel_equals_reference(parallel, hyper, decay, dtype, size, seed):
    assert_kernel_equals_reference(optim.Adam, hyper, decay, dtype, size, seed, parallel)


@serial_and_parallel
@settings(deadline=None, max_examples=15)
@given(hyper=sgd_hyper(), decay=st.sampled_from(DECAY_CONVENTIONS), dtype=DTYPES, size=st.integers(1, 300),
       seed=st.integers(0, 2**32 - 1))
def test_sgd_kernel_equals_reference(parallel, hyper, decay, dtype, size, seed):
    assert_kernel_equals_reference(optim.SGD, hyper, decay, dtype, size, seed, parallel)


@serial_and_parallel
@settings(deadline=None, max_examples=10)
@given(hyper=sgdw_hyper(), decay=st.sampled_from(DECAY_CONVENTIONS), dtype=DTYPES, size=st.integers(1, 300),
       seed=st.integers(0, 2**32 - 1))
def test_sgdw_kernel_equals_reference(parallel, hyper, decay, dtype, size, seed):
    assert_kernel_equals_reference(optim.SGDW, hyper, decay, dtype, size, seed, parallel)


def test_parallel_kernel_on_a_large_buffer_equals_serial():
    """The prange loop on a real-sized buffer (and it selects a non-spinning threading layer)."""
    theta, grads = data(1, 1 << 16, np.float32)
    arguments = lambda t: dict(t=t, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, lambda_=1e-2,  # noqa: E731
                               decay="decoupled", eta_t=1.0, amsgrad=False, maximize=False)
    (serial, _), (parallel, _) = (kernel_and_reference(optim.Adam, theta, grads[:3], arguments, p)[1]
                                  for p in (False, True))
    np.testing.assert_array_equal(parallel, serial)
    import numba
    assert numba.threading_layer() != "omp" or numba.config.THREADING_LAYER == "omp"


# ---- the record hook ------------------------------------------------------------------------------------------
def recorded(step, *args, **kwargs):
    calls = []
    out = step(*args, **kwargs, record=lambda *call: calls.append(call))
    return calls, out


def test_record_hook_reports_adam_intermediates_in_order():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    zeros = np.zeros(2)
    calls, (theta_t, m_t, v_t, _) = recorded(adam_step, theta, g, zeros, zeros, t=1, lr=0.1,
                                             lambda_=0.1, decay="l2")
    names = [name for name, *_ in calls]
    assert names == ["g_t", "g_t", "m_t", "v_t", "m_hat", "v_hat", "eta_t", "theta_t"]
    values = {name: value for name, value, *_ in calls}
    np.testing.assert_array_equal(values["m_t"], m_t)
    np.testing.assert_array_equal(values["theta_t"], theta_t)
    np.testing.assert_allclose(values["g_t"], g + 0.1 * theta)                 # the L2 line, by hand
    np.testing.assert_allclose(values["m_hat"], values["g_t"])                  # bias-corrected first step
    assert [line for *_, line in calls][1] == "Alg. 2, line 6"
    assert all(isinstance(eq, str) and "←" in eq for _, _, eq, _ in calls)


def test_record_hook_shows_where_the_decay_goes():
    theta, g, zeros = np.array([1.0]), np.array([0.5]), np.zeros(1)
    lines, values = {}, {}
    for decay in DECAY_CONVENTIONS:
        calls, _ = recorded(adam_step, theta, g, zeros, zeros, t=1, lr=0.1, lambda_=0.1, decay=decay,
                            eta_t=0.5)
        lines[decay] = [(name, line) for name, _, _, line in calls]
        values[decay] = {name: value for name, value, _, _ in calls}
    # the decay factor is its own line, one Python float per step: 1 − lr·λ (torch), 1 − η_t·λ (the paper)
    assert type(values["decoupled"]["keep"]) is float and values["decoupled"]["keep"] == 1 - 0.1 * 0.1
    assert values["paper"]["keep"] == 1 - 0.5 * 0.1 and "keep" not in values["l2"]
    assert values["paper"]["theta"] == theta * 0.95 and values["decoupled"]["theta"] == theta * 0.99
    assert ("g_t", "Alg. 2, line 6") in lines["l2"] and ("theta", "Alg. 2, line 12") not in lines["l2"]
    assert ("theta", "Alg. 2, line 12") in lines["paper"] and ("g_t", "Alg. 2, line 6") not in lines["paper"]
    assert ("theta", "decoupled (torch AdamW form)") in lines["decoupled"]
    # the decoupled line comes after the moments: it never enters m_t
    names = [name for name, _ in lines["decoupled"]]
    assert names.index("theta") > names.index("v_hat")


def test_record_hook_for_sgd_and_sgdw():
    theta, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    calls, (theta_t, b_t) = recorded(sgd_step, theta, g, None, lr=0.1, momentum=0.9, nesterov=True, first=True)
    assert [name for name, *_ in calls] == ["g_t", "b_t", "g_t", "theta_t"]
    assert calls[1][2] == "b_1 ← g_1"
    np.testing.assert_array_equal(calls[-1][1], theta_t)
    calls, _ = recorded(sgdw_step, theta, g, np.zeros(2), lr=0.1, beta1=0.9, lambda_=0.01)
    assert [name for name, *_ in calls] == ["g_t", "eta_t", "m_t", "keep", "theta", "theta_t"]


def test_reference_steps_do_not_modify_their_inputs():
    theta, g, m, v = (np.arange(1.0, 4.0) * k for k in (1, 0.5, 0.1, 0.01))
    copies = [x.copy() for x in (theta, g, m, v)]
    adam_step(theta, g, m, v, v.copy(), t=3, lr=0.1, lambda_=0.1, amsgrad=True, maximize=True)
    sgd_step(theta, g, m, lr=0.1, momentum=0.9, lambda_=0.1, decay="decoupled")
    sgdw_step(theta, g, m, lr=0.1, beta1=0.9, lambda_=0.1)
    for x, x0 in zip((theta, g, m, v), copies):
        np.testing.assert_array_equal(x, x0)
