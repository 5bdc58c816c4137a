"""Layers against torch with copied weights (forward, input gradient, every parameter gradient), the fused ops against
finite differences and their composed twins, and nn.init's distributions."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import assert_close, check_op, import_torch
from tests.strategies import FLOAT_DTYPES, SEEDS, shapes
from tinyreg import nn
from tinyreg.nn import functional as F


def check_layer(ours, theirs, x, seed=0):
    """Give ``ours`` random parameters, copy them into ``theirs`` and compare the output, dL/dx and dL/dθ for every
    named parameter under the same random upstream gradient."""
    torch = import_torch()
    rng = np.random.default_rng(seed)
    for p in ours.parameters():
        p.data[...] = rng.uniform(-1, 1, size=p.shape)
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v).copy()) for k, v in ours.state_dict().items()})
    x_ours, x_theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(x_ours), theirs(x_theirs)
    assert out.dtype == x.dtype
    assert_close(out, expected, what="output")
    upstream = rng.standard_normal(out.shape).astype(out.dtype)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    assert_close(x_ours.grad, x_theirs.grad, what="input gradient")
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert p.grad.dtype == x.dtype
        assert_close(p.grad, theirs_params[name].grad, what=f"gradient of {name}")


def torch_dtype(dtype):
    torch = import_torch()
    return torch.float64 if dtype == np.float64 else torch.float32


@given(batch=shapes(0, 2), in_features=st.integers(1, 6), out_features=st.integers(1, 6), bias=st.booleans(),
       dtype=FLOAT_DTYPES, seed=SEEDS)
def test_linear_matches_torch(batch, in_features, out_features, bias, dtype, seed):
    torch = import_torch()
    x = np.random.default_rng(seed).standard_normal(batch + (in_features,)).astype(dtype)
    check_layer(nn.Linear(in_features, out_features, bias, dtype=dtype),
                torch.nn.Linear(in_features, out_features, bias, dtype=torch_dtype(dtype)), x, seed)


@st.composite
def layer_norm_cases(draw, min_last_side=1):
    """(input shape, normalized_shape): the normalized axes are the last 1..ndim axes of the input."""
    shape = draw(shapes(1, 3, min_side=1, max_side=5))
    shape = shape[:-1] + (max(shape[-1], min_last_side),)
    n_normalized = draw(st.integers(1, len(shape)))
    return shape, shape[len(shape) - n_normalized:]


def draw_distinct(shape, seed, dtype):
    """Values at least 0.3 apart in random order, centred on 0."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return ((rng.permutation(n) + rng.uniform(0, 0.5, n) - n / 2) * 0.6).reshape(shape).astype(dtype)


@given(case=layer_norm_cases(min_last_side=2), affine=st.booleans(), bias=st.booleans(), eps=st.sampled_from([1e-5, 1e-3, 0.1]),
       dtype=FLOAT_DTYPES, seed=SEEDS)
def test_layer_norm_matches_torch(case, affine, bias, eps, dtype, seed):
    torch = import_torch()
    shape, normalized = case
    # At least two distinct values per sample keep σ away from 0, where float32 results are rounding noise
    # amplified by 1/√ε (torch's too; see test_float32_layer_norm_gradient_is_more_accurate_than_torchs).
    x = 1 + draw_distinct(shape, seed, dtype)
    check_layer(nn.LayerNorm(normalized, eps, affine, bias, dtype=dtype),
                torch.nn.LayerNorm(normalized, eps, affine, bias, dtype=torch_dtype(dtype)), x, seed)


@given(case=layer_norm_cases(), seed=SEEDS)
def test_fused_layer_norm_equals_layer_norm_composed_from_mean_and_var(case, seed):
    shape, normalized = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) * 2, rng.standard_normal(normalized), rng.standard_normal(normalized)]
    axes = tuple(range(len(shape) - len(normalized), len(shape)))

    def composed(x, w, b):
        x_hat = (x - x.mean(axes, keepdims=True)) / tr.sqrt(x.var(axes, unbiased=False, keepdims=True) + 1e-5)
        return x_hat * w + b

    results = []
    for fn in (lambda x, w, b: F.layer_norm(x, normalized, w, b), composed):
        inputs = [tr.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*inputs)
        out.backward(np.cos(np.arange(out.numel())).reshape(out.shape))
        results.append([np.asarray(out)] + [t.grad for t in inputs])
    for fused, reference, what in zip(*results, ("output", "dx", "dweight", "dbias")):
        assert_close(fused, reference, rtol=1e-9, atol=1e-11, what=what)


def test_float32_layer_norm_gradient_is_more_accurate_than_torchs():
    """Samples whose mean is 40σ from 0: centring in float32 loses digits, and how the backward copes decides the
    error. Against the float64 gradient of the same float32 inputs, tinyreg's error must be 10x below torch's."""
    torch = import_torch()
    rng = np.random.default_rng(0)
    for n in (2, 5, 20):
        x = (rng.standard_normal((500, n)) * 0.1 + 4).astype(np.float32)
        g = rng.standard_normal((500, n)).astype(np.float32)
        grads = {}
        for name, dtype in (("truth", torch.float64), ("torch", torch.float32)):
            t = torch.tensor(x, dtype=dtype, requires_grad=True)
            torch.nn.functional.layer_norm(t, (n,)).backward(torch.tensor(g, dtype=dtype))
            grads[name] = t.grad.double().numpy()
        ours = tr.tensor(x, requires_grad=True)
        F.layer_norm(ours, n).backward(g)
        ours_error = np.abs(ours.grad - grads["truth"]).max()
        assert ours_error < 0.1 * np.abs(grads["torch"] - grads["truth"]).max(), n


def test_layer_norm_and_linear_ops_pass_gradcheck_and_torch():
    torch = import_torch()
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    check_op(lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
             lambda x, w, b: torch.nn.functional.layer_norm(x, (3, 4), w, b, eps=1e-3), [x, w, b])
    check_op(lambda x: F.layer_norm(x, 4), lambda x: torch.nn.functional.layer_norm(x, (4,)), [x])
    x, w, b = rng.standard_normal((2, 2, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    check_op(F.linear, torch.nn.functional.linear, [x, w, b])
    check_op(F.linear, torch.nn.functional.linear, [x[0, 0], w])  # unbatched input, no bias


def test_linear_skips_gradients_nobody_needs():
    layer = nn.Linear(3, 2)
    layer.weight.requires_grad_(False)
    x = tr.randn(4, 3)  # data: no gradient wanted
    layer(x).sum().backward()
    assert layer.weight.grad is None and x.grad is None
    np.testing.assert_array_equal(layer.bias.grad, [4.0, 4.0])


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 2x5\)"):
        nn.Linear(2, 5)(tr.randn(4, 3))
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 5\], but got input of size\[4, 3\]"):
        nn.LayerNorm(5)(tr.randn(4, 3))


@given(shape=shapes(1, 4, max_side=3), dtype=FLOAT_DTYPES, seed=SEEDS,
       layer=st.sampled_from(["ReLU", "Tanh", "Sigmoid", "Identity", "Flatten"]))
def test_parameter_free_layers_match_torch(shape, dtype, seed, layer):
    torch = import_torch()
    x = np.random.default_rng(seed).uniform(-3, 3, size=shape).astype(dtype)
    x[np.abs(x) < 0.05] = 0.5  # away from relu's kink
    if layer == "Flatten" and len(shape) < 2:
        x = x[np.newaxis]
    check_layer(getattr(nn, layer)(), getattr(torch.nn, layer)(), x, seed)


# ---- initialisation ----------------------------------------------------------------------------------------------
def assert_uniform(values, bound, what):
    """Within [-bound, bound], filling it (min and max near the ends) with the uniform's variance bound²/3.

    The sample variance of n uniforms has relative standard error ≈ 0.894/√n; 6 of those is the tolerance.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    assert np.abs(values).max() <= bound * (1 + 1e-6), what
    assert values.min() < -bound * (1 - 20 / n) and values.max() > bound * (1 - 20 / n), what
    assert abs(values.var() / (bound ** 2 / 3) - 1) < 6 * 0.894 / math.sqrt(n), what
    assert abs(values.mean()) < 6 * bound / math.sqrt(3 * n), what


def test_linear_default_init_is_torchs():
    layer = nn.Linear(100, 300)
    assert layer.weight.shape == (300, 100) and layer.bias.shape == (300,) and layer.weight.dtype == np.float32
    assert_uniform(np.asarray(layer.weight), 1 / math.sqrt(100), "weight ~ U(-1/sqrt(in), 1/sqrt(in))")
    bias = np.concatenate([np.asarray(nn.Linear(100, 300).bias) for _ in range(20)])
    assert_uniform(bias, 1 / math.sqrt(100), "bias ~ U(-1/sqrt(in), 1/sqrt(in))")
    assert nn.Linear(3, 2, bias=False).bias is None


def test_initialisation_is_reproducible_from_the_seed():
    tr.manual_seed(5)
    first = nn.Linear(4, 3).state_dict()
    tr.manual_seed(5)
    second = nn.Linear(4, 3).state_dict()
    for k in first:
        np.testing.assert_array_equal(np.asarray(first[k]), np.asarray(second[k]))


def test_init_functions_fill_in_place_with_the_right_distribution():
    w = nn.Parameter(np.zeros((200, 150), dtype=np.float32))
    array = np.asarray(w)
    for fn, bound in [(lambda: nn.init.kaiming_uniform_(w), math.sqrt(2 / (1 + 0.0)) * math.sqrt(3 / 150)),
                      (lambda: nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"),
                       math.sqrt(2) * math.sqrt(3 / 200)),
                      (lambda: nn.init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(150)),
                      (lambda: nn.init.xavier_uniform_(w), math.sqrt(6 / 350)),
                      (lambda: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh")),
                       5 / 3 * math.sqrt(6 / 350)),
                      (lambda: nn.init.uniform_(w, -0.3, 0.3), 0.3)]:
        assert fn() is w
        assert np.asarray(w) is array and w.dtype == np.float32
        assert_uniform(np.asarray(w), bound, "init")
    nn.init.normal_(w, mean=2.0, std=0.5)
    assert abs(np.asarray(w).mean() - 2.0) < 6 * 0.5 / math.sqrt(w.numel()) and abs(np.asarray(w).std() / 0.5 - 1) < 0.02
    nn.init.zeros_(w)
    assert not np.asarray(w).any()
    nn.init.ones_(w)
    assert (np.asarray(w) == 1).all() and np.asarray(w) is array
    assert nn.init.constant_(w, 0.25) is w
    assert (np.asarray(w) == 0.25).all() and np.asarray(w) is array
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))


def test_calculate_gain_matches_torch():
    torch = import_torch()
    for args in [("linear",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
                 ("leaky_relu", math.sqrt(5))]:
        assert nn.init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args), rel=1e-12)
