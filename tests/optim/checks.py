"""The checks every optimizer's test file runs on its own hyperparameter strategy: backends bit-identical to the
reference, torch's trajectory step by step within a derived bound, state_dict loading both ways.

The float32 bound (``assert_step_close``). tinyreg's step t starts from exactly the θ, state and step count torch's
step t starts from (teacher forcing, as in test_optim_torch.py), so the two differ only by the roundings of one step.
First-order forward error analysis: every rounding is a relative perturbation of at most ε of some value the step
computes; its effect on an output x_t is bounded by ε times the sensitivity of x_t to that value. The step is
elementwise and its values are its inputs or simple functions of them, so the sensitivity is estimated by the
step's own response to its inputs (float64, ``sensitivity``): S(x) = Σ_z |∂x_t/∂z · z| over θ_{t−1}, g and each
state array z, plus |x_t| for the rounding of the result itself. Both sides round, so

    |x − x_torch| ≤ C·ε·(|x_t| + |x_{t−1}| + S(x))        C = 16, ε the dtype's machine epsilon,

where S also carries cancellations such as RMSprop's √(v − a²) (whose derivative is large exactly where the
difference is small). In float64 the same rule is tight: ε = 2⁻⁵² there.
"""

import numpy as np
import pytest
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import import_torch
from tests.optim.cases import gradients, initial_values
from tinyreg.optim import kernels

C = 16
STEPS = 12
SHAPES = st.lists(st.sampled_from([(), (1,), (3,), (7,), (2, 5), (3, 1, 4)]), min_size=1, max_size=3)


def groups_of(params, group_settings):
    """Split ``params`` into as many groups as ``group_settings`` (round robin; a group may come out empty)."""
    return [{"params": params[i::len(group_settings)], **settings} for i, settings in enumerate(group_settings)]


def snapshot(optimizer, params):
    """θ and every state value per parameter, as NumPy copies (torch tensors or tinyreg arrays)."""
    def copy(x):
        return np.array(x.detach().numpy() if hasattr(x, "detach") else x)
    state = optimizer.state
    return [{"param": copy(p.data), **{k: copy(v) for k, v in state.get(p, {}).items()}} for p in params]


# ---- backends --------------------------------------------------------------------------------------------------------
def assert_backends_bit_identical(cls, group_settings, dtype, shapes, seed, steps=STEPS):
    """numba serial, numba parallel and numpy (the reference step itself) give the same bytes for θ and state,
    with some gradients missing (skipped parameters) along the way."""
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, steps)
    skip = np.random.default_rng(seed + 2).random((steps, len(shapes))) < 0.15
    results = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernels, "PARALLEL_MIN_SIZE", 0)
        for backend, parallel in (("numpy", False), ("numba", False), ("numba", True)):
            params = [tr.nn.Parameter(v.copy()) for v in values]
            optimizer = cls(groups_of(params, group_settings), backend=backend, parallel=parallel)
            for t, grads in enumerate(grad_steps):
                for p, g, s in zip(params, grads, skip[t]):
                    p.grad = None if s else tr.tensor(g)
                optimizer.step()
            results.append(snapshot(optimizer, params))
    for other in results[1:]:
        for ours, theirs in zip(results[0], other):
            assert ours.keys() == theirs.keys()
            for key in ours:
                assert ours[key].tobytes() == theirs[key].tobytes(), key


# ---- torch -----------------------------------------------------------------------------------------------------------
def sensitivity(cls, arguments, theta, grad, state):
    """S(x) for θ_t and each state_t of one reference step in float64 (see the module docstring)."""
    theta, grad = theta.astype(np.float64), grad.astype(np.float64)
    state = [None if s is None else s.astype(np.float64) for s in state]
    base = cls.reference_step(theta, grad, *state, **arguments)
    h = 1e-7
    total = [np.zeros_like(theta) if x is not None else None for x in base]
    inputs = [theta, grad, *state]
    for k, z in enumerate(inputs):
        if z is None:
            continue
        bumped = list(inputs)
        bumped[k] = z * (1 + h)
        out = cls.reference_step(*bumped[:2], *bumped[2:], **arguments)
        for i, (x, y) in enumerate(zip(base, out)):
            if x is not None:
                total[i] += np.abs(y - x) / h
    return total


def to_torch_state(torch, state_dict):
    """tinyreg's state_dict["state"] with every array as a torch tensor (step and scalars 0-d float32)."""
    return {index: {key: torch.tensor(np.array(value)) for key, value in entry.items()}
            for index, entry in state_dict["state"].items()}


def torch_settings(settings, decoupled_keyword):
    """A tinyreg group's settings as torch's keywords: ``decay`` becomes ``decoupled_weight_decay`` (NAdam, RAdam)
    or is dropped (torch's only form is "l2")."""
    out = {key: value for key, value in settings.items() if key != "decay"}
    if decoupled_keyword:
        out["decoupled_weight_decay"] = settings.get("decay") == "decoupled"
    return out


def assert_matches_torch(cls, group_settings, dtype, shapes, seed, *, decoupled_keyword=False, steps=STEPS,
                         common=None):
    """tinyreg runs free; before each step torch loads tinyreg's θ and state (tinyreg → torch state_dict), both step on
    the same gradients, and every θ and state value must agree within the bound. At the end a fresh tinyreg
    optimizer loads torch's state_dict (torch → tinyreg) and must hold exactly torch's state. ``common``: keyword
    arguments of both constructors."""
    common = common or {}
    torch = import_torch()
    torch.set_num_threads(1)
    values, grad_steps = initial_values(seed, shapes, dtype), gradients(seed, shapes, dtype, steps)
    params = [tr.nn.Parameter(v.copy()) for v in values]
    ours = cls(groups_of(params, group_settings), **common)
    theirs_params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    theirs = getattr(torch.optim, cls.__name__)(
        [{**group, "params": theirs_params[i::len(group_settings)]}
         for i, group in enumerate(torch_settings(s, decoupled_keyword) for s in group_settings)], **common)
    unit = np.finfo(dtype).eps
    for t, grads in enumerate(grad_steps, 1):
        before = snapshot(ours, params)
        saved = ours.state_dict()
        if saved["state"]:      # before the first step torch keeps its own fresh state (Adagrad's holds the sum)
            theirs.load_state_dict({"state": to_torch_state(torch, saved),
                                    "param_groups": theirs.state_dict()["param_groups"]})
            # torch's load_state_dict casts every state tensor but "step" to the parameter's dtype; a torch run that
            # never reloads keeps its scalar state (NAdam's mu_product) in float32, as tinyreg does: restore that.
            for q in theirs_params:
                for name in ours.scalar_state:
                    if name in theirs.state[q]:
                        theirs.state[q][name] = theirs.state[q][name].to(torch.float32)
        with torch.no_grad():
            for q, b in zip(theirs_params, before):
                q.copy_(torch.from_numpy(b["param"]))
        for p, q, g in zip(params, theirs_params, grads):
            p.grad, q.grad = tr.tensor(g), torch.tensor(np.array(g))
        arguments = [(group, ours.step_arguments(group, {"step": _steps(ours, before[k], group),
                                                         **{n: before[k].get(n, i) for n, i in
                                                            ours.scalar_state.items()}}))
                     for k, group in enumerate(_group_of(ours, p) for p in params)]
        ours.step()
        theirs.step()
        after_ours, after_theirs = snapshot(ours, params), snapshot(theirs, theirs_params)
        for k, (a, b, prev) in enumerate(zip(after_ours, after_theirs, before)):
            assert a.keys() == b.keys(), f"step {t}, param {k}: state {sorted(a)}, torch's {sorted(b)}"
            group, args = arguments[k]
            state_in = [prev.get(name, np.full_like(prev["param"], ours.initial_state(group).get(name, 0)))
                        if name in ours.state_names(group) else None for name in ours.state_keys]
            scales = sensitivity(cls, args, prev["param"], grads[k], state_in)
            for name, scale in zip(("param", *ours.state_keys), scales):
                if scale is None:
                    continue
                x, y = a[name].astype(np.float64), b[name].astype(np.float64)
                bound = C * unit * (np.abs(y) + np.abs(prev.get(name, 0.0)) + scale)
                excess = np.abs(x - y) - bound
                assert np.all(excess <= 0), (f"step {t}, param {k}: {name} differs from torch's by up to "
                                             f"{np.max(np.abs(x - y)):.3g} (bound {np.min(bound):.3g}..)")
            for name in set(a) - {"param", *ours.state_keys}:      # step, mu_product: exactly torch's
                assert np.asarray(a[name]).tobytes() == np.asarray(b[name]).tobytes(), name
    loaded = cls(groups_of([tr.nn.Parameter(v.copy()) for v in values], group_settings), **common)
    loaded.load_state_dict(theirs.state_dict())
    fresh = snapshot(loaded, [p for g in loaded.param_groups for p in g["params"]])
    theirs_state = theirs.state_dict()["state"]
    for index, entry in enumerate(fresh):
        for key, value in theirs_state.get(index, {}).items():
            assert np.asarray(entry[key]).astype(np.float64).tobytes() == \
                value.numpy().astype(np.float64).tobytes(), key


def _group_of(optimizer, p):
    return next(group for group in optimizer.param_groups if any(q is p for q in group["params"]))


def _steps(optimizer, entry, group):
    return int(entry["step"]) if "step" in entry else 0
