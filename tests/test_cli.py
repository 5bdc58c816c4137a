"""The command line: list, run (outputs, determinism, missing extras and data), the explain hook; every user's
mistake ends in one line and exit status 2, Ctrl-C in "interrupted" and 130, and output appears only when complete.
(The tour on a machine without Fashion-MNIST: tests/test_data_sample.py.)"""

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import tinyreg as tr
from tinyreg.__main__ import build_parser, main
from tinyreg.data import DataNotFoundError, write_idx
from tinyreg.experiments.registry import EXPERIMENTS
from tinyreg.experiments.runner import OutputError, is_tour_output, run_experiment, staged_output
from tinyreg.explain import add_arguments as add_explain_arguments
from tinyreg.optim.trace import cell, format_value

ROOT = Path(__file__).resolve().parent.parent


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert len(EXPERIMENTS) == 7
    for number, name in enumerate(EXPERIMENTS, start=1):
        assert f"{number}. {name}" in out


def run_quick(tmp_path, *extra):
    return main(["run", "high-dim-regression", "--quick", "--no-progress", "--out", str(tmp_path), *extra])


def test_run_prints_a_summary_and_writes_metrics_and_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert run_quick(tmp_path, "--seed", "4") == 0
    out = capsys.readouterr().out
    assert "λ = 3 shrinks ‖w‖" in out and "metrics.json" in out
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["experiment"] == "high-dim-regression" and record["seed"] == 4 and record["quick"] is True
    assert set(record["metrics"]["runs"]) == {"penalty λ=0", "penalty λ=3", "optimizer λ=0", "optimizer λ=3"}
    png = (tmp_path / "high_dim_regression.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_without_matplotlib_the_summary_and_metrics_still_appear(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    assert run_quick(tmp_path) == 0
    out = capsys.readouterr().out
    assert "λ = 3 shrinks ‖w‖" in out and "no plots: matplotlib is not installed" in out
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
    def metrics(seed, where):
        assert run_quick(tmp_path / where, "--seed", str(seed)) == 0
        return json.loads((tmp_path / where / "metrics.json").read_text())["metrics"]

    first, again, other = metrics(1, "a"), metrics(1, "b"), metrics(2, "c")
    assert first == again
    assert first["runs"]["penalty λ=3"]["w_norm"] != other["runs"]["penalty λ=3"]["w_norm"]


def run_dropout(tmp_path, *extra):
    return main(["run", "dropout-fashion-mnist", "--quick", "--no-progress", "--out", str(tmp_path / "out"), *extra])


def test_missing_fashion_mnist_says_where_and_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TINYREG_DATA", raising=False)
    assert run_dropout(tmp_path, "--data", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"'train' split not found in {tmp_path} (from the path argument (--data)): missing train-images" in err
    assert "apt-get install -y dataset-fashion-mnist" in err and "Traceback" not in err


def test_a_wrong_data_path_is_an_error_even_when_tinyreg_data_has_the_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TINYREG_DATA", "/usr/share/datasets/fashion-mnist")  # whether or not the data is there
    assert run_dropout(tmp_path, "--data", str(tmp_path / "typo")) == 2
    assert f"not found in {tmp_path / 'typo'} (from the path argument (--data)): the directory does not exist" \
        in capsys.readouterr().err


def damaged_gzip(path, array):
    """``array`` written as a gzipped IDX file with one byte of the compressed stream flipped."""
    write_idx(path, array)
    packed = bytearray(path.read_bytes())
    packed[len(packed) // 2] ^= 0xFF
    path.write_bytes(packed)


@pytest.mark.parametrize("damage, message", [
    (lambda directory: write_idx(directory / "train-images-idx3-ubyte", np.zeros((10, 28, 28), np.uint8)),
     "train-images-idx3-ubyte: SHA-256 mismatch"),
    (lambda directory: damaged_gzip(directory / "train-images-idx3-ubyte.gz", np.arange(5000, dtype=np.int32)),
     "train-images-idx3-ubyte.gz: damaged gzip stream"),
], ids=["checksum", "gzip"])
def test_damaged_fashion_mnist_is_a_one_paragraph_error_not_a_traceback(tmp_path, capsys, damage, message):
    damage(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(60_000, np.uint8))
    assert run_dropout(tmp_path, "--data", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'train-images-idx3-ubyte'}") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    # The hint names a remedy the command line has (a fresh copy); verify=False only for the Python API.
    if "SHA-256" in message:
        assert "fresh copy" in err and "from Python: load_fashion_mnist(..., verify=False)" in err


def test_the_tour_reports_data_errors_like_run(capsys, monkeypatch):
    def tour_without_data(**kwargs):
        raise DataNotFoundError("Fashion-MNIST 'train' split not found in /nowhere")

    monkeypatch.setattr("tinyreg.experiments.tour.tour", tour_without_data)
    assert main([]) == 2
    assert capsys.readouterr().err == "error: Fashion-MNIST 'train' split not found in /nowhere\n"


def test_unknown_experiment_and_argument_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "no-such-experiment"])
    assert exit_info.value.code == 2 and "unknown experiment 'no-such-experiment'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["list", "--bogus"])


def test_explain_hands_its_arguments_to_tinyreg_explain(monkeypatch):
    seen = {}

    def fake_main(args):
        seen["optimizer"] = args.optimizer
        return 0

    fake = types.ModuleType("tinyreg.explain")
    fake.add_arguments = lambda parser: parser.add_argument("--optimizer")
    fake.main = fake_main
    monkeypatch.setitem(sys.modules, "tinyreg.explain", fake)
    assert main(["explain", "--optimizer", "adamw"]) == 0
    assert seen == {"optimizer": "adamw"}


# a user's mistake: one line, exit 2, nothing lost ------------------------------------------------------------------
def subcommand_parsers():
    parser = build_parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return parser, commands


def test_every_command_and_option_has_help_and_the_top_level_help_has_no_markup(capsys):
    parser, commands = subcommand_parsers()
    assert {choice.dest for choice in commands._choices_actions} == {"tour", "list", "run", "explain"}
    assert all(choice.help for choice in commands._choices_actions)
    for name, subparser in commands.choices.items():
        for action in subparser._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
    explain_parser = argparse.ArgumentParser()
    add_explain_arguments(explain_parser)
    assert all(action.help for action in explain_parser._actions)
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "``" not in top and ":func:" not in top and "python -m tinyreg run NAME|NUMBER" in top


def test_run_takes_the_number_list_shows(tmp_path, capsys):
    assert main(["run", "2", "--quick", "--no-progress", "--out", str(tmp_path / "two")]) == 0
    assert "== high-dim-regression (seed 0, quick)" in capsys.readouterr().out
    for number in ("0", "8"):
        with pytest.raises(SystemExit) as exit_info:
            main(["run", number])
        assert exit_info.value.code == 2 and "give a name or a number 1-7" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "1.5", "x"])
def test_seed_accepts_only_what_manual_seed_accepts_in_one_line(capsys, value):
    shown = value if value == "-1" else repr(value)  # manual_seed's own message names the int or the text
    for command in (["run", "2", "--quick"], ["tour"]):
        assert main([*command, "--seed", value]) == 2
        captured = capsys.readouterr()
        assert captured.err == f"error: --seed: the seed must be a non-negative integer, got {shown}\n"
        assert captured.out == ""
    with pytest.raises(ValueError, match=f"the seed must be a non-negative integer, got {shown}"):
        tr.manual_seed(-1 if value == "-1" else value)


def refused_out(capsys, out, message, command=("run", "2", "--quick")):
    assert main([*command, "--out", str(out)]) == 2
    err = capsys.readouterr()
    assert err.err == f"error: --out: {message}\n" and err.out == ""   # nothing ran


def test_a_bad_out_is_refused_before_the_run(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    refused_out(capsys, tmp_path / "file", f"{tmp_path / 'file'} exists and is not a folder")
    refused_out(capsys, tmp_path / "file" / "sub", f"cannot create the folder {tmp_path / 'file'}: File exists",
                command=("tour",))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    refused_out(capsys, tmp_path / "notes", f"{tmp_path / 'notes'} holds files that are not an earlier run's output; "
                                            "the run would replace them")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no one may create folders")
def test_an_out_that_cannot_be_created_is_refused_even_for_root(capsys):
    """os.access says yes to root everywhere; creating the staging folder is the real test."""
    assert main(["run", "2", "--quick", "--out", "/proc/tinyreg/out"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --out: cannot create the folder /proc/tinyreg: No such file or directory\n"
    assert not Path("/proc/tinyreg").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_out_is_refused_before_the_run(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    refused_out(capsys, locked / "out", f"cannot create a folder in {locked}: Permission denied")


def test_the_library_refuses_to_replace_a_folder_a_run_did_not_write(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="holds files that are not an earlier run's output"):
        run_experiment("high-dim-regression", out=mine, quick=True, show_progress=False, stdout=io.StringIO())
    assert [path.name for path in mine.iterdir()] == ["notes.txt"] and list(tmp_path.iterdir()) == [mine]


def test_files_put_into_out_during_the_run_are_kept_and_the_new_output_is_named(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="would replace them; this run's output is in .*out.*partial"):
        with staged_output(out) as staging:
            (staging / "metrics.json").write_text("{}")
            out.mkdir()
            (out / "notes.txt").write_text("keep me")
    assert (out / "notes.txt").read_text() == "keep me" and (staging / "metrics.json").exists()


def test_an_earlier_runs_output_with_a_file_no_run_writes_is_not_replaced(tmp_path, capsys):
    out, _ = earlier_run(tmp_path)
    capsys.readouterr()
    (out / "notes.txt").write_text("keep me")
    refused_out(capsys, out, f"{out} holds files that are not an earlier run's output; the run would replace them")
    assert (out / "notes.txt").read_text() == "keep me"


def test_run_does_not_replace_a_folder_of_other_runs_outputs(tmp_path, capsys, monkeypatch):
    """After `run 2` and `run 5` wrote runs/NAME, `run 2 --out runs` must not replace runs/ and both with it."""
    monkeypatch.chdir(tmp_path)
    for name in ("high-dim-regression", "l1-vs-l2"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "metrics.json").write_text("{}")
    refused_out(capsys, "runs", "runs holds files that are not an earlier run's output; the run would replace them")
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == ["high-dim-regression", "l1-vs-l2"]
    # The tour's own folder names are what a tour may replace; another run's folder among them is not.
    refused_out(capsys, "runs", "runs holds files that are not an earlier run's output; the run would replace them",
                command=("tour",))


def earlier_run(tmp_path):
    out = tmp_path / "out"
    assert run_quick(out) == 0
    return out, {path.name: path.read_bytes() for path in out.iterdir()}


def test_a_failed_run_leaves_the_earlier_output_whole_and_no_partial_one(tmp_path, monkeypatch):
    out, before = earlier_run(tmp_path)

    def broken_plot(metrics, plt):
        raise RuntimeError("a bug while plotting")

    monkeypatch.setattr("tinyreg.experiments.high_dim_regression.plot", broken_plot)
    with pytest.raises(RuntimeError, match="a bug while plotting"):
        run_quick(out, "--seed", "7")                           # metrics.json of seed 7 was already staged
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_ctrl_c_prints_one_line_exits_130_and_keeps_the_earlier_output(tmp_path, monkeypatch, capsys):
    out, before = earlier_run(tmp_path)
    capsys.readouterr()

    def interrupted(ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr("tinyreg.experiments.high_dim_regression.run", interrupted)
    assert run_quick(out, "--seed", "7") == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
    monkeypatch.setattr("tinyreg.explain.trace_text", lambda *args, **kwargs: interrupted(None))
    assert main(["explain", "adamw"]) == 130


def test_a_complete_run_replaces_the_earlier_output(tmp_path):
    out, before = earlier_run(tmp_path)
    (out / "stale.png").write_bytes(b"an earlier run's plot")
    assert run_quick(out, "--seed", "7") == 0
    assert json.loads((out / "metrics.json").read_text())["seed"] == 7
    assert not (out / "stale.png").exists() and [path.name for path in tmp_path.iterdir()] == ["out"]


def test_a_second_tour_may_write_over_the_first(tmp_path):
    tour_out = tmp_path / "tour"
    (tour_out / "adamw-vs-l2").mkdir(parents=True)
    (tour_out / "adamw-vs-l2" / "metrics.json").write_text("{}")
    with staged_output(tour_out, is_tour_output(["high-dim-regression", "adamw-vs-l2"])) as staging:
        (staging / "high-dim-regression").mkdir()
    assert [path.name for path in tour_out.iterdir()] == ["high-dim-regression"]


def test_the_plotting_phase_says_what_it_does(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert run_quick(tmp_path / "out") == 0
    printed = capsys.readouterr().out
    assert printed.index("drawing the plots ...") < printed.index("wrote ")


@pytest.mark.parametrize("argv, message", [
    (["adam", "--momentum", "0.5"], "--momentum does not apply to adam (it is an option of rmsprop, sgd, sgdw)"),
    (["sgdw", "--nesterov"], "--nesterov does not apply to sgdw (it is an option of sgd)"),
    (["sgd", "--betas", "0.8", "0.9"], "--betas does not apply to sgd (it is an option of adam, adamw, lion, nadam, "
                                       "radam)"),
    (["--compare", "sgd", "sgdw", "--amsgrad"], "--amsgrad does not apply to sgd or sgdw (it is an option of adam, "
                                                "adamw)"),
])
def test_explain_refuses_options_the_optimizer_does_not_take(capsys, argv, message):
    assert main(["explain", *argv]) == 2
    assert capsys.readouterr().err == f"python -m tinyreg explain: {message}\n"


def test_explain_takes_an_option_one_of_the_compared_optimizers_has(capsys):
    assert main(["explain", "--compare", "sgd", "adam", "--betas", "0.8", "0.9", "--steps", "1"]) == 0
    assert "betas=(0.8, 0.9)" in capsys.readouterr().out


def test_the_trace_table_always_separates_its_columns():
    """The widest value format_value writes, next to another, still has a space between (was run together as
    7.271514e-05-0.0002588352)."""
    widest = format_value(-1.234567e-300)
    assert widest == "-1.234567e-300"
    assert cell(format_value(7.271514e-05)) + cell(widest) == "   7.271514e-05 -1.234567e-300"
    theta = tr.nn.Parameter(tr.tensor([1e-300, -1.234567e-300], dtype=tr.float64))
    opt = tr.optim.SGD([theta], lr=1.0)
    with tr.optim.trace(opt, watch=[(theta, 0, "a" * 20), (theta, 1)]) as tape:
        (tr.tensor([7.271514e-05, -2.588352e-04], dtype=tr.float64) * theta).sum().backward()  # the gradient
        opt.step()
    rows = str(tape).splitlines()
    assert any("7.271514e-05  -0.0002588352" in row for row in rows), str(tape)
    assert any("a" * 20 + " " in row for row in rows)


def test_a_real_ctrl_c_during_the_tour_ends_in_one_line_and_leaves_no_partial_output(tmp_path):
    """SIGINT to a real process, once the tour is under way: "interrupted", status 130, no traceback, and --out is
    left as it was (here: absent), with no staging folder beside it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    # A shell that starts the test suite in the background makes it ignore SIGINT, and children inherit that; a
    # terminal's Ctrl-C reaches a process with the default disposition, so give the child that one.
    process = subprocess.Popen([sys.executable, "-m", "tinyreg", "tour", "--out", str(tmp_path / "tour")],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stdout:
        if line.startswith("--- 1."):                                 # the first part runs, its folder staged
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and err.endswith("interrupted\n") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
