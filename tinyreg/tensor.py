"""The autodiff tensor and its graph.

A :class:`Tensor` wraps a ``numpy.ndarray`` (``.data``). When an op runs on tensors that require gradients it records a
:class:`Function` node (``._ctx``) holding the op's inputs and whatever its backward needs. ``backward()`` walks those
nodes from the output back to the leaves in reverse topological order and applies the chain rule at each one:

    dL/d(input) = backward(dL/d(output))

The ops themselves (forward and backward side by side) live in :mod:`tinyreg.ops`; this file only knows how to record
and walk the graph.
"""

from __future__ import annotations

import numpy as np

from tinyreg import grad_mode
from tinyreg.tensor_repr import tensor_repr

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)


class Function:
    """One node of the graph: an op's ``forward`` and its ``backward``.

    A subclass writes both as static methods that take the node itself as ``ctx``::

        forward(ctx, *arrays, **params) -> ndarray        # the op on plain arrays
        backward(ctx, grad) -> tuple[ndarray | None, ...]  # dL/d(input) for each positional input

    ``forward`` saves what ``backward`` needs with ``ctx.save_for_backward(...)``. A backward may return a gradient
    with the *broadcast* shape of the output; the engine reduces it to each input's shape (one shared rule, see
    :func:`reduce_to_shape`). ``ctx.needs_input_grad[i]`` tells backward which gradients are wanted, so an op can skip
    work for inputs that are constants.
    """

    __slots__ = ("parents", "saved", "needs_input_grad", "released", "__dict__")
    # Elementwise ops combining several operands set this, so their result dtype follows torch's rule (result_type).
    # (Number parameters, like pow's exponent and clamp's bounds, promote in forward: promote_with_numbers.)
    promotes = False
    # Ops whose result is a real number even for integer inputs (division, exp, mean, ...) set this: torch turns an
    # integer or bool result type into its default float32, where NumPy would give float64.
    floating = False

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on ``inputs`` (tensors, arrays or Python numbers) and record it if a gradient is needed.

        Python numbers are passed to ``forward`` unchanged so that NumPy treats them as "weak" scalars and keeps the
        tensor's dtype (``x_float32 * 2.0`` stays float32, as in torch).
        """
        ctx = cls()
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        if cls.promotes or cls.floating:  # (a single operand "promotes" to its own dtype)
            arrays = promote_like_torch(arrays, floating=cls.floating)
        # A NumPy scalar parameter (pow's exponent, clamp's bounds) must stay "weak" like a Python number.
        params = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
        try:
            out = cls.forward(ctx, *arrays, **params)
        except ValueError as err:
            shapes = ", ".join(str(np.shape(a)) for a in arrays)
            raise ValueError(f"{cls.__name__}: {err} (input shapes: {shapes})") from None
        needs = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        if not (grad_mode.is_grad_enabled() and any(needs)):
            return Tensor._wrap(out)
        ctx.parents = tuple(x if need else None for x, need in zip(inputs, needs))
        ctx.needs_input_grad = needs
        ctx.released = False
        result = Tensor._wrap(out, requires_grad=True)
        result._ctx = ctx
        return result

    def release(self):
        """Drop saved arrays and inputs once backward has used them (unless ``retain_graph``)."""
        self.saved = None
        self.parents = ()
        self.released = True


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < floating < complex
_SCALAR_DEFAULT = {0: bool_, 1: int64, 2: float32, 3: np.dtype(np.complex64)}
_PYTHON_REALS = (bool, int, float)  # exact types: np.float64 subclasses float but is not weak to NumPy


def _is_python_number(a) -> bool:
    # np.float64 subclasses float; NumPy treats it as a typed scalar, so converting it is up to promote_like_torch.
    return isinstance(a, (bool, int, float, complex)) and not isinstance(a, np.generic)


def _is_scalar(a) -> bool:
    """A Python or NumPy number: torch treats both as "weak" (``np.float64(0.5)`` acts like ``0.5``)."""
    return _is_python_number(a) or isinstance(a, np.generic)


def scalar_dtype(value) -> np.dtype:
    """The dtype torch gives a number standing alone: bool, int64, float32 (its default float) or complex64.

    ``np.bool_`` counts as a float, as in torch, whose argument parser reads every NumPy scalar that is not an
    integer as a double (``torch.tensor([1, 2]) + np.bool_(True)`` is float32).
    """
    if isinstance(value, np.bool_):
        return float32
    return _SCALAR_DEFAULT[_CATEGORY[np.asarray(value).dtype.kind]]


def _promote_types(a, b):
    """``torch.promote_types``: NumPy's rule within a category, the higher category's dtype across categories.

    NumPy widens int64 with float32 to float64; torch keeps float32 (an integer never widens a float).
    """
    if a is None or b is None:
        return b if a is None else a
    if _CATEGORY[a.kind] != _CATEGORY[b.kind] and min(_CATEGORY[a.kind], _CATEGORY[b.kind]) <= 1:
        return a if _CATEGORY[a.kind] > _CATEGORY[b.kind] else b
    return np.promote_types(a, b)


def _weaker_only_raises_category(stronger, weaker):
    """Combine a stronger group's dtype with a weaker group's: the weaker one counts only if its category is higher.

    A float tensor with a complex scalar becomes complex of the tensor's precision, as in torch.
    """
    if weaker is None or (stronger is not None and _CATEGORY[weaker.kind] <= _CATEGORY[stronger.kind]):
        return stronger
    if stronger is not None and stronger.kind == "f":
        return np.result_type(stronger, np.complex64)
    return weaker


def result_type(operands: list) -> np.dtype:
    """The dtype torch gives an op on ``operands`` (tensors, arrays, Python and NumPy numbers).

    Operands fall into three groups of decreasing strength: tensors with dimensions, 0-d tensors, and numbers
    (Python or NumPy, each counted as bool, int64, float32 or complex64). Each group promotes within itself; a weaker
    group changes the result only when its category (bool < int < float < complex) is higher:

        float32 tensor * float64 tensor          -> float64
        float32 tensor * 0-d float64 tensor      -> float32   (NumPy: float64)
        0-d float32 tensor * np.float64(0.1)     -> float32   (NumPy: float64)
        int64 tensor * np.float64(0.5)           -> float32, torch's default float (NumPy: float64)
        int32 tensor + 0-d int64 tensor          -> int32
        int64 tensor * 0-d float64 tensor        -> float64
    """
    groups = [None, None, None]  # dimensioned, 0-d, numbers
    for a in operands:
        if _is_scalar(a):
            group, dtype = 2, scalar_dtype(a)
        else:
            a = np.asarray(a)
            group, dtype = (0 if a.ndim > 0 else 1), a.dtype
        groups[group] = _promote_types(groups[group], dtype)
    dimensioned, zero_dim, numbers = groups
    return _weaker_only_raises_category(dimensioned, _weaker_only_raises_category(zero_dim, numbers))


def _nothing_to_promote(operands: list) -> bool:
    """The common case, decided without :func:`result_type` (which costs 1-3 µs per op): arrays of one floating dtype
    and Python bools, ints and floats, which never promote a float."""
    dtype = None
    for a in operands:
        if type(a) is np.ndarray:
            dtype = a.dtype if dtype is None else dtype
            if a.dtype != dtype or dtype.kind != "f":
                return False
        elif type(a) not in _PYTHON_REALS:
            return False
    return dtype is not None


def promote_like_torch(operands: list, floating: bool = False) -> list:
    """Convert array operands to :func:`result_type` (to float32 if ``floating`` and it is integral or bool).

    Python numbers stay Python numbers, which NumPy treats as weak too; NumPy numbers become 0-d arrays of the
    result dtype. Without this, ``loss + lam * penalty`` with ``lam`` from ``np.logspace`` would silently turn a
    float32 model into float64.
    """
    if _nothing_to_promote(operands):
        return operands
    dtype = result_type(operands)
    if floating and dtype.kind in "biu":
        dtype = float32
    return [a if _is_python_number(a) or (isinstance(a, np.ndarray) and a.dtype == dtype)
            else np.asarray(a, dtype=dtype) for a in operands]


def promote_with_numbers(x: np.ndarray, *numbers) -> np.ndarray:
    """``x`` converted to the dtype torch gives an op on ``x`` and number parameters (pow's exponent, clamp's bounds;
    None = absent), e.g. int64 with 0.5 -> float32. A real number never widens a float, so only bool and integer ``x``
    can change."""
    x = np.asarray(x)   # a plain number works as it does for every other op (tr.exp(2))
    if x.dtype.kind not in "biu":
        return x
    return x.astype(result_type([x, *(n for n in numbers if n is not None)]), copy=False)


def reduce_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast gradient back down to ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward pass, every copy of an element received
    a gradient, and by the chain rule the element's gradient is their sum: sum over the leading dimensions broadcasting
    added, and over the dimensions where ``shape`` has size 1.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _as_dtype(dtype):
    return None if dtype is None else np.dtype(dtype)


def _to_array(data, dtype=None) -> np.ndarray:
    """Copy ``data`` into a new array with torch's default dtypes.

    Python floats become float32 (torch's default) while NumPy arrays keep their dtype (like ``torch.tensor``);
    Python ints become int64 and bools stay bool.
    """
    if isinstance(data, Tensor):
        data = data.data
    dtype = _as_dtype(dtype)
    array = np.array(data, dtype=dtype, copy=True)
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and array.dtype == float64:
        array = array.astype(float32)
    return array


class Tensor:
    """An n-dimensional array that remembers how it was computed, so gradients can flow back through it.

    ``tr.Tensor(data)`` and ``tr.tensor(data)`` copy ``data``; floats default to float32 like torch.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    # Makes ``ndarray + Tensor`` call Tensor.__radd__ instead of NumPy broadcasting over a Tensor object.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an op's output without copying or converting it (the fast path every op takes)."""
        t = object.__new__(Tensor)
        t.data = np.asarray(array)
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        return t

    # ---- array facts -------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def size(self, dim=None):
        """torch's ``size()``: the shape, or ``size(dim)`` the length of one axis (``numel()`` counts elements)."""
        return self.shape if dim is None else self.shape[ops.reduce.normalized_axes(dim, self.ndim)[0]]

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op: the ones whose ``.grad`` backward fills."""
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): a Tensor with {self.data.size} elements cannot be converted to a Python "
                             f"number; only one-element tensors can (shape {self.shape})")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        """The data for NumPy, under NumPy 2's contract: ``copy=True`` always copies (``np.array(t)``), ``copy=None``
        copies only to change the dtype (``np.asarray(t)`` shares memory), ``copy=False`` raises ValueError if a
        copy is needed. ``np.array`` itself implements exactly that contract."""
        return np.array(self.data, dtype=dtype, copy=copy)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())


    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # tensors are graph nodes: identity, not value, like torch

    def __repr__(self) -> str:
        """torch's text form, e.g. ``tensor([1.5000, 2.2500], grad_fn=<MulBackward0>)`` (see tinyreg.tensor_repr)."""
        grad_fn_name = None if self._ctx is None else f"{type(self._ctx).__name__}Backward0"
        return tensor_repr(self.data, grad_fn_name, self.requires_grad)

    # ---- gradients -----------------------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"Only Tensors of floating point dtype can require gradients (got {self.dtype})")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use detach()")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data, cut out of the graph (shares memory, like torch)."""
        return Tensor._wrap(self.data)

    def _accumulate_grad(self, grad: np.ndarray):
        """Add ``grad`` into ``self.grad``.

        Gradients accumulate, as in torch: a second ``backward()`` adds to ``.grad`` instead of replacing it, which is
        what makes ``zero_grad()`` necessary. Accumulation is in place so that an array someone holds (an optimizer's
        view into its flat gradient buffer) stays the live ``.grad``; a first gradient is copied because ops may hand
        the same array to several inputs.
        """
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.dtype, order="C", copy=True)
        else:
            self.grad += grad

    def backward(self, grad=None, retain_graph: bool = False):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it into the leaf's ``.grad``.

        ``grad`` is dL/d(self); it may be omitted only for a one-element tensor (then it is 1). The graph is walked in
        reverse topological order, so each node's incoming gradient is complete (summed over all its uses) before the
        node's own backward runs. Saved arrays are freed afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {grad.shape} and output has a "
                                   f"shape of {self.shape}")
        pending = {id(self): grad}  # dL/d(tensor), summed over every path reached so far
        for node in reversed(self._topological_order()):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:
                node._accumulate_grad(g)
                continue
            if ctx.released:
                raise RuntimeError("Trying to backward through the graph a second time (or directly access saved "
                                   "tensors after they have already been freed). Specify retain_graph=True if you "
                                   "need to backward through the graph a second time.")
            input_grads = type(ctx).backward(ctx, g)
            for parent, g_in in zip(ctx.parents, input_grads):
                if parent is None or g_in is None:
                    continue
                g_in = reduce_to_shape(g_in, parent.shape)
                if g_in.dtype != parent.dtype:
                    g_in = g_in.astype(parent.dtype)
                key = id(parent)
                # A tensor used twice receives two gradients: the chain rule sums them.
                pending[key] = pending[key] + g_in if key in pending else g_in
            if not retain_graph:
                ctx.release()

    def _topological_order(self) -> list:
        """Every tensor this one depends on, each after all of its inputs (iterative DFS: no recursion limit)."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            if node._ctx is not None:
                stack.extend((p, False) for p in node._ctx.parents if p is not None and id(p) not in visited)
        return order

    # ---- arithmetic: methods as in torch (``x.add(y, alpha=2)``), and the operators are the same methods ----------
    def add(self, other, *, alpha=1):
        return ops.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other):
        return ops.div(self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def neg(self):
        return ops.neg(self)

    def floor_divide(self, other):
        return ops.floor_divide(self, other)

    __add__, __sub__, __mul__, __truediv__, __pow__, __neg__ = add, sub, mul, div, pow, neg
    __floordiv__ = floor_divide

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __radd__(self, other):
        return ops.add(other, self)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # Comparisons give boolean tensors outside the graph (they have no useful derivative).
    def __lt__(self, other):
        return ops.compare(np.less, self, other)

    def __le__(self, other):
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other):
        return ops.compare(np.greater, self, other)

    def __ge__(self, other):
        return ops.compare(np.greater_equal, self, other)

    def __eq__(self, other):
        if other is None:  # ``x == None`` is a plain False in torch (NumPy would compare every element to None)
            return False
        return ops.compare(np.equal, self, other)

    def __ne__(self, other):
        if other is None:
            return True
        return ops.compare(np.not_equal, self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def equal(self, other) -> bool:
        return equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return allclose(self, other, rtol, atol, equal_nan)

    # ---- methods, as in torch (the same functions are tr.exp(x), tr.sum(x, dim), ...) -----------------------------
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def square(self):
        return ops.pow(self, 2)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def sign(self):
        return ops.sign(self)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def abs(self):
        return ops.abs(self)

    def clamp(self, min=None, max=None):
        return ops.clamp(self, min, max)

    def matmul(self, other):
        return ops.matmul(self, other)

    def mm(self, mat2):
        return ops.mm(self, mat2)

    def bmm(self, mat2):
        return ops.bmm(self, mat2)

    def dot(self, other):
        return ops.dot(self, other)

    def outer(self, vec2):
        return ops.outer(self, vec2)

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def prod(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.prod(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(self, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
        return ops.var(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def std(self, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None):
        return ops.std(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return ops.norm(self, p, dim, keepdim, dtype)

    def amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.amax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.amin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None, other=None):
        return ops.max(self, axis, keepdims, dim=dim, keepdim=keepdim, other=other)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None, other=None):
        return ops.min(self, axis, keepdims, dim=dim, keepdim=keepdim, other=other)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.argmax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.argmin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis=None, *, dim=None):
        return ops.softmax(self, axis, dim=dim)

    def log_softmax(self, axis=None, *, dim=None):
        return ops.log_softmax(self, axis, dim=dim)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view(self, *shape):
        return ops.view(self, *shape)

    def view_as(self, other):
        return ops.view(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return ops.unflatten(self, dim, sizes)

    def expand(self, *sizes):
        return ops.expand(self, *sizes)

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def repeat(self, *repeats):
        return ops.repeat(self, *repeats)

    def clone(self):
        """A copy with its own memory that stays in the graph (the gradient passes through unchanged)."""
        return ops.clone(self)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return ops.permute(self, *dims)

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    def t(self):
        """The transpose of a matrix (a 0-d or 1-D tensor is returned as it is), like ``torch.t``."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return ops.permute(self, *reversed(range(self.ndim)))

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    # ---- torch's spellings of facts and formatting ----------------------------------------------------------------
    nelement = numel

    @property
    def device(self):
        """Always the CPU: tinyreg has no other device (see :mod:`tinyreg.device`)."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def __format__(self, spec) -> str:
        """``f"{loss:.4f}"`` formats a 0-d tensor like its number (as torch); other tensors take no format spec."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    # ---- dtypes and devices: as in torch, a conversion that changes nothing returns the tensor itself ------------
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` (its dtype), keywords too.

        The device can only be the CPU (anything else raises tinyreg's CPU-only error); the dtype converts. Without
        ``copy=True`` a conversion that changes nothing returns ``self``, as torch does.
        """
        dtype = parse_to_arguments(args, dtype, device)
        if dtype is None or dtype == self.dtype:
            return ops.clone(self) if copy else self
        return ops.cast(self, dtype)

    def cpu(self):
        return self

    def type(self, dtype=None):
        """Without an argument the type's name (``"tinyreg.FloatTensor"``); with a dtype or a name
        (``"torch.DoubleTensor"``), the tensor converted to it."""
        if dtype is None:
            return "tinyreg." + dtypes.TYPE_NAMES.get(self.dtype, f"{self.dtype}Tensor")
        if isinstance(dtype, str):
            name = dtype.rpartition(".")[2]
            if name not in dtypes.TYPES_BY_NAME:
                raise ValueError(f"invalid type: {dtype!r}")
            dtype = dtypes.TYPES_BY_NAME[name]
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool_)

    def astype(self, dtype):
        return ops.cast(self, dtype)


def parse_to_arguments(args, dtype=None, device=None):
    """The dtype that ``Tensor.to``/``Module.to`` arguments ask for (None: keep it), after checking the device.

    Positional arguments may be a device (a string or :class:`~tinyreg.device.device`), a dtype, or a tensor (whose
    dtype is meant), in torch's orders ``to(device, dtype)`` and ``to(dtype)``.
    """
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, type(CPU))):
            device = arg
        elif arg is not None:
            dtype = arg
    check_device(device)
    return None if dtype is None else np.dtype(dtype)


def equal(input, other) -> bool:
    """True if both have the same shape and the same elements (``torch.equal``)."""
    a, b = np.asarray(input), np.asarray(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True if |input − other| <= atol + rtol |other| elementwise (broadcasting), like ``torch.allclose``."""
    return bool(np.allclose(np.asarray(input), np.asarray(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Make a tensor from a list, a number, an array or a tensor (always a copy, like ``torch.tensor``); ``device``
    may only name the CPU."""
    check_device(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (no copy, the dtype kept), like ``torch.from_numpy``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._wrap(array)


# ops is imported last because every op subclasses Function and builds Tensors, and dtypes reads this module's
# dtypes: both need this module complete first.
from tinyreg import dtypes, ops  # noqa: E402
from tinyreg.device import CPU, check_device  # noqa: E402
