"""Experiment 5, l1-vs-l2: an L1 penalty zeroes weights, an L2 penalty of the same strength only shrinks them.

    model   Fashion-MNIST MLP 784 → 128 → ReLU → 10 (experiment 4's), cross-entropy
    data    a stratified 10,000-image training subset, the full test set; 10 epochs, batch 128
    SGD     plain (no momentum), lr 0.1, so the penalty's pull per step is exactly lr × its gradient
    L2      loss + λ₂·Σ w²/2 over the weight matrices:  gradient λ₂·w, a pull proportional to the weight
    L1      loss + λ₁·Σ |w|  over the weight matrices:  gradient λ₁·sign(w), the same pull for every weight

Matched strength: λ₁ is chosen so that both penalties have the same value at the initial weights,
λ₁·‖w₀‖₁ = λ₂·‖w₀‖²/2. Under L2 a weight shrinks by a factor (1 − lr·λ₂) per step and so approaches 0 but slows
down as it does; under L1 it moves lr·λ₁ towards 0 every step until it crosses, then oscillates around 0 within
lr·λ₁ (subgradient descent does not land exactly on 0, proximal methods would). So the fraction of weights with
|w| < lr·λ₁ is the measure of "exactly zero" here. Biases are not penalised.

Quick mode: 2,000 training and 1,000 test images, 4 epochs.
"""

import numpy as np

from tinyreg import nn, optim
from tinyreg.experiments.training import fashion_mnist, fit, mlp

WIDTHS = (784, 128, 10)
LR, BATCH_SIZE, LAMBDA_L2 = 0.1, 128, 0.05
FULL = dict(n_train=10_000, n_test=None, epochs=10)
QUICK = dict(n_train=2000, n_test=1000, epochs=4)
THRESHOLDS = (1e-2, 1e-3, 1e-4)


def weights(model):
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def matched_l1_strength(model, lambda_l2: float) -> float:
    """λ₁ with λ₁·‖w₀‖₁ = λ₂·‖w₀‖²/2 at the model's current (initial) weights."""
    squares = sum(float((w.detach().numpy().astype(np.float64) ** 2).sum()) for w in weights(model))
    absolutes = sum(float(np.abs(w.detach().numpy()).sum()) for w in weights(model))
    return lambda_l2 * squares / 2 / absolutes


def run(ctx) -> dict:
    config = QUICK if ctx.quick else FULL
    data = fashion_mnist(ctx, config["n_train"], config["n_test"])
    ctx.manual_seed()
    lambda_l1 = matched_l1_strength(mlp(WIDTHS), LAMBDA_L2)
    penalties = {"none": (None, 0.0), "L1": (nn.l1_penalty, lambda_l1), "L2": (nn.l2_penalty, LAMBDA_L2)}
    runs = {}
    for label, (penalty_fn, strength) in penalties.items():
        ctx.manual_seed()
        model = mlp(WIDTHS)
        penalty = None if penalty_fn is None else (
            lambda: strength * sum((penalty_fn(w) for w in weights(model)), start=0.0))
        with ctx.progress(config["epochs"], f"penalty {label}") as bar:
            history = fit(model, optim.SGD(model.parameters(), lr=LR), data, config["epochs"], BATCH_SIZE,
                          ctx.rng("batches"), progress=bar, penalty=penalty)
        first = weights(model)[0].detach().numpy().ravel()
        magnitudes = np.abs(np.concatenate([w.detach().numpy().ravel() for w in weights(model)]))
        runs[label] = dict(history, strength=strength,
                           near_zero={f"{t:g}": float((magnitudes < t).mean()) for t in THRESHOLDS},
                           below_step=float((magnitudes < LR * lambda_l1).mean()),
                           weight_norm_l1=float(magnitudes.sum()),
                           weight_norm_l2=float(np.sqrt((magnitudes.astype(np.float64) ** 2).sum())),
                           first_layer_sample=first[ctx.rng("sample").choice(first.size, 20_000, replace=False)]
                           .tolist() if first.size > 20_000 else first.tolist())
    return {"config": dict(config, widths=list(WIDTHS), lr=LR, batch_size=BATCH_SIZE, lambda_l2=LAMBDA_L2,
                           lambda_l1=lambda_l1, step_of_l1=LR * lambda_l1, data=data.description),
            "runs": runs}


def summarize(metrics: dict) -> list:
    config, runs = metrics["config"], metrics["runs"]
    lines = [f"data: {config['data']}; {config['epochs']} epochs; λ₂ = {config['lambda_l2']:g}, matched λ₁ = "
             f"{config['lambda_l1']:.3g} (equal penalties at the initial weights); lr·λ₁ = {config['step_of_l1']:.2g}",
             f"{'penalty':<8} {'test acc':>8} {'train acc':>9} {'‖w‖₁':>9} {'‖w‖₂':>7} "
             + " ".join(f"{'|w|<' + k:>10}" for k in runs["none"]["near_zero"]) + f" {'|w|<lr·λ₁':>10}"]
    for label, r in runs.items():
        lines.append(f"{label:<8} {r['test_acc'][-1]:>8.4f} {r['train_acc'][-1]:>9.4f} {r['weight_norm_l1']:>9.1f} "
                     f"{r['weight_norm_l2']:>7.2f} " + " ".join(f"{v:>10.3f}" for v in r["near_zero"].values())
                     + f" {r['below_step']:>10.3f}")
    l1, l2 = runs["L1"], runs["L2"]
    verdict = "L1 sparsifies, L2 shrinks" if l1["below_step"] > l2["below_step"] else "NO sparsity advantage for L1"
    lines.append(f"L1 leaves {100 * l1['below_step']:.1f}% of the weights within one step (lr·λ₁) of zero, L2 "
                 f"{100 * l2['below_step']:.1f}% (no penalty {100 * runs['none']['below_step']:.1f}%): {verdict}.")
    return lines


def plot(metrics: dict, plt) -> dict:
    runs = metrics["runs"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sample = {label: np.asarray(r["first_layer_sample"]) for label, r in runs.items()}
    limit = max(np.abs(w).max() for w in sample.values())
    for ax, log in zip(axes, (False, True)):
        for (label, w), color in zip(sample.items(), ("grey", "C3", "C0")):
            ax.hist(w, bins=np.linspace(-limit, limit, 121), histtype="step" if label == "none" else "stepfilled",
                    alpha=0.5 if label != "none" else 1, color=color, label=label, density=True)
        ax.set(xlabel="weight", ylabel="density" + (" (log)" if log else ""),
               title="first layer's weights" + (", log density" if log else ""))
        if log:
            ax.set_yscale("log")
        ax.legend()
    config = metrics["config"]
    fig.suptitle(f"l1-vs-l2: λ₂ = {config['lambda_l2']:g}, matched λ₁ = {config['lambda_l1']:.2g}")
    return {"l1_vs_l2.png": fig}
