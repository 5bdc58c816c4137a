"""Experiment 3, dropout-fashion-mnist: dropout narrows the gap between training and test performance.

The MLP of d2l's dropout section (Zhang et al., §5.6) on Fashion-MNIST, once with dropout and once without:

    784 → Linear 256 → ReLU → Dropout(0.3) → Linear 128 → ReLU → Dropout(0.5) → Linear 10
    cross-entropy, Adam lr 1e-3, batch 128, 10 epochs; inputs scaled to [0, 1], then (x − 0.5)/0.5

Both models start from the same weights and see the same batches. Each epoch both are evaluated in eval mode
(dropout off) on the whole training set and the test set; the gap is train accuracy − test accuracy (and test loss −
train loss). Dropout zeroes each hidden unit with probability p in training, so no unit can rely on a particular other
one being present; the network fits the training set more slowly and generalises at least as well.

Quick mode: stratified subsets of 2,000 training and 1,000 test images, 5 epochs.
"""

from tinyreg import optim
from tinyreg.experiments.plotting import curves
from tinyreg.experiments.training import fashion_mnist, fit, mlp

DROPOUT = (0.3, 0.5)
LR, BATCH_SIZE = 1e-3, 128
FULL = dict(n_train=None, n_test=None, epochs=10)
QUICK = dict(n_train=2000, n_test=1000, epochs=5)
REFERENCE_TEST_ACC = (0.87, 0.90)  # what such MLPs reach on Fashion-MNIST in 10 epochs (d2l, Keras/torch tutorials)


def run(ctx) -> dict:
    config = QUICK if ctx.quick else FULL
    data = fashion_mnist(ctx, config["n_train"], config["n_test"])
    runs = {}
    for label, dropout in (("dropout", DROPOUT), ("no dropout", None)):
        ctx.manual_seed()  # the same initial weights for both (Dropout has no parameters)
        model = mlp(dropout=dropout)
        with ctx.progress(config["epochs"], label) as bar:
            runs[label] = fit(model, optim.Adam(model.parameters(), lr=LR), data, config["epochs"], BATCH_SIZE,
                              ctx.rng("batches"), progress=bar)
        runs[label]["model"] = repr(model)
    return {"config": dict(config, lr=LR, batch_size=BATCH_SIZE, dropout=list(DROPOUT), data=data.description),
            "runs": runs, "reference_test_acc": list(REFERENCE_TEST_ACC)}


def gaps(history: dict) -> dict:
    """The generalisation gap after the last epoch: accuracy and loss, training minus test."""
    return {"acc_gap": history["train_acc"][-1] - history["test_acc"][-1],
            "loss_gap": history["test_loss"][-1] - history["train_loss"][-1]}


def summarize(metrics: dict) -> list:
    runs = metrics["runs"]
    lines = [f"data: {metrics['config']['data']}; {metrics['config']['epochs']} epochs",
             f"{'model':<11} {'train acc':>9} {'test acc':>9} {'acc gap':>8} {'train loss':>10} {'test loss':>9} "
             f"{'loss gap':>8}"]
    for label, history in runs.items():
        gap = gaps(history)
        lines.append(f"{label:<11} {history['train_acc'][-1]:>9.4f} {history['test_acc'][-1]:>9.4f} "
                     f"{gap['acc_gap']:>8.4f} {history['train_loss'][-1]:>10.4f} {history['test_loss'][-1]:>9.4f} "
                     f"{gap['loss_gap']:>8.4f}")
    with_dropout, without = gaps(runs["dropout"]), gaps(runs["no dropout"])
    smaller = with_dropout["acc_gap"] < without["acc_gap"]
    low, high = metrics["reference_test_acc"]
    lines += [f"dropout {'narrows' if smaller else 'does NOT narrow'} the train/test accuracy gap: "
              f"{with_dropout['acc_gap']:.4f} vs {without['acc_gap']:.4f} without "
              f"(loss gap {with_dropout['loss_gap']:.4f} vs {without['loss_gap']:.4f}).",
              f"reference: such MLPs reach {low:.2f}–{high:.2f} test accuracy after 10 epochs on the full data; "
              f"here {runs['dropout']['test_acc'][-1]:.4f} with dropout, {runs['no dropout']['test_acc'][-1]:.4f} "
              "without."]
    return lines


def plot(metrics: dict, plt) -> dict:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    styles = {f"{split} ({label})": dict(color=color, ls="-" if split == "train" else "--")
              for label, color in (("dropout", "C0"), ("no dropout", "C3")) for split in ("train", "test")}
    for ax, (key, name) in zip(axes, (("loss", "cross-entropy"), ("acc", "accuracy"))):
        series = {f"{split} ({label})": history[f"{split}_{key}"]
                  for label, history in metrics["runs"].items() for split in ("train", "test")}
        curves(ax, series, f"{name} (eval mode)", name, styles=styles)
    fig.suptitle(f"dropout-fashion-mnist: {metrics['config']['data']}")
    return {"dropout_fashion_mnist.png": fig}
