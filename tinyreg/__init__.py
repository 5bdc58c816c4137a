"""tinyreg: a NumPy-only autodiff mini-framework for learning how regularization in training really works.

    import tinyreg as tr
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4., 6.])
"""

from tinyreg.creation import (arange, empty, eye, full, linspace, normal, ones, ones_like, rand, rand_like, randint,
                              randn, randn_like, zeros, zeros_like)
from tinyreg.device import device, set_default_device
from tinyreg.dtypes import (bool, double, float, float16, float32, float64, half, int, int8, int16, int32, int64, long,
                            short, uint8)
from tinyreg.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinyreg.gradcheck import GradcheckError, gradcheck
from tinyreg.ops import (abs, add, all, amax, amin, any, argmax, argmin, bmm, cat, clamp, clone,
                         cos, div, dot, eq, exp, flatten, floor_divide, ge, gt, le, log, log_softmax, logsumexp, lt,
                         matmul, max, maximum, mean, min, minimum, mm, mul, ne, neg, norm, outer, permute, pow, prod,
                         relu, reshape, sigmoid, sign, sin, softmax, sqrt, squeeze, stack, std, sub, sum, tanh,
                         transpose, unflatten, unsqueeze, var, where)
from tinyreg.random import manual_seed
from tinyreg.tensor import Function, Tensor, allclose, bool_, equal, from_numpy, is_tensor, tensor
from tinyreg.serialization import load, save
from tinyreg import autograd, cuda, nn, optim, utils

__version__ = "0.1.0"
