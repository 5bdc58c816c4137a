"""``python -m tinyreg explain``: the printed traces carry the right equations and numbers (recomputed here with plain
floats), --compare marks exactly the lines that differ, --json is the same data, and every line fits 100 columns."""

import json
import math

import pytest

from tinyreg import explain
from tinyreg.__main__ import main
from tinyreg.optim.trace import width

H, C, START = (10.0, 0.01), (1.0, 1.0), (2.0, 2.0)      # f(θ) = Σ h_i/2·(θ_i − c_i)², as the docstring states


def grad_f(theta):
    return [h * (x - c) for h, x, c in zip(H, theta, C)]


def adam_by_hand(steps, lr=0.1, lam=0.1, b1=0.9, b2=0.999, eps=1e-8, decay="decoupled", grads=None):
    """Per step and element: the values of Algorithm 2's lines (torch's AdamW form when decoupled), and the decay
    that reached θ: θ_{t−1}·lr·λ when decoupled; with L2 the λθ share of m̂_t, divided like m̂_t by √v̂_t + ε."""
    theta, m, v, d, out = list(START), [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], []
    for t in range(1, steps + 1):
        g_f = grads[t - 1] if grads else grad_f(theta)
        row = []
        for i in range(2):
            g = g_f[i] + lam * theta[i] if decay == "l2" else g_f[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            shrunk = theta[i] * (1 - lr * lam) if decay == "decoupled" else theta[i]
            new = shrunk - lr * m_hat / (math.sqrt(v_hat) + eps)
            rate = lr * lam if decay == "decoupled" else lr * lam / (math.sqrt(v_hat) + eps)
            d[i] = b1 * d[i] + (1 - b1) * lam * theta[i]
            d_hat = d[i] / (1 - b1 ** t)
            removed = theta[i] - shrunk if decay == "decoupled" else lr * d_hat / (math.sqrt(v_hat) + eps)
            row.append(dict(t=t, theta_prev=theta[i], grad=g_f[i], g=g, m=m[i], v=v[i], m_hat=m_hat, v_hat=v_hat,
                            keep=1 - lr * lam, theta=shrunk, theta_t=new, rate=rate, decay=removed))
            theta[i] = new
        out.append(row)
    return out


def run_cli(capsys, *argv):
    status = main(["explain", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def step_blocks(text):
    """{step number: [rows]} of a single-optimizer trace."""
    blocks, current = {}, None
    for line in text.splitlines():
        if line.startswith("step "):
            current = blocks.setdefault(int(line.split()[1]), [])
        elif current is not None and line.startswith("  "):
            current.append(line)
    return blocks


def values_of(rows, equation):
    """The numbers printed on the row of ``equation`` (its first occurrence)."""
    for row in rows:
        if row[2:].startswith(equation + " "):
            return [float(x) for x in row[2 + len(equation):].split()[:2]]
    raise AssertionError(f"no row for {equation!r} in\n" + "\n".join(rows))


def assert_fits(text):
    too_wide = [line for line in text.splitlines() if width(line) > 100]
    assert not too_wide, f"{len(too_wide)} lines wider than 100 columns, e.g. {too_wide[0]!r}"


# ---- one optimizer ----------------------------------------------------------------------------------------------
def test_adamw_three_steps_prints_algorithm_2_with_the_right_numbers(capsys):
    status, out, _ = run_cli(capsys, "adamw", "--steps", "3")
    assert status == 0
    assert_fits(out)
    blocks = step_blocks(out)
    assert sorted(blocks) == [1, 2, 3]
    expected = adam_by_hand(3)
    lines = {"t ← t + 1": "t", "θ_{t−1}": "theta_prev", "g_t ← ∇f_t(θ_{t−1})": "grad",
             "m_t ← β₁·m_{t−1} + (1 − β₁)·g_t": "m", "v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²": "v",
             "m̂_t ← m_t / (1 − β₁ᵗ)": "m_hat", "v̂_t ← v_t / (1 − β₂ᵗ)": "v_hat", "keep ← 1 − lr_t·λ": "keep",
             "θ ← θ_{t−1}·keep": "theta", "θ_t ← θ − η_t·α·m̂_t / (√v̂_t + ε)": "theta_t", "λ_eff ← lr·λ": "rate",
             "decay ← θ_{t−1} − θ": "decay"}
    for step, rows in blocks.items():
        for equation, key in lines.items():
            got = values_of(rows, equation)
            want = [expected[step - 1][i][key] for i in range(2)]
            assert got == pytest.approx(want, rel=1e-6), f"step {step}, {equation}"
        assert any("Alg. 2, line 7" in row for row in rows) and any("Alg. 2, line 12" in row for row in rows)
        assert not any("Alg. 2, line 6" in row for row in rows), "AdamW has no coupled line"


def test_adam_trace_shows_the_coupled_line(capsys):
    status, out, _ = run_cli(capsys, "adam", "--steps", "2", "--lr", "0.05", "--wd", "0.2", "--betas", "0.8", "0.99")
    assert status == 0
    assert_fits(out)
    expected = adam_by_hand(2, lr=0.05, lam=0.2, b1=0.8, b2=0.99, decay="l2")
    for step, rows in step_blocks(out).items():
        assert values_of(rows, "g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}") == pytest.approx(
            [expected[step - 1][i]["g"] for i in range(2)], rel=1e-6)
        assert values_of(rows, "λ_eff ← lr·λ / (√v̂_t + ε)") == pytest.approx(
            [expected[step - 1][i]["rate"] for i in range(2)], rel=1e-6)
        assert values_of(rows, "θ_t ← θ − η_t·α·m̂_t / (√v̂_t + ε)") == pytest.approx(
            [expected[step - 1][i]["theta_t"] for i in range(2)], rel=1e-6)
        assert values_of(rows, "decay ← lr·d̂_t / (√v̂_t + ε)") == pytest.approx(
            [expected[step - 1][i]["decay"] for i in range(2)], rel=1e-6)


@pytest.mark.parametrize("argv", [["sgd", "--nesterov"], ["sgd", "--momentum", "0"], ["sgdw"], ["adam", "--amsgrad"],
                                  ["adamw", "--dtype", "float32", "--maximize"], ["sgd", "--dampening", "0.5"],
                                  ["adamw", "--decay", "paper", "--wd", "0.01"]])
def test_every_optimizer_and_option_prints_a_fitting_trace(capsys, argv):
    status, out, _ = run_cli(capsys, *argv, "--steps", "2")
    assert status == 0
    assert_fits(out)
    assert sorted(step_blocks(out)) == [1, 2] and "θ_t ←" in out


def test_sgd_momentum_lines(capsys):
    _, out, _ = run_cli(capsys, "sgd", "--steps", "2", "--momentum", "0.9", "--wd", "0.1", "--lr", "0.1")
    blocks = step_blocks(out)
    theta, b = list(START), [0.0, 0.0]
    for step in (1, 2):
        g = [gf + 0.1 * x for gf, x in zip(grad_f(theta), theta)]
        b = g if step == 1 else [0.9 * bi + gi for bi, gi in zip(b, g)]
        equation = "b_1 ← g_1" if step == 1 else "b_t ← μ·b_{t−1} + (1 − τ)·g_t"
        assert values_of(blocks[step], equation) == pytest.approx(b, rel=1e-6)
        theta = [x - 0.1 * bi for x, bi in zip(theta, b)]
        assert values_of(blocks[step], "θ_t ← θ − γ·g_t") == pytest.approx(theta, rel=1e-6)


def test_param_chooses_the_watched_element(capsys):
    _, out, _ = run_cli(capsys, "adamw", "--steps", "1", "--param", "1")
    assert "θ[1]" in out and "θ[0]" not in out.split("\n\n", 2)[-1]


def test_json_is_the_same_trace(capsys):
    status, out, _ = run_cli(capsys, "adamw", "--steps", "2", "--json")
    assert status == 0
    data = json.loads(out)
    assert data["problem"]["curvature"] == list(H) and data["trace"]["optimizer"] == "AdamW"
    expected = adam_by_hand(2)
    for step, step_data in enumerate(data["trace"]["steps"]):
        for i, element in enumerate(step_data["elements"]):
            values = {line["name"]: line["value"] for line in element["lines"]}
            assert values["theta_t"] == pytest.approx(expected[step][i]["theta_t"], rel=1e-12)
            assert values["v_hat"] == pytest.approx(expected[step][i]["v_hat"], rel=1e-12)


# ---- two optimizers side by side ---------------------------------------------------------------------------------
def compare_rows(text):
    """{(step, label): [(mark, left_equation, right_equation)]} from the side-by-side table."""
    rows, current = {}, None
    for line in text.splitlines():
        if line.startswith("━━ step"):
            _, _, step, _, label, *_ = line.split()
            current = rows.setdefault((int(step), label), [])
        elif current is not None and "│" in line:
            left, right = line[2:].split("│")
            current.append((line[:2].strip(), " ".join(left.split()[:-1]), " ".join(right.split()[:-1])))
        elif not line.strip():
            current = None
    return rows


def test_compare_adam_adamw_marks_exactly_the_lines_that_differ(capsys):
    status, out, _ = run_cli(capsys, "--compare", "adam", "adamw", "--steps", "2")
    assert status == 0
    assert_fits(out)
    rows = compare_rows(out)
    assert sorted(rows) == [(1, "θ[0]"), (1, "θ[1]"), (2, "θ[0]"), (2, "θ[1]")]
    same_gradient_and_schedule = {"t ← t + 1", "g_t ← ∇f_t(θ_{t−1})", "η_t ← SetScheduleMultiplier(t)"}
    for (step, label), table in rows.items():
        for mark, left, right in table:
            equation = left or right
            if equation in same_gradient_and_schedule or (equation == "θ_{t−1}" and step == 1):
                assert mark == "", f"step {step} {label}: {equation} is the same on both sides"
            elif equation.startswith(("decay ←", "λ_eff ←")):
                assert mark == "≠", "Adam + L2 divides the decay by √v̂_t + ε: a different number"
            else:
                assert mark == "≠", f"step {step} {label}: {equation} should differ"
        left_only = [left for mark, left, right in table if not right]
        right_only = [right for mark, left, right in table if not left]
        assert left_only == ["g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}", "λθ ← λ·θ_{t−1}", "d_t ← β₁·d_{t−1} + (1 − β₁)·λθ",
                             "d̂_t ← d_t / (1 − β₁ᵗ)"]
        assert right_only == ["keep ← 1 − lr_t·λ", "θ ← θ_{t−1}·keep"]


def test_compare_prints_both_traces_numbers_on_identical_gradients(capsys):
    _, out, _ = run_cli(capsys, "--compare", "adam", "adamw", "--steps", "2", "--json")
    data = json.loads(out)
    adam = adam_by_hand(2, decay="l2")
    adamw = adam_by_hand(2, grads=[[adam[s][i]["grad"] for i in range(2)] for s in range(2)])
    for trace, expected in zip(data["traces"], (adam, adamw)):
        for step, step_data in enumerate(trace["steps"]):
            for i, element in enumerate(step_data["elements"]):
                values = {line["name"]: line["value"] for line in element["lines"]}
                assert values["theta_t"] == pytest.approx(expected[step][i]["theta_t"], rel=1e-12)
                assert values["lambda_eff"] == pytest.approx(expected[step][i]["rate"], rel=1e-12)
                assert values["decay"] == pytest.approx(expected[step][i]["decay"], rel=1e-12)
    rows = data["aligned"][0]["rows"]
    assert [row["differs"] for row in rows if row["a"] and row["a"]["name"] == "g_t"] == [False, True]


def test_compare_sgd_sgdw_without_momentum_is_proposition_1(capsys):
    """SGD with L2 λ and SGDW with λ' = lr·λ (its default here): the same θ_t by different equations (~)."""
    _, out, _ = run_cli(capsys, "--compare", "sgd", "sgdw", "--momentum", "0", "--steps", "2")
    assert_fits(out)
    theta = list(START)
    for step in (1, 2):
        sgd = [x - 0.1 * (g + 0.1 * x) for g, x in zip(grad_f(theta), theta)]
        sgdw = [x * (1 - 0.01) - 0.1 * g for g, x in zip(grad_f(theta), theta)]
        assert sgd == pytest.approx(sgdw, rel=1e-14)
        theta = sgd
    for (step, label), table in compare_rows(out).items():
        marks = {(left or right): mark for mark, left, right in table}
        assert marks["θ_t ← θ − γ·g_t"] == "~"
        assert marks["λ_eff ← γ·λ"] == "~" and marks["decay ← γ·λ·θ_{t−1}"] == "~"
        assert marks["g_t ← g_t + λ·θ_{t−1}"] == "≠" and marks["keep ← 1 − η_t·λ"] == "≠"
    assert "SGD 0.01" in out and "SGDW 0.01" in out and "×" not in out.split("Decay at step")[1]


def summary_rows(text):
    """{(label, "decay" | "λ_eff"): the rest of the row} from the decay summary after the side-by-side table."""
    rows, label = {}, None
    for line in text.split("Decay at step")[1].splitlines()[2:]:
        words = line.split()
        if words[0] not in ("decay", "λ_eff"):
            label, words = words[0], words[1:]
        rows[(label, words[0])] = " ".join(words[1:])
    return rows


def test_compare_sgd_sgdw_with_momentum_shows_the_decay_each_step_removed(capsys):
    """On step 1 SGD's buffer is b_1 = g_1, so its L2 term removes γλθ_0 = 0.02, exactly SGDW's η_tλ'θ_0: no "more".
    On step 2 the buffer still holds μ·λθ_0: SGD removes γ(μλθ_0 + λθ_1), SGDW λ'θ_1. λ_eff, where each decay is
    heading, is γλ/(1 − μ) = 0.1 against 0.01 from the start."""
    lam, lr, mu, lam_paper = 0.1, 0.1, 0.9, 0.01
    for steps in (1, 2):
        _, out, _ = run_cli(capsys, "--compare", "sgd", "sgdw", "--steps", str(steps))
        assert_fits(out)
        theta0 = list(START)
        theta1 = [x - lr * (g + lam * x) for g, x in zip(grad_f(theta0), theta0)]     # b_1 = g_1 + λθ_0
        rows = summary_rows(out)
        for i, label in enumerate(("θ[0]", "θ[1]")):
            if steps == 1:
                sgd, sgdw = lr * lam * theta0[i], lam_paper * theta0[i]
            else:
                sgd, sgdw = lr * (mu * lam * theta0[i] + lam * theta1[i]), lam_paper * theta1[i]
            words = rows[(label, "decay")].split()
            assert [words[0], words[2]] == ["SGD", "SGDW"]
            assert [float(words[1]), float(words[3])] == pytest.approx([sgd, sgdw], rel=1e-6)
            assert ("×" in rows[(label, "decay")]) == (steps == 2), "equal decay on step 1: no ratio"
            assert rows[(label, "λ_eff")].split()[1::2][:2] == ["0.1", "0.01"]
            assert rows[(label, "λ_eff")].endswith("→ SGD 10× more")


def test_compare_torch_and_paper_conventions_per_side(capsys):
    """λ_paper = α·λ_torch at α = 0.1; at lr = 0.05 torch's decay halves (lr·λ) while the paper's stays η_t·λ."""
    _, out, _ = run_cli(capsys, "--compare", "adamw", "adamw", "--decay", "decoupled", "paper", "--wd", "0.1",
                        "0.01", "--lr", "0.05", "--steps", "1", "--param", "0")
    assert_fits(out)
    marks = {(left or right): (mark, left, right) for mark, left, right in compare_rows(out)[(1, "θ[0]")]}
    assert marks["keep ← 1 − lr_t·λ"] == ("≠", "keep ← 1 − lr_t·λ", "keep ← 1 − η_t·λ")
    assert marks["θ ← θ_{t−1}·keep"][0] == "≠"
    assert "AdamW/decoupled 0.005" in out and "AdamW/paper 0.01" in out and "2× less" in out
    row = next(line for line in out.splitlines() if "λ_eff ← lr·λ" in line)
    assert [float(side.split()[-1]) for side in row[2:].split("│")] == pytest.approx([0.05 * 0.1, 0.01])


def test_compare_text_for_the_tour():
    text = explain.compare_text("adam", "adamw", steps=1)
    assert_fits(text)
    assert "≠ g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}" in text and "→ Adam 10.2× less" in text


# ---- errors -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,message", [
    ([], "give one optimizer"), (["adam", "--compare", "adam", "adamw"], "give one optimizer"),
    (["adam", "--wd", "0.1", "0.2"], "--wd takes one value"), (["adam", "--steps", "0"], "at least 1"),
    (["adam", "--decay", "l2", "paper"], "--decay takes one value"),
    (["adam", "--lr", "-1"], "Invalid learning rate: -1.0"),
    (["sgd", "--nesterov", "--momentum", "0"], "Nesterov momentum requires a momentum")])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and message in err and out == ""


def test_unknown_optimizer_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "adadelta"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
