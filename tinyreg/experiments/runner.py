"""Run one experiment: seed everything, train, print the summary, write metrics.json and the plots.

Determinism: ``tr.manual_seed(seed)`` seeds tinyreg's generator (initialisation, dropout masks) and every other
random stream (data subsets, batch order) is an explicit generator from :meth:`Context.rng`, derived from the same
seed and the stream's name. So a run is a function of (experiment, seed, quick) and nothing else.
"""

import json
import os
import platform
import shutil
import sys
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tinyreg as tr
from tinyreg.experiments import registry
from tinyreg.experiments.plotting import pyplot
from tinyreg.experiments.progress import Progress
from tinyreg.umask import current_umask


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


def _cpu_seconds() -> float:
    """CPU time used so far by this process and by its finished child processes (an experiment's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _plain(value):
    """json.dump's fallback for NumPy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metrics must be plain data; got {type(value).__name__}")


class OutputError(ValueError):
    """``out`` cannot receive a run's output (it holds files no run wrote, or it cannot be written); nothing ran."""


# What a run writes into its folder (write_outputs, and experiment 1's TensorBoard logs).
METRICS, PLOT_SUFFIX, TENSORBOARD = "metrics.json", ".png", "tensorboard"


def is_run_output(folder: Path) -> bool:
    """Whether ``folder`` is an earlier run's output: metrics.json at its top and nothing a run does not write."""
    return (folder / METRICS).is_file() and all(
        (entry.is_file() and (entry.name == METRICS or entry.suffix == PLOT_SUFFIX))
        or (entry.is_dir() and entry.name == TENSORBOARD) for entry in folder.iterdir())


def is_tour_output(parts):
    """``is_run_output`` for a tour of ``parts``: a folder holding only folders named after parts, each a run's."""
    return lambda folder: all(entry.name in parts and entry.is_dir() and is_run_output(entry)
                              for entry in folder.iterdir())


def _check_replaceable(out: Path, replaceable) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not replaceable(out):
        raise OutputError(f"{out} holds files that are not an earlier run's output; the run would replace them")


@contextmanager
def staged_output(out, replaceable=is_run_output):
    """Yield a new folder beside ``out`` to write a run into; when the block completes, it becomes ``out``.

    ``out`` must be absent, an empty folder, or output written earlier the same way (``replaceable(out)``: for a
    run, :func:`is_run_output`); anything else raises :class:`OutputError` before the block runs, so no caller can
    delete files a run did not write. If the block raises (a failed run, Ctrl-C) the staging folder is removed and
    ``out`` is left as it was: no partial output, and never new metrics beside an earlier run's plots. If files
    that are not a run's appeared in ``out`` meanwhile, it is kept and the error names the staging folder, which holds
    the new output. ``out`` None: yield None.
    """
    if out is None:
        yield None
        return
    out = Path(out)
    _check_replaceable(out, replaceable)
    # Creating the folders is the test of whether we may write here (os.access says yes to root everywhere).
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create the folder {out.parent}: {err.strerror}") from None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as err:
        raise OutputError(f"cannot create a folder in {out.parent}: {err.strerror}") from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o777 & ~current_umask())  # mkdtemp's folder is private; the output is an ordinary folder
    try:
        _check_replaceable(out, replaceable)
    except OutputError as err:
        raise OutputError(f"{err}; this run's output is in {staging}") from None
    earlier = staging.with_suffix(".old")
    if out.exists():
        out.rename(earlier)
    staging.rename(out)
    shutil.rmtree(earlier, ignore_errors=True)


def write_outputs(record: dict, module, out: Path, stdout=None) -> list:
    """Write metrics.json and, with matplotlib installed, every figure of ``module.plot``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / METRICS]
    written[0].write_text(json.dumps(record, indent=1, default=_plain) + "\n")
    plt = pyplot()
    if plt is None:
        return written
    print("drawing the plots ...", file=stdout or sys.stdout, flush=True)  # up to ~15 s for the histograms
    for filename, figure in module.plot(record["metrics"], plt).items():
        figure.savefig(out / filename, dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(out / filename)
    return written


def run_experiment(name: str, seed: int = 0, out=None, quick: bool = False, data=None,
                   show_progress: bool = True, stdout=None, shown_out=None) -> dict:
    """Run experiment ``name``, print its summary to ``stdout`` and return the record written to metrics.json.

    ``out``: a directory for metrics.json and the PNG plots (None: write nothing). The run writes into a folder
    beside it that replaces ``out`` only when the run is complete (:func:`staged_output`). ``shown_out``: the
    directory the "wrote" line names, when ``out`` is itself a staging folder that will be moved (default ``out``).
    """
    stdout = stdout or sys.stdout
    experiment = registry.get(name)
    module = experiment.load()
    with staged_output(out) as staging:
        ctx = Context(seed=seed, quick=quick, data=data, out=staging, show_progress=show_progress, stdout=stdout)
        ctx.manual_seed()
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        metrics = module.run(ctx)
        seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
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
        if staging is not None:
            written = write_outputs(record, module, staging, stdout)
    if out is not None:
        print(f"wrote {', '.join(str(Path(shown_out or out) / path.name) for path in written)}", file=stdout)
        if len(written) == 1:
            print("(no plots: matplotlib is not installed; pip install 'tinyreg[plot]')", file=stdout)
    return record
