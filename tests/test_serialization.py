"""tr.save / tr.load: bit-exact round trips of nested state, atomic writes, and refusal of damaged or unsafe files."""

import io
import json
import math
import os
import pickle
import re
import signal
import stat
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyreg as tr
from tinyreg import nn
from tinyreg.serialization import load, save
from tinyreg.umask import current_umask

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


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError) as error:
        save({"x": 1}, missing / "state.npz")
    assert error.value.filename == str(missing) and ".tmp" not in str(error.value), error.value
    assert str(missing) in str(error.value) and "No such file or directory" in str(error.value)


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
    for name, message in [("evil.pkl", "not a zip file"), ("plain.npz", "not written by tr.save"),
                          ("objects.npz", "pickled|Object arrays")]:
        with pytest.raises(ValueError, match=message):
            load(tmp_path / name)
    assert not marker.exists()


def test_a_file_that_cannot_be_opened_raises_what_open_raises_not_corruption(tmp_path):
    """The environment's errors (as torch.load reports them) are not the documented ValueError of a damaged file."""
    with pytest.raises(FileNotFoundError, match=re.escape(f"No such file or directory: '{tmp_path / 'missing.npz'}'")):
        load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match=re.escape(f"Is a directory: '{tmp_path}'")):
        load(tmp_path)


class _CreatesFileWhenUnpickled:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_nan_inf_and_negative_zero_survive(tmp_path):
    obj = [math.nan, math.inf, -math.inf, -0.0, 5e-324, np.float16(-0.0), np.array([np.nan], dtype=np.float32)]
    save(obj, tmp_path / "x.npz")
    assert_identical(load(tmp_path / "x.npz"), obj)


# ---- crafted files: every failure is the documented ValueError naming the file --------------------------------------
def npy(array, version=None):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), version=version, allow_pickle=False)
    return buffer.getvalue()


def structure_npy(root):
    text = json.dumps({"format": "tinyreg.save", "version": 1, "root": root})
    return npy(np.frombuffer(text.encode(), dtype=np.uint8))


def npy_member(header, data=b"", version=(1, 0)):
    """A .npy member with any header text (numpy's writer would refuse the crafted ones)."""
    text = header if isinstance(header, str) else repr(header)
    length = struct.pack("<H" if version == (1, 0) else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text.encode("latin-1") + data


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def set_central_directory_field(path, member, offset, fmt, value):
    """Overwrite one field of ``member``'s central directory record (offsets as in the zip specification)."""
    data, name = bytearray(path.read_bytes()), member.encode()
    start = next(m.start() for m in re.finditer(re.escape(b"PK\x01\x02"), data)
                 if data[m.start() + 46:m.start() + 46 + len(name)] == name)
    struct.pack_into(fmt, data, start + offset, value)
    path.write_bytes(bytes(data))


FLAGS, METHOD, FILE_SIZE = (8, "<H"), (10, "<H"), (24, "<I")  # central directory fields: offset, format
ONE_ARRAY = {"array": "x"}
DEEP = {"list": [1]}
for _ in range(150):
    DEEP = {"list": [DEEP]}

# name -> (structure root or None for a raw __structure__ member, {member: bytes}, expected message)
CRAFTED = {
    "structure without .npy magic": (None, {"__structure__.npy": b'{"format": "tinyreg.save"}'}, "magic"),
    "array member without .npy magic": (ONE_ARRAY, {"x.npy": b"just bytes"}, "magic"),
    "object array": (ONE_ARRAY, {"x.npy": npy_member({"descr": "|O", "fortran_order": False, "shape": (1,)},
                                                     b"\0" * 8)}, "pickled"),
    "header larger than the data": (ONE_ARRAY, {"x.npy": npy_member({"descr": "<f8", "fortran_order": False,
                                                                     "shape": (2**40,)}, b"\0" * 8)},
                                    "describes float64 .1099511627776.*8796093022208 bytes"),
    "data larger than the header": (ONE_ARRAY, {"x.npy": npy(np.ones(2)) + b"\0" * 8}, "16 bytes"),
    "negative dimension": (ONE_ARRAY, {"x.npy": npy_member({"descr": "<f8", "fortran_order": False,
                                                            "shape": (-1,)})}, "shape"),
    "npy version 9": (ONE_ARRAY, {"x.npy": npy_member("{}", version=(9, 0))}, "version"),
    "huge npy header": (ONE_ARRAY, {"x.npy": npy_member("{" * 70000, version=(2, 0))}, "70000-byte .npy header"),
    "unparsable npy header": (ONE_ARRAY, {"x.npy": npy_member("{'descr': '<f8',")}, "unreadable .npy header"),
    "npy header too deep for the parser": (ONE_ARRAY, {"x.npy": npy_member("-" * 60_000 + "1")},
                                           r"unreadable .npy header \((MemoryError|RecursionError)\)"),
    "npy header too deep for the compiler": (ONE_ARRAY, {"x.npy": npy_member("1" + "+1" * 30_000)},
                                             r"unreadable .npy header \((MemoryError|RecursionError)\)"),
    "npy header with an extra key": (ONE_ARRAY, {"x.npy": npy_member({"descr": "<f8", "fortran_order": False,
                                                                      "shape": (), "x": 1}, b"\0" * 8)},
                                     "without exactly"),
    "JSON nested too deeply to parse": (None, {"__structure__.npy": npy(np.frombuffer(b"[" * 100_000, np.uint8))},
                                        "nested too deeply"),
    "records nested too deeply": (DEEP, {}, "nested more than 100"),
    "float_bits of one byte": ({"float_bits": "00"}, {}, "16 hex digits"),
    "unknown record": ({"set": [1]}, {}, "unknown record"),
    "list record holding a string": ({"list": "abc"}, {}, "holds str, not a list"),
    "scalar record of an array": ({"scalar": "x"}, {"x.npy": npy(np.ones(3))}, "shape .3,."),
    "requires_grad not a bool": ({"tensor": "x", "requires_grad": "yes"}, {"x.npy": npy(np.ones(3))}, "bool"),
    "entry named by a number": ({"array": 3}, {}, "named by a string"),
    "missing member": (ONE_ARRAY, {}, "does not have"),
    "dict item not a pair": ({"dict": [[1]]}, {}, "not enough values"),
    "unhashable dict key": ({"dict": [[{"list": []}, 1]]}, {}, "unhashable"),
    "structure of float64": (None, {"__structure__.npy": npy(np.ones(3))}, "not UTF-8 bytes"),
    "structure not UTF-8": (None, {"__structure__.npy": npy(np.frombuffer(b"\xff\xfe", np.uint8))}, "utf-8"),
    "no root": (None, {"__structure__.npy": npy(np.frombuffer(b'{"format": "tinyreg.save", "version": 1}',
                                                              np.uint8))}, "KeyError: 'root'"),
}
# name -> (central directory field, value, expected message): members zipfile itself would not read as data
CRAFTED_DIRECTORY = {
    "compressed patched data": (FLAGS, 0x20, "encrypted or patched"),
    "encrypted": (FLAGS, 0x01, "encrypted or patched"),
    "strongly encrypted": (FLAGS, 0x41, "encrypted or patched"),
    "unknown compression method": (METHOD, 99, "compressed .zip method 99"),
    "size beyond the file": (FILE_SIZE, 2**31, "claims 2147483648 bytes"),
}


def write_crafted(path, root, members):
    if root is not None:
        members = {"__structure__.npy": structure_npy(root), **members}
    return write_zip(path, members)


@pytest.mark.parametrize("case", CRAFTED)
def test_a_crafted_file_raises_the_documented_error(tmp_path, case):
    root, members, message = CRAFTED[case]
    path = write_crafted(tmp_path / "crafted.npz", root, members)
    with pytest.raises(ValueError, match=rf"crafted.npz.*{message}"):
        load(path)


@pytest.mark.parametrize("case", CRAFTED_DIRECTORY)
def test_a_member_zipfile_cannot_read_raises_the_documented_error(tmp_path, case):
    (offset, fmt), value, message = CRAFTED_DIRECTORY[case]
    path = write_crafted(tmp_path / "crafted.npz", ONE_ARRAY, {"x.npy": npy(np.arange(4.0))})
    set_central_directory_field(path, "x.npy", offset, fmt, value)
    with pytest.raises(ValueError, match=rf"crafted.npz.*{message}"):
        load(path)


def test_a_member_placed_before_the_files_start_is_the_documented_error(tmp_path):
    """zipfile shifts every member by what the end record says precedes the directory; a lie there puts the first
    member at offset -1, where seeking is an OSError (which tr.load leaves to the environment's errors)."""
    path = write_crafted(tmp_path / "shifted.npz", ONE_ARRAY, {"x.npy": npy(np.arange(4.0))})
    data = bytearray(path.read_bytes())
    (directory_offset,) = struct.unpack_from("<I", data, len(data) - 6)  # the end record's offset of the directory
    struct.pack_into("<I", data, len(data) - 6, directory_offset + 1)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="shifted.npz.*'__structure__.npy' starts at offset -1"):
        load(path)


def test_a_compressed_member_is_refused_before_it_is_expanded(tmp_path):
    path = write_zip(tmp_path / "deflated.npz", {"__structure__.npy": structure_npy(ONE_ARRAY),
                                                 "x.npy": npy(np.zeros(10_000))}, zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="deflated.npz.*'__structure__.npy' is compressed .zip method 8."):
        load(path)


def test_overlapping_members_cannot_multiply_memory(tmp_path):
    """A member whose data quotes another member's zip entry: each fits in the file, together they do not."""
    path = write_crafted(tmp_path / "overlap.npz", {"list": [ONE_ARRAY, {"array": "y"}]},
                         {"x.npy": b"", "y.npy": npy(np.arange(100.0))})
    with zipfile.ZipFile(path) as archive:
        y_entry = archive.getinfo("y.npy").header_offset
    data = path.read_bytes()
    directory = data.index(b"PK\x01\x02")
    quoted = data[y_entry:directory]  # y's local header and data, to be quoted inside x
    path = write_crafted(tmp_path / "overlap.npz", {"list": [ONE_ARRAY, {"array": "y"}]},
                         {"x.npy": npy(np.frombuffer(quoted, np.uint8)), "y.npy": npy(np.arange(100.0))})
    with zipfile.ZipFile(path) as archive:
        y_entry = archive.getinfo("y.npy").header_offset
    data = bytearray(path.read_bytes())
    directory = data.index(b"PK\x01\x02")
    data[y_entry:directory] = b""  # drop the real y: only the copy quoted inside x remains
    struct.pack_into("<I", data, len(data) - 6, y_entry)  # the end record's offset of the central directory
    path.write_bytes(bytes(data))
    set_central_directory_field(path, "y.npy", 42, "<I", bytes(data).index(quoted))
    with pytest.raises(ValueError, match="overlap.npz.*'y.npy' claims .*more than the .*-byte file holds"):
        load(path)


def test_only_referenced_members_are_read_each_once(tmp_path, monkeypatch):
    path = write_crafted(tmp_path / "x.npz", {"list": [ONE_ARRAY, ONE_ARRAY, {"array": "y"}]},
                         {"x.npy": npy(np.arange(3.0)), "y.npy": npy(np.ones(2)), "junk.npy": b"not read"})
    opened, open_member = [], zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info, *a, **k: opened.append(info.filename)
                        or open_member(self, info, *a, **k))
    first, again, y = load(path)
    assert sorted(opened) == ["__structure__.npy", "x.npy", "y.npy"] and first is again
    assert_identical([first, y], [np.arange(3.0), np.ones(2)])


def test_npy_versions_and_fortran_order_load_like_numpy(tmp_path):
    arrays = [np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.zeros((0, 3), ">i2"),
              np.zeros(2, [("\u4e2d", "<f4"), ("b", "|u1")])]
    members = {"a0.npy": npy(arrays[0], (2, 0)), "a1.npy": npy(arrays[1], (1, 0)),
               "a2.npy": npy(arrays[2], (3, 0))}  # a non-Latin-1 field name needs version 3.0
    path = write_crafted(tmp_path / "x.npz", {"list": [{"array": f"a{i}"} for i in range(3)]}, members)
    loaded = load(path)
    assert_identical(loaded, arrays)
    assert loaded[0].flags.f_contiguous and all(a.flags.writeable for a in loaded)


def test_saving_deeper_than_max_depth_is_refused(tmp_path):
    deep = [1]
    for _ in range(101):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 containers"):
        save(deep, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# ---- fuzz: truncations, byte flips and random crafted members --------------------------------------------------------
FUZZ_OBJECT = {"model": {"w": np.arange(6.0).reshape(2, 3), "b": tr.tensor(np.ones(3, np.float32), requires_grad=True)},
               "state": {0: {"step": np.int64(3), "exp_avg": np.asfortranarray(np.arange(6, dtype=np.int16)
                                                                                .reshape(2, 3))}},
               "lr": 0.1, "nan": math.nan, "inf": -math.inf, "name": "run", "t": (1, None, [True, "x"])}
FLIPS, RANDOM_MEMBERS = 1500, 300


def overwrite(path, data):
    """Replace a file's bytes in place (a truncating open("wb") makes ext4 flush: 5 ms a file)."""
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate()


def load_same_or_documented_error(path, expected):
    """``load(path)`` returns ``expected`` bit for bit, or raises ValueError naming the file: nothing else happens."""
    try:
        loaded = load(path)
    except ValueError as err:
        assert path.name in str(err), err
        return False
    assert_identical(loaded, expected)
    return True


def test_every_truncation_and_byte_flip_loads_the_same_or_raises_the_documented_error(tmp_path):
    path = tmp_path / "fuzz.npz"
    save(FUZZ_OBJECT, path)
    good = path.read_bytes()
    rng = np.random.default_rng(14)
    damaged = [good[:n] for n in range(len(good))]  # every truncation (about 1,800)
    for _ in range(FLIPS):
        data = bytearray(good)
        data[rng.integers(len(data))] ^= 1 << rng.integers(8)
        damaged.append(bytes(data))
    loaded = 0
    for data in damaged:
        overwrite(path, data)
        loaded += load_same_or_documented_error(path, FUZZ_OBJECT)
    # Flips in fields nothing checks (timestamps, "version made by") load; most are caught. Truncations never load.
    assert 0 < loaded < FLIPS // 2


def random_npy_member(rng):
    """A .npy member whose header fields are each valid or, one time in six, crafted; data of about the right size."""
    def pick(valid, crafted):
        options = crafted if rng.random() < 1 / 6 else valid
        return options[rng.integers(len(options))]

    descr = pick(["<f8", ">i4", "|u1", "<U2", "|b1", "<c8", [("a", "<f4"), ("b", "|u1")]], ["|O", "garbage", 5])
    shape = pick([(), (3,), (2, 2), (0, 5)], [(-1,), (2**40,), (2**31, 2**31), [3], (3.0,), (True,), "x"])
    header = {"descr": descr, "fortran_order": pick([True, False], [0, "no"]), "shape": shape}
    if rng.random() < 1 / 20:
        del header[rng.choice(sorted(header))]
    try:
        size = min(max(math.prod(shape) * np.dtype(descr).itemsize, 0), 64)
    except (TypeError, ValueError):  # a crafted field: any small data length
        size = int(rng.integers(16))
    if rng.random() < 1 / 6:
        size = max(0, size + int(rng.choice([-1, 1])))
    return npy_member(header, rng.bytes(size), version=pick([(1, 0), (2, 0), (3, 0)], [(9, 0)]))


def numpy_reads_exactly(member):
    """The array NumPy's own reader (the oracle for what is well formed) reads from ``member`` using every byte of it,
    else None."""
    buffer = io.BytesIO(member)
    try:
        array = np.lib.format.read_array(buffer, allow_pickle=False)
    except Exception:
        return None
    return array if buffer.read() == b"" else None


def test_random_crafted_members_load_as_numpy_reads_them_or_raise_the_documented_error(tmp_path):
    rng = np.random.default_rng(14)
    loaded = 0
    for i in range(RANDOM_MEMBERS):
        member = random_npy_member(rng)
        path = write_crafted(tmp_path / f"crafted{i}.npz", ONE_ARRAY, {"x.npy": member})
        expected = numpy_reads_exactly(member)
        try:
            result = load(path)
        except ValueError as err:
            assert path.name in str(err), err
            assert expected is None, f"refused a member numpy reads: {member[:80]!r}"
            continue
        assert expected is not None, f"loaded a member numpy refuses: {member[:80]!r}"
        assert_identical(result, expected)
        loaded += 1
    assert 0 < loaded < RANDOM_MEMBERS // 2


# ---- killed saves, permissions and symbolic links ------------------------------------------------------------------
KILL_OBJECT = {"w": np.arange(300_000.0), "v": np.ones(3), "step": 7}  # 2.4 MB, so a kill can land mid-array


def save_and_kill_midway(path, point):
    """Fork a child that saves ``KILL_OBJECT`` to ``path`` and SIGKILLs itself at ``point`` of the save."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            writes, write_array, replace = [], np.lib.format.write_array, os.replace

            def die():
                os.kill(os.getpid(), signal.SIGKILL)

            def write_then_maybe_die(member, array, allow_pickle):
                writes.append(array.shape)
                if point == "mid array" and array.size == 300_000:
                    member.write(array.tobytes()[:1_000_000])
                    die()
                write_array(member, array, allow_pickle=allow_pickle)
                if point == len(writes):
                    die()

            np.lib.format.write_array = write_then_maybe_die
            os.replace = lambda *args: die() if point == "before rename" else replace(*args)
            save(KILL_OBJECT, path)
        finally:
            os._exit(3)  # only if the kill point was never reached
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


KILL_POINTS = [1, "mid array", 2, 3, "before rename"]  # after the structure, inside w, after w, after v, all written


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_killed_saves_leave_the_old_file_and_the_next_save_removes_their_leftovers(tmp_path):
    path = tmp_path / "state.npz"
    old = {"w": np.arange(5.0)}
    save(old, path)
    other_temporary = tmp_path / f".other.npz.{'0' * 16}.tmp"  # another file's leftover is not ours to remove
    decoys = [tmp_path / name for name in [".state.npz.backup", f".state.npz.{'0' * 15}.tmp",
                                           f"state.npz.{'0' * 16}.tmp", f".state.npz.{'0' * 16}.tmp.keep"]]
    for decoy in [other_temporary, *decoys]:
        decoy.write_bytes(b"not a leftover of state.npz")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"kept")
    (tmp_path / f".state.npz.{'f' * 16}.tmp").symlink_to(outside)  # a link is never followed nor removed
    leftovers, sizes = [], []
    for point in KILL_POINTS:
        save_and_kill_midway(path, point)
        assert_identical(load(path), old)  # every kill leaves the previous file loadable and unchanged
        # Each save (killed or not) first removes the leftovers of the earlier killed ones: one is left at a time.
        [leftover] = [p for p in tmp_path.glob(".state.npz.*.tmp") if not p.is_symlink() and p not in decoys]
        assert leftover not in leftovers
        leftovers.append(leftover)
        sizes.append(leftover.stat().st_size)
    assert sizes[1] > 1_000_000 and sizes[-1] > 2_400_000  # killed inside w; killed with everything written
    save({"w": np.zeros(2)}, path)
    assert not any(p.exists() for p in leftovers)
    assert all(p.read_bytes() == b"not a leftover of state.npz" for p in [other_temporary, *decoys])
    assert outside.read_bytes() == b"kept" and (tmp_path / f".state.npz.{'f' * 16}.tmp").is_symlink()
    assert_identical(load(path), {"w": np.zeros(2)})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_save_in_progress_keeps_its_temporary_file(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    path, running = tmp_path / "state.npz", tmp_path / f".state.npz.{'a' * 16}.tmp"
    running.write_bytes(b"being written")
    with open(running, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running save holds it (flock is per open file, even in one process)
        save({"x": 1}, path)
        assert running.read_bytes() == b"being written"
    save({"x": 2}, path)  # released: now it is a leftover
    assert not running.exists() and load(path) == {"x": 2}


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_overwriting_keeps_the_file_mode(tmp_path, mode):
    path = tmp_path / "state.npz"
    save({"x": 1}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask()  # a new file: what open() would give
    path.chmod(mode)
    save({"x": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == mode and load(path) == {"x": 2}


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target, link = tmp_path / "runs" / "best.npz", tmp_path / "best.npz"
    link.symlink_to(target)  # dangling: open(link, "wb") would create the target
    for value in (1, 2):
        save({"x": value}, link)
        assert link.is_symlink() and os.readlink(link) == str(target) and load(target) == {"x": value}
    assert os.listdir(tmp_path / "runs") == ["best.npz"] and sorted(os.listdir(tmp_path)) == ["best.npz", "runs"]
