"""Experiment 6, bias-decay: weight decay on every parameter, or only on the weight matrices?

A common trick (BERT, GPT-2, most AdamW recipes; optax's ``mask``) exempts biases and LayerNorm's gain γ and shift β
from weight decay. The argument: these few parameters do not add capacity the way weight matrices do, and decaying
LayerNorm's γ towards 0 fights the normalisation (and its scale is what sets the effective learning rate of the layer
before it). Here both choices train the same network from the same weights on the same batches:

    model   Fashion-MNIST MLP 784 → 256 → LayerNorm → ReLU → 128 → LayerNorm → ReLU → 10
    AdamW   lr 1e-3, weight_decay 0.1 (torch's decoupled form θ ← θ·(1 − lr·λ)), batch 128, 10 epochs, full data
    all     every parameter decayed:  AdamW(model.parameters(), weight_decay=0.1)
    matrix  ``tr.optim.decay_groups(model, 0.1)``: Linear weights decayed; biases and LayerNorm γ, β not

Reported: per-epoch test loss and accuracy, and the final values of the biases and of LayerNorm's γ and β. Quick mode:
2,000 training and 1,000 test images, 5 epochs, and weight_decay 5. What decay does to a parameter depends on the
total shrinkage lr·λ·steps: the full run's 4,690 steps give 1e-3 · 0.1 · 4,690 ≈ 0.47, while 80 quick steps at
λ = 0.1 would give 0.008: γ and the biases would differ by under 1 %, close enough to flip with rounding. λ = 5 gives
80 · 5e-3 = 0.4, so the quick run shows the full run's picture (γ ≈ 0.69 decayed vs ≈ 1.0 exempt) in seconds.
"""

import numpy as np

from tinyreg import nn, optim
from tinyreg.experiments.plotting import curves
from tinyreg.experiments.training import fashion_mnist, fit, mlp

LR, BATCH_SIZE = 1e-3, 128
FULL = dict(n_train=None, n_test=None, epochs=10, weight_decay=0.1)
QUICK = dict(n_train=2000, n_test=1000, epochs=5, weight_decay=5.0)  # the full run's total shrinkage, see above


def parameter_values(model) -> dict:
    """The final biases and LayerNorm parameters, summarised per kind."""
    linear_bias = np.concatenate([m.bias.detach().numpy() for m in model.modules() if isinstance(m, nn.Linear)])
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    gamma = np.concatenate([m.weight.detach().numpy() for m in norms])
    beta = np.concatenate([m.bias.detach().numpy() for m in norms])
    return {"linear_bias_mean_abs": float(np.abs(linear_bias).mean()),
            "layernorm_gamma_mean": float(gamma.mean()), "layernorm_gamma_min": float(gamma.min()),
            "layernorm_beta_mean_abs": float(np.abs(beta).mean()),
            "linear_weight_rms": float(np.sqrt(np.mean(np.concatenate(
                [m.weight.detach().numpy().ravel() ** 2 for m in model.modules() if isinstance(m, nn.Linear)]))))}


def run(ctx) -> dict:
    config = QUICK if ctx.quick else FULL
    data = fashion_mnist(ctx, config["n_train"], config["n_test"])
    runs = {}
    for label in ("all", "matrix"):
        ctx.manual_seed()
        model = mlp(layer_norm=True)
        weight_decay = config["weight_decay"]
        params = model.parameters() if label == "all" else optim.decay_groups(model, weight_decay)
        optimizer = optim.AdamW(params, lr=LR, weight_decay=weight_decay)
        with ctx.progress(config["epochs"], f"decay on {label}") as bar:
            history = fit(model, optimizer, data, config["epochs"], BATCH_SIZE, ctx.rng("batches"), progress=bar)
        decayed = sum(p.numel() for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"])
        runs[label] = dict(history, final=parameter_values(model), decayed_parameters=int(decayed),
                           parameters=int(sum(p.numel() for p in model.parameters())))
    return {"config": dict(config, lr=LR, batch_size=BATCH_SIZE, data=data.description),
            "runs": runs}


LABELS = {"all": "decay on all", "matrix": "weights only"}
SHORT = {"linear_bias_mean_abs": "mean|b|", "layernorm_gamma_mean": "mean γ", "layernorm_gamma_min": "min γ",
         "layernorm_beta_mean_abs": "mean|β|", "linear_weight_rms": "rms W"}


def summarize(metrics: dict) -> list:
    runs = metrics["runs"]
    keys = list(runs["all"]["final"])
    lines = [f"data: {metrics['config']['data']}; {metrics['config']['epochs']} epochs; AdamW lr "
             f"{metrics['config']['lr']:g}, weight_decay {metrics['config']['weight_decay']:g}",
             f"{'':<13} {'decayed':>14} {'test acc':>8} {'test loss':>9} {'train acc':>9}  "
             + " ".join(f"{SHORT[k]:>8}" for k in keys)]
    for label, r in runs.items():
        lines.append(f"{LABELS[label]:<13} {r['decayed_parameters']:>6}/{r['parameters']:<7} {r['test_acc'][-1]:>8.4f} "
                     f"{r['test_loss'][-1]:>9.4f} {r['train_acc'][-1]:>9.4f}  "
                     + " ".join(f"{r['final'][k]:>8.4f}" for k in keys))
    lines.append("  (final values; b: Linear biases, γ and β: LayerNorm gain and shift, W: Linear weights)")
    all_, matrix = runs["all"], runs["matrix"]
    difference = all_["test_acc"][-1] - matrix["test_acc"][-1]
    lines.append(f"decaying biases and LayerNorm too moves test accuracy by {100 * difference:+.2f} points; "
                 f"LayerNorm γ ends at mean {all_['final']['layernorm_gamma_mean']:.3f} when decayed vs "
                 f"{matrix['final']['layernorm_gamma_mean']:.3f} when exempt (started at 1).")
    return lines


def plot(metrics: dict, plt) -> dict:
    runs = metrics["runs"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, key, name in zip(axes, ("test_loss", "test_acc"), ("test cross-entropy", "test accuracy")):
        curves(ax, {LABELS[k]: r[key] for k, r in runs.items()}, name, name)
    keys = list(runs["all"]["final"])
    x = np.arange(len(keys))
    for offset, (label, r) in zip((-0.2, 0.2), runs.items()):
        axes[2].bar(x + offset, [r["final"][k] for k in keys], width=0.4, label=LABELS[label])
    axes[2].set_xticks(x, [SHORT[k] for k in keys])
    axes[2].set(title="final parameter values")
    axes[2].legend()
    fig.suptitle(f"bias-decay: {metrics['config']['data']}")
    return {"bias_decay.png": fig}
