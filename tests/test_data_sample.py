"""The Fashion-MNIST sample shipped with tinyreg: its contents, and when quick runs use it instead of the full set."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import require

from tinyreg.__main__ import main
from tinyreg.data import DataNotFoundError, load_fashion_mnist, locate_fashion_mnist
from tinyreg.data.make_sample import make_sample
from tinyreg.data.sample import (SAMPLE_FILE, SAMPLE_NOTE, load_fashion_mnist_sample, load_for_quick_run,
                                 sample_sources)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("split,per_class", [("train", 300), ("test", 100)])
def test_the_sample_is_stratified_uint8_images(split, per_class):
    images, labels = load_fashion_mnist_sample(split)
    assert images.dtype == np.uint8 and images.shape == (10 * per_class, 28, 28) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [per_class] * 10
    assert 0 < images.mean() < 255                     # not blank
    assert len({image.tobytes() for image in images}) == len(images)


@pytest.fixture(scope="module")
def full():
    try:
        locate_fashion_mnist(split="train"), locate_fashion_mnist(split="test")
    except FileNotFoundError as err:
        require(f"Fashion-MNIST is missing:\n{err}")
    return {split: load_fashion_mnist(split=split) for split in ("train", "test")}


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_sample_image_is_a_fashion_mnist_image_with_its_label(full, split):
    images, labels = load_fashion_mnist_sample(split)
    where = {image.tobytes(): label for image, label in zip(full[split].images, full[split].labels)}
    assert [where.get(image.tobytes()) for image in images] == labels.tolist()


def test_a_quick_run_uses_the_full_set_where_it_is_installed(full):
    data, from_sample, note = load_for_quick_run(None, "test")
    assert not from_sample and len(data.labels) == 10_000 and note.startswith("Fashion-MNIST: the full set in ")


def test_regenerating_the_sample_gives_the_shipped_file_exactly(full, tmp_path):
    """make_sample is the recipe of the shipped file: the same images and labels bit for bit, and the same sources."""
    regenerated = tmp_path / "sample.npz"
    make_sample(out=regenerated)
    with np.load(regenerated, allow_pickle=False) as new, np.load(SAMPLE_FILE, allow_pickle=False) as shipped:
        assert sorted(new.files) == sorted(shipped.files)
        for name in shipped.files:
            assert new[name].dtype == shipped[name].dtype and np.array_equal(new[name], shipped[name]), name
        assert sample_sources() == json.loads(str(new["sources"])) and len(sample_sources()) == 4


def without_default_data(monkeypatch, tmp_path):
    monkeypatch.delenv("TINYREG_DATA", raising=False)
    monkeypatch.setattr("tinyreg.data.fashion_mnist.DEBIAN_DIR", tmp_path / "nowhere")


def test_quick_runs_fall_back_to_the_sample_only_when_nothing_names_a_place(monkeypatch, tmp_path):
    without_default_data(monkeypatch, tmp_path)
    data, from_sample, note = load_for_quick_run(None, "test")
    assert from_sample and note == SAMPLE_NOTE and len(data.labels) == 1000
    with pytest.raises(DataNotFoundError, match="from the path argument"):
        load_for_quick_run(tmp_path, "test")                     # --data is authoritative
    monkeypatch.setenv("TINYREG_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="TINYREG_DATA"):
        load_for_quick_run(None, "test")                         # so is $TINYREG_DATA


def test_a_quick_run_says_it_uses_the_sample_and_a_full_run_still_needs_the_full_set(monkeypatch, tmp_path, capsys):
    without_default_data(monkeypatch, tmp_path)
    out = tmp_path / "out"
    assert main(["run", "l1-vs-l2", "--quick", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count(SAMPLE_NOTE) == 1 and "data: Fashion-MNIST sample, 2,000 train" in printed
    assert json.loads((out / "metrics.json").read_text())["metrics"]["config"]["data"].startswith(
        "Fashion-MNIST sample")
    assert main(["run", "l1-vs-l2", "--no-progress", "--out", str(out)]) == 2
    assert "'train' split not found" in capsys.readouterr().err


def test_the_tour_runs_in_a_fresh_process_with_no_dataset_installed(tmp_path):
    """Quick start's first command on a fresh machine: nothing where tinyreg looks for Fashion-MNIST by default."""
    script = ("import sys, pathlib, tinyreg.data.fashion_mnist as fm; fm.DEBIAN_DIR = pathlib.Path(sys.argv[1]); "
              "from tinyreg.__main__ import main; sys.exit(main([]))")
    env = {key: value for key, value in os.environ.items() if key != "TINYREG_DATA"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "nowhere")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for part in ("== high-dim-regression (seed 0, quick)", "== weight-decay-histograms (seed 0, quick)",
                 "== adamw-vs-l2 (seed 0, quick)", SAMPLE_NOTE, "--- 4. Where the decay enters", "tour done in"):
        assert part in done.stdout
    # The traced step shows Adam + L2's decay divided by √v̂ next to AdamW's plain lr·λ (explain's comparison).
    assert "λ_eff ← lr·λ / (√v̂_t + ε)" in done.stdout and "λ = 3 shrinks ‖w‖" in done.stdout
    assert "Traceback" not in done.stderr
