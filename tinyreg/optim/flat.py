"""Flat buffers: one contiguous array per param group and dtype, so one kernel call updates the whole group.

On creation a :class:`FlatBuffer` copies its parameters' values into ``theta`` and rebinds each parameter's array
(``p._array``, what ``p.data`` shows) to a view of its slice; gradients get the same treatment in ``grad`` (each
``p.grad`` becomes a Tensor wrapping a view), and each optimizer state (``exp_avg``, ...) is one more flat array laid
out the same way. From then on the model reads and writes the buffer through those views, ``backward()`` accumulates
in place into the ``.grad`` views, and the kernel runs over whole arrays. After updating, the step bumps the version
counter of every parameter it wrote (:meth:`FlatBuffer.bump_versions`), so a graph that saved the old values refuses
to backward (as with torch's optimizers).

Rebinding is detected, not forbidden. If you assign ``p.data = t`` or ``p.grad = g``, the parameter's array is no
longer the view (an identity check, ``p._array is view``); before updating, :meth:`FlatBuffer.check` validates the
new array (same shape and dtype, else an error and nothing changes) and :meth:`FlatBuffer.adopt` copies it into the
buffer and points the parameter back at the view. Values are never lost; only the tensor you assigned stops sharing
the parameter's storage (as after a copy). ``zero_grad(set_to_none=True)`` makes every ``.grad`` None, so the next
backward stores fresh arrays that the step then copies in; ``set_to_none=False`` keeps the views and avoids that copy.

A parameter whose ``.grad`` is None is skipped, as in torch: its θ, state and step count stay untouched. The
update therefore runs on *runs*: maximal stretches of consecutive parameters that have a gradient and the same step
count (the step enters the bias corrections), usually one run covering the whole buffer.
"""

import numpy as np

from tinyreg.tensor import Tensor

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class FlatBuffer:
    """The parameters of one group that share one dtype, with their gradients, state and step counts."""

    def __init__(self, params, indices, dtype):
        self.params = list(params)
        self.indices = list(indices)               # each parameter's position in its group's "params"
        self.dtype = np.dtype(dtype)
        self.shapes = [p.shape for p in self.params]
        sizes = [p.numel() for p in self.params]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.theta = np.empty(int(self.bounds[-1]), self.dtype)
        self.grad = np.zeros_like(self.theta)
        self.theta_views = self._views(self.theta)
        self.grad_views = self._views(self.grad)
        self._attached = list(zip(self.params, self.theta_views, self.grad_views))
        self.state = {}                            # state name -> flat array, allocated on first use
        self._state_views = {}
        self.steps = np.zeros(len(self.params), np.int64)
        for p, view in zip(self.params, self.theta_views):
            view[...] = p._array
            p._array = view
        for p, view in zip(self.params, self.grad_views):
            if p.grad is not None:
                view[...] = p.grad._array
                p.grad = Tensor._wrap(view)

    def _views(self, flat):
        return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(self.bounds[:-1], self.bounds[1:], self.shapes)]

    def views(self, name):
        """Per-parameter views of state ``name`` (made once: the flat arrays are never reallocated)."""
        if name not in self._state_views:
            self._state_views[name] = self._views(self.state[name])
        return self._state_views[name]

    def ensure_state(self, names):
        """Allocate zero-filled flat state arrays for ``names`` not yet present."""
        for name in names:
            if name not in self.state:
                self.state[name] = np.zeros_like(self.theta)

    def intact(self):
        """True when every parameter's array and ``.grad`` array is still this buffer's view (the fast path: nothing to
        check)."""
        for p, data, grad in self._attached:      # a plain loop: ~3x faster than all(...) over generators
            if p._array is not data or p._grad is None or p._grad._array is not grad:
                return False
        return True

    def check(self, where):
        """Raise if a rebound ``.data`` or a ``.grad`` cannot be used; changes nothing. ``where(i)`` names param i."""
        for i, p in enumerate(self.params):
            grad = None if p.grad is None else p.grad._array
            for attribute, array, view in (("data", p._array, self.theta_views[i]), ("grad", grad, self.grad_views[i])):
                if array is view or array is None:
                    continue
                if array.shape != view.shape:
                    raise RuntimeError(f"{where(i)}: .{attribute} has shape {array.shape} but the parameter has shape "
                                       f"{view.shape} (assigned {attribute} has data of a different size)")
                if array.dtype != self.dtype:
                    raise RuntimeError(f"{where(i)}: .{attribute} has dtype {array.dtype} but the parameter has dtype "
                                       f"{self.dtype} (assigned {attribute} has data of a different type)")

    def adopt(self):
        """Copy rebound ``.data``/``.grad`` arrays into the buffer and point the parameters back at the views."""
        for p, view in zip(self.params, self.theta_views):
            if p._array is not view:
                view[...] = p._array
                p._array = view
        for p, view in zip(self.params, self.grad_views):
            if p.grad is not None and p.grad._array is not view:
                view[...] = p.grad._array
                p.grad = Tensor._wrap(view)

    def runs(self, all_have_grad=False):
        """``(lo, hi, step)`` per maximal stretch ``params[lo:hi]`` of parameters with a gradient and equal step
        counts (``step``: the count before this update). Their elements are ``flat[bounds[lo]:bounds[hi]]``."""
        if all_have_grad and (self.steps == self.steps[0]).all():
            return [(0, len(self.params), int(self.steps[0]))]
        has_grad, steps = [p.grad is not None for p in self.params], self.steps.tolist()
        runs, start = [], None
        for i in range(len(self.params) + 1):
            if start is not None and (i == len(self.params) or not has_grad[i] or steps[i] != steps[start]):
                runs.append((start, i, steps[start]))
                start = None
            if start is None and i < len(self.params) and has_grad[i]:
                start = i
        return runs

    def bump_versions(self, lo, hi):
        """Count one in-place write of ``params[lo:hi]`` (the update of a run) on their version counters."""
        for p in self.params[lo:hi]:
            p._version_counter.value += 1

    def zero_grad(self, set_to_none):
        """torch's zero_grad for these parameters: drop the gradients, or zero those that exist (one fill if all)."""
        if set_to_none:
            for p in self.params:
                p.grad = None
        elif self.intact():
            self.grad.fill(0)
        else:
            for p in self.params:
                if p.grad is not None:
                    p.grad.zero_()
