"""``nn.Parameter``: a tensor that is a learnable weight of a model.

A Parameter is an ordinary :class:`~tinyreg.tensor.Tensor` that requires gradients. Its only other job is to be
recognised: assigning one as an attribute of a :class:`~tinyreg.nn.Module` registers it, so it appears in
``parameters()``, ``named_parameters()`` and ``state_dict()``. Results of ops on Parameters are plain Tensors.
"""

import numpy as np

from tinyreg.tensor import Tensor, _to_array


class Parameter(Tensor):
    """A learnable tensor: ``requires_grad=True`` by default and registered when assigned to a Module.

    Like ``torch.nn.Parameter``, wrapping a Tensor or a NumPy array shares its memory (no copy), so
    ``Parameter(w)`` writes into ``w``'s memory for a tensor ``w``; lists and numbers are converted with torch's default
    dtypes.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data._array
        self._init(data if isinstance(data, np.ndarray) else _to_array(data))
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
