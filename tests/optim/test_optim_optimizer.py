"""The Optimizer API: param groups, validation with torch's messages, atomic steps, flat buffers and rebinding,
missing gradients, zero_grad, state_dict in torch's layout, and save/resume bit for bit."""

import numpy as np
import pytest

import tinyreg as tr
from tests.helpers import import_torch
from tinyreg.optim import backends, kernels

OPTIMIZERS = [tr.optim.SGD, tr.optim.SGDW, tr.optim.Adam, tr.optim.AdamW]


def params(*shapes, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [tr.nn.Parameter(rng.standard_normal(shape).astype(dtype)) for shape in shapes]


def give_grads(ps, seed=1):
    rng = np.random.default_rng(seed)
    for p in ps:
        p.grad = tr.tensor(rng.standard_normal(p.shape).astype(p.dtype))


def snapshot(ps):
    return [np.array(p) for p in ps]


# ---- groups --------------------------------------------------------------------------------------------------
def test_param_groups_take_defaults_and_overrides():
    a, b = params((2,), (3,))
    opt = tr.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1, "betas": (0.5, 0.9)}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]
    assert opt.param_groups[1]["betas"] == (0.5, 0.9) and opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt.param_groups[0]["params"] == [a] and opt.defaults["lr"] == 0.01
    c, = params((4,))
    opt.add_param_group({"params": c, "weight_decay": 0.5})
    assert opt.param_groups[2]["weight_decay"] == 0.5 and opt.param_groups[2]["params"] == [c]
    give_grads([a, b, c])
    before = snapshot([a, b, c])
    opt.step()
    assert all(np.all(np.asarray(p) != x) for p, x in zip([a, b, c], before))


def test_group_errors_follow_torch():
    a, b = params((2,), (3,))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        tr.optim.SGD([{"params": [a]}, {"params": [a, b]}])
    with pytest.raises(ValueError, match="empty parameter list"):
        tr.optim.SGD([])
    with pytest.raises(TypeError, match="ordered collections"):
        tr.optim.SGD([{"params": {a, b}}])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        tr.optim.SGD(a)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        tr.optim.SGD([np.ones(2)])
    with pytest.raises(ValueError, match="duplicate parameters"):
        tr.optim.SGD([a, a])
    with pytest.raises(TypeError, match="float32 and float64"):
        tr.optim.SGD([tr.tensor([1, 2])])


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=-1.0)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1e-3)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1e-3)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.1)), ("AdamW", dict(betas=(0.9, 1.0))),
    ("Adam", dict(lr=float("nan"))),
])
def test_bad_hyperparameters_raise_torch_messages(name, kwargs):
    torch = import_torch()
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(tr.optim, name)(params((2,)), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_tinyreg_only_arguments_are_validated():
    with pytest.raises(ValueError, match="Invalid decay convention: 'l1'"):
        tr.optim.Adam(params((2,)), decay="l1")
    with pytest.raises(ValueError, match="Invalid backend: 'cuda'"):
        tr.optim.Adam(params((2,)), backend="cuda")
    with pytest.raises(ValueError, match="needs an initial lr > 0"):
        tr.optim.AdamW(params((2,)), lr=0.0, decay="paper")
    with pytest.raises(ValueError, match="Invalid momentum value: 1.0"):
        tr.optim.SGDW(params((2,)), momentum=1.0)


# ---- atomic steps --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_data, error", [
    ((3, 2), "different size"), ((6,), "different size"), ((2, 3), "different type"),
])
@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_bad_rebinding_changes_nothing(cls, bad_data, error):
    a, b, c = params((4,), (2, 3), (5,))
    opt = cls([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1, momentum=0.9) if "SGD" in cls.__name__ \
        else cls([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    give_grads([a, b, c])
    opt.step()                                     # some state to protect
    give_grads([a, b, c], seed=2)
    # torch lets .data take any shape and dtype (a .grad is checked when assigned); a flat buffer cannot take them
    b.data = tr.ones(bad_data, dtype=tr.float64 if error == "different type" else tr.float32)
    before, state = snapshot([a, b, c]), opt.state_dict()
    with pytest.raises((RuntimeError, TypeError), match=error) as info:
        opt.step()
    assert "param_groups[1]['params'][0]" in str(info.value)
    assert all(np.array_equal(np.asarray(p), x) for p, x in zip([a, b, c], before))
    after = opt.state_dict()
    for index, entry in state["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(after["state"][index][key], value)


def test_a_bad_hyperparameter_set_later_changes_nothing():
    a, b = params((3,), (2,))
    opt = tr.optim.Adam([{"params": [a]}, {"params": [b]}])
    give_grads([a, b])
    opt.param_groups[1]["betas"] = (0.9, 1.5)
    before = snapshot([a, b])
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.5"):
        opt.step()
    assert all(np.array_equal(np.asarray(p), x) for p, x in zip([a, b], before))


# ---- flat buffers and rebinding ------------------------------------------------------------------------------
def test_parameters_become_views_of_one_buffer_per_group_and_dtype():
    a, b = params((2, 3), (4,))
    c, = params((5,), dtype=np.float64)
    values = snapshot([a, b, c])
    opt = tr.optim.Adam([a, b, c])
    (buffer32, buffer64), = opt._buffers
    assert all(np.asarray(p).base is buffer.theta for p, buffer in ((a, buffer32), (b, buffer32), (c, buffer64)))
    assert all(np.array_equal(np.asarray(p), v) for p, v in zip([a, b, c], values))
    give_grads([a, b, c])
    opt.step()
    assert np.asarray(a.grad).base is buffer32.grad and np.asarray(c.grad).base is buffer64.grad   # adopted


def test_backward_accumulates_into_the_gradient_views():
    w, = params((3,))
    opt = tr.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    view = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is view and np.all(view == 0)
    (w * w).sum().backward()
    assert w.grad is view                          # the engine added in place: no copy next step
    np.testing.assert_allclose(w.grad, 2 * np.asarray(w))


def test_rebinding_data_is_noticed():
    torch = import_torch()
    a, b = params((3,), (2,))
    opt = tr.optim.Adam([a, b], lr=0.1)
    ta, tb = (torch.tensor(np.array(p), requires_grad=True) for p in (a, b))
    t_opt = torch.optim.Adam([ta, tb], lr=0.1)
    for step in range(3):
        if step == 1:
            new = np.array([5.0, -1.0, 2.0], np.float32)
            a.data = tr.tensor(new)                 # e.g. loading weights by assignment
            ta.data = torch.tensor(new)
        give_grads([a, b], seed=step)
        ta.grad, tb.grad = torch.tensor(np.array(a.grad)), torch.tensor(np.array(b.grad))
        opt.step()
        t_opt.step()
    np.testing.assert_allclose(np.asarray(a), ta.detach().numpy(), rtol=1e-6)
    assert np.asarray(a).base is opt._buffers[0][0].theta
    with pytest.raises(RuntimeError, match="different size"):
        a.data = tr.zeros(4)
        opt.step()


def test_parameters_without_gradient_are_skipped_like_torch():
    a, b, c = params((3,), (2,), (4,))
    opt = tr.optim.Adam([a, b, c], lr=0.1)
    give_grads([a, b, c])
    opt.step()
    give_grads([a, c], seed=3)
    b.grad = None
    before_b = np.array(b)
    opt.step()
    np.testing.assert_array_equal(np.asarray(b), before_b)
    assert [float(opt.state[p]["step"]) for p in (a, b, c)] == [2.0, 1.0, 2.0]
    opt.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in (a, b, c))


@pytest.mark.parametrize("backend", backends.BACKENDS)
def test_sgd_momentum_switched_off_mid_training_like_torch(backend):
    torch = import_torch()
    ours = params((3,))
    theirs = [torch.tensor(np.array(ours[0]), requires_grad=True)]
    o_opt = tr.optim.SGD(ours, lr=0.1, momentum=0.9, backend=backend)
    t_opt = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
    for step in range(4):
        if step == 2:
            o_opt.param_groups[0]["momentum"] = t_opt.param_groups[0]["momentum"] = 0.0
        give_grads(ours, seed=step)
        theirs[0].grad = torch.tensor(np.array(ours[0].grad))
        o_opt.step(), t_opt.step()
    np.testing.assert_array_equal(np.asarray(ours[0]), theirs[0].detach().numpy())


@pytest.mark.parametrize("name", sorted(tr.optim.OPTIMIZERS))
def test_a_step_counts_one_write_of_each_parameter_it_updates(name):
    """Like torch's in-place updates: a graph that saved a parameter before step() refuses to backward; a parameter
    the step skips (no gradient) is not written, so a graph that saved only it still backwards."""
    a, b = params((3,), (2,))
    opt = tr.optim.OPTIMIZERS[name]([a, b], lr=0.1)
    give_grads([a])
    saved_a, saved_b = (a * a).sum(), (b * b).sum()
    opt.step()
    assert (a._version, b._version) == (1, 0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved_a.backward()
    saved_b.backward()
    np.testing.assert_array_equal(np.asarray(b.grad), 2 * np.asarray(b))


@pytest.mark.parametrize("adopted", [True, False])
def test_zero_grad_keeping_the_tensors_zeroes_them_in_place_like_torch(adopted):
    """set_to_none=False: the same .grad Tensor, zeroed, one write counted (torch's grad.zero_()), whether it is
    still the flat buffer's view (one fill) or a Tensor assigned since the last step."""
    torch = import_torch()
    a, = params((3,))
    ta = torch.tensor(np.array(a), requires_grad=True)
    opt, t_opt = tr.optim.SGD([a], lr=0.1), torch.optim.SGD([ta], lr=0.1)
    give_grads([a])
    opt.step()
    if not adopted:
        give_grads([a], seed=2)
    ta.grad = torch.tensor(np.array(a.grad))
    grad, version, t_grad, t_version = a.grad, a.grad._version, ta.grad, ta.grad._version
    opt.zero_grad(set_to_none=False)
    t_opt.zero_grad(set_to_none=False)
    assert a.grad is grad and np.all(np.asarray(grad) == 0) and ta.grad is t_grad
    assert grad._version - version == ta.grad._version - t_version == 1


def test_zero_grad_semantics():
    a, b = params((3,), (2,))
    opt = tr.optim.SGD([a, b], lr=0.1)
    give_grads([a])
    opt.zero_grad(set_to_none=False)
    assert np.all(a.grad == 0) and b.grad is None   # only existing gradients are zeroed
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_the_loss():
    w, = params((3,))
    opt = tr.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() > 0 and np.all(w.grad != 0)


# ---- backends ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", [(tr.optim.SGD, dict(momentum=0.9, nesterov=True, weight_decay=0.1)),
                                         (tr.optim.SGDW, dict(momentum=0.9, weight_decay=0.01)),
                                         (tr.optim.Adam, dict(amsgrad=True, weight_decay=0.1)),
                                         (tr.optim.AdamW, dict(decay="paper", weight_decay=1e-3))])
def test_numpy_numba_and_parallel_backends_agree_bit_for_bit(cls, kwargs, monkeypatch):
    monkeypatch.setattr(kernels, "PARALLEL_MIN_SIZE", 0)
    monkeypatch.setattr(backends, "CHUNK", 5)             # the NumPy backend's chunks split parameters
    runs = []
    for backend, parallel in (("numpy", False), ("numba", False), ("numba", True)):
        ps = params((3, 4), (5,)) + params((2,), dtype=np.float64)
        opt = cls([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], lr=0.1, backend=backend,
                  parallel=parallel, **kwargs)
        for step in range(5):
            give_grads(ps, seed=step)
            opt.step()
        runs.append(snapshot(ps))
    for other in runs[1:]:
        for x, y in zip(runs[0], other):
            np.testing.assert_array_equal(x, y)


def test_default_backend_switch():
    assert backends.get_default_backend() == "numba"
    tr.optim.set_default_backend("numpy")
    try:
        assert tr.optim.SGD(params((2,))).backend == "numpy"
        assert tr.optim.SGD(params((2,)), backend="numba").backend == "numba"
    finally:
        tr.optim.set_default_backend("numba")
    with pytest.raises(ValueError, match="Invalid backend"):
        tr.optim.set_default_backend("jax")


# ---- state dicts ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [("SGD", dict(momentum=0.9)), ("SGD", dict()),
                                          ("Adam", dict(amsgrad=True)), ("AdamW", dict())])
def test_state_dict_has_torch_layout(name, kwargs):
    torch = import_torch()
    ours = params((3,), (2, 2), (4,))
    theirs = [torch.tensor(np.array(p), requires_grad=True) for p in ours]
    o_opt = getattr(tr.optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.5}], lr=0.1, **kwargs)
    t_opt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.5}], lr=0.1, **kwargs)
    give_grads(ours)
    ours[1].grad = None                                 # a parameter without state
    for o, t in zip(ours, theirs):
        t.grad = None if o.grad is None else torch.tensor(np.array(o.grad))
    o_opt.step()
    t_opt.step()
    o_sd, t_sd = o_opt.state_dict(), t_opt.state_dict()
    assert o_sd["state"].keys() == t_sd["state"].keys()
    for index, entry in t_sd["state"].items():
        assert list(o_sd["state"][index]) == list(entry)
        for key, value in entry.items():
            np.testing.assert_allclose(o_sd["state"][index][key], value.numpy(), rtol=1e-6)
    for o_group, t_group in zip(o_sd["param_groups"], t_sd["param_groups"]):
        assert o_group["params"] == t_group["params"]
        assert {k: v for k, v in o_group.items() if k in t_group} == \
               {k: v for k, v in t_group.items() if k in o_group}
        assert set(o_group) - set(t_group) == {"decay"}


@pytest.mark.parametrize("cls, kwargs", [(tr.optim.SGD, dict(momentum=0.9, dampening=0.1)),
                                         (tr.optim.SGDW, dict(momentum=0.9, weight_decay=0.01)),
                                         (tr.optim.Adam, dict(amsgrad=True, weight_decay=0.1)),
                                         (tr.optim.AdamW, dict(decay="paper", weight_decay=1e-3))])
def test_save_and_resume_continue_bit_for_bit(cls, kwargs, tmp_path):
    def make(ps):
        return cls([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}], lr=0.1, **kwargs)

    ps = params((3,), (2, 2)) + params((4,), dtype=np.float64)
    opt = make(ps)
    for step in range(10):
        give_grads(ps, seed=step)
        if step == 3:
            ps[2].grad = None                           # uneven step counts must survive the round trip
        opt.step()
    tr.save({"params": snapshot(ps), "optimizer": opt.state_dict()}, tmp_path / "checkpoint.npz")
    for step in range(10, 20):
        give_grads(ps, seed=step)
        opt.step()
    expected = snapshot(ps)

    checkpoint = tr.load(tmp_path / "checkpoint.npz")
    resumed = [tr.nn.Parameter(v) for v in checkpoint["params"]]
    opt = make(resumed)
    opt.load_state_dict(checkpoint["optimizer"])
    for step in range(10, 20):
        give_grads(resumed, seed=step)
        opt.step()
    for x, y in zip(snapshot(resumed), expected):
        np.testing.assert_array_equal(x, y)


def test_load_state_dict_validates_before_changing_anything():
    a, b = params((3,), (2,))
    opt = tr.optim.Adam([a, b], lr=0.1)
    give_grads([a, b])
    opt.step()
    good = opt.state_dict()
    other = tr.optim.Adam(params((3,), (2,)), lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict({"state": {}, "param_groups": good["param_groups"] * 2})
    with pytest.raises(ValueError, match="doesn't match the size"):
        tr.optim.Adam(params((3,))).load_state_dict(good)
    bad = opt.state_dict()
    bad["state"][1]["exp_avg"] = np.zeros(5, np.float32)
    bad["param_groups"][0]["lr"] = 0.5
    with pytest.raises(ValueError, match="has shape"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[b]["exp_avg"], good["state"][1]["exp_avg"])


@pytest.mark.parametrize("bad_step", ["abc", -1, 0, 2.5, float("nan"), np.array([3.0]), True])
def test_a_bad_step_is_rejected_before_anything_changes(bad_step):
    """All or nothing: the bad step sits in the *last* parameter's state, after valid state and new hyperparameters
    that a load applying as it validates would already have written."""
    a, b = params((3,), (2,))
    opt = tr.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=0.1, weight_decay=0.01)
    for seed in range(3):
        give_grads([a, b], seed)
        opt.step()
    before = opt.state_dict()
    donor = tr.optim.Adam([{"params": params((3,))}, {"params": params((2,))}], lr=0.5, amsgrad=True)
    give_grads([p for group in donor.param_groups for p in group["params"]], seed=9)
    donor.step()
    bad = donor.state_dict()
    bad["state"][1]["step"] = bad_step
    with pytest.raises(ValueError, match=r"parameter 1: 'step' must be a whole number >= 1"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"].keys() == before["state"].keys()
    for index, entry in before["state"].items():
        assert list(after["state"][index]) == list(entry)
        for name, value in entry.items():
            assert after["state"][index][name].tobytes() == value.tobytes(), f"state[{index}][{name!r}] changed"
    assert "max_exp_avg_sq" not in opt._buffers[0][0].state, "no state array allocated by the rejected load"


def test_load_state_dict_keeps_missing_keys_and_maps_torchs_decay_flag():
    p = params((3,))
    opt = tr.optim.AdamW(p, lr=0.1, weight_decay=0.01, decay="paper")
    saved = opt.state_dict()
    group = saved["param_groups"][0]
    del group["decay"], group["weight_decay"]
    group.update(decoupled_weight_decay=False, foreach=None, fused=None, capturable=False, differentiable=False)
    opt.load_state_dict(saved)
    loaded = opt.param_groups[0]
    assert loaded["decay"] == "l2" and loaded["weight_decay"] == 0.01 and loaded["initial_lr"] == 0.1
    assert not set(loaded) & set(tr.optim.optimizer.TORCH_ONLY_KEYS)
    group["decay"] = "paper"            # a tinyreg key wins over torch's flag
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["decay"] == "paper"


def test_state_is_keyed_by_parameter_like_torch():
    a, b = params((3,), (2,))
    opt = tr.optim.AdamW([a, b])
    assert opt.state == {}
    give_grads([a, b])
    opt.step()
    assert set(opt.state) == {a, b}
    assert list(opt.state[a]) == ["step", "exp_avg", "exp_avg_sq"]
    assert "Parameter Group 0" in repr(opt) and "decay: decoupled" in repr(opt)
