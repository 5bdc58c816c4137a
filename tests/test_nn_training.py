"""The issue's "done when": both example models train under tinyreg with torch's loss curve, from the same initial
weights and data, with the same plain SGD step written out for both frameworks (dropout off: eval mode)."""

import numpy as np
import pytest

import tinyreg as tr
from tests.helpers import import_torch
from tinyreg import nn


def regression_model(lib):
    return lib.Sequential(lib.Linear(2, 20), lib.LayerNorm(20), lib.Linear(20, 20), lib.LayerNorm(20),
                          lib.Linear(20, 1))


def classifier(lib):
    return lib.Sequential(lib.Flatten(), lib.Linear(784, 256), lib.ReLU(), lib.Dropout(0.3), lib.Linear(256, 128),
                          lib.ReLU(), lib.Dropout(0.5), lib.Linear(128, 10))


def regression_data(rng):
    x = rng.uniform(-2, 2, size=(64, 2)).astype(np.float32)
    y = (np.sin(2 * x[:, :1]) + x[:, 1:] ** 2).astype(np.float32)
    return x, y


def classification_data(rng):
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    return x, rng.integers(0, 10, size=32)


def train_torch(model, loss_fn, x, y, lr, steps):
    torch = import_torch()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def train_tinyreg(model, loss_fn, x, y, lr, steps):
    x, y = tr.tensor(x), tr.tensor(y)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with tr.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make_model, make_data, loss_name, lr", [
    (regression_model, regression_data, "MSELoss", 0.05),
    (classifier, classification_data, "CrossEntropyLoss", 0.05),
])
def test_same_loss_curve_as_torch(make_model, make_data, loss_name, lr):
    torch = import_torch()
    torch.manual_seed(0)
    theirs = make_model(torch.nn).eval()
    ours = make_model(nn).eval()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    x, y = make_data(np.random.default_rng(0))
    steps = 25
    expected = train_torch(theirs, getattr(torch.nn, loss_name)(), x, y, lr, steps)
    got = train_tinyreg(ours, getattr(nn, loss_name)(), x, y, lr, steps)
    assert expected[-1] < 0.7 * expected[0]  # it really trains
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)  # float32 noise: ~2e-7 seen
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(np.asarray(ours.state_dict()[name]), p.detach().numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_classifier_trains_with_dropout_on():
    tr.manual_seed(0)
    model = classifier(nn).train()
    x, y = classification_data(np.random.default_rng(1))
    losses = train_tinyreg(model, nn.CrossEntropyLoss(), x, y, lr=0.05, steps=40)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
