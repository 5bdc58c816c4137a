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

This module is the only place in :mod:`tinyreg.optim` that reads or rebinds a parameter's array and its gradient
(:func:`param_array`, :func:`grad_array`, :func:`check_gradient` and the :class:`FlatBuffer` methods): everything
else asks it.
"""

import itertools

import numpy as np

from tinyreg.tensor import Tensor, rebinds

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def param_array(p) -> np.ndarray:
    """The NumPy array holding parameter ``p``'s values (a view of its flat buffer once an optimizer owns it)."""
    return p._array


def grad_array(p):
    """``p``'s gradient as a NumPy array, or None when it has none."""
    return None if p._grad is None else p._grad._array


def bind_param(p, view) -> None:
    """Make ``view`` (a slice of a flat buffer) the array behind parameter ``p``."""
    p._array = view
    rebinds.value += 1      # another optimizer's buffer may hold p too: its next intact() must look


def bind_grad(p, view) -> None:
    """Make ``p.grad`` a Tensor over ``view`` (a slice of the flat gradient buffer), or None when ``view`` is None."""
    p.grad = None if view is None else Tensor._wrap(view)


def _bad_array(attribute, array, shape, dtype):
    """Why ``array`` cannot be the ``.data``/``.grad`` of a parameter of ``shape`` and ``dtype`` (None if it can):
    same shape and dtype exactly, as torch requires of an assigned ``.data``/``.grad`` (never broadcast or cast)."""
    if array.shape != shape:
        return RuntimeError, (f".{attribute} has shape {array.shape} but the parameter has shape {shape} "
                              f"(assigned {attribute} has data of a different size)")
    if array.dtype != dtype:
        return RuntimeError, (f".{attribute} has dtype {array.dtype} but the parameter has dtype {dtype} "
                              f"(assigned {attribute} has data of a different type)")
    return None


def check_gradient(p, where):
    """Raise if ``p``'s gradient (if any) does not match its array's shape and dtype; ``where()`` names ``p``."""
    grad, data = grad_array(p), param_array(p)
    problem = None if grad is None else _bad_array("grad", grad, data.shape, data.dtype)
    if problem:
        error, message = problem
        raise error(f"{where()}: {message}")


class FlatBuffer:
    """The parameters of one group that share one dtype, with their gradients, state and step counts."""

    def __init__(self, params, indices, dtype):
        self.params = list(params)
        self.indices = list(indices)               # each parameter's position in its group's "params"
        self.dtype = np.dtype(dtype)
        self.shapes = [param_array(p).shape for p in self.params]
        sizes = [param_array(p).size for p in self.params]
        self.bounds = [0, *itertools.accumulate(sizes)]     # Python ints: the step slices with them every call
        self.theta = np.empty(self.bounds[-1], self.dtype)
        self.grad = np.zeros_like(self.theta)
        self.theta_views = self._views(self.theta)
        self.grad_views = self._views(self.grad)
        self._attached = list(zip(self.params, self.theta_views, self.grad_views))
        # Each parameter's version counter, which no tensor ever replaces (views and detach() share it), so the
        # step's bump_versions need not look it up anew.
        self._counters = [p._version_counter for p in self.params]
        self.state = {}                            # state name -> flat array, allocated on first use
        self._state_views = {}
        self.steps = np.zeros(len(self.params), np.int64)
        self.scalars = {}                          # per-parameter scalar state (NAdam's mu_product), by name
        self._intact_at = None                     # rebinds.value when intact() last found every view in place
        # Whether every parameter has taken the same steps and holds the same scalar state (None: not known). Only
        # advance() and load() change them; the usual step then needs no look at each parameter's count.
        self._level = True
        self.adopt()

    def _views(self, flat):
        return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(self.bounds[:-1], self.bounds[1:], self.shapes)]

    def views(self, name):
        """Per-parameter views of state ``name`` (made once: the flat arrays are never reallocated)."""
        if name not in self._state_views:
            self._state_views[name] = self._views(self.state[name])
        return self._state_views[name]

    def ensure_state(self, names, fresh):
        """Allocate the flat state arrays ``names`` not yet present, filled with their ``fresh`` value (0 unless
        ``fresh`` names one)."""
        for name in names:
            if name not in self.state:
                self.state[name] = np.full_like(self.theta, fresh.get(name, 0))

    def reset(self, scalar_state, fresh):
        """Forget every step: counts 0, scalar state and state arrays back to their initial values."""
        self.steps[:] = 0
        for name, initial in scalar_state.items():
            self.scalars[name] = np.full(len(self.params), initial, np.float32)
        self._level = True
        for name, flat in self.state.items():
            flat.fill(fresh.get(name, 0))

    def intact(self):
        """True when every ``.data`` and ``.grad`` is still this buffer's view (the fast path: nothing to check).

        Every rebinding of a tensor's array or gradient counts on :data:`tinyreg.tensor.rebinds`, so while that count
        has not moved since this buffer was last found intact, it still is, and its parameters need no look."""
        if self._intact_at == rebinds.value:
            return True         # no tensor anywhere was rebound since the loop below last found every view in place
        # (param_array and grad_array inline: a call per parameter costs 30 µs for 500 parameters)
        for p, data, grad in self._attached:
            if p._array is not data or p._grad is None or p._grad._array is not grad:
                return False
        self._intact_at = rebinds.value
        return True

    def check(self, where):
        """Raise if a rebound ``.data`` or a ``.grad`` cannot be used; changes nothing. ``where(i)`` names param i."""
        for i, p in enumerate(self.params):
            for attribute, array, view in (("data", param_array(p), self.theta_views[i]),
                                           ("grad", grad_array(p), self.grad_views[i])):
                if array is view or array is None and attribute == "grad":
                    continue
                problem = _bad_array(attribute, array, view.shape, self.dtype)
                if problem:
                    error, message = problem
                    raise error(f"{where(i)}: {message}")

    def adopt(self):
        """Copy rebound ``.data``/``.grad`` arrays into the buffer and point the attributes back at the views."""
        for p, view in zip(self.params, self.theta_views):
            if param_array(p) is not view:
                view[...] = param_array(p)
                bind_param(p, view)
        for p, view in zip(self.params, self.grad_views):
            if grad_array(p) is not None and grad_array(p) is not view:
                view[...] = grad_array(p)
                # The same .grad Tensor now wraps the buffer, so a reference taken earlier (g = p.grad) stays p's
                # gradient, as in torch.
                p.grad._array = view
                rebinds.value += 1

    def runs(self, scalar_state, all_have_grad=False):
        """``(lo, hi, state)`` per maximal stretch ``params[lo:hi]`` of parameters with a gradient and equal step
        counts and scalar state (both enter the step's coefficients); ``state`` is ``{"step": the count before this
        update, **scalars}``. Their elements are ``flat[bounds[lo]:bounds[hi]]``."""
        for name, initial in scalar_state.items():
            self.scalars.setdefault(name, np.full(len(self.params), initial, np.float32))
        columns = None
        if self._level is None:
            columns = [self.steps.tolist(), *(self.scalars[name].tolist() for name in scalar_state)]
            self._level = all(column.count(column[0]) == len(column) for column in columns)
        # The usual step: every parameter has a gradient and all are level, so one run covers the buffer (what the
        # loop below finds, without building the keys).
        if all_have_grad and self._level:
            return [(0, len(self.params), self._state_at(0, scalar_state))]
        keys = list(zip(*(columns or [self.steps.tolist(), *(self.scalars[name].tolist() for name in scalar_state)])))
        has_grad = [grad_array(p) is not None for p in self.params]
        runs, start = [], None
        for i in range(len(self.params) + 1):
            if start is not None and (i == len(self.params) or not has_grad[i] or keys[i] != keys[start]):
                runs.append((start, i, self._state_at(start, scalar_state)))
                start = None
            if start is None and i < len(self.params) and has_grad[i]:
                start = i
        return runs

    def advance(self, lo, hi, scalars, counts_step):
        """Record the update of ``params[lo:hi]``: their new ``scalars`` (name -> value) and, if ``counts_step``,
        one more step each."""
        for name, value in scalars.items():
            self.scalars[name][lo:hi] = value
        if counts_step:
            self.steps[lo:hi] += 1
        # A run over every parameter moves all alike: level ones stay level, others may have become so.
        self._level = True if self._level and lo == 0 and hi == len(self.params) else None

    def load(self, position, step, scalars):
        """Set one parameter's step count and scalar state (name -> value), as loaded from a state dict."""
        self.steps[position] = step
        for name, value in scalars.items():
            self.scalars[name][position] = value
        self._level = None

    def bump_versions(self, lo, hi):
        """Count one in-place write of ``params[lo:hi]`` (the update of a run) on their version counters."""
        for counter in self._counters[lo:hi]:
            counter.value += 1

    def _state_at(self, i, scalar_state):
        return {"step": int(self.steps[i]), **{name: self.scalars[name][i] for name in scalar_state}}

    def zero_grad(self, set_to_none):
        """torch's zero_grad for these parameters: drop the gradients, or zero those that exist (one fill if all)."""
        if set_to_none:
            for p in self.params:
                bind_grad(p, None)
        elif self.intact():
            self.grad.fill(0)
            for p in self.params:              # one write of each .grad, as grad.zero_() counts it
                p.grad._version_counter.value += 1
        else:
            for p in self.params:
                if p.grad is not None:
                    p.grad.zero_()
