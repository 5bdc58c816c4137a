"""A stratified sample of Fashion-MNIST shipped inside tinyreg, so quick runs and the tour work on any machine.

``fashion_mnist_sample.npz`` (next to this file) holds 3,000 training images (300 per class) and 1,000 test images
(100 per class), uint8, drawn from Debian's ``dataset-fashion-mnist`` by ``python -m tinyreg.data.make_sample``,
which also records the SHA-256 of the IDX files it read (``sources`` in the file). Fashion-MNIST is © Zalando SE,
MIT license.

Which data a quick run uses (:func:`load_for_quick_run`): ``--data`` / ``$TINYREG_DATA`` when given, and only there
(a missing file is an error, as for a full run); else the full set in Debian's directory when it is installed; else
this sample. Full runs always need the full set.
"""

import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import DataError, DataNotFoundError
from .fashion_mnist import ENV_VAR, LabeledImages, fashion_mnist_dir, load_fashion_mnist

SAMPLE_FILE = Path(__file__).with_name("fashion_mnist_sample.npz")
SAMPLE_SIZES = {"train": 3000, "test": 1000}
SAMPLE_NOTE = ("Fashion-MNIST: the 3,000-image sample shipped with tinyreg; `apt-get install dataset-fashion-mnist` "
               "for the full set")


def load_fashion_mnist_sample(split="train"):
    """The shipped sample of ``split`` as ``LabeledImages(images uint8 (N, 28, 28), labels int64 (N,))``:
    N = 3,000 for ``"train"`` and 1,000 for ``"test"``, an equal number per class, in dataset order."""
    if split not in SAMPLE_SIZES:
        raise ValueError(f"unknown Fashion-MNIST split {split!r} (expected 'train' or 'test')")
    with np.load(SAMPLE_FILE, allow_pickle=False) as sample:
        images, labels = sample[f"{split}_images"], sample[f"{split}_labels"]
    if images.shape != (SAMPLE_SIZES[split], 28, 28) or labels.shape != (SAMPLE_SIZES[split],):
        raise DataError(f"{SAMPLE_FILE}: the {split!r} sample has shape {images.shape}, labels {labels.shape}; "
                        "reinstall tinyreg or regenerate it with python -m tinyreg.data.make_sample")
    return LabeledImages(images, labels.astype(np.int64))


def sample_sources():
    """``{IDX file name: SHA-256}`` of the Fashion-MNIST files the sample was drawn from."""
    with np.load(SAMPLE_FILE, allow_pickle=False) as sample:
        return json.loads(str(sample["sources"]))


class QuickRunData(NamedTuple):
    """What :func:`load_for_quick_run` found: the split, whether it is the shipped sample, and a line saying which."""

    data: LabeledImages
    from_sample: bool
    note: str


def load_for_quick_run(path=None, split="train") -> QuickRunData:
    """The full ``split`` when it is where :func:`fashion_mnist_dir` looks, else, if nothing chose that place (no
    ``path``, no ``$TINYREG_DATA``), the shipped sample; with a note for the run's output saying which."""
    directory, _ = fashion_mnist_dir(path)
    try:
        data = load_fashion_mnist(path, split=split)
    except DataNotFoundError:
        if path is not None or os.environ.get(ENV_VAR):
            raise                      # --data or $TINYREG_DATA named a place: it must hold the data
        return QuickRunData(load_fashion_mnist_sample(split), True, SAMPLE_NOTE)
    return QuickRunData(data, False, f"Fashion-MNIST: the full set in {directory}")


__all__ = ["SAMPLE_FILE", "SAMPLE_NOTE", "QuickRunData", "load_fashion_mnist_sample", "sample_sources",
           "load_for_quick_run"]
