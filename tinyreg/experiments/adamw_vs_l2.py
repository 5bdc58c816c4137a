"""Experiment 4, adamw-vs-l2: does the best weight decay depend on the learning rate? (Loshchilov & Hutter, Fig. 2)

The paper trains one network over a grid of initial learning rates α × weight decays λ, with a cosine-annealed
schedule multiplier η_t, and draws the final test error as a heatmap, once per optimizer. Its central result: with L2
(λθ added to the gradient) the good region is a diagonal — the decay a weight receives is α·λ, so a change of α must
be compensated by λ — while with decoupled decay in the paper's form (θ ← θ − η_t·λ·θ, no α in it) the best λ is
the same for every α: the two hyperparameters become separable. torch's ``AdamW`` decays by lr_t·λ = α·η_t·λ, which
puts α back into the decay: its best λ moves with α again.

Here, at small scale (see :data:`FULL`):

    model   MLP 784 → 64 → LayerNorm → ReLU → 10 → LayerNorm → ×4, cross-entropy, batch 32, η_t cosine from 1 to 0
            over the whole run. Both LayerNorms are without γ and β, so every parameter is *scale-invariant*: the
            network computes the same function from c·(W, b) as from (W, b), like the convolutions before BatchNorm in
            the paper's ResNet. Decay then cannot shrink the function, only turn the weights faster (it sets their
            effective learning rate), the mechanism behind the paper's heatmaps (docs/adamw-vs-l2.md); the fixed
            factor 4 is the logits' temperature. The SGD panels' weights start at 4 × torch's default scale, a
            slow start that decay must cure, the Adam panels' at torch's (:data:`SGD_INIT_SCALE`,
            :data:`ADAM_INIT_SCALE`)
    data    a stratified 1,000-image Fashion-MNIST training subset (the unregularized MLP fits it, mostly exactly, and
            overfits), the full 10,000-image test set, 100 epochs (3,200 steps)
    panels  SGD + L2             momentum 0.9, g ← ∇f + λθ                   (torch.optim.SGD)
            SGDW                 momentum 0.9, θ ← θ − η_t·λ·θ               (Algorithm 1, decay="paper")
            Adam + L2            g ← ∇f + λθ, then Adam's scaling            (torch.optim.Adam)
            AdamW                θ ← θ − η_t·λ·θ                             (Algorithm 2, decay="paper")
            AdamW (torch form)   θ ← θ − lr_t·λ·θ = θ − α·η_t·λ·θ             (torch.optim.AdamW)
    grid    per panel 5 learning rates over 2 decades × 9 to 15 values of λ > 0 over 4 to 7 decades, both log-spaced
            at 2 points per decade, plus λ = 0 as a separate baseline row
    seeds   6: each seed its own initial weights and batch order, shared by every cell of every panel

All cells of one seed are trained at once as one batched model (:class:`CellStack`): each cell is an ordinary MLP
with its own Parameters and its own param group (its own lr and λ), and the cells' first layers are multiplied in one
wide matrix product. The seeds are independent, so they train side by side, one per core
(:func:`tinyreg.experiments.parallel.map_jobs`). The λ with the lowest seed-averaged test error at each learning
rate, ``best_lambda_per_lr``, and the least-squares slope of log λ* against log α, ``best_lambda_slope``, turn the
heatmap's diagonal into a number: about −1 when λ and α are coupled (−2 for Adam + L2; the claims ask for ≤ −0.5),
about 0 when they are separable (:func:`best_lambda`).

Quick mode (:data:`QUICK`): 500 training images, 1,000 test images, a 16-unit MLP, 30 epochs at batch 64, 3 learning
rates × 4 λ > 0, 2 seeds — the same fields, in seconds (too small a grid to read a slope from).
"""

import dataclasses
import math
from typing import NamedTuple

import numpy as np

import tinyreg as tr
from tinyreg import nn, optim
from tinyreg.data import batches
from tinyreg.experiments.parallel import available_cores, map_jobs
from tinyreg.experiments.training import fashion_mnist, mlp
from tinyreg.optim.lr_scheduler import CosineAnnealingLR


class Panel(NamedTuple):
    """One heatmap: an optimizer, where its λ acts, its grid, and what the paper predicts for its best λ."""

    optimizer: type
    options: dict
    decay: str                  # the decay term, in words
    lrs: tuple                  # α, the columns
    weight_decays: tuple        # λ > 0, the rows; λ = 0 is trained as well, as a separate baseline row
    coupled: bool               # the prediction: α enters the decay, λ* ∝ 1/α (1/α² for Adam + L2), or not (False)
    init_scale: float           # the cells' weights start at this times torch's default initialisation (cell_model)


def log_grid(low: float, high: float, per_decade: int) -> tuple:
    """``low``, ..., ``high``, evenly spaced in log scale with ``per_decade`` points per factor of 10."""
    n = round(per_decade * math.log10(high / low)) + 1
    return tuple(float(f"{v:.3g}") for v in np.logspace(math.log10(low), math.log10(high), n))


# The grids: 5 learning rates over 2 decades, λ > 0 over 4 to 7 decades, both at 2 points per decade (×√10 apart).
# Where a panel's λ range sits was found with wide pilot runs (docs/adamw-vs-l2.md): from a λ with no effect up to
# where decay clearly hurts for the coupled panels, and up to λ = 1 (η_t·λ ≤ 1) for the paper form. Adam + L2's
# best λ moves as 1/α² (its diagonal crosses 4 decades).
SGD_LRS, ADAM_LRS = log_grid(1e-3, 1e-1, 2), log_grid(10 ** -3.5, 10 ** -1.5, 2)
# The start: SGD turns a scale-invariant weight by about α/‖θ‖² per step, so from torch's scale it learns fast at every
# α of its grid and decay has nothing to cure; 4 × larger weights start 16 × slower. Adam turns it by about α/‖θ‖ and
# its small learning rates start slowly from torch's scale already; from a 4 × start a small λ shrinks the weights
# into a warm-up that favours small λ at the smallest α (docs/adamw-vs-l2.md measures both).
SGD_INIT_SCALE, ADAM_INIT_SCALE = 4.0, 1.0
PANELS = {
    "SGD + L2": Panel(optim.SGD, dict(momentum=0.9), "g ← ∇f + λθ (coupled)", SGD_LRS, log_grid(1e-4, 10, 2), True,
                      SGD_INIT_SCALE),
    "SGDW": Panel(optim.SGDW, dict(momentum=0.9, decay="paper"), "θ ← θ − η_t·λ·θ (paper)", SGD_LRS,
                  log_grid(1e-4, 1, 2), False, SGD_INIT_SCALE),
    "Adam + L2": Panel(optim.Adam, dict(), "g ← ∇f + λθ (coupled)", ADAM_LRS, log_grid(1e-6, 10, 2), True,
                       ADAM_INIT_SCALE),
    "AdamW": Panel(optim.AdamW, dict(decay="paper"), "θ ← θ − η_t·λ·θ (paper)", ADAM_LRS, log_grid(1e-4, 1, 2),
                   False, ADAM_INIT_SCALE),
    "AdamW (torch form)": Panel(optim.AdamW, dict(decay="decoupled"), "θ ← θ − α·η_t·λ·θ (torch)", ADAM_LRS,
                                log_grid(0.1, 10 ** 3.5, 2), True, ADAM_INIT_SCALE),
}
FULL = dict(n_train=1000, n_test=None, hidden=64, scale_invariant=True, epochs=100, batch_size=32, seeds=6,
            lr_index=None, decay_index=None)  # None: the whole grid
QUICK = dict(n_train=500, n_test=1000, hidden=16, scale_invariant=True, epochs=30, batch_size=64, seeds=2,
             lr_index=(0, 2, 4), decay_index=(0, 3, 5, 8))
LOGIT_SCALE = 4.0                # s: the normalized logits' fixed temperature (pilot runs: s = 1 learns too slowly)
LAYER_NORM_EPS = 1e-12           # not torch's 1e-5, which would break scale-invariance for small weights (cell_model)
HARM = 0.01                      # onset of decay's effect: 1 point of test error above λ = 0 (seed spread ~0.3)
COUPLED_SLOPE_AT_MOST = -0.5     # the reading of "near −1" for coupled panels ...
SEPARABLE_SLOPE_WITHIN = 0.35    # ... and of "near 0" for the paper-form decoupled ones


def grids(config: dict) -> dict:
    """The panels with the learning rates and λ values ``config`` selects (quick mode: a sub-grid)."""
    def pick(values, index):
        return values if index is None else tuple(values[i] for i in index)

    return {name: panel._replace(lrs=pick(panel.lrs, config["lr_index"]),
                                 weight_decays=pick(panel.weight_decays, config["decay_index"]))
            for name, panel in PANELS.items()}


class LogitScale(nn.Module):
    """z ↦ s·z with a fixed s: the temperature of normalized logits. It has no parameter, so nothing to decay."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, z):
        return z * self.scale


def cell_model(n_in: int, hidden: int, n_out: int, scale_invariant: bool, init_scale: float = 1.0):
    """One cell's network: Linear(n_in, hidden) → ReLU → Linear(hidden, n_out), and when ``scale_invariant`` a
    LayerNorm without γ, β after each Linear and the logits times :data:`LOGIT_SCALE`: every parameter then sits in a
    layer whose output does not change when its weight and bias are multiplied by any c > 0.

    In the scale-invariant cell the norm of the weights sets only the effective learning rate (an update of fixed
    size turns a small weight further than a large one), and the parameters start at ``init_scale`` times torch's
    default. A slow start is one that weight decay has to cure by shrinking the weights, and how fast it does is the
    lesson: α·η_t·λ per step for SGD + L2 (divided by 1 − μ with momentum μ) and torch's AdamW, η_t·λ in the paper's
    decoupled form, and for Adam + L2 a rate that depends on α²·λ (its λθ passes through Adam's normalization).
    LayerNorm's ε is :data:`LAYER_NORM_EPS`: with torch's 1e-5 the normalization would stop being scale-invariant once
    a layer's pre-activations have a variance near 1e-5, which Adam's small weights reach (α ≈ 3e-4 with λ near 1).
    """
    if not scale_invariant:
        model = mlp((n_in, hidden, n_out))
    else:
        def normalize(n):
            return nn.LayerNorm(n, eps=LAYER_NORM_EPS, elementwise_affine=False)

        model = nn.Sequential(nn.Linear(n_in, hidden), normalize(hidden), nn.ReLU(), nn.Linear(hidden, n_out),
                              normalize(n_out), LogitScale(LOGIT_SCALE))
    with tr.no_grad():
        for parameter in model.parameters():
            parameter.mul_(init_scale)
    return model


# ---- many small models trained at once ----------------------------------------------------------------------------
class CellStack:
    """K two-layer MLPs (n → h [→ LayerNorm] → ReLU → c [→ LayerNorm, ×s]), one per grid cell, evaluated as one
    network.

    Each cell is an ordinary :func:`cell_model` with its own Parameters, so each can be its own
    param group with its own lr and λ. Only the forward pass is shared: the K first layers, side by side, are one wide
    layer n → K·h (one matrix product instead of K, where nearly all the work is), and the K second layers are one
    batched product (K, B, h) @ (K, h, c). No cell's output depends on another cell's weights, so the gradient of
    the summed losses (:meth:`cell_losses`) with respect to a cell's weights is exactly the gradient it would get
    alone.
    """

    def __init__(self, models: list):
        self.models = models
        self.first, self.second = zip(*([layer for layer in model if isinstance(layer, nn.Linear)] for model in models))
        self.normalized = isinstance(models[0][1], nn.LayerNorm)

    def __len__(self):
        return len(self.models)

    def __call__(self, x) -> tr.Tensor:
        """The K cells' logits for the batch ``x`` (B, n): shape (K, B, c)."""
        k, h = len(self.models), self.first[0].out_features
        w1 = tr.cat([layer.weight for layer in self.first])                  # (K·h, n)
        b1 = tr.cat([layer.bias for layer in self.first])
        hidden = tr.reshape(nn.functional.linear(x, w1, b1), (x.shape[0], k, h))  # (B, K, h)
        if self.normalized:
            hidden = nn.functional.layer_norm(hidden, (h,), eps=LAYER_NORM_EPS)
        hidden = tr.permute(tr.relu(hidden), 1, 0, 2)                         # (K, B, h)
        w2 = tr.transpose(tr.stack([layer.weight for layer in self.second]), 1, 2)  # (K, h, c)
        b2 = tr.unsqueeze(tr.stack([layer.bias for layer in self.second]), 1)        # (K, 1, c)
        logits = tr.matmul(hidden, w2) + b2
        if self.normalized:
            logits = nn.functional.layer_norm(logits, (logits.shape[-1],), eps=LAYER_NORM_EPS) * LOGIT_SCALE
        return logits

    def cell_losses(self, x, y) -> tr.Tensor:
        """Each cell's mean cross-entropy on the batch (x, y), shape (K,). Training differentiates their sum."""
        logits = self(tr.tensor(x))                                                # (K, B, c)
        labels = tr.tensor(np.tile(y, len(self)))
        per_example = nn.functional.cross_entropy(tr.reshape(logits, (-1, logits.shape[-1])), labels, reduction="none")
        return tr.reshape(per_example, (len(self), len(y))).mean(axis=1)

    def errors(self, x, y, chunk: int = 1000) -> np.ndarray:
        """Each cell's classification error on (x, y), shape (K,); a cell whose weights diverged counts as wrong."""
        wrong = np.zeros(len(self))
        with tr.no_grad():
            for start in range(0, len(y), chunk):
                logits = np.asarray(self(tr.tensor(x[start:start + chunk])))
                predicted = np.where(np.isfinite(logits).all(axis=-1), logits.argmax(axis=-1), -1)
                wrong += (predicted != y[start:start + chunk]).sum(axis=1)
        return wrong / len(y)


def train_cells(panels: dict, data, config: dict, seed: int, rng: np.random.Generator, progress=None) -> dict:
    """Train every cell of every panel for one seed; return ``{panel: {"test_error", "train_error"}}`` arrays of shape
    (1 + number of λ > 0, number of lrs), row 0 being λ = 0.

    Every cell starts from the same initial weights (``tr.manual_seed(seed)``, times its panel's ``init_scale``) and
    sees the same batches (``rng``).
    Each panel has one optimizer whose param groups are its cells, and a cosine schedule over the whole run
    (η_t from 1 to 0, stepped once per batch); decay="paper" reads that η_t.
    """
    cells, optimizers, schedules = [], [], []
    steps = config["epochs"] * math.ceil(len(data.train.y) / config["batch_size"])
    for panel in panels.values():
        groups = []
        for weight_decay in (0.0,) + panel.weight_decays:
            for lr in panel.lrs:
                tr.manual_seed(seed)
                model = cell_model(data.train.x.shape[1], config["hidden"], 10, config["scale_invariant"],
                                   panel.init_scale)
                cells.append(model)
                groups.append({"params": list(model.parameters()), "lr": lr, "weight_decay": weight_decay})
        optimizer = panel.optimizer(groups, **panel.options)
        optimizers.append(optimizer)
        schedules.append(CosineAnnealingLR(optimizer, T_max=steps))
    stack = CellStack(cells)
    with np.errstate(over="ignore", invalid="ignore"):  # cells in a grid's corner may diverge; errors() scores them
        _train(stack, optimizers, schedules, data, config, seed, rng, progress)
        test_error, train_error = stack.errors(*data.test), stack.errors(*data.train)
    out, start = {}, 0
    for name, panel in panels.items():
        shape = (1 + len(panel.weight_decays), len(panel.lrs))
        stop = start + shape[0] * shape[1]
        out[name] = {"test_error": test_error[start:stop].reshape(shape),
                     "train_error": train_error[start:stop].reshape(shape)}
        start = stop
    return out


def _train(stack, optimizers, schedules, data, config, seed, rng, progress):
    """The training loop: every batch, one forward and backward for all cells, then every optimizer and schedule
    steps once."""
    for _ in range(config["epochs"]):
        for x, y in batches(data.train.x, data.train.y, batch_size=config["batch_size"], rng=rng):
            losses = stack.cell_losses(x, y)
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=False)  # zeroed in place: backward adds into the flat buffers
            losses.sum().backward()
            for optimizer, schedule in zip(optimizers, schedules):
                optimizer.step()
                schedule.step()
            if progress is not None:  # cells in a grid's corner diverge: the bar counts them and averages the rest
                values = np.asarray(losses)
                finite = np.isfinite(values)
                progress.update(seed=seed, mean_cell_loss=float(values[finite].mean()) if finite.any() else math.nan,
                                diverged=int((~finite).sum()))


# ---- the numbers the lesson is read from ---------------------------------------------------------------------------
def best_lambda(test_error: np.ndarray, lrs, weight_decays) -> dict:
    """Per learning rate, the λ > 0 with the lowest test error, and how it moves with the learning rate.

    ``test_error``: (number of λ, number of lrs), seed-averaged, rows λ = ``weight_decays`` (all > 0, increasing).
    Returns ``best_lambda_per_lr`` (λ*(α) for each α), ``best_lambda_at_edge`` (True where λ* is the grid's smallest or
    largest λ: the true optimum may lie outside the grid, and the slope is then a bound, not a measurement) and
    ``best_lambda_slope``, the least-squares slope b of  log λ* = a + b·log α  (−1: λ*·α constant, the diagonal of
    coupled decay; 0: λ* independent of α, separable), with ``best_lambda_intercept`` a (natural logs).
    """
    rows = np.argmin(test_error, axis=0)
    best = np.asarray(weight_decays, dtype=float)[rows]
    edge = (rows == 0) | (rows == len(weight_decays) - 1)
    slope, intercept = np.polyfit(np.log(lrs), np.log(best), 1)
    return {"best_lambda_per_lr": best.tolist(), "best_lambda_at_edge": edge.tolist(),
            "best_lambda_slope": float(slope), "best_lambda_intercept": float(intercept)}


def onset_lambda(test_error: np.ndarray, no_decay: np.ndarray, lrs, weight_decays, rise: float = HARM) -> dict:
    """Per learning rate, the smallest λ > 0 whose test error is more than ``rise`` above that lr's λ = 0 error: where
    decay starts to change the result. None where no λ of the grid does; the slope of log λ against log α is fitted
    over the lrs that have one (None with fewer than two). A second reading of the same heatmap, for grids whose
    columns are flat below the onset (the best λ is then decided by noise)."""
    harmful = test_error > no_decay[None, :] + rise
    onset = [float(weight_decays[np.argmax(column)]) if column.any() else None for column in harmful.T]
    known = [(lr, v) for lr, v in zip(lrs, onset) if v is not None]
    slope = float(np.polyfit(*np.log(np.array(known)).T, 1)[0]) if len(known) >= 2 else None
    return {"onset_lambda_per_lr": onset, "onset_lambda_slope": slope, "onset_rise": rise}


def _mean_std(per_seed: np.ndarray) -> dict:
    """Mean and sample standard deviation over the seeds (axis 0), as lists."""
    return {"mean": per_seed.mean(axis=0).tolist(), "std": per_seed.std(axis=0, ddof=1).tolist()}


def panel_metrics(panel: Panel, test_error: np.ndarray, train_error: np.ndarray) -> dict:
    """What metrics.json records for one panel, from per-seed grids (seeds, 1 + λ > 0, lrs), row 0 being λ = 0."""
    mean = test_error.mean(axis=0)
    decayed = mean[1:]
    i, j = np.unravel_index(np.argmin(decayed), decayed.shape)
    j0 = int(np.argmin(mean[0]))
    return {
        "optimizer": panel.optimizer.__name__, "options": dict(panel.options), "decay": panel.decay,
        "coupled": panel.coupled, "init_scale": panel.init_scale, "lrs": list(panel.lrs),
        "weight_decays": list(panel.weight_decays),
        "test_error": _mean_std(test_error[:, 1:]), "train_error": _mean_std(train_error[:, 1:]),
        "no_decay": {"test_error": _mean_std(test_error[:, 0]), "train_error": _mean_std(train_error[:, 0])},
        **best_lambda(decayed, panel.lrs, panel.weight_decays),
        **onset_lambda(decayed, mean[0], panel.lrs, panel.weight_decays),
        "best": {"lr": panel.lrs[j], "weight_decay": panel.weight_decays[i], "test_error": float(decayed[i, j]),
                 "std": float(test_error[:, 1 + i, j].std(ddof=1)), "per_seed": test_error[:, 1 + i, j].tolist()},
        "best_without_decay": {"lr": panel.lrs[j0], "test_error": float(mean[0, j0]),
                               "std": float(test_error[:, 0, j0].std(ddof=1)),
                               "per_seed": test_error[:, 0, j0].tolist(),
                               "train_error": float(train_error[:, 0, j0].mean())},
    }


def claims(panels: dict) -> list:
    """The paper's claims, each with what this run shows: ``{"claim", "shown", "evidence"}``."""
    out = []
    for name, p in panels.items():
        slope = p["best_lambda_slope"]
        if p["coupled"]:
            claim, shown = f"{name}: the best λ falls as the learning rate grows (slope near −1)", \
                slope <= COUPLED_SLOPE_AT_MOST
        else:
            claim, shown = f"{name}: the best λ is the same for every learning rate (slope near 0)", \
                abs(slope) <= SEPARABLE_SLOPE_WITHIN
        edges = sum(p["best_lambda_at_edge"])
        out.append({"claim": claim, "shown": bool(shown and edges == 0),
                    "evidence": f"slope {slope:+.2f}; best λ per lr {_fmt(p['best_lambda_per_lr'])}"
                                + (f" ({edges} of them at the grid's edge)" if edges else " (all inside the grid)")
                                + f"; onset of decay's effect (+{100 * p['onset_rise']:g} point) per lr "
                                + _fmt(p["onset_lambda_per_lr"]) + ", slope " + _number(p["onset_lambda_slope"])})
    for name, p in panels.items():
        gain = p["best_without_decay"]["test_error"] - p["best"]["test_error"]
        spread = max(p["best"]["std"], p["best_without_decay"]["std"])
        out.append({"claim": f"{name}: weight decay lowers the best test error (decay matters in this regime)",
                    "shown": bool(gain > spread),
                    "evidence": f"best {100 * p['best']['test_error']:.2f} ± {100 * p['best']['std']:.2f}% vs "
                                f"{100 * p['best_without_decay']['test_error']:.2f} ± "
                                f"{100 * p['best_without_decay']['std']:.2f}% with λ = 0 (train error there "
                                f"{100 * p['best_without_decay']['train_error']:.2f}%)"})
    adam, adamw = panels["Adam + L2"]["best"], panels["AdamW"]["best"]
    difference = np.subtract(adamw["per_seed"], adam["per_seed"])  # paired: the same seeds, weights, batches
    mean, std = difference.mean(), difference.std(ddof=1)
    out.append({"claim": "AdamW's best cell beats Adam + L2's best cell by more than the seed spread",
                "shown": bool(mean < 0 and -mean > std and (difference < 0).all()),
                "evidence": f"{100 * adamw['test_error']:.2f} ± {100 * adamw['std']:.2f}% vs "
                            f"{100 * adam['test_error']:.2f} ± {100 * adam['std']:.2f}%; per seed AdamW − Adam "
                            f"{100 * mean:+.2f} ± {100 * std:.2f} points"})
    return out


def _number(value) -> str:
    return "none" if value is None else f"{value:.3g}"


def _fmt(values) -> str:
    return "[" + ", ".join(map(_number, values)) + "]"


def run(ctx) -> dict:
    config = QUICK if ctx.quick else FULL
    panels = grids(config)
    data = fashion_mnist(ctx, config["n_train"], config["n_test"])
    seeds = [ctx.seed + i for i in range(config["seeds"])]
    steps = config["epochs"] * math.ceil(len(data.train.y) / config["batch_size"])
    jobs = [(panels, data, config, seed, dataclasses.replace(ctx, seed=seed).rng("batches")) for seed in seeds]
    workers = min(len(seeds), available_cores())  # the seeds are independent: one per core at a time
    with ctx.progress(len(seeds) * steps, f"{sum(len(p.lrs) * (1 + len(p.weight_decays)) for p in panels.values())} "
                      f"cells × {len(seeds)} seeds, {workers} at a time", unit="step") as bar:
        runs = map_jobs(train_cells, jobs, workers, bar)
    metrics = {name: panel_metrics(panel, np.stack([r[name]["test_error"] for r in runs]),
                                   np.stack([r[name]["train_error"] for r in runs]))
               for name, panel in panels.items()}
    config = dict(config, data=data.description, widths=[784, config["hidden"], 10], steps=steps,
                  logit_scale=LOGIT_SCALE if config["scale_invariant"] else None,
                  layer_norm_eps=LAYER_NORM_EPS if config["scale_invariant"] else None, workers=workers,
                  schedule="cosine annealing of η_t from 1 to 0 over all steps, stepped per batch")
    return {"config": config, "seeds": seeds, "panels": metrics, "claims": claims(metrics)}


# ---- text and figure -----------------------------------------------------------------------------------------------
def _table(p: dict) -> list:
    lines = ["  λ \\ lr   " + " ".join(f"{lr:>13g}" for lr in p["lrs"])]
    rows = [(0, p["no_decay"]["test_error"])] + [
        (d, {"mean": m, "std": s}) for d, m, s in zip(p["weight_decays"], p["test_error"]["mean"],
                                                     p["test_error"]["std"])]
    for decay, row in rows:
        lines.append(f"  {decay:<8g} " + " ".join(f"{100 * m:>6.2f} ± {100 * s:4.2f}"
                                                  for m, s in zip(row["mean"], row["std"])))
    return lines


def summarize(metrics: dict) -> list:
    config = metrics["config"]
    normalized = " (LayerNorm after each Linear, logits ×4: scale-invariant)" if config["scale_invariant"] else ""
    lines = [f"data: {config['data']}; MLP {'-'.join(map(str, config['widths']))}{normalized}; {config['epochs']} "
             f"epochs of batch {config['batch_size']} ({config['steps']} steps), η_t cosine 1 → 0; "
             f"seeds {metrics['seeds']}; "
             "test error (%) per (λ, lr), mean ± std over seeds, first row λ = 0:"]
    for name, p in metrics["panels"].items():
        lines += [f"{name} ({p['decay']}; weights start at {p['init_scale']:g} × torch's scale): best λ per lr "
                  f"{_fmt(p['best_lambda_per_lr'])}, slope of log λ* vs log lr {p['best_lambda_slope']:+.2f}"]
        lines += _table(p)
    lines.append("the paper's claims -> what this run shows:")
    for c in metrics["claims"]:
        lines.append(f"  [{'shown' if c['shown'] else 'NOT shown'}] {c['claim']}: {c['evidence']}")
    return lines


def plot(metrics: dict, plt) -> dict:
    """The paper's Figure 2: test error over (lr, λ) per panel, λ = 0 as a separate bottom row. White circles: the
    best λ at each lr, white line: the least-squares fit of log λ* against log lr, orange squares: the onset of
    decay's effect (+1 point over λ = 0) at each lr, red frame: the best cell."""
    panels = metrics["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 5.4), layout="constrained")
    best = min(p["best"]["test_error"] for p in panels.values())
    vmin, vmax = 100 * best, 100 * best + 8  # 8 points above the best cell: bad cells saturate, the optimum shows
    for ax, (name, p) in zip(np.atleast_1d(axes), panels.items()):
        errors = 100 * np.vstack([p["no_decay"]["test_error"]["mean"], p["test_error"]["mean"]])
        image = ax.imshow(errors, origin="lower", cmap="viridis_r", vmin=vmin, vmax=vmax, aspect="auto")
        for (i, j), e in np.ndenumerate(errors):
            ax.text(j, i, f"{e:.1f}", ha="center", va="center", fontsize=6,
                    color="white" if e > (vmin + vmax) / 2 else "black")
        ax.axhline(0.5, color="white", lw=2)  # λ = 0 below: the baseline, not part of the log-spaced grid
        row = {decay: i for i, decay in enumerate(p["weight_decays"], start=1)}  # λ = 0 is row 0
        columns = range(len(p["lrs"]))
        ax.plot(columns, [row[d] for d in p["best_lambda_per_lr"]], "o", mfc="none", mec="white", mew=1.5, ms=13,
                label="best λ per lr")
        fitted = p["best_lambda_intercept"] + p["best_lambda_slope"] * np.log(p["lrs"])  # log λ on the line
        ax.plot(columns, 1 + np.interp(fitted, np.log(p["weight_decays"]), np.arange(len(row)), left=-1.5,
                                       right=len(row) + 0.5),
                "-", color="white", lw=1.5, label=f"fit: slope {p['best_lambda_slope']:+.2f}")
        onset = [(j, row[d]) for j, d in enumerate(p["onset_lambda_per_lr"]) if d is not None]
        ax.plot(*zip(*onset) if onset else ([], []), "s", mfc="none", mec="orange", mew=1.5, ms=13,
                label=f"onset (+{100 * p['onset_rise']:g} point)")
        i, j = row[p["best"]["weight_decay"]], p["lrs"].index(p["best"]["lr"])
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
        ax.set_xticks(columns, [f"{lr:g}" for lr in p["lrs"]], fontsize=7, rotation=45)
        ax.set_yticks(range(1 + len(row)), ["0"] + [f"{d:g}" for d in p["weight_decays"]], fontsize=7)
        ax.set_ylim(-0.5, len(row) + 0.5)
        ax.set(title=f"{name}\nbest {100 * p['best']['test_error']:.2f} ± {100 * p['best']['std']:.2f}%",
               xlabel="initial learning rate α", ylabel="weight decay λ")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24), fontsize=7, facecolor="0.4", labelcolor="white",
                  framealpha=1)  # below the heatmap, so it hides no cell; grey, so the white marks show
    fig.colorbar(image, ax=axes, label="test error (%), mean over seeds", shrink=0.8)
    config = metrics["config"]
    fig.suptitle(f"adamw-vs-l2: test error after {config['epochs']} epochs, cosine η_t ({config['data']}; "
                 f"{len(metrics['seeds'])} seeds)")
    return {"adamw_vs_l2.png": fig}
