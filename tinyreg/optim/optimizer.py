"""The Optimizer base class: the declaration every optimizer fills in, param groups, the atomic step, state dicts.

An optimizer is one file under ``tinyreg/optim/`` (``rmsprop.py``, ``lion.py``, ...) holding one subclass of
:class:`Optimizer` that *declares* everything the rest of the package needs, and nothing else lists optimizers:

==================== ===================================================================================================
``name``             its key in :data:`OPTIMIZERS` (``python -m tinyreg explain rmsprop``, the benchmarks)
``reference_step``   the math: a plain NumPy function, one equation per statement, with the ``record`` hook
                     (``step(theta, grad, *state, **arguments, record=None) -> (theta_t, *state_t)``)
``kernel``           the same math for one element, looped by Numba (:class:`tinyreg.optim.kernels.Kernel`)
``Coefficients``     the kernel's named per-step scalars, built by ``coefficients(arguments, dtype)``
``state_keys``       the per-parameter state arrays, torch's names, in the order the step takes them;
                     ``optional_states`` those only some settings use, ``scalar_state`` per-parameter scalars
``check_group``      hyperparameter validation, torch's messages
``step_arguments``   a param group (and a parameter's step count) → the reference step's keyword arguments,
                     used by :meth:`step` and by the tracer alike
``lambda_eff``       the effective decay rate of :func:`tinyreg.optim.effective_decay`
``explain``          the settings ``python -m tinyreg explain NAME`` uses; ``benchmark`` those of bench_update.py
==================== ===================================================================================================

Everything torch users expect: ``params`` is an iterable of Parameters or of param-group dicts with per-group
overrides; ``param_groups``, ``defaults``, ``state``, ``add_param_group``, ``zero_grad(set_to_none=True)``,
``step(closure=None)``, ``register_step_pre_hook``/``register_step_post_hook``, ``state_dict()``/
``load_state_dict()`` in torch's layout (state keyed by the parameter's index, ``step`` a 0-d float32 array like
torch's 0-d tensor; a torch optimizer's own state_dict loads too). torch's ``foreach``, ``fused``, ``capturable`` and
``differentiable`` keywords are accepted and ignored (tinyreg's update is always one fused pass);
``capturable=True`` and ``differentiable=True`` are refused, since tinyreg can honour neither. Differences, all
stricter: a parameter listed twice in one group is an error (torch warns; a flat buffer has one slot per parameter),
every group's hyperparameters are validated (torch checks only the constructor's), and so are the gradients.

A call that raises has changed nothing: the constructor validates every group and every existing gradient before
it binds any parameter into a flat buffer, and :meth:`step` validates every group, computes every group's step
arguments and checks every rebound ``.data``/``.grad`` before it updates anything.

Constructing an optimizer moves its parameters into flat buffers: each parameter's storage (``np.asarray(p)``)
becomes a view of the group's buffer and each ``.grad`` a Tensor over a view of the group's gradient buffer (see
:mod:`tinyreg.optim.flat` for what happens if you rebind either). Parameters that shared memory before no longer do.
Each step counts one in-place write of every parameter it updates on its version counter, as torch's optimizers do.
"""

import numbers
import operator
from copy import deepcopy

import numpy as np

from tinyreg.optim import backends
from tinyreg.optim.backends import check_backend, get_default_backend
from tinyreg.optim.decay import DECAY_CONVENTIONS
from tinyreg.optim.flat import SUPPORTED_DTYPES, FlatBuffer, check_gradient
from tinyreg.tensor import Tensor

# Keys of torch.optim's param groups that tinyreg does not use: its update is always one fused pass over a flat
# buffer, never captured or differentiated, and its groups carry no parameter names. load_state_dict drops them.
TORCH_ONLY_KEYS = ("foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay", "param_names")
# torch's constructor keywords that choose an implementation: accepted so torch scripts run unchanged.
TORCH_KEYWORDS = ("foreach", "fused", "capturable", "differentiable")

OPTIMIZERS = {}     # name -> class, every optimizer that declares a ``name`` (filled as their files are imported)


def schedule_multiplier(group) -> float:
    """η_t = lr_t / lr_0, the paper's schedule multiplier, for a param group.

    lr_0 is ``initial_lr``, recorded by a scheduler or by ``decay="paper"``; η_t is 1 before one is recorded, and
    also for a group whose lr_0 is 0 (the ratio is undefined there; only ``decay="paper"`` uses it, and that
    requires lr_0 > 0).
    """
    initial = group.get("initial_lr", 0)
    return group["lr"] / initial if initial else 1.0


class Optimizer:
    """Base class: param groups, the atomic step, state. Subclasses fill in the declaration (module docstring)."""

    name = None
    state_keys = ()         # the per-parameter state arrays, in torch's key order
    optional_states = ()    # the state arrays only some settings use (the kernel's ``variant`` bits, at most two)
    scalar_state = {}       # per-parameter scalar state besides the step count: name -> initial value
    saves_step = True       # torch's SGD keeps no "step"
    reference_step = None
    kernel = None
    step_line = None        # where the step counter t ← t + 1 comes from, if the math uses t (the trace shows it)
    explain = {}
    benchmark = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            OPTIMIZERS[cls.name] = cls

    def __init__(self, params, defaults, *, backend=None, parallel=False, **torch_keywords):
        check_torch_keywords(type(self).__name__, torch_keywords)
        self.defaults = defaults
        self.backend = check_backend(backend or get_default_backend())
        self.parallel = bool(parallel)
        self.param_groups = []
        self._buffers = []      # per group: its FlatBuffers, one per dtype
        self._pre_hooks, self._post_hooks = {}, {}
        # id(group) -> (group, its hyperparameters when step() last validated it, their value objects, its keys)
        self._validated = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + type(params).__name__)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        # Every group is validated against the others before any parameter moves into a flat buffer.
        checked = []
        for group in groups:
            checked.append(self._new_group(group, taken=[p for g in checked for p in g["params"]]))
        for group in checked:
            self._bind(group)

    # ---- groups ------------------------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with "params" and optional overrides of ``defaults``) and its flat buffers."""
        self._bind(self._new_group(param_group, taken=[p for g in self.param_groups for p in g["params"]]))

    def _new_group(self, param_group, taken):
        """The group dict with defaults filled in, fully validated; changes nothing."""
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
        taken = {id(p) for p in taken}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {"params": params, **{k: v for k, v in param_group.items() if k != "params"}}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        _set_alpha(group)
        self._check(group)
        g = len(self.param_groups)
        for i, p in enumerate(params):      # a gradient set before the optimizer existed: checked, never cast
            check_gradient(p, lambda: f"param_groups[{g}]['params'][{i}]")
        return group

    def _bind(self, group):
        """Append a validated group and move its parameters into flat buffers (one per dtype)."""
        params = group["params"]
        self.param_groups.append(group)
        self._buffers.append([FlatBuffer([p for p in params if p.dtype == dtype],
                                         [i for i, p in enumerate(params) if p.dtype == dtype], dtype)
                              for dtype in dict.fromkeys(p.dtype for p in params)])

    def _check(self, group):
        """Validate a group: every number a real number, the optimizer's rules (torch's messages), the decay."""
        for key, default in self.defaults.items():
            _check_real(key, default, group[key])
        self.check_group(group)
        decay = group.get("decay")
        if decay is not None and decay not in DECAY_CONVENTIONS:
            raise ValueError(f"Invalid decay convention: {decay!r} (choose one of "
                             f"{', '.join(map(repr, DECAY_CONVENTIONS))})")
        if decay == "paper" and not group["initial_lr"] > 0:
            raise ValueError(f"decay='paper' needs an initial lr > 0 (η_t = lr_t / lr_0), got {group['initial_lr']}")

    def _check_if_changed(self, group):
        """:meth:`_check` ``group``, unless its hyperparameters are the values step() last accepted for it.

        A user may set ``group["lr"]`` at any time, so step() validates every group, and that costs more than the
        update of a small model. Validation reads only the group's values, so equal values (and equal types: 1, 1.0
        and True are checked differently) validate the same way, and skipping is equivalent. A group holding anything
        else than numbers, strings, None and tuples of them (a list or an array, which can change in place) is
        validated on every call. Usually each value is the very object seen last time (an identity check, which
        equal values need not pass: ``group["lr"] = 0.1`` stores a new float, compared by value and type then).
        """
        known = self._validated.get(id(group))
        if known is not None and known[0] is group:
            # The usual step: the very objects validated last time, so nothing to compare by value. (A plain value
            # cannot change in place, and only groups of plain values are remembered.)
            values = known[2]
            if len(group) == len(values) and all(map(operator.is_, group.values(), values)) \
                    and tuple(group) == known[3]:
                return
        snapshot = _hyperparameters(group)
        if snapshot is not None and known is not None and known[0] is group and known[1] == snapshot:
            self._validated[id(group)] = (group, snapshot, tuple(group.values()), tuple(group))
            return
        self._check(group)
        if snapshot is not None:
            self._validated[id(group)] = (group, snapshot, tuple(group.values()), tuple(group))

    def check_group(self, group):
        """Raise ValueError (torch's message) if a hyperparameter of ``group`` is out of range."""
        raise NotImplementedError

    # ---- the declaration's defaults --------------------------------------------------------------------------------
    def state_names(self, group):
        """The state arrays the update of ``group`` uses (default: all but an unused optional one)."""
        return self.state_keys

    def counts_step(self, group):
        """Whether a step of ``group`` counts (torch's SGD counts none without momentum: it keeps no state)."""
        return True

    def initial_state(self, group):
        """The value each state array starts from (name -> number; default 0)."""
        return {}

    def step_arguments(self, group, state):
        """The reference step's keyword arguments for ``group``; ``state`` holds the parameters' ``"step"`` (the
        steps taken before this one) and their ``scalar_state`` values."""
        raise NotImplementedError

    @staticmethod
    def coefficients(arguments, dtype):
        """The kernel's per-step scalars (a NamedTuple), from the reference step's ``arguments``."""
        raise NotImplementedError

    def lambda_eff(self, group, state, eta_t):
        """``(equation, rate)``: λ_eff, the fraction of θ the decay removes per step once settled (see
        :mod:`tinyreg.optim.effective_decay`). ``state`` is a parameter's state after its last step (None before
        the first). The decoupled forms are the same for every optimizer; coupled decay is each optimizer's own
        (:meth:`coupled_lambda_eff`)."""
        lr, lambda_ = float(group["lr"]), float(group["weight_decay"])
        if group["decay"] == "decoupled":
            return "λ_eff ← lr·λ", lr * lambda_
        if group["decay"] == "paper":
            return "λ_eff ← η_t·λ", eta_t * lambda_
        return self.coupled_lambda_eff(group, state)

    def coupled_lambda_eff(self, group, state):
        raise NotImplementedError

    def coupled_decay(self, group, theta_prev, d_prev, step, element, record):
        """The trace's lines for what coupled decay (λθ in g_t) took off θ this step; returns d_t, the λθ part of a
        momentum buffer carried to the next step (None if none). ``element`` the traced lines of this step."""
        raise NotImplementedError

    # ---- hooks -------------------------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before every :meth:`step` (torch's signature); returns a handle
        whose ``remove()`` unregisters it."""
        return _Handle(self._pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after every completed :meth:`step`; returns a removable handle."""
        return _Handle(self._post_hooks, hook)

    # ---- the step ------------------------------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if a closure is given.

        Everything is checked and computed first (hyperparameters, every group's step arguments, rebound arrays,
        every gradient's type, shape and dtype), so a step that raises has changed nothing.
        """
        loss = closure() if closure is not None else None
        for hook in list(self._pre_hooks.values()):
            hook(self, (), {})
        work = []
        for g, (group, buffers) in enumerate(zip(self.param_groups, self._buffers)):
            self._check_if_changed(group)
            names = self.state_names(group)
            for buffer in buffers:
                intact = buffer.intact()
                if not intact:
                    buffer.check(lambda i, g=g, buffer=buffer: f"param_groups[{g}]['params'][{buffer.indices[i]}]")
                runs = [(lo, hi, self.step_arguments(group, state))
                        for lo, hi, state in buffer.runs(self.scalar_state, all_have_grad=intact)]
                prepared = [(lo, hi, arguments, self.coefficients(arguments, buffer.dtype) if self.backend == "numba"
                             else None) for lo, hi, arguments in runs]
                work.append((group, buffer, intact, names, prepared))
        for group, buffer, intact, names, prepared in work:
            if not intact:
                buffer.adopt()
            buffer.ensure_state(names, self.initial_state(group))
            for lo, hi, arguments, coefficients in prepared:
                span = slice(buffer.bounds[lo], buffer.bounds[hi])
                state = [buffer.state[name][span] if name in names else None for name in self.state_keys]
                backends.run(self, buffer.theta[span], buffer.grad[span], state, arguments, coefficients)
                buffer.bump_versions(lo, hi)
                buffer.advance(lo, hi, {name: arguments[name] for name in self.scalar_state}, self.counts_step(group))
        for hook in list(self._post_hooks.values()):
            hook(self, (), {})
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every gradient to None (default, as torch) or to zero in place (keeps the flat views: no copy later)."""
        for buffers in self._buffers:
            for buffer in buffers:
                buffer.zero_grad(set_to_none)

    # ---- state ---------------------------------------------------------------------------------------------------
    def _entries(self, groups=None):
        """(index, parameter, buffer, position, group) for every parameter, indexed across groups as in
        state_dict."""
        start = 0
        for group, buffers in zip(groups or self.param_groups, self._buffers):
            for buffer in buffers:
                for position, (p, i) in enumerate(zip(buffer.params, buffer.indices)):
                    yield start + i, p, buffer, position, group
            start += len(group["params"])

    def _state_of(self, buffer, position):
        """torch's per-parameter state dict (views into the flat buffers), or None before the first step."""
        if buffer.steps[position] == 0:
            return None
        entry = {"step": np.array(buffer.steps[position], dtype=np.float32)} if self.saves_step else {}
        for name in self.scalar_state:
            entry[name] = np.array(buffer.scalars[name][position], dtype=np.float32)
        for name in self.state_keys:
            if name in buffer.state:
                entry[name] = buffer.views(name)[position]
        return entry

    @property
    def state(self) -> dict:
        """Parameter -> its state, like torch's ``optimizer.state`` (arrays are live views; build once and reuse)."""
        return {p: entry for _, p, buffer, position, _ in self._entries()
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
        for index, _, buffer, position, _ in sorted(self._entries(), key=lambda entry: entry[0]):
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
        targets = {saved_ids[index]: (buffer, position, group)
                   for index, _, buffer, position, group in self._entries(new_groups)}
        loaded, groups_of = [], []  # (buffer, position, step, scalars, arrays) and its group, converted first
        for key, entry in state_dict["state"].items():
            if key not in targets:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which no group lists")
            buffer, position, group = targets[key]
            groups_of.append(group)
            arrays = {name: _state_array(key, name, value, buffer.shapes[position], self.state_keys)
                      for name, value in entry.items() if name != "step" and name not in self.scalar_state}
            scalars = {name: _scalar(key, name, entry[name]) for name in self.scalar_state if name in entry}
            step = _step_count(key, entry["step"]) if "step" in entry else 1     # torch's SGD saves no step
            loaded.append((buffer, position, step, scalars, arrays))
        for group, buffers in zip(new_groups, self._buffers):
            for buffer in buffers:
                buffer.reset(self.scalar_state, self.initial_state(group))
        for (buffer, position, step, scalars, arrays), group in zip(loaded, groups_of):
            buffer.load(position, step, scalars)
            for name, array in arrays.items():
                buffer.ensure_state([name], self.initial_state(group))
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


def _scalar(key, name, value) -> np.float32:
    """A loaded per-parameter scalar (NAdam's ``mu_product``): a finite number, kept as torch keeps it (float32)."""
    scalar = np.asarray(value)
    if not (scalar.shape == () and scalar.dtype.kind in "iuf" and np.isfinite(scalar)):
        raise ValueError(f"loaded state for parameter {key}: {name!r} must be a finite number, got {value!r}")
    return np.float32(scalar)


_PLAIN = (bool, int, float, str, type(None))


def _hyperparameters(group):
    """A group's values other than its params, with their types, for comparison; None if one is not a plain value
    (a number, string or None) or a tuple of them."""
    snapshot = []
    for key, value in group.items():
        if key == "params":
            continue
        if type(value) is tuple and all(type(v) in _PLAIN for v in value):
            snapshot.append((key, tuple, tuple((type(v), v) for v in value)))
        elif type(value) in _PLAIN:
            snapshot.append((key, type(value), value))
        else:
            return None
    return snapshot


def _check_real(key, default, value):
    """A hyperparameter whose default is a number (or a tuple of numbers) must be one: an array such as
    ``np.array([1e-3])`` is refused here, before anything changes, instead of failing halfway through a step."""
    if isinstance(default, tuple):
        if not (isinstance(value, (tuple, list)) and len(value) == len(default)):
            raise ValueError(f"Invalid {key}: {value!r} (expected {len(default)} numbers, like {default})")
        for d, v in zip(default, value):
            _check_real(key, d, v)
    elif isinstance(default, bool):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"Invalid {key}: {value!r} (expected True or False)")
    elif isinstance(default, numbers.Real) and not (isinstance(value, numbers.Real)
                                                   and not isinstance(value, (bool, np.bool_))):
        raise ValueError(f"Invalid {key}: {value!r} (expected a real number, got {type(value).__name__})")


def check_torch_keywords(owner, keywords):
    """torch's implementation switches: ``foreach`` and ``fused`` are accepted and ignored (tinyreg always runs one
    fused pass); ``capturable`` and ``differentiable`` are accepted when False and refused when True."""
    for key, value in keywords.items():
        if key not in TORCH_KEYWORDS:
            raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {key!r}")
        if key in ("capturable", "differentiable") and value:
            raise ValueError(f"{owner}: {key}=True is not supported: tinyreg's update runs on the CPU outside any "
                             "captured graph" if key == "capturable" else
                             f"{owner}: differentiable=True is not supported: tinyreg's optimizer step is not "
                             "recorded by autograd")


def decay_from_torch(owner, decay, decoupled_weight_decay, default):
    """``decay=`` and torch's ``decoupled_weight_decay=`` (True: "decoupled", False: ``default``), which must not
    disagree when both are given."""
    if decoupled_weight_decay is None:
        return decay or default
    torch_decay = "decoupled" if decoupled_weight_decay else default
    if decay is not None and decay != torch_decay:
        raise ValueError(f"{owner}: decay={decay!r} contradicts decoupled_weight_decay={decoupled_weight_decay}")
    return torch_decay


class _Handle:
    """What ``register_step_*_hook`` returns: ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks, hook):
        self.hooks, self.id = hooks, _Handle._next_id
        _Handle._next_id += 1
        hooks[self.id] = hook

    def remove(self):
        self.hooks.pop(self.id, None)
