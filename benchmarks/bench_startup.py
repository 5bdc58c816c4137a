"""JIT start-up: from a fresh process to the first completed ``step()``, with Numba's cache cold and warm.

    python benchmarks/bench_startup.py               # SGD, Adam, AdamW: 1 cold and 3 warm processes each
    python benchmarks/bench_startup.py --quick       # AdamW only, 1 cold and 1 warm process

tinyreg's fused kernels are compiled by Numba the first time they run and cached on disk (``cache=True``). A cold
cache pays the compilation once; afterwards every new process only loads machine code. Each measurement is a new
Python process whose Numba cache is a private directory (``NUMBA_CACHE_DIR``): empty for the cold run, filled by
it for the warm ones. The repository's own ``__pycache__`` is never touched.

Columns (seconds):
    import            ``import tinyreg`` with ``nn`` and ``optim`` (NumPy and Numba imports included)
    first step        after the import: build the MLP of bench_train, one forward, backward and ``step()``
    step() alone      the first ``optimizer.step()`` call by itself (where the kernels compile or load)
    process           wall time of the whole child process, interpreter start to exit, seen from outside
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from machine import Interference, machine_info, machine_line, record_end_of_run
from output import format_table, write_json

OPTIMIZERS = ("SGD", "Adam", "AdamW")
HYPER = {"SGD": dict(lr=1e-2, momentum=0.9, weight_decay=1e-4), "Adam": dict(lr=1e-3, weight_decay=1e-4),
         "AdamW": dict(lr=1e-3, weight_decay=1e-2)}
WARM_RUNS = 3


def child(optimizer_name: str) -> dict:
    """Runs in the fresh process: time the import, then the first training step."""
    start = time.perf_counter()
    import numpy as np

    import tinyreg as tr
    from tinyreg import nn, optim
    from tinyreg.experiments.dropout_fashion_mnist import DROPOUT
    from tinyreg.experiments.training import mlp

    imported = time.perf_counter()
    tr.manual_seed(0)
    model = mlp(dropout=DROPOUT)
    optimizer = getattr(optim, optimizer_name)(model.parameters(), **HYPER[optimizer_name])
    x = tr.tensor(np.zeros((128, 784), np.float32))
    y = tr.tensor(np.zeros(128, np.int64))
    nn.functional.cross_entropy(model(x), y).backward()
    before_step = time.perf_counter()
    optimizer.step()
    done = time.perf_counter()
    return dict(import_s=imported - start, first_step_s=done - imported, step_s=done - before_step)


def run_child(optimizer_name: str, cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", optimizer_name], env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"bench_startup child ({optimizer_name}) failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.splitlines()[-1]), process_s=wall)


def measure(optimizer_name: str, warm_runs: int) -> list[dict]:
    """One cold run (empty private cache), then ``warm_runs`` warm ones; medians of the warm runs."""
    with tempfile.TemporaryDirectory(prefix="tinyreg-numba-cache-") as cache_dir:
        cold = run_child(optimizer_name, cache_dir)
        warm = [run_child(optimizer_name, cache_dir) for _ in range(warm_runs)]
    median = {key: statistics.median(run[key] for run in warm) for key in cold}
    return [dict(optimizer=optimizer_name, cache="cold", runs=1, **cold),
            dict(optimizer=optimizer_name, cache="warm", runs=warm_runs, **median)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="AdamW only, one warm run")
    parser.add_argument("--json", metavar="PATH", help="also write the machine info and the rows as JSON")
    parser.add_argument("--child", choices=OPTIMIZERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    interference = Interference()
    info = machine_info()
    quick = " (--quick)" if args.quick else ""
    print(f"bench_startup: fresh process to first step(), Numba cache cold and warm{quick}")
    print(machine_line(info))
    rows = []
    for name in ("AdamW",) if args.quick else OPTIMIZERS:
        rows += measure(name, 1 if args.quick else WARM_RUNS)
    print("\n" + format_table(["optimizer", "cache", "runs", "import s", "first step s", "step() alone s", "process s"],
                              [[r["optimizer"], r["cache"], r["runs"], r["import_s"], r["first_step_s"], r["step_s"],
                                r["process_s"]] for r in rows]))
    print("\n" + record_end_of_run(info, interference))
    if args.json:
        write_json(args.json, dict(machine=info, quick=args.quick, rows=rows))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
