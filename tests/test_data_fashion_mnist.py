"""Fashion-MNIST: locating, verifying and loading the files; model inputs and subsets."""

import gzip
import hashlib
import re
import shutil
import struct

import numpy as np
import pytest
from helpers import require

from tinyreg.data import (FASHION_MNIST_CLASSES, DataError, DataNotFoundError, LabeledImages,
                          load_fashion_mnist, locate_fashion_mnist, subset, to_inputs, write_idx)
from tinyreg.data import fashion_mnist as fm
from tinyreg.random import manual_seed

TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


def require_real_data(split):
    """The real files of ``split``; if missing, the test fails when env CI is set, else skips."""
    try:
        return locate_fashion_mnist(split=split)
    except FileNotFoundError as err:
        require(f"Fashion-MNIST is missing:\n{err}")


@pytest.fixture(scope="module")
def train():
    require_real_data("train")
    return load_fashion_mnist(split="train")


@pytest.fixture(scope="module")
def test():
    require_real_data("test")
    return load_fashion_mnist(split="test")


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No TINYREG_DATA and an empty directory in place of Debian's."""
    monkeypatch.delenv("TINYREG_DATA", raising=False)
    empty = tmp_path / "debian"
    empty.mkdir()
    monkeypatch.setattr(fm, "DEBIAN_DIR", empty)
    return empty


def touch_split(directory, gz=True):
    """Empty stand-ins for the two test-split files (the locator only looks at names)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stem in (TEST_IMAGES, TEST_LABELS):
        (directory / (stem + ".gz" if gz else stem)).touch()
    return directory


# --- the real data ----------------------------------------------------------------------------

def test_real_train_split(train):
    assert isinstance(train, LabeledImages)
    assert train.images.shape == (60_000, 28, 28) and train.images.dtype == np.uint8
    assert train.labels.shape == (60_000,) and train.labels.dtype == np.int64
    assert np.array_equal(np.bincount(train.labels, minlength=10), np.full(10, 6000))
    assert train.images.min() == 0 and train.images.max() == 255
    assert train.labels[0] == 9  # the first training image is an ankle boot


def test_real_test_split(test):
    images, labels = test
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.int64
    assert np.array_equal(np.bincount(labels, minlength=10), np.full(10, 1000))
    assert list(labels[:3]) == [9, 2, 1]  # ankle boot, pullover, trouser
    assert FASHION_MNIST_CLASSES[labels[0]] == "Ankle boot" and len(FASHION_MNIST_CLASSES) == 10


def test_gunzipped_and_regzipped_copies_verify(tmp_path, test):
    images_gz, labels_gz = require_real_data("test")
    plain, regz = tmp_path / "plain", tmp_path / "regz"
    plain.mkdir(), regz.mkdir()
    for source in (images_gz, labels_gz):
        idx_bytes = gzip.decompress(source.read_bytes())
        (plain / source.stem).write_bytes(idx_bytes)
        # A different compressor's .gz: file digest differs, content digest does not.
        (regz / source.name).write_bytes(gzip.compress(idx_bytes, compresslevel=1, mtime=1))
    for directory in (plain, regz):
        images, labels = load_fashion_mnist(directory, split="test", verify=True)
        assert np.array_equal(images, test.images) and np.array_equal(labels, test.labels)


def test_checksum_mismatch_names_file_and_both_digests(tmp_path):
    images_gz, labels_gz = require_real_data("test")
    shutil.copy(images_gz, tmp_path / images_gz.name)
    idx_bytes = bytearray(gzip.decompress(labels_gz.read_bytes()))
    idx_bytes[-1] = (idx_bytes[-1] + 1) % 10  # still a valid label, no longer the real file
    (tmp_path / TEST_LABELS).write_bytes(idx_bytes)
    actual = hashlib.sha256(idx_bytes).hexdigest()
    with pytest.raises(DataError, match=rf"{TEST_LABELS}: SHA-256 mismatch: expected "
                                        rf"{fm.IDX_SHA256[TEST_LABELS]}.*got {actual}") as info:
        load_fashion_mnist(tmp_path, split="test")
    # The remedy is a fresh copy; the way round the check is offered for the Python API, which has it.
    message = str(info.value)
    assert "fresh copy" in message and "from Python: load_fashion_mnist(..., verify=False)" in message
    _, labels = load_fashion_mnist(tmp_path, split="test", verify=False)
    assert labels[-1] == idx_bytes[-1]


# --- structure checks on made-up files ----------------------------------------------------------

def write_fake_test_split(directory, images, labels):
    directory.mkdir(exist_ok=True)
    write_idx(directory / TEST_IMAGES, images)
    write_idx(directory / TEST_LABELS, labels)


def test_wrong_image_shape_is_rejected_even_unverified(tmp_path):
    write_fake_test_split(tmp_path, np.zeros((100, 28, 28), np.uint8), np.zeros(100, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images.*\(10000, 28, 28\).*got uint8 \(100, 28, 28\)"):
        load_fashion_mnist(tmp_path, split="test", verify=False)


def test_label_outside_classes_is_rejected(tmp_path):
    labels = np.zeros(10_000, np.uint8)
    labels[5] = 10
    write_fake_test_split(tmp_path, np.zeros((10_000, 28, 28), np.uint8), labels)
    with pytest.raises(DataError, match="t10k-labels.*label 10 is outside 0..9"):
        load_fashion_mnist(tmp_path, split="test", verify=False)


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="unknown Fashion-MNIST split 'valid'"):
        load_fashion_mnist(split="valid")


# --- where the files are found ------------------------------------------------------------------

def test_explicit_path_beats_env_beats_default(tmp_path, monkeypatch, no_env):
    explicit, env = touch_split(tmp_path / "explicit"), touch_split(tmp_path / "env")
    touch_split(no_env)
    monkeypatch.setenv("TINYREG_DATA", str(env))
    assert locate_fashion_mnist(explicit, "test")[0].parent == explicit
    assert locate_fashion_mnist(None, "test")[0].parent == env
    monkeypatch.delenv("TINYREG_DATA")
    assert locate_fashion_mnist(None, "test")[0].parent == no_env


def test_an_explicit_path_without_the_files_is_an_error_not_a_fall_through(tmp_path, monkeypatch,
                                                                            no_env):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TINYREG_DATA", str(touch_split(tmp_path / "env")))
    touch_split(no_env)
    with pytest.raises(DataNotFoundError) as info:
        locate_fashion_mnist(empty, "test")
    message = str(info.value)
    assert f"'test' split not found in {empty} (from the path argument (--data)): missing " \
           f"{TEST_IMAGES}[.gz], {TEST_LABELS}[.gz]." in message
    where = message.split(" To get it")[0]
    assert str(tmp_path / "env") not in where and str(no_env) not in where


def test_an_explicit_path_that_does_not_exist_is_named(tmp_path, no_env):
    touch_split(no_env)
    with pytest.raises(FileNotFoundError, match=rf"not found in {tmp_path / 'typo'} \(from the path "
                                                r"argument \(--data\)\): the directory does not exist"):
        locate_fashion_mnist(tmp_path / "typo", "train")


def test_a_path_that_is_a_file_is_named_as_a_file(tmp_path, no_env):
    """``--data`` given one of the files (not its directory) says so, and names the directory to pass."""
    directory = touch_split(tmp_path / "data")
    file = directory / (TEST_IMAGES + ".gz")
    with pytest.raises(DataNotFoundError, match=re.escape(
            f"not found in {file} (from the path argument (--data)): it is a file, not a directory (the directory "
            f"holding it is {directory})")):
        locate_fashion_mnist(file, "test")


def test_a_header_declaring_more_than_a_fashion_mnist_file_is_refused_before_its_data(tmp_path):
    write_fake_test_split(tmp_path, np.zeros((10_000, 28, 28), np.uint8), np.zeros(10_000, np.uint8))
    (tmp_path / TEST_LABELS).write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 1, 10**9))
    with pytest.raises(DataError, match=f"{TEST_LABELS}: .* declares 1000000000 data bytes, more than "
                                        f"max_bytes=10000"):
        load_fashion_mnist(tmp_path, split="test", verify=False)


def test_tinyreg_data_without_the_files_is_an_error_not_a_fall_through(tmp_path, monkeypatch,
                                                                         no_env):
    monkeypatch.setenv("TINYREG_DATA", str(tmp_path / "typo"))
    touch_split(no_env)
    with pytest.raises(DataNotFoundError, match=rf"not found in {tmp_path / 'typo'} \(from "
                                                r"\$TINYREG_DATA\): the directory does not exist"):
        locate_fashion_mnist(None, "test")


def test_an_empty_tinyreg_data_counts_as_unset(monkeypatch, no_env):
    monkeypatch.setenv("TINYREG_DATA", "")
    touch_split(no_env)
    assert locate_fashion_mnist(None, "test")[0].parent == no_env


def test_an_empty_path_argument_is_an_error_not_a_fallback(monkeypatch, no_env):
    """``--data "$DIR"`` with DIR unset passes "": that must not quietly read the data from somewhere else."""
    touch_split(no_env)
    with pytest.raises(DataError, match="path is empty"):
        locate_fashion_mnist("", "test")


def test_both_splits_come_from_one_directory(tmp_path, monkeypatch, no_env):
    """A directory with only the training files does not borrow the test files from elsewhere."""
    train_only = tmp_path / "train-only"
    train_only.mkdir()
    for stem in fm.SPLITS["train"][:2]:
        (train_only / (stem + ".gz")).touch()
    touch_split(no_env)
    monkeypatch.setenv("TINYREG_DATA", str(train_only))
    assert locate_fashion_mnist(None, "train")[0].parent == train_only
    with pytest.raises(DataNotFoundError, match=rf"'test' split not found in {train_only} .*: missing "
                                                rf"{TEST_IMAGES}\[.gz\], {TEST_LABELS}\[.gz\]\."):
        locate_fashion_mnist(None, "test")


def test_plain_and_gz_names_are_accepted(tmp_path, no_env):
    plain = touch_split(tmp_path / "plain", gz=False)
    assert [p.name for p in locate_fashion_mnist(plain, "test")] == [TEST_IMAGES, TEST_LABELS]
    packed = touch_split(tmp_path / "packed", gz=True)
    assert [p.name for p in locate_fashion_mnist(packed, "test")] == [TEST_IMAGES + ".gz",
                                                                      TEST_LABELS + ".gz"]


def test_missing_data_message_names_what_is_missing_and_the_remedies(tmp_path, no_env):
    touch_split(tmp_path / "images-only").joinpath(TEST_LABELS + ".gz").unlink()
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist(tmp_path / "images-only", "test")
    message = str(info.value)
    for expected in (f"missing {TEST_LABELS}[.gz].", "apt-get install -y dataset-fashion-mnist",
                     "zalandoresearch/fashion-mnist", "--data DIR", "TINYREG_DATA=DIR"):
        assert expected in message
    assert f"missing {TEST_IMAGES}" not in message


def test_with_neither_path_nor_env_the_debian_default_is_used_and_named(no_env):
    with pytest.raises(DataNotFoundError, match=rf"'train' split not found in {no_env} \(from the "
                                                r"default \(no path argument, \$TINYREG_DATA not set"):
        locate_fashion_mnist(None, "train")


# --- model inputs and subsets -------------------------------------------------------------------

def test_to_inputs_scales_then_normalizes():
    images = np.arange(256, dtype=np.uint8).reshape(16, 16)
    expected = (np.arange(256, dtype=np.float64).reshape(16, 16) / 255 - 0.5) / 0.5
    x = to_inputs(images)
    assert x.dtype == np.float32 and x.shape == images.shape
    np.testing.assert_allclose(x, expected, rtol=0, atol=1e-6)
    assert x[0, 0] == -1 and x[-1, -1] == 1


def test_to_inputs_refuses_already_float_images():
    with pytest.raises(TypeError, match="expects uint8 images, got float32"):
        to_inputs(np.zeros((2, 28, 28), np.float32))


@pytest.fixture
def indexed():
    """Images that carry their own row index, labels 0..9 in a scrambled order (103 rows)."""
    labels = np.random.default_rng(7).permutation(np.arange(103) % 10)
    return LabeledImages(np.arange(103)[:, None], labels)


def test_subset_first_n(indexed):
    images, labels = subset(indexed, 25)
    assert np.array_equal(images[:, 0], np.arange(25)) and np.array_equal(labels, indexed.labels[:25])


def test_stratified_subset_balances_classes_and_is_seeded(indexed):
    images, labels = subset(indexed, 23, stratified=True, rng=np.random.default_rng(1))
    rows = images[:, 0]
    assert np.array_equal(labels, indexed.labels[rows])  # pairs kept together
    assert np.all(np.diff(rows) > 0)  # distinct rows, in dataset order
    assert np.array_equal(np.bincount(labels, minlength=10), [3, 3, 3, 2, 2, 2, 2, 2, 2, 2])
    again = subset(indexed, 23, stratified=True, rng=np.random.default_rng(1))
    other = subset(indexed, 23, stratified=True, rng=np.random.default_rng(2))
    assert np.array_equal(again.images, images) and not np.array_equal(other.images, images)


def test_stratified_subset_defaults_to_tinyreg_generator(indexed):
    manual_seed(3)
    first = subset(indexed, 20, stratified=True)
    manual_seed(3)
    assert np.array_equal(subset(indexed, 20, stratified=True).images, first.images)


@pytest.mark.parametrize("n, message", [(0, "must be in 1..103, got 0"),
                                        (104, "must be in 1..103, got 104")])
def test_subset_size_is_validated(indexed, n, message):
    with pytest.raises(ValueError, match=message):
        subset(indexed, n)


def test_stratified_subset_needs_enough_examples_per_class():
    data = LabeledImages(np.arange(4)[:, None], np.array([0, 0, 0, 1]))
    with pytest.raises(ValueError, match="class 1 has 1 examples, a stratified subset of 4 needs 2"):
        subset(data, 4, stratified=True, rng=np.random.default_rng(0))
