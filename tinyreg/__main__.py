"""``python -m tinyreg``: the command line.

    python -m tinyreg                          the tour (< 1 minute): the main lessons of regularization
    python -m tinyreg list                     the experiments
    python -m tinyreg run NAME [--seed S] [--out DIR] [--quick] [--data PATH]
                                               one experiment: progress, a text summary, metrics.json and PNG plots
    python -m tinyreg explain ...              one optimizer step, equation by equation
"""

import argparse
import importlib
import sys

from tinyreg.data import DataError
from tinyreg.experiments.registry import EXPERIMENTS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tinyreg", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    tour = commands.add_parser("tour", help="quick runs of experiments 2, 1 and 4 and an Adam vs AdamW step traced "
                                            "side by side (the default command)")
    tour.add_argument("--seed", type=int, default=0)
    tour.add_argument("--out", metavar="DIR", help="also write each part's metrics.json and plots under DIR")
    commands.add_parser("list", help="name and describe the experiments")
    run = commands.add_parser("run", help="run one experiment")
    run.add_argument("name", choices=list(EXPERIMENTS), metavar="NAME", help="one of: " + ", ".join(EXPERIMENTS))
    run.add_argument("--seed", type=int, default=0, help="every run is deterministic for a given seed (default 0)")
    run.add_argument("--out", metavar="DIR", help="where metrics.json and the plots go (default runs/NAME)")
    run.add_argument("--quick", action="store_true", help="a small, fast version (what the tests run)")
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
    print("\nrun one: python -m tinyreg run NAME [--seed S] [--out DIR] [--quick] [--data PATH]")
    return 0


def _run(args) -> int:
    from tinyreg.experiments.runner import run_experiment
    run_experiment(args.name, seed=args.seed, out=args.out or f"runs/{args.name}", quick=args.quick,
                   data=args.data, show_progress=not args.no_progress)
    return 0


def _tour(args) -> int:
    from tinyreg.experiments.tour import tour
    tour(seed=getattr(args, "seed", 0), out=getattr(args, "out", None))
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    # parse_known_args: whatever follows "explain" is left for explain's own parser.
    args, rest = parser.parse_known_args(argv)
    if args.command == "explain":
        return _explain(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "list":
        return _list()
    try:
        return _run(args) if args.command == "run" else _tour(args)
    except DataError as err:  # missing or damaged Fashion-MNIST: the message names the place and the remedy
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
