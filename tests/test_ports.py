"""PyTorch scripts, written as d2l and the PyTorch tutorials write them (``tests/ports/``), run unchanged under torch
and under tinyreg with only their import lines rewritten; each must train (its loss falls by a stated factor) in both,
and where the run is deterministic (fixed starting weights, no random draws) both must follow the same trajectory.

Random draws differ between the frameworks (torch's generator is not tinyreg's), so for the seeded scripts the
agreement checked is in what the training reaches (the recovered weights, the accuracy), not in single values.
"""

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import import_torch

PORTS = Path(__file__).parent / "ports"
_IMPORT = re.compile(r"^(import|from) torch\b")


def tinyreg_source(source: str) -> str:
    """The script with only its import lines changed: ``import torch`` -> ``import tinyreg as torch``, and
    ``from torch.x import y`` / ``import torch.x as y`` -> the same from ``tinyreg.x``. No other line is touched."""
    lines = []
    for line in source.splitlines():
        if line == "import torch":
            line = "import tinyreg as torch"
        else:
            line = _IMPORT.sub(r"\1 tinyreg", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


_RESULTS = {}


def run_port(name: str, framework: str) -> dict:
    """Run ``tests/ports/<name>.py`` under ``framework`` ("torch" or "tinyreg"); its global variables afterwards.
    Each script runs once per framework per session (several tests read the same run)."""
    key = (name, framework)
    if key not in _RESULTS:
        if framework == "torch":
            import_torch()
        path = PORTS / f"{name}.py"
        source = path.read_text()
        if framework == "tinyreg":
            source = tinyreg_source(source)
        namespace = {"__name__": "__main__", "__file__": str(path)}
        with contextlib.redirect_stdout(io.StringIO()):  # the scripts print progress like the originals
            exec(compile(source, str(path), "exec"), namespace)
        _RESULTS[key] = namespace
    return _RESULTS[key]


def test_only_import_lines_are_rewritten():
    source = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nx = torch.ones(2)  # torch\n"
    assert tinyreg_source(source) == ("import tinyreg as torch\nfrom tinyreg import nn\n"
                                      "import tinyreg.nn.functional as F\nx = torch.ones(2)  # torch\n")
    for path in PORTS.glob("*.py"):
        original, rewritten = path.read_text().splitlines(), tinyreg_source(path.read_text()).splitlines()
        changed = [a for a, b in zip(original, rewritten) if a != b]
        assert changed and all(line.startswith(("import torch", "from torch")) for line in changed), path.name


# Every port trains: its loss falls at least this factor, in torch and in tinyreg (torch's factors are far larger).
FALLS = {"linreg_scratch": 1000, "linreg_concise": 1000, "sin_cubic_manual": 5, "sin_cubic_optim": 10,
         "train_eval_loop": 5, "dropout_scratch": 20, "weight_decay_groups": 100, "grad_clipping": 100,
         "custom_function": 5, "checkpoint": 5}
@pytest.mark.parametrize("framework", ["torch", "tinyreg"])
@pytest.mark.parametrize("name", FALLS)
def test_port_trains(name, framework):
    losses = run_port(name, framework)["losses"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] * FALLS[name] < losses[0], f"{name} under {framework}: loss {losses[0]:.4g} -> {losses[-1]:.4g}"


def both(name):
    return run_port(name, "torch"), run_port(name, "tinyreg")


@pytest.mark.parametrize("name", ["linreg_scratch", "linreg_concise"])
def test_linear_regression_ports_recover_the_true_weights(name):
    for result in both(name):
        assert result["w_error"] < 0.01 and result["b_error"] < 0.01


@pytest.mark.parametrize("name,values", [
    ("sin_cubic_manual", "coefficients"), ("sin_cubic_optim", "coefficients"), ("grad_clipping", "losses"),
    ("custom_function", "coefficients"), ("checkpoint", "losses")])
def test_deterministic_ports_follow_torchs_trajectory(name, values):
    """Fixed starting weights and full-batch data: float32 rounding is the only difference."""
    theirs, ours = both(name)
    np.testing.assert_allclose(ours[values], theirs[values], rtol=2e-3, atol=1e-5)


def test_train_eval_loop_reaches_torchs_accuracy():
    for result in both("train_eval_loop"):
        assert result["accuracy"] > 0.95 and len(result["accuracies"]) == 5


def test_hand_written_dropout_keeps_drops_and_rescales():
    for result in both("dropout_scratch"):
        x, half = np.asarray(result["X"]), np.asarray(result["half"])
        np.testing.assert_array_equal(np.asarray(result["kept_all"]), x)
        assert not np.asarray(result["dropped_all"]).any()
        assert np.all((half == 0) | (half == 2 * x))
        assert result["accuracy"] > 0.95


def test_weight_decay_on_the_weights_shrinks_them_and_helps_the_test_loss():
    for result in both("weight_decay_groups"):
        assert result["norm_decay"] * 5 < result["norm_no_decay"]
        assert result["test_loss_decay"] < result["test_loss_no_decay"]


def test_checkpoint_round_trip_resumes_exactly():
    for result in both("checkpoint"):
        np.testing.assert_array_equal(result["resumed"], result["continued"])
        assert result["epoch"] == 50
