"""Each experiment's --quick run, checked for its lesson's direction on the real output.

Each quick run trains once (the module-scoped ``quick_run`` fixture), however many tests read it. Experiment 2 has
its own file (tests/test_experiments_high_dim.py: full-size reference ranges and the torch oracle).
"""

import json

import numpy as np
import pytest
from helpers import require

import tinyreg as tr
from tinyreg import nn
from tinyreg.data import histogram_regression, locate_fashion_mnist
from tinyreg.experiments import adamw_vs_l2, l1_vs_l2, progress, registry, weight_decay_histograms
from tinyreg.experiments.mc_dropout import auroc
from tinyreg.experiments.runner import Context, write_outputs
from tinyreg.experiments.training import mlp


def require_fashion_mnist():
    try:
        locate_fashion_mnist(split="train"), locate_fashion_mnist(split="test")
    except FileNotFoundError as err:
        require(f"Fashion-MNIST is missing:\n{err}")


@pytest.fixture(scope="module")
def quick_run():
    """``quick_run(name)``: the experiment's --quick metrics (seed 0), trained once and shared by the tests here."""
    cache = {}

    def get(name):
        if name not in cache:
            if name != "weight-decay-histograms":
                require_fashion_mnist()
            cache[name] = registry.get(name).load().run(Context(seed=0, quick=True, show_progress=False))
        return cache[name]

    return get


# 1. weight-decay-histograms -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["Adam", "AdamW"])
def test_larger_decay_gives_narrower_weight_histograms(quick_run, optimizer):
    histograms = quick_run("weight-decay-histograms")
    low = histograms["runs"][f"{optimizer} wd=0.01"]["final_stats"]
    high = histograms["runs"][f"{optimizer} wd=0.1"]["final_stats"]
    for key in ("std", "mean_abs"):
        narrower = [h[key] < l[key] for h, l in zip(high, low)]
        assert sum(narrower) >= 4, f"{optimizer}: {key} smaller with wd 0.1 in only {sum(narrower)} of 5 layers"
    # The summary statistics agree with the recorded final weights.
    final = histograms["runs"][f"{optimizer} wd=0.1"]["final_weights"]
    assert [len(w) for w in final] == [40, 400, 400, 400, 20]
    assert high[1]["mean_abs"] == pytest.approx(np.abs(final[1]).mean(), rel=1e-6)


def test_histograms_are_recorded_during_training(quick_run):
    histograms = quick_run("weight-decay-histograms")
    run = histograms["runs"]["AdamW wd=0.1"]
    iterations = [s["iteration"] for s in run["snapshots"]]
    assert iterations[0] == 0 and iterations == sorted(iterations) and len(iterations) >= 10
    for layer in run["snapshots"][-1]["layers"]:
        assert len(layer["weight"]["counts"]) == len(layer["weight"]["edges"]) - 1 == 30


# 3. dropout-fashion-mnist ---------------------------------------------------------------------------------------------
def test_dropout_narrows_the_generalisation_gap(quick_run):
    dropout = quick_run("dropout-fashion-mnist")
    with_dropout, without = dropout["runs"]["dropout"], dropout["runs"]["no dropout"]
    gap = {label: (r["train_acc"][-1] - r["test_acc"][-1], r["test_loss"][-1] - r["train_loss"][-1])
           for label, r in dropout["runs"].items()}
    assert gap["dropout"][0] < gap["no dropout"][0]
    assert gap["dropout"][1] < gap["no dropout"][1]
    assert with_dropout["test_acc"][-1] > 0.6 and without["test_acc"][-1] > 0.6  # both learned something
    assert without["train_acc"][-1] > with_dropout["train_acc"][-1]  # without dropout it fits the training set faster


# 4. adamw-vs-l2 -------------------------------------------------------------------------------------------------------
def test_grids_cover_every_optimizer(quick_run):
    grid = quick_run("adamw-vs-l2")
    assert list(grid["grids"]) == ["SGD (L2)", "SGDW", "Adam (L2)", "AdamW"]
    for name, g in grid["grids"].items():
        errors = np.asarray(g["test_error"])
        assert errors.shape == (len(g["weight_decays"]), len(g["lrs"])) and g["weight_decays"][0] == 0
        assert grid["lessons"][name]["best"]["test_error"] == errors.min()


@pytest.mark.parametrize("coupled, decoupled", [("SGD (L2)", "SGDW"), ("Adam (L2)", "AdamW")])
def test_cost_of_l2_grows_with_the_learning_rate_decoupled_does_not(quick_run, coupled, decoupled):
    """The separability lesson in the form a 3 × 3 grid can show: with L2 the decay a weight receives is α·λ (over
    √v̂ in Adam), so a large λ hurts more at a large α; decoupled decay's cost does not depend on α."""
    grid = quick_run("adamw-vs-l2")

    def rise(name):
        errors = np.asarray(grid["grids"][name]["test_error"])
        cost = errors[-1] - errors[0]  # largest λ minus λ = 0, per learning rate (recomputed from the grid)
        assert cost.tolist() == grid["lessons"][name]["cost_of_largest_decay"]
        return cost[-1] - cost[0]

    assert rise(coupled) > 0.01  # more than one point of test error
    assert abs(rise(decoupled)) < 0.015
    assert rise(coupled) > rise(decoupled)


def test_summary_names_the_best_nonzero_decay_and_an_undefined_correlation():
    """Hand-made grids: 'separable' has λ = 0 best overall and the same best λ > 0 at every lr (no correlation
    exists), 'diagonal' has a best λ falling tenfold per tenfold lr (correlation exactly −1)."""
    lrs, decays = [1e-3, 1e-2, 1e-1], [0, 1e-4, 1e-3, 1e-2]
    separable = [[0.10, 0.10, 0.10], [0.12, 0.12, 0.12], [0.15, 0.15, 0.15], [0.20, 0.20, 0.20]]
    diagonal = [[0.30, 0.30, 0.30], [0.30, 0.30, 0.10], [0.30, 0.10, 0.30], [0.10, 0.30, 0.30]]
    grids = {name: {"lrs": lrs, "weight_decays": decays, "test_error": errors, "options": {}}
             for name, errors in (("SGD (L2)", diagonal), ("SGDW", separable), ("Adam (L2)", diagonal),
                                  ("AdamW", separable))}
    lessons = adamw_vs_l2.lessons(grids)
    assert lessons["AdamW"]["best"]["weight_decay"] == 0
    assert lessons["AdamW"]["best_decay_per_lr"] == [1e-4, 1e-4, 1e-4]
    assert lessons["AdamW"]["decay_lr_correlation"] is None
    assert lessons["Adam (L2)"]["best_decay_per_lr"] == [1e-2, 1e-3, 1e-4]
    assert lessons["Adam (L2)"]["decay_lr_correlation"] == pytest.approx(-1.0)
    metrics = {"config": {"data": "hand-made", "epochs": 1, "widths": [784, 128, 10]}, "grids": grids,
               "lessons": lessons}
    lines = {line.split()[0]: line for line in adamw_vs_l2.summarize(metrics) if "best λ > 0 per lr" in line}
    assert ("best λ > 0 per lr ['0.0001', '0.0001', '0.0001'] (corr(log lr, log λ*) undefined: the same λ* at "
            "every lr)") in lines["AdamW"] and "+0.00" not in lines["AdamW"]
    assert "best λ > 0 per lr ['0.01', '0.001', '0.0001'] (corr(log lr, log λ*) = -1.00)" in lines["Adam"]
    assert json.loads(json.dumps(lessons))["AdamW"]["decay_lr_correlation"] is None  # null in metrics.json


# 5. l1-vs-l2 ----------------------------------------------------------------------------------------------------------
def test_l1_zeroes_weights_l2_only_shrinks_them(quick_run):
    l1_l2 = quick_run("l1-vs-l2")
    runs = l1_l2["runs"]
    assert runs["L1"]["below_step"] > 3 * runs["L2"]["below_step"]
    assert runs["L2"]["weight_norm_l2"] < runs["none"]["weight_norm_l2"]
    assert runs["L1"]["weight_norm_l1"] < runs["none"]["weight_norm_l1"]


def test_l1_strength_is_matched_to_l2_at_the_initial_weights(quick_run):
    l1_l2 = quick_run("l1-vs-l2")
    tr.manual_seed(0)  # the run's seed: the same initial weights
    model = mlp(l1_vs_l2.WIDTHS)
    w = [np.asarray(m.weight).astype(np.float64) for m in model.modules() if isinstance(m, nn.Linear)]
    l2 = l1_l2["config"]["lambda_l2"] * sum((x ** 2).sum() for x in w) / 2
    assert l1_l2["config"]["lambda_l1"] * sum(np.abs(x).sum() for x in w) == pytest.approx(l2, rel=1e-6)


# 6. bias-decay --------------------------------------------------------------------------------------------------------
def test_exempting_biases_and_layernorm_keeps_them_larger(quick_run):
    bias_decay = quick_run("bias-decay")
    all_, matrix = bias_decay["runs"]["all"], bias_decay["runs"]["matrix"]
    # Margins far beyond rounding: quick mode's λ gives the full run's total shrinkage (0.4 vs 0.47), which pulls
    # decayed γ to ~0.69 (exempt ~1.02) and decayed biases a third below exempt ones.
    assert all_["final"]["layernorm_gamma_mean"] < matrix["final"]["layernorm_gamma_mean"] - 0.15
    assert all_["final"]["linear_bias_mean_abs"] < 0.85 * matrix["final"]["linear_bias_mean_abs"]
    assert matrix["final"]["layernorm_gamma_mean"] > 0.95  # exempt γ stays near its start, 1
    # Only the three weight matrices are decayed in the exempt run: 784·256 + 256·128 + 128·10 numbers.
    assert matrix["decayed_parameters"] == 784 * 256 + 256 * 128 + 128 * 10
    assert all_["decayed_parameters"] == all_["parameters"] == matrix["parameters"]


# 7. mc-dropout --------------------------------------------------------------------------------------------------------
def test_mc_dropout_is_less_sure_where_it_is_wrong(quick_run):
    mc = quick_run("mc-dropout")
    assert mc["std"]["misclassified"]["mean"] > mc["std"]["correct"]["mean"]
    assert mc["auroc_std"] > 0.55
    assert mc["std"]["misclassified"]["count"] + mc["std"]["correct"]["count"] == 1000
    assert mc["mc_acc"] == pytest.approx(mc["std"]["correct"]["count"] / 1000)


def test_auroc_is_the_probability_a_positive_outscores_a_negative():
    # pairs (3,1) (3,2) (4,1) (4,2) (4,3) win, (3,3) ties: (5 + 0.5) / 6
    assert auroc(np.array([3.0, 4.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(5.5 / 6)
    assert auroc(np.array([0.0]), np.array([1.0])) == 0.0


# every experiment: metrics.json is plain JSON and the plots draw ----------------------------------------------------
@pytest.mark.parametrize("name", [n for n in registry.EXPERIMENTS if n != "high-dim-regression"])
def test_outputs_are_written(quick_run, name, tmp_path):
    pytest.importorskip("matplotlib")
    metrics = quick_run(name)
    module = registry.get(name).load()
    written = write_outputs({"experiment": name, "metrics": metrics}, module, tmp_path)
    assert json.loads(written[0].read_text())["metrics"] == json.loads(json.dumps(metrics))
    assert len(written) >= 2 and all(p.read_bytes().startswith(b"\x89PNG") for p in written[1:])
    summary = module.summarize(metrics)
    assert summary and all(isinstance(line, str) for line in summary)


def test_histograms_go_to_tensorboard_when_tensorboardx_is_there(monkeypatch, tmp_path):
    """The tensorboardX wiring, with a stand-in writer (tensorboardX itself is optional and not in the extras)."""
    calls = []

    class Writer:
        def __init__(self, logdir):
            calls.append(("open", logdir))

        def add_histogram(self, tag, values, step):
            calls.append((tag, np.shape(values), step))

        def close(self):
            calls.append(("close",))

    monkeypatch.setattr(weight_decay_histograms, "SummaryWriter", Writer)
    x, y = (tr.tensor(a) for a in histogram_regression())
    weight_decay_histograms.train(Context(seed=0, out=tmp_path, show_progress=False), "AdamW", 0.1, 20, x, y)
    assert calls[0] == ("open", str(tmp_path / "tensorboard" / "AdamW_wd=0.1")) and calls[-1] == ("close",)
    histograms = calls[1:-1]
    assert len(histograms) == 10 * 5 * 2  # 10 snapshots x 5 layers x (weight, grad)
    assert histograms[:2] == [("layer1/weight", (20, 2), 0), ("layer1/grad", (20, 2), 0)]


def test_without_tqdm_progress_is_a_line_per_epoch(monkeypatch, capsys):
    monkeypatch.setattr(progress, "tqdm", None)
    with progress.Progress(3, "dropout") as bar:
        for epoch in range(3):
            bar.update(test_acc=0.5 + epoch / 10)
    assert capsys.readouterr().err.splitlines() == [
        "dropout: epoch 1/3  test_acc 0.5", "dropout: epoch 2/3  test_acc 0.6", "dropout: epoch 3/3  test_acc 0.7"]
    with progress.Progress(1000, "adam", unit="step") as bar:  # many short steps: about ten lines
        for _ in range(1000):
            bar.update(loss=1.0)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and lines[-1] == "adam: step 1000/1000  loss 1"
