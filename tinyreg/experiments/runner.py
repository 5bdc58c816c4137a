"""Run one experiment: seed everything, train, print the summary, write metrics.json and the plots.

Determinism: ``tr.manual_seed(seed)`` seeds tinyreg's generator (initialisation, dropout masks) and every other
random stream (data subsets, batch order) is an explicit generator from :meth:`Context.rng`, derived from the same
seed and the stream's name. So a run is a function of (experiment, seed, quick) and nothing else.
"""

import json
import platform
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tinyreg as tr
from tinyreg.experiments import registry
from tinyreg.experiments.plotting import pyplot
from tinyreg.experiments.progress import Progress


@dataclass(frozen=True)
class Context:
    """What an experiment's ``run`` receives: the seed, quick mode, the data directory, and progress reporting."""

    seed: int = 0
    quick: bool = False
    data: str | None = None  # Fashion-MNIST directory (--data); None: $TINYREG_DATA if set, else Debian's
    out: Path | None = None  # where the run writes metrics.json, plots and any extra files (None: nowhere)
    show_progress: bool = True
    stdout: object = None  # where the run's text goes (None: sys.stdout)

    def say(self, line: str) -> None:
        """Print one line of the run's output (such as which data it uses)."""
        print(line, file=self.stdout or sys.stdout)

    def rng(self, stream: str) -> np.random.Generator:
        """A generator for one named stream (``"batches"``, ``"subset"``), independent of the other streams.

        Asking twice for the same stream gives two generators in the same state: the settings an experiment compares
        see the same data in the same order.
        """
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    def manual_seed(self) -> None:
        """Reseed tinyreg's generator, so every setting of an experiment starts from the same initial weights."""
        tr.manual_seed(self.seed)

    def progress(self, total: int, desc: str, unit: str = "epoch") -> Progress:
        return Progress(total, desc, unit, enabled=self.show_progress)


def _plain(value):
    """json.dump's fallback for NumPy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metrics must be plain data; got {type(value).__name__}")


def write_outputs(record: dict, module, out: Path) -> list:
    """Write metrics.json and, with matplotlib installed, every figure of ``module.plot``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "metrics.json"]
    written[0].write_text(json.dumps(record, indent=1, default=_plain) + "\n")
    plt = pyplot()
    if plt is None:
        return written
    for filename, figure in module.plot(record["metrics"], plt).items():
        figure.savefig(out / filename, dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(out / filename)
    return written


def run_experiment(name: str, seed: int = 0, out=None, quick: bool = False, data=None,
                   show_progress: bool = True, stdout=None) -> dict:
    """Run experiment ``name``, print its summary to ``stdout`` and return the record written to metrics.json.

    ``out``: a directory for metrics.json and the PNG plots (None: write nothing).
    """
    stdout = stdout or sys.stdout
    experiment = registry.get(name)
    module = experiment.load()
    out = None if out is None else Path(out)
    ctx = Context(seed=seed, quick=quick, data=data, out=out, show_progress=show_progress, stdout=stdout)
    ctx.manual_seed()
    start, cpu_start = time.perf_counter(), time.process_time()
    metrics = module.run(ctx)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    record = {"experiment": name, "seed": seed, "quick": quick, "seconds": round(seconds, 2),
              "cpu_seconds": round(cpu_seconds, 2),
              "machine": {"python": platform.python_version(), "numpy": np.__version__,
                          "platform": platform.platform()},
              "metrics": metrics}
    print(f"== {name} (seed {seed}{', quick' if quick else ''}): {experiment.description}", file=stdout)
    for line in module.summarize(metrics):
        print(line, file=stdout)
    # CPU time too: on a shared machine the wall clock measures the neighbours as well.
    print(f"time: {seconds:.1f} s wall clock, {cpu_seconds:.1f} s CPU", file=stdout)
    if out is not None:
        written = write_outputs(record, module, out)
        print(f"wrote {', '.join(str(p) for p in written)}", file=stdout)
        if len(written) == 1:
            print("(no plots: matplotlib is not installed; pip install 'tinyreg[plot]')", file=stdout)
    return record
