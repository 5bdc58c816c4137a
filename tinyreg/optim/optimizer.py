"""The Optimizer base class: param groups, flat buffers, validation, state dicts. No math here.

Subclasses (:mod:`~tinyreg.optim.sgd`, :mod:`~tinyreg.optim.adam`) validate their hyperparameters with torch's
messages and say how to update one stretch of a flat buffer; the math itself is in :mod:`tinyreg.optim.reference`
(NumPy) and :mod:`tinyreg.optim.kernels` (Numba).

Everything torch users expect: ``params`` is an iterable of Parameters or of param-group dicts with per-group
overrides; ``param_groups``, ``defaults``, ``state``, ``add_param_group``, ``zero_grad(set_to_none=True)``,
``step(closure=None)``, ``state_dict()``/``load_state_dict()`` in torch's layout (state keyed by the parameter's
index, ``step`` a 0-d float32 array like torch's 0-d tensor; a torch optimizer's own state_dict loads too). Differences, all stricter: a parameter listed twice in
one group is an error (torch warns; a flat buffer has one slot per parameter), every group's hyperparameters are
validated (torch checks only the constructor's), and so are the gradients, before anything changes.

Constructing an optimizer moves its parameters into flat buffers: each ``p.data`` becomes a view of the group's
buffer (see :mod:`tinyreg.optim.flat` for what happens if you rebind it). Parameters that shared memory before no
longer do.
"""

from copy import deepcopy

import numpy as np

from tinyreg.optim.backends import check_backend, get_default_backend
from tinyreg.optim.decay import DECAY_CONVENTIONS
from tinyreg.optim.flat import SUPPORTED_DTYPES, FlatBuffer
from tinyreg.tensor import Tensor

# Keys of torch.optim's param groups that tinyreg does not use: its update is always one fused pass over a flat
# buffer, never captured or differentiated, and its groups carry no parameter names. load_state_dict drops them.
TORCH_ONLY_KEYS = ("foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay", "param_names")


class Optimizer:
    """Base class. Subclasses define ``_check_group``, ``_state_names`` and ``_update``."""

    _state_keys = ()        # the per-parameter state, in torch's key order
    _saves_step = True      # torch's SGD keeps no "step"

    def __init__(self, params, defaults, *, backend=None, parallel=False):
        self.defaults = defaults
        self.backend = check_backend(backend or get_default_backend())
        self.parallel = bool(parallel)
        self.param_groups = []
        self._buffers = []      # per group: its FlatBuffers, one per dtype
        # Watchers of the step (tinyreg.optim.trace): each has before_update(group, buffer, span, step), called just
        # before an update with _update's arguments, and after_step(), called once the whole step is done.
        self._step_observers = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + type(params).__name__)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- groups ------------------------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with "params" and optional overrides of ``defaults``) and its flat buffers."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if p.dtype not in SUPPORTED_DTYPES:
                raise TypeError(f"tinyreg.optim updates float32 and float64 parameters, got {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {"params": params, **{k: v for k, v in param_group.items() if k != "params"}}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        _set_alpha(group)
        self._check(group)
        self.param_groups.append(group)
        self._buffers.append([FlatBuffer([p for p in params if p.dtype == dtype],
                                         [i for i, p in enumerate(params) if p.dtype == dtype], dtype)
                              for dtype in dict.fromkeys(p.dtype for p in params)])

    def _check(self, group):
        """Validate a group's hyperparameters (torch's rules and messages, then the decay convention)."""
        self._check_group(group)
        decay = group.get("decay")
        if decay is not None and decay not in DECAY_CONVENTIONS:
            raise ValueError(f"Invalid decay convention: {decay!r} (choose one of "
                             f"{', '.join(map(repr, DECAY_CONVENTIONS))})")
        if decay == "paper" and not group["initial_lr"] > 0:
            raise ValueError(f"decay='paper' needs an initial lr > 0 (η_t = lr_t / lr_0), got {group['initial_lr']}")

    def _check_group(self, group):
        raise NotImplementedError

    # ---- the step ------------------------------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if a closure is given.

        Everything is checked first (hyperparameters, rebound ``.data``, every ``.grad``'s type, shape and dtype),
        so a step that raises has changed nothing.
        """
        loss = closure() if closure is not None else None
        work = []
        for g, (group, buffers) in enumerate(zip(self.param_groups, self._buffers)):
            self._check(group)
            for buffer in buffers:
                intact = buffer.intact()
                if not intact:
                    buffer.check(lambda i, g=g, buffer=buffer: f"param_groups[{g}]['params'][{buffer.indices[i]}]")
                work.append((group, buffer, intact))
        for group, buffer, intact in work:
            if not intact:
                buffer.adopt()
            for lo, hi, step in buffer.runs(all_have_grad=intact):
                span = slice(int(buffer.bounds[lo]), int(buffer.bounds[hi]))
                buffer.ensure_state(self._state_names(group))
                for observer in self._step_observers:
                    observer.before_update(group, buffer, span, step)
                self._update(group, buffer, span, step)
                buffer.bump_versions(lo, hi)
                if self._counts_step(group):
                    buffer.steps[lo:hi] += 1
        for observer in self._step_observers:
            observer.after_step()
        return loss

    def _state_names(self, group):
        """The flat state arrays the update of ``group`` needs."""
        raise NotImplementedError

    def _update(self, group, buffer, span, step):
        """Update ``buffer``'s elements ``span``, whose parameters have taken ``step`` steps before this one."""
        raise NotImplementedError

    def _counts_step(self, group):
        return True

    @staticmethod
    def _eta(group):
        """The schedule multiplier η_t = lr_t / lr_0 (1 until a scheduler or decay='paper' records lr_0)."""
        return group["lr"] / group["initial_lr"] if "initial_lr" in group else 1.0

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every gradient to None (default, as torch) or to zero in place (keeps the flat views: no copy later)."""
        for buffers in self._buffers:
            for buffer in buffers:
                buffer.zero_grad(set_to_none)

    # ---- state ---------------------------------------------------------------------------------------------------
    def _entries(self):
        """(index, parameter, buffer, position) for every parameter, indexed across groups as in state_dict."""
        start = 0
        for group, buffers in zip(self.param_groups, self._buffers):
            for buffer in buffers:
                for position, (p, i) in enumerate(zip(buffer.params, buffer.indices)):
                    yield start + i, p, buffer, position
            start += len(group["params"])

    def _state_of(self, buffer, position):
        """torch's per-parameter state dict (views into the flat buffers), or None before the first step."""
        if buffer.steps[position] == 0:
            return None
        entry = {"step": np.array(buffer.steps[position], dtype=np.float32)} if self._saves_step else {}
        for name in self._state_keys:
            if name in buffer.state:
                entry[name] = buffer.views(name)[position]
        return entry

    @property
    def state(self) -> dict:
        """Parameter -> its state, like torch's ``optimizer.state`` (arrays are live views; build once and reuse)."""
        return {p: entry for _, p, buffer, position in self._entries()
                if (entry := self._state_of(buffer, position)) is not None}

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``; arrays are copies."""
        groups, start = [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(packed)
        state = {}
        for index, _, buffer, position in sorted(self._entries(), key=lambda entry: entry[0]):
            entry = self._state_of(buffer, position)
            if entry is not None:
                state[index] = {name: np.array(value, copy=True) for name, value in entry.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`, or by a torch.optim optimizer's.

        All or nothing: every group and state value is validated and converted first, so a dict that raises leaves the
        optimizer exactly as it was. What a saved dict may hold:

        - a param group may lack keys: each missing key keeps the optimizer's current value (torch's dicts have no
          ``decay``). torch's ``decoupled_weight_decay`` sets ``decay`` when the saved group has none: True is
          ``"decoupled"`` (torch's AdamW), False ``"l2"`` (torch's Adam). The torch keys tinyreg has no use for,
          :data:`TORCH_ONLY_KEYS` (``foreach``, ``fused``, ``capturable``, ``differentiable``, ...), are accepted and
          dropped: tinyreg's kernel is always one fused pass, and these would only echo back from ``state_dict()``;
        - state values may be NumPy arrays or torch tensors (read with ``np.asarray``), each of its parameter's shape;
          ``step`` (a number or a 0-d array/tensor) must be a whole number >= 1, the steps taken so far.
        """
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved_groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        new_groups = [_merge_group(saved, group) for saved, group in zip(saved_groups, self.param_groups)]
        for group in new_groups:
            self._check(group)
        saved_ids = [i for saved in saved_groups for i in saved["params"]]
        targets = {saved_ids[index]: (buffer, position) for index, _, buffer, position in self._entries()}
        loaded = []         # (buffer, position, step, {name: array}), all converted before anything is written
        for key, entry in state_dict["state"].items():
            if key not in targets:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which no group lists")
            buffer, position = targets[key]
            arrays = {name: _state_array(key, name, value, buffer.shapes[position], self._state_keys)
                      for name, value in entry.items() if name != "step"}
            step = _step_count(key, entry["step"]) if "step" in entry else 1     # torch's SGD saves no step
            loaded.append((buffer, position, step, arrays))
        for buffers in self._buffers:
            for buffer in buffers:
                buffer.steps[:] = 0
                for flat in buffer.state.values():
                    flat.fill(0)
        for buffer, position, step, arrays in loaded:
            buffer.steps[position] = step
            for name, array in arrays.items():
                buffer.ensure_state([name])
                buffer.views(name)[position][...] = array
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])


def _set_alpha(group):
    """decay="paper" reads η_t = lr_t / α: record α (``initial_lr``) unless a scheduler already did."""
    if group.get("decay") == "paper":
        group.setdefault("initial_lr", group["lr"])


def _merge_group(saved, current):
    """A saved param group over the optimizer's ``current`` one (see Optimizer.load_state_dict)."""
    group = {**current, **{k: v for k, v in saved.items() if k not in TORCH_ONLY_KEYS}, "params": current["params"]}
    if "decay" not in saved and "decoupled_weight_decay" in saved:
        group["decay"] = "decoupled" if saved["decoupled_weight_decay"] else "l2"
    _set_alpha(group)
    return group


def _state_array(key, name, value, shape, known):
    """A loaded state entry as an array, checked against its parameter's ``shape``."""
    if name not in known:
        raise ValueError(f"loaded state for parameter {key} has an unknown entry {name!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"loaded state for parameter {key}: {name!r} must hold real numbers, got dtype {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"loaded state for parameter {key}: {name!r} has shape {array.shape} "
                         f"but the parameter has shape {shape}")
    return array


def _step_count(key, value) -> int:
    """A loaded ``step`` as an int: a whole number >= 1 (torch saves it as a 0-d float32 tensor)."""
    step = np.asarray(value)
    if not (step.shape == () and step.dtype.kind in "iuf" and np.isfinite(step) and step == np.floor(step)
            and step >= 1):
        raise ValueError(f"loaded state for parameter {key}: 'step' must be a whole number >= 1 (the steps taken), "
                         f"got {value!r}")
    return int(step)
