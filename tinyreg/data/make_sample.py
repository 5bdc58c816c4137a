"""Regenerate tinyreg/data/fashion_mnist_sample.npz from the full Fashion-MNIST:

    python -m tinyreg.data.make_sample [--data DIR]

Reads the four IDX files from ``DIR`` (default: ``$TINYREG_DATA``, else Debian's ``/usr/share/datasets/fashion-mnist``)
with every checksum verified, draws a stratified 3,000-image training sample (300 per class) and a 1,000-image test
sample (100 per class) with a fixed seed, and writes them, with the SHA-256 of the IDX files they came from, as a
compressed ``.npz`` next to tinyreg/data/sample.py. The same input gives the same arrays.
"""

import argparse
import json

import numpy as np

from .fashion_mnist import IDX_SHA256, SPLITS, load_fashion_mnist, subset
from .sample import SAMPLE_FILE, SAMPLE_SIZES

SEED = 2017  # the year of the Fashion-MNIST paper; any fixed seed makes the sample reproducible


def make_sample(path=None, out=SAMPLE_FILE) -> dict:
    """Write the sample to ``out``; return ``{IDX file name: SHA-256}`` of the files it was drawn from."""
    arrays, sources = {}, {}
    for number, split in enumerate(SAMPLE_SIZES):
        data = load_fashion_mnist(path, split=split, verify=True)  # so each file's digest is the pinned one
        sample = subset(data, SAMPLE_SIZES[split], stratified=True, rng=np.random.default_rng([SEED, number]))
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = sample.images, sample.labels.astype(np.uint8)
        sources.update({stem: IDX_SHA256[stem] for stem in SPLITS[split][:2]})
    np.savez_compressed(out, sources=np.array(json.dumps(sources, sort_keys=True)), **arrays)
    return sources


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyreg.data.make_sample", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", metavar="DIR", help="directory of the four Fashion-MNIST IDX files (default: "
                                                      "$TINYREG_DATA if set, else /usr/share/datasets/fashion-mnist)")
    args = parser.parse_args(argv)
    sources = make_sample(args.data)
    print(f"wrote {SAMPLE_FILE.name} ({SAMPLE_FILE.stat().st_size:,} bytes) from:")
    for stem, digest in sources.items():
        print(f"  {stem}  sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
