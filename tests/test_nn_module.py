"""nn.Module and the containers: registration, torch's names and order, modes, zero_grad, apply, repr, state dicts."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import tinyreg as tr
from tests.helpers import assert_close, import_torch
from tinyreg import nn


def build(lib):
    """The same nested model in tinyreg (lib=nn) or torch (lib=torch.nn): a custom module with a ModuleList, an
    own parameter registered between submodules, a Sequential inside, a shared (tied) layer and a bias-free layer."""

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.Linear(3, 4)
            self.scale = lib.Parameter(np.ones(4, dtype=np.float32) if lib is nn else
                                       import_torch().ones(4))
            self.linears = lib.ModuleList([lib.Linear(4, 4), lib.Linear(4, 4, bias=False)])
            self.head = lib.Sequential(lib.LayerNorm(4), lib.ReLU(), lib.Dropout(0.25), lib.Linear(4, 2))
            self.tied = self.linears[0]  # the same module reachable under two names
            self.plain_number = 3        # not registered

        def forward(self, x):
            x = self.embed(x) * self.scale
            for layer in self.linears:
                x = layer(x)
            return self.head(self.tied(x))

    return Net()


def torch_state_as_numpy(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def test_names_and_order_match_torch():
    torch = import_torch()
    ours, theirs = build(nn), build(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # includes the tied layer's second name
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.head.named_parameters(prefix="head")] == ["head.0.weight", "head.0.bias",
                                                                         "head.3.weight", "head.3.bias"]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 10


def test_repr_matches_torch():
    torch = import_torch()
    assert repr(build(nn)) == repr(build(torch.nn))
    for ours, theirs in [(nn.Flatten(), torch.nn.Flatten()), (nn.Identity(), torch.nn.Identity()),
                         (nn.Tanh(), torch.nn.Tanh()), (nn.Sigmoid(), torch.nn.Sigmoid()),
                         (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
                         (nn.LayerNorm((2, 3), elementwise_affine=False), torch.nn.LayerNorm((2, 3), elementwise_affine=False)),
                         (nn.MSELoss(), torch.nn.MSELoss()), (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss())]:
        assert repr(ours) == repr(theirs)


def test_the_issue_models_run_and_give_torchs_outputs_from_exported_weights():
    torch = import_torch()
    for make in (lambda lib: lib.Sequential(lib.Linear(2, 20), lib.LayerNorm(20), lib.Linear(20, 20),
                                            lib.LayerNorm(20), lib.Linear(20, 1)),
                 lambda lib: lib.Sequential(lib.Flatten(), lib.Linear(784, 256), lib.ReLU(), lib.Dropout(0.3),
                                            lib.Linear(256, 128), lib.ReLU(), lib.Dropout(0.5), lib.Linear(128, 10))):
        theirs, ours = make(torch.nn).eval(), make(nn).eval()
        in_features = theirs[0].in_features if isinstance(theirs[0], torch.nn.Linear) else 784
        x = np.random.default_rng(0).standard_normal((5, 1, 28, 28) if in_features == 784 else (5, 2))
        x = x.astype(np.float32)
        ours.load_state_dict(torch_state_as_numpy(theirs))
        assert_close(ours(tr.tensor(x)), theirs(torch.from_numpy(x)))


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(np.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.note = "not registered"
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"] and "note" in m.__dict__
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = tr.zeros(2)  # a plain tensor where a parameter lives: torch refuses too
    m.w = None
    assert list(m.parameters()) == list(m.sub.parameters())
    m.sub = nn.Parameter(np.ones(1))  # a parameter replaces the module of the same name
    assert "sub" not in m._modules and m.sub.shape == (1,)
    del m.sub
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub
    with pytest.raises(KeyError, match='contain "\\."'):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="already exists"):
        m.add_module("forward", nn.Identity())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.ModuleList([nn.Identity()])(1)


def test_train_eval_propagate_and_apply_visits_children_first():
    model = build(nn)
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.head.train()
    assert model.head[2].training and not model.training
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")
    visited = []
    model.head.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["LayerNorm", "ReLU", "Dropout", "Linear", "Sequential"]


def test_zero_grad_drops_or_zeroes_in_place():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    model(tr.randn(4, 3)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not np.asarray(g).any() for p, g in zip(model.parameters(), grads))  # same, zeroed
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_sequential_and_modulelist_behave_like_lists():
    torch = import_torch()
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[-1] is layers[2]
    assert list(seq[1:]._modules) == list(torch.nn.Sequential(*[torch.nn.ReLU()] * 3)[1:]._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh) and len(seq.append(nn.Identity())) == 4
    mlist = nn.ModuleList(layers)
    assert list(mlist[::2]._modules) == ["0", "1"] and mlist[-1] is layers[2]
    mlist.extend([nn.Sigmoid()])
    assert [n for n, _ in mlist.named_modules()][-1] == "3"
    x = tr.randn(5, 2)
    assert_close(seq(x), layers[2](tr.tanh(layers[0](x))))


def test_deepcopy_gives_an_independent_model():
    model = build(nn)
    clone = copy.deepcopy(model)
    assert list(clone.state_dict()) == list(model.state_dict())
    clone.embed.weight.data[...] = 0
    assert np.asarray(model.embed.weight).any()
    assert clone.tied is clone.linears[0]  # sharing is preserved inside the copy


# ---- state dicts ---------------------------------------------------------------------------------------------------
def test_state_dict_shares_memory_and_round_trips_into_a_fresh_model():
    tr.manual_seed(0)
    source = build(nn)
    tr.manual_seed(1)
    target = build(nn)
    state = source.state_dict()
    params = source.state_dict(keep_vars=True).values()
    assert all(np.asarray(v) is np.asarray(p) for v, p in zip(state.values(), params))
    arrays = [np.asarray(p) for p in target.parameters()]
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = tr.randn(3, 3)
    source.eval(), target.eval()
    np.testing.assert_array_equal(np.asarray(target(x)), np.asarray(source(x)))
    assert all(np.asarray(p) is a for p, a in zip(target.parameters(), arrays))  # copied in place: optimizers hold on


def test_load_state_dict_lists_every_bad_key_and_leaves_the_model_unchanged():
    model = build(nn)
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    state = {k: np.full(v.shape, 7.0) for k, v in model.state_dict().items()}
    del state["embed.bias"], state["head.3.bias"]
    state["extra.weight"] = np.zeros(1)
    state["linears.1.weight"] = np.zeros((4, 5))
    with pytest.raises(RuntimeError) as err:
        model.load_state_dict(state)
    message = str(err.value)
    for text in ('Missing key(s) in state_dict: "embed.bias", "head.3.bias".',
                 'Unexpected key(s) in state_dict: "extra.weight".',
                 "size mismatch for linears.1.weight: copying a param with shape (4, 5)", "for Net"):
        assert text in message
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    # strict=False tolerates missing/unexpected keys but never a wrong shape
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(state, strict=False)
    del state["linears.1.weight"]
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["embed.bias", "linears.1.weight", "head.3.bias"]
    assert result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(model.embed.weight, 7.0)
    assert model.embed.weight.dtype == np.float32


def test_torch_can_load_our_state_dict():
    torch = import_torch()
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    assert_close(ours.eval()(tr.tensor(x)), theirs.eval()(torch.from_numpy(x)))


def test_double_and_float_convert_parameters():
    model = nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)).double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(tr.randn(3, 2, dtype=tr.float64)).dtype == np.float64
    assert all(p.dtype == np.float32 for p in model.float().parameters())
