"""Experiment 7, mc-dropout: dropout kept on at test time as an estimate of the model's uncertainty.

Gal & Ghahramani (2016): running a dropout network T times with fresh masks samples from an approximate posterior
predictive. For each test image x (T = 30 passes):

    p̄(c | x) = (1/T) Σ_t softmax(f_t(x))_c          the predictive mean, whose argmax is the MC prediction
    σ(x)     = std over t of softmax(f_t(x))_ĉ        the spread of the predicted class's probability, ĉ = argmax p̄
    H(x)     = −Σ_c p̄_c log p̄_c                      the predictive entropy

The question: is σ larger on the images the model gets wrong than on those it gets right? The model is experiment 3's
dropout MLP (784-256-ReLU-Dropout(0.3)-128-ReLU-Dropout(0.5)-10, Adam lr 1e-3, batch 128, 10 epochs on the full
training set); also reported: the accuracy of the MC mean against the single deterministic (eval-mode) pass, and the
AUROC of σ as a detector of errors (0.5: no better than chance, 1: every error has a larger σ than every hit).

Quick mode: 2,000 training and 1,000 test images, 5 epochs, T = 20.
"""

import numpy as np

import tinyreg as tr
from tinyreg import nn, optim
from tinyreg.experiments.dropout_fashion_mnist import BATCH_SIZE, DROPOUT, LR
from tinyreg.experiments.plotting import draw_histogram, histogram_counts
from tinyreg.experiments.training import evaluate, fashion_mnist, fit, mlp

FULL = dict(n_train=None, n_test=None, epochs=10, samples=30)
QUICK = dict(n_train=2000, n_test=1000, epochs=5, samples=20)


class Probabilities(nn.Module):
    """The classifier followed by softmax, so Monte-Carlo dropout averages probabilities rather than logits."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(x).softmax(-1)


def auroc(scores_positive: np.ndarray, scores_negative: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counting ½ (the Mann–Whitney statistic)."""
    greater = scores_positive[:, None] > scores_negative[None, :]
    ties = scores_positive[:, None] == scores_negative[None, :]
    return float(greater.mean() + 0.5 * ties.mean())


def run(ctx) -> dict:
    config = QUICK if ctx.quick else FULL
    data = fashion_mnist(ctx, config["n_train"], config["n_test"])
    ctx.manual_seed()
    model = mlp(dropout=DROPOUT)
    with ctx.progress(config["epochs"], "training the dropout MLP") as bar:
        history = fit(model, optim.Adam(model.parameters(), lr=LR), data, config["epochs"], BATCH_SIZE,
                      ctx.rng("batches"), progress=bar, evaluate_train=False)
    _, deterministic_acc = evaluate(model, data.test)
    mean, std = nn.mc_dropout_predict(Probabilities(model), tr.tensor(data.test.x), config["samples"])
    mean, std = mean.numpy(), std.numpy()
    predicted = mean.argmax(axis=1)
    correct = predicted == data.test.y
    sigma = std[np.arange(len(predicted)), predicted]
    entropy = -(mean * np.log(np.clip(mean, 1e-12, None))).sum(axis=1)
    groups = {"correct": correct, "misclassified": ~correct}
    return {"config": dict(config, batch_size=BATCH_SIZE, lr=LR, dropout=list(DROPOUT), data=data.description),
            "training": history, "deterministic_acc": deterministic_acc, "mc_acc": float(correct.mean()),
            "std": {k: {"mean": float(sigma[m].mean()), "median": float(np.median(sigma[m])), "count": int(m.sum())}
                    for k, m in groups.items()},
            "entropy": {k: float(entropy[m].mean()) for k, m in groups.items()},
            "auroc_std": auroc(sigma[~correct], sigma[correct]),
            "auroc_entropy": auroc(entropy[~correct], entropy[correct]),
            "std_histograms": {k: histogram_counts(sigma[m], bins=40, value_range=(0, 0.5))
                               for k, m in groups.items()}}


def summarize(metrics: dict) -> list:
    std, entropy = metrics["std"], metrics["entropy"]
    ratio = std["misclassified"]["mean"] / std["correct"]["mean"]
    return [f"data: {metrics['config']['data']}; {metrics['config']['epochs']} epochs; "
            f"T = {metrics['config']['samples']} dropout passes per test image",
            f"accuracy: deterministic (eval mode) {metrics['deterministic_acc']:.4f}, MC-dropout mean "
            f"{metrics['mc_acc']:.4f}",
            f"{'':<14} {'images':>6} {'mean σ':>7} {'median σ':>9} {'mean entropy':>12}",
            *(f"{k:<14} {v['count']:>6} {v['mean']:>7.4f} {v['median']:>9.4f} {entropy[k]:>12.4f}"
              for k, v in std.items()),
            f"σ of the predicted class is {ratio:.2f}× larger on misclassified images "
            f"({'as MC dropout promises' if ratio > 1 else 'NOT larger: the lesson does not reproduce'}); "
            f"AUROC of σ for spotting errors {metrics['auroc_std']:.3f}, "
            f"of the entropy {metrics['auroc_entropy']:.3f}."]


def plot(metrics: dict, plt) -> dict:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (label, histogram), color in zip(metrics["std_histograms"].items(), ("C0", "C3")):
        draw_histogram(ax, histogram, fill=True, alpha=0.5, color=color,
                       label=f"{label} ({metrics['std'][label]['count']} images)")
    ax.set(xlabel="σ: std of the predicted class's probability over dropout passes", ylabel="density",
           title=f"mc-dropout: T = {metrics['config']['samples']}, AUROC {metrics['auroc_std']:.3f}")
    ax.legend()
    return {"mc_dropout.png": fig}
