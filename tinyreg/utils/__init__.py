"""``tinyreg.utils``: ``tinyreg.utils.data`` (datasets and the DataLoader), named as in ``torch.utils``."""

from tinyreg.utils import data

__all__ = ["data"]
