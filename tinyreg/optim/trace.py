"""Watch an optimizer step happen, equation by equation, on real numbers.

    with tr.optim.trace(optimizer, watch=[(w, 0), (w, (2, 1), "w[2,1]")]) as tape:
        for _ in range(3):
            loss = model(x); optimizer.zero_grad(); loss.backward(); optimizer.step()
    print(tape)                 # an aligned table: every line of the step, each watched element a column
    tape.steps[0]["w[2,1]"]["m_t"], tape.to_dict(), tape.to_json()

How: while the context is open, each ``step()`` first lets the real update run (the fused kernel, untouched), and
for the watched elements only it also runs the **reference step** — the very function in the optimizer's file
(``adam.py``'s ``adam_step``, ...) the learner reads — with its ``record`` hook, on copies of θ, g and the state
gathered at those elements just before the update, with the keyword arguments the optimizer's own
``step_arguments`` gives ``step()``. Every ``record(name, value, equation, line)`` call becomes one line of
the trace. There is no second copy of the math: a line appears here because the reference step executed it.

Why the numbers are the kernel's own: the kernel is tested bit-identical to the reference step
(tests/optim/), and every statement is elementwise, so running it on a few gathered elements
rounds exactly as the kernel did on the whole buffer — in float32 as in float64 (both round each ``x + a·y`` once
with the same FMA, and the per-step scalars are rounded to θ's dtype once on both sides). tests/test_trace.py checks
that the recorded θ_t and state equal what the kernel wrote, bit for bit, for every optimizer and option.

Besides the reference's own lines a trace holds two kinds of context, marked by ``kind``:

- ``"input"``: the step number t (for optimizers whose math uses it, e.g. Alg. 2, line 4) and θ_{t−1}, the value the
  step started from;
- ``"derived"`` (:func:`tinyreg.optim.effective_decay.record_decay`), not lines of the algorithm but the numbers
  behind the paper's Proposition 2: ``decay``, what the λθ terms took off θ in this step, and ``lambda_eff``, the
  fraction of θ the decay removes per step once the momentum has settled. Coupled decay reaches θ through the
  momentum buffer, so its lines first show λθ and d_t, the buffer's λθ part. The trace carries d_t from step to step
  for each watched element, from 0 when the trace begins: opened mid-training, it counts the λθ of the steps it saw.

Steps where a watched element had no gradient are skipped by the optimizer and have no entry for it. The trace reads
the optimizer only through public means: torch's ``register_step_pre_hook``/``register_step_post_hook``, the
``state`` dict, ``schedule_multiplier`` and the optimizer's declaration (``step_arguments``, ``reference_step``).

Note: ``tinyreg.optim.trace`` is this module's main function (re-exported by the package); import the classes with
``from tinyreg.optim.trace import Trace``.
"""

import difflib
import json
import textwrap
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from tinyreg.optim.effective_decay import record_decay
from tinyreg.optim.flat import grad_array, param_array
from tinyreg.optim.optimizer import Optimizer

WIDTH = 100     # every rendered line fits a 100-column terminal


# ---- what a trace holds -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """One recorded line: ``name`` (e.g. "m_t"), ``value`` (a NumPy scalar of θ's dtype, or a Python number for
    per-step quantities such as η_t), ``equation`` in Unicode math, ``source`` (the algorithm line), ``kind``
    ("input", "reference" or "derived")."""

    name: str
    value: object
    equation: str
    source: str
    kind: str = "reference"

    def to_dict(self) -> dict:
        value = self.value.item() if isinstance(self.value, np.generic) else self.value
        return dict(name=self.name, value=value, equation=self.equation, source=self.source, kind=self.kind)


@dataclass
class ElementStep:
    """One watched element during one step: ``lines`` in execution order; ``element["m_t"]`` is the value of the
    last line named ``m_t`` (a name repeats when a later line refines it, as g_t does)."""

    label: str
    group: int
    t: object           # the step number t, None for torch's SGD (it counts no steps)
    lr: float
    lines: list = field(default_factory=list)

    def __getitem__(self, name):
        for line in reversed(self.lines):
            if line.name == name:
                return line.value
        raise KeyError(f"{name!r} was not recorded for {self.label} (recorded: {', '.join(self.names())})")

    def __contains__(self, name) -> bool:
        return any(line.name == name for line in self.lines)

    def names(self) -> list:
        return [line.name for line in self.lines]

    def values(self, name) -> list:
        """Every value recorded under ``name``, in order."""
        return [line.value for line in self.lines if line.name == name]

    def to_dict(self) -> dict:
        return dict(label=self.label, group=self.group, t=self.t, lr=self.lr,
                    lines=[line.to_dict() for line in self.lines])


@dataclass
class Step:
    """The ``number``-th ``step()`` call under the trace (1-based) and its watched elements, in watch order."""

    number: int
    elements: list = field(default_factory=list)

    def __getitem__(self, key) -> ElementStep:
        """By position among the recorded elements (int) or by label (str)."""
        if isinstance(key, str):
            for element in self.elements:
                if element.label == key:
                    return element
            raise KeyError(f"no watched element {key!r} was updated in step {self.number}")
        return self.elements[key]

    def to_dict(self) -> dict:
        return dict(step=self.number, elements=[element.to_dict() for element in self.elements])


class Trace:
    """What :func:`trace` recorded: ``.steps[i]`` (a :class:`Step`), ``str()`` an aligned table, ``.to_dict()``
    plain data, ``.to_json()``."""

    def __init__(self, optimizer_name, reference, groups, watch):
        self.optimizer = optimizer_name
        self.reference = reference          # the reference step that ran, e.g. "tinyreg.optim.adam.adam_step"
        self.groups = groups                # each param group's hyperparameters when the trace began
        self.watch = watch                  # [{"label", "param", "index", "group"}] in watch order
        self.steps = []

    def to_dict(self) -> dict:
        return dict(optimizer=self.optimizer, reference=self.reference,
                    groups=[{key: _plain(value) for key, value in group.items()} for group in self.groups],
                    watch=self.watch, steps=[step.to_dict() for step in self.steps])

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def header(self, indent: str = "") -> str:
        """The optimizer and each group's hyperparameters, wrapped to the width."""
        lines = []
        for g, group in enumerate(self.groups):
            settings = ", ".join(f"{key}={value.item() if isinstance(value, np.generic) else value!r}"
                                 for key, value in group.items())
            prefix = f"{self.optimizer}" + (f" group {g}" if len(self.groups) > 1 else "") + ": "
            lines.append(textwrap.fill(prefix + settings, WIDTH, initial_indent=indent,
                                       subsequent_indent=indent + "    "))
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [line for step in self.steps for element in step.elements for line in element.lines]
        columns = (max((width(line.equation) for line in lines), default=0),
                   max((width(line.source) for line in lines), default=0))
        return "\n\n".join([self.header()] + [render_step(step, len(self.groups) > 1, columns)
                                               for step in self.steps])

    def __repr__(self) -> str:
        return f"<Trace of {self.optimizer}: {len(self.steps)} steps, watching {len(self.watch)} elements>"


# ---- text layout ----------------------------------------------------------------------------------------------------
def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: combining marks (the hat of m̂) take none."""
    return sum(not unicodedata.combining(ch) for ch in text)


def pad(text: str, columns: int, align: str = "<") -> str:
    space = " " * max(0, columns - width(text))
    return text + space if align == "<" else space + text


def format_value(value) -> str:
    """7 significant digits: all of float32's, and enough to read a float64 trace."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return format(float(value), ".7g")


# The widest value format_value writes is 14 columns (-1.234567e-308): one more keeps a space between columns.
VALUE_WIDTH = 15


def cell(text: str) -> str:
    """A value column, right-aligned and always led by a space, so neighbouring columns never run together."""
    return " " + pad(text, VALUE_WIDTH - 1, ">")


def _block_key(element):
    return (element.group, element.t, element.lr,
            tuple((line.name, line.equation, line.source, line.kind) for line in element.lines))


def render_step(step: Step, multiple_groups: bool = False, columns=(0, 0)) -> str:
    """One step as tables: a row per line, a value column per watched element; elements whose lines differ (other
    group, other t, other options) get their own table. ``columns``: at least this (equation, source) width, so
    the steps of one trace line up."""
    if not step.elements:
        return f"step {step.number}: no watched element had a gradient (the optimizer skipped them)"
    blocks = {}
    for element in step.elements:
        blocks.setdefault(_block_key(element), []).append(element)
    out = []
    for elements in blocks.values():
        first = elements[0]
        title = f"step {step.number}" + (f" · group {first.group}" if multiple_groups else "") + \
            f" · lr = {format_value(first.lr)}"
        eq_width = max(columns[0], *(width(line.equation) for line in first.lines))
        source_width = max(columns[1], *(width(line.source) for line in first.lines))
        per_table = max(1, (WIDTH - 2 - eq_width - 3 - source_width) // VALUE_WIDTH)
        for start in range(0, len(elements), per_table):
            chunk = elements[start:start + per_table]
            rows = [pad(title, 2 + eq_width) + "".join(cell(e.label) for e in chunk) + "   source"]
            for i, line in enumerate(first.lines):
                if line.kind == "derived" and first.lines[i - 1].kind != "derived":
                    rows.append("  " + "┄" * eq_width)
                rows.append("  " + pad(line.equation, eq_width)
                            + "".join(cell(format_value(e.lines[i].value)) for e in chunk)
                            + "   " + line.source)
            out.append("\n".join(rows))
    return "\n\n".join(out)


# ---- side by side -------------------------------------------------------------------------------------------------
def _shown(line):
    return None if line is None else (line.equation, format_value(line.value))


def align(a: ElementStep, b: ElementStep) -> list:
    """Pair the lines of two traces of one element by name, in order: ``[(line_a, line_b, differs)]``.

    A line present on one side only is paired with None. ``differs`` is True when only one side has the line, or
    the equations differ, or the values as shown (7 significant digits) differ — what the eye would compare.
    """
    # Lines match first by name and source (so Adam's two g_t lines pair with the right one of AdamW's), then, within
    # each unmatched stretch, by name alone (SGD's θ_t, "torch SGD", pairs with SGDW's, "Alg. 1, line 9").
    pairs = []
    for xs, ys, equal in _stretches(a.lines, b.lines, lambda line: (line.name, line.source)):
        if equal:
            pairs += zip(xs, ys)
            continue
        for xs_, ys_, equal_ in _stretches(xs, ys, lambda line: line.name):
            pairs += zip(xs_, ys_) if equal_ else [(x, None) for x in xs_] + [(None, y) for y in ys_]
    return [(x, y, _shown(x) != _shown(y)) for x, y in pairs]


def _stretches(a, b, key):
    """``(a_lines, b_lines, equal)`` for each stretch difflib finds equal, or not, comparing lines by ``key``."""
    matcher = difflib.SequenceMatcher(None, [key(x) for x in a], [key(y) for y in b], autojunk=False)
    return [(a[i1:i2], b[j1:j2], tag == "equal") for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


MARK = "≠"               # the values differ, or only one side runs this line
SAME_VALUE_MARK = "~"     # the same value, by a different equation


def marker(x, y, differs) -> str:
    """The mark of an aligned row: "" when the row does not differ, else MARK or SAME_VALUE_MARK."""
    if not differs:
        return ""
    return SAME_VALUE_MARK if x is not None and y is not None and _shown(x)[1] == _shown(y)[1] else MARK


def side_by_side(a: Trace, b: Trace, titles=None) -> str:
    """Two traces of the same watched elements, step by step, lines aligned (:func:`align`). A row that differs
    starts with ``≠`` (other value, or one side only) or ``~`` (same value, other equation)."""
    titles = titles or (a.optimizer, b.optimizer)
    side = (WIDTH - 2 - 3) // 2
    steps = list(zip(a.steps, b.steps))
    equations = [line.equation for trace in (a, b) for step in trace.steps for e in step.elements for line in e.lines]
    eq_width = min(side - 10, max(map(width, equations), default=10))
    value_width = side - eq_width - 1

    def cell(line):
        return " " * side if line is None else pad(line.equation, eq_width) + " " + pad(format_value(line.value),
                                                                                       value_width, ">")

    out = ["  " + pad(titles[0], side) + " │ " + titles[1]]
    for step_a, step_b in steps:
        labels = [e.label for e in step_a.elements if any(f.label == e.label for f in step_b.elements)]
        for label in labels:
            title = f"━━ step {step_a.number} · {label} "
            out.append(title + "━" * (WIDTH - 1 - width(title)))
            for x, y, differs in align(step_a[label], step_b[label]):
                out.append(pad(marker(x, y, differs), 2) + cell(x) + " │ " + cell(y).rstrip())
    return "\n".join(line.rstrip() for line in out)


# ---- recording ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Watched:
    label: str
    param: object
    param_index: int        # the parameter's index in state_dict numbering
    index: tuple            # the element, as a tuple index into the parameter
    group: int

    def describe(self) -> dict:
        return dict(label=self.label, param=self.param_index, index=list(self.index), group=self.group)


def _resolve(optimizer, watch) -> list:
    """Find each ``(param, index[, label])`` among the optimizer's param groups."""
    where, start = {}, 0
    for g, group in enumerate(optimizer.param_groups):
        for i, p in enumerate(group["params"]):
            where[id(p)] = (start + i, g)
        start += len(group["params"])
    watched = []
    for k, item in enumerate(watch):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise TypeError(f"watch[{k}] must be (param, index) or (param, index, label), got {item!r}")
        param, index = item[0], item[1]
        if id(param) not in where:
            raise ValueError(f"watch[{k}]: the parameter is not in any of the optimizer's param groups")
        shape = param.shape
        index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
        if len(index) != len(shape) or not all(-n <= i < n for i, n in zip(index, shape)):
            raise IndexError(f"watch[{k}]: index {index} does not name one element of a parameter of shape {shape}")
        index = tuple(int(i) % n for i, n in zip(index, shape))
        param_index, group = where[id(param)]
        label = item[2] if len(item) == 3 else f"p{param_index}" + (f"[{','.join(map(str, index))}]" if index else "")
        watched.append(_Watched(str(label), param, param_index, index, group))
    labels = [w.label for w in watched]
    if len(set(labels)) != len(labels):
        raise ValueError(f"watch: labels must be unique, got {labels}")
    return watched


def _steps_taken(optimizer, entry) -> int:
    """A parameter's step count from its ``state`` entry (torch's SGD saves none: 1 once its buffer exists)."""
    if entry is None:
        return 0
    return int(entry["step"]) if "step" in entry else 1


class _Recorder:
    """The hooks :func:`trace` installs: the pre-hook copies the watched elements (θ, g, state) and the step's
    arguments before the update; the post-hook runs the reference step on those copies with a record hook."""

    def __init__(self, optimizer, watched, tape):
        self.optimizer = optimizer
        self.watched = watched
        self.tape = tape
        self.pending = []
        self.decay_parts = {}       # label -> d_t, the λθ part of its momentum buffer (record_decay)

    def before_step(self, optimizer, args, kwargs):
        self.pending = []
        state = optimizer.state
        for w in self.watched:
            grad = grad_array(w.param)
            if grad is None:
                continue        # skipped by the optimizer: no entry this step
            group = optimizer.param_groups[w.group]
            entry = state.get(w.param)
            steps = _steps_taken(optimizer, entry)
            scalars = {name: entry[name] if entry is not None else initial
                       for name, initial in optimizer.scalar_state.items()}
            arguments = optimizer.step_arguments(group, {"step": steps, **scalars})
            used, fresh = optimizer.state_names(group), optimizer.initial_state(group)
            theta = param_array(w.param)[w.index]
            values = [None if name not in used else np.array([entry[name][w.index]]) if entry and name in entry
                      else np.full(1, fresh.get(name, 0), theta.dtype) for name in optimizer.state_keys]
            self.pending.append((w, group, steps, arguments, np.array([theta]), np.array([grad[w.index]]), values))

    def after_step(self, optimizer, args, kwargs):
        # The reference runs here, after the kernel has finished the whole step: whatever happens in the trace, the
        # optimizer's own step is complete and untouched.
        state = optimizer.state
        elements = {}
        for w, group, steps, arguments, theta, grad, values in self.pending:
            calls = []
            optimizer.reference_step(theta, grad, *values, **arguments,
                                     record=lambda *call: calls.append(_copied(*call)))
            entry = state.get(w.param) or {}
            after = {name: value[w.index] if np.ndim(value) else value for name, value in entry.items()}
            elements[w.label] = self._element(w, group, steps, theta[0], calls, after)
        self.pending = []
        self.tape.steps.append(Step(len(self.tape.steps) + 1,
                                    [elements[w.label] for w in self.watched if w.label in elements]))

    def _element(self, w, group, step, theta_prev, calls, after):
        optimizer = self.optimizer
        counted = optimizer.step_line is not None
        element = ElementStep(w.label, w.group, step + 1 if counted else None, float(group["lr"]))
        if counted:
            element.lines.append(Line("t", step + 1, "t ← t + 1", optimizer.step_line, "input"))
        element.lines.append(Line("theta_prev", theta_prev, "θ_{t−1}", "the step's input", "input"))
        element.lines += [Line(name, value[0] if isinstance(value, np.ndarray) else value, equation, line)
                          for name, value, equation, line in calls]
        derived = []
        d_t = record_decay(optimizer, group, theta_prev, self.decay_parts.get(w.label), step=step,
                           theta=element["theta"] if "theta" in element else None, element=element,
                           state_after=after, record=lambda *call: derived.append(Line(*call, "derived")))
        if d_t is not None:
            self.decay_parts[w.label] = d_t
        if float(group["weight_decay"]) != 0:       # at λ = 0 only d_t is kept: the buffer still carries old λθ
            element.lines += derived
        return element


def _copied(name, value, equation, line):
    """A recorded call, its array copied (the reference may pass an alias of an input or of a later value)."""
    return name, np.array(value, copy=True) if isinstance(value, np.ndarray) else value, equation, line


def _plain(value):
    """A hyperparameter as plain Python data (NumPy scalars to numbers, tuples to lists for JSON)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


@contextmanager
def trace(optimizer, watch):
    """Record every line of the reference math for the watched elements at each ``optimizer.step()``.

    ``watch``: a list of ``(param, index)`` or ``(param, index, label)``; ``index`` an int or a tuple naming one
    element of ``param`` (negative indices allowed); the default label is ``p{i}[index]`` with ``i`` the parameter's
    state_dict index. Yields a :class:`Trace` that fills as steps run. The optimizer's update itself is unchanged:
    same kernel, same results, bit for bit. Any :class:`~tinyreg.optim.Optimizer` can be traced: the trace reads
    its declaration.
    """
    if not isinstance(optimizer, Optimizer) or optimizer.reference_step is None:
        raise TypeError(f"tinyreg.optim.trace can trace tinyreg optimizers, not {type(optimizer).__name__}")
    watched = _resolve(optimizer, watch)
    groups = [{key: value for key, value in group.items() if key != "params"} for group in optimizer.param_groups]
    step = optimizer.reference_step
    tape = Trace(type(optimizer).__name__, f"{step.__module__}.{step.__name__}", groups,
                 [w.describe() for w in watched])
    recorder = _Recorder(optimizer, watched, tape)
    handles = [optimizer.register_step_pre_hook(recorder.before_step),
               optimizer.register_step_post_hook(recorder.after_step)]
    try:
        yield tape
    finally:
        for handle in handles:
            handle.remove()
