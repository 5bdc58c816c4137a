"""``tinyreg.autograd``: torch's names for the parts of autograd that user code touches.

- :class:`Function`: a custom differentiable function over Tensors, written as for ``torch.autograd.Function``;
- :func:`gradcheck`: backward's gradients against central finite differences (also ``tr.gradcheck``);
- ``no_grad``, ``enable_grad``, ``set_grad_enabled``: grad mode (also at the top level, ``tr.no_grad()``).
"""

from tinyreg.autograd.function import BackwardNode, Function
from tinyreg.grad_mode import enable_grad, no_grad, set_grad_enabled
from tinyreg.gradcheck import GradcheckError, gradcheck

__all__ = ["BackwardNode", "Function", "GradcheckError", "enable_grad", "gradcheck", "no_grad", "set_grad_enabled"]
