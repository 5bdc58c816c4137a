"""``tinyreg.nn``: layers, losses and state dicts with torch.nn's names and semantics."""

from tinyreg.nn.parameter import Parameter
