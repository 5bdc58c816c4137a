"""In-place ops: ``x.add_(y)``, ``x -= y``, ``x[i] = v``, ``w.data.normal_(0, 0.01)`` write into a tensor's memory.

Python's augmented assignment calls ``__isub__``, which returns the same object: after ``p -= lr * p.grad`` the name
``p`` still refers to the parameter the model holds, now with new values. The rules are torch's:

1. **A leaf that requires grad changes only under no_grad.** ``w -= lr * w.grad`` outside ``no_grad`` raises:
   autograd would have to record the update as part of the model's function, which is never what an update means.
   Under ``no_grad`` (the update idiom), and on tensors that do not require grad, the write just happens.
2. **Every write bumps the version counter** (``x._version``). A node that saved x's array for backward remembers the
   version it saw, and backward raises if the array was written since, instead of computing with the new values.
3. **In the graph** an in-place op is recorded like its out-of-place form when x requires grad (a computed tensor)
   or an operand does (``out[0] = w.sum()``): the out-of-place op runs on a snapshot of x, the result is written
   into x's memory, and x becomes that node's output. This is safe only while no other node refers to x, because
   tinyreg's nodes point at their input *tensors*: so a recorded write is refused, with an error naming the
   out-of-place form, once x has been used by a recorded op (``z = y * 2; y.add_(1)``, ``y[0] = y[1]``), when x is a
   view (``y[0].add_(1)``, ``y.view(-1).mul_(2)``, also of a tensor outside the graph: ``buf[0].copy_(w * 2)``) and
   for an output of a custom Function that returned several.
   torch points its nodes at other nodes and rewrites views' graphs, so it accepts more of these.

Casting follows torch: arithmetic may not change the dtype's kind (``long_tensor.add_(0.5)`` raises), while
``copy_``, ``fill_`` and ``x[i] = v`` convert to x's dtype like an assignment.
"""

import numpy as np

from tinyreg import grad_mode, ops
from tinyreg.ops.shape import plain_index
from tinyreg.random import generator
from tinyreg.tensor import Tensor, python_type_name, torch_type_name


def _records(x, operands) -> bool:
    """Whether the write goes into the graph: grad mode is on and x or a tensor operand requires grad."""
    return grad_mode.is_grad_enabled() and (
        x.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands))


def _snapshot(x, alternative):
    """x as it is before the write, to be the input of the recorded op (after checking rules 1 and 3)."""
    if x.requires_grad and x.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if x._base is not None or x._ctx is not None and (x._ctx.consumed or x._ctx.n_outputs > 1):
        raise RuntimeError("tinyreg records an in-place operation in the graph only on a tensor that no recorded "
                           "operation has used yet and that owns its memory; this one has been used (e.g. in y + 1 "
                           "or y[0]), is a view (such as x[0] or x.view(...)) or is an output of a custom Function "
                           f"with several outputs. Use the out-of-place form: {alternative}")
    before = Tensor._wrap(x._array.copy(), requires_grad=x.requires_grad)
    before._ctx = x._ctx
    return before


def _store(x, values: np.ndarray, casting: str):
    """Write ``values`` into x's memory, checked by torch's rules, and bump x's version."""
    if values.shape != x.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                           f"{list(values.shape)}")
    if casting == "same_kind" and not np.can_cast(values.dtype, x.dtype, "same_kind"):
        raise RuntimeError(f"result type {torch_type_name(values.dtype)} can't be cast to the desired output type "
                           f"{torch_type_name(x.dtype)}")
    np.copyto(x._array, values, casting="unsafe")
    x._version_counter.value += 1


def _write(x, out_of_place, operands, alternative, casting="same_kind"):
    """x ← out_of_place(x, *operands) in x's own memory: the one path of every in-place op. Returns x."""
    if not _records(x, operands):
        _store(x, out_of_place(x, *operands)._array, casting)
        return x
    result = out_of_place(_snapshot(x, alternative), *operands)
    _store(x, result._array, casting)
    if x.dtype.kind in "fc":  # an integer result (copy_ into a long tensor) leaves the graph, as in torch
        x._ctx, x.requires_grad = result._ctx, True
    return x


def _replace(x, values):
    """x's elements replaced by ``values`` (broadcast): the out-of-place form of fill_ and copy_. Through ``where``,
    the gradient flows to ``values`` and none to x's old elements."""
    return ops.where(True, values, x)


def add_(x, other, alpha=1):
    return _write(x, lambda s, o: ops.add(s, o, alpha=alpha), (other,), "x = x + other (x.add(other))")


def sub_(x, other, alpha=1):
    return _write(x, lambda s, o: ops.sub(s, o, alpha=alpha), (other,), "x = x - other (x.sub(other))")


def mul_(x, other):
    return _write(x, ops.mul, (other,), "x = x * other (x.mul(other))")


def div_(x, other):
    return _write(x, ops.div, (other,), "x = x / other (x.div(other))")


def clamp_(x, min=None, max=None):
    return _write(x, lambda s: ops.clamp(s, min, max), (), "x = x.clamp(min, max)")


def relu_(x):
    return _write(x, ops.relu, (), "x = x.relu()")


def fill_(x, value):
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                           f"dimensions.")
    return _write(x, _replace, (value,), "x = tr.full(x.shape, value)", casting="unsafe")


def copy_(x, src):
    """Copy ``src``'s values (broadcast to x's shape, converted to x's dtype) into x."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {python_type_name(src)}")
    return _write(x, _replace, (src,), "x = src.clone()", casting="unsafe")


def _random_fill(x, name, samples, alternative):
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f"\"{name}\" not implemented for '{torch_type_name(x.dtype)}'")
    return _write(x, _replace, (Tensor._wrap(samples),), alternative, casting="unsafe")


def normal_(x, mean=0.0, std=1.0):
    """Fill x with samples of N(mean, std²) from tinyreg's generator (drawn in float64, then converted)."""
    return _random_fill(x, "normal_", generator().normal(mean, std, size=x.shape),
                        "x = tr.randn(*x.shape) * std + mean")


def uniform_(x, from_=0.0, to=1.0):
    """Fill x with samples of U(from_, to) from tinyreg's generator (drawn in float64, then converted)."""
    return _random_fill(x, "uniform_", generator().uniform(from_, to, size=x.shape),
                        "x = tr.rand(*x.shape) * (to - from_) + from_")


def setitem(x, index, value):
    """``x[index] = value``: written directly, or recorded as :class:`~tinyreg.ops.shape.SetItem` in the graph."""
    if _records(x, (value,)):
        _write(x, lambda s, v: ops.setitem(s, index, v), (value,),
               "x = tr.where(mask, value, x) for a mask, or build the tensor with tr.cat / tr.stack", casting="unsafe")
        return
    x._array[plain_index(index)] = value._array if isinstance(value, Tensor) else value
    x._version_counter.value += 1
