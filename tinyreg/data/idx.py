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
"""

import gzip
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


def read_file_bytes(path):
    """Return the IDX bytes of ``path``, gunzipped if the file is gzip-compressed.

    Returns ``(file_bytes, idx_bytes)``; they are the same object for a plain file. A damaged
    gzip stream raises ``DataError`` naming the file.
    """
    file_bytes = Path(path).read_bytes()
    if not file_bytes.startswith(_GZIP_MAGIC):
        return file_bytes, file_bytes
    try:
        return file_bytes, gzip.decompress(file_bytes)
    except (EOFError, OSError, zlib.error) as err:
        raise DataError(f"{path}: damaged gzip stream ({err})") from err


def parse_idx(idx_bytes, name="<bytes>"):
    """Decode IDX bytes into a native-endian, writable ``numpy.ndarray``.

    ``name`` labels the ``DataError`` raised for bytes that are not a well-formed IDX file.
    """
    if len(idx_bytes) < 4:
        raise DataError(f"{name}: {len(idx_bytes)} bytes is too short for the 4-byte IDX magic")
    zero0, zero1, code, ndim = idx_bytes[:4]
    if zero0 != 0 or zero1 != 0:
        raise DataError(
            f"{name}: bad IDX magic {idx_bytes[:4].hex()}: the first two bytes must be 00 00")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{name}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    header_size = 4 + 4 * ndim
    if len(idx_bytes) < header_size:
        raise DataError(f"{name}: truncated header: {ndim} dims need {header_size} bytes, "
                         f"file has {len(idx_bytes)}")
    shape = struct.unpack(f">{ndim}I", idx_bytes[4:header_size])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(idx_bytes) - header_size
    if actual != expected:
        raise DataError(f"{name}: shape {shape} of {dtype.name} needs {expected} data bytes, "
                         f"file has {actual} ({'truncated' if actual < expected else 'oversized'})")
    data = np.frombuffer(idx_bytes, dtype=dtype, offset=header_size)
    # astype copies: the result is writable, native-endian and does not pin the file buffer.
    return data.astype(dtype.newbyteorder("=")).reshape(shape)


def read_idx(path):
    """Read an IDX file (plain or gzip-compressed) into a ``numpy.ndarray``.

    Raises ``DataError`` (a ``ValueError``) naming the file for a bad magic, an unknown dtype code,
    or a payload whose length is not ``prod(dims) * itemsize`` (expected and actual byte counts in
    the message).
    """
    _, idx_bytes = read_file_bytes(path)
    return parse_idx(idx_bytes, name=str(path))


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed when ``path`` ends in ``.gz``.

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (cast int64 labels to uint8 or
    int32 first). Compression uses ``mtime=0`` so equal arrays give byte-identical files.
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX code "
                        f"(supported: {', '.join(d.name for d in IDX_DTYPES.values())})")
    if array.ndim > 255 or any(n >= 2**32 for n in array.shape):
        raise ValueError(f"write_idx: shape {array.shape} does not fit IDX "
                         "(at most 255 dims, each below 2**32)")
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    idx_bytes = header + array.astype(IDX_DTYPES[code], copy=False).tobytes(order="C")
    path = Path(path)
    if path.suffix == ".gz":
        idx_bytes = gzip.compress(idx_bytes, mtime=0)
    path.write_bytes(idx_bytes)
