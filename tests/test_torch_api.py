"""The torch spellings a ported script uses, each compared with torch: size()/numel/dim, dtype conversions and names,
to()/cpu()/devices, formatting, equal/allclose/is_tensor/from_numpy, comparison methods, tr.max(a, b), keyword names,
the constructors (linspace eye empty randint normal *_like, device=), and x == None."""

import numpy as np
import pytest

import tinyreg as tr
from tests.helpers import import_torch, numpy_dtype

X = [[1.5, -2.0, 0.0], [3.0, 0.25, -1.0]]


def both(expr):
    """``expr`` evaluated with tinyreg and with torch as ``lib``."""
    return expr(tr), expr(import_torch())


def assert_same_tensor(ours, theirs):
    assert ours.dtype == numpy_dtype(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-6)  # exp may differ in the last ulp


def test_size_is_torchs_method_and_numel_counts():
    for expr in (lambda lib: lib.tensor(X).size(), lambda lib: lib.tensor(X).size(0),
                 lambda lib: lib.tensor(X).size(-1), lambda lib: lib.tensor(X).numel(), lambda lib: lib.tensor(X).dim(),
                 lambda lib: lib.tensor(X).nelement(), lambda lib: lib.tensor(2.0).size(),
                 lambda lib: lib.tensor(X).tolist(), lambda lib: lib.tensor(X)[1, 0].item()):
        ours, theirs = both(expr)
        assert ours == theirs
    with pytest.raises(IndexError, match="Dimension out of range"):
        tr.tensor(X).size(2)


@pytest.mark.parametrize("name", ["float32", "float64", "float", "double", "half", "float16", "int", "int32",
                                  "int64", "long", "short", "int16", "int8", "uint8", "bool"])
def test_dtype_names_are_torchs(name):
    assert getattr(tr, name) == numpy_dtype(getattr(import_torch(), name))
    assert tr.zeros(2, dtype=getattr(tr, name)).dtype == numpy_dtype(getattr(import_torch(), name))


@pytest.mark.parametrize("convert", [
    lambda lib, t: t.float(), lambda lib, t: t.double(), lambda lib, t: t.half(), lambda lib, t: t.long(),
    lambda lib, t: t.int(), lambda lib, t: t.bool(), lambda lib, t: t.type(lib.float64),
    lambda lib, t: t.type(lib.long),
    lambda lib, t: t.to(lib.float64), lambda lib, t: t.to("cpu", lib.int32), lambda lib, t: t.to(dtype=lib.float16),
    lambda lib, t: t.to(lib.tensor([1], dtype=lib.int64)), lambda lib, t: t.type_as(lib.tensor([True])),
    lambda lib, t: t.to(lib.device("cpu")), lambda lib, t: t.cpu(),
])
def test_conversions_match_torch(convert):
    assert_same_tensor(*both(lambda lib: convert(lib, lib.tensor(X))))


def test_type_names_and_conversions_that_change_nothing_return_the_tensor():
    x = tr.tensor(X)
    assert (x.type(), tr.tensor([1]).type(), x.double().type()) == ("tinyreg.FloatTensor", "tinyreg.LongTensor",
                                                                     "tinyreg.DoubleTensor")
    assert x.type("torch.DoubleTensor").dtype == tr.float64
    assert x.to(tr.float32) is x and x.to("cpu") is x and x.float() is x and x.cpu() is x
    assert x.to(tr.float32, copy=True) is not x
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.ComplexTensor")


def test_format_of_a_zero_dim_tensor_is_its_numbers():
    ours, theirs = both(lambda lib: lib.tensor(2.0 / 3))
    for spec in (".2f", "f", ".3e", "", "8.1f"):
        assert format(ours, spec) == format(theirs, spec)
    assert f"{tr.tensor(1.5).sum():.4f}" == "1.5000"
    with pytest.raises(TypeError, match="unsupported format string"):
        format(tr.tensor([1.0]), ".2f")


def test_equal_allclose_is_tensor_from_numpy():
    torch = import_torch()
    for a, b in [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 2.0 + 1e-9]), ([1.0], [1.0, 1.0]), ([1.0, 2.0], [1.0])]:
        assert tr.equal(tr.tensor(a), tr.tensor(b)) == torch.equal(torch.tensor(a), torch.tensor(b))
        if len(a) == len(b):
            assert tr.allclose(tr.tensor(a), tr.tensor(b)) == torch.allclose(torch.tensor(a), torch.tensor(b))
            assert tr.tensor(a).allclose(tr.tensor(b), atol=0, rtol=0) == tr.tensor(a).equal(tr.tensor(b))
    assert tr.is_tensor(tr.ones(1)) and not tr.is_tensor(np.ones(1)) and tr.is_tensor(tr.nn.Parameter(tr.ones(1)))
    array = np.arange(3)
    shared = tr.from_numpy(array)
    array[0] = 7
    assert shared.dtype == np.int64 and shared.tolist() == [7, 1, 2]
    with pytest.raises(TypeError, match="expected np.ndarray"):
        tr.from_numpy([1, 2])


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods_and_functions(name):
    y = [[1.5, 0.0, 0.0], [2.0, 0.25, 1.0]]
    assert_same_tensor(*both(lambda lib: getattr(lib.tensor(X), name)(lib.tensor(y))))
    assert_same_tensor(*both(lambda lib: getattr(lib, name)(lib.tensor(X), 0.0)))
    assert_same_tensor(*both(lambda lib: getattr(lib, name)(input=lib.tensor(X), other=lib.tensor(y))))


def test_comparing_with_none_is_a_plain_bool_like_torch():
    x = tr.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711 (the comparison is the point)


def test_torch_keyword_names():
    y = [[0.5, 1.0, 2.0], [1.0, 1.0, 1.0]]
    for expr in (lambda lib: lib.add(input=lib.tensor(X), other=lib.tensor(y), alpha=2),
                 lambda lib: lib.mul(input=lib.tensor(X), other=2.0), lambda lib: lib.exp(input=lib.tensor(X)),
                 lambda lib: lib.sum(input=lib.tensor(X), dim=1),
                 lambda lib: lib.max(input=lib.tensor(X), other=lib.tensor(y)),
                 lambda lib: lib.matmul(input=lib.tensor(X), other=lib.tensor(y).t()),
                 lambda lib: lib.where(lib.tensor(X) > 0, input=lib.tensor(X), other=0.0)):
        assert_same_tensor(*both(expr))


@pytest.mark.parametrize("expr", [lambda lib: lib.tensor(X).t(), lambda lib: lib.tensor([1.0, 2.0]).t(),
                                  lambda lib: lib.tensor(X).square(), lambda lib: lib.tensor(X).sign(),
                                  lambda lib: lib.tensor(X).max(lib.tensor(X).t().t() * 0),
                                  lambda lib: (lib.tensor(X) > 0).all(), lambda lib: (lib.tensor(X) > 0).any(dim=1),
                                  lambda lib: lib.all(lib.tensor(X) != 0, dim=0, keepdim=True),
                                  lambda lib: lib.tensor(X).any(), lambda lib: lib.tensor([[0.0, 0.0]]).any(1)])
def test_small_methods(expr):
    assert_same_tensor(*both(expr))


def test_t_refuses_more_than_two_dims():
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        tr.zeros(2, 2, 2).t()


# ---- constructors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.linspace(-2.0, 3, steps=7, dtype=lib.float64),
    lambda lib: lib.linspace(0, 1, 1), lambda lib: lib.eye(3), lambda lib: lib.eye(2, 4, dtype=lib.int64),
    lambda lib: lib.empty(2, 3).zero_() if lib is not tr else lib.empty(2, 3), lambda lib: lib.zeros(2, device="cpu"),
    lambda lib: lib.ones((2, 1), dtype=lib.long, device=lib.device("cpu")),
    lambda lib: lib.full((2,), 1.5, device="cpu"), lambda lib: lib.arange(4, device="cpu"),
    lambda lib: lib.tensor([1, 2], device="cpu", dtype=lib.float64),
])
def test_deterministic_constructors_match_torch(expr):
    ours, theirs = both(expr)
    assert ours.dtype == numpy_dtype(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("expr", [
    lambda lib: lib.randint(0, 10, (200,)), lambda lib: lib.randint(5, size=(3, 4)),
    lambda lib: lib.normal(0, 1, size=(2, 3)), lambda lib: lib.normal(lib.zeros(4), 2.0),
    lambda lib: lib.normal(lib.zeros(2, 1, dtype=lib.float64), lib.ones(3)),
    lambda lib: lib.randn_like(lib.zeros(2, 3, dtype=lib.float64)), lambda lib: lib.rand_like(lib.zeros(2)),
    lambda lib: lib.randn(2, 3, device="cpu"), lambda lib: lib.rand(2, device="cpu", requires_grad=True),
])
def test_random_constructors_have_torchs_shapes_and_dtypes_and_follow_the_seed(expr):
    ours, theirs = both(expr)
    assert ours.dtype == numpy_dtype(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    tr.manual_seed(3)
    first = np.asarray(expr(tr)).copy()
    tr.manual_seed(3)
    np.testing.assert_array_equal(np.asarray(expr(tr)), first)


def test_random_constructors_draw_from_the_right_distribution():
    tr.manual_seed(0)
    ints = tr.randint(2, 5, (4000,)).numpy()
    assert set(np.unique(ints)) == {2, 3, 4}
    samples = tr.normal(3.0, 0.5, size=(20000,)).numpy()
    assert abs(samples.mean() - 3.0) < 0.02 and abs(samples.std() - 0.5) < 0.02
    per_element = tr.normal(tr.tensor([0.0, 100.0]), tr.tensor([1.0, 0.001])).numpy()
    assert abs(per_element[0]) < 5 and abs(per_element[1] - 100.0) < 0.01


# ---- devices ----------------------------------------------------------------------------------------------------
def test_the_cpu_device_like_torch():
    torch = import_torch()
    for spelling in ("cpu", "cpu:0"):
        assert repr(tr.device(spelling)) == repr(torch.device(spelling))
        assert str(tr.device(spelling)) == str(torch.device(spelling))
    assert tr.device("cpu") == tr.device("cpu") and tr.device("cpu") != tr.device("cpu:0")
    x = tr.ones(2)
    assert x.device == tr.device("cpu") and not x.is_cuda
    assert tr.nn.Linear(2, 3).weight.device == tr.device("cpu")
    assert tr.cuda.is_available() is False and tr.cuda.device_count() == 0
    tr.set_default_device("cpu")
    tr.set_default_device(None)


@pytest.mark.parametrize("use_gpu", [
    lambda: tr.device("cuda"), lambda: tr.device("cuda:0"), lambda: tr.device("mps"),
    lambda: tr.zeros(2, device="cuda"),
    lambda: tr.tensor([1.0], device="cuda"), lambda: tr.randn(2, device="cuda:1"), lambda: tr.ones(2).to("cuda"),
    lambda: tr.ones(2).to("mps", tr.float64), lambda: tr.nn.Linear(2, 2).to("cuda"),
    lambda: tr.set_default_device("cuda"),
    lambda: tr.linspace(0, 1, 3, device="cuda"), lambda: tr.cuda.current_device(),
])
def test_any_other_device_raises_one_clear_error(use_gpu):
    with pytest.raises(RuntimeError, match="tinyreg runs on the CPU only: device '(cuda|mps)[:0-9]*' is not available"):
        use_gpu()


def test_module_to_converts_floating_dtypes_and_accepts_the_cpu():
    model = tr.nn.Sequential(tr.nn.Linear(2, 3), tr.nn.ReLU())
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to(tr.device("cpu"), tr.float64) is model and model[0].weight.dtype == tr.float64
    assert model.to(dtype=tr.float32)[0].bias.dtype == tr.float32
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        model.to(tr.int64)


def test_numpy_all_and_any_of_a_tensor_answer_like_of_its_array():
    """np.all(t) calls t.all(axis=None, out=None): the answer is the array's, and a real out= is refused."""
    t = tr.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert bool(np.all(t)) is False and bool(np.any(t)) is True and bool(np.all(t != 5)) is True
    with pytest.raises(TypeError, match="out= is not supported"):
        t.all(out=np.empty(()))
