"""nn.Parameter: a leaf tensor that requires grad, shares memory like torch, and its op results are plain Tensors."""

import numpy as np
import pytest

import tinyreg as tr
from tinyreg.nn import Parameter


def test_parameter_is_a_leaf_that_requires_grad_and_shares_memory():
    w = tr.randn(2, 3)
    p = Parameter(w)
    assert isinstance(p, tr.Tensor) and p.requires_grad and p.is_leaf
    assert np.asarray(p) is np.asarray(w)  # torch.nn.Parameter(t) shares t's storage
    array = np.ones(3)
    assert np.asarray(Parameter(array)) is array
    assert Parameter([1.0, 2.0]).dtype == np.float32
    assert not Parameter(w, requires_grad=False).requires_grad


def test_ops_on_parameters_give_plain_tensors_and_gradients_reach_the_parameter():
    p = Parameter(np.array([1.0, -2.0, 3.0]))
    y = (p * p).sum()
    assert type(y) is tr.Tensor
    y.backward()
    np.testing.assert_array_equal(p.grad, [2.0, -4.0, 6.0])


def test_integer_parameter_is_refused_and_repr_names_it():
    with pytest.raises(RuntimeError, match="floating point"):
        Parameter(np.arange(3))
    assert repr(Parameter(np.zeros(2))).startswith("Parameter containing:\ntensor(")
