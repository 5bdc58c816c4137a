"""tinyreg: a NumPy-only autodiff mini-framework for learning how regularization in training really works.

    import tinyreg as tr
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4., 6.])
"""

from tinyreg.creation import arange, full, ones, ones_like, rand, randn, zeros, zeros_like
from tinyreg.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinyreg.gradcheck import GradcheckError, gradcheck
from tinyreg.ops import (abs, add, amax, argmax, cat, clamp, div, exp, flatten, log, log_softmax, logsumexp, matmul,
                         max, mean, mul, neg, permute, pow, relu, reshape, sigmoid, softmax, sqrt, squeeze, stack, sub,
                         sum, tanh, transpose, unsqueeze, var, where)
from tinyreg.random import manual_seed
from tinyreg.tensor import Function, Tensor, bool_, float32, float64, int32, int64, tensor
from tinyreg.serialization import load, save
from tinyreg import autograd, nn, optim

__version__ = "0.1.0"
