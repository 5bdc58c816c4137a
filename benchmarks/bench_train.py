"""One training step of the dropout MLP, tinyreg against torch; and what each autodiff op costs on a tiny graph.

    python benchmarks/bench_train.py                 # 1 thread and all cores: ~1 minute
    python benchmarks/bench_train.py --quick         # smoke run (CI)
    python benchmarks/bench_train.py --threads 1 --json benchmarks/results/train.json

The model is experiment 3's (``mlp(dropout=DROPOUT)`` of tinyreg/experiments)::

    784 → Linear 256 → ReLU → Dropout(0.3) → Linear 128 → ReLU → Dropout(0.5) → Linear 10,  cross-entropy

batch 128, float32, Adam (lr 1e-3). One step is ``loss = cross_entropy(model(x), y); loss.backward();
optimizer.step(); optimizer.zero_grad()`` with the defaults a user gets: tinyreg's Adam as constructed, torch's Adam
with ``fused=True`` (its fastest CPU path). A third row is the floor: the same step written by hand in NumPy
(numpy_mlp.py: no graph, gradients written in place, then tinyreg's Adam.step()), so the gap between it and tinyreg
is what the autodiff engine and ``nn`` cost. All start from the same weights; before timing, one step in eval mode
(no dropout) must give the same loss and gradients in all three, so they really compute the same thing. The three
are timed in interleaved rounds (timing.py).

Each thread count runs in a fresh child process with OMP/OpenBLAS/MKL/Numba thread variables set before any import:
the matmuls run in BLAS (OpenBLAS under NumPy, MKL/oneDNN under torch), whose thread pools are sized at load time.

Columns: ``median ms``/``min ms`` per step; ``× torch`` = the row's median / torch's (below 1: faster than torch).
The per-op table times a chain of tiny elementwise ops (8 elements, so the arithmetic is free) forward and
backward: µs per op is what the framework's bookkeeping costs, next to bare NumPy calls (forward only, no graph).
"""

import argparse
import json
import subprocess
import sys

import numpy as np

from machine import Interference, cores, machine_info, machine_line, record_end_of_run, thread_counts, thread_env
from output import format_table, write_json
from timing import time_rounds

BATCH, IN_FEATURES, CLASSES = 128, 784, 10
LR = 1e-3
COUNTS = (5, 100, 5)       # (warm-up steps per round, timed steps, rounds): see timing.time_rounds
QUICK_COUNTS = (2, 5, 1)
OP_COUNTS = (20, 200, 5)   # the same for the per-op chains (each call runs 301 ops)
HAND = "NumPy by hand (no autodiff)"
TORCH = "torch (fused Adam)"
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
                linear.weight.copy_(torch.from_numpy(np.asarray(layer.weight)))
                linear.bias.copy_(torch.from_numpy(np.asarray(layer.bias)))
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


def check_same_computation(ours, hand, theirs, x, y) -> None:
    """In eval mode (dropout off) tinyreg, the hand-written NumPy step and torch (if installed) must give the same
    loss and gradients, or the timing would compare different computations. float32 matmuls in two BLAS libraries
    differ by rounding only."""
    import tinyreg as tr
    from tinyreg import nn

    ours.eval()
    hand.training = False
    loss = nn.functional.cross_entropy(ours(tr.tensor(x)), tr.tensor(y))
    loss.backward()
    ours_grads = [np.asarray(p.grad) for p in ours.parameters()]
    others = {"the hand-written NumPy step": (hand.loss_and_grads(x, y), [np.asarray(p.grad) for p in hand.params])}
    if theirs is not None:
        import torch

        theirs.eval()
        loss_torch = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        loss_torch.backward()
        others["torch"] = (loss_torch.item(), [q.grad.numpy() for q in theirs.parameters()])
        theirs.zero_grad()
        theirs.train()
    names = [name for name, _ in ours.named_parameters()]
    for other, (other_loss, other_grads) in others.items():
        pairs = [("loss", loss.item(), other_loss)] + [(f"grad of {n}", a, b)
                                                      for n, a, b in zip(names, ours_grads, other_grads)]
        for what, a, b in pairs:
            if not np.allclose(a, b, rtol=1e-4, atol=1e-6):
                raise AssertionError(f"bench_train: tinyreg and {other} disagree on the {what} in eval mode "
                                     f"(max difference {np.max(np.abs(np.asarray(a) - b)):.3g}); not timing")
    ours.zero_grad()
    ours.train()
    hand.training = True


def per_op_costs(counts) -> list[dict]:
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
    timings = time_rounds(dict(rows), *counts)
    return [dict(framework=name, ops=ops, us_per_op=timing.median / ops * 1e6) for name, timing in timings.items()]


def child(threads: int, quick: bool) -> dict:
    """Measure in this process (started by :func:`main` with the thread variables set)."""
    from numpy_mlp import HandWrittenMLP
    from tinyreg.experiments.dropout_fashion_mnist import DROPOUT

    try:
        import torch
    except ImportError:
        torch = None
    counts = QUICK_COUNTS if quick else COUNTS
    x, y = batch(np.random.default_rng(0))
    ours = tinyreg_model()
    hand = HandWrittenMLP(ours, DROPOUT, LR)
    theirs = None
    if torch is not None:
        torch.set_num_threads(threads)
        theirs = torch_model(ours)
    check_same_computation(ours, hand, theirs, x, y)
    steps = {"tinyreg": tinyreg_step(ours, x, y), HAND: hand.step_fn(x, y)}
    if theirs is not None:
        steps[TORCH] = torch_step(theirs, x, y)
    rows = [dict(threads=threads, framework=name, **timing.as_dict())
            for name, timing in time_rounds(steps, *counts).items()]
    ops = per_op_costs(QUICK_COUNTS if quick else OP_COUNTS) if threads == 1 else []
    return dict(machine=machine_info(), rows=rows, per_op=ops)


def run_child(threads: int, quick: bool) -> dict:
    command = [sys.executable, __file__, "--child", str(threads)] + (["--quick"] if quick else [])
    done = subprocess.run(command, env=thread_env(threads), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench_train child with {threads} thread(s) failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_COUNTS[1]} timed steps")
    parser.add_argument("--threads", type=thread_counts, default=sorted({1, cores()}),
                        help=f"comma-separated thread counts (default: 1 and {cores()})")
    parser.add_argument("--json", metavar="PATH", help="also write the machine info and the rows as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.quick)))
        return 0

    interference = Interference()
    info = machine_info()
    print(f"bench_train: one training step, MLP 784-256-128-10 with dropout, batch {BATCH}, float32, Adam"
          f"{' (--quick)' if args.quick else ''}")
    print(machine_line(info))
    rows, per_op = [], []
    for threads in args.threads:
        # The child imports torch and times every framework: seconds of silence otherwise.
        print(f"timing {threads} thread{'s' if threads > 1 else ''} in a fresh process ...", flush=True)
        result = run_child(threads, args.quick)
        torch_s = next((r["median_s"] for r in result["rows"] if r["framework"] == TORCH), None)
        for r in result["rows"]:
            r["torch_ratio"] = r["median_s"] / torch_s if torch_s else None
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
