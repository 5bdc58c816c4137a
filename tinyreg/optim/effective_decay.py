"""Effective weight decay: how much of each weight the decay term removes, per step and once settled.

Every optimizer takes one λ, but where the λθ term enters the step decides what reaches θ (Proposition 2 of
Loshchilov & Hutter, 2019). Two numbers say it:

- **decay**, what the λθ terms took off θ in one step (the trace's ``decay`` line, :func:`record_decay`);
- **λ_eff**, the *effective decay rate*: the fraction of θ the decay removes per step **once the momentum has
  settled**, θ and v̂ held at their current values (:func:`decay_rate`, :func:`effective_decay`, the trace's
  ``lambda_eff`` line):

============  ======================================  ==================================================
decay         λ_eff                                   why
============  ======================================  ==================================================
decoupled     lr·λ                                    θ ← θ·(1 − lr·λ), the same for every weight (torch AdamW)
paper         η_t·λ                                   θ ← θ·(1 − η_t·λ), the same for every weight (Alg. 2 l. 12)
l2, Adam      lr·λ / (√v̂_t + ε)                       λθ joins g_t, so it is divided by √v̂_t like the gradient:
                                                      **per weight**, smaller where the gradients were large
l2, SGD       γ·λ, or γ·λ·(1 − τ)/(1 − μ) with μ > 0  λθ joins g_t; the momentum buffer b keeps adding it
l2, SGDW      lr·λ / (1 − β₁)                         λθ joins g_t inside m_t (Alg. 1 line 8)
l2, others    each optimizer's own                    its class's ``coupled_lambda_eff`` (RMSprop, Adagrad,
                                                      NAdam and RAdam divide by their √v like Adam; Lion's
                                                      sign() has none: λθ only tips the sign)
============  ======================================  ==================================================

Each optimizer declares its own formula (``lambda_eff`` and ``coupled_decay`` in its file); this module only
evaluates and tabulates them.

Decoupled decay removes λ_eff·θ_{t−1} at every step. Coupled decay joins g_t and so the momentum buffer, which is
linear in g: it splits into a gradient part and d_t, the λθ part, which follows the buffer's own rule with λθ_{t−1}
in place of g_t. The decay this step is what d_t moves θ by:

- torch's SGD: d_1 = λθ_0, d_t = μ·d_{t−1} + (1 − τ)·λθ_{t−1}; decay = γ·d_t (γ·(λθ_{t−1} + μ·d_t) with Nesterov);
- SGDW: d_t = β₁·d_{t−1} + lr·λθ_{t−1}; decay = d_t;
- Adam: d_t = β₁·d_{t−1} + (1 − β₁)·λθ_{t−1}, d̂_t = d_t/(1 − β₁ᵗ); decay = lr·d̂_t/(√v̂_t + ε).

So the two numbers differ while a buffer fills. SGD with μ = 0.9 removes γλθ on its first step, exactly as much as
SGDW, and approaches λ_eff·θ = γλθ/(1 − μ), ten times more, as the buffer fills; the λ_eff of SGD and SGDW therefore
compares where each decay is heading, not step 1. For Adam the bias-corrected weights of d̂_t sum to 1, so the decay
is λ_eff·θ_{t−1} exactly on the first step and close to it while θ moves slowly. tests/test_trace_effective_decay.py
checks both numbers against the optimizers and torch.
"""

import textwrap

import numpy as np

from tinyreg.optim.flat import param_array
from tinyreg.optim.optimizer import schedule_multiplier
from tinyreg.optim.reference import REMOVED


def record_decay(optimizer, group, theta_prev, d_prev, *, step, theta=None, element, state_after, record):
    """Record the decay that reached θ in one step, then λ_eff, for one weight; return d_t (or None).

    ``theta_prev`` θ_{t−1}; ``d_prev`` d_{t−1}, the λθ part of the momentum buffer before this step (None for none:
    a trace that starts mid-training attributes only the λθ of the steps it saw); ``step`` the steps taken before
    this one; ``theta`` θ after the decoupled line ("decoupled", "paper"); ``element`` the step's traced lines (v̂_t
    and the like); ``state_after`` the weight's optimizer state after the step (its ``state`` entry). ``record(name, value, equation, source)`` as in :mod:`tinyreg.optim.reference`: where the decay
    runs through a buffer "lambda_theta" (λθ_{t−1}), "d_t" (and Adam's "d_hat"); then "decay" and "lambda_eff".
    Returns d_t, None when no buffer carries the decay.
    """
    d_t = None
    if group["decay"] in ("decoupled", "paper"):
        record("decay", theta_prev - theta, "decay ← θ_{t−1} − θ", REMOVED)
    else:
        d_t = optimizer.coupled_decay(group, theta_prev, 0.0 if d_prev is None else d_prev, step, element, record)
    equation, rate = optimizer.lambda_eff(group, state_after or None, schedule_multiplier(group))
    record("lambda_eff", np.asarray(theta_prev).dtype.type(np.nan if rate is None else rate), equation,
           "rate once settled")
    return d_t


class EffectiveDecay:
    """The effective decay rate of every weight: ``.rows`` (one dict per parameter: name, group, shape, t, rate),
    ``str()`` a table of each tensor's distribution, ``.to_dict()`` plain data; ``.rates[name]`` the array of λ_eff
    (None for Adam + L2 before its first step, when there is no v̂ yet).

    ``t`` is the parameter's step count from the optimizer's state (Adam's v̂_t depends on it). torch's SGD keeps no
    step count, and its λ_eff depends on none, so for SGD ``t`` is None and the table has no t column."""

    QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)

    def __init__(self, optimizer_name, groups, rows):
        self.optimizer_name = optimizer_name
        self.groups = groups        # per group: lr, weight_decay, decay, equation
        self.rows = rows
        self.rates = {row["name"]: row["rate"] for row in rows}

    def quantiles(self, name):
        """min, 25%, median, 75%, max of λ_eff over the tensor ``name`` (None before Adam + L2's first step)."""
        rate = self.rates[name]
        return None if rate is None else [float(q) for q in np.quantile(rate, self.QUANTILES)]

    def to_dict(self) -> dict:
        return {"optimizer": self.optimizer_name, "groups": self.groups, "quantiles_at": list(self.QUANTILES),
                "parameters": [{**{k: v for k, v in row.items() if k != "rate"}, "shape": list(row["shape"]),
                                "quantiles": self.quantiles(row["name"])} for row in self.rows]}

    def __str__(self) -> str:
        lines = [textwrap.fill(f"effective weight decay of {self.optimizer_name} (λ_eff: the settled fraction of θ "
                               "the decay removes per step)", 100, subsequent_indent="  ")]
        for g, group in enumerate(self.groups):
            head = f"  group {g}, lr={group['lr']:g}, λ={group['weight_decay']:g}, {group['decay']!r}: "
            if group["weight_decay"] == 0:
                text = head + "no decay"
            elif "/ (√" in group["equation"]:
                text = head + (f"{group['equation']}, per weight (decoupled would be "
                               f"{group['lr'] * group['weight_decay']:.3g})")
            else:
                text = head + f"{group['equation']}, the same for every weight"
            lines.append(textwrap.fill(text, 100, subsequent_indent="      "))
        name_width = max([10, *(len(row["name"]) for row in self.rows)])
        counts = any(row["t"] is not None for row in self.rows)

        def t_column(t):
            return f" {t:>4}" if counts else ""

        lines.append(f"  {'parameter':<{name_width}} {'shape':<12}{t_column('t')}" + "".join(
            f"{label:>11}" for label in ("min", "25%", "median", "75%", "max")))
        for row in self.rows:
            start = f"  {row['name']:<{name_width}} {str(tuple(row['shape'])):<12}{t_column(row['t'])}"
            quantiles = self.quantiles(row["name"])
            lines.append(start + ("   (no step yet: λ_eff needs v̂_t)" if quantiles is None else
                                  "".join(f"{q:>11.3g}" for q in quantiles)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def effective_decay(optimizer, named_parameters=None) -> EffectiveDecay:
    """λ_eff, the rate the decay settles to, for every weight that ``optimizer`` updates, at its *last* step.

    ``named_parameters``: optional ``(name, parameter)`` pairs (e.g. ``model.named_parameters()``) to name the rows
    and choose which to report; default every parameter, named ``params[i]`` by its state_dict index. Reads the
    state after the step (v_t, t) and the group's current lr: call it before ``scheduler.step()`` to see exactly
    what the step used.
    """
    names = None if named_parameters is None else {id(p): name for name, p in named_parameters}
    state = optimizer.state
    groups, rows, index = [], [], 0
    for g, group in enumerate(optimizer.param_groups):
        equation, _ = optimizer.lambda_eff(group, None, schedule_multiplier(group))
        groups.append(dict(lr=float(group["lr"]), weight_decay=float(group["weight_decay"]), decay=group["decay"],
                           equation=equation))
        for p in group["params"]:
            name = f"params[{index}]" if names is None else names.get(id(p))
            index += 1
            if name is None:
                continue
            entry, theta = state.get(p), param_array(p)
            t = int(entry["step"]) if entry is not None and "step" in entry else None if not optimizer.saves_step \
                else 0
            if group["weight_decay"] == 0:
                rate = np.zeros_like(theta)
            else:
                _, rate = optimizer.lambda_eff(group, entry, schedule_multiplier(group))
                rate = None if rate is None else np.broadcast_to(np.asarray(rate, theta.dtype), theta.shape).copy()
            rows.append(dict(name=name, group=g, shape=tuple(theta.shape), t=t, rate=rate))
    if names is not None and len(rows) != len(names):
        raise ValueError("effective_decay: some of the named parameters are not in the optimizer's param groups")
    return EffectiveDecay(type(optimizer).__name__, groups, rows)
