"""``DataLoader``: one epoch of mini-batches from a dataset, each collated into tensors, as in torch.utils.data.

    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    for epoch in range(3):
        for xb, yb in loader:      # a new shuffled order each epoch, from tinyreg's seeded generator
            ...

Everything runs in the main process: ``num_workers`` above 0 gives a warning and the same batches, loaded here (NumPy
batches of this size are built faster than worker processes could ship them; d2l's loaders ask for 4 workers). Keywords about memory and processes that change
nothing here (``pin_memory``, ``timeout``, ``prefetch_factor``, ...) are accepted.
"""

import numbers
import warnings

import numpy as np

from tinyreg.ops import stack
from tinyreg.random import generator as default_generator
from tinyreg.tensor import Tensor, tensor
from tinyreg.utils.data.dataset import TensorDataset
from tinyreg.utils.data.sampler import check_batch_size, epoch_batches, number_of_batches


def default_collate(batch):
    """Merge a list of examples into one batch, torch's rules: tensors and arrays are stacked along a new first axis,
    Python floats become a float64 tensor and ints an int64 tensor (as torch does), tuples and lists are collated
    position by position (a list comes back), dicts key by key, strings stay a list."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor._wrap(np.stack([np.asarray(b) for b in batch]))
    if isinstance(first, bool):
        return tensor(batch)
    if isinstance(first, numbers.Integral):
        return tensor(batch, dtype=np.int64)
    if isinstance(first, numbers.Real):
        return tensor(batch, dtype=np.float64)
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(first).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of ``batch_size`` examples, collated by ``collate_fn``.

    ``shuffle=True`` draws a new permutation at the start of every epoch (every ``iter(loader)``) from ``generator``
    (a ``numpy.random.Generator``), by default tinyreg's (:func:`tinyreg.random.generator`, seeded by
    ``tr.manual_seed``), so each example appears once per epoch and a seeded run repeats exactly. ``drop_last=True``
    leaves out a final short batch. ``batch_size=None`` yields single examples, uncollated, as torch does.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if num_workers > 0:
            warnings.warn(f"tinyreg's DataLoader loads every batch in the main process: num_workers={num_workers} "
                          f"is ignored (the batches are the same)", stacklevel=2)
        if sampler is not None or batch_sampler is not None:
            raise NotImplementedError("tinyreg's DataLoader has no samplers: use shuffle=True/False (and Subset or "
                                      "random_split to choose examples)")
        if batch_size is not None:
            check_batch_size(batch_size)
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.num_workers = 0
        self.pin_memory = pin_memory

    def __len__(self):
        """The number of batches in one epoch."""
        if self.batch_size is None:
            return len(self.dataset)
        return number_of_batches(len(self.dataset), self.batch_size, self.drop_last)

    def __iter__(self):
        rng = (self.generator or default_generator()) if self.shuffle else None
        if self.batch_size is None:
            order = rng.permutation(len(self.dataset)) if self.shuffle else range(len(self.dataset))
            return (self.dataset[int(i)] for i in order)
        index_sets = epoch_batches(len(self.dataset), self.batch_size, self.shuffle, self.drop_last, rng)
        return (self._fetch(indices) for indices in index_sets)

    def _fetch(self, indices):
        if isinstance(indices, slice):
            indices = np.arange(indices.start, min(indices.stop, len(self.dataset)))
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            return self.dataset.batch(indices)  # the same tensors as collating the examples one by one
        return self.collate_fn([self.dataset[int(i)] for i in indices])
