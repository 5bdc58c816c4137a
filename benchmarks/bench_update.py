"""How fast is one optimizer update, per implementation, and how close does it come to the memory bandwidth?

    python benchmarks/bench_update.py                      # everything: ~5 minutes on 2 cores
    python benchmarks/bench_update.py --quick              # smoke run (CI): small W1, few repeats, under a minute
    python benchmarks/bench_update.py --only adamw W1 --threads 1
    python benchmarks/bench_update.py --json benchmarks/results/update.json --plot benchmarks/results/update.png

For every optimizer that declares benchmark settings (SGD-momentum with coupled decay, Adam with L2, AdamW, RMSprop,
Adagrad, NAdam, RAdam, Lion; each optimizer file's ``benchmark``), workload (W1, W2, W3: see workloads.py)
and thread count, each implementation starts from the same θ_0 with its grads already set; all of them (and the
ceiling) are then timed in 5 interleaved rounds, each round a few untimed warm-up steps per implementation (JIT,
state allocation, caches) followed by its timed steps (W1: 20, W2: 200, W3: 100 in all). Columns:

    median ms, min ms   step time over the timed steps
    GB/s                the byte model (20 or 28 B/element, bandwidth.py) divided by the median step time
    % ceiling           the ceiling row's median time / this row's: how much of the achievable bandwidth it reaches
    × torch fused       this row's median time / torch fused's (below 1: faster than torch's fastest CPU path)

The ceiling row is an in-place streaming kernel over the same bytes (bandwidth.py). Every row but the ceiling is
checked against the float64 reference after its timed steps (guard.py): a wrong result stops the run.
"""

import argparse
import sys

import numpy as np

import bandwidth
import guard
import tinyreg_updates
import torch_updates
from machine import Interference, cores, machine_info, machine_line, record_end_of_run, set_threads, thread_counts
from output import format_table, write_json
from timing import time_rounds, total_calls
from tinyreg.optim import OPTIMIZERS as OPTIMIZER_CLASSES
from workloads import start_state, workloads

# Every optimizer that declares benchmark settings, described by its class and decay convention.
OPTIMIZERS = {name: f"{OPTIMIZER_CLASSES[name].__name__} ({settings.get('decay') or 'default decay'})"
              for name, settings in guard.HYPERPARAMETERS.items()}
CEILING = "ceiling: in-place stream"
BASELINE = "torch fused"
# (warm-up calls per round, timed calls, rounds) per workload: all implementations of one workload are timed in
# interleaved rounds (timing.py). W1's steps take milliseconds and its arrays never stay in cache, so one warm-up
# call per round is enough; the in-cache workloads re-warm their caches after the other implementations ran.
COUNTS = {"W1": (1, 20, 5), "W2": (5, 200, 5), "W3": (3, 100, 5)}
QUICK_COUNTS = (1, 3, 1)
COLUMNS = ["optimizer", "workload", "threads", "implementation", "median ms", "min ms", "GB/s", "% ceiling",
           "× torch fused"]


def implementations() -> dict:
    """Name -> builder ``(variant, optimizer, workload, start, threads) -> (step, state)``, in table order."""
    impls = {name: tinyreg_updates.build for name in tinyreg_updates.VARIANTS}
    if torch_updates.available():
        impls.update({name: torch_updates.build for name in torch_updates.VARIANTS})
    return impls


WORKLOADS = ("w1", "w2", "w3")
# The words of the implementation names (``--only fused`` picks every fused row), whether or not torch is installed.
IMPLEMENTATION_WORDS = sorted({word for name in (*tinyreg_updates.VARIANTS, *torch_updates.VARIANTS)
                               for word in name.split()})


def only_term(text: str) -> str:
    """An ``--only`` term, lower-cased: an optimizer, a workload or a word of an implementation name.

    An ``argparse`` ``type=``: anything else is a usage error listing the valid terms (a typo must not quietly
    select every implementation).
    """
    term = text.lower()
    if term in OPTIMIZERS or term in WORKLOADS or term in IMPLEMENTATION_WORDS:
        return term
    raise argparse.ArgumentTypeError(
        f"unknown term {text!r}: expected an optimizer ({' '.join(OPTIMIZERS)}), a workload (W1 W2 W3) or a word "
        f"of an implementation name ({' '.join(IMPLEMENTATION_WORDS)})")


def selected(terms: list[str], optimizer: str, workload: str, implementation: str) -> bool:
    """``--only`` terms (lower-cased by :func:`only_term`), each matching an optimizer or workload name or a word of
    an implementation name.

    Within one kind the terms are alternatives; kinds combine with "and". The ceiling and torch fused always run
    (the other rows are measured against them).
    """
    by_kind = {
        "optimizer": [t for t in terms if t in OPTIMIZERS],
        "workload": [t for t in terms if t in WORKLOADS],
    }
    by_kind["implementation"] = [t for t in terms if t not in by_kind["optimizer"] + by_kind["workload"]]
    ok_optimizer = not by_kind["optimizer"] or optimizer in by_kind["optimizer"]
    ok_workload = not by_kind["workload"] or workload.lower() in by_kind["workload"]
    ok_impl = (not by_kind["implementation"] or implementation in (CEILING, BASELINE)
               or any(t in implementation.split() for t in by_kind["implementation"]))
    return ok_optimizer and ok_workload and ok_impl


def measure(optimizer, workload, threads, impls, terms, counts, start, want, rng) -> list[dict]:
    """Rows for one (optimizer, workload, thread count): the ceiling first, then every selected implementation.

    ``counts``: (warm-up calls per round, timed calls, rounds) for :func:`~timing.time_rounds`; ``start``: θ_0 and g;
    ``want``: the reference run from them for as many steps as each implementation takes.
    """
    base = dict(optimizer=optimizer, workload=workload.name, elements=workload.elements,
                tensors=len(workload.shapes), threads=threads)
    fns = {f"{CEILING} ({kernel})": fn
           for kernel, fn in bandwidth.ceiling_steps(optimizer, workload.elements, threads, rng).items()}
    states = {}
    for name, build in impls.items():
        if selected(terms, optimizer, workload.name, name) and (not name.startswith("torch")
                                                                 or torch_updates.supports(name, optimizer)):
            fns[name], states[name] = build(name, optimizer, workload, start, threads)
    timings = time_rounds(fns, *counts)
    for name, state in states.items():
        guard.check(name, state(), want, {"θ": start.theta}, total_calls(*counts))
    ceilings = {name: timings[name] for name in fns if name.startswith(CEILING)}
    fastest = min(ceilings, key=lambda name: ceilings[name].median)
    rows = [dict(base, implementation=CEILING, ceiling_kernel=fastest[len(CEILING) + 2:-1],
                 **ceilings[fastest].as_dict())]
    rows += [dict(base, implementation=name, checked=True, **timings[name].as_dict()) for name in states]
    ceiling_s = rows[0]["median_s"]
    baseline_s = next((r["median_s"] for r in rows if r["implementation"] == BASELINE), None)
    for row in rows:
        row["bytes_per_element"] = bandwidth.bytes_per_element(optimizer)
        row["gb_per_s"] = bandwidth.gb_per_s(optimizer, workload.elements, row["median_s"])
        row["gb_per_s_at_min"] = bandwidth.gb_per_s(optimizer, workload.elements, row["min_s"])
        row["ceiling_fraction"] = ceiling_s / row["median_s"]
        row["torch_fused_ratio"] = row["median_s"] / baseline_s if baseline_s else None
    return rows


def table_rows(rows: list[dict]) -> list[list]:
    return [[r["optimizer"], r["workload"], r["threads"], r["implementation"], r["median_s"] * 1e3, r["min_s"] * 1e3,
             r["gb_per_s"], 100 * r["ceiling_fraction"], r["torch_fused_ratio"]] for r in rows]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: W1 of 2^20 elements, 1 round of 1 warm-up + 3 timed calls")
    parser.add_argument("--only", nargs="+", type=only_term, default=[], metavar="TERM",
                        help=f"optimizers ({' '.join(OPTIMIZERS)}), workloads (W1 W2 W3) and/or words of implementation names "
                             f"({' '.join(IMPLEMENTATION_WORDS)})")
    parser.add_argument("--threads", type=thread_counts, default=sorted({1, cores()}),
                        help=f"comma-separated thread counts (default: 1 and all {cores()} cores)")
    parser.add_argument("--json", metavar="PATH", help="also write the machine info and every row as JSON")
    parser.add_argument("--plot", metavar="PATH", help="also plot step time vs workload (needs matplotlib)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    interference = Interference()
    info = machine_info()
    print(f"bench_update: optimizer step time per implementation{' (--quick)' if args.quick else ''}")
    print(machine_line(info))
    impls = implementations()
    if not torch_updates.available():
        print("torch is not installed: no torch rows, no × torch fused column")
    rng = np.random.default_rng(0)
    rows = []
    for optimizer in OPTIMIZERS:
        for workload in workloads(args.quick):
            if not selected(args.only, optimizer, workload.name, CEILING):
                continue
            start = start_state(workload)
            counts = QUICK_COUNTS if args.quick else COUNTS[workload.name]
            want = guard.reference_run(optimizer, start.theta, start.grad, total_calls(*counts))
            for threads in args.threads:
                set_threads(threads)
                print(f"measuring {optimizer} {workload.name}, {threads} thread(s) ...", file=sys.stderr, flush=True)
                rows.append(measure(optimizer, workload, threads, impls, args.only, counts, start, want, rng))
    if not rows:
        print(f"--only {' '.join(args.only)} selected nothing", file=sys.stderr)
        return 2
    print("\n" + format_table(COLUMNS, [line for group in rows for line in table_rows(group) + [None]][:-1]))
    if args.quick:
        print("\n--quick is a smoke run: its W1 fits in the last-level cache and each row is 3 calls, so GB/s, "
              "% ceiling and × torch fused are not measurements")
    rows = [row for group in rows for row in group]
    info["workloads"] = {w.name: dict(description=w.description, elements=w.elements, tensors=len(w.shapes))
                         for w in workloads(args.quick)}
    info["threading_layer"] = bandwidth.threading_layer()
    payload = dict(machine=info, quick=args.quick, optimizers=OPTIMIZERS, hyperparameters=guard.HYPERPARAMETERS,
                   rows=rows)
    print("\n" + record_end_of_run(info, interference))
    if args.json:
        write_json(args.json, payload)
        print(f"\nwrote {args.json}")
    if args.plot:
        import plot

        plot.plot_update(payload, args.plot)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
