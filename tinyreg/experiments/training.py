"""What the experiments share: the MLP, and for the Fashion-MNIST ones (3 to 7) the data, one training loop and
evaluation.

Every experiment that calls :func:`fit` trains the same way: mini-batches of ``batch_size`` in an order drawn from an
explicit generator, ``loss = cross_entropy(model(x), y) [+ penalty()]``, ``backward``, ``optimizer.step()``; after each
epoch the model is evaluated in eval mode (dropout off) on the training and the test set.
"""

from typing import NamedTuple

import numpy as np

import tinyreg as tr
from tinyreg import nn
from tinyreg.data import batches, load_fashion_mnist, subset, to_inputs
from tinyreg.data.sample import load_for_quick_run


def mlp(widths=(784, 256, 128, 10), dropout=None, layer_norm=False):
    """An MLP: Linear layers of ``widths``; after each hidden one an optional LayerNorm, a ReLU and, when ``dropout``
    gives its probability for that layer, Dropout(p). The default widths are the Fashion-MNIST classifier's."""
    layers = []
    hidden = list(zip(widths[:-2], widths[1:-1]))
    for i, (n_in, n_out) in enumerate(hidden):
        layers += [nn.Linear(n_in, n_out)] + ([nn.LayerNorm(n_out)] if layer_norm else []) + [nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout[i]))
    return nn.Sequential(*layers, nn.Linear(*widths[-2:]))


class Split(NamedTuple):
    x: np.ndarray  # float32 (n, 784), normalised to [-1, 1]
    y: np.ndarray  # int64 (n,)


class Classification(NamedTuple):
    train: Split
    test: Split
    description: str  # e.g. "Fashion-MNIST, 2,000 train (stratified subset) / 1,000 test"


def fashion_mnist(ctx, n_train=None, n_test=None) -> Classification:
    """Fashion-MNIST as flat inputs: scaled to [0, 1], normalised with mean 0.5 and std 0.5 (:func:`to_inputs`).

    ``n_train``/``n_test``: a stratified random subset of that size (drawn from ``ctx.rng("subset-train")`` or
    ``ctx.rng("subset-test")``), or everything (None).
    Both splits are read from the one directory :func:`tinyreg.data.fashion_mnist_dir` picks: ``ctx.data`` (--data)
    when given, else $TINYREG_DATA when set, else Debian's; missing files there raise ``DataNotFoundError``, except
    that a quick run without --data or $TINYREG_DATA falls back to the sample shipped with tinyreg
    (:func:`tinyreg.data.sample.load_for_quick_run`). A quick run says in one line which data it used.
    """
    parts, words, notes, from_sample = [], [], [], False
    for split, n in (("train", n_train), ("test", n_test)):
        if ctx.quick:
            data, sampled, note = load_for_quick_run(ctx.data, split=split)
            from_sample |= sampled
            notes.append(note)
        else:
            data = load_fashion_mnist(ctx.data, split=split)
        subsetted = n is not None and n < len(data.labels)
        if subsetted:
            data = subset(data, n, stratified=True, rng=ctx.rng(f"subset-{split}"))
        parts.append(Split(to_inputs(data.images).reshape(len(data.labels), -1), data.labels))
        words.append(f"{len(data.labels):,} {split}{' (stratified subset)' if subsetted else ''}")
    for note in dict.fromkeys(notes):  # both splits normally come from one place: say it once
        ctx.say(note)
    source = "Fashion-MNIST sample" if from_sample else "Fashion-MNIST"
    return Classification(*parts, f"{source}, " + " / ".join(words))


def evaluate(model, split: Split, batch_size: int = 2000) -> tuple:
    """(mean cross-entropy, accuracy) of ``model`` in eval mode; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    with tr.no_grad():
        for start in range(0, len(split.y), batch_size):
            logits = model(tr.tensor(split.x[start:start + batch_size]))
            y = split.y[start:start + batch_size]
            loss_sum += nn.functional.cross_entropy(logits, tr.tensor(y), reduction="sum").item()
            correct += int((logits.numpy().argmax(axis=1) == y).sum())
    model.train(was_training)
    return loss_sum / len(split.y), correct / len(split.y)


def fit(model, optimizer, data: Classification, epochs: int, batch_size: int, rng: np.random.Generator,
        progress=None, penalty=None, evaluate_train: bool = True) -> dict:
    """Train ``model`` and return per-epoch ``train_loss``, ``train_acc`` (if ``evaluate_train``), ``test_loss``,
    ``test_acc`` and the mean training-batch loss ``batch_loss`` (with dropout active, penalty included).

    ``penalty``: a function of no arguments returning a scalar tensor added to every batch's loss (L1/L2 terms).
    """
    keys = ("batch_loss", "test_loss", "test_acc") + (("train_loss", "train_acc") if evaluate_train else ())
    history = {key: [] for key in keys}
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for xb, yb in batches(data.train.x, data.train.y, batch_size=batch_size, rng=rng):
            loss = nn.functional.cross_entropy(model(tr.tensor(xb)), tr.tensor(yb))
            if penalty is not None:
                loss = loss + penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        history["batch_loss"].append(total / count)
        splits = (("test", data.test),) + ((("train", data.train),) if evaluate_train else ())
        for name, split in splits:
            loss, acc = evaluate(model, split)
            history[f"{name}_loss"].append(loss)
            history[f"{name}_acc"].append(acc)
        if progress is not None:
            progress.update(**{key: values[-1] for key, values in history.items()})
    return history
