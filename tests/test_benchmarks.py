"""benchmarks/: the pieces that decide what a reported number means, and a --quick smoke run of every script.

The smoke runs execute the scripts exactly as a user does (``python benchmarks/bench_update.py --quick``) in a child
process, so a broken import or a renamed tinyreg API fails here and the scripts never rot. The correctness guard is
tested on its own: it must reject kernels that are wrong in the ways fast kernels go wrong.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import import_torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCHMARKS)

import bandwidth  # noqa: E402  (the benchmark scripts import their siblings by name, as here)
import bench_train  # noqa: E402
import bench_update  # noqa: E402
import guard  # noqa: E402
import report  # noqa: E402
from machine import cores  # noqa: E402
from output import format_table  # noqa: E402
from timing import time_rounds, total_calls  # noqa: E402


def run_script(name, *args, tmp_path):
    """Run ``benchmarks/<name> --quick ...`` in a fresh process; tinyreg importable from the checkout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, os.path.join(BENCHMARKS, name), "--quick", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{name} --quick failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# ---- byte model and selection ---------------------------------------------------------------------------------------
def test_byte_model_counts_each_compulsory_read_and_write():
    assert bandwidth.bytes_per_element("sgd") == 20     # θ, b read and written; g read: 5 × 4 B
    assert bandwidth.bytes_per_element("adamw") == 28   # θ, m, v read and written; g read: 7 × 4 B
    assert bandwidth.bytes_per_element("adam") == 28
    assert bandwidth.gb_per_s("adamw", 10**9, 28.0) == pytest.approx(1.0)


def test_only_filter_combines_kinds_with_and_and_keeps_the_baselines():
    def sel(terms, *row):   # the terms as --only parses them
        return bench_update.selected([bench_update.only_term(t) for t in terms], *row)

    assert sel(["adamw", "W1"], "adamw", "W1", "tinyreg numpy")
    assert not sel(["adamw", "W1"], "adam", "W1", "tinyreg numpy")
    assert not sel(["adamw", "W1"], "adamw", "W2", "tinyreg numpy")
    assert sel(["fused"], "sgd", "W3", "tinyreg fused serial") and sel(["fused"], "sgd", "W3", "torch fused")
    assert not sel(["fused"], "sgd", "W3", "tinyreg numpy")
    assert sel(["numpy"], "sgd", "W3", bench_update.CEILING) and sel(["numpy"], "sgd", "W3", "torch fused")


def test_only_matches_whole_words_of_implementation_names():
    assert bench_update.selected(["torch"], "sgd", "W1", "torch for-loop")
    assert not bench_update.selected(["fuse"], "sgd", "W1", "tinyreg fused serial")


def test_only_rejects_an_unknown_term_listing_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_update.parse_args(["--only", "adamw", "fuse"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "argument --only: unknown term 'fuse'" in err
    for choice in (*bench_update.OPTIMIZERS, "W1 W2 W3", "fused", "for-loop", "tinyreg", "torch"):
        assert choice in err
    assert bench_update.parse_args(["--only", "AdamW", "W1", "fused"]).only == ["adamw", "w1", "fused"]


@pytest.mark.parametrize("main", [bench_update.parse_args, bench_train.main], ids=["bench_update", "bench_train"])
@pytest.mark.parametrize("value, message", [
    ("1,x", "expected comma-separated whole numbers such as 1,"),
    ("0", "each count must be between 1 and"),
    (str(cores() + 1), "each count must be between 1 and"),
])
def test_bad_thread_counts_are_usage_errors(capsys, main, value, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["--threads", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --threads: {message}" in err and f"got '{value}'" in err and "Traceback" not in err


def test_thread_counts_default_to_one_and_every_cpu_this_process_may_use():
    assert bench_update.parse_args([]).threads == sorted({1, len(os.sched_getaffinity(0))})
    assert bench_update.parse_args(["--threads", "1,1"]).threads == [1]


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_ceiling_kernel_loads_each_array_once_and_stores_each_state_array_once(optimizer):
    """The ceiling must move exactly the update's bytes in one pass, or an update can beat it.

    Counted in the optimised LLVM IR (vector and scalar loops alike): loads : stores must be
    (arrays read) : (arrays written), 3 : 2 for SGD-momentum and 4 : 3 for Adam. A kernel that re-reads g
    after each store (what ``x[i] += c * g[i]`` per state array compiles to) has more loads.
    """
    read_write = bandwidth.read_write_arrays(optimizer)
    assert read_write == {"sgd": 2, "adamw": 3}[optimizer]
    step = bandwidth.ceiling_steps(optimizer, 64, threads=1, rng=np.random.default_rng(0))["serial"]
    step()
    kernel = bandwidth._SERIAL[read_write]
    ir = "\n".join(kernel.inspect_llvm().values())
    loads = len(re.findall(r"= load (?:<\d+ x )?float", ir))
    stores = len(re.findall(r"store (?:<\d+ x )?float", ir))
    assert stores > 0 and loads * read_write == stores * (read_write + 1), (loads, stores)


def test_ceiling_step_updates_every_state_array_in_place_and_only_reads_g():
    rng = np.random.default_rng(0)
    x, y, z, g = (rng.standard_normal(1000, dtype=np.float32) for _ in range(4))
    before = [a.copy() for a in (x, y, z, g)]
    bandwidth._SERIAL[3](x, y, z, g, np.float32(0.5))
    for new, old in zip((x, y, z), before):
        np.testing.assert_array_equal(new, old + np.float32(0.5) * before[3])
    np.testing.assert_array_equal(g, before[3])


def test_table_aligns_numbers_right_and_text_left():
    text = format_table(["name", "ms"], [["a", 1.5], None, ["long name", 12.75]])
    lines = text.splitlines()
    assert lines[0] == "name         ms"
    assert lines[2] == "a          1.50" and lines[3] == "" and lines[4] == "long name  12.8"


def test_time_rounds_interleaves_and_calls_each_function_the_announced_number_of_times():
    calls = []
    timings = time_rounds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, warmup=2, repeats=6,
                          rounds=3)
    assert calls == (["a"] * 4 + ["b"] * 4) * 3          # per round: 2 warm-up + 2 timed calls each, a then b
    assert calls.count("a") == total_calls(2, 6, 3) == 12
    assert timings["a"].repeats == 6 and timings["a"].warmup == 6 and timings["a"].median >= timings["a"].min > 0
    with pytest.raises(ValueError, match="multiple of rounds"):
        time_rounds({"a": lambda: None}, warmup=0, repeats=5, rounds=2)


# ---- the correctness guard ------------------------------------------------------------------------------------------
def _adamw_float32(theta, grad, steps, *, decay=True, bias_correction=True, skip=None):
    """A hand-written float32 AdamW (torch's form) that can be broken on purpose."""
    h = guard.HYPERPARAMETERS["adamw"]
    (beta1, beta2), lr, eps, lam = h["betas"], h["lr"], h["eps"], h["weight_decay"]
    theta = theta.copy()
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        live = np.ones(theta.size, bool)
        if skip is not None:
            live[skip] = False                          # an element the kernel forgets (a tail loop bug)
        new = theta * np.float32(1 - lr * lam) if decay else theta.copy()
        m_t = np.float32(beta1) * m + np.float32(1 - beta1) * grad
        v_t = np.float32(beta2) * v + np.float32(1 - beta2) * grad * grad
        c1, c2 = (1 - beta1 ** t, 1 - beta2 ** t) if bias_correction else (1.0, 1.0)
        new = new - np.float32(lr) * (m_t / np.float32(c1)) / (np.sqrt(v_t / np.float32(c2)) + np.float32(eps))
        theta[live], m[live], v[live] = new[live], m_t[live], v_t[live]
    return {"θ": theta, "exp_avg": m, "exp_avg_sq": v}


@pytest.mark.parametrize("steps", [1, 25])
def test_guard_accepts_a_correct_float32_kernel(steps):
    rng = np.random.default_rng(1)
    theta, grad = rng.standard_normal(5000, dtype=np.float32), rng.standard_normal(5000, dtype=np.float32)
    want = guard.reference_run("adamw", theta, grad, steps)
    guard.check("hand-written", _adamw_float32(theta, grad, steps), want, {"θ": theta}, steps)


@pytest.mark.parametrize("bug", [dict(decay=False), dict(bias_correction=False), dict(skip=4999), dict(skip=0)])
def test_guard_rejects_kernels_that_drop_a_term_or_an_element(bug):
    rng = np.random.default_rng(1)
    theta, grad = rng.standard_normal(5000, dtype=np.float32), rng.standard_normal(5000, dtype=np.float32)
    want = guard.reference_run("adamw", theta, grad, 25)
    with pytest.raises(guard.WrongResult, match="hand-written: after 25 steps"):
        guard.check("hand-written", _adamw_float32(theta, grad, 25, **bug), want, {"θ": theta}, 25)


def test_guard_rejects_nan():
    theta = np.ones(10, np.float32)
    want = guard.reference_run("sgd", theta, theta, 3)
    got = {"θ": np.full(10, np.nan, np.float32), "momentum_buffer": want["momentum_buffer"].astype(np.float32)}
    with pytest.raises(guard.WrongResult, match="θ"):
        guard.check("nan kernel", got, want, {"θ": theta}, 3)


def test_guard_passes_torch_itself():
    """torch.optim's fused kernels against the float64 reference: the guard's tolerance is not too tight."""
    import torch_updates
    from workloads import Workload, start_state

    import_torch()
    w = Workload("small", "3 tensors", ((300,), (20, 30), (7,)))
    start = start_state(w)
    for optimizer in guard.HYPERPARAMETERS:
        variant = "torch fused" if torch_updates.supports("torch fused", optimizer) else "torch for-loop"
        if not torch_updates.supports(variant, optimizer):
            continue                                    # Lion: not in torch
        step, state = torch_updates.build(variant, optimizer, w, start, threads=1)
        for _ in range(30):
            step()
        guard.check(variant, state(), guard.reference_run(optimizer, start.theta, start.grad, 30),
                    {"θ": start.theta}, 30)


# ---- the scripts, as run by a user ----------------------------------------------------------------------------------
def test_bench_update_quick_times_every_implementation_and_checks_it(tmp_path):
    import_torch()
    out = run_script("bench_update.py", "--json", "u.json", "--plot", "u.png", tmp_path=tmp_path)
    assert "ceiling: in-place stream" in out and "torch fused" in out and "--quick is a smoke run" in out
    payload = json.loads((tmp_path / "u.json").read_text())
    assert payload["quick"] and payload["machine"]["cpu"] and payload["machine"]["numba"]
    rows = payload["rows"]
    groups = {(r["optimizer"], r["workload"], r["threads"]) for r in rows}
    assert len(groups) == len(bench_update.OPTIMIZERS) * 3 * len({1, cores()})
    implementations = {r["implementation"] for r in rows}
    assert {"tinyreg numpy", "tinyreg fused serial", "tinyreg fused parallel", "tinyreg optimizer",
            "torch for-loop", "torch foreach", "torch fused", "ceiling: in-place stream"} <= implementations
    for r in rows:
        assert r["median_s"] >= r["min_s"] > 0 and r["gb_per_s"] > 0
        assert r.get("checked") or r["implementation"] == "ceiling: in-place stream"
    assert (tmp_path / "u.png").stat().st_size > 10_000
    # report.py renders these rows into markdown without typing anything by hand
    block = "\n".join(report.generated_block(report.Update(payload), None, None))
    assert "| tinyreg fused serial |" in block and "### Targets" in block


def test_bench_train_quick_compares_with_torch(tmp_path):
    import_torch()
    printed = run_script("bench_train.py", "--json", "t.json", tmp_path=tmp_path)
    assert "timing 1 thread in a fresh process ..." in printed   # a line before the ~15 s of timing
    payload = json.loads((tmp_path / "t.json").read_text())
    frameworks = {(r["threads"], r["framework"]) for r in payload["rows"]}
    assert {(1, "tinyreg"), (1, "NumPy by hand (no autodiff)"), (1, "torch (fused Adam)")} <= frameworks
    assert {r["framework"] for r in payload["per_op"]} >= {"tinyreg, forward + backward"}
    assert all(r["us_per_op"] > 0 for r in payload["per_op"])
    # the targets of the engine-speed issue: the training step and the per-op cost, each against torch
    targets = "\n".join(report.target_lines(None, payload, None))
    assert "training step, 1 thread: tinyreg ≤ 0.7× torch (fused Adam)" in targets
    per_op = {r["framework"].split(",")[0]: r["us_per_op"] for r in payload["per_op"]}
    (row,) = [line for line in targets.splitlines() if "per op" in line]
    assert f"| {report.num(per_op['tinyreg'] / per_op['torch'])} |" in row and "≤ 0.5× torch" in row


def test_bench_startup_quick_measures_cold_and_warm(tmp_path):
    run_script("bench_startup.py", "--json", "s.json", tmp_path=tmp_path)
    rows = json.loads((tmp_path / "s.json").read_text())["rows"]
    assert [r["cache"] for r in rows] == ["cold", "warm"]
    assert all(0 < r["step_s"] <= r["first_step_s"] < r["process_s"] for r in rows)
