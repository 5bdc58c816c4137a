"""IDX reader and writer, checked against an independent struct-based encoder and decoder."""

import gzip
import math
import re
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinyreg.data import DataError, read_idx, write_idx

# The IDX specification's table, written out again here so the tests do not trust the module's.
STRUCT_FORMATS = {"uint8": (0x08, "B"), "int8": (0x09, "b"), "int16": (0x0B, "h"),
                  "int32": (0x0C, "i"), "float32": (0x0D, "f"), "float64": (0x0E, "d")}

idx_arrays = st.sampled_from(sorted(STRUCT_FORMATS)).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0,
                                                     max_side=5)))


def struct_encode(array):
    """IDX bytes built field by field with struct, element by element (no NumPy byte tricks)."""
    code, fmt = STRUCT_FORMATS[array.dtype.name]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    values = array.ravel().tolist()
    return header + struct.pack(f">{len(values)}{fmt}", *values)


def struct_decode(data):
    """(dtype name, shape, flat values) decoded with struct."""
    _, _, code, ndim = struct.unpack(">BBBB", data[:4])
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    name, (_, fmt) = next((k, v) for k, v in STRUCT_FORMATS.items() if v[0] == code)
    count = int(np.prod(shape))
    return name, shape, list(struct.unpack(f">{count}{fmt}", data[4 + 4 * ndim:]))


def same_bits(a, b):
    """Equal dtype, shape and bytes (NaN and -0.0 included)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@given(array=idx_arrays, compress=st.booleans())
def test_write_then_read_round_trips(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array)
    assert same_bits(read_idx(path), array)


@given(array=idx_arrays)
def test_reader_decodes_independent_encoding(tmp_path_factory, array):
    directory = tmp_path_factory.mktemp("idx")
    (directory / "plain").write_bytes(struct_encode(array))
    (directory / "packed.gz").write_bytes(gzip.compress(struct_encode(array)))
    for name in ("plain", "packed.gz"):
        result = read_idx(directory / name)
        assert same_bits(result, array)
        assert result.flags.writeable and result.dtype.isnative


@given(array=idx_arrays)
def test_writer_output_decodes_independently(tmp_path_factory, array):
    path = tmp_path_factory.mktemp("idx") / "a.idx"
    write_idx(path, array)
    name, shape, values = struct_decode(path.read_bytes())
    assert (name, shape) == (array.dtype.name, array.shape)
    assert same_bits(np.array(values, dtype=name).reshape(shape), array)


def test_gzip_is_detected_by_content_and_written_reproducibly(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    packed = (tmp_path / "a.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b" and packed == (tmp_path / "b.gz").read_bytes()
    (tmp_path / "no-suffix").write_bytes(packed)
    assert same_bits(read_idx(tmp_path / "no-suffix"), array)


def test_big_endian_input_is_written_by_value(tmp_path):
    array = np.array([1, -2, 300], dtype=">i4")
    write_idx(tmp_path / "a", array)
    assert (tmp_path / "a").read_bytes() == struct_encode(array.astype(np.int32))


@pytest.mark.parametrize("delta, has", [(-1, "has 23 (truncated)"), (+3, "has more (oversized)")])
def test_wrong_payload_length_names_file_and_byte_counts(tmp_path, delta, has):
    data = struct_encode(np.zeros((2, 3), dtype=np.int32))  # 24 data bytes
    path = tmp_path / "bad-length"
    path.write_bytes(data[:delta] if delta < 0 else data + b"\0" * delta)
    with pytest.raises(DataError, match=rf"bad-length.*needs 24 data bytes, file {re.escape(has)}"):
        read_idx(path)


def test_truncated_header_is_reported(tmp_path):
    path = tmp_path / "short-header"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 3, 5))  # claims 3 dims, holds 1
    with pytest.raises(DataError, match="short-header.*truncated header.*3 dims need 16 bytes"):
        read_idx(path)


def test_file_shorter_than_magic_is_reported(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"\0\0")
    with pytest.raises(DataError, match="tiny: 2 bytes is too short"):
        read_idx(path)


def test_bad_magic_is_reported(tmp_path):
    path = tmp_path / "bad-magic"
    path.write_bytes(b"\x01" + struct_encode(np.zeros(4, dtype=np.uint8))[1:])
    with pytest.raises(DataError, match="bad-magic: bad IDX magic 01000801"):
        read_idx(path)


def test_unknown_dtype_code_is_reported(tmp_path):
    path = tmp_path / "bad-code"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x0A, 1, 0))
    with pytest.raises(DataError, match="bad-code: unknown IDX dtype code 0x0A"):
        read_idx(path)


def test_damaged_gzip_stream_is_reported(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(struct_encode(np.arange(1000, dtype=np.int32)))[:-20])
    with pytest.raises(DataError, match="cut.gz: damaged gzip stream"):
        read_idx(path)


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.float16, np.bool_])
def test_writer_rejects_dtypes_without_an_idx_code(tmp_path, dtype):
    with pytest.raises(TypeError, match=f"dtype {np.dtype(dtype)} has no IDX code"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=dtype))


# ---- hostile headers and damaged files: one DataError naming the file, or the data the bytes encode -----------------
def test_dims_whose_product_overflows_int64_are_reported(tmp_path):
    path = tmp_path / "overflow"
    path.write_bytes(struct.pack(">BBBB4I", 0, 0, 0x08, 4, *[2**16] * 4))  # 2**64 bytes: int64 wraps to 0
    with pytest.raises(DataError, match=r"overflow: shape \(65536, 65536, 65536, 65536\) of uint8 declares "
                                        r"18446744073709551616 data bytes, more than max_bytes"):
        read_idx(path)


@pytest.mark.parametrize("dims", [(0, 2**32 - 1, 2**32 - 1, 2**32 - 1), (1,) * 65])
def test_a_shape_numpy_cannot_hold_is_reported(tmp_path, dims):
    path = tmp_path / "unholdable"
    path.write_bytes(struct.pack(f">BBBB{len(dims)}I", 0, 0, 0x08, len(dims), *dims) + b"\0" * math.prod(dims))
    with pytest.raises(DataError, match="unholdable: shape .* cannot be a NumPy array"):
        read_idx(path)


def test_max_bytes_caps_what_a_header_may_declare(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((4, 5), np.int16))
    assert read_idx(tmp_path / "a.gz", max_bytes=40).shape == (4, 5)
    with pytest.raises(DataError, match="declares 40 data bytes, more than max_bytes=39"):
        read_idx(tmp_path / "a.gz", max_bytes=39)


def reference_decode(data):
    """The array well-formed IDX bytes encode (struct and Python integers only), or None for malformed bytes."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in {code for code, _ in STRUCT_FORMATS.values()}:
        return None
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        return None
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    name, (_, fmt) = next((k, v) for k, v in STRUCT_FORMATS.items() if v[0] == data[2])
    if len(data) != 4 + 4 * ndim + math.prod(shape) * np.dtype(name).itemsize:
        return None
    values = np.array(struct.unpack(f">{math.prod(shape)}{fmt}", data[4 + 4 * ndim:]), dtype=name)
    try:
        return values.reshape(shape)
    except ValueError:  # NumPy holds at most 64 dims, and their product must fit in intp even when one is 0
        return None


def random_idx_header(rng):
    """IDX bytes with a random dtype code, ndim, dims and data length: mostly malformed, sometimes not."""
    ndim = int(rng.choice([0, 1, 2, 3, 4, 6]))
    dims = rng.choice([0, 1, 2, 3, 2**16, 2**31, 2**32 - 1], size=ndim).tolist()
    code = int(rng.choice([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x0A, 0xFF]))
    itemsize = {code: np.dtype(name).itemsize for name, (code, _) in STRUCT_FORMATS.items()}.get(code, 1)
    declared = math.prod(dims) * itemsize
    size = declared if declared <= 64 and rng.random() < 0.5 else int(rng.integers(0, 40))
    return struct.pack(f">BBBB{ndim}I", 0, 0, code, ndim, *dims) + rng.bytes(size)


IDX_FLIPS, IDX_HEADERS = 1000, 500


def test_truncations_flips_and_random_headers_read_what_the_bytes_encode_or_raise_data_error(tmp_path):
    rng = np.random.default_rng(14)
    good = struct_encode(np.arange(-12, 12, dtype=np.int16).reshape(2, 3, 4))
    cases = [(good[:n], False) for n in range(len(good))] + [(random_idx_header(rng), False)
                                                             for _ in range(IDX_HEADERS)]
    for data, compress in [(good, False), (gzip.compress(good, mtime=0), True)]:
        for _ in range(IDX_FLIPS // 2):
            flipped = bytearray(data)
            flipped[rng.integers(len(flipped))] ^= 1 << rng.integers(8)
            cases.append((bytes(flipped), compress))
    path, read = tmp_path / "fuzz.idx", 0
    for data, compressed in cases:
        with open(path, "r+b" if path.exists() else "wb") as f:  # rewritten in place: a truncating open is slow
            f.write(data)
            f.truncate()
        expected = reference_decode(gzip.decompress(data) if compressed and _gunzips(data) else data)
        try:
            result = read_idx(path)
        except DataError as err:
            assert "fuzz.idx" in str(err), err
            assert expected is None, f"refused bytes the reference decodes: {data[:40]!r}"
            continue
        assert expected is not None and same_bits(result, expected), data
        if compressed:  # gzip's CRC-32: a flipped byte of a .gz never reads as different data
            assert same_bits(result, reference_decode(good))
        read += 1
    assert 0 < read < len(cases) // 2


def _gunzips(data):
    try:
        gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return False
    return True
