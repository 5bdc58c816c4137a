"""Effective weight decay: how much of each weight one step's decay term really removes.

Every optimizer takes one λ, but where the λθ term enters the step decides what reaches θ (Proposition 2 of
Loshchilov & Hutter, 2019). The **effective decay rate** λ_eff is the fraction of θ_{t−1} the decay term removes per
step, so the decay reaching θ is λ_eff·θ_{t−1}:

==========  ========================================  ====================================================
decay       λ_eff                                     why
==========  ========================================  ====================================================
decoupled   lr·λ                                      θ ← θ·(1 − lr·λ), the same for every weight (torch AdamW)
paper       η_t·λ                                     θ ← θ·(1 − η_t·λ), the same for every weight (Alg. 2 l. 12)
l2, Adam    lr·λ / (√v̂_t + ε)                         λθ joins g_t, so it is divided by √v̂_t like the gradient:
                                                      **per weight**, smaller where the gradients were large
l2, SGD     γ·λ, or γ·λ·(1 − τ)/(1 − μ) with μ > 0    λθ joins g_t; the momentum buffer b keeps adding it
l2, SGDW    lr·λ / (1 − β₁)                           λθ joins g_t inside m_t (Alg. 1 line 8)
==========  ========================================  ====================================================

λθ entering g_t is averaged by the momentum with earlier steps' λθ (m̂_t for Adam, b_t for SGD). The rates above are
the decay once that average has settled, with θ and v̂ held at their current values. For Adam the bias-corrected
weights of m̂_t sum to 1, so lr·λθ/(√v̂_t + ε) is the decay's share of the step (exactly so on the first step, where
m̂_1 = g_1); for SGD the buffer's weights sum to (1 − τ)/(1 − μ), hence the momentum factor (β₁ for SGDW, which has no
dampening). tests/test_trace_effective_decay.py checks both readings against the optimizers.

:func:`decay_rate` and :func:`decay_equation` are the formula (:mod:`tinyreg.optim.trace` shows them for each
watched element); :func:`effective_decay` reports it for every weight of an optimizer after a step, with its
distribution per tensor.
"""

import textwrap

import numpy as np

from tinyreg.optim.adam import Adam
from tinyreg.optim.sgd import SGD, SGDW


def decay_equation(family, group) -> str:
    """λ_eff's equation for a param group of an optimizer ``family`` ("adam" | "sgd" | "sgdw"), as in the table."""
    decay = group["decay"]
    if decay in ("decoupled", "paper"):
        return "λ_eff ← lr·λ" if decay == "decoupled" else "λ_eff ← η_t·λ"
    if family == "adam":
        return "λ_eff ← lr·λ / (√v̂_t + ε)"
    if family == "sgdw":
        return "λ_eff ← lr·λ / (1 − β₁)"
    if family == "sgd":
        return "λ_eff ← γ·λ" if float(group["momentum"]) == 0 else "λ_eff ← γ·λ·(1 − τ)/(1 − μ)"
    raise ValueError(f"unknown optimizer family {family!r} (expected 'adam', 'sgd' or 'sgdw')")


def decay_rate(family, group, *, v_hat=None, eta_t=1.0):
    """λ_eff for a param group (:func:`decay_equation` evaluated).

    ``v_hat`` (Adam with decay="l2" only) is v̂_t for the weights, as the step computed it (v_t^max/(1 − β₂ᵗ) with
    AMSGrad); the result then has its shape and dtype. Otherwise λ_eff is a Python float, the same for every weight.
    """
    lr, lambda_ = float(group["lr"]), float(group["weight_decay"])
    decay = group["decay"]
    if decay == "decoupled":
        return lr * lambda_
    if decay == "paper":
        return eta_t * lambda_
    if family == "adam":
        if v_hat is None:
            raise ValueError("Adam with decay='l2' decays each weight by lr·λ/(√v̂_t + ε): v_hat is needed")
        return lr * lambda_ / (np.sqrt(v_hat) + float(group["eps"]))
    if family == "sgdw":
        return lr * lambda_ / (1 - float(group["momentum"]))
    if family == "sgd":
        momentum = float(group["momentum"])
        return lr * lambda_ if momentum == 0 else lr * lambda_ * (1 - float(group["dampening"])) / (1 - momentum)
    raise ValueError(f"unknown optimizer family {family!r} (expected 'adam', 'sgd' or 'sgdw')")


def family_of(optimizer) -> str:
    """"adam" (Adam, AdamW), "sgd" (torch's SGD) or "sgdw" (Algorithm 1): which reference step ``optimizer`` runs."""
    for cls, family in ((Adam, "adam"), (SGDW, "sgdw"), (SGD, "sgd")):
        if isinstance(optimizer, cls):
            return family
    raise TypeError(f"tinyreg.optim can explain SGD, SGDW, Adam and AdamW, not {type(optimizer).__name__}")


def adam_v_hat(group, v, step):
    """v̂_t ← v_t / (1 − β₂ᵗ) from Adam's state after step ``t = step`` (the same arithmetic as Alg. 2 line 10)."""
    return v / (1 - float(group["betas"][1]) ** step)


class EffectiveDecay:
    """The effective decay rate of every weight: ``.rows`` (one dict per parameter: name, group, shape, t, rate),
    ``str()`` a table of each tensor's distribution, ``.to_dict()`` plain data; ``.rates[name]`` the array of λ_eff
    (None for Adam + L2 before its first step, when there is no v̂ yet)."""

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
        lines = [f"effective weight decay of {self.optimizer_name} (λ_eff: the fraction of θ the decay term removes "
                 "per step)"]
        for g, group in enumerate(self.groups):
            head = f"  group {g}, lr={group['lr']:g}, λ={group['weight_decay']:g}, {group['decay']!r}: "
            if group["weight_decay"] == 0:
                text = head + "no decay"
            elif group["equation"].endswith("(√v̂_t + ε)"):
                text = head + (f"{group['equation']}, per weight (decoupled would be "
                               f"{group['lr'] * group['weight_decay']:.3g})")
            else:
                text = head + f"{group['equation']}, the same for every weight"
            lines.append(textwrap.fill(text, 100, subsequent_indent="      "))
        name_width = max([10, *(len(row["name"]) for row in self.rows)])
        lines.append(f"  {'parameter':<{name_width}} {'shape':<12} {'t':>4}" + "".join(
            f"{label:>11}" for label in ("min", "25%", "median", "75%", "max")))
        for row in self.rows:
            start = f"  {row['name']:<{name_width}} {str(tuple(row['shape'])):<12} {row['t']:>4}"
            quantiles = self.quantiles(row["name"])
            lines.append(start + ("   (no step yet: λ_eff needs v̂_t)" if quantiles is None else
                                  "".join(f"{q:>11.3g}" for q in quantiles)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def effective_decay(optimizer, named_parameters=None) -> EffectiveDecay:
    """λ_eff for every weight that ``optimizer`` updates, as its *last* step applied it.

    ``named_parameters``: optional ``(name, parameter)`` pairs (e.g. ``model.named_parameters()``) to name the rows
    and choose which to report; default every parameter, named ``params[i]`` by its state_dict index. Reads the
    state after the step (v_t, t) and the group's current lr: call it before ``scheduler.step()`` to see exactly
    what the step used.
    """
    family = family_of(optimizer)
    names = None if named_parameters is None else {id(p): name for name, p in named_parameters}
    state = optimizer.state
    groups, rows, index = [], [], 0
    for g, group in enumerate(optimizer.param_groups):
        per_weight = family == "adam" and group["decay"] == "l2" and group["weight_decay"] != 0
        groups.append(dict(lr=float(group["lr"]), weight_decay=float(group["weight_decay"]), decay=group["decay"],
                           equation=decay_equation(family, group)))
        for p in group["params"]:
            name = f"params[{index}]" if names is None else names.get(id(p))
            index += 1
            if name is None:
                continue
            entry = state.get(p)
            t = int(entry["step"]) if entry is not None and "step" in entry else 0
            if per_weight and entry is None:
                rate = None
            elif per_weight:
                v = entry["max_exp_avg_sq"] if group["amsgrad"] else entry["exp_avg_sq"]
                rate = decay_rate(family, group, v_hat=adam_v_hat(group, v, t))
            elif group["weight_decay"] == 0:
                rate = np.zeros_like(p.data)
            else:
                rate = np.full(p.data.shape, decay_rate(family, group, eta_t=optimizer._eta(group)), p.data.dtype)
            rows.append(dict(name=name, group=g, shape=tuple(p.data.shape), t=t, rate=rate))
    if names is not None and len(rows) != len(names):
        raise ValueError("effective_decay: some of the named parameters are not in the optimizer's param groups")
    return EffectiveDecay(type(optimizer).__name__, groups, rows)
