"""``python -m tinyreg``: the command line (the tour, list, run, explain).

A user's mistake ends in one line on stderr and exit status 2, never a traceback: argparse checks the arguments,
:func:`check_out` checks ``--out`` before anything runs, missing or damaged data is a ``DataError``. Ctrl-C prints
"interrupted" and exits with 130 (128 + SIGINT, the shell's convention); a run's output appears only when the run is
complete (see :func:`tinyreg.experiments.runner.staged_output`).
"""

import argparse
import importlib
import os
import sys
from pathlib import Path

from tinyreg.data import DataError
from tinyreg.experiments.registry import EXPERIMENTS

DESCRIPTION = """\
tinyreg: see how regularization acts in training, equation by equation.

  python -m tinyreg                     the tour (under a minute): quick runs of three experiments, then one
                                        Adam + L2 step next to one AdamW step
  python -m tinyreg list                the seven experiments, numbered
  python -m tinyreg run NAME|NUMBER     one experiment: a text summary, metrics.json and plots
  python -m tinyreg explain ...         one optimizer step, equation by equation (explain --help)
"""
INTERRUPTED = 130  # 128 + SIGINT


def experiment_name(text: str) -> str:
    """argparse type of ``run``'s argument: a name, or the number ``list`` shows (1-based)."""
    names = list(EXPERIMENTS)
    if text.isdigit() and 1 <= int(text) <= len(names):
        return names[int(text) - 1]
    if text in EXPERIMENTS:
        return text
    raise argparse.ArgumentTypeError(f"unknown experiment {text!r}: give a name or a number 1-{len(names)} "
                                     "from `python -m tinyreg list`")


def seed(text: str) -> int:
    """argparse type of ``--seed``: what ``tr.manual_seed`` accepts, a non-negative integer."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"the seed must be a non-negative integer, got {text!r}")
    return value


def earlier_output(folder: Path) -> bool:
    """Whether ``folder`` is what a run wrote (it holds a metrics.json) or the tour wrote (only such folders)."""
    if (folder / "metrics.json").is_file():
        return True
    entries = list(folder.iterdir())
    return bool(entries) and all(entry.is_dir() and earlier_output(entry) for entry in entries)


def check_out(out: Path):
    """The reason ``out`` cannot receive a run's output, or None.

    The run replaces ``out`` as a whole when it is complete, so ``out`` must be new, empty, or the output of an
    earlier run or tour (:func:`earlier_output`): never a folder of other files, and never a file. Its parent must be a
    folder we may write in (or creatable in one), since the run is staged beside it.
    """
    if out.exists() and not out.is_dir():
        return f"{out} exists and is not a folder"
    if out.is_dir() and any(out.iterdir()) and not earlier_output(out):
        return f"{out} is a folder of other files (no metrics.json of an earlier run); the run would replace it"
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {parent}"
    return None


def add_seed_and_out(parser, out_help: str) -> None:
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help="every run is deterministic for a given seed, a non-negative integer (default 0)")
    parser.add_argument("--out", metavar="DIR", help=out_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tinyreg", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    tour = commands.add_parser("tour", help="the default command: quick runs of experiments 2, 1 and 4, then an "
                                            "Adam vs AdamW step traced side by side",
                               description="Quick runs of experiments 2, 1 and 4, then an Adam vs AdamW step traced "
                                           "side by side (under a minute).")
    add_seed_and_out(tour, "also write each part's metrics.json and plots under DIR, replaced when the tour is done")
    commands.add_parser("list", help="number, name and describe the experiments",
                        description="Number, name and describe the experiments.")
    run = commands.add_parser("run", help="run one experiment", description="Run one experiment: a progress bar, a "
                              "text summary, then metrics.json and PNG plots in --out.")
    run.add_argument("name", type=experiment_name, metavar="NAME|NUMBER",
                     help="the experiment, by name or by its number in `list`: " + ", ".join(
                         f"{number} {name}" for number, name in enumerate(EXPERIMENTS, start=1)))
    add_seed_and_out(run, "where metrics.json and the plots go (default runs/NAME); a new folder, or the output of "
                          "an earlier run, which is replaced only when this run is complete")
    run.add_argument("--quick", action="store_true", help="a small, fast version (what the tests run); uses the "
                                                          "Fashion-MNIST sample when the full set is not installed")
    run.add_argument("--data", metavar="PATH", help="directory of the Fashion-MNIST IDX files, used as given "
                                                    "(default: $TINYREG_DATA if set, else "
                                                    "/usr/share/datasets/fashion-mnist)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")
    # explain's arguments belong to tinyreg/explain.py, imported only when the command runs (see _explain).
    commands.add_parser("explain", add_help=False, help="trace one optimizer step, equation by equation "
                                                         "(python -m tinyreg explain --help)")
    return parser


def _explain(argv: list) -> int:
    try:
        explain = importlib.import_module("tinyreg.explain")
    except ModuleNotFoundError as err:
        if err.name != "tinyreg.explain":
            raise
        print("python -m tinyreg explain: not built yet (tinyreg/explain.py does not exist in this version).",
              file=sys.stderr)
        return 1
    parser = argparse.ArgumentParser(prog="python -m tinyreg explain", description=explain.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    explain.add_arguments(parser)
    return explain.main(parser.parse_args(argv))


def _list() -> int:
    width = max(map(len, EXPERIMENTS))
    for number, experiment in enumerate(EXPERIMENTS.values(), start=1):
        print(f"{number}. {experiment.name:<{width}}  {experiment.description}")
    print("\nrun one: python -m tinyreg run NAME|NUMBER [--quick] [--seed S] [--out DIR] [--data PATH]")
    return 0


def _run(args) -> int:
    from tinyreg.experiments.runner import run_experiment
    run_experiment(args.name, seed=args.seed, out=args.out, quick=args.quick, data=args.data,
                   show_progress=not args.no_progress)
    return 0


def _tour(args) -> int:
    from tinyreg.experiments.tour import tour
    tour(seed=getattr(args, "seed", 0), out=getattr(args, "out", None))
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    # parse_known_args: whatever follows "explain" is left for explain's own parser.
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "explain":
            return _explain(rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "list":
            return _list()
        if args.command == "run" and args.out is None:
            args.out = f"runs/{args.name}"
        problem = None if getattr(args, "out", None) is None else check_out(Path(args.out))
        if problem is not None:
            print(f"error: --out: {problem}", file=sys.stderr)
            return 2
        return _run(args) if args.command == "run" else _tour(args)
    except DataError as err:  # missing or damaged Fashion-MNIST: the message names the place and the remedy
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
