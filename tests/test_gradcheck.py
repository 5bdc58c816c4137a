"""tr.gradcheck: it passes correct gradients, catches wrong ones (with a message naming the input, the element and
both values), refuses float32, checks the whole Jacobian, and leaves the caller's tensors alone."""

import re

import numpy as np
import pytest

import tinyreg as tr
from tinyreg import Function


class SquareMissingFactor2(Function):
    """y = x², with the classic bug: backward returns g·x instead of g·2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad * x,)


class ScaleWithMeanGradient(Function):
    """y = 3x, with a backward that spreads the mean upstream gradient over every element: right for the upstream
    gradient of ``y.sum()`` (all ones), wrong for any other. Only a check of the whole Jacobian notices."""

    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, grad):
        return (np.full_like(grad, 3 * grad.mean()),)


class MulForgetsSecondInput(Function):
    """z = x·y, whose backward gets dz/dx right and returns dz/dy = x + 1 instead of x."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return grad * y, grad * (x + 1)


def leaf(values):
    return tr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_passes_correct_gradients_of_several_inputs_and_outputs():
    x, y = leaf([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), leaf([0.3, 1.2, -0.4])
    assert tr.gradcheck(lambda a, b: ((a * b).tanh() @ b, (a - b).exp().sum(axis=0)), (x, y)) is True


def test_wrong_backward_error_names_input_element_and_both_values():
    x = leaf([1.0, 2.0, -3.0])
    with pytest.raises(tr.GradcheckError) as err:
        tr.gradcheck(SquareMissingFactor2.apply, x)
    message = str(err.value)
    assert "output element 0" in message and "input 0[0]" in message, message
    analytical = float(re.search(r"analytical (\S+),", message).group(1))
    numerical = float(re.search(r"numerical (\S+) ", message).group(1))
    assert analytical == 1.0  # g·x at x = 1
    assert numerical == pytest.approx(2.0, rel=1e-8)  # the true derivative 2x


def test_wrong_gradient_of_the_second_input_is_located():
    x, y = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(tr.GradcheckError, match=r"output element 0\)/d\(input 1\[0, 0\]\).*analytical 2\.0"):
        tr.gradcheck(MulForgetsSecondInput.apply, (x, y))


def test_whole_jacobian_is_checked_not_only_the_sum():
    x = leaf([1.0, -2.0, 0.5])
    ScaleWithMeanGradient.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0, 3.0])  # looks right through .sum()
    with pytest.raises(tr.GradcheckError, match="input 0"):
        tr.gradcheck(ScaleWithMeanGradient.apply, x)


def test_refuses_float32_with_a_clear_message():
    with pytest.raises(TypeError, match=r"input 1 is float32.*float64.*double\(\)"):
        tr.gradcheck(lambda a, b: a * b, (leaf([1.0]), tr.tensor([2.0], requires_grad=True)))


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        tr.gradcheck(lambda a: a * 2, tr.tensor([1.0], dtype=tr.float64))


def test_numbers_arrays_and_tensors_without_grad_are_constants():
    x = leaf([0.5, -1.5])
    assert tr.gradcheck(lambda a, s, arr, c: a * s + arr * c, (x, 2.5, np.array([1.0, 3.0]), tr.tensor([2.0, 1.0])))


def test_non_leaf_input_is_checked():
    # The float32 refusal suggests .double(); the result of x.double() is not a leaf and must still be checkable.
    x = tr.tensor([0.5, -1.5], requires_grad=True)
    assert tr.gradcheck(lambda a: (a * a).exp(), x.double())
    with pytest.raises(tr.GradcheckError):
        tr.gradcheck(SquareMissingFactor2.apply, x.double())


def test_output_independent_of_an_input_and_zero_dim_tensors():
    x, y = leaf(1.5), leaf([2.0, 3.0])
    assert tr.gradcheck(lambda a, b: (a * a, b.sum() * 0 + 1.0), (x, y))


def test_callers_data_and_grad_are_left_alone():
    x = leaf([1.0, 2.0])
    x.grad = tr.tensor([7.0, 8.0], dtype=tr.float64)
    before = np.array(x)
    tr.gradcheck(lambda a: a ** 3, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(x.grad, [7.0, 8.0])
