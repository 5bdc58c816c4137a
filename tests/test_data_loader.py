"""batches(): one epoch of aligned mini-batches, deterministic given the generator."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyreg.data import batches
from tinyreg.random import manual_seed


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_each_index_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    index = np.arange(n)
    got = list(batches(index, 10 * index, batch_size=batch_size, shuffle=shuffle,
                       rng=np.random.default_rng(seed), drop_last=drop_last))
    sizes = [len(i) for i, _ in got]
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
    seen = np.concatenate([i for i, _ in got]) if got else np.array([], dtype=int)
    assert len(np.unique(seen)) == len(seen) == sum(sizes)  # no index twice
    if not drop_last:
        assert np.array_equal(np.sort(seen), index)  # every index once
    if not shuffle:
        assert np.array_equal(seen, index[:len(seen)])  # in order
    assert all(np.array_equal(y, 10 * i) for i, y in got)  # rows stay aligned


def order(seed, n=100):
    return np.concatenate([b for b, in batches(np.arange(n), batch_size=7,
                                               rng=np.random.default_rng(seed))])


def test_shuffle_is_determined_by_the_generator():
    assert np.array_equal(order(0), order(0))
    assert not np.array_equal(order(0), order(1))
    assert not np.array_equal(order(0), np.arange(100))


def test_consecutive_epochs_differ_with_one_generator():
    rng = np.random.default_rng(0)
    first, second = (np.concatenate([b for b, in batches(np.arange(50), batch_size=8, rng=rng)])
                     for _ in range(2))
    assert not np.array_equal(first, second)


def test_shuffle_defaults_to_tinyreg_generator():
    manual_seed(4)
    first = [b for b, in batches(np.arange(30), batch_size=4)]
    manual_seed(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, [b for b, in batches(np.arange(30),
                                                                                  batch_size=4)]))


def test_one_array_gives_one_tuples_and_lists_are_accepted():
    (batch,), = list(batches([[1, 2], [3, 4]], batch_size=2, shuffle=False))
    assert isinstance(batch, np.ndarray) and batch.tolist() == [[1, 2], [3, 4]]


def test_misaligned_arrays_are_rejected_at_call_time():
    with pytest.raises(ValueError, match=r"equal length \(first dimension\), got \[3, 4\]"):
        batches(np.zeros(3), np.zeros(4), batch_size=2)


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True, None])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match=f"positive integer value, but got batch_size={batch_size}"):
        batches(np.zeros(3), batch_size=batch_size)


def test_at_least_one_array_is_needed():
    with pytest.raises(ValueError, match="at least one array"):
        batches(batch_size=2)
