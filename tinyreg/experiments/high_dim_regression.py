"""Experiment 2, high-dim-regression: weight decay on d2l's over-parameterised linear regression.

Dive into Deep Learning (Zhang et al., §3.7 "Weight Decay") fits a linear model with 200 inputs to 20 training points:

    data   y = X w* + b* + ε,  X ~ N(0, 1),  w* = 0.01·1,  b* = 0.05,  ε ~ N(0, 0.01²);  20 train, 100 test
    model  ŷ = X w + b,  w ~ N(0, 1) (200 × 1),  b = 0
    loss   ℓ = ½(ŷ − y)² per example, + λ·‖w‖²/2
    SGD    θ ← θ − lr · (Σ_batch ∇ℓ) / |batch|,  lr = 0.003, batch 5, 100 epochs (400 steps)

With λ = 0 nothing stops w from fitting the noise of 20 points with 200 free weights: ‖w‖ stays near its initial
‖N(0, I₂₀₀)‖ ≈ 14 and the test loss is large. With λ = 3 every step also shrinks w by lr·λ·w, so ‖w‖ falls towards
‖w*‖ = 0.14 and the test loss drops by orders of magnitude.

λ enters two ways, which for plain SGD are the same update (Loshchilov & Hutter, Proposition 1):
``penalty`` adds ``λ·l2_penalty(w)`` to the loss; ``optimizer`` passes ``weight_decay=λ`` to SGD for w only (the
bias is not decayed, as in d2l's concise version). Their curves coincide up to float rounding.
"""

from typing import NamedTuple

import numpy as np

import tinyreg as tr
from tinyreg import optim
from tinyreg.data import RegressionSet, batches, high_dim_linear
from tinyreg.nn import l2_penalty, squared_loss
from tinyreg.experiments.plotting import curves

LR, BATCH_SIZE, EPOCHS = 0.003, 5, 100
LAMBDAS = (0.0, 3.0)
VARIANTS = ("penalty", "optimizer")
# What d2l's re-runs print (the book's pages are rebuilt often, each with a fresh random draw).
REFERENCES = {"w_norm_lambda_0": (12.5, 14.7), "w_norm_lambda_3": (0.34, 0.39), "test_loss_lambda_3_max": 0.2,
              "test_loss_ratio_min": 100.0}


class Problem(NamedTuple):
    """The data and the initial parameters every variant starts from."""

    data: RegressionSet
    w0: np.ndarray  # (200, 1) float32 ~ N(0, 1), from tinyreg's seeded generator
    b0: np.ndarray  # (1,) float32 zeros


def make_problem(ctx) -> Problem:
    data = high_dim_linear(ctx.rng("data"))
    ctx.manual_seed()
    w0 = tr.randn(data.x_train.shape[1], 1).numpy()
    return Problem(data, w0, np.zeros(1, dtype=np.float32))


def train(problem: Problem, lam: float, variant: str, rng: np.random.Generator, epochs: int = EPOCHS,
          progress=None) -> dict:
    """Train one variant; return per-epoch ``train_loss``, ``test_loss`` (mean ½(ŷ − y)², no penalty) and ``w_norm``.

    ``rng`` draws each epoch's batch order; two calls with generators in the same state see the same batches.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    x_train, y_train, x_test, y_test = problem.data[:4]
    w = tr.tensor(problem.w0, requires_grad=True)
    b = tr.tensor(problem.b0, requires_grad=True)
    penalty, decay = (lam, 0.0) if variant == "penalty" else (0.0, lam)
    optimizer = optim.SGD([{"params": [w], "weight_decay": decay}, {"params": [b]}], lr=LR)
    history = {"train_loss": [], "test_loss": [], "w_norm": []}
    for _ in range(epochs):
        for xb, yb in batches(x_train, y_train, batch_size=BATCH_SIZE, rng=rng):
            # The sum over the batch divided by its size, as d2l's sgd does; d2l adds λ‖w‖²/2 to every example's
            # loss before that sum, which after the division is λ‖w‖²/2 once.
            loss = squared_loss(tr.tensor(xb) @ w + b, yb).sum() / len(xb) + penalty * l2_penalty(w)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with tr.no_grad():
            history["train_loss"].append(squared_loss(tr.tensor(x_train) @ w + b, y_train).mean().item())
            history["test_loss"].append(squared_loss(tr.tensor(x_test) @ w + b, y_test).mean().item())
        history["w_norm"].append(float(np.linalg.norm(w.detach().numpy())))
        if progress is not None:
            progress.update(train_loss=history["train_loss"][-1], test_loss=history["test_loss"][-1],
                            w_norm=history["w_norm"][-1])
    return history


def run_label(variant: str, lam: float) -> str:
    return f"{variant} λ={lam:g}"


def run(ctx) -> dict:
    """Every variant × λ from the same data, initial w and batch order. Quick mode changes nothing: it takes ~1 s."""
    problem = make_problem(ctx)
    runs = {}
    for variant in VARIANTS:
        for lam in LAMBDAS:
            label = run_label(variant, lam)
            with ctx.progress(EPOCHS, label) as bar:
                runs[label] = dict(variant=variant, lam=lam, **train(problem, lam, variant, ctx.rng("batches"),
                                                                      progress=bar))
    return {"config": {"lr": LR, "batch_size": BATCH_SIZE, "epochs": EPOCHS, "lambdas": list(LAMBDAS),
                       "n_train": len(problem.data.x_train), "n_test": len(problem.data.x_test),
                       "num_inputs": problem.w0.shape[0], "initial_w_norm": float(np.linalg.norm(problem.w0))},
            "runs": runs, "references": REFERENCES}


def final(metrics: dict, variant: str, lam: float, key: str) -> float:
    return metrics["runs"][run_label(variant, lam)][key][-1]


def summarize(metrics: dict) -> list:
    ref = metrics["references"]
    lines = [f"initial ‖w‖ = {metrics['config']['initial_w_norm']:.2f}, ‖w*‖ = {0.01 * np.sqrt(200):.3f}",
             f"{'variant':<10} {'λ':>3} {'train loss':>11} {'test loss':>11} {'‖w‖':>8}"]
    for run_ in metrics["runs"].values():
        lines.append(f"{run_['variant']:<10} {run_['lam']:>3g} {run_['train_loss'][-1]:>11.3g} "
                     f"{run_['test_loss'][-1]:>11.3g} {run_['w_norm'][-1]:>8.3f}")
    norm0, norm3 = final(metrics, "penalty", 0.0, "w_norm"), final(metrics, "penalty", 3.0, "w_norm")
    test0, test3 = final(metrics, "penalty", 0.0, "test_loss"), final(metrics, "penalty", 3.0, "test_loss")
    gap = max(abs(final(metrics, "penalty", lam, "w_norm") - final(metrics, "optimizer", lam, "w_norm"))
              for lam in LAMBDAS)
    lines += [
        f"λ = 3 shrinks ‖w‖ {norm0 / norm3:.0f}× ({norm0:.2f} -> {norm3:.3f}) and the test loss {test0 / test3:.0f}× "
        f"({test0:.3g} -> {test3:.3g}).",
        f"d2l's re-runs: ‖w‖ {ref['w_norm_lambda_0'][0]}–{ref['w_norm_lambda_0'][1]} at λ = 0, "
        f"{ref['w_norm_lambda_3'][0]}–{ref['w_norm_lambda_3'][1]} at λ = 3; test loss at λ = 3 ≲ "
        f"{ref['test_loss_lambda_3_max']}, ≥ {ref['test_loss_ratio_min']:.0f}× below λ = 0.",
        f"penalty vs SGD weight_decay: final ‖w‖ differ by at most {gap:.1e} (the same update for plain SGD).",
    ]
    return lines


def plot(metrics: dict, plt) -> dict:
    """Losses per λ and ‖w‖; the ``optimizer`` variant dashed over the ``penalty`` one (they coincide)."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    dashes = {"penalty": dict(lw=3, alpha=0.5), "optimizer": dict(ls="--")}
    for ax, lam in zip(axes[:2], LAMBDAS):
        series, styles = {}, {}
        for variant in VARIANTS:
            for split, color in (("train", "C0"), ("test", "C1")):
                label = f"{split} ({variant})"
                series[label] = metrics["runs"][run_label(variant, lam)][f"{split}_loss"]
                styles[label] = dict(color=color, **dashes[variant])
        curves(ax, series, f"λ = {lam:g}", "loss ½(ŷ − y)²", log=True, styles=styles)
    runs = metrics["runs"].values()
    curves(axes[2], {run_label(r["variant"], r["lam"]): r["w_norm"] for r in runs}, "‖w‖ during training", "‖w‖",
           log=True, styles={run_label(r["variant"], r["lam"]): dict(color=f"C{2 + LAMBDAS.index(r['lam'])}",
                                                                     **dashes[r["variant"]]) for r in runs})
    fig.suptitle("high-dim-regression: 200 inputs, 20 training points (d2l §3.7)")
    return {"high_dim_regression.png": fig}
