"""Dropout: keep rate and mean preservation within statistical bounds, scaling, eval identity, seeding, p's edge cases
and validation; Monte-Carlo dropout prediction."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.strategies import FLOAT_DTYPES, SEEDS
from tinyreg import nn
from tinyreg.nn import functional as F

N = 20_000
PROBABILITIES = st.sampled_from([0.05, 0.3, 0.5, 0.8, 0.95])


@given(p=PROBABILITIES, dtype=FLOAT_DTYPES, seed=SEEDS)
def test_keep_rate_and_scaling(p, dtype, seed):
    tr.manual_seed(seed)
    out = np.asarray(nn.Dropout(p)(tr.ones(N, dtype=dtype)))
    assert out.dtype == dtype
    kept = out != 0
    np.testing.assert_array_equal(out[kept], np.asarray(1 / (1 - p), dtype=dtype))  # kept units scaled by 1/(1-p)
    # the number kept is Binomial(N, 1-p): within 5 standard deviations
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / N)


@given(p=PROBABILITIES, seed=SEEDS)
def test_expectation_is_preserved(p, seed):
    """E[y_i] = x_i. The mean of y over N units has standard error √(Σ x_i² p/(1-p)) / N around mean(x)."""
    x = np.random.default_rng([seed, 1]).uniform(0.5, 2.0, size=N)  # not PCG64(seed): that is the mask's stream
    tr.manual_seed(seed)
    y = np.asarray(F.dropout(tr.tensor(x), p))
    standard_error = math.sqrt((x ** 2).sum() * p / (1 - p)) / N
    assert abs(y.mean() - x.mean()) < 5 * standard_error


def test_gradient_flows_through_kept_units_only_scaled():
    tr.manual_seed(0)
    x = tr.ones(6, 50, requires_grad=True)
    y = F.dropout(x, 0.4)
    upstream = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream * np.asarray(y))  # y = mask / (1-p) because x = 1


def test_eval_mode_and_p_zero_are_the_identity():
    x = tr.randn(4, 5, requires_grad=True)
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert nn.Dropout(0.0)(x) is x
    model = nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.9))
    model.eval()
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model[0](x)))
    model.train()
    assert (np.asarray(model(x)) == 0).mean() > 0.5


def test_p_one_gives_zeros_without_nan():
    x = tr.randn(3, 4, requires_grad=True)
    with np.errstate(all="raise"):
        y = nn.Dropout(1.0)(x)
        y.sum().backward()
    np.testing.assert_array_equal(y, 0)
    np.testing.assert_array_equal(x.grad, 0)


def test_same_seed_same_masks_and_different_seed_different_masks():
    def masks(seed):
        tr.manual_seed(seed)
        layer = nn.Dropout(0.5)
        return [np.asarray(layer(tr.ones(100))) for _ in range(3)]

    first, again, other = masks(7), masks(7), masks(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[0], first[1])  # a fresh mask every call


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", None, True])
def test_p_is_validated(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(tr.ones(2), p)


# ---- Monte-Carlo dropout -----------------------------------------------------------------------------------------
def mc_model():
    tr.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 40), nn.ReLU(), nn.Dropout(0.5), nn.Linear(40, 2))


def test_mc_dropout_equals_a_manual_loop_with_dropout_on():
    model, x = mc_model(), tr.randn(5, 3)
    tr.manual_seed(11)
    mean, std = nn.mc_dropout_predict(model, x, n_samples=30)
    tr.manual_seed(11)
    model.train()
    samples = np.stack([np.asarray(model(x)) for _ in range(30)])
    np.testing.assert_allclose(mean, samples.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, samples.std(axis=0), rtol=1e-5)
    assert mean.shape == std.shape == (5, 2) and not mean.requires_grad and (np.asarray(std) > 0).all()


def test_mc_dropout_mean_approaches_the_deterministic_prediction():
    """The last layer is linear in the dropped units, so E[f_t(x)] = the eval-mode prediction: the MC mean must be
    within 5 standard errors (std/√T) of it."""
    model, x = nn.Sequential(nn.Linear(3, 40), nn.Dropout(0.3), nn.Linear(40, 2)), tr.randn(4, 3)
    n_samples = 400
    mean, std = nn.mc_dropout_predict(model, x, n_samples)
    deterministic = np.asarray(model.eval()(x))
    assert (np.abs(np.asarray(mean) - deterministic) < 5 * np.asarray(std) / math.sqrt(n_samples)).all()


def test_mc_dropout_restores_every_modules_mode_and_only_enables_dropout():
    model, x = mc_model(), tr.randn(2, 3)
    seen = []

    class Probe(nn.Module):
        def forward(self, h):
            seen.append(self.training)
            return h

    model.append(Probe())
    for setup in (lambda: model.train(), lambda: model.eval(), lambda: (model.eval(), model[2].train())):
        setup()
        before = [m.training for m in model.modules()]
        nn.mc_dropout_predict(model, x, n_samples=3)
        assert [m.training for m in model.modules()] == before
    assert seen == [False] * 9  # non-dropout modules always ran in eval mode

    class Broken(nn.Module):
        def forward(self, h):
            raise RuntimeError("boom")

    model.append(Broken()).train()
    with pytest.raises(RuntimeError, match="boom"):
        nn.mc_dropout_predict(model, x, n_samples=2)
    assert all(m.training for m in model.modules())


def test_mc_dropout_without_dropout_has_zero_spread_and_n_samples_is_validated():
    model, x = nn.Sequential(nn.Linear(3, 2)), tr.randn(2, 3)
    mean, std = nn.mc_dropout_predict(model, x, 4)
    np.testing.assert_array_equal(std, 0)
    np.testing.assert_array_equal(mean, np.asarray(model(x)))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_samples must be a positive integer"):
            nn.mc_dropout_predict(model, x, bad)
