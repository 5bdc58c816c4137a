"""The command line: list, run (outputs, determinism, missing extras and data), the explain hook, the tour."""

import json
import sys
import types

import numpy as np
import pytest

from tinyreg.__main__ import main
from tinyreg.data import DataNotFoundError, write_idx
from tinyreg.experiments.registry import EXPERIMENTS


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
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["list", "--bogus"])


def test_explain_before_it_is_built_says_so(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tinyreg.explain", None)  # as if tinyreg/explain.py did not exist
    assert main(["explain", "--optimizer", "adamw"]) == 1
    assert "not built yet" in capsys.readouterr().err


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


def test_no_arguments_runs_the_tour(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for part in ("== high-dim-regression (seed 0, quick)", "== weight-decay-histograms (seed 0, quick)",
                 "== adamw-vs-l2 (seed 0, quick)", "--- 4. Where the decay enters", "tour done in"):
        assert part in out
    # The traced step shows Adam + L2's decay divided by √v̂ next to AdamW's plain lr·λ (explain's comparison).
    assert "λ_eff ← lr·λ / (√v̂_t + ε)" in out and "λ_eff ← lr·λ " in out
    assert "λ = 3 shrinks ‖w‖" in out and "slope of log λ* vs log lr" in out
