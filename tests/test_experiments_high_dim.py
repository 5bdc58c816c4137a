"""Experiment 2 (high-dim-regression): the lesson on real output, d2l's reference numbers, and torch as the oracle."""

import numpy as np
import pytest

from helpers import import_torch
from tinyreg.data import batches
from tinyreg.experiments import high_dim_regression as exp2
from tinyreg.experiments.runner import Context


@pytest.fixture(scope="module")
def metrics():
    # Quick mode is the full d2l configuration for this experiment (it takes about a second), so this one run is
    # both the --quick lesson check and the full-size check against the book's numbers.
    return exp2.run(Context(seed=0, quick=True, show_progress=False))


def final(metrics, variant, lam, key):
    return metrics["runs"][exp2.run_label(variant, lam)][key][-1]


@pytest.mark.parametrize("variant", exp2.VARIANTS)
def test_decay_shrinks_w_and_the_test_loss(metrics, variant):
    assert final(metrics, variant, 3.0, "w_norm") < final(metrics, variant, 0.0, "w_norm") / 10
    assert final(metrics, variant, 3.0, "test_loss") < final(metrics, variant, 0.0, "test_loss") / 10
    # Without decay the 200 weights interpolate the 20 points: the training loss is far below the test loss.
    assert final(metrics, variant, 0.0, "train_loss") < final(metrics, variant, 0.0, "test_loss") / 1000


def test_full_run_lands_in_d2l_reference_ranges(metrics):
    assert metrics["config"] == dict(metrics["config"], lr=0.003, batch_size=5, epochs=100, n_train=20, n_test=100,
                                     num_inputs=200)
    assert 12.5 <= final(metrics, "penalty", 0.0, "w_norm") <= 14.7
    assert 0.34 <= final(metrics, "penalty", 3.0, "w_norm") <= 0.39
    test0, test3 = final(metrics, "penalty", 0.0, "test_loss"), final(metrics, "penalty", 3.0, "test_loss")
    assert test3 <= 0.2
    assert test0 / test3 >= 100


@pytest.mark.parametrize("lam", exp2.LAMBDAS)
def test_penalty_and_sgd_weight_decay_give_the_same_curve(metrics, lam):
    """Proposition 1 of Loshchilov & Hutter for plain SGD: an L2 penalty and SGD's weight_decay are one update."""
    np.testing.assert_allclose(metrics["runs"][exp2.run_label("optimizer", lam)]["w_norm"],
                               metrics["runs"][exp2.run_label("penalty", lam)]["w_norm"], rtol=1e-5)


def torch_w_norms(problem, lam, variant, rng):
    """d2l's loop written in torch on the same initial arrays and the same batch order."""
    torch = import_torch()
    x_train, y_train = (torch.tensor(a) for a in problem.data[:2])
    w = torch.tensor(problem.w0, requires_grad=True)
    b = torch.tensor(problem.b0, requires_grad=True)
    decay = lam if variant == "optimizer" else 0.0
    optimizer = torch.optim.SGD([{"params": [w], "weight_decay": decay}, {"params": [b]}], lr=0.003)
    norms = []
    for _ in range(100):
        for (rows,) in batches(np.arange(len(x_train)), batch_size=5, rng=rng):
            rows = torch.tensor(rows)
            loss = ((x_train[rows] @ w + b - y_train[rows]) ** 2 / 2).sum() / len(rows)
            if variant == "penalty":
                loss = loss + lam * (w * w).sum() / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        norms.append(float(torch.linalg.norm(w.detach())))
    return norms


@pytest.mark.parametrize("variant", exp2.VARIANTS)
@pytest.mark.parametrize("lam", exp2.LAMBDAS)
def test_same_w_norm_as_torch(lam, variant):
    ctx = Context(seed=3, show_progress=False)
    problem = exp2.make_problem(ctx)
    ours = exp2.train(problem, lam, variant, ctx.rng("batches"))["w_norm"]
    np.testing.assert_allclose(ours, torch_w_norms(problem, lam, variant, ctx.rng("batches")), rtol=1e-5)
