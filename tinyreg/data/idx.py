"""The IDX file format (LeCun's MNIST format), read and written with NumPy.

Layout, all integers big-endian::

    byte 0-1   0x00 0x00                 magic: two zero bytes
    byte 2     dtype code                0x08 uint8, 0x09 int8, 0x0B int16,
                                         0x0C int32, 0x0D float32, 0x0E float64
    byte 3     ndim
    4*ndim     dims, each a uint32
    rest       prod(dims) * itemsize bytes of data, row-major, big-endian

A file may be gzip-compressed; the reader recognises gzip by its own magic bytes (0x1f 0x8b), so
the file name does not matter. The writer compresses when the name ends in ``.gz``.

The reader decompresses as it reads: first the header, then exactly the data bytes the header
declares, then one byte more to check that the file ends there. So a hostile file (a gzip bomb, a
header claiming terabytes) costs memory for at most what its header declares, capped by
``max_bytes``, and gives one ``DataError`` naming it.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

# dtype code -> big-endian NumPy dtype, as the IDX specification lists them.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB of data: above IDX datasets in use, far below what a bomb claims
_CHUNK = 1 << 20  # bytes read at a time


def read_idx(path, max_bytes=DEFAULT_MAX_BYTES):
    """Read an IDX file (plain or gzip-compressed) into a native-endian, writable ``numpy.ndarray``.

    Raises ``DataError`` (a ``ValueError``) naming the file for a bad magic, an unknown dtype code,
    a damaged gzip stream, a header declaring more than ``max_bytes`` data bytes, or a payload whose
    length is not ``prod(dims) * itemsize`` (expected and actual byte counts in the message).
    """
    with open(path, "rb") as file:
        stream = gzip.GzipFile(fileobj=file, mode="rb") if file.peek(2)[:2] == _GZIP_MAGIC else file
        return _parse_idx(stream, str(path), max_bytes)


def _parse_idx(stream, name, max_bytes):
    magic = _read_at_most(stream, 4, name)
    if len(magic) < 4:
        raise DataError(f"{name}: {len(magic)} bytes is too short for the 4-byte IDX magic")
    zero0, zero1, code, ndim = magic
    if zero0 != 0 or zero1 != 0:
        raise DataError(
            f"{name}: bad IDX magic {magic.hex()}: the first two bytes must be 00 00")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{name}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    dims = _read_at_most(stream, 4 * ndim, name)
    if len(dims) < 4 * ndim:
        raise DataError(f"{name}: truncated header: {ndim} dims need {4 + 4 * ndim} bytes, "
                        f"file has {4 + len(dims)}")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = IDX_DTYPES[code]
    # Python integers: four dims of 2**16 declare 2**64 bytes (an int64 product would wrap to 0).
    expected = math.prod(shape) * dtype.itemsize
    if expected > max_bytes:
        raise DataError(f"{name}: shape {shape} of {dtype.name} declares {expected} data bytes, "
                        f"more than max_bytes={max_bytes}")
    data = _read_at_most(stream, expected, name)
    if len(data) < expected:
        raise DataError(f"{name}: shape {shape} of {dtype.name} needs {expected} data bytes, "
                        f"file has {len(data)} (truncated)")
    if _read_at_most(stream, 1, name):  # also makes gzip check its CRC-32 and length trailer
        raise DataError(f"{name}: shape {shape} of {dtype.name} needs {expected} data bytes, "
                        f"file has more (oversized)")
    # A bytearray's buffer is writable; astype byte-swaps to native order (a copy only if it must).
    array = np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="), copy=False)
    try:
        return array.reshape(shape)
    except ValueError as err:  # more than 64 dims, or a 0 among dims whose other product overflows
        raise DataError(f"{name}: shape {shape} cannot be a NumPy array ({err})") from None


def _read_at_most(stream, size, name):
    """Up to ``size`` bytes, a chunk at a time, so memory follows what the file holds, not what it claims."""
    data = bytearray()
    try:
        while len(data) < size and (chunk := stream.read(min(size - len(data), _CHUNK))):
            data += chunk
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(f"{name}: damaged gzip stream ({err})") from err
    return data


def idx_bytes(array):
    """The IDX encoding of ``array``: the header, then the data row-major and big-endian."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX code "
                        f"(supported: {', '.join(d.name for d in IDX_DTYPES.values())})")
    if array.ndim > 255 or any(n >= 2**32 for n in array.shape):
        raise ValueError(f"write_idx: shape {array.shape} does not fit IDX "
                         "(at most 255 dims, each below 2**32)")
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    return header + array.astype(IDX_DTYPES[code], copy=False).tobytes(order="C")


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed when ``path`` ends in ``.gz``.

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (cast int64 labels to uint8 or
    int32 first). Compression uses ``mtime=0`` so equal arrays give byte-identical files.
    """
    data = idx_bytes(array)
    path = Path(path)
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
