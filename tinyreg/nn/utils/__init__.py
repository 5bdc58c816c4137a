"""``nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``), named as in ``torch.nn.utils``."""

from tinyreg.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
