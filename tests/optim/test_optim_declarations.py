"""What every optimizer gets from its declaration alone: a trace whose lines are its reference step's and whose θ_t
is what the kernel wrote, an ``explain`` run, a ``--compare`` with AdamW, and λ_eff in effective_decay."""

import numpy as np
import pytest

import tinyreg as tr
from tinyreg import explain
from tinyreg.__main__ import main
from tinyreg.optim import OPTIMIZERS
from tinyreg.optim.trace import trace

NAMES = sorted(OPTIMIZERS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("decay", ["l2", "decoupled", "paper"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_trace_records_what_the_kernel_wrote(name, decay, dtype):
    rng = np.random.default_rng(0)
    w = tr.nn.Parameter(rng.standard_normal((3, 2)).astype(dtype))
    optimizer = OPTIMIZERS[name]([w], lr=0.01, weight_decay=0.1, decay=decay)
    watch = [(w, (0, 0)), (w, (2, 1))]
    with trace(optimizer, watch) as tape:
        for _ in range(4):
            w.grad = tr.tensor(rng.standard_normal((3, 2)).astype(dtype))
            optimizer.step()
            for element, (_, index) in zip(tape.steps[-1].elements, watch):
                assert element["theta_t"].tobytes() == np.asarray(w)[index].tobytes()
                assert element["lambda_eff"] is not None
    assert tape.to_dict()["reference"] == f"tinyreg.optim.{optimizer.reference_step.__module__.split('.')[-1]}." \
                                          f"{optimizer.reference_step.__name__}"


@pytest.mark.parametrize("name", NAMES)
def test_explain_and_compare_with_adamw_run_for_every_optimizer(name, capsys):
    assert main(["explain", name, "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert OPTIMIZERS[name].__name__ in out and "θ_t" in out
    assert main(["explain", "--compare", name, "adamw", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "λ_eff" in out and "AdamW" in out


def test_compare_rmsprop_adamw_shows_the_decay_divided_by_avg():
    """Proposition 2 for RMSprop: with coupled decay the steep θ[0] is decayed far less than the flat θ[1]."""
    settings, tapes, names = explain.compare("rmsprop", "adamw", steps=3)
    last = tapes[0].steps[-1]
    steep, flat = last["θ[0]"]["lambda_eff"], last["θ[1]"]["lambda_eff"]
    assert steep < flat / 10
    assert tapes[1].steps[-1]["θ[0]"]["lambda_eff"] == tapes[1].steps[-1]["θ[1]"]["lambda_eff"]


def rmsprop_rate_by_hand(group, state):
    return group["lr"] * group["weight_decay"] / (np.sqrt(state["square_avg"]) + group["eps"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("decay", ["l2", "decoupled", "paper"])
def test_effective_decay_reports_each_optimizers_lambda_eff(name, decay):
    p = tr.nn.Parameter(np.linspace(-1, 1, 4))
    optimizer = OPTIMIZERS[name]([p], lr=0.01, weight_decay=0.1, decay=decay)
    for _ in range(2):
        p.grad = tr.tensor([10.0, 1.0, 0.1, 0.01], dtype=tr.float64)
        optimizer.step()
    report = tr.optim.effective_decay(optimizer)
    rate = report.rates["params[0]"]
    if decay == "decoupled":
        np.testing.assert_array_equal(rate, 0.01 * 0.1)
    elif decay == "paper":
        np.testing.assert_array_equal(rate, 0.1)          # η_t = 1 without a scheduler
    elif name == "rmsprop":
        np.testing.assert_allclose(rate, rmsprop_rate_by_hand(optimizer.param_groups[0], optimizer.state[p]))
    elif name == "lion":
        assert rate is None and "none" in str(report)      # sign(c_t) absorbs λθ: no rate
    elif name in ("adam", "adamw", "nadam", "radam", "rmsprop", "adagrad"):
        assert rate[0] < rate[3], "coupled decay reaches the weight with the large gradients least"
    assert "λ_eff" in report.groups[0]["equation"]
