"""tinyreg.utils.data against torch.utils.data where the outcome is deterministic: lengths, batch shapes and dtypes,
default collate, drop_last, split sizes; and the seeded parts on their own terms: each example once per epoch, a new
order each epoch, the same order after the same seed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyreg as tr
from tests.helpers import import_torch, numpy_dtype
from tinyreg.utils import data


def datasets(n):
    """The same (features, labels) dataset in tinyreg and torch."""
    torch = import_torch()
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    return data.TensorDataset(tr.tensor(x), tr.tensor(y)), torch.utils.data.TensorDataset(torch.tensor(x),
                                                                                        torch.tensor(y))


@given(n=st.integers(0, 30), batch_size=st.integers(1, 8), drop_last=st.booleans())
def test_unshuffled_batches_equal_torchs(n, batch_size, drop_last):
    torch = import_torch()
    ours, theirs = datasets(n)
    loader = data.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    expected = torch.utils.data.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(expected) and loader.dataset is ours and len(ours) == len(theirs)
    batches = list(loader)
    assert len(batches) == len(list(expected))
    for got, want in zip(batches, expected):
        assert isinstance(got, list) and len(got) == 2
        for a, b in zip(got, want):
            assert a.dtype == numpy_dtype(b.dtype) and tuple(a.shape) == tuple(b.shape)
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def epoch_order(loader):
    """The labels (= example indices) in the order one epoch of ``loader`` yields them."""
    return np.concatenate([y.numpy() for _, y in loader] or [np.array([], dtype=np.int64)])


@given(n=st.integers(1, 40), batch_size=st.integers(1, 9), drop_last=st.booleans(), seed=st.integers(0, 1000))
def test_shuffle_visits_each_example_once_per_epoch_and_follows_the_seed(n, batch_size, drop_last, seed):
    ours, _ = datasets(n)
    loader = data.DataLoader(ours, batch_size=batch_size, shuffle=True, drop_last=drop_last)
    tr.manual_seed(seed)
    epochs = [epoch_order(loader) for _ in range(3)]
    full = n - n % batch_size if drop_last else n
    for order in epochs:
        assert len(order) == full and len(set(order.tolist())) == full  # no example twice
        if not drop_last:
            assert sorted(order.tolist()) == list(range(n))
    tr.manual_seed(seed)
    assert np.array_equal(epoch_order(loader), epochs[0]), "the same seed gives the same order"
    if n >= 10:
        assert not np.array_equal(epochs[0], epochs[1]), "each epoch draws a new order"


def test_rows_stay_aligned_when_shuffled():
    ours, _ = datasets(20)
    for x, y in data.DataLoader(ours, batch_size=6, shuffle=True):
        np.testing.assert_array_equal(x.numpy()[:, 0], 3 * y.numpy())


def test_default_collate_matches_torchs_on_tuples_of_tensors_arrays_and_numbers():
    torch = import_torch()
    examples = [(np.float32(i) * np.ones(2, dtype=np.float32), i, 0.5 * i, i % 2 == 0) for i in range(4)]
    ours = data.default_collate([(tr.tensor(a), *rest) for a, *rest in examples])
    theirs = torch.utils.data.default_collate([(torch.tensor(a), *rest) for a, *rest in examples])
    assert type(ours) is type(theirs) is list
    for a, b in zip(ours, theirs):
        assert a.dtype == numpy_dtype(b.dtype) and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    arrays = data.default_collate([np.ones((2, 2), dtype=np.int32)] * 3)
    assert tr.is_tensor(arrays) and arrays.shape == (3, 2, 2) and arrays.dtype == np.int32
    assert data.default_collate([{"x": 1.0, "name": "a"}, {"x": 2.0, "name": "b"}])["name"] == ["a", "b"]


def test_a_custom_dataset_and_collate_fn():
    class Squares(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return tr.tensor([float(i)]), i * i

    x, y = next(iter(data.DataLoader(Squares(), batch_size=4)))
    assert x.shape == (4, 1) and y.tolist() == [0, 1, 4, 9] and y.dtype == np.int64
    sums = list(data.DataLoader(Squares(), batch_size=2, collate_fn=lambda batch: sum(s for _, s in batch)))
    assert sums == [1, 13, 16]
    assert [y for _, y in data.DataLoader(Squares(), batch_size=None)] == [0, 1, 4, 9, 16]


def test_workers_load_in_the_main_process_samplers_are_refused_harmless_keywords_accepted():
    ours, _ = datasets(4)
    with pytest.warns(UserWarning, match="num_workers=4 is ignored"):
        with_workers = data.DataLoader(ours, batch_size=2, num_workers=4)
    assert [x.tolist() for x, _ in with_workers] == [x.tolist() for x, _ in data.DataLoader(ours, batch_size=2)]
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        data.DataLoader(ours, num_workers=-1)
    with pytest.raises(NotImplementedError, match="no samplers"):
        data.DataLoader(ours, sampler=[0, 1])
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        data.DataLoader(ours, batch_size=0)
    loader = data.DataLoader(ours, batch_size=2, num_workers=0, pin_memory=True, persistent_workers=False, timeout=0)
    assert len(list(loader)) == 2
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        data.TensorDataset(tr.ones(3), tr.ones(4))


@pytest.mark.parametrize("lengths", [[7, 3], [0.7, 0.3], [0.5, 0.25, 0.25], [0.34, 0.33, 0.33], [10, 0]])
def test_random_split_sizes_match_torch_and_partition_the_dataset(lengths):
    torch = import_torch()
    ours = data.random_split(range(10), lengths)
    theirs = torch.utils.data.random_split(range(10), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(10))
    assert all(isinstance(s, data.Subset) for s in ours)
    tr.manual_seed(5)
    first = [list(s) for s in data.random_split(range(10), lengths)]
    tr.manual_seed(5)
    assert first == [list(s) for s in data.random_split(range(10), lengths)]


def test_random_split_refuses_lengths_that_do_not_add_up():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        data.random_split(range(10), [5, 4])


def test_subset_and_loader_over_a_subset():
    ours, _ = datasets(10)
    subset = data.Subset(ours, [9, 2, 4])
    assert len(subset) == 3 and subset[0][1].item() == 9
    (x, y), = list(data.DataLoader(subset, batch_size=3))
    assert y.tolist() == [9, 2, 4] and x.shape == (3, 3)
