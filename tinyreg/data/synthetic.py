"""Small synthetic regression sets used by the regularization experiments.

Randomness comes only from the ``rng`` argument (a ``numpy.random.Generator``), which defaults to
``tinyreg.random.generator()``, the generator seeded by ``tinyreg.manual_seed``.
"""

from typing import NamedTuple

import numpy as np

from ._generator import generator_or_default


class RegressionSet(NamedTuple):
    """Train and test arrays (float32, targets as columns) and the true parameters behind them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    true_w: np.ndarray
    true_b: float


def high_dim_linear(rng=None, n_train=20, n_test=100, num_inputs=200, noise_std=0.01):
    """d2l's weight-decay set: far more inputs (200) than training examples (20), so an
    unregularised linear model overfits.

        y = X w* + b* + eps,  X_ij ~ N(0, 1),  w* = 0.01 * 1,  b* = 0.05,  eps ~ N(0, noise_std**2)

    One block of ``n_train + n_test`` rows is drawn; the first ``n_train`` rows are for training.
    Returns a ``RegressionSet`` with x of shape (n, num_inputs) and y of shape (n, 1).
    """
    rng = generator_or_default(rng)
    true_w = np.full((num_inputs, 1), 0.01, dtype=np.float32)
    true_b = 0.05
    n = n_train + n_test
    x = rng.standard_normal((n, num_inputs), dtype=np.float32)
    eps = rng.normal(0.0, noise_std, size=(n, 1)).astype(np.float32)
    y = x @ true_w + np.float32(true_b) + eps
    return RegressionSet(x[:n_train], y[:n_train], x[n_train:], y[n_train:], true_w, true_b)


def histogram_regression():
    """The weight-decay histogram set: 20 points, two features, a quadratic target (no noise).

        x1 = -10, ..., 9    x2 = 0, ..., 19    X = [x1, x2]    y = 2 x1 - x2**2 + 1

    Returns ``(X, y)``: X float32 of shape (20, 2), y float32 of shape (20, 1).
    """
    x1 = np.arange(-10, 10, dtype=np.float32)
    x2 = np.arange(0, 20, dtype=np.float32)
    x = np.stack([x1, x2], axis=1)
    y = (2 * x1 - x2**2 + 1)[:, None]
    return x, y
