"""One training step of the dropout MLP, tinyreg against torch; and what each autodiff op costs on a tiny graph.

    python benchmarks/bench_train.py                 # 1 thread and all cores: ~1 minute
    python benchmarks/bench_train.py --quick         # smoke run (CI)
    python benchmarks/bench_train.py --threads 1 --json benchmarks/results/train.json

The model is experiment 3's (``mlp(dropout=DROPOUT)`` of tinyreg/experiments)::

    784 → Linear 256 → ReLU → Dropout(0.3) → Linear 128 → ReLU → Dropout(0.5) → Linear 10,  cross-entropy

batch 128, float32, Adam (lr 1e-3). One step is ``loss = cross_entropy(model(x), y); loss.backward();
optimizer.step(); optimizer.zero_grad()`` with the defaults a user gets: tinyreg's Adam as constructed, torch's Adam
with ``fused=True`` (its fastest CPU path). Both models start from the same weights; before timing, one step in eval
mode (no dropout) must give the same loss and gradients in both, so the two really compute the same thing.

Each thread count runs in a fresh child process with OMP/OpenBLAS/MKL/Numba thread variables set before any import:
the matmuls run in BLAS (OpenBLAS under NumPy, MKL/oneDNN under torch), whose thread pools are sized at load time.

Columns: ``median ms``/``min ms`` per step; ``× torch`` = tinyreg's median / torch's (below 1: tinyreg is faster).
The per-op table times a chain of tiny elementwise ops (8 elements, so the arithmetic is free) forward and
backward: µs per op is what the framework's bookkeeping costs, next to bare NumPy calls (forward only, no graph).
"""

import argparse
import json
import subprocess
import sys

import numpy as np

from machine import Interference, cores, machine_info, machine_line, record_end_of_run, thread_env
from output import format_table, write_json
from timing import time_calls

BATCH, IN_FEATURES, CLASSES = 128, 784, 10
LR = 1e-3
REPEATS = (10, 100)        # (warm-up, timed) training steps
QUICK_REPEATS = (2, 5)
CHAIN = 100                # links of the per-op chain, 3 ops each: y ← tanh(y·a + b)


def batch(rng):
    """A fixed batch: inputs like Fashion-MNIST's after normalisation (in [−1, 1]) and random labels."""
    return (rng.uniform(-1, 1, (BATCH, IN_FEATURES)).astype(np.float32),
            rng.integers(0, CLASSES, BATCH).astype(np.int64))


def tinyreg_model():
    import tinyreg as tr
    from tinyreg.experiments.dropout_fashion_mnist import DROPOUT
    from tinyreg.experiments.training import mlp

    tr.manual_seed(0)
    return mlp(dropout=DROPOUT)


def torch_model(tinyreg_mlp):
    """torch's twin of the tinyreg model, with the same layer order, dropout rates and weights."""
    import torch

    layers = []
    for layer in tinyreg_mlp:
        kind = type(layer).__name__
        if kind == "Linear":
            linear = torch.nn.Linear(layer.in_features, layer.out_features)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.weight.data))
                linear.bias.copy_(torch.from_numpy(layer.bias.data))
            layers.append(linear)
        elif kind == "ReLU":
            layers.append(torch.nn.ReLU())
        elif kind == "Dropout":
            layers.append(torch.nn.Dropout(layer.p))
        else:
            raise TypeError(f"torch_model: no torch twin for layer {kind}")
    return torch.nn.Sequential(*layers)


def tinyreg_step(model, x, y):
    import tinyreg as tr
    from tinyreg import nn

    optimizer = tr.optim.Adam(model.parameters(), lr=LR)
    inputs, labels = tr.tensor(x), tr.tensor(y)

    def step():
        loss = nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    return step


def torch_step(model, x, y):
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    return step


def check_same_computation(ours, theirs, x, y) -> None:
    """In eval mode (dropout off) both models must give the same loss and gradients: else the timing compares two
    different computations. float32 matmuls in two BLAS libraries differ by rounding only."""
    import torch

    import tinyreg as tr
    from tinyreg import nn

    ours.eval(), theirs.eval()
    loss = nn.functional.cross_entropy(ours(tr.tensor(x)), tr.tensor(y))
    loss.backward()
    loss_torch = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
    loss_torch.backward()
    pairs = [("loss", loss.item(), loss_torch.item())]
    pairs += [(f"grad of {name}", p.grad, q.grad.numpy())
              for (name, p), q in zip(ours.named_parameters(), theirs.parameters())]
    for what, a, b in pairs:
        if not np.allclose(a, b, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"bench_train: tinyreg and torch disagree on the {what} in eval mode "
                                 f"(max difference {np.max(np.abs(np.asarray(a) - b)):.3g}); not timing")
    ours.zero_grad(), theirs.zero_grad()
    ours.train(), theirs.train()


def per_op_costs(warmup, repeats) -> list[dict]:
    """µs per op of a chain y ← tanh(y·a + b) (3·CHAIN ops, then a sum) on 8 elements, forward and backward."""
    import tinyreg as tr

    a, b = 1.0001, 0.001
    x_np = np.linspace(-1, 1, 8, dtype=np.float32)
    ops = 3 * CHAIN + 1

    def numpy_forward():
        y = x_np
        for _ in range(CHAIN):
            y = np.tanh(y * a + b)
        return y.sum()

    x_tr = tr.tensor(x_np, requires_grad=True)

    def tinyreg_graph():
        y = x_tr
        for _ in range(CHAIN):
            y = (y * a + b).tanh()
        y.sum().backward()
        x_tr.grad = None

    rows = [("numpy, forward only (no graph)", numpy_forward), ("tinyreg, forward + backward", tinyreg_graph)]
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        x_torch = torch.from_numpy(x_np.copy()).requires_grad_()

        def torch_graph():
            y = x_torch
            for _ in range(CHAIN):
                y = (y * a + b).tanh()
            y.sum().backward()
            x_torch.grad = None

        rows.append(("torch, forward + backward", torch_graph))
    return [dict(framework=name, ops=ops, us_per_op=time_calls(fn, warmup, repeats).median / ops * 1e6)
            for name, fn in rows]


def child(threads: int, quick: bool) -> dict:
    """Measure in this process (started by :func:`main` with the thread variables set)."""
    import torch

    torch.set_num_threads(threads)
    warmup, repeats = QUICK_REPEATS if quick else REPEATS
    x, y = batch(np.random.default_rng(0))
    ours = tinyreg_model()
    theirs = torch_model(ours)
    check_same_computation(ours, theirs, x, y)
    steps = {"tinyreg": tinyreg_step(ours, x, y), "torch (fused Adam)": torch_step(theirs, x, y)}
    rows = [dict(threads=threads, framework=name, **time_calls(step, warmup, repeats).as_dict())
            for name, step in steps.items()]
    ops = per_op_costs(warmup * 10, repeats * 2) if threads == 1 else []
    return dict(machine=machine_info(), rows=rows, per_op=ops)


def run_child(threads: int, quick: bool) -> dict:
    command = [sys.executable, __file__, "--child", str(threads)] + (["--quick"] if quick else [])
    done = subprocess.run(command, env=thread_env(threads), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench_train child with {threads} thread(s) failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_REPEATS[1]} timed steps")
    parser.add_argument("--threads", default=None, help=f"comma-separated thread counts (default: 1 and {cores()})")
    parser.add_argument("--json", metavar="PATH", help="also write the machine info and the rows as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.quick)))
        return 0
    counts = sorted({1, cores()} if args.threads is None else {int(n) for n in args.threads.split(",")})
    if any(n < 1 or n > cores() for n in counts):
        parser.error(f"--threads: each count must be between 1 and {cores()}, got {args.threads}")

    interference = Interference()
    info = machine_info()
    print(f"bench_train: one training step, MLP 784-256-128-10 with dropout, batch {BATCH}, float32, Adam"
          f"{' (--quick)' if args.quick else ''}")
    print(machine_line(info))
    rows, per_op = [], []
    for threads in counts:
        result = run_child(threads, args.quick)
        by_name = {r["framework"]: r for r in result["rows"]}
        torch_s = by_name["torch (fused Adam)"]["median_s"]
        for r in result["rows"]:
            r["torch_ratio"] = r["median_s"] / torch_s
        rows += result["rows"]
        per_op += result["per_op"]
    print("\n" + format_table(["threads", "framework", "median ms", "min ms", "× torch"],
                              [[r["threads"], r["framework"], r["median_s"] * 1e3, r["min_s"] * 1e3, r["torch_ratio"]]
                               for r in rows]))
    if per_op:
        print(f"\nautodiff cost per op (chain of {per_op[0]['ops']} ops on 8 elements, 1 thread)")
        print(format_table(["framework", "µs per op"], [[r["framework"], r["us_per_op"]] for r in per_op]))
    print("\n" + record_end_of_run(info, interference))
    if args.json:
        write_json(args.json, dict(machine=info, quick=args.quick, batch=BATCH, lr=LR, rows=rows, per_op=per_op))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
