"""Write the measured tables into benchmarks/README.md (and the headline into README.md) from the JSON results.

    python benchmarks/report.py            # after bench_update/bench_train/bench_startup wrote benchmarks/results/

Only the blocks between ``<!-- BEGIN generated -->`` and ``<!-- END generated -->`` (benchmarks/README.md) and
between ``<!-- BEGIN generated headline -->`` and ``<!-- END generated headline -->`` (README.md) are replaced, so
every number in them comes from a JSON file and none is typed by hand. The target table applies the issue's
thresholds to the same rows.
"""

import json
import os
import sys

from bench_train import HAND, TORCH

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BENCH_README = os.path.join(HERE, "README.md")
MAIN_README = os.path.join(os.path.dirname(HERE), "README.md")

FUSED = {1: "tinyreg fused serial"}  # the fused kernel a target means: serial on 1 thread, parallel on more
FUSED_PARALLEL = "tinyreg fused parallel"
OPTIMIZER = "tinyreg optimizer"
WORKLOADS = ("W1", "W2", "W3")


def load(name: str) -> dict | None:
    path = os.path.join(RESULTS, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def num(x, digits: int = 3) -> str:
    """Like the terminal tables: ``digits`` significant digits."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    from math import floor, log10

    return f"{x:.{max(0, digits - 1 - floor(log10(abs(x))))}f}"


def markdown_table(header: list[str], rows: list[list], align: str) -> list[str]:
    """``align``: one character per column, "l" or "r"."""
    rule = ["---" if a == "l" else "--:" for a in align]
    return ["| " + " | ".join(map(str, line)) + " |" for line in [header, rule] + rows]


def machine_line(machine: dict) -> str:
    return (f"{machine['cpu']}, {machine['cores']} cores; Python {machine['python']}, numpy {machine['numpy']}, "
            f"numba {machine['numba']}, torch {machine['torch']}")


def load_text(machine: dict) -> str:
    """The 1-minute load average when the run started and ended (other processes competing for the cores)."""
    end = machine.get("load_average_1min_end")
    text = f"{machine['load_average_1min']} at the start" + (f", {end} at the end" if end is not None else "")
    others = machine.get("other_processes_cpu")
    if others is not None:
        text += f" (the benchmark's own threads included); CPU used by other processes: {100 * others:.1f} %"
    return text


class Update:
    """Rows of bench_update's JSON, looked up by (optimizer, workload, threads, implementation)."""

    def __init__(self, payload: dict):
        self.payload = payload
        self.rows = {(r["optimizer"], r["workload"], r["threads"], r["implementation"]): r for r in payload["rows"]}
        self.threads = sorted({r["threads"] for r in payload["rows"]})
        self.implementations = list(dict.fromkeys(r["implementation"] for r in payload["rows"]))

    def get(self, optimizer, workload, threads, implementation):
        return self.rows.get((optimizer, workload, threads, implementation))

    def fused(self, threads: int) -> str:
        return FUSED.get(threads, FUSED_PARALLEL)

    def tables(self) -> list[str]:
        lines = []
        for optimizer, title in self.payload["optimizers"].items():
            for threads in self.threads:
                present = [i for i in self.implementations
                           if any(self.get(optimizer, w, threads, i) for w in WORKLOADS)]
                if not present:
                    continue
                header = ["implementation"]
                for w in WORKLOADS:
                    header += [f"{w} ms", "GB/s", "% ceil.", "× fused"]
                rows = []
                for impl in present:
                    cells = [impl]
                    for w in WORKLOADS:
                        r = self.get(optimizer, w, threads, impl)
                        cells += (["–"] * 4 if r is None else
                                  [num(r["median_s"] * 1e3), num(r["gb_per_s"]), num(100 * r["ceiling_fraction"], 2),
                                   num(r["torch_fused_ratio"])])
                    rows.append(cells)
                lines += [f"**{title}, {threads} thread{'s' if threads > 1 else ''}** "
                          f"({self.get(optimizer, 'W1', threads, present[0])['bytes_per_element']} B/element)", ""]
                lines += markdown_table(header, rows, "l" + "r" * (len(header) - 1)) + [""]
        return lines

    def targets(self) -> list[list]:
        """(target, fused kernel value, optimizer.step() value, met) for the issue's update targets."""
        out = []
        top = max(self.threads)
        for optimizer in self.payload["optimizers"]:
            name = self.payload["optimizers"][optimizer]

            def value(workload, threads, impl, what):
                r = self.get(optimizer, workload, threads, impl)
                fused = self.get(optimizer, workload, threads, "torch fused")
                loop = self.get(optimizer, workload, threads, "torch for-loop")
                if r is None:
                    return None
                if what == "GB/s":
                    return r["gb_per_s"]
                if what == "× fused":
                    return r["torch_fused_ratio"]
                if what == "vs fused GB/s" and fused:
                    return r["gb_per_s"] / fused["gb_per_s"]
                if what == "speed-up vs default" and loop:
                    return loop["median_s"] / r["median_s"]
                return None

            checks = [(1, "W1", "GB/s", ">=", 43.0, "≥ 43 GB/s on W1"),
                      (1, "W1", "vs fused GB/s", ">=", 0.9, "W1 GB/s within 10 % of torch fused (ratio ≥ 0.9)"),
                      (1, "W1", "speed-up vs default", ">=", 4.0, "W1 ≥ 4× faster than torch's default (for-loop)"),
                      (1, "W2", "× fused", "<=", 0.5, "W2 time ≤ 0.5× torch fused"),
                      (1, "W3", "× fused", "<=", 0.1, "W3 time ≤ 0.1× torch fused")]
            if top > 1:
                checks += [(top, "W1", "GB/s", ">=", 48.0, "≥ 48 GB/s on W1"),
                           (top, "W2", "× fused", "<=", 0.4, "W2 time ≤ 0.4× torch fused")]
            for threads, workload, what, sense, limit, text in checks:
                kernel = value(workload, threads, self.fused(threads), what)
                step = value(workload, threads, OPTIMIZER, what)
                if kernel is None and step is None:
                    continue  # a ratio to torch fused, for an optimizer torch has no fused kernel for
                out.append([f"{name}, {threads} thread{'s' if threads > 1 else ''}: {text}", kernel, step,
                            meets(kernel, sense, limit), meets(step, sense, limit)])
            numpy_w1 = self.get(optimizer, "W1", 1, "tinyreg numpy")
            if numpy_w1:
                gbs = numpy_w1["gb_per_s"]
                out.append([f"{name}, 1 thread: NumPy backend on flat buffers ≥ 20 GB/s (W1)", gbs, None,
                            meets(gbs, ">=", 20.0), None])
        return out


def meets(value, sense, limit):
    if value is None:
        return None
    return value >= limit if sense == ">=" else value <= limit


def mark(ok) -> str:
    return "" if ok is None else ("met" if ok else "**missed**")


def train_lines(train: dict) -> list[str]:
    rows = [[r["threads"], r["framework"], num(r["median_s"] * 1e3), num(r["min_s"] * 1e3), num(r["torch_ratio"])]
            for r in train["rows"]]
    lines = markdown_table(["threads", "framework", "median ms", "min ms", "× torch"], rows, "rlrrr") + [""]
    if train["per_op"]:
        lines += [f"Autodiff cost per op (a chain of {train['per_op'][0]['ops']} tiny ops, 1 thread):", ""]
        lines += markdown_table(["framework", "µs per op"], [[r["framework"], num(r["us_per_op"])]
                                                              for r in train["per_op"]], "lr") + [""]
    return lines


def startup_lines(startup: dict) -> list[str]:
    rows = [[r["optimizer"], r["cache"], r["runs"], num(r["import_s"]), num(r["first_step_s"]), num(r["step_s"]),
             num(r["process_s"])] for r in startup["rows"]]
    return markdown_table(["optimizer", "Numba cache", "processes", "import s", "first step s (after import)",
                           "step() alone s", "process s"], rows, "llrrrrr") + [""]


def target_lines(update, train, startup) -> list[str]:
    rows = []
    if update:
        rows += [[text, num(kernel), num(step), mark(ok_kernel), mark(ok_step)]
                 for text, kernel, step, ok_kernel, ok_step in update.targets()]
    if train:
        for r in train["rows"]:
            if r["framework"] == "tinyreg":
                threads = f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}"
                rows.append([f"training step, {threads}: tinyreg ≤ 0.7× torch (fused Adam)", "",
                             num(r["torch_ratio"]), "", mark(r["torch_ratio"] <= 0.7)])
        per_op = {r["framework"].split(",")[0]: r["us_per_op"] for r in train["per_op"]}
        if "tinyreg" in per_op and "torch" in per_op:
            ratio = per_op["tinyreg"] / per_op["torch"]
            rows.append(["autodiff per op (forward + backward, tiny tensors), 1 thread: tinyreg ≤ 0.5× torch", "",
                         num(ratio), "", mark(ratio <= 0.5)])
    if startup:
        for r in startup["rows"]:
            if r["cache"] == "warm":
                rows.append([f"first step after import, warm Numba cache ({r['optimizer']}) ≤ 0.3 s", "",
                             num(r["first_step_s"]), "", mark(r["first_step_s"] <= 0.3)])
    header = ["target (medians)", "fused kernel", "optimizer / framework", "kernel", "as it runs"]
    return markdown_table(header, rows, "lrrll") + [""]


def generated_block(update, train, startup) -> list[str]:
    lines = []
    first = next(p for p in (update.payload if update else None, train, startup) if p)
    lines += [f"Measured on: {machine_line(first['machine'])}.", ""]
    if update:
        if update.payload["quick"]:
            lines += ["*(a --quick run: small W1, 3 repeats; not numbers to quote)*", ""]
        lines += ["### Update step (bench_update.py)", ""]
        lines += [f"1-minute load average: {load_text(update.payload['machine'])}. Numba threading layer of the "
                  f"parallel kernels: {update.payload['machine'].get('threading_layer')}.", ""]
        lines += update.tables()
    if train:
        lines += ["### Training step (bench_train.py)", "",
                  f"1-minute load average: {load_text(train['machine'])}.", ""]
        lines += train_lines(train)
    if startup:
        lines += ["### JIT start-up (bench_startup.py)", "",
                  f"1-minute load average: {load_text(startup['machine'])}.", ""]
        lines += startup_lines(startup)
    lines += ["### Targets", ""] + target_lines(update, train, startup)
    return lines


def headline(update, train, startup) -> list[str]:
    """Three sentences for the main README."""
    lines = []
    if update:
        def r(impl, workload, threads=1):
            return update.get("adamw", workload, threads, impl)

        fused, torch_fused, loop = r(FUSED[1], "W1"), r("torch fused", "W1"), r("torch for-loop", "W1")
        ceiling = r("ceiling: in-place stream", "W1")
        if fused and ceiling:
            text = (f"- AdamW on one tensor of 2^24 floats, 1 thread: tinyreg's fused kernel {num(fused['gb_per_s'])} "
                    f"GB/s ({num(100 * fused['ceiling_fraction'], 2)} % of the {num(ceiling['gb_per_s'])} GB/s "
                    "in-place ceiling measured in the same run)")
            if torch_fused and loop:
                text += (f", torch fused {num(torch_fused['gb_per_s'])} GB/s, torch's default for-loop "
                         f"{num(loop['gb_per_s'])} GB/s")
            lines.append(text + ".")
        w2, w3 = r(OPTIMIZER, "W2"), r(OPTIMIZER, "W3")
        if w2 and w3 and w2["torch_fused_ratio"]:
            lines.append(f"- `AdamW.step()` on the MLP's parameters takes {num(w2['torch_fused_ratio'], 2)}× torch "
                         f"fused's time; on 500 tensors of 1,000 elements, {num(w3['torch_fused_ratio'], 2)}× "
                         "(one kernel call over a flat buffer instead of one per tensor).")
    if train:
        one = [r for r in train["rows"] if r["threads"] == 1]
        ours = next((r for r in one if r["framework"] == "tinyreg"), None)
        hand = next((r for r in one if r["framework"] == HAND), None)
        theirs = next((r for r in one if r["framework"] == TORCH), None)
        if ours and hand and theirs:
            lines.append(f"- One training step of the dropout MLP (batch 128, Adam, 1 thread): tinyreg "
                         f"{num(ours['median_s'] * 1e3)} ms, the same step hand-written in NumPy "
                         f"{num(hand['median_s'] * 1e3)} ms, torch {num(theirs['median_s'] * 1e3)} ms "
                         f"(tinyreg {num(ours['torch_ratio'], 2)}× torch's time).")
    if startup:
        warm = next((r for r in startup["rows"] if r["cache"] == "warm"), None)
        cold = next((r for r in startup["rows"] if r["cache"] == "cold"), None)
        if warm and cold:
            lines.append(f"- First `step()` after `import tinyreg`: {num(warm['first_step_s'], 2)} s with Numba's "
                         f"cache warm, {num(cold['first_step_s'], 2)} s cold (compiling the kernels).")
    payloads = [p for p in (update.payload if update else None, train, startup) if p]
    others = [p["machine"].get("other_processes_cpu") for p in payloads]
    quiet = (f" (other processes used at most {100 * max(others):.1f} % of the CPU during these runs)"
             if None not in others else "")
    lines.append(f"- Machine: {machine_line(payloads[0]['machine'])}{quiet}.")
    return lines


def replace_block(path: str, begin: str, end: str, lines: list[str]) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if begin not in text or end not in text:
        raise SystemExit(f"report.py: {path} lacks the markers {begin} ... {end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + begin + "\n" + "\n".join(lines).rstrip("\n") + "\n" + end + tail)


def main() -> int:
    payload = load("update")
    update = Update(payload) if payload else None
    train, startup = load("train"), load("startup")
    if not (update or train or startup):
        print(f"report.py: no results in {RESULTS}; run the benchmarks with --json first", file=sys.stderr)
        return 1
    replace_block(BENCH_README, "<!-- BEGIN generated -->", "<!-- END generated -->",
                  generated_block(update, train, startup))
    replace_block(MAIN_README, "<!-- BEGIN generated headline -->", "<!-- END generated headline -->",
                  headline(update, train, startup))
    print(f"wrote the generated blocks of {BENCH_README} and {MAIN_README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
