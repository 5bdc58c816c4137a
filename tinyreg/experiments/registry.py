"""The experiments by name: ``python -m tinyreg list`` prints this table, ``run NAME`` imports the module.

Each experiment is one module of this package with three functions:

    run(ctx: Context) -> dict          train and measure; returns plain data (numbers, lists, strings) for metrics.json
    summarize(metrics) -> list[str]    the text summary: the numbers and what they show
    plot(metrics, plt) -> dict         {file name: matplotlib figure}, drawn from metrics alone

Modules are imported only when run, so listing needs nothing beyond this file.
"""

import importlib
from typing import NamedTuple


class Experiment(NamedTuple):
    name: str
    module: str
    description: str

    def load(self):
        return importlib.import_module(f"tinyreg.experiments.{self.module}")


EXPERIMENTS = {e.name: e for e in (
    Experiment("weight-decay-histograms", "weight_decay_histograms",
               "5-layer LayerNorm MLP on y = 2x1 - x2^2 + 1: weight/gradient histograms under Adam (L2) and AdamW, "
               "weight decay 0.01 vs 0.1"),
    Experiment("high-dim-regression", "high_dim_regression",
               "d2l's 200-input linear regression on 20 examples: lambda = 0 vs 3, as an explicit L2 penalty and as "
               "SGD's weight_decay"),
    Experiment("dropout-fashion-mnist", "dropout_fashion_mnist",
               "Fashion-MNIST MLP 784-256-128-10 with and without dropout: train/test loss and accuracy gap"),
    Experiment("adamw-vs-l2", "adamw_vs_l2",
               "learning rate x weight decay grids for SGD + L2, SGDW, Adam + L2, AdamW and torch-form AdamW on a "
               "small Fashion-MNIST subset, cosine schedule, 6 seeds: the AdamW paper's Figure 2"),
    Experiment("l1-vs-l2", "l1_vs_l2",
               "L1 versus L2 penalty of matched strength on a Fashion-MNIST MLP: near-zero weights and histograms"),
    Experiment("bias-decay", "bias_decay",
               "weight decay on every parameter versus excluding biases and LayerNorm parameters"),
    Experiment("mc-dropout", "mc_dropout",
               "Monte-Carlo dropout at inference: is the predictive std larger on misclassified test images?"),
)}


def get(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}") from None
