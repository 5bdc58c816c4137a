"""Each experiment's --quick run, checked for its lesson's direction on the real output.

Each quick run trains once (the module-scoped ``quick_run`` fixture), however many tests read it. Experiment 2 has
its own file (tests/test_experiments_high_dim.py: full-size reference ranges and the torch oracle).
"""

import json
import os

import numpy as np
import pytest
from helpers import require

import tinyreg as tr
from tinyreg import nn
from tinyreg.data import histogram_regression, locate_fashion_mnist
from tinyreg.experiments import adamw_vs_l2, l1_vs_l2, progress, registry, weight_decay_histograms
from tinyreg.experiments.mc_dropout import auroc
from tinyreg.experiments.parallel import map_jobs
from tinyreg.experiments.runner import Context, write_outputs
from tinyreg.experiments.training import Classification, Split, mlp


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
def test_grids_cover_every_panel_with_mean_spread_and_best_lambda(quick_run):
    metrics = quick_run("adamw-vs-l2")
    assert list(metrics["panels"]) == ["SGD + L2", "SGDW", "Adam + L2", "AdamW", "AdamW (torch form)"]
    assert len(metrics["seeds"]) >= 2
    for name, p in metrics["panels"].items():
        mean, std = np.asarray(p["test_error"]["mean"]), np.asarray(p["test_error"]["std"])
        assert mean.shape == std.shape == (len(p["weight_decays"]), len(p["lrs"])) and 0 not in p["weight_decays"]
        assert len(p["no_decay"]["test_error"]["mean"]) == len(p["lrs"])  # λ = 0: its own baseline row
        assert (std >= 0).all() and std.max() > 0  # a spread over seeds that did differ
        # best λ per lr and the best cell, recomputed from the seed-averaged grid
        rows = mean.argmin(axis=0)
        assert p["best_lambda_per_lr"] == [p["weight_decays"][i] for i in rows]
        assert p["best_lambda_at_edge"] == [i in (0, len(p["weight_decays"]) - 1) for i in rows]
        slope = np.polyfit(np.log(p["lrs"]), np.log(p["best_lambda_per_lr"]), 1)[0]
        assert p["best_lambda_slope"] == pytest.approx(slope)
        assert p["best"]["test_error"] == pytest.approx(mean.min())
        assert np.mean(p["best"]["per_seed"]) == pytest.approx(mean.min())
        assert len(p["best"]["per_seed"]) == len(metrics["seeds"]) and p["best"]["std"] >= 0
    decoupled = metrics["panels"]["AdamW"]["options"], metrics["panels"]["AdamW (torch form)"]["options"]
    assert decoupled == ({"decay": "paper"}, {"decay": "decoupled"})


def test_cells_with_no_decay_are_the_same_run_in_every_adam_panel(quick_run):
    """Adam + L2, AdamW and torch-form AdamW with λ = 0 are one algorithm from the same weights and batches, and
    their cells are trained side by side in one batched model: equal errors show the cells do not leak into each
    other (a cell's gradient is its own) and that the λ = 0 row is where the code says."""
    panels = quick_run("adamw-vs-l2")["panels"]
    baseline = panels["Adam + L2"]["no_decay"]["test_error"]["mean"]
    assert panels["AdamW"]["no_decay"]["test_error"]["mean"] == baseline
    assert panels["AdamW (torch form)"]["no_decay"]["test_error"]["mean"] == baseline


def test_quick_run_states_every_claim(quick_run):
    metrics = quick_run("adamw-vs-l2")
    claims = metrics["claims"]
    assert len(claims) == 2 * len(metrics["panels"]) + 1
    assert all(set(c) == {"claim", "shown", "evidence"} and isinstance(c["shown"], bool) for c in claims)
    assert "AdamW's best cell beats Adam + L2's best cell" in claims[-1]["claim"]
    summary = adamw_vs_l2.summarize(metrics)
    for c in claims:
        assert any(c["claim"] in line and ("[shown]" in line) == c["shown"] for line in summary)


@pytest.mark.parametrize("scale_invariant", [False, True])
def test_a_cell_stack_gives_each_cell_the_gradient_it_would_get_alone(scale_invariant):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 5)).astype(np.float32), rng.integers(0, 3, size=6)
    models = [adamw_vs_l2.cell_model(5, 4, 3, scale_invariant) for _ in range(3)]  # three different initialisations
    stack = adamw_vs_l2.CellStack(models)
    losses = stack.cell_losses(x, y)
    losses.sum().backward()
    stacked = [np.asarray(p.grad).copy() for m in models for p in m.parameters()]
    logits = np.asarray(stack(tr.tensor(x)))
    for model in models:
        model.zero_grad()
    for k, model in enumerate(models):
        alone = model(tr.tensor(x))
        np.testing.assert_allclose(logits[k], np.asarray(alone), rtol=1e-5, atol=1e-6)
        loss = nn.functional.cross_entropy(alone, tr.tensor(y))
        np.testing.assert_allclose(np.asarray(losses)[k], loss.item(), rtol=1e-5)
        loss.backward()
    for got, expected in zip(stacked, [np.asarray(p.grad) for m in models for p in m.parameters()]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    alone = [float((np.asarray(m(tr.tensor(x))).argmax(axis=1) != y).mean()) for m in models]
    output_layer = models[1][3 if scale_invariant else -1]
    output_layer.weight = nn.Parameter(np.full((3, 4), np.nan, dtype=np.float32))  # cell 1 diverged
    errors = adamw_vs_l2.CellStack(models).errors(x, y, chunk=4)
    assert errors.tolist() == [alone[0], 1.0, alone[2]]  # scored as all wrong; the others as when alone


def test_every_parameter_of_the_scale_invariant_cell_is_scale_invariant():
    """The mechanism the experiment relies on (docs/adamw-vs-l2.md): multiplying a layer's weight and bias by c > 0
    leaves the cell's output unchanged, for each Linear layer on its own; the plain MLP has no such property."""
    rng = np.random.default_rng(1)
    x = tr.tensor(rng.standard_normal((6, 5)))
    for scale_invariant in (True, False):
        tr.manual_seed(0)
        model = adamw_vs_l2.cell_model(5, 4, 3, scale_invariant).double()
        before = np.asarray(model(x)).copy()
        for layer, c in zip([m for m in model if isinstance(m, nn.Linear)], (7.0, 3.0)):
            with tr.no_grad():
                layer.weight.mul_(c)
                layer.bias.mul_(c)
            after = np.asarray(model(x))  # ε = 1e-12: unchanged to 1e-9 in float64
            assert np.allclose(after, before, rtol=1e-9, atol=1e-12) == scale_invariant


@pytest.mark.parametrize("scale_invariant", [False, True])
def test_a_cell_starts_at_init_scale_times_torchs_initialisation(scale_invariant):
    assert {p.init_scale for p in adamw_vs_l2.PANELS.values()} == {adamw_vs_l2.SGD_INIT_SCALE,
                                                                    adamw_vs_l2.ADAM_INIT_SCALE} == {4.0, 1.0}
    tr.manual_seed(0)
    cell = [np.asarray(p) for p in adamw_vs_l2.cell_model(5, 4, 3, scale_invariant, init_scale=4.0).parameters()]
    tr.manual_seed(0)
    plain = [np.asarray(p) for p in mlp((5, 4, 3)).parameters()]  # the same draws: LayerNorm without γ, β has none
    assert [c.shape for c in cell] == [p.shape for p in plain] == [(4, 5), (4,), (3, 4), (3,)]
    for c, p in zip(cell, plain):
        np.testing.assert_array_equal(c, 4.0 * p)


def test_seeds_trained_in_worker_processes_equal_seeds_trained_here():
    """map_jobs spawns fresh interpreters with a one-thread BLAS: the results must not depend on where a job ran,
    and every step must reach the parent's progress bar, the last one with its exact mean training loss."""
    rng = np.random.default_rng(0)
    split = lambda n: Split(rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n))  # noqa: E731
    data = Classification(split(40), split(30), "random")
    config = dict(adamw_vs_l2.QUICK, n_train=40, hidden=3, epochs=2, batch_size=16, lr_index=(0, 4), decay_index=(2,))
    panels = adamw_vs_l2.grids(config)
    jobs = lambda: [(panels, data, config, seed, np.random.default_rng(seed)) for seed in (0, 1)]  # noqa: E731

    class Count:
        def __init__(self):
            self.steps, self.last_loss = 0, {}

        def update(self, n=1, **stats):
            self.steps += n
            self.last_loss[stats["seed"]] = stats["mean_cell_loss"]

    here, there = Count(), Count()
    environment = dict(os.environ)
    expected = map_jobs(adamw_vs_l2.train_cells, jobs(), workers=1, progress=here)
    got = map_jobs(adamw_vs_l2.train_cells, jobs(), workers=2, progress=there)
    assert dict(os.environ) == environment  # the workers' one-thread settings did not leak into this process
    assert here.steps == there.steps == 2 * 2 * 3  # seeds × epochs × batches
    assert here.last_loss == there.last_loss and len(here.last_loss) == 2  # a float: any difference in training shows
    for e, g in zip(expected, got):
        for name in panels:
            np.testing.assert_array_equal(g[name]["test_error"], e[name]["test_error"])
            np.testing.assert_array_equal(g[name]["train_error"], e[name]["train_error"])
    assert any((e[name]["test_error"] != expected[0][name]["test_error"]).any()
               for e in expected[1:] for name in panels)  # the seeds differ: equality above is not trivial


def test_a_job_that_raises_in_a_worker_raises_in_the_caller():
    data = Classification(Split(np.zeros((4, 784), np.float32), np.zeros(3, int)),  # 4 images but 3 labels
                          Split(np.zeros((2, 784), np.float32), np.zeros(2, int)), "zeros")
    config = dict(adamw_vs_l2.QUICK, hidden=2, epochs=1)
    jobs = [(adamw_vs_l2.grids(config), data, config, seed, np.random.default_rng(seed)) for seed in (0, 1)]
    with pytest.raises(ValueError, match="equal length"):
        map_jobs(adamw_vs_l2.train_cells, jobs, workers=2)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        map_jobs(adamw_vs_l2.train_cells, jobs, workers=0)


LRS, DECAYS = [1e-3, 1e-2, 1e-1, 1.0], [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def diagonal_grid(shift=0):
    """Test error lowest where λ·lr = 1e-4·10^shift (one row down per column to the right), higher away from it."""
    return np.array([[0.2 + 0.01 * abs(i + j - 4 - shift) for j in range(len(LRS))] for i in range(len(DECAYS))])


def test_best_lambda_on_a_diagonal_has_slope_minus_one():
    best = adamw_vs_l2.best_lambda(diagonal_grid(), LRS, DECAYS)
    assert best["best_lambda_per_lr"] == [1e-1, 1e-2, 1e-3, 1e-4]
    assert best["best_lambda_slope"] == pytest.approx(-1.0)
    assert best["best_lambda_intercept"] == pytest.approx(np.log(1e-4))
    assert best["best_lambda_at_edge"] == [False] * 4


def test_best_lambda_on_a_separable_grid_has_slope_zero():
    by_decay, by_lr = np.array([0.05, 0.02, 0.0, 0.01, 0.03, 0.06]), np.array([0.10, 0.03, 0.0, 0.08])
    best = adamw_vs_l2.best_lambda(0.15 + by_decay[:, None] + by_lr[None, :], LRS, DECAYS)
    assert best["best_lambda_per_lr"] == [1e-3] * 4
    assert best["best_lambda_slope"] == pytest.approx(0.0, abs=1e-12)


def test_best_lambda_at_the_grids_edge_is_flagged():
    best = adamw_vs_l2.best_lambda(diagonal_grid(shift=-2), LRS, DECAYS)  # the diagonal leaves the grid at lr 1
    assert best["best_lambda_per_lr"] == [1e-3, 1e-4, 1e-5, 1e-5]
    assert best["best_lambda_at_edge"] == [False, False, True, True]


def test_onset_is_the_first_lambda_one_point_above_no_decay():
    """Column 0 rises past +1 point at 1e-2, column 1 at 1e-3, column 2 never (at most 0.9 points): onsets 1e-2,
    1e-3, None; the slope is fitted over the two defined ones, −1 per decade."""
    errors = np.array([[0.200, 0.200, 0.200], [0.205, 0.230, 0.205], [0.250, 0.300, 0.209]])
    onset = adamw_vs_l2.onset_lambda(errors, np.full(3, 0.2), [1e-2, 1e-1, 1.0], [1e-4, 1e-3, 1e-2])
    assert onset["onset_lambda_per_lr"] == [1e-2, 1e-3, None]
    assert onset["onset_lambda_slope"] == pytest.approx(-1.0)
    single = adamw_vs_l2.onset_lambda(errors[:, 2:], np.full(1, 0.2), [1.0], [1e-4, 1e-3, 1e-2])
    assert single["onset_lambda_slope"] is None


def test_claims_follow_the_slopes_and_the_paired_seed_difference():
    """Per-seed grids made by hand: coupled panels on a diagonal, decoupled ones separable; AdamW's best cell beats
    Adam + L2's in every seed by 1 point. Then the same with the patterns swapped: every slope claim fails."""
    separable = np.array([[0.2 + 0.01 * abs(i - 2) for _ in LRS] for i in range(len(DECAYS))])

    def panel_metrics(name, grid):
        panel = adamw_vs_l2.PANELS[name]._replace(lrs=tuple(LRS), weight_decays=tuple(DECAYS))
        offset = -0.01 if name == "AdamW" else 0.0
        per_seed = np.stack([np.vstack([np.full(len(LRS), 0.3), grid + offset + 0.001 * s]) for s in range(3)])
        return adamw_vs_l2.panel_metrics(panel, per_seed, np.zeros_like(per_seed))

    for swap in (False, True):
        panels = {name: panel_metrics(name, diagonal_grid() if panel.coupled != swap else separable)
                  for name, panel in adamw_vs_l2.PANELS.items()}
        claims = adamw_vs_l2.claims(panels)
        assert [c["shown"] for c in claims[:5]] == [not swap] * 5, [c["evidence"] for c in claims[:5]]
        assert all(c["shown"] for c in claims[5:10])  # 0.2 against 0.3 without decay
        assert claims[-1]["shown"] and "-1.00 ± 0.00 points" in claims[-1]["evidence"]
        assert panels["AdamW"]["best"]["std"] == pytest.approx(0.001)


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
