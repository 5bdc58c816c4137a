"""tr.save / tr.load: bit-exact round trips of nested state, atomic writes, and refusal of damaged or unsafe files."""

import math
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyreg as tr
from tinyreg import nn
from tinyreg.serialization import load, save

# ---- strategies and an exact comparison --------------------------------------------------------------------------
ARRAY_DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_,
                                np.complex64, ">f8", "<U3"])


@st.composite
def numpy_arrays(draw):
    dtype = np.dtype(draw(ARRAY_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    array = draw(hnp.arrays(dtype, shape))
    return np.asfortranarray(array) if draw(st.booleans()) else array


scalars = (st.none() | st.booleans() | st.integers(-2**80, 2**80) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=8))
numpy_scalars = numpy_arrays().filter(lambda a: a.size > 0).map(lambda a: a.flat[0])
keys = st.text(max_size=6) | st.integers(-5, 10) | st.tuples(st.integers(0, 3), st.text(max_size=2))
leaves = scalars | numpy_arrays() | numpy_scalars | numpy_arrays().filter(lambda a: a.dtype.kind == "f").map(tr.tensor)
nested = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
                      | st.dictionaries(keys, inner, max_size=3)
                      | st.dictionaries(keys, inner, max_size=3).map(OrderedDict), max_leaves=12)


def assert_identical(a, b, where="root"):
    """Same types, same nesting and order, the same bits in every number and array."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for (ka, va), kb in zip(a.items(), b):
            assert type(ka) is type(kb), f"{where}: key type"
            assert_identical(va, b[kb], f"{where}.{ka}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}.{i}")
    elif isinstance(a, tr.Tensor):
        assert a.requires_grad == b.requires_grad, where
        assert_identical(np.asarray(a), np.asarray(b), where)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), f"{where}: bits differ"
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@given(obj=nested)
def test_round_trip_is_bit_exact(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("save") / "state.npz"
    save(obj, path)
    assert_identical(obj, load(path))


def test_model_and_optimizer_state_round_trip(tmp_path):
    tr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    optimizer_state = {"state": {0: {"step": 3, "exp_avg": np.arange(12.0).reshape(4, 3)},
                                 5: {"step": np.float32(3.0), "momentum_buffer": None}},
                       "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "weight_decay": 0.0, "params": [0, 1, 5],
                                         "nesterov": False, "maximize": False}]}
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer_state, "epoch": 7, "name": "run-1"}
    tr.save(checkpoint, tmp_path / "checkpoint.npz")
    restored = tr.load(tmp_path / "checkpoint.npz")
    assert_identical(checkpoint, restored)
    assert list(restored["optimizer"]["state"]) == [0, 5]  # int keys stay ints
    tr.manual_seed(1)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    fresh.load_state_dict(restored["model"])
    x = tr.randn(5, 3)
    np.testing.assert_array_equal(np.asarray(fresh(x)), np.asarray(model(x)))


def test_file_is_a_plain_npz_with_dotted_keys_and_no_extension_added(tmp_path):
    path = tmp_path / "weights"
    save({"model": {"0.weight": np.ones((2, 2)), "a": {"b": np.zeros(1)}}, "a.b": np.full(1, 2.0)}, path)
    assert os.listdir(tmp_path) == ["weights"]
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"__structure__", "model.0.weight", "model.a.b", "a.b"}
        np.testing.assert_array_equal(archive["model.0.weight"], np.ones((2, 2)))
    assert_identical(load(path)["a.b"], np.full(1, 2.0))


def test_colliding_dotted_paths_stay_distinct(tmp_path):
    obj = {"a.b": np.array([1]), "a": {"b": np.array([2])}, "__structure__": np.array([3])}
    save(obj, tmp_path / "x.npz")
    assert_identical(load(tmp_path / "x.npz"), obj)


# ---- atomic writes -----------------------------------------------------------------------------------------------
def test_a_failure_during_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "state.npz"
    old = {"w": np.arange(5.0)}
    save(old, path)
    old_bytes = path.read_bytes()
    writes, write_array = [], np.lib.format.write_array

    def write_then_fail(member, array, allow_pickle):
        writes.append(array.shape)
        if len(writes) == 3:  # the structure and one array are in the temporary file already
            raise OSError("disk full")
        write_array(member, array, allow_pickle=allow_pickle)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.zeros(1000), "v": np.ones(3), "u": np.ones(2)}, path)
    assert len(writes) == 3
    assert path.read_bytes() == old_bytes and os.listdir(tmp_path) == ["state.npz"]  # no temporary file left
    monkeypatch.undo()
    assert_identical(load(path), old)


def test_unsupported_objects_are_refused_before_touching_the_file(tmp_path):
    path = tmp_path / "state.npz"
    save({"ok": 1}, path)
    for obj, message in [({"opt": {"fn": print}}, "type builtin_function_or_method at 'opt.fn'"),
                         ({"s": {1, 2}}, "type set at 's'"),
                         ({"a": np.array([None, 1], dtype=object)}, "dtype object"),
                         ({np.int64(1): 2}, "keys must be Python")]:
        with pytest.raises(TypeError, match=message):
            save(obj, path)
    assert load(path) == {"ok": 1} and os.listdir(tmp_path) == ["state.npz"]


# ---- damaged and unsafe files ------------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "state.npz"
    save({"w": np.arange(1000.0), "step": 3}, path)
    return path


@pytest.mark.parametrize("keep", [0, 10, 0.5, 0.99])
def test_a_truncated_file_is_refused_naming_it(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[:keep if isinstance(keep, int) else int(len(data) * keep)])
    with pytest.raises(ValueError, match=f"{saved.name}.*corrupt or truncated"):
        load(saved)


def test_a_flipped_byte_is_caught_by_the_checksum(saved):
    data = bytearray(saved.read_bytes())
    offset = data.index(np.arange(1000.0)[500:501].tobytes())
    data[offset] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt or truncated.*CRC"):
        load(saved)


def test_files_not_written_by_save_are_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_CreatesFileWhenUnpickled(str(marker)))
    (tmp_path / "evil.pkl").write_bytes(payload)
    np.savez(tmp_path / "plain.npz", x=np.ones(2))
    np.savez(tmp_path / "objects.npz", __structure__=np.frombuffer(
        b'{"format": "tinyreg.save", "version": 1, "root": {"array": "x"}}', dtype=np.uint8),
        x=np.array([_CreatesFileWhenUnpickled(str(marker))], dtype=object))
    for name, message in [("evil.pkl", "pickled"), ("plain.npz", "not written by tr.save"),
                          ("objects.npz", "pickled|Object arrays")]:
        with pytest.raises(ValueError, match=message):
            load(tmp_path / name)
    assert not marker.exists()
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "missing.npz")


class _CreatesFileWhenUnpickled:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_nan_inf_and_negative_zero_survive(tmp_path):
    obj = [math.nan, math.inf, -math.inf, -0.0, 5e-324, np.float16(-0.0), np.array([np.nan], dtype=np.float32)]
    save(obj, tmp_path / "x.npz")
    assert_identical(load(tmp_path / "x.npz"), obj)
