"""The autodiff tensor and its graph.

A :class:`Tensor` wraps a ``numpy.ndarray`` (the internal ``._array``; ``np.asarray(t)`` and ``t.numpy()`` reach it).
When an op runs on tensors that require gradients it records a :class:`Function` node (``._ctx``, public as
``grad_fn``) holding the op's inputs and whatever its backward needs. ``backward()`` walks those nodes from the output
back to the leaves, newest node first (each node is numbered when recorded, after the nodes of its inputs), and applies
the chain rule at each one:

    dL/d(input) = backward(dL/d(output))

Like torch, ``t.data`` and ``t.grad`` are Tensors, and every tensor carries a version counter that in-place writes bump
(:mod:`tinyreg.inplace`); a node remembers the versions of the tensors whose arrays it saved, and backward refuses to
use an array that was changed in place since. The ops themselves (forward and backward side by side) live in
:mod:`tinyreg.ops`; this file only knows how to record and walk the graph.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from tinyreg import grad_mode
from tinyreg.promotion import nothing_to_promote, promote_like_torch
from tinyreg.tensor_repr import tensor_repr

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

# torch's names of the dtypes, as its error messages print them ("result type Float", "[torch.FloatTensor [3]]").
TORCH_TYPE_NAMES = {np.dtype(t): name for t, name in (
    (np.float16, "Half"), (np.float32, "Float"), (np.float64, "Double"), (np.complex64, "ComplexFloat"),
    (np.complex128, "ComplexDouble"), (np.int8, "Char"), (np.int16, "Short"), (np.int32, "Int"), (np.int64, "Long"),
    (np.uint8, "Byte"), (np.bool_, "Bool"))}


def python_type_name(value) -> str:
    """The type name torch's messages print: ``float`` for built-ins, ``numpy.ndarray`` with the module otherwise."""
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def torch_type_name(dtype) -> str:
    """torch's name of ``dtype``: Float for float32, Long for int64, ... (NumPy's name where torch has none)."""
    return TORCH_TYPE_NAMES.get(np.dtype(dtype), str(np.dtype(dtype)))


class VersionCounter:
    """How many times a tensor's memory has been written in place (``t._version``, as in torch).

    Tensors that share memory through a view op (``x[0]``, ``x.view(...)``, ``x.T``) or ``detach()`` share one counter,
    so a write through any of them is seen by all. ``x.data`` gets a counter of its own, as in torch: writes through it
    go unnoticed by autograd.
    """

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


# Counts every replacement of a tensor's array or gradient by another (``t.data = u``, ``t.grad = g``, a first
# gradient stored by backward), on any tensor. An optimizer holding views of its parameters compares it with the count
# it saw last: unchanged means no parameter was rebound since, without looking at each one (tinyreg.optim.flat).
rebinds = VersionCounter()


class Function:
    """One node of the graph: an op's ``forward`` and its ``backward``, on NumPy arrays.

    A subclass writes both as static methods that take the node itself as ``ctx``::

        forward(ctx, *arrays, **params) -> ndarray        # the op on plain arrays
        backward(ctx, grad) -> tuple[ndarray | None, ...]  # dL/d(input) for each positional input

    ``forward`` saves what ``backward`` needs with ``ctx.save_for_backward(...)``. A backward may return a gradient
    with the *broadcast* shape of the output; the engine reduces it to each input's shape (one shared rule, see
    :func:`reduce_to_shape`). ``ctx.needs_input_grad[i]`` tells backward which gradients are wanted, so an op can skip
    work for inputs that are constants.

    This is how tinyreg's own ops are written: plain arrays in and out, so an op reads like the math. User code writes
    custom functions the way torch does, over Tensors, with :class:`tinyreg.autograd.Function`; its node is a subclass
    of this class, so both kinds sit in the same graph.

    A saved array that is an input's (or the output's) own memory is watched: ``apply`` records the tensor's version
    counter, and backward raises if the tensor was changed in place since (its values are no longer the ones the
    derivative needs).
    """

    # (slots: the engine reads and writes these on every node)
    __slots__ = ("parents", "saved", "needs_input_grad", "sequence_nr", "saved_versions", "consumed", "released",
                 "__dict__")
    # Elementwise ops combining several operands set this, so their result dtype follows torch's rule (result_type).
    # (Number parameters, like pow's exponent and clamp's bounds, promote in forward: promote_with_numbers.)
    promotes = False
    # Ops whose result is a real number even for integer inputs (division, exp, mean, ...) set this: torch turns an
    # integer or bool result type into its default float32, where NumPy would give float64.
    floating = False
    # Ops whose output may be a NumPy view of their first input (reshape, permute, basic indexing) set this: the output
    # then shares the input's version counter, like torch's views.
    may_view = False
    n_outputs = 1           # a custom autograd.Function returning a tuple has several
    # Set on recording: saved_versions, (version counter, version when saved, position in saved, producer op class or
    # None) per watched saved array; consumed, whether the output has been used as an input of another recorded op;
    # released, whether backward has freed the saved arrays.

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on ``inputs`` (tensors, arrays or Python numbers) and record it if a gradient is needed.

        Python numbers are passed to ``forward`` unchanged so that NumPy treats them as "weak" scalars and keeps the
        tensor's dtype (``x_float32 * 2.0`` stays float32, as in torch).
        """
        # (This runs for every op, so it is written with plain loops and comprehensions, no helper calls per input.)
        ctx = cls()
        ctx.saved = ()
        arrays = [x._array if isinstance(x, Tensor) else x for x in inputs]
        given = arrays          # the inputs' own arrays, before promotion (a saved one of these is watched)
        # (a single operand "promotes" to its own dtype; the common case is decided without result_type)
        if (cls.promotes or cls.floating) and not nothing_to_promote(arrays):
            arrays = promote_like_torch(arrays, floating=cls.floating)
        if params:
            # A NumPy scalar parameter (pow's exponent, clamp's bounds) must stay "weak" like a Python number.
            params = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
        try:
            out = cls.forward(ctx, *arrays, **params)
        except ValueError as err:
            shapes = ", ".join(str(np.shape(a)) for a in arrays)
            raise ValueError(f"{cls.__name__}: {err} (input shapes: {shapes})") from None
        result = Tensor._wrap(out)
        if cls.may_view and isinstance(inputs[0], Tensor) and np.may_share_memory(out, arrays[0]):
            # A view, recorded or not: it shares its base's version counter and remembers the base (torch's ._base).
            base = inputs[0] if inputs[0]._base is None else inputs[0]._base
            result._version_counter, result._base = base._version_counter, base
        needs = tuple([isinstance(x, Tensor) and x.requires_grad for x in inputs])
        if not (grad_mode._enabled and True in needs):
            return result
        link(ctx, tuple([x if need else None for x, need in zip(inputs, needs)]))
        ctx.needs_input_grad = needs
        result.requires_grad = True
        result._ctx = ctx
        ctx.saved_versions = _watch(ctx.saved, inputs, given, result) if ctx.saved else ()
        return result

    def name(self) -> str:
        """torch's name of this node: the op's class name + "Backward0" (``MulBackward0``)."""
        return type(self).__name__ + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """``(node, output number)`` for each input, as in torch: the input's ``grad_fn``, an :class:`AccumulateGrad`
        for a leaf that requires grad, ``None`` for a constant. Empty once backward has freed the graph."""
        return tuple((None, 0) if p is None else (p._ctx, _output_number(p)) if p._ctx is not None
                     else (AccumulateGrad(p), 0) for p in self.parents)

    def release(self):
        """Drop saved arrays and inputs once backward has used them (unless ``retain_graph``)."""
        self.saved = None
        self.parents = ()
        self.released = True


class AccumulateGrad:
    """The node torch shows for a leaf that requires grad: backward adds the gradient into ``variable.grad``."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def link(ctx, parents):
    """Record node ``ctx`` in the graph with ``parents`` (its inputs that need a gradient, None for the others).

    Nodes are numbered in the order they are recorded (``sequence_nr``, as in torch): a node's inputs were all made
    before it, so walking nodes from the highest number down visits every node after all the nodes that use its
    output, which is the order backward needs. The parents' own nodes are marked consumed: their output is now
    referenced by the graph, so an in-place op may no longer re-point it to a new node (tinyreg.inplace refuses it).
    """
    ctx.parents = parents
    ctx.sequence_nr = next(_recorded)
    ctx.released = ctx.consumed = False
    for p in parents:
        if p is not None and p._ctx is not None:
            p._ctx.consumed = True


_recorded = itertools.count()  # sequence numbers of recorded nodes


def _watch(saved, inputs, given, result) -> tuple:
    """The version entries of the ``saved`` arrays that are the result's or an input's own memory (``given[k]`` is
    ``inputs[k]``'s array; a copy, such as a promoted operand, needs no watch)."""
    watched = []
    for i, array in enumerate(saved):
        if type(array) is not np.ndarray:      # a number (mul's scalar operand) or None
            continue
        if array is result._array:
            owner = result
        else:
            for owner, a in zip(inputs, given):    # (a plain loop: next() over a generator costs 0.5 µs per op)
                if a is array and isinstance(owner, Tensor):
                    break
            else:
                continue
        counter = owner._version_counter
        watched.append((counter, counter.value, i, None if owner._ctx is None else type(owner._ctx)))
    return watched


def _check_saved_versions(ctx):
    """Raise torch's error if an array ``ctx`` saved was changed in place after it was saved."""
    for counter, version, i, producer in ctx.saved_versions:
        if counter.value != version:
            saved = ctx.saved[i]
            which = f", which is output 0 of {producer.__name__}," if producer is not None else ""
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[torch.{torch_type_name(saved.dtype)}Tensor {list(saved.shape)}]{which} is at version "
                f"{counter.value}; expected version {version} instead. Hint: the tensor was written in place (an "
                f"in-place op such as add_ or -=, x[i] = v, or optimizer.step()) after {ctx.name()} saved it for "
                "backward; run the forward pass again after the update, or use the out-of-place form.")


def _output_number(t) -> int:
    """Which output of its node ``t`` is (0 unless the node is a custom Function returning a tuple)."""
    if t._ctx.n_outputs == 1:
        return 0
    return next(k for k, ref in enumerate(t._ctx.outputs) if ref is not None and ref() is t)


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
        data = data._array
    dtype = _as_dtype(dtype)
    array = np.array(data, dtype=dtype, copy=True)
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and array.dtype == float64:
        array = array.astype(float32)
    return array


class Tensor:
    """An n-dimensional array that remembers how it was computed, so gradients can flow back through it.

    ``tr.Tensor(data)`` and ``tr.tensor(data)`` copy ``data``; floats default to float32 like torch.

    The array lives in the internal ``_array``; ``x.data`` is a Tensor sharing it (outside the graph) and ``x.grad``
    is a Tensor of x's shape and dtype, or None, as in torch.
    """

    __slots__ = ("_array", "_grad", "requires_grad", "_ctx", "_version_counter", "_retains_grad", "_base",
                 "__weakref__")
    # Makes ``ndarray + Tensor`` call Tensor.__radd__ instead of NumPy broadcasting over a Tensor object.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self._init(_to_array(data, dtype))
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, array: np.ndarray, requires_grad: bool = False):
        self._array = array
        self._grad = None
        self.requires_grad = requires_grad
        self._ctx = None
        self._version_counter = VersionCounter()
        self._retains_grad = False
        self._base = None             # for a view (x[0], x.view(...)): the tensor whose memory it shows

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an op's output without copying or converting it (the fast path every op takes)."""
        t = object.__new__(Tensor)
        Tensor._init(t, array if type(array) is np.ndarray else np.asarray(array), requires_grad)
        return t

    # ---- array facts -------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._array.shape

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def size(self, dim=None):
        """torch's ``size()``: the shape, or ``size(dim)`` the length of one axis (``numel()`` counts elements)."""
        return self.shape if dim is None else self.shape[ops.reduce.normalized_axes(dim, self.ndim)[0]]

    def numel(self) -> int:
        return self._array.size

    def dim(self) -> int:
        return self._array.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op: the ones whose ``.grad`` backward fills."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The node that made this tensor (``<MulBackward0 object at 0x...>``), None for a leaf."""
        return self._ctx

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (shared with its views and detach()es)."""
        return self._version_counter.value

    @property
    def data(self) -> Tensor:
        """This tensor's values as a new Tensor outside the graph: same memory, ``requires_grad=False``.

        Writes through it change this tensor (``w.data.normal_(0, 0.01)``), unseen by autograd: ``.data`` has its own
        version counter, as in torch. ``detach()`` is the safe form (it shares the counter).
        """
        return Tensor._wrap(self._array)

    @data.setter
    def data(self, value: Tensor):
        """Rebind this tensor to ``value``'s memory (any shape and dtype, as in torch; the version counter stays)."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {python_type_name(value)}")
        if self.requires_grad and value.dtype.kind not in "fc":
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._array = value._array
        rebinds.value += 1

    @property
    def grad(self) -> Tensor | None:
        """dL/d(self) summed over every ``backward()`` so far: a Tensor of this shape and dtype, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None):
        """Set or clear (None) the gradient; checked now, as torch does (type, dtype, then shape: never broadcast)."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{python_type_name(value)}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with "
                                   f"dtype '{self.dtype}'. Please ensure that the gradient and the tensor have the "
                                   f"same dtype")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                                   f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor are "
                                   f"the same size")
        self._grad = value
        rebinds.value += 1

    def numpy(self) -> np.ndarray:
        """The array itself (shared memory, as torch's ``numpy()``); refused while a gradient is required."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._array

    def item(self):
        if self._array.size != 1:
            raise ValueError(f"item(): a Tensor with {self._array.size} elements cannot be converted to a Python "
                             f"number; only one-element tensors can (shape {self.shape})")
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def __array__(self, dtype=None, copy=None):
        """The data for NumPy, under NumPy 2's contract: ``copy=True`` always copies (``np.array(t)``), ``copy=None``
        copies only to change the dtype (``np.asarray(t)`` shares memory), ``copy=False`` raises ValueError if a
        copy is needed. ``np.array`` itself implements exactly that contract."""
        return np.array(self._array, dtype=dtype, copy=copy)

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._array)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._array.size} elements is ambiguous")
        return bool(self._array)

    def __float__(self) -> float:
        return float(self.item())


    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # tensors are graph nodes: identity, not value, like torch

    def __repr__(self) -> str:
        """torch's text form, e.g. ``tensor([1.5000, 2.2500], grad_fn=<MulBackward0>)`` (see tinyreg.tensor_repr)."""
        return tensor_repr(self._array, None if self._ctx is None else self._ctx.name(), self.requires_grad)

    # ---- gradients -----------------------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._array.dtype.kind not in "fc":
            raise RuntimeError(f"Only Tensors of floating point dtype can require gradients (got {self.dtype})")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data, cut out of the graph (shares memory and the version counter, like torch)."""
        t = Tensor._wrap(self._array)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor out of the graph in place: it becomes a leaf that does not require grad."""
        self._ctx = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward (leaves keep theirs anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retains_grad = True

    def _accumulate_grad(self, grad: np.ndarray):
        """Add ``grad`` into ``self.grad``.

        Gradients accumulate, as in torch: a second ``backward()`` adds to ``.grad`` instead of replacing it, which is
        what makes ``zero_grad()`` necessary. Accumulation is in place so that an array someone holds (an optimizer's
        view into its flat gradient buffer, wrapped by ``.grad``) stays the live gradient; a first gradient is copied
        because ops may hand the same array to several inputs.
        """
        if self._grad is None:
            self._grad = Tensor._wrap(np.array(grad, dtype=self.dtype, order="C", copy=True))
            rebinds.value += 1
        else:
            self._grad._array += grad
            self._grad._version_counter.value += 1

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it into the leaf's ``.grad``.

        ``gradient`` is dL/d(self); it may be omitted only for a one-element tensor (then it is 1). The graph is walked
        newest node first (a reverse topological order: see :func:`link`), so each node's incoming gradient is complete
        (summed over all its uses) before the node's own backward runs; leaves receive theirs at the end. Saved arrays are freed afterwards unless ``retain_graph=True``. Before a node's
        backward runs, the arrays it saved are checked against in-place writes made since (their version counters).
        """
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): tinyreg does not record the backward pass, so "
                                      "gradients of gradients are not available")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            gradient = np.ones_like(self._array)
        else:
            gradient = np.asarray(gradient._array if isinstance(gradient, Tensor) else gradient, dtype=self.dtype)
            if gradient.shape != self.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and output[0] "
                                   f"has a shape of {self.shape}")
        if self._ctx is None:  # a leaf: its gradient is the one given
            self._accumulate_grad(gradient)
            return
        # Tensors still to visit, newest node first: every node was recorded after the nodes that made its inputs
        # (``sequence_nr``), so when a tensor comes off the heap every use of it has already passed its gradient on.
        # (The id breaks ties between the outputs of one node, so tensors themselves are never compared.)
        waiting = [(-self._ctx.sequence_nr, id(self), self)]
        pending = {id(self): gradient}  # dL/d(tensor), summed over every path reached so far
        leaves = []                     # leaves reached, to be given their complete gradient at the end
        while waiting:
            node = heapq.heappop(waiting)[2]
            ctx = node._ctx
            if ctx.n_outputs == 1:
                g = pending.pop(id(node))
                if node._retains_grad:
                    node._accumulate_grad(g)
                grads = (g,)
            # A node with several outputs runs once, at the first of its outputs off the heap, with all their
            # gradients (every use of every output has a higher number, so all of them have arrived by then).
            elif (grads := _gather_output_grads(ctx, pending)) is None:
                continue
            if ctx.released:
                raise RuntimeError("Trying to backward through the graph a second time (or directly access saved "
                                   "tensors after they have already been freed). Specify retain_graph=True if you "
                                   "need to backward through the graph a second time.")
            if ctx.saved_versions:
                _check_saved_versions(ctx)
            input_grads = type(ctx).backward(ctx, *grads)
            for parent, g_in in zip(ctx.parents, input_grads):
                if parent is None or g_in is None:
                    continue
                if g_in.shape != parent._array.shape:  # (the test reduce_to_shape starts with, without its call)
                    g_in = reduce_to_shape(g_in, parent._array.shape)
                if g_in.dtype != parent._array.dtype:
                    g_in = g_in.astype(parent._array.dtype)
                key = id(parent)
                if key in pending:  # a tensor used twice receives two gradients: the chain rule sums them
                    pending[key] = pending[key] + g_in
                    continue
                pending[key] = g_in
                if parent._ctx is None:
                    leaves.append(parent)
                else:
                    heapq.heappush(waiting, (-parent._ctx.sequence_nr, key, parent))
            if not retain_graph:
                ctx.release()
        for leaf in leaves:
            leaf._accumulate_grad(pending[id(leaf)])

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

    # ---- in place, as in torch: the same object changes and its version counter goes up (see tinyreg.inplace) ----
    def add_(self, other, *, alpha=1):
        return inplace.add_(self, other, alpha)

    def sub_(self, other, *, alpha=1):
        return inplace.sub_(self, other, alpha)

    def mul_(self, other):
        return inplace.mul_(self, other)

    def div_(self, other):
        return inplace.div_(self, other)

    # ``p -= lr * p.grad`` changes p itself (Python rebinds p to what __isub__ returns: the same object).
    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def clamp_(self, min=None, max=None):
        return inplace.clamp_(self, min, max)

    def relu_(self):
        return inplace.relu_(self)

    def zero_(self):
        return inplace.fill_(self, 0)

    def fill_(self, value):
        return inplace.fill_(self, value)

    def copy_(self, src):
        return inplace.copy_(self, src)

    def normal_(self, mean=0.0, std=1.0):
        return inplace.normal_(self, mean, std)

    def uniform_(self, from_=0.0, to=1.0):
        return inplace.uniform_(self, from_, to)

    def __setitem__(self, index, value):
        inplace.setitem(self, index, value)

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

    # ``out=None`` is what np.all(t) and np.any(t) pass when they call these methods.
    def all(self, axis=None, keepdims=False, *, dim=None, keepdim=None, out=None):
        return ops.all(self, axis, keepdims, dim=dim, keepdim=keepdim, out=out)

    def any(self, axis=None, keepdims=False, *, dim=None, keepdim=None, out=None):
        return ops.any(self, axis, keepdims, dim=dim, keepdim=keepdim, out=out)

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
            return f"tinyreg.{torch_type_name(self.dtype)}Tensor"
        if isinstance(dtype, str):
            by_name = {f"{name}Tensor": d for d, name in TORCH_TYPE_NAMES.items()}
            name = dtype.rpartition(".")[2]
            if name not in by_name:
                raise ValueError(f"invalid type: {dtype!r}")
            dtype = by_name[name]
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


def _gather_output_grads(ctx, pending):
    """The gradients of all outputs of a node with several (a custom Function returning a tuple), in order: zeros for a
    tensor output no gradient reached (torch "materializes" them), None for a non-tensor output. None if none of its
    outputs received a gradient."""
    grads, reached = [], False
    for ref, meta in zip(ctx.outputs, ctx.output_meta):
        out = None if ref is None else ref()
        g = None if out is None else pending.pop(id(out), None)
        if g is not None:
            reached = True
            if out._retains_grad:
                out._accumulate_grad(g)
        elif meta is not None:
            g = np.zeros(*meta)
        grads.append(g)
    return grads if reached else None


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


# ops is imported last because every op subclasses Function and builds Tensors, dtypes reads this module's dtypes,
# and inplace is written with ops: all need this module complete first.
from tinyreg import dtypes, inplace, ops  # noqa: E402
from tinyreg.device import CPU, check_device  # noqa: E402
