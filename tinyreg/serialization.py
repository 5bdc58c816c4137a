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

Loading never runs code (no pickle: object arrays are refused both ways) and reads only the members the structure
refers to, each once. Members are stored uncompressed, and each member's size in the zip directory is checked
against its ``.npy`` header and against the file's size (all members read together included) before a byte of its
data is read, so no file can make ``load`` hold more array data than the file's own size. Anything wrong with a
file's content (truncated, a flipped byte caught by the zip's CRC-32 checksums, a crafted member or structure)
raises ``ValueError`` naming it, and nothing else; a file that cannot be opened raises what ``open`` raises.
Nesting is limited to ``MAX_DEPTH`` levels both ways.

Saving writes a temporary file ``.<name>.<random>.tmp`` in the same directory, flushes it to disk and only then
renames it over ``path`` (``os.replace`` is atomic), so an error or a crash during ``save`` leaves any previous file
intact. The temporary file is locked while its save runs; a killed save's lock dies with its process, and the next
save of the same file deletes such unlocked leftovers. An existing file keeps its permission bits, and a ``path``
that is a symbolic link is written through to its target, as ``open(path, "wb")`` would.
"""

import ast
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
from collections import OrderedDict

try:
    import fcntl
except ImportError:  # no flock (Windows): a save cannot tell a killed save's leftover from a running one's file
    fcntl = None

import numpy as np

from tinyreg.tensor import Tensor
from tinyreg.umask import current_umask

FORMAT = "tinyreg.save"
VERSION = 1
STRUCTURE = "__structure__"
MAX_DEPTH = 100  # containers inside containers; far beyond any state dict, well inside Python's recursion limit
_CHUNK = 1 << 20  # array data is read in pieces of this many bytes
_MAX_NPY_HEADER = 1 << 16
# Zip flag bits of members zipfile cannot read: encrypted (bit 0), compressed patched data (5), strong encryption (6).
_UNREADABLE_FLAGS = 0x01 | 0x20 | 0x40


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

    def encode(self, obj, path="", depth=0):
        if depth > MAX_DEPTH:
            raise ValueError(f"tr.save: '{path}' is nested more than {MAX_DEPTH} containers deep")
        # NumPy scalars first: np.float64 and np.str_ subclass Python's float and str but must come back as NumPy's.
        if isinstance(obj, np.generic):
            return {"scalar": self._entry(path, np.asarray(obj))}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return _scalar(obj)
        if isinstance(obj, Tensor):
            return {"tensor": self._entry(path, np.asarray(obj)), "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"array": self._entry(path, obj)}
        if isinstance(obj, dict):
            items = [[self._key(k, path, depth + 1), self.encode(v, f"{path}.{k}" if path else str(k), depth + 1)]
                     for k, v in obj.items()]
            record = {"dict": items}
            if isinstance(obj, OrderedDict):
                record["ordered"] = True
            return record
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {kind: [self.encode(v, f"{path}.{i}" if path else str(i), depth + 1) for i, v in enumerate(obj)]}
        raise TypeError(f"tr.save: cannot save an object of type {type(obj).__name__} at '{path or '<root>'}' "
                        f"(supported: dict, list, tuple, str, int, float, bool, None, numpy arrays and scalars, "
                        f"Tensors)")

    def _key(self, key, path, depth):
        if depth > MAX_DEPTH:
            raise ValueError(f"tr.save: a dict key at '{path or '<root>'}' is nested more than {MAX_DEPTH} tuples deep")
        if key is None or (isinstance(key, (bool, int, float, str)) and not isinstance(key, np.generic)):
            return _scalar(key)
        if isinstance(key, tuple):
            return {"tuple": [self._key(k, path, depth + 1) for k in key]}
        raise TypeError(f"tr.save: dict key {key!r} at '{path or '<root>'}' has type {type(key).__name__}; keys "
                        f"must be Python str, int, float, bool, None or tuples of these")


def _scalar(value):
    """A Python scalar as JSON. Only a NaN needs a record: JSON's NaN token would lose its sign and payload bits."""
    if isinstance(value, float) and math.isnan(value):
        return {"float_bits": struct.pack(">d", value).hex()}
    return value


class _Reader:
    """Turns the JSON structure back into the object, reading each array member it refers to once, when reached."""

    def __init__(self, archive, file_size):
        self.archive = archive
        self.file_size = file_size
        self.arrays = {}  # entry -> array: a member referred to twice is still read (and held) once
        self.claimed = 0  # bytes of the members read so far: distinct members cannot together exceed the file

    def array(self, entry):
        if not isinstance(entry, str):
            raise ValueError(f"an array entry must be named by a string, not {entry!r}")
        if entry not in self.arrays:
            self.arrays[entry] = self._read_member(entry + ".npy")
        return self.arrays[entry]

    def _read_member(self, name):
        """The array in member ``name``, its sizes checked before any of its data is read (or allocated)."""
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise ValueError(f"the structure refers to a member {name!r} that the file does not have") from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"member {name!r} is compressed (zip method {info.compress_type}); tr.save stores "
                             f"members uncompressed, and tr.load reads only such members, which cannot expand")
        if info.flag_bits & _UNREADABLE_FLAGS:
            raise ValueError(f"member {name!r} is encrypted or patched (zip flags 0x{info.flag_bits:04x})")
        # Overlapping members (one quoting another's zip entry inside its data) could each fit in the file yet
        # together claim many times its size; members that do not overlap cannot.
        self.claimed += info.compress_size
        if info.header_offset < 0:  # zipfile would seek there: an OSError, which would look like the environment's
            raise ValueError(f"member {name!r} starts at offset {info.header_offset}, before the file's start")
        if (info.file_size != info.compress_size or info.header_offset + info.compress_size > self.file_size
                or self.claimed > self.file_size):
            raise ValueError(f"member {name!r} claims {info.file_size} bytes ({info.compress_size} stored at offset "
                             f"{info.header_offset}); with the members read before it, that is more than the "
                             f"{self.file_size}-byte file holds")
        with self.archive.open(info) as member:
            dtype, shape, fortran_order, header_size = _read_npy_header(member, name)
            data_size = math.prod(shape) * dtype.itemsize
            if header_size + data_size != info.file_size:
                raise ValueError(f"member {name!r} holds {info.file_size - header_size} data bytes, but its header "
                                 f"describes {dtype} {shape}, {data_size} bytes")
            flat = np.empty(math.prod(shape), dtype)  # data_size bytes, at most the file's size (checked above)
            if data_size:
                _read_exactly_into(member, flat.view(np.uint8), name)  # the last byte read checks the CRC-32
        return flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)

    def decode(self, record, depth=0):
        if depth > MAX_DEPTH:
            raise ValueError(f"the structure is nested more than {MAX_DEPTH} containers deep")
        if not isinstance(record, dict):
            return record
        if "float_bits" in record:
            bits = record["float_bits"]
            if not (isinstance(bits, str) and re.fullmatch("[0-9a-f]{16}", bits)):
                raise ValueError(f"float_bits {bits!r} is not 16 hex digits")
            return struct.unpack(">d", bytes.fromhex(bits))[0]
        if "tensor" in record:
            requires_grad = record["requires_grad"]
            if not isinstance(requires_grad, bool):
                raise ValueError(f"requires_grad {requires_grad!r} is not a bool")
            return Tensor._wrap(self.array(record["tensor"]), requires_grad=requires_grad)
        if "array" in record:
            return self.array(record["array"])
        if "scalar" in record:
            array = self.array(record["scalar"])
            if array.ndim != 0:
                raise ValueError(f"scalar entry {record['scalar']!r} holds an array of shape {array.shape}")
            return array[()]
        if "dict" in record:
            kind = OrderedDict if record.get("ordered") is True else dict
            return kind((self.decode(k, depth + 1), self.decode(v, depth + 1))
                        for k, v in _json_list(record, "dict"))
        if "list" in record:
            return [self.decode(v, depth + 1) for v in _json_list(record, "list")]
        if "tuple" in record:
            return tuple(self.decode(v, depth + 1) for v in _json_list(record, "tuple"))
        raise ValueError(f"unknown record {sorted(record)}")


def _json_list(record, kind):
    items = record[kind]
    if not isinstance(items, list):
        raise ValueError(f"a {kind} record holds {type(items).__name__}, not a list")
    return items


def _read_npy_header(member, name):
    """``(dtype, shape, fortran_order, header_size)`` from the start of a ``.npy`` member; its data follows.

    Parsed here rather than by ``np.load``, so the member's size can be checked before its data is allocated.
    """
    version = np.lib.format.read_magic(member)  # ValueError unless the member starts with b"\x93NUMPY"
    if version not in {(1, 0), (2, 0), (3, 0)}:
        raise ValueError(f"member {name!r} is .npy version {version}, not 1.0, 2.0 or 3.0")
    length_format = "<H" if version == (1, 0) else "<I"
    (length,) = struct.unpack(length_format, _read_exactly(member, struct.calcsize(length_format), name))
    if length > _MAX_NPY_HEADER:
        raise ValueError(f"member {name!r} has a {length}-byte .npy header (at most {_MAX_NPY_HEADER})")
    text = _read_exactly(member, length, name).decode("utf-8" if version == (3, 0) else "latin-1")
    try:
        header = ast.literal_eval(text)
    except (SyntaxError, MemoryError, RecursionError) as err:  # the last two: nesting deeper than the parser's stack
        raise ValueError(f"member {name!r} has an unreadable .npy header ({type(err).__name__})") from None
    if not isinstance(header, dict) or sorted(header) != ["descr", "fortran_order", "shape"]:
        raise ValueError(f"member {name!r} has a .npy header without exactly descr, fortran_order and shape")
    shape, fortran_order = header["shape"], header["fortran_order"]
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)
            and isinstance(fortran_order, bool)):
        raise ValueError(f"member {name!r} has shape {shape!r} and fortran_order {fortran_order!r} in its header")
    dtype = np.lib.format.descr_to_dtype(header["descr"])
    if dtype.hasobject:
        raise ValueError(f"member {name!r} holds Python objects ({dtype}), which only unpickling could read; "
                         f"tr.load never runs pickled data")
    return dtype, shape, fortran_order, 6 + 2 + struct.calcsize(length_format) + length


def _read_exactly(member, size, name):
    data = member.read(size)
    if len(data) != size:
        raise ValueError(f"member {name!r} ends early")
    return data


def _read_exactly_into(member, out, name):
    """Fill the uint8 array ``out`` from ``member`` a chunk at a time (no second copy of the data in memory)."""
    for start in range(0, len(out), _CHUNK):
        chunk = _read_exactly(member, min(_CHUNK, len(out) - start), name)
        out[start:start + len(chunk)] = np.frombuffer(chunk, np.uint8)


def save(obj, path):
    """Write ``obj`` (nested dicts/lists of arrays, tensors and numbers) to ``path`` atomically; see the module doc.

    The file is written exactly at ``path`` (no extension is added); through a symbolic link, at its target.
    """
    path = os.path.realpath(os.fspath(path))
    writer = _Writer()
    structure = {"format": FORMAT, "version": VERSION, "root": writer.encode(obj)}
    # allow_nan: JSON has no ±inf; Python's json reads back its own Infinity tokens exactly (NaNs are float_bits).
    structure_bytes = np.frombuffer(json.dumps(structure, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    directory, name = os.path.split(path)
    _remove_killed_saves_temporaries(directory, name)
    mode = _file_mode(path)
    try:
        fd, tmp_path = _create_locked_temporary(directory, name)
    except OSError as err:  # name the folder the user chose, not the temporary file's invented name
        raise OSError(err.errno, f"tr.save: cannot create a file in this folder ({err.strerror})", directory) from None
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:  # fd stays open, and so locked, until the rename is done
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for entry, array in [(STRUCTURE, structure_bytes), *writer.arrays.items()]:
                    with archive.open(entry + ".npy", mode="w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    finally:
        os.close(fd)
    _fsync_directory(directory)


def _temporary_name(name, token):
    return f".{name}.{token}.tmp"


def _create_locked_temporary(directory, name):
    """A new private (0o600) file next to ``name``, locked until closed, so other saves see it is in use."""
    while True:
        tmp_path = os.path.join(directory, _temporary_name(name, secrets.token_hex(8)))
        try:
            fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        if fcntl is None:
            return fd, tmp_path
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd, tmp_path
        os.close(fd)  # another save removed it between its creation and the lock: take a new name


def _remove_killed_saves_temporaries(directory, name):
    """Delete the temporary files of earlier saves of ``name`` that were killed before they could clean up.

    Only names of exactly this module's pattern for ``name``, only regular files, and only unlocked ones: a save in
    progress (in any process) holds the lock on its file, and the kernel drops the lock when that process dies.
    """
    if fcntl is None:
        return
    pattern = re.compile(re.escape(_temporary_name(name, "@")).replace("@", "[0-9a-f]{16}"))
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError (an OSError): still being written
                os.remove(entry.path)
            except OSError:
                pass
            finally:
                os.close(fd)


def _file_mode(path):
    """The permission bits ``path`` has now, else those ``open(path, "w")`` would give (the temporary file is 0o600)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


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


def _open_zip(f):
    try:
        return zipfile.ZipFile(f)
    except NotImplementedError as err:  # how zipfile refuses a directory claiming a newer zip version
        raise ValueError(f"zipfile cannot read it: {err}") from None


def load(path):
    """Read an object written by :func:`save`. Never unpickles; a damaged file raises ValueError naming ``path``.

    A file that cannot be opened raises what ``open`` raises (FileNotFoundError, IsADirectoryError,
    PermissionError), as ``torch.load`` does: that is the environment, not the file's content.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            return _load_archive(f)
        except (ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"tr.load: {path!r} is not a readable tinyreg save file (corrupt or truncated?): "
                             f"{type(err).__name__}: {err}") from err


def _load_archive(f):
    with _open_zip(f) as archive:
        if STRUCTURE + ".npy" not in archive.namelist():
            raise ValueError(f"it has no {STRUCTURE} entry, so it was not written by tr.save")
        reader = _Reader(archive, os.fstat(f.fileno()).st_size)
        structure_bytes = reader.array(STRUCTURE)
        if structure_bytes.dtype != np.uint8 or structure_bytes.ndim != 1:
            raise ValueError(f"its {STRUCTURE} entry is {structure_bytes.dtype} {structure_bytes.shape}, "
                             f"not UTF-8 bytes")
        try:
            structure = json.loads(structure_bytes.tobytes().decode("utf-8"))
        except RecursionError:
            raise ValueError(f"its {STRUCTURE} JSON is nested too deeply to parse") from None
        if not isinstance(structure, dict) or structure.get("format") != FORMAT:
            raise ValueError(f"its {STRUCTURE} entry is not a {FORMAT} record")
        if structure.get("version") != VERSION:
            raise ValueError(f"format version {structure.get('version')!r} is not supported (expected {VERSION})")
        return reader.decode(structure["root"])
