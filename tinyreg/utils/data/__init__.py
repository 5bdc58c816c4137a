"""``tinyreg.utils.data``: datasets and mini-batch loading with torch.utils.data's names and semantics.

    from tinyreg.utils import data
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True)

| file          | contents                                                       |
|---------------|----------------------------------------------------------------|
| dataset.py    | Dataset, TensorDataset, Subset, random_split                   |
| dataloader.py | DataLoader, default_collate                                    |
| sampler.py    | the index sets of one epoch (also used by tinyreg.data.batches) |
"""

from tinyreg.utils.data.dataloader import DataLoader, default_collate
from tinyreg.utils.data.dataset import Dataset, Subset, TensorDataset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
