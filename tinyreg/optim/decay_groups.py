"""Which parameters get weight decay: the usual two param groups, and a report that says who is in which.

Decaying a bias or a LayerNorm gain/shift pulls it toward 0, which is not the "small weights" prior decay is meant
to express (a LayerNorm gain of 0 switches the layer off), so the common recipe decays only the weight matrices.
By default that is every parameter with ``ndim <= 1`` left out — biases and norm parameters are vectors. optax calls
the same idea a *mask*.

    groups = tr.optim.decay_groups(model, weight_decay=1e-2)
    print(groups.report)                      # which named parameters are decayed, which are not
    opt = tr.optim.AdamW(groups, lr=1e-3)     # the decay is per group: weight_decay=0 for the second
"""

import math
from dataclasses import dataclass


def default_no_decay(name, param):
    """Biases and normalisation parameters: every parameter with at most one dimension."""
    return param.ndim <= 1


@dataclass(frozen=True)
class DecayReport:
    """The decision per named parameter; ``print()`` it for a table."""

    weight_decay: float
    decayed: tuple          # ((name, shape), ...)
    not_decayed: tuple

    def __str__(self):
        def count(entries):
            return sum(math.prod(shape) for _, shape in entries)

        width = max((len(name) for name, _ in self.decayed + self.not_decayed), default=4)
        lines = [f"weight decay {self.weight_decay:g} on {len(self.decayed)} of "
                 f"{len(self.decayed) + len(self.not_decayed)} tensors ({count(self.decayed):,} of "
                 f"{count(self.decayed) + count(self.not_decayed):,} values)"]
        lines += [f"  decayed      {name:<{width}}  {shape}" for name, shape in self.decayed]
        lines += [f"  not decayed  {name:<{width}}  {shape}" for name, shape in self.not_decayed]
        return "\n".join(lines)


class DecayGroups(list):
    """The two param-group dicts (pass the list to an optimizer as is) plus ``.report``."""

    report: DecayReport


def decay_groups(model, weight_decay, no_decay=default_no_decay):
    """``[{"params": decayed, "weight_decay": weight_decay}, {"params": the rest, "weight_decay": 0.0}]``.

    ``model`` is anything with ``named_parameters()`` (a :class:`tinyreg.nn.Module`); ``no_decay(name, param)``
    returns True for parameters to leave undecayed (default: ``ndim <= 1``). Both groups are always present, so
    group indices stay fixed (an empty group is allowed).
    """
    decayed, not_decayed = [], []
    for name, param in model.named_parameters():
        (not_decayed if no_decay(name, param) else decayed).append((name, param))
    groups = DecayGroups([{"params": [p for _, p in decayed], "weight_decay": weight_decay},
                          {"params": [p for _, p in not_decayed], "weight_decay": 0.0}])
    groups.report = DecayReport(weight_decay, tuple((n, tuple(p.shape)) for n, p in decayed),
                                tuple((n, tuple(p.shape)) for n, p in not_decayed))
    return groups
