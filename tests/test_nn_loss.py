"""Losses and penalties: cross_entropy and mse_loss against torch and finite differences, d2l's squared_loss, the
L1/L2 penalties against their closed forms, and the errors for bad labels and reductions."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import assert_close, check_against_torch, check_op, import_torch
from tests.strategies import FLOAT_DTYPES, SEEDS, shapes
from tinyreg import nn
from tinyreg.nn import functional as F

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@st.composite
def classification_cases(draw):
    """(logits shape, labels): unbatched (C,), batched (N, C) or with extra axes (N, C, d)."""
    n_classes = draw(st.integers(1, 5))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    batch = draw(st.integers(1, 4))
    shape = {"unbatched": (n_classes,), "batched": (batch, n_classes),
             "spatial": (batch, n_classes, draw(st.integers(1, 3)))}[layout]
    label_shape = shape[:0] if layout == "unbatched" else shape[:1] + shape[2:]
    labels = np.random.default_rng(draw(SEEDS)).integers(0, n_classes, size=label_shape)
    return shape, labels


def cross_entropy_pair(labels, reduction):
    torch = import_torch()
    return (lambda z: F.cross_entropy(z, tr.tensor(labels), reduction=reduction),
            lambda z: torch.nn.functional.cross_entropy(z, torch.from_numpy(labels), reduction=reduction))


@given(case=classification_cases(), reduction=REDUCTIONS, dtype=FLOAT_DTYPES, seed=SEEDS)
def test_cross_entropy_matches_torch(case, reduction, dtype, seed):
    torch = import_torch()
    shape, labels = case
    logits = np.random.default_rng(seed).uniform(-4, 4, size=shape)
    check_against_torch(*cross_entropy_pair(labels, reduction), [logits], dtype)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    assert_close(loss_fn(tr.tensor(logits), tr.tensor(labels)),
                 torch.nn.CrossEntropyLoss(reduction=reduction)(torch.tensor(logits), torch.from_numpy(labels)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_passes_gradcheck(reduction):
    rng = np.random.default_rng(1)
    for shape, labels in [((4,), np.array(2)), ((3, 4), np.array([3, 0, 3])),
                          ((2, 3, 2), np.array([[0, 2], [1, 1]]))]:
        check_op(*cross_entropy_pair(labels, reduction), [rng.uniform(-4, 4, size=shape)])


@given(dtype=FLOAT_DTYPES, scale=st.sampled_from([1e2, 1e4, 3e37]), seed=SEEDS)
def test_cross_entropy_is_stable_for_huge_logits(dtype, scale, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.uniform(-1, 1, size=(4, 6)) * scale).astype(dtype)
    labels = rng.integers(0, 6, size=4)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow, log(0) or 0/0 (underflow is fine)
        z = tr.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(z, tr.tensor(labels))
        loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad).all()
    if scale < 1e30:  # beyond that torch's float32 result itself is ±inf-prone; finiteness is the point there
        check_against_torch(*cross_entropy_pair(labels, "mean"), [logits])


def test_cross_entropy_rejects_bad_labels_clearly():
    logits = tr.randn(3, 4)
    for labels in ([0, 4, 1], [0, -1, 2]):
        with pytest.raises(IndexError, match=f"Target {labels[1]} is out of bounds.*4 classes"):
            F.cross_entropy(logits, tr.tensor(labels))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(logits, tr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="target shape"):
        F.cross_entropy(logits, tr.tensor([0, 1]))
    with pytest.raises(ValueError, match="mid is not a valid value for reduction"):
        F.cross_entropy(logits, tr.tensor([0, 1, 2]), reduction="mid")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


@given(shape=shapes(0, 3), reduction=REDUCTIONS, seed=SEEDS)
def test_mse_loss_matches_torch_and_finite_differences(shape, reduction, seed):
    torch = import_torch()
    rng = np.random.default_rng(seed)
    prediction, target = rng.standard_normal(shape), rng.standard_normal(shape)
    check_op(lambda a, b: F.mse_loss(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.mse_loss(a, b, reduction=reduction), [prediction, target])
    assert_close(nn.MSELoss(reduction=reduction)(tr.tensor(prediction), tr.tensor(target)),
                 torch.nn.MSELoss(reduction=reduction)(torch.tensor(prediction), torch.tensor(target)))


def test_mse_loss_warns_about_broadcasting_like_torch():
    torch = import_torch()
    prediction, target = np.ones((3, 1)), np.arange(3.0)
    with pytest.warns(UserWarning, match="different to the input size"):
        ours = F.mse_loss(tr.tensor(prediction), tr.tensor(target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(ours, torch.nn.functional.mse_loss(torch.tensor(prediction), torch.tensor(target)))


def test_squared_loss_is_d2ls_half_squared_error_per_sample():
    y_hat = tr.tensor(np.array([[1.0], [2.5], [-1.0]]), requires_grad=True)
    y = tr.tensor(np.array([0.0, 2.0, 1.0]))  # a flat target: reshaped to y_hat's (3, 1), not broadcast to (3, 3)
    loss = nn.squared_loss(y_hat, y)
    np.testing.assert_array_equal(loss, [[0.5], [0.125], [2.0]])
    loss.sum().backward()
    np.testing.assert_array_equal(y_hat.grad, [[1.0], [0.5], [-2.0]])  # ŷ − y
    assert F.squared_loss is nn.squared_loss


@given(batch=st.integers(1, 5), target_shape=st.sampled_from(["flat", "column"]), seed=SEEDS)
def test_squared_loss_matches_torch_and_finite_differences(batch, target_shape, seed):
    """d2l's definition written in torch, 0.5 * (ŷ − y.reshape(ŷ.shape))², for a (N, 1) prediction and a (N,) or
    (N, 1) target: values and the gradients of both inputs."""
    rng = np.random.default_rng(seed)
    y_hat = rng.standard_normal((batch, 1))
    y = rng.standard_normal(batch if target_shape == "flat" else (batch, 1))
    check_op(nn.squared_loss, lambda a, b: 0.5 * (a - b.reshape(a.shape)) ** 2, [y_hat, y], seed)


@given(shape=shapes(0, 3), dtype=FLOAT_DTYPES, seed=SEEDS)
def test_penalties_and_their_gradients(shape, dtype, seed):
    values = np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(dtype)
    values[np.abs(values) < 0.05] = 0  # exact zeros: |w| has subgradient 0 there (torch's choice)
    for penalty, value, gradient in [(nn.l2_penalty, (values.astype(np.float64) ** 2).sum() / 2, values),
                                     (nn.l1_penalty, np.abs(values.astype(np.float64)).sum(), np.sign(values))]:
        w = nn.Parameter(values.copy())
        out = penalty(w)
        assert out.shape == () and out.dtype == dtype
        assert_close(out, np.asarray(value, dtype=dtype), what=penalty.__name__)
        out.backward()
        assert_close(w.grad, gradient, what=f"gradient of {penalty.__name__}")
    assert F.l2_penalty is nn.l2_penalty and F.l1_penalty is nn.l1_penalty


def test_penalties_pass_gradcheck_and_match_torch():
    w = np.array([[0.5, -1.5, 2.0], [-0.3, 0.7, 1.1]])
    check_op(nn.l2_penalty, lambda t: (t ** 2).sum() / 2, [w])
    check_op(nn.l1_penalty, lambda t: t.abs().sum(), [w])


# ---- the losses ported scripts use: L1 Huber BCE BCEWithLogits NLL, functional and module forms -----------------
def loss_pair(name, reduction, **kwargs):
    """The functional loss ``name`` in tinyreg and in torch, with the same keyword arguments."""
    torch = import_torch()
    torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tr_kwargs = {k: tr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return (lambda *t: getattr(F, name)(*t, reduction=reduction, **tr_kwargs),
            lambda *t: getattr(torch.nn.functional, name)(*t, reduction=reduction, **torch_kwargs))


@given(shape=shapes(0, 3), reduction=REDUCTIONS, seed=SEEDS)
def test_l1_and_huber_losses(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    prediction = rng.uniform(-3, 3, size=shape)
    # kept away from the kinks: |d| = 0 (l1) and |d| = delta (huber)
    offset = rng.choice([-1, 1], size=shape) * rng.uniform(0.1, 0.4, size=shape)
    far = rng.choice([-1, 1], size=shape) * rng.uniform(1.3, 2.5, size=shape)
    target = prediction + np.where(rng.random(shape) < 0.5, offset, far)
    check_op(*loss_pair("l1_loss", reduction), [prediction, target], seed)
    check_op(*loss_pair("huber_loss", reduction), [prediction, target], seed)
    check_op(*loss_pair("huber_loss", reduction, delta=0.7), [prediction, target], seed)


@given(shape=shapes(0, 3), reduction=REDUCTIONS, weighted=st.booleans(), seed=SEEDS)
def test_binary_cross_entropy_of_probabilities(shape, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    p, y = rng.uniform(0.05, 0.95, size=shape), rng.uniform(0, 1, size=shape)  # soft targets: y gets a gradient too
    kwargs = dict(weight=rng.uniform(0.5, 2, size=shape)) if weighted else {}
    check_op(*loss_pair("binary_cross_entropy", reduction, **kwargs), [p, y], seed)


@given(shape=shapes(0, 3), reduction=REDUCTIONS, pos_weight=st.booleans(), seed=SEEDS)
def test_binary_cross_entropy_with_logits(shape, reduction, pos_weight, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.uniform(-6, 6, size=shape), rng.uniform(0, 1, size=shape)
    kwargs = dict(pos_weight=rng.uniform(0.5, 3, size=shape[-1:])) if pos_weight else {}
    check_op(*loss_pair("binary_cross_entropy_with_logits", reduction, **kwargs), [z, y], seed)


def test_binary_cross_entropy_at_the_edges_like_torch():
    """p = 0 or 1 gives torch's clamped 100, not inf; huge logits stay finite."""
    p, y = [0.0, 0.5, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0, 1.0]
    check_against_torch(*loss_pair("binary_cross_entropy", "none"), [p, y], np.float32)
    z = [[-200.0, 0.0, 200.0], [50.0, -50.0, 1e-3]]
    check_against_torch(*loss_pair("binary_cross_entropy_with_logits", "sum"), [z, np.ones((2, 3))], np.float32)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tr.tensor([1.5]), tr.tensor([1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy_with_logits(tr.tensor([0.5, 0.5]), tr.tensor([1.0]))


@given(case=classification_cases(), reduction=REDUCTIONS, seed=SEEDS)
def test_nll_loss_after_log_softmax(case, reduction, seed):
    shape, labels = case
    log_p = np.random.default_rng(seed).uniform(-4, 0, size=shape)
    nll_tr, nll_torch = loss_pair("nll_loss", reduction)
    check_op(lambda z: nll_tr(z, tr.tensor(labels)), lambda z: nll_torch(z, import_torch().from_numpy(labels)),
             [log_p], seed)


def test_nll_of_log_softmax_is_cross_entropy_and_bad_labels_are_refused():
    logits = tr.randn(4, 3)
    labels = tr.tensor([0, 2, 1, 2])
    assert_close(nn.NLLLoss()(nn.LogSoftmax(dim=1)(logits), labels), F.cross_entropy(logits, labels))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.nll_loss(logits, tr.tensor([0, 3, 1, 2]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_match_torchs(reduction):
    torch = import_torch()
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.1, 0.9, size=(4, 3)), rng.uniform(0, 1, size=(4, 3))
    labels = np.array([0, 2, 1, 1])
    cases = [("MSELoss", {}, y), ("L1Loss", {}, y), ("HuberLoss", dict(delta=0.3), y), ("BCELoss", {}, y),
             ("BCEWithLogitsLoss", {}, y), ("NLLLoss", {}, labels), ("CrossEntropyLoss", {}, labels)]
    for name, kwargs, target in cases:
        ours = getattr(nn, name)(reduction=reduction, **kwargs)(tr.tensor(x), tr.tensor(target))
        theirs = getattr(torch.nn, name)(reduction=reduction, **kwargs)(torch.tensor(x), torch.tensor(target))
        assert_close(ours, theirs, what=name)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.HuberLoss(reduction="avg")


def test_mse_loss_of_float32_with_a_float64_0d_target_has_torchs_dtype():
    """The fuzz: torch broadcasts first, so the 0-d float64 target counts as dimensioned and the result is float64."""
    torch = import_torch()
    with pytest.warns(UserWarning):
        ours = F.mse_loss(tr.ones(3), tr.tensor(2.0, dtype=tr.float64))
    with pytest.warns(UserWarning):
        theirs = torch.nn.functional.mse_loss(torch.ones(3), torch.tensor(2.0, dtype=torch.float64))
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")) and ours.item() == theirs.item()


@pytest.mark.parametrize("module,dim,ndim", [("Softmax", 1, 2), ("LogSoftmax", -1, 3), ("Softmax", 0, 1)])
def test_softmax_modules(module, dim, ndim):
    torch = import_torch()
    x = np.random.default_rng(ndim).standard_normal((2, 3, 4)[:ndim])
    check_op(lambda t: getattr(nn, module)(dim=dim)(t), lambda t: getattr(torch.nn, module)(dim=dim)(t), [x])
    assert repr(getattr(nn, module)(dim=dim)) == repr(getattr(torch.nn, module)(dim=dim))
