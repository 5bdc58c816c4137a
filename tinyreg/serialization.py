"""``tr.save(obj, path)`` / ``tr.load(path)``: model and optimizer state in a ``.npz`` file, without pickle.

What can be saved: dicts (any scalar or tuple keys, including the integer keys of an optimizer's ``state``), lists,
tuples, strings, Python ints/floats/bools/None, NumPy arrays and scalars, and tinyreg Tensors, nested freely.

The file is an ordinary ``.npz`` (a zip of ``.npy`` arrays, readable with ``numpy.load(path, allow_pickle=False)``):

* every array is stored under its dotted path, e.g. ``model.0.weight`` or ``optimizer.state.0.exp_avg`` (characters
  other than letters, digits and ``_.~-`` become ``_``, and a ``~n`` suffix keeps colliding names apart);
* one more entry, ``__structure__``, is UTF-8 JSON (stored as a uint8 array) describing the nesting. Plain JSON
  values stand for themselves (JSON keeps int, float, bool, None and str apart, and Python writes floats with
  enough digits to read back the same bits); containers and arrays are JSON objects:
  ``{"dict": [[key, value], ...]}``, ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"array": entry}``,
  ``{"scalar": entry}`` (a NumPy scalar), ``{"tensor": entry, "requires_grad": bool}``, and
  ``{"float_bits": hex}`` for a NaN (whose sign and payload JSON would drop).

Loading never runs code (no pickle: object arrays are refused both ways). Saving writes a temporary file in the
same directory, flushes it to disk and only then renames it over ``path`` (``os.replace`` is atomic), so an error or
a crash during ``save`` leaves any previous file intact. A corrupt or truncated file is refused with an error
naming it (the zip's CRC-32 checksums catch damaged bytes).
"""

import json
import math
import os
import re
import struct
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from tinyreg.tensor import Tensor

FORMAT = "tinyreg.save"
VERSION = 1
STRUCTURE = "__structure__"


class _Writer:
    """Turns an object into (JSON structure, {entry name: array}); entry names are unique dotted paths."""

    def __init__(self):
        self.arrays = {}

    def _entry(self, path, array):
        if array.dtype.hasobject:
            raise TypeError(f"tr.save: the array at '{path}' has dtype {array.dtype}, which would need pickle; "
                            f"only numeric, bool and string arrays can be saved")
        # Zip member names: keep the readable dotted path, but only characters every zip tool takes literally
        # (zipfile cuts a name at NUL, "/" makes folders); the structure record maps back, so any name works.
        name = re.sub(r"[^A-Za-z0-9_.~-]", "_", path) or "root"
        unique, n = name, 1
        while unique in self.arrays or unique == STRUCTURE:
            unique, n = f"{name}~{n}", n + 1
        self.arrays[unique] = array
        return unique

    def encode(self, obj, path=""):
        # NumPy scalars first: np.float64 and np.str_ subclass Python's float and str but must come back as NumPy's.
        if isinstance(obj, np.generic):
            return {"scalar": self._entry(path, np.asarray(obj))}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return _scalar(obj)
        if isinstance(obj, Tensor):
            return {"tensor": self._entry(path, obj._array), "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"array": self._entry(path, obj)}
        if isinstance(obj, dict):
            items = [[self._key(k, path), self.encode(v, f"{path}.{k}" if path else str(k))] for k, v in obj.items()]
            record = {"dict": items}
            if isinstance(obj, OrderedDict):
                record["ordered"] = True
            return record
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {kind: [self.encode(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(obj)]}
        raise TypeError(f"tr.save: cannot save an object of type {type(obj).__name__} at '{path or '<root>'}' "
                        f"(supported: dict, list, tuple, str, int, float, bool, None, numpy arrays and scalars, "
                        f"Tensors)")

    def _key(self, key, path):
        if key is None or (isinstance(key, (bool, int, float, str)) and not isinstance(key, np.generic)):
            return _scalar(key)
        if isinstance(key, tuple):
            return {"tuple": [self._key(k, path) for k in key]}
        raise TypeError(f"tr.save: dict key {key!r} at '{path or '<root>'}' has type {type(key).__name__}; keys "
                        f"must be Python str, int, float, bool, None or tuples of these")


def _scalar(value):
    """A Python scalar as JSON. Only a NaN needs a record: JSON's NaN token would lose its sign and payload bits."""
    if isinstance(value, float) and math.isnan(value):
        return {"float_bits": struct.pack(">d", value).hex()}
    return value


def _decode(record, arrays):
    if not isinstance(record, dict):
        return record
    if "float_bits" in record:
        return struct.unpack(">d", bytes.fromhex(record["float_bits"]))[0]
    if "tensor" in record:
        return Tensor._wrap(arrays[record["tensor"]], requires_grad=record["requires_grad"])
    if "array" in record:
        return arrays[record["array"]]
    if "scalar" in record:
        return arrays[record["scalar"]][()]
    if "dict" in record:
        kind = OrderedDict if record.get("ordered") else dict
        return kind((_decode(k, arrays), _decode(v, arrays)) for k, v in record["dict"])
    if "list" in record:
        return [_decode(v, arrays) for v in record["list"]]
    if "tuple" in record:
        return tuple(_decode(v, arrays) for v in record["tuple"])
    raise ValueError(f"unknown record {sorted(record)}")


def save(obj, path):
    """Write ``obj`` (nested dicts/lists of arrays, tensors and numbers) to ``path`` atomically; see the module doc.

    The file is written exactly at ``path`` (no extension is added).
    """
    path = os.fspath(path)
    writer = _Writer()
    structure = {"format": FORMAT, "version": VERSION, "root": writer.encode(obj)}
    # allow_nan: JSON has no ±inf; Python's json reads back its own Infinity tokens exactly (NaNs are float_bits).
    structure_bytes = np.frombuffer(json.dumps(structure, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in [(STRUCTURE, structure_bytes), *writer.arrays.items()]:
                    with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, _default_file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    _fsync_directory(directory)


def _default_file_mode():
    """The permissions ``open(path, "w")`` would give (mkstemp's temporary file is private, 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); not possible on every platform, where it is skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path):
    """Read an object written by :func:`save`. Never unpickles; a damaged file raises ValueError naming ``path``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"tr.load: no such file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if STRUCTURE not in archive.files:
                raise ValueError(f"it has no {STRUCTURE} entry, so it was not written by tr.save")
            structure = json.loads(archive[STRUCTURE].tobytes().decode("utf-8"))
            if not isinstance(structure, dict) or structure.get("format") != FORMAT:
                raise ValueError(f"its {STRUCTURE} entry is not a {FORMAT} record")
            if structure.get("version") != VERSION:
                raise ValueError(f"format version {structure.get('version')!r} is not supported (expected {VERSION})")
            arrays = {name: archive[name] for name in archive.files if name != STRUCTURE}
            return _decode(structure["root"], arrays)
    except (ValueError, KeyError, TypeError, EOFError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise ValueError(f"tr.load: {path!r} is not a readable tinyreg save file (corrupt or truncated?): "
                         f"{type(err).__name__}: {err}") from err
