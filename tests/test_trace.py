"""tr.optim.trace: the recorded values are what the fused kernel wrote, tracing changes nothing, the lines are the
reference step's, and the Trace renders, serialises and indexes."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.optim.cases import DTYPES, adam_hyper, sgd_hyper, sgdw_hyper
from tinyreg import ones_like, tensor
from tinyreg.nn import Parameter
from tinyreg.optim import SGD, SGDW, Adam, AdamW
from tinyreg.optim.trace import Trace, align, side_by_side, trace, width
from tinyreg.optim.trace import trace as trace_function

STEPS = 5
SHAPES = [(3,), (2, 4), ()]


# ---- building optimizers from the shared hyperparameter strategies (reference names -> constructor names) --------
def adam_kwargs(h):
    return dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["lambda_"],
                amsgrad=h["amsgrad"], maximize=h["maximize"])


def sgd_kwargs(h):
    return dict(lr=h["lr"], momentum=h["momentum"], dampening=h["dampening"], weight_decay=h["lambda_"],
                nesterov=h["nesterov"], maximize=h["maximize"])


def sgdw_kwargs(h):
    return dict(lr=h["lr"], momentum=h["beta1"], weight_decay=h["lambda_"], maximize=h["maximize"])


FAMILIES = {"adam": (Adam, adam_hyper, adam_kwargs), "sgd": (SGD, sgd_hyper, sgd_kwargs),
            "sgdw": (SGDW, sgdw_hyper, sgdw_kwargs)}
STATE = {"adam": {"m_t": "exp_avg", "v_t": "exp_avg_sq", "v_max_t": "max_exp_avg_sq"},
         "sgd": {"b_t": "momentum_buffer"}, "sgdw": {"m_t": "momentum_buffer"}}


def make_problem(seed, dtype):
    """Three parameters (one 0-d), initial values and per-step gradients; some steps leave one gradient out."""
    rng = np.random.default_rng(seed)
    params = [Parameter(rng.standard_normal(shape).astype(dtype)) for shape in SHAPES]
    grads = [[np.asarray(10.0 ** rng.uniform(-3, 1) * rng.standard_normal(shape), dtype) for shape in SHAPES]
             for _ in range(STEPS)]
    missing = [int(rng.integers(0, 8)) for _ in range(STEPS)]     # 0..2: that parameter gets no gradient
    return params, grads, missing


def make_optimizer(family, params, kwargs, decay, group_kwargs, backend="numba"):
    """Two param groups: the first two parameters share one, the 0-d parameter has its own overrides."""
    cls = FAMILIES[family][0]
    groups = [{"params": params[:2]}, {"params": params[2:], **group_kwargs}]
    return cls(groups, **kwargs, decay=decay, backend=backend)


def run(optimizer, params, grads, missing, schedule):
    """Set the gradients of each step (None for the missing one) and step; ``schedule`` changes lr between steps."""
    for step, (gs, miss) in enumerate(zip(grads, missing)):
        for i, (p, g) in enumerate(zip(params, gs)):
            p.grad = None if i == miss else tensor(g)
        if schedule:
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] * (1 - 0.1 * step) if "initial_lr" in group else group["lr"]
        yield step


def watch_list(params, seed):
    """One random element of each parameter, and the last element of the 2-d one (a negative index)."""
    rng = np.random.default_rng(seed + 7)
    return [(p, tuple(int(rng.integers(0, n)) for n in p.shape)) for p in params] + [(params[1], (-1, -1),
                                                                                           "last")]


# ---- values equal the kernel's, and tracing changes nothing ------------------------------------------------------
@pytest.mark.parametrize("family", list(FAMILIES))
@settings(max_examples=12)
@given(data=st.data(), decay=st.sampled_from(["l2", "decoupled", "paper"]), dtype=DTYPES,
       seed=st.integers(0, 2**32 - 1))
def test_recorded_values_equal_what_the_kernel_wrote(family, data, decay, dtype, seed):
    hyper = data.draw(FAMILIES[family][1]())
    kwargs = FAMILIES[family][2](hyper)
    overrides = data.draw(st.sampled_from([{}, {"weight_decay": 0.0}, {"lr": kwargs["lr"] / 3}]))
    if family == "adam":
        overrides = {**overrides, "amsgrad": not kwargs["amsgrad"]}     # one group with, one without
    params, grads, missing = make_problem(seed, dtype)
    optimizer = make_optimizer(family, params, kwargs, decay, overrides)
    watch = watch_list(params, seed)
    with trace(optimizer, watch) as tape:
        for step in run(optimizer, params, grads, missing, schedule=decay == "paper"):
            before = [np.array(p)[index] for p, index, *_ in watch]
            optimizer.step()
            recorded = tape.steps[step]
            state = optimizer.state
            labels = [element.label for element in recorded.elements]
            for k, ((p, index, *_), theta_prev) in enumerate(zip(watch, before)):
                label, position = tape.watch[k]["label"], tape.watch[k]["param"]
                if missing[step] == position:
                    assert label not in labels, "a parameter without gradient is skipped, so it is not traced"
                    continue
                element = recorded[label]
                assert element["theta_prev"] == theta_prev
                assert element["theta_t"].dtype == dtype
                assert element["theta_t"] == np.asarray(p)[index], f"{label}: θ_t is not what the kernel wrote"
                for name, key in STATE[family].items():
                    if name in element:
                        assert element[name] == state[p][key][index], f"{label}: {name} ≠ state {key!r}"
                if family == "adam":
                    assert element["t"] == int(state[p]["step"])
                index = tuple(i % n for i, n in zip(index, p.shape))
                assert tape.watch[k]["index"] == list(index)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("family,decay,options", [
    ("adam", "l2", dict(amsgrad=True)), ("adam", "decoupled", dict(maximize=True)), ("adam", "paper", {}),
    ("sgd", "l2", dict(momentum=0.9, nesterov=True)), ("sgd", "decoupled", dict(momentum=0.5, dampening=0.3)),
    ("sgdw", "paper", dict(momentum=0.9)), ("sgdw", "l2", dict(momentum=0.0, maximize=True))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tracing_leaves_the_trajectory_bit_identical(backend, family, decay, options, dtype):
    finals = []
    for traced in (False, True):
        params, grads, missing = make_problem(3, dtype)
        kwargs = dict(lr=0.05, weight_decay=0.1, **options)
        optimizer = make_optimizer(family, params, kwargs, decay, {"lr": 0.02}, backend)
        if traced:
            with trace(optimizer, watch_list(params, 3)) as tape:
                for _ in run(optimizer, params, grads, missing, schedule=decay == "paper"):
                    optimizer.step()
            assert len(tape.steps) == STEPS
        else:
            for _ in run(optimizer, params, grads, missing, schedule=decay == "paper"):
                optimizer.step()
        finals.append(([np.array(p) for p in params], optimizer.state_dict()))
    (theta_a, state_a), (theta_b, state_b) = finals
    for a, b in zip(theta_a, theta_b):
        assert a.tobytes() == b.tobytes()
    for index, entry in state_a["state"].items():
        for key, value in entry.items():
            assert np.asarray(value).tobytes() == np.asarray(state_b["state"][index][key]).tobytes()


def test_the_hooks_are_removed_even_when_the_block_raises():
    p = Parameter(np.ones(2))
    optimizer = AdamW([p])
    with pytest.raises(RuntimeError, match="boom"):
        with trace(optimizer, [(p, 0)]) as tape:
            raise RuntimeError("boom")
    p.grad = ones_like(p)
    optimizer.step()
    assert tape.steps == [], "a step after the block is not recorded"


# ---- the lines are the reference step's, in order, with equations and algorithm lines -------------------------
def adamw_trace(decay="decoupled", weight_decay=0.1, steps=2, dtype=np.float64):
    p = Parameter(np.array([2.0, -1.0], dtype=dtype))
    optimizer = Adam([p], lr=0.1, weight_decay=weight_decay, decay=decay)
    with trace(optimizer, [(p, 0, "a"), (p, 1, "b")]) as tape:
        for _ in range(steps):
            p.grad = tensor([3.0, 0.5], dtype=dtype)
            optimizer.step()
    return tape


def test_adamw_lines_follow_algorithm_2():
    element = adamw_trace().steps[0]["a"]
    assert element.names() == ["t", "theta_prev", "g_t", "m_t", "v_t", "m_hat", "v_hat", "eta_t", "keep", "theta",
                               "theta_t", "decay", "lambda_eff"]
    sources = {line.name: line.source for line in element.lines}
    assert sources["t"] == "Alg. 2, line 4" and sources["m_t"] == "Alg. 2, line 7"
    assert sources["v_hat"] == "Alg. 2, line 10" and sources["theta_t"] == "Alg. 2, line 12"
    assert sources["keep"] == sources["theta"] == "decoupled (torch AdamW form)"
    kinds = [line.kind for line in element.lines]
    assert kinds == ["input", "input"] + ["reference"] * 9 + ["derived", "derived"]
    assert all("←" in line.equation for line in element.lines if line.name != "theta_prev")


def test_adam_l2_has_the_coupled_line_and_no_decoupled_one():
    element = adamw_trace(decay="l2").steps[0]["a"]
    assert element.names()[2:4] == ["g_t", "g_t"]
    assert element.lines[3].equation == "g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}"
    assert element.lines[3].source == "Alg. 2, line 6"
    assert "theta" not in element
    assert element.values("g_t") == [3.0, 3.0 + 0.1 * 2.0]


def test_one_adamw_step_by_hand():
    """Step 2 of AdamW on a constant gradient, computed here with plain floats."""
    element = adamw_trace(steps=2).steps[1]["a"]
    lr, lam, b1, b2, eps, g = 0.1, 0.1, 0.9, 0.999, 1e-8, 3.0
    theta = 2.0 * (1 - lr * lam) - lr * g / (g + eps)             # after step 1: m̂_1 = g, v̂_1 = g²
    m = b1 * (1 - b1) * g + (1 - b1) * g
    v = b2 * (1 - b2) * g * g + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1 ** 2), v / (1 - b2 ** 2)
    expected = dict(t=2, theta_prev=theta, g_t=g, m_t=m, v_t=v, m_hat=m_hat, v_hat=v_hat, eta_t=1.0,
                    keep=1 - lr * lam, theta=theta * (1 - lr * lam), lambda_eff=lr * lam, decay=lr * lam * theta,
                    theta_t=theta * (1 - lr * lam) - lr * m_hat / (v_hat ** 0.5 + eps))
    for name, value in expected.items():
        assert element[name] == pytest.approx(value, rel=1e-14), name


def test_sgd_lines_with_momentum_and_nesterov():
    p = Parameter(np.array([1.0]))
    optimizer = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    with trace(optimizer, [(p, 0)]) as tape:
        for _ in range(2):
            p.grad = tensor(np.array([0.5]))
            optimizer.step()
    first, second = tape.steps[0]["p0[0]"], tape.steps[1]["p0[0]"]
    assert first.names() == ["theta_prev", "g_t", "g_t", "b_t", "g_t", "theta_t", "lambda_theta", "d_t", "decay",
                             "lambda_eff"]
    assert first.t is None, "torch's SGD has no step counter in its math"
    assert first.lines[3].equation == "b_1 ← g_1"
    assert second.lines[3].equation == "b_t ← μ·b_{t−1} + (1 − τ)·g_t"
    assert second.lines[4].equation == "g_t ← g_t + μ·b_t"


def test_no_decay_lines_without_weight_decay():
    element = adamw_trace(decay="l2", weight_decay=0.0).steps[0]["a"]
    assert element.values("g_t") == [3.0] and "lambda_eff" not in element and "decay" not in element
    element = adamw_trace(weight_decay=0.0).steps[0]["a"]
    assert element["theta"] == element["theta_prev"], "the decoupled line runs, multiplying by 1 − lr·0"
    assert "lambda_eff" not in element


def test_the_watched_element_and_labels():
    p, q = Parameter(np.zeros((2, 3))), Parameter(np.zeros(()))
    optimizer = SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    with trace(optimizer, [(p, (1, -1)), (q, ()), (p, (0, 1), "mine")]) as tape:
        p.grad, q.grad = tensor(np.arange(6.0).reshape(2, 3)), tensor(7.0, dtype=np.float64)
        optimizer.step()
    assert [w["label"] for w in tape.watch] == ["p0[1,2]", "p1", "mine"]
    assert tape.watch[0]["index"] == [1, 2] and tape.watch[1]["group"] == 1
    step = tape.steps[0]
    assert step["p0[1,2]"]["g_t"] == 5.0 and step["mine"]["g_t"] == 1.0 and step["p1"]["g_t"] == 7.0
    assert step["p1"].lr == 0.5 and step[0].label == "p0[1,2]"
    with pytest.raises(KeyError, match="m_t"):
        step["p1"]["m_t"]


def test_watch_errors_name_the_problem():
    p, stranger = Parameter(np.zeros((2, 3))), Parameter(np.zeros(2))
    optimizer = Adam([p])
    with pytest.raises(ValueError, match=r"watch\[1\]: the parameter is not in any"):
        with trace(optimizer, [(p, (0, 0)), (stranger, 0)]):
            pass
    with pytest.raises(IndexError, match=r"index \(2, 0\) does not name one element .* shape \(2, 3\)"):
        with trace(optimizer, [(p, (2, 0))]):
            pass
    with pytest.raises(IndexError, match="index"):
        with trace(optimizer, [(p, 1)]):            # one index for a 2-d parameter
            pass
    with pytest.raises(ValueError, match="labels must be unique"):
        with trace(optimizer, [(p, (0, 0), "x"), (p, (1, 1), "x")]):
            pass
    with pytest.raises(TypeError, match=r"\(param, index\)"):
        with trace(optimizer, [p]):
            pass


def test_only_tinyreg_optimizers_are_traced():
    class Other(SGD):
        pass

    p = Parameter(np.zeros(1))
    with trace(Other([p]), [(p, 0)]):               # a subclass runs the same reference step
        pass

    class NotAnOptimizer:
        param_groups, _buffers = [], []

    with pytest.raises(TypeError, match="can trace tinyreg optimizers, not NotAnOptimizer"):
        with trace(NotAnOptimizer(), []):
            pass


# ---- rendering and data -----------------------------------------------------------------------------------------
def test_str_is_an_aligned_table_within_100_columns():
    tape = adamw_trace(decay="l2", steps=2)
    text = str(tape)
    assert all(width(line) <= 100 for line in text.splitlines())
    assert "step 2 · lr = 0.1" in text and "Alg. 2, line 6" in text and "m̂_t ← m_t / (1 − β₁ᵗ)" in text
    rows = [line for line in text.splitlines() if line.startswith("  v̂_t ←")]
    assert len(rows) == 2 and len({line.index("Alg.") for line in rows}) == 1, "columns line up across steps"


def test_many_watched_elements_are_split_into_tables_that_fit():
    p = Parameter(np.linspace(-1, 1, 20).reshape(4, 5))
    optimizer = AdamW([p], lr=0.01, amsgrad=True)
    with trace(optimizer, [(p, (i, j)) for i in range(4) for j in range(5)]) as tape:
        p.grad = ones_like(p)
        optimizer.step()
    text = str(tape)
    assert all(width(line) <= 100 for line in text.splitlines())
    assert text.count("step 1 · lr = 0.01") > 1 and all(f"p0[{i},{j}]" in text for i in range(4) for j in range(5))


def test_skipped_steps_and_groups_are_shown():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(2))
    optimizer = SGDW([{"params": [p]}, {"params": [q], "weight_decay": 0.0}], lr=0.1, momentum=0.9,
                     weight_decay=0.01)
    with trace(optimizer, [(p, 0), (q, 1)]) as tape:
        q.grad = ones_like(q)
        optimizer.step()                        # p has no gradient: skipped
        p.grad = ones_like(p)
        optimizer.step()
    assert [e.label for e in tape.steps[0].elements] == ["p1[1]"]
    assert tape.steps[1]["p0[0]"].t == 1 and tape.steps[1]["p1[1]"].t == 2
    text = str(tape)
    assert "step 1 · group 1" in text and "step 2 · group 0" in text and "SGDW group 1:" in text
    p.grad = q.grad = None
    with trace(optimizer, [(p, 0)]) as empty:
        optimizer.step()
    assert "no watched element had a gradient" in str(empty)


def test_to_dict_and_json_carry_every_value_exactly():
    tape = adamw_trace(decay="l2", dtype=np.float32)
    data = json.loads(tape.to_json())
    assert data["optimizer"] == "Adam" and data["reference"] == "tinyreg.optim.adam.adam_step"
    assert data["groups"][0]["betas"] == [0.9, 0.999] and data["groups"][0]["decay"] == "l2"
    for step, step_data in zip(tape.steps, data["steps"]):
        for element, element_data in zip(step.elements, step_data["elements"]):
            assert [line["name"] for line in element_data["lines"]] == element.names()
            for line, line_data in zip(element.lines, element_data["lines"]):
                assert np.float64(line_data["value"]) == np.float64(line.value)     # float32 fits a double exactly
                assert line_data["equation"] == line.equation and line_data["kind"] == line.kind
    assert isinstance(tape, Trace) and repr(tape) == "<Trace of Adam: 2 steps, watching 2 elements>"


def test_package_exports_the_trace_function():
    import tinyreg.optim

    assert tinyreg.optim.trace is trace_function and tinyreg.optim.effective_decay.__name__ == "effective_decay"


# ---- side by side -------------------------------------------------------------------------------------------------
def two_traces(decay_b="decoupled"):
    tapes = []
    for decay in ("l2", decay_b):
        p = Parameter(np.array([2.0]))
        optimizer = Adam([p], lr=0.1, weight_decay=0.1, decay=decay)
        with trace(optimizer, [(p, 0, "θ")]) as tape:
            p.grad = ones_like(p)
            optimizer.step()
        tapes.append(tape)
    return tapes


def test_align_pairs_lines_by_name_and_marks_what_differs():
    a, b = two_traces()
    rows = align(a.steps[0]["θ"], b.steps[0]["θ"])
    described = [(x and x.name, y and y.name, differs) for x, y, differs in rows]
    assert described == [("t", "t", False), ("theta_prev", "theta_prev", False), ("g_t", "g_t", False),
                         ("g_t", None, True), ("m_t", "m_t", True), ("v_t", "v_t", True), ("m_hat", "m_hat", True),
                         ("v_hat", "v_hat", True), ("eta_t", "eta_t", False), (None, "keep", True),
                         (None, "theta", True), ("theta_t", "theta_t", True), ("lambda_theta", None, True),
                         ("d_t", None, True), ("d_hat", None, True), ("decay", "decay", True),
                         ("lambda_eff", "lambda_eff", True)]
    same = align(a.steps[0]["θ"], a.steps[0]["θ"])
    assert not any(differs for *_, differs in same)


def test_side_by_side_fits_and_marks():
    a, b = two_traces()
    text = side_by_side(a, b, titles=("Adam + L2", "AdamW"))
    lines = text.splitlines()
    assert all(width(line) <= 100 for line in lines)
    assert lines[0].startswith("  Adam + L2") and "│ AdamW" in lines[0]
    marked = [line for line in lines[2:] if line.startswith("≠")]
    assert len(marked) == 13 and all(line.startswith("  ") for line in lines[2:] if line not in marked)
