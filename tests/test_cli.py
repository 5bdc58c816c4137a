"""The command line: list, run (outputs, determinism, missing extras and data), the explain hook, the tour."""

import json
import sys
import types

import pytest

from tinyreg.__main__ import main
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


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("tinyreg.data.fashion_mnist.DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.delenv("TINYREG_DATA", raising=False)
    assert main(["run", "dropout-fashion-mnist", "--quick", "--data", str(tmp_path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Fashion-MNIST 'train' split not found" in err and "apt-get install -y dataset-fashion-mnist" in err


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
    assert "λ = 3 shrinks ‖w‖" in out and "cost of the largest λ" in out
