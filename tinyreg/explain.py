"""Watch an optimizer step, equation by equation, on a 2-parameter problem; compare two optimizers line by line.

    python -m tinyreg explain adamw --steps 3          the trace of AdamW's first three steps
    python -m tinyreg explain --compare adam adamw     Adam + L2 next to AdamW, on identical gradients
    python -m tinyreg explain --compare sgd sgdw --momentum 0    L2 = weight decay for plain SGD (Proposition 1)

The problem: f(θ) = 5·(θ₀ − 1)² + 0.005·(θ₁ − 1)², from θ = (2, 2), so ∇f = (10·(θ₀ − 1), 0.01·(θ₁ − 1)).
θ[0] lies along a steep direction (large gradients), θ[1] along a flat one (small gradients): Adam + L2 divides
the decay by √v̂, so it decays θ[0] far less than θ[1]; AdamW decays both alike. Every line comes from the
optimizer's reference step in its own file, e.g. tinyreg/optim/adam.py (see tinyreg.optim.trace). Every optimizer
of tinyreg.optim.OPTIMIZERS can be explained (rmsprop, adagrad, nadam, radam, lion, ...).
"""

import inspect
import json
import sys
import textwrap
from contextlib import ExitStack

import numpy as np

from tinyreg.nn import Parameter
from tinyreg.optim import OPTIMIZERS
from tinyreg.optim.trace import MARK, SAME_VALUE_MARK, WIDTH, align, format_value, pad, side_by_side, trace, width
from tinyreg.tensor import Tensor

PROBLEM = "f(θ) = 5·(θ₀ − 1)² + 0.005·(θ₁ − 1)²"
CURVATURE = (10.0, 0.01)        # ∇f = h ⊙ (θ − c): h is f's curvature along each axis
CENTER = (1.0, 1.0)
START = (2.0, 2.0)
LABELS = ("θ[0]", "θ[1]")
DEFAULT_LAMBDA = 0.1            # in torch's units (decay per step lr·λ); decay="paper" gets lr·λ, the same per step


def gradient(theta):
    """∇f(θ) = h ⊙ (θ − c), in θ's dtype."""
    return (np.asarray(CURVATURE, theta.dtype) * (theta - np.asarray(CENTER, theta.dtype))).astype(theta.dtype)


def optimizer_settings(name, *, lr=0.1, wd=None, decay=None, **options) -> dict:
    """The keyword arguments of optimizer ``name``: its declared ``explain`` defaults, then ``options`` (those it
    does not take, and those left None, are dropped)."""
    cls = OPTIMIZERS[name]
    accepted = inspect.signature(cls.__init__).parameters
    settings = {**cls.explain, **{key: value for key, value in options.items() if value is not None}}
    settings = {key: tuple(value) if key == "betas" else value for key, value in settings.items() if key in accepted}
    settings["decay"] = decay or settings.get("decay") or "l2"
    if wd is None:
        # decay="paper": the same decay per step, lr·λ, printed as 0.01 rather than 0.010000000000000002
        wd = float(f"{lr * DEFAULT_LAMBDA:.12g}") if settings["decay"] == "paper" else DEFAULT_LAMBDA
    return dict(lr=lr, weight_decay=wd, **settings)


def run(names, settings, steps=3, watch=(0, 1), dtype=np.float64) -> list:
    """Run the optimizers ``names`` side by side on the problem for ``steps`` steps; returns their traces.

    All of them receive the same gradient each step: ∇f at the *first* optimizer's θ. With one optimizer that is
    plain gradient descent on f; with two, every difference between their traces comes from the update rule alone.
    """
    params = [Parameter(np.array(START, dtype=dtype)) for _ in names]
    optimizers = [OPTIMIZERS[name]([p], **s) for name, p, s in zip(names, params, settings)]
    with ExitStack() as stack:
        tapes = [stack.enter_context(trace(opt, watch=[(p, i, LABELS[i]) for i in watch]))
                 for opt, p in zip(optimizers, params)]
        for _ in range(steps):
            g = gradient(params[0].detach().numpy())
            for p, opt in zip(params, optimizers):
                p.grad = Tensor(g)
                opt.step()
    return tapes


def _title(name, settings):
    return f"{OPTIMIZERS[name].__name__} (decay={settings['decay']!r}, λ={settings['weight_decay']:g})"


def trace_text(name, steps=3, watch=(0, 1), dtype=np.float64, **options) -> str:
    """The text ``explain NAME`` prints."""
    settings = optimizer_settings(name, **options)
    (tape,) = run([name], [settings], steps, watch, dtype)
    intro = (f"{OPTIMIZERS[name].__name__} on {PROBLEM}, from θ = {START}: θ[0] feels large gradients, θ[1] small "
             f"ones. Each row is a line that {tape.reference} ran for the watched elements.")
    return textwrap.fill(intro, WIDTH) + "\n\n" + str(tape)


def compare(a, b, steps=2, watch=(0, 1), dtype=np.float64, wd=(None, None), decay=(None, None), **options):
    """Run optimizers ``a`` and ``b`` on identical gradients; ``wd`` and ``decay`` are per side (None: the
    default). Returns ``(settings, tapes, names)``: the keyword arguments, the two traces and their display names."""
    settings = [optimizer_settings(name, wd=w, decay=d, **options) for name, w, d in zip((a, b), wd, decay)]
    tapes = run([a, b], settings, steps, watch, dtype)
    names = [OPTIMIZERS[n].__name__ for n in (a, b)]
    if names[0] == names[1]:
        names = [f"{name}/{s['decay']}" for name, s in zip(names, settings)]
    return settings, tapes, names


def compare_text(a="adam", b="adamw", steps=2, watch=(0, 1), dtype=np.float64, **options) -> str:
    """The text ``explain --compare A B`` prints: two traces side by side on identical gradients, the lines that
    differ marked, then the decay each took off θ at the last step and the rate λ_eff it settles to. Options as
    :func:`compare`."""
    settings, tapes, names = compare(a, b, steps, watch, dtype, **options)
    intro = (f"{names[0]} vs {names[1]} on {PROBLEM}, from θ = {START}. Both get the same gradient each step (∇f at "
             f"{names[0]}'s θ), so every difference below comes from the update rule. {MARK} marks the lines whose "
             f"values differ (or that only one runs), {SAME_VALUE_MARK} those computing the same value by another "
             "equation.")
    table = side_by_side(*tapes, titles=[_title(n, s) for n, s in zip((a, b), settings)])
    return "\n\n".join([textwrap.fill(intro, WIDTH), "\n".join(tape.header("  ") for tape in tapes), table,
                        decay_summary(tapes, names)])


def decay_summary(tapes, names) -> str:
    """Per watched element at the last step: the decay each optimizer's λθ terms took off θ in that step, and λ_eff,
    the rate each decay settles to (see tinyreg.optim.effective_decay); the ratio when both are nonzero."""
    last = [tape.steps[-1] for tape in tapes]
    intro = (f"Decay at step {last[0].number}. decay: what the λθ terms took off θ in this step; λ_eff: the fraction "
             "of θ the decay removes per step once the momentum has settled, where the decay is heading.")
    rows = []
    for element in last[0].elements:
        for name, shown in (("decay", "decay"), ("lambda_eff", "λ_eff")):
            values = [step[element.label][name] if name in step[element.label] else 0.0 for step in last]
            rows.append((element.label if name == "decay" else "", shown, values))
    cells = [[f"{name} {format_value(value)}" for name, value in zip(names, values)] for *_, values in rows]
    cell_width = max(width(cell) for row in cells for cell in row) + 3
    label_width = max(width(label) for label, *_ in rows)
    lines = [textwrap.fill(intro, WIDTH)]
    for (label, shown, values), row in zip(rows, cells):
        text = f"  {pad(label, label_width)}   {pad(shown, 5)}   " + "".join(pad(cell, cell_width) for cell in row)
        if values[0] * values[1] > 0 and not np.isclose(values[0], values[1], rtol=1e-3, atol=0):
            ratio = values[0] / values[1]
            text += f"→ {names[0]} " + (f"{ratio:.3g}× more" if ratio > 1 else f"{1 / ratio:.3g}× less")
        lines.append(text.rstrip())
    return "\n".join(lines)


def compare_dict(a, b, steps=2, watch=(0, 1), dtype=np.float64, **options) -> dict:
    """``explain --compare A B --json``: both traces and, per step and element, the aligned rows."""
    _, tapes, names = compare(a, b, steps, watch, dtype, **options)
    rows = [dict(step=step_a.number, label=element.label,
                 rows=[dict(a=None if x is None else x.to_dict(), b=None if y is None else y.to_dict(),
                            differs=differs)
                       for x, y, differs in align(element, step_b[element.label])])
            for step_a, step_b in zip(*(tape.steps for tape in tapes)) for element in step_a.elements]
    return dict(problem=_problem(), gradients=f"∇f at {names[0]}'s θ, given to both",
                traces=[tape.to_dict() for tape in tapes], aligned=rows)


def _problem() -> dict:
    return dict(f=PROBLEM, curvature=list(CURVATURE), center=list(CENTER), start=list(START))


# ---- the command line -----------------------------------------------------------------------------------------------
# The options only some optimizers take, and those optimizers (read from their constructors): given to another, an
# option is refused.
OPTION_TAKERS = {option: tuple(name for name, cls in OPTIMIZERS.items()
                               if option in inspect.signature(cls.__init__).parameters)
                 for option in ("betas", "eps", "amsgrad", "momentum", "dampening", "nesterov")}


def add_arguments(parser) -> None:
    """The options of ``python -m tinyreg explain``."""
    parser.add_argument("optimizer", nargs="?", type=str.lower, choices=list(OPTIMIZERS),
                        help="the optimizer to trace: " + ", ".join(OPTIMIZERS))
    parser.add_argument("--compare", nargs=2, type=str.lower, choices=list(OPTIMIZERS), metavar=("A", "B"),
                        help="two optimizers side by side on identical gradients, e.g. --compare adam adamw")
    parser.add_argument("--steps", type=int, default=None, help="steps to run (default 3; 2 with --compare)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--wd", type=float, nargs="+", metavar="λ",
                        help=f"weight decay λ (default {DEFAULT_LAMBDA}; with decay 'paper', sgdw's default, "
                             f"lr·{DEFAULT_LAMBDA}: the same decay per step). With --compare, two values set A's and "
                             "B's")
    parser.add_argument("--betas", type=float, nargs=2, metavar=("β1", "β2"),
                        help="β₁ β₂ of Adam, NAdam, RAdam, Lion (default: the optimizer's own, 0.9 0.999 for Adam)")
    parser.add_argument("--eps", type=float, help="ε (default: the optimizer's own, 1e-8 for Adam)")
    parser.add_argument("--momentum", type=float,
                        help="SGD's μ, SGDW's β₁, RMSprop's momentum (default: 0.9 for SGD and SGDW, else 0)")
    parser.add_argument("--dampening", type=float, help="SGD's τ (default 0)")
    parser.add_argument("--nesterov", action="store_true", help="SGD with Nesterov momentum")
    parser.add_argument("--amsgrad", action="store_true", help="Adam with AMSGrad")
    parser.add_argument("--maximize", action="store_true", help="ascend instead of descending")
    parser.add_argument("--decay", choices=["l2", "decoupled", "paper"], nargs="+",
                        help="the weight-decay convention (default: the optimizer's own). With --compare, two values "
                             "set A's and B's, e.g. --compare adamw adamw --decay decoupled paper")
    parser.add_argument("--param", choices=["0", "1", "all"], default="all",
                        help="which parameter to watch: θ[0] (large gradients), θ[1] (small ones) or all (default)")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="the parameters' dtype (default float64)")
    parser.add_argument("--json", action="store_true", help="print the trace as JSON instead of a table")


def main(args) -> int:
    """Run ``python -m tinyreg explain`` with parsed ``args``; returns the exit status."""
    if (args.optimizer is None) == (args.compare is None):
        print(f"python -m tinyreg explain: give one optimizer ({', '.join(OPTIMIZERS)}) or --compare A B, "
              "e.g. `explain adamw` or `explain --compare adam adamw`", file=sys.stderr)
        return 2
    if args.steps is not None and args.steps < 1:
        print(f"python -m tinyreg explain: --steps must be at least 1, got {args.steps}", file=sys.stderr)
        return 2
    wd, decay = args.wd or [None], args.decay or [None]
    for option, values in (("--wd", wd), ("--decay", decay)):
        if len(values) > (2 if args.compare else 1):
            print(f"python -m tinyreg explain: {option} takes one value"
                  f"{', or two with --compare' if args.compare else ''}, got {len(values)}", file=sys.stderr)
            return 2
    chosen = args.compare or [args.optimizer]
    for option, takers in OPTION_TAKERS.items():
        if getattr(args, option) not in (None, False) and not set(chosen) & set(takers):
            print(f"python -m tinyreg explain: --{option} does not apply to {' or '.join(chosen)} (it is an option "
                  f"of {', '.join(takers)})", file=sys.stderr)
            return 2
    options = dict(lr=args.lr, betas=args.betas, eps=args.eps, momentum=args.momentum,
                   dampening=args.dampening, nesterov=args.nesterov, amsgrad=args.amsgrad, maximize=args.maximize)
    common = dict(watch=(0, 1) if args.param == "all" else (int(args.param),), dtype=np.dtype(args.dtype).type)
    try:
        if args.compare:
            a, b = args.compare
            per_side = dict(wd=(wd[0], wd[-1]), decay=(decay[0], decay[-1]))
            if args.json:
                print(json.dumps(compare_dict(a, b, args.steps or 2, **common, **per_side, **options),
                                 ensure_ascii=False, indent=1))
            else:
                print(compare_text(a, b, args.steps or 2, **common, **per_side, **options))
        elif args.json:
            settings = optimizer_settings(args.optimizer, wd=wd[0], decay=decay[0], **options)
            (tape,) = run([args.optimizer], [settings], args.steps or 3, **common)
            print(json.dumps(dict(problem=_problem(), trace=tape.to_dict()), ensure_ascii=False, indent=1))
        else:
            print(trace_text(args.optimizer, args.steps or 3, wd=wd[0], decay=decay[0], **common, **options))
    except ValueError as err:       # the optimizer's own validation: "Invalid learning rate: -1.0"
        print(f"python -m tinyreg explain: {err}", file=sys.stderr)
        return 2
    return 0
