"""Decompression bombs cost bounded memory: small crafted files that expand to 128-256 MiB, read in a fresh process
whose peak RSS growth must stay under a fixed budget (one process for all bombs: interpreter start-up is the cost)."""

import gzip
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinyreg as tr
from tinyreg.data import write_idx

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MIB = 32
ZEROS_MIB = 16

# Runs each case and prints {case: [outcome, peak RSS growth in KiB]}: the high-water mark after the case minus the
# resident size before the first, an upper bound of what every case up to that one needed.
CHILD = r"""
import json, resource, sys
from tinyreg.data import load_fashion_mnist, read_idx
from tinyreg.serialization import load

def status_kib(field):  # this process's own figures (ru_maxrss would include the parent's peak before exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

cases = json.loads(sys.argv[1])
# A safety net against a regression taking the machine's memory (not the measurement): 1 GiB more address space.
resource.setrlimit(resource.RLIMIT_AS, (status_kib("VmSize") * 1024 + (1 << 30), resource.RLIM_INFINITY))
start, results = status_kib("VmRSS"), {}
for case, (function, args) in cases.items():
    try:
        result = {"load": load, "read_idx": read_idx, "load_fashion_mnist": load_fashion_mnist}[function](*args)
        outcome = "loaded " + type(result).__name__
    except Exception as err:
        outcome = f"{type(err).__name__}: {err}"
    results[case] = [outcome, status_kib("VmHWM") - start]
print(json.dumps(results))
"""


def gzip_zeros_after(head, mib):
    """``head`` then ``mib`` MiB of zeros, gzip-compressed: concatenated gzip members decompress as one stream."""
    zeros = gzip.compress(bytes(ZEROS_MIB << 20), compresslevel=9, mtime=0)  # 16 MiB -> 16 KiB
    return gzip.compress(head, mtime=0) + zeros * (mib // ZEROS_MIB)


def add_deflated_zeros(path, name, mib):
    """Append a DEFLATE member: a uint8 .npy header, then ``mib`` MiB of zeros (about 1 MiB in the file)."""
    header = (np.lib.format.header_data_from_array_1_0(np.zeros(0, np.uint8)) | {"shape": (mib << 20,)})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(name, "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
            for _ in range(mib):  # level 1: about 0.35 s for 128 MiB
                member.write(bytes(1 << 20))


def idx_header(code, *dims):
    return bytes([0, 0, code, len(dims)]) + b"".join(n.to_bytes(4, "big") for n in dims)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident size from /proc (Linux)")
def test_decompression_bombs_cost_bounded_memory(tmp_path):
    unreferenced = tmp_path / "unreferenced.npz"
    tr.save({"w": np.arange(3.0)}, unreferenced)
    add_deflated_zeros(unreferenced, "bomb.npy", 128)
    referenced = tmp_path / "referenced.npz"
    structure = json.dumps({"format": "tinyreg.save", "version": 1, "root": {"array": "bomb"}}).encode()
    with zipfile.ZipFile(referenced, "w") as archive:  # a structure pointing at the bomb
        with archive.open("__structure__.npy", "w") as member:
            np.lib.format.write_array(member, np.frombuffer(structure, np.uint8))
    add_deflated_zeros(referenced, "bomb.npy", 128)
    (tmp_path / "valid-header.gz").write_bytes(gzip_zeros_after(idx_header(0x08, 10) + bytes(10), 256))
    (tmp_path / "bad-magic.gz").write_bytes(gzip_zeros_after(b"\x01\x02\x08\x01", 256))
    fashion = tmp_path / "fashion"
    fashion.mkdir()
    (fashion / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip_zeros_after(idx_header(0x08, 10_000, 28, 28) + bytes(10_000 * 28 * 28), 256))
    write_idx(fashion / "t10k-labels-idx1-ubyte", np.zeros(10_000, np.uint8))
    assert max(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) < 2 << 20  # each bomb is small
    cases = {
        "checkpoint with an unreferenced 128 MiB member": ("load", [str(unreferenced)]),
        "checkpoint referring to a 128 MiB deflated member": ("load", [str(referenced)]),
        "IDX: valid header, then 256 MiB": ("read_idx", [str(tmp_path / "valid-header.gz")]),
        "IDX: bad magic, then 256 MiB": ("read_idx", [str(tmp_path / "bad-magic.gz")]),
        "Fashion-MNIST images, then 256 MiB": ("load_fashion_mnist", [str(fashion), "test", False]),
    }
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cases)], env=env, cwd=tmp_path,  # cwd is on sys.path
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    report = "\n".join(f"{case}: {outcome} (peak RSS growth {kib / 1024:.1f} MiB)"
                       for case, (outcome, kib) in results.items())
    expected = ["loaded dict", "ValueError: .*referenced.npz.*'bomb.npy' is compressed",
                "DataError: .*valid-header.gz: .*needs 10 data bytes, file has more",
                "DataError: .*bad-magic.gz: bad IDX magic 01020801",
                "DataError: .*t10k-images-idx3-ubyte.gz: .*needs 7840000 data bytes, file has more"]
    for (outcome, _), pattern in zip(results.values(), expected):
        assert re.match(pattern, outcome), report
    assert max(kib for _, kib in results.values()) < BUDGET_MIB * 1024, report
