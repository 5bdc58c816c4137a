"""Experiment 4, adamw-vs-l2: is the best weight decay independent of the learning rate? (Loshchilov & Hutter, Fig. 2)

The paper trains one network over a grid of initial learning rates α × weight decays λ and draws the final test error
as a heatmap, once per optimizer. Its findings: with L2 (λθ added to the gradient) the good region of SGD and of Adam
is a diagonal, because the decay a weight receives is α·λ (divided by √v̂ in Adam), so a change of α must be
compensated by λ; with decoupled decay (SGDW, AdamW) the best λ is roughly the same for every α, and AdamW's best cell
is better than Adam's, where L2 barely helps.

Here, at small scale:

    model   Fashion-MNIST MLP 784 → 128 → ReLU → 10, cross-entropy, batch 128, constant learning rate
    data    a stratified 10,000-image training subset, the full 10,000-image test set, 10 epochs
    SGD     momentum 0.9, λ as L2:              g ← ∇f + λθ                      (torch.optim.SGD)
    SGDW    momentum 0.9, λ decoupled:          θ ← θ·(1 − λ) each step           (paper's form, η_t = 1)
    Adam    λ as L2:                            g ← ∇f + λθ, then Adam's scaling  (torch.optim.Adam)
    AdamW   λ decoupled:                        θ ← θ·(1 − λ) each step           (paper's form, η_t = 1)

The decoupled runs use the paper's convention (decay η_t·λ per step, independent of α: ``decay="paper"``), since
torch's ``AdamW`` multiplies λ by the learning rate and so ties the two together again. Every cell starts from the same
weights and sees the same batches.

Quick mode: 1,000 training and 1,000 test images, 4 epochs, a 3 × 3 sub-grid (every other learning rate; λ = 0, the
4th and the largest).
"""

import numpy as np

from tinyreg import optim
from tinyreg.experiments.training import fashion_mnist, fit, mlp

WIDTHS = (784, 128, 10)
BATCH_SIZE = 128
OPTIMIZERS = {  # name -> (class, keyword arguments, learning rates, weight decays)
    "SGD (L2)": (optim.SGD, dict(momentum=0.9), (0.001, 0.003, 0.01, 0.03, 0.1, 0.3),
                 (0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)),
    "SGDW": (optim.SGDW, dict(momentum=0.9, decay="paper"), (0.001, 0.003, 0.01, 0.03, 0.1, 0.3),
             (0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3)),
    "Adam (L2)": (optim.Adam, dict(), (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2), (0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)),
    "AdamW": (optim.AdamW, dict(decay="paper"), (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
              (0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3)),
}
FULL = dict(n_train=10_000, n_test=None, epochs=10, lr_index=range(6), decay_index=range(6))
QUICK = dict(n_train=1000, n_test=1000, epochs=4, lr_index=(0, 2, 4), decay_index=(0, 3, 5))  # a 3 × 3 sub-grid


def run(ctx) -> dict:
    config = QUICK if ctx.quick else FULL
    data = fashion_mnist(ctx, config["n_train"], config["n_test"])
    grids = {}
    for name, (cls, kwargs, lrs, decays) in OPTIMIZERS.items():
        lrs, decays = [lrs[i] for i in config["lr_index"]], [decays[i] for i in config["decay_index"]]
        errors = np.zeros((len(decays), len(lrs)))
        with ctx.progress(errors.size, name, unit="run") as bar:
            for i, weight_decay in enumerate(decays):
                for j, lr in enumerate(lrs):
                    ctx.manual_seed()  # every cell starts from the same weights and sees the same batches
                    model = mlp(WIDTHS)
                    optimizer = cls(model.parameters(), lr=lr, weight_decay=weight_decay, **kwargs)
                    history = fit(model, optimizer, data, config["epochs"], BATCH_SIZE, ctx.rng("batches"),
                                  evaluate_train=False)
                    errors[i, j] = 1 - history["test_acc"][-1]
                    bar.update(lr=lr, wd=weight_decay, test_error=errors[i, j])
        grids[name] = {"lrs": list(lrs), "weight_decays": list(decays), "test_error": errors.tolist(),
                       "options": dict(kwargs)}
    config = {k: list(v) if isinstance(v, range) else v for k, v in config.items()}
    return {"config": dict(config, widths=list(WIDTHS), batch_size=BATCH_SIZE, data=data.description),
            "grids": grids, "lessons": lessons(grids)}


def lessons(grids: dict) -> dict:
    """The paper's claims as numbers, per optimizer.

    ``best``: the lowest test error and its (lr, λ); ``best_without_decay``: the lowest with λ = 0;
    ``best_decay_per_lr``: for each learning rate, the λ > 0 with the lowest error (λ = 0 left out: the question is
    *which* decay, not whether to decay) — constant if the good decay is independent of the learning rate, falling as
    α grows along a diagonal if coupled; ``decay_lr_correlation``: the correlation of log α with log of that λ (−1: a
    clean diagonal, near 0: separable), None when it is undefined because that λ is the same at every α (the most
    separable outcome, but a correlation needs both to vary); ``cost_of_largest_decay``: for each
    learning rate, test error at the largest λ minus test error at λ = 0 — under L2 the decay a weight receives grows
    with α, so this cost grows with α; decoupled, it should not.
    """
    out = {}
    for name, grid in grids.items():
        errors = np.asarray(grid["test_error"])
        lrs, decays = np.asarray(grid["lrs"]), np.asarray(grid["weight_decays"])
        i, j = np.unravel_index(np.argmin(errors), errors.shape)
        decayed = decays > 0
        best_decay = decays[decayed][np.argmin(errors[decayed], axis=0)]
        correlation = (float(np.corrcoef(np.log(lrs), np.log(best_decay))[0, 1])
                       if len(set(best_decay)) > 1 else None)
        out[name] = {"best": {"test_error": float(errors[i, j]), "lr": float(lrs[j]), "weight_decay": float(decays[i])},
                     "best_without_decay": float(errors[~decayed].min()),
                     "best_decay_per_lr": best_decay.tolist(), "decay_lr_correlation": correlation,
                     "cost_of_largest_decay": (errors[-1] - errors[0]).tolist()}
    return out


def _table(grid: dict) -> list:
    lrs = grid["lrs"]
    lines = ["  λ \\ lr   " + " ".join(f"{lr:>7g}" for lr in lrs)]
    for decay, row in zip(grid["weight_decays"], grid["test_error"]):
        lines.append(f"  {decay:<8g} " + " ".join(f"{100 * e:>6.1f}%" for e in row))
    return lines


def _correlation_text(lesson: dict) -> str:
    correlation = lesson["decay_lr_correlation"]
    if correlation is None:
        return "corr(log lr, log λ*) undefined: the same λ* at every lr"
    return f"corr(log lr, log λ*) = {correlation:+.2f}"


def summarize(metrics: dict) -> list:
    config, lessons_ = metrics["config"], metrics["lessons"]
    lines = [f"data: {config['data']}; {config['epochs']} epochs; MLP {'-'.join(map(str, config['widths']))}; "
             "final test error per (λ, lr):"]
    for name, grid in metrics["grids"].items():
        lines += [f"{name}:"] + _table(grid)
    lines.append("lessons (paper's claim -> what this run shows):")
    for name, lesson in lessons_.items():
        best = lesson["best"]
        lines.append(f"  {name:<9} best {100 * best['test_error']:.2f}% at lr={best['lr']:g}, "
                     f"λ={best['weight_decay']:g}; "
                     f"best with λ=0: {100 * lesson['best_without_decay']:.2f}%; best λ > 0 per lr "
                     f"{[f'{d:g}' for d in lesson['best_decay_per_lr']]} ({_correlation_text(lesson)})")
    for name, lesson in lessons_.items():
        cost = lesson["cost_of_largest_decay"]
        lines.append(f"  {name:<9} cost of the largest λ ({metrics['grids'][name]['weight_decays'][-1]:g}) per lr, "
                     f"in points: {' '.join(f'{100 * c:+.1f}' for c in cost)} (from the smallest to the largest lr: "
                     f"{100 * (cost[-1] - cost[0]):+.1f})")
    adam, adamw = lessons_["Adam (L2)"], lessons_["AdamW"]
    gain_adam = adam["best_without_decay"] - adam["best"]["test_error"]
    gain_adamw = adamw["best_without_decay"] - adamw["best"]["test_error"]
    lines += [
        f"  L2 helps Adam by {100 * gain_adam:.2f} points; decoupled decay helps AdamW by {100 * gain_adamw:.2f} "
        "points.",
        f"  AdamW's best is {'better' if adamw['best']['test_error'] < adam['best']['test_error'] else 'NOT better'} "
        f"than Adam's: {100 * adamw['best']['test_error']:.2f}% vs {100 * adam['best']['test_error']:.2f}%.",
        "  A separable optimizer has the same best λ > 0 at every lr (correlation undefined or near 0); a coupled "
        "one a falling λ (correlation near −1). Differences of a few tenths of a point are within seed noise at this "
        "scale.",
    ]
    return lines


def plot(metrics: dict, plt) -> dict:
    grids = metrics["grids"]
    fig, axes = plt.subplots(1, len(grids), figsize=(4.8 * len(grids), 4.4), layout="constrained")
    vmin = min(100 * e for grid in grids.values() for row in grid["test_error"] for e in row)
    vmax = vmin + 10  # 10 points above the best cell: diverged cells saturate instead of washing out the good region
    for ax, (name, grid) in zip(axes, grids.items()):
        errors = 100 * np.asarray(grid["test_error"])
        image = ax.imshow(errors, origin="lower", cmap="viridis_r", vmin=vmin, vmax=vmax, aspect="auto")
        for (i, j), e in np.ndenumerate(errors):
            ax.text(j, i, f"{e:.1f}", ha="center", va="center", fontsize=7,
                    color="white" if e > (vmin + vmax) / 2 else "black")
        i, j = np.unravel_index(np.argmin(errors), errors.shape)
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
        ax.set_xticks(range(len(grid["lrs"])), [f"{lr:g}" for lr in grid["lrs"]], fontsize=7, rotation=45)
        ax.set_yticks(range(len(grid["weight_decays"])), [f"{d:g}" for d in grid["weight_decays"]], fontsize=7)
        ax.set(title=name, xlabel="learning rate", ylabel="weight decay λ")
    fig.colorbar(image, ax=axes, label="test error (%)", shrink=0.8)
    fig.suptitle(f"adamw-vs-l2: test error after {metrics['config']['epochs']} epochs ({metrics['config']['data']}); "
                 "red: best cell")
    return {"adamw_vs_l2.png": fig}
