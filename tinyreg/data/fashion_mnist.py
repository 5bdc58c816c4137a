"""Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 70,000 grey 28x28 clothing images, 10 classes.

Which directory the files are read from (:func:`fashion_mnist_dir`), the first rule that applies:

1. the ``path`` argument (the CLI's ``--data PATH``), when given;
2. else the directory in the environment variable ``TINYREG_DATA``, when set;
3. else ``/usr/share/datasets/fashion-mnist``, installed by Debian's ``dataset-fashion-mnist``.

The chosen directory is authoritative: if it lacks a file, loading fails with a
``DataNotFoundError`` naming the directory, the missing files and how to get them; it never falls
back to a later place. So a mistyped path cannot silently load other data, and the train and test
splits always come from the same directory.

Each file may be the ``.gz`` as distributed or its gunzipped form. Verification checks the IDX
structure (magic, 60,000 / 10,000 images of 28x28, labels in 0..9) and the SHA-256 of every file's
IDX bytes. Bad files raise ``DataError`` (a ``ValueError``) naming the file; a file is read only up
to the size a Fashion-MNIST file has, so a hostile one cannot make loading take more memory.
"""

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._generator import generator_or_default
from .errors import DataError, DataNotFoundError
from .idx import idx_bytes, read_idx

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
ENV_VAR = "TINYREG_DATA"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

SPLITS = {  # split -> (images file, labels file, number of examples)
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}

# SHA-256 of the decompressed IDX bytes: the identity of the data, whatever compressed it.
# (These equal the digests of the gunzipped upstream zalandoresearch files and of Debian's.)
IDX_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


class LabeledImages(NamedTuple):
    """A split: ``images`` uint8 of shape (N, 28, 28) and ``labels`` int64 of shape (N,).

    A tuple, so ``images, labels = load_fashion_mnist()`` works.
    """

    images: np.ndarray
    labels: np.ndarray


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"unknown Fashion-MNIST split {split!r} (expected 'train' or 'test')")


def _find_file(directory, stem):
    """The plain or ``.gz`` file named ``stem`` in ``directory``, or None."""
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def fashion_mnist_dir(path=None):
    """Return ``(directory, origin)``: where Fashion-MNIST is read from and which rule chose it.

    ``path`` when given, else ``$TINYREG_DATA`` when set (and not empty), else Debian's directory.
    ``origin`` describes the choice for error messages. An empty ``path`` is an error, not "no path": it is what
    ``--data "$DIR"`` passes when DIR is unset, and falling back would hide that.
    """
    if path is not None and str(path) == "":
        raise DataError("the Fashion-MNIST path is empty (an unset variable in --data \"$DIR\"?); give a directory "
                        f"or leave the argument out to use ${ENV_VAR} or {DEBIAN_DIR}")
    if path is not None:
        return Path(path), "the path argument (--data)"
    env_dir = os.environ.get(ENV_VAR)
    if env_dir:
        return Path(env_dir), f"${ENV_VAR}"
    return DEBIAN_DIR, f"the default (no path argument, ${ENV_VAR} not set)"


def locate_fashion_mnist(path=None, split="train"):
    """Return ``(images_file, labels_file)`` of ``split`` from :func:`fashion_mnist_dir`'s choice.

    Raises ``DataNotFoundError`` (a ``FileNotFoundError``) naming that directory, what is missing
    there, and how to get the data; no other directory is tried.
    """
    _check_split(split)
    directory, origin = fashion_mnist_dir(path)
    stems = SPLITS[split][:2]
    files = [_find_file(directory, stem) for stem in stems]
    if all(files):
        return tuple(files)
    if directory.is_file():
        problem = f"it is a file, not a directory (the directory holding it is {directory.parent})"
    elif not directory.is_dir():
        problem = "the directory does not exist"
    else:
        problem = "missing " + ", ".join(f"{stem}[.gz]" for stem, file in zip(stems, files)
                                         if file is None)
    raise DataNotFoundError(
        f"Fashion-MNIST {split!r} split not found in {directory} (from {origin}): {problem}."
        " To get it: `sudo apt-get install -y dataset-fashion-mnist` (Debian/Ubuntu, installs"
        f" into {DEBIAN_DIR}), or download the four IDX files train-images-idx3-ubyte.gz,"
        " train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz from"
        " https://github.com/zalandoresearch/fashion-mnist into one directory and pass"
        f" `--data DIR` (path=DIR) or set {ENV_VAR}=DIR.")


def idx_sha256(array):
    """SHA-256 of the IDX bytes ``array`` was read from: IDX decoding is one-to-one, so re-encoding gives them back."""
    return hashlib.sha256(idx_bytes(array)).hexdigest()


def _verify_digest(file, stem, array):
    actual = idx_sha256(array)
    if actual != IDX_SHA256[stem]:
        raise DataError(f"{file}: SHA-256 mismatch: expected {IDX_SHA256[stem]} for the IDX bytes,"
                        f" got {actual}."
                        " The file is damaged or is not Fashion-MNIST: replace it with a fresh copy"
                        " (`sudo apt-get install --reinstall dataset-fashion-mnist`, or download it"
                        " again from https://github.com/zalandoresearch/fashion-mnist). To load it"
                        " anyway from Python: load_fashion_mnist(..., verify=False).")


def _read(file, stem, data_bytes, verify):
    array = read_idx(file, max_bytes=data_bytes)
    if verify:
        _verify_digest(file, stem, array)
    return array


def load_fashion_mnist(path=None, split="train", verify=True):
    """Load a Fashion-MNIST split as ``LabeledImages(images uint8 (N,28,28), labels int64 (N,))``.

    ``path``: the directory holding the IDX files; when None, ``$TINYREG_DATA`` if set, else
    Debian's directory (see :func:`fashion_mnist_dir`; the chosen directory must have the files).
    ``split``: ``"train"`` (60,000 examples) or ``"test"`` (10,000).
    ``verify``: check each file's SHA-256 (the shape and label checks always run).
    Raises ``DataNotFoundError`` for missing files and ``DataError`` for bad ones.
    Class names: ``FASHION_MNIST_CLASSES[label]``.
    """
    images_file, labels_file = locate_fashion_mnist(path, split)
    images_stem, labels_stem, n = SPLITS[split]
    images = _read(images_file, images_stem, n * 28 * 28, verify)
    labels = _read(labels_file, labels_stem, n, verify)
    if images.dtype != np.uint8 or images.shape != (n, 28, 28):
        raise DataError(f"{images_file}: expected uint8 images of shape {(n, 28, 28)}, "
                        f"got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.shape != (n,):
        raise DataError(f"{labels_file}: expected uint8 labels of shape {(n,)}, "
                        f"got {labels.dtype} {labels.shape}")
    if labels.max() >= len(FASHION_MNIST_CLASSES):
        raise DataError(f"{labels_file}: label {labels.max()} is outside 0..9")
    return LabeledImages(images, labels.astype(np.int64))


def to_inputs(images):
    """uint8 images -> float32 model inputs: x = (images / 255 - 0.5) / 0.5, so x lies in [-1, 1].

    Scaling to [0, 1] then normalising with mean 0.5 and std 0.5 (torchvision's ``ToTensor`` then
    ``Normalize((0.5,), (0.5,))``). Only uint8 is accepted, so inputs are never normalised twice.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"to_inputs expects uint8 images, got {images.dtype}")
    scaled = images.astype(np.float32) / np.float32(255)
    return (scaled - np.float32(0.5)) / np.float32(0.5)


def subset(data, n, stratified=False, rng=None):
    """A deterministic ``n``-example subset of ``data`` (a ``LabeledImages``), for quick runs.

    ``stratified=False``: the first ``n`` examples. ``stratified=True``: for each of the k classes
    present, ``n // k`` examples drawn without replacement with ``rng`` (the first ``n % k``
    classes get one more), kept in dataset order. ``rng`` defaults to
    ``tinyreg.random.generator()``.
    """
    images, labels = data
    if not 0 < n <= len(labels):
        raise ValueError(f"subset size must be in 1..{len(labels)}, got {n}")
    if not stratified:
        return LabeledImages(images[:n], labels[:n])
    rng = generator_or_default(rng)
    classes = np.unique(labels)
    quota, extra = divmod(n, len(classes))
    chosen = []
    for i, c in enumerate(classes):
        members = np.flatnonzero(labels == c)
        take = quota + (i < extra)
        if take > len(members):
            raise ValueError(f"class {c} has {len(members)} examples, a stratified subset of {n} "
                             f"needs {take}")
        chosen.append(rng.choice(members, size=take, replace=False))
    index = np.sort(np.concatenate(chosen))
    return LabeledImages(images[index], labels[index])
