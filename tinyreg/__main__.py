"""``python -m tinyreg``: the command line (the tour, list, run, explain).

A user's mistake ends in one line on stderr and exit status 2, never a traceback: argparse checks the arguments,
``--seed`` gets manual_seed's own check, an ``--out`` the run may not replace or cannot write is an ``OutputError``
raised before anything runs, missing or damaged data is a ``DataError``. Ctrl-C prints
"interrupted" and exits with 130 (128 + SIGINT, the shell's convention); a run's output appears only when the run is
complete (see :func:`tinyreg.experiments.runner.staged_output`).
"""

import argparse
import importlib
import sys

from tinyreg.data import DataError
from tinyreg.experiments.registry import EXPERIMENTS
from tinyreg.experiments.runner import OutputError, run_experiment
from tinyreg.random import check_seed

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


def parse_seed(text: str) -> int:
    """``--seed``'s value, if ``tr.manual_seed`` accepts it (its own check); else ValueError saying why."""
    try:
        value = int(text)
    except ValueError:
        value = text  # not an integer: check_seed names it
    return check_seed(value)


def add_seed_and_out(parser, out_help: str) -> None:
    parser.add_argument("--seed", default="0", metavar="S",
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
    explain = importlib.import_module("tinyreg.explain")
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
    run_experiment(args.name, seed=args.seed, out=args.out, quick=args.quick, data=args.data,
                   show_progress=not args.no_progress)
    return 0


def _tour(args) -> int:
    from tinyreg.experiments.tour import tour
    tour(seed=args.seed, out=args.out)
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
        if args.command is None:  # the tour is the default command
            args = parser.parse_args(["tour"])
        if args.command == "run" and args.out is None:
            args.out = f"runs/{args.name}"
        try:
            args.seed = parse_seed(args.seed)
        except ValueError as err:
            print(f"error: --seed: {err}", file=sys.stderr)
            return 2
        return _run(args) if args.command == "run" else _tour(args)
    except OutputError as err:  # raised before anything runs
        print(f"error: --out: {err}", file=sys.stderr)
        return 2
    except DataError as err:  # missing or damaged Fashion-MNIST: the message names the place and the remedy
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
