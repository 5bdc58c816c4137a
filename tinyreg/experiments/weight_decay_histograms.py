"""Experiment 1, weight-decay-histograms: how weight decay reshapes the distribution of a network's weights.

    data   x1 = −10..9, x2 = 0..19 (20 points), y = 2·x1 − x2² + 1
    model  2 → 20 → 20 → 20 → 20 → 1: each hidden Linear followed by LayerNorm and ReLU
    loss   MSE, full batch;  Adam lr 0.01, 1000 iterations
    decay  weight_decay 0.01 and 0.1 on every parameter, with Adam (L2: λθ joins the gradient, then is divided by
           √v̂ like the rest) and with AdamW (decoupled: θ ← θ·(1 − lr·λ) each step, outside Adam's scaling)

Each setting starts from the same weights. At regular iterations the run records a histogram of every Linear layer's
weights and of their gradients (metrics.json, PNG grids, and TensorBoard event files when tensorboardX is installed);
the summary gives each layer's final std, mean |w| and fraction of |w| < 0.05.

What to expect: the larger decay pulls the distribution towards 0. Under Adam + L2 the pull is weak, because the decay
term is added to gradients that are large here (targets reach −360) and then normalised away by √v̂; under AdamW the
shrink factor (1 − lr·λ)^t acts regardless of the gradients: (1 − 0.001)^1000 ≈ 0.37 for λ = 0.1.

Quick mode: 300 iterations.
"""

import numpy as np

import tinyreg as tr
from tinyreg import nn, optim
from tinyreg.data import histogram_regression
from tinyreg.experiments.plotting import draw_histogram, histogram_counts
from tinyreg.experiments.training import mlp

try:  # optional: TensorBoard event files, the way PyTorch users log histograms
    from tensorboardX import SummaryWriter
except ImportError:
    SummaryWriter = None

WIDTHS = (2, 20, 20, 20, 20, 1)
LR = 0.01
SETTINGS = (("Adam", 0.01), ("Adam", 0.1), ("AdamW", 0.01), ("AdamW", 0.1))
SNAPSHOTS = 10  # histograms recorded per run, evenly spaced, plus the final weights
SMALL = 0.05    # |w| below this counts as "near zero" in the summary


def setting_label(name: str, weight_decay: float) -> str:
    return f"{name} wd={weight_decay:g}"


def weight_stats(w: np.ndarray) -> dict:
    return {"std": float(w.std()), "mean_abs": float(np.abs(w).mean()), "frac_small": float((np.abs(w) < SMALL).mean())}


def central_histogram(values: np.ndarray) -> dict:
    """The histogram of the central 98% of ``values``: a few huge gradients would otherwise squash the rest."""
    return histogram_counts(values, bins=30, value_range=tuple(np.percentile(values, [1, 99])))


def tensorboard_writer(ctx, label):
    """A tensorboardX SummaryWriter under <out>/tensorboard/<label>, or None (no --out, or tensorboardX missing)."""
    if ctx.out is None or SummaryWriter is None:
        return None
    return SummaryWriter(str(ctx.out / "tensorboard" / label.replace(" ", "_")))


def train(ctx, name: str, weight_decay: float, iterations: int, x, y) -> dict:
    ctx.manual_seed()
    model = mlp(WIDTHS, layer_norm=True)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    optimizer = getattr(optim, name)(model.parameters(), lr=LR, weight_decay=weight_decay)
    loss_fn = nn.MSELoss()
    every = max(1, iterations // SNAPSHOTS)
    label = setting_label(name, weight_decay)
    writer = tensorboard_writer(ctx, label)
    snapshots, losses = [], []
    initial = [m.weight.detach().numpy().ravel().tolist() for m in linears]
    with ctx.progress(iterations, label, unit="step") as bar:
        for t in range(iterations):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            losses.append(loss.item())
            if t % every == 0:  # θ_t and ∇f(θ_t), before the step
                snapshots.append({"iteration": t, "layers": [
                    {"weight": histogram_counts(m.weight.detach().numpy(), bins=30),
                     "grad": central_histogram(m.weight.grad.numpy())}
                    for m in linears]})
                if writer is not None:
                    for i, m in enumerate(linears, start=1):
                        writer.add_histogram(f"layer{i}/weight", m.weight.detach().numpy(), t)
                        writer.add_histogram(f"layer{i}/grad", m.weight.grad.numpy(), t)
            optimizer.step()
            bar.update(loss=losses[-1])
    if writer is not None:
        writer.close()
    return {"optimizer": name, "weight_decay": weight_decay, "loss": losses, "snapshots": snapshots,
            "initial_weights": initial, "final_weights": [m.weight.detach().numpy().ravel().tolist() for m in linears],
            "final_stats": [weight_stats(m.weight.detach().numpy()) for m in linears]}


def run(ctx) -> dict:
    iterations = 300 if ctx.quick else 1000
    x, y = (tr.tensor(a) for a in histogram_regression())
    runs = {setting_label(name, wd): train(ctx, name, wd, iterations, x, y) for name, wd in SETTINGS}
    logdir = None if SummaryWriter is None or ctx.out is None else ctx.out / "tensorboard"
    return {"tensorboard": str(logdir) if logdir else None,
            "config": {"widths": list(WIDTHS), "lr": LR, "iterations": iterations, "small": SMALL,
                       "activation": "LayerNorm then ReLU after each hidden Linear", "loss": "MSE, full batch"},
            "runs": runs}


def overall(run_: dict, key: str) -> float:
    """A layer statistic averaged over the layers (each layer counts once, whatever its size)."""
    return float(np.mean([stats[key] for stats in run_["final_stats"]]))


def summarize(metrics: dict) -> list:
    runs, small = metrics["runs"], metrics["config"]["small"]
    layers = len(WIDTHS) - 1
    header = "  ".join(f"{'layer ' + str(i):>17}" for i in range(1, layers + 1))
    lines = [f"{metrics['config']['iterations']} iterations; final weights per layer as std / mean|w| / "
             f"frac(|w|<{small:g}):", f"{'setting':<15} {'loss':>9}  {header}"]
    for label, run_ in runs.items():
        cells = "  ".join(f"{s['std']:.3f}/{s['mean_abs']:.3f}/{s['frac_small']:.2f}".rjust(17)
                          for s in run_["final_stats"])
        lines.append(f"{label:<15} {run_['loss'][-1]:>9.3g}  {cells}")
    for name in ("Adam", "AdamW"):
        low, high = runs[setting_label(name, 0.01)], runs[setting_label(name, 0.1)]
        narrower = sum(h["mean_abs"] < l["mean_abs"] for h, l in zip(high["final_stats"], low["final_stats"]))
        lines.append(f"{name:<5}: wd 0.1 vs 0.01: mean |w| {overall(high, 'mean_abs'):.3f} vs "
                     f"{overall(low, 'mean_abs'):.3f} (layer average), smaller in {narrower}/{layers} layers; "
                     f"near-zero fraction {overall(high, 'frac_small'):.2f} vs {overall(low, 'frac_small'):.2f}")
    lines.append(f"TensorBoard histograms: tensorboard --logdir {metrics['tensorboard']}" if metrics["tensorboard"]
                 else "(TensorBoard event files need tensorboardX and --out: pip install tensorboardX)")
    return lines


def _final_histograms(metrics: dict, plt):
    """Per optimizer and layer: the final weights for wd 0.01 and 0.1 over the initial ones, on common bins."""
    runs = metrics["runs"]
    layers = len(WIDTHS) - 1
    names = sorted({r["optimizer"] for r in runs.values()})
    fig, axes = plt.subplots(len(names), layers, figsize=(3.3 * layers, 2.8 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        settings = [r for r in runs.values() if r["optimizer"] == name]
        for i, ax in enumerate(row):
            initial = np.asarray(settings[0]["initial_weights"][i])
            finals = [np.asarray(r["final_weights"][i]) for r in settings]
            limit = max(np.abs(w).max() for w in [initial, *finals])
            bins = np.linspace(-limit, limit, 41)
            ax.hist(initial, bins=bins, histtype="step", color="grey", density=True, label="initial")
            for r, w, color in zip(settings, finals, ("C0", "C1")):
                ax.hist(w, bins=bins, alpha=0.5, color=color, density=True, label=f"wd={r['weight_decay']:g}")
            ax.set_title(f"{name}: layer {i + 1} ({WIDTHS[i]}→{WIDTHS[i + 1]})", fontsize=9)
            ax.tick_params(labelsize=7)
        row[0].legend(fontsize=7)
    fig.suptitle(f"final weights after {metrics['config']['iterations']} iterations (density)")
    fig.tight_layout()
    return fig


def _ridges(metrics: dict, plt, key: str, what: str):
    """Rows: settings; columns: layers; each histogram recorded during training drawn above the previous one."""
    runs = metrics["runs"]
    layers = len(WIDTHS) - 1
    fig, axes = plt.subplots(len(runs), layers, figsize=(3.3 * layers, 2.6 * len(runs)), squeeze=False)
    colors = plt.get_cmap("viridis")
    for row, (label, run_) in zip(axes, runs.items()):
        snapshots = run_["snapshots"]
        for i, ax in enumerate(row):
            for k, snapshot in enumerate(snapshots):
                draw_histogram(ax, snapshot["layers"][i][key], offset=0.5 * k, peak=1.5,
                               color=colors(k / max(1, len(snapshots) - 1)), fill=True, alpha=0.6, ec="white")
            ax.set_yticks([0.5 * k for k in range(0, len(snapshots), 5)],
                          [f"t={snapshots[k]['iteration']}" for k in range(0, len(snapshots), 5)], fontsize=7)
            ax.set_title(f"{label}: layer {i + 1}", fontsize=9)
            ax.tick_params(axis="x", labelsize=7)
    central = " (central 98% of values)" if key == "grad" else ""
    fig.suptitle(f"{what} histograms during training{central} (bottom: iteration 0, top: last recorded)")
    fig.tight_layout()
    return fig


def plot(metrics: dict, plt) -> dict:
    return {"weight_histograms.png": _final_histograms(metrics, plt),
            "weight_histograms_over_time.png": _ridges(metrics, plt, "weight", "weight"),
            "gradient_histograms_over_time.png": _ridges(metrics, plt, "grad", "gradient")}
