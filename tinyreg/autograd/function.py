"""Custom autograd functions, written as in torch: ``forward`` and ``backward`` over Tensors.

    import tinyreg as tr

    class Exp(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x):              # Tensors in, Tensors out (no graph is recorded in here)
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):        # dL/dy in, dL/dx out: one gradient (or None) per input of forward
            (y,) = ctx.saved_tensors
            return grad_y * y             # d(eˣ)/dx = eˣ

    y = Exp.apply(x)

How this relates to tinyreg's own ops. An op such as ``tinyreg.ops.elementwise.Exp`` is a
:class:`tinyreg.tensor.Function`: the same pair of static methods, but on NumPy arrays, so the op reads like the
math, and the node it records is the instance itself. ``Function.apply`` here runs your ``forward`` on Tensors under
``no_grad``, then records one :class:`BackwardNode`, which is itself a ``tinyreg.tensor.Function`` whose array-level
``backward`` wraps the engine's arrays into Tensors, calls your ``backward`` and unwraps its answer. Both kinds of
node sit in the same graph, and the node is the ``ctx`` your methods receive: ``ctx.save_for_backward(*tensors)``,
``ctx.saved_tensors``, ``ctx.needs_input_grad``, plus any attribute you set on it.

As in torch: ``forward`` may return one Tensor or a tuple (then ``backward`` receives one gradient per output, zeros
for an output that did not influence the loss); ``backward`` returns a Tensor or None per input of ``forward``
(trailing Nones beyond them are allowed) and may return a gradient of the broadcast shape, which is summed back to the
input's shape. A saved tensor written in place before backward raises the version error. Not provided:
``mark_dirty``, ``mark_non_differentiable``, ``set_materialize_grads``, ``setup_context`` and double backward.
"""

import weakref

import numpy as np

from tinyreg import grad_mode
from tinyreg.tensor import Function as ArrayFunction
from tinyreg.tensor import Tensor, link


class BackwardNode(ArrayFunction):
    """The graph node of one call of a custom :class:`Function`; also the ``ctx`` its forward and backward receive."""

    def __init__(self, function):
        self.function = function
        self.saved = self.saved_versions = ()
        self.released = self.consumed = False

    def name(self) -> str:
        """torch's name: the Function's class name + "Backward" (``ExpBackward``)."""
        return self.function.__name__ + "Backward"

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or None) for backward; their version counters are watched from now on."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self.saved = tensors
        self.saved_versions = tuple((t._version_counter, t._version, i, None)
                                    for i, t in enumerate(tensors) if t is not None)

    @property
    def saved_tensors(self) -> tuple:
        if self.released:
            raise RuntimeError("Trying to backward through the graph a second time (or directly access saved "
                               "tensors after they have already been freed). Specify retain_graph=True if you "
                               "need to backward through the graph a second time.")
        return self.saved

    @staticmethod
    def backward(ctx, *grads):
        """The engine's side: arrays in, the user's ``backward`` on Tensors, arrays out (one per input)."""
        with grad_mode.no_grad():
            result = ctx.function.backward(ctx, *(None if g is None else Tensor._wrap(g) for g in grads))
        result = result if isinstance(result, tuple) else (result,)
        n = len(ctx.needs_input_grad)
        if len(result) < n or any(g is not None for g in result[n:]):
            raise RuntimeError(f"function {ctx.name()} returned an incorrect number of gradients (expected {n}, "
                               f"got {len(result)})")
        return tuple(_gradient_array(ctx, i, g) for i, g in enumerate(result[:n]))


def _gradient_array(ctx, i, grad):
    """The array of the gradient ``backward`` returned for input ``i``, checked (None where none is needed)."""
    parent = ctx.parents[i]
    if grad is None or parent is None:
        return None
    if not isinstance(grad, Tensor):
        raise TypeError(f"function {ctx.name()} returned a gradient of type {type(grad).__name__} at index {i}; "
                        f"expected a Tensor or None")
    try:
        expandable = np.broadcast_shapes(parent.shape, grad.shape) == grad.shape
    except ValueError:
        expandable = False
    if not expandable:
        raise RuntimeError(f"Function {ctx.name()} returned an invalid gradient at index {i} - got "
                           f"{list(grad.shape)} but expected shape compatible with {list(parent.shape)}")
    return grad._array


def _attach(output, ctx, inputs):
    """Make ``output`` (a value forward returned) an output of node ``ctx``; integer tensors and non-tensors stay
    outside the graph. A tensor forward did not create (an input, returned as is) is attached through a view of it."""
    if not isinstance(output, Tensor) or output.dtype.kind not in "fc":
        return output
    if output.requires_grad or output._ctx is not None or any(output is x for x in inputs):
        output = output.detach()
    output.requires_grad = True
    output._ctx = ctx
    return output


class Function:
    """Base class of custom differentiable functions (torch's ``torch.autograd.Function``).

    Subclass it with static methods ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` and call
    ``YourFunction.apply(*args)``; never call ``forward`` directly (nothing would be recorded). See the module
    docstring for an example and for how this relates to :class:`tinyreg.tensor.Function`.
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for your custom autograd.Function to "
                                  "use it with backward mode AD.")

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` on ``args`` and, if an input requires grad (and grad mode is on), record the call."""
        ctx = BackwardNode(cls)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with grad_mode.no_grad():
            result = cls.forward(ctx, *args)
        if not (grad_mode.is_grad_enabled() and any(ctx.needs_input_grad)):
            return result
        link(ctx, tuple(a if need else None for a, need in zip(args, ctx.needs_input_grad)))
        if not isinstance(result, tuple):
            return _attach(result, ctx, args)
        outputs = tuple(_attach(o, ctx, args) for o in result)
        ctx.n_outputs = len(outputs)
        in_graph = [isinstance(o, Tensor) and o._ctx is ctx for o in outputs]
        ctx.outputs = tuple(weakref.ref(o) if attached else None for o, attached in zip(outputs, in_graph))
        ctx.output_meta = tuple((o.shape, o.dtype) if attached else None for o, attached in zip(outputs, in_graph))
        return outputs
