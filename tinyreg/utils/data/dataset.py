"""Datasets as torch.utils.data defines them: anything with ``__getitem__(i)`` and ``__len__``.

``TensorDataset`` pairs tensors along their first axis; ``Subset`` views some indices of a dataset; ``random_split``
cuts a dataset into random non-overlapping subsets.
"""

import math

import numpy as np

from tinyreg.random import generator as default_generator
from tinyreg.tensor import Tensor


class Dataset:
    """The base class: a subclass defines ``__getitem__(index)`` (one example) and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"Subclasses of Dataset should implement __getitem__ ({type(self).__name__} does "
                                  f"not)")


class TensorDataset(Dataset):
    """Example i is ``(t[i] for t in tensors)``: features and labels that share their first axis."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        if any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError(f"Size mismatch between tensors: first dimensions "
                             f"{[tuple(np.shape(t))[:1] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])

    def batch(self, indices):
        """Examples ``indices`` already collated: each tensor indexed once, as ``default_collate`` of the single
        examples would give (the DataLoader's fast path; a Python loop over the examples costs ~100x more)."""
        return [Tensor._wrap(np.asarray(t)[indices]) for t in self.tensors]


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order (no copy)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def _split_lengths(lengths, n):
    """Counts from ``lengths``: integers summing to n, or fractions summing to 1 (torch's rule: each fraction's
    floor, then the remainder handed out one by one from the first subset on)."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    return list(lengths)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given ``lengths`` (counts, or
    fractions such as ``[0.8, 0.2]``). The permutation comes from ``generator`` (a ``numpy.random.Generator``),
    by default tinyreg's seeded one, so ``tr.manual_seed`` fixes the split."""
    counts = _split_lengths(lengths, len(dataset))
    order = (generator or default_generator()).permutation(len(dataset)).tolist()
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - count:end]) for count, end in zip(counts, ends)]
