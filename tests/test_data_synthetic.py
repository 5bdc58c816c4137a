"""Synthetic regression sets: shapes, the generating equations, the noise level, determinism."""

import numpy as np

from tinyreg.data import high_dim_linear, histogram_regression
from tinyreg.random import manual_seed


def test_high_dim_linear_shapes_and_true_parameters():
    data = high_dim_linear(np.random.default_rng(0))
    assert data.x_train.shape == (20, 200) and data.y_train.shape == (20, 1)
    assert data.x_test.shape == (100, 200) and data.y_test.shape == (100, 1)
    assert all(a.dtype == np.float32 for a in (data.x_train, data.y_train, data.x_test, data.y_test))
    assert data.true_w.shape == (200, 1) and np.all(data.true_w == np.float32(0.01))
    assert data.true_b == 0.05


def residuals(data):
    """y - (X w* + b*), computed in float64 from the returned arrays: the noise that was added."""
    x = np.concatenate([data.x_train, data.x_test]).astype(np.float64)
    y = np.concatenate([data.y_train, data.y_test]).astype(np.float64)
    return y - (x.sum(axis=1, keepdims=True) * 0.01 + 0.05)


def test_high_dim_linear_default_noise_is_near_0_01():
    # 120 draws: the sample std has relative standard error ~ 1/sqrt(2*120) = 6.5%; allow ~5 of them.
    eps = residuals(high_dim_linear(np.random.default_rng(1)))
    assert 0.0065 < eps.std() < 0.0135


def test_high_dim_linear_statistics_on_many_rows():
    data = high_dim_linear(np.random.default_rng(2), n_train=20_000, n_test=0, num_inputs=10)
    eps = residuals(data)
    # Bounds are about 5 standard errors wide for 20,000 draws.
    assert abs(eps.std() / 0.01 - 1) < 0.025 and abs(eps.mean()) < 5 * 0.01 / np.sqrt(20_000)
    assert abs(data.x_train.mean()) < 0.01 and abs(data.x_train.std() - 1) < 0.01


def test_high_dim_linear_is_determined_by_the_generator():
    a, b = high_dim_linear(np.random.default_rng(5)), high_dim_linear(np.random.default_rng(5))
    c = high_dim_linear(np.random.default_rng(6))
    assert all(np.array_equal(u, v) for u, v in zip(a[:4], b[:4]))
    assert not np.array_equal(a.x_train, c.x_train)


def test_high_dim_linear_defaults_to_tinyreg_generator():
    manual_seed(11)
    first = high_dim_linear()
    manual_seed(11)
    assert np.array_equal(high_dim_linear().y_test, first.y_test)


def test_histogram_regression_values():
    x, y = histogram_regression()
    assert x.shape == (20, 2) and y.shape == (20, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    expected_x = [[x1, x1 + 10] for x1 in range(-10, 10)]
    expected_y = [[2 * x1 - x2 * x2 + 1] for x1, x2 in expected_x]
    assert x.tolist() == expected_x and y.tolist() == expected_y
