"""Containers: ``Sequential`` (modules applied in order) and ``ModuleList`` (a registered list of modules).

Children are registered under the names "0", "1", ..., which is why parameters are named ``"0.weight"`` or
``"layers.2.bias"``, exactly as in torch.
"""

import operator
from collections import OrderedDict

from tinyreg.nn.module import Module


def _absolute_index(index, size):
    index = operator.index(index)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range")
    return index % size


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children kept in order, counted, iterated and appended by position."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """``Sequential(m0, m1, ...)`` computes ``m_last(...m1(m0(x)))``; ``Sequential(OrderedDict(name=module))`` names
    the children. Supports ``len``, iteration, ``model[i]`` and slices (a Sequential keeping the original names)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_absolute_index(index, len(self))]

    def __setitem__(self, index, module):
        key = list(self._modules)[_absolute_index(index, len(self))]
        setattr(self, key, module)


class ModuleList(_ModuleSequence):
    """A list whose modules are registered (so their parameters are the model's), named by position."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_absolute_index(index, len(self)))]

    def __setitem__(self, index, module):
        setattr(self, str(_absolute_index(index, len(self))), module)

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self
