"""``nn.Module``: the base class of every layer and model, with torch.nn.Module's registration and naming.

A module keeps two ordered registries, filled by plain attribute assignment in ``__init__``::

    self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())   # a Module     -> self._modules["body"]
    self.scale = nn.Parameter(tr.ones(3))                    # a Parameter  -> self._parameters["scale"]

Everything else walks them in registration order, depth first, which gives torch's names and order:
``named_modules()`` yields ``("", model), ("body", ...), ("body.0", ...), ("body.1", ...)``; ``named_parameters()``
yields each module's own parameters in that module order (``"scale"``, ``"body.0.weight"``, ``"body.0.bias"``);
``state_dict()`` uses the same dotted keys.
"""

from collections import OrderedDict, namedtuple

import numpy as np

from tinyreg.grad_mode import no_grad
from tinyreg.nn.parameter import Parameter
from tinyreg.tensor import Tensor, parse_to_arguments

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _check_new_name(module, kind, name):
    """The rules torch applies to a new parameter or submodule name."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if name in module.__dict__ or hasattr(type(module), name):
        raise KeyError(f"attribute '{name}' already exists")


def _add_indent(text, spaces):
    """Indent every line of ``text`` but the first (a child's repr nested inside its parent's)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


class Module:
    """Base class for layers and models. Subclasses call ``super().__init__()`` first and define ``forward``.

    ``module(x)`` calls ``module.forward(x)``. ``training`` (True after construction) is what ``train()``/``eval()``
    switch, for this module and every submodule; only layers such as Dropout behave differently in the two modes.
    """

    def __init__(self):
        # object.__setattr__ because our own __setattr__ consults these very registries.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- registration --------------------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        parameters = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, Parameter):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self.__dict__.pop(name, None)
            modules.pop(name, None)
            self.register_parameter(name, value)
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            parameters[name] = None
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self.__dict__.pop(name, None)
            parameters.pop(name, None)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(nn.Module or None expected)")
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails, i.e. for registered parameters and modules. .get() keeps it safe
        # before __init__ has run (copy.deepcopy builds the object without calling __init__).
        for registry in ("_parameters", "_modules"):
            entries = self.__dict__.get(registry, {})
            if name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter, or None for an absent one such as ``bias=False``) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if name not in self._parameters:
            _check_new_name(self, "parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(nn.Parameter or None required)")
        self._parameters[name] = param

    def add_module(self, name, module):
        """Add a child module under ``name`` (what ``self.name = module`` does, for names that are not identifiers)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if name not in self._modules:
            _check_new_name(self, "module", name)
        self._modules[name] = module

    register_module = add_module

    # ---- walking the tree ----------------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module (name ``prefix``) and every descendant, depth first.

        A module reachable twice (shared between two parents) is yielded once unless ``remove_duplicate=False``.
        """
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """``(name, module)`` for the direct submodules, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` in module order, each module's own parameters in registration order.

        A parameter shared by two modules (weight tying) is yielded once, under its first name.
        """
        seen = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(param))
                yield module_prefix + ("." if module_prefix else "") + name, param

    def parameters(self, recurse=True):
        """Every parameter once, in ``named_parameters`` order: what an optimizer is given."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and then on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -------------------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and every submodule; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode, the same as ``train(False)``: dropout becomes the identity."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: drop it (``None``, the default) or fill it with zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.zero_()

    def _cast(self, dtype):
        for param in self.parameters():
            param.data = param.data.to(dtype)
            if param.grad is not None:
                param.grad = param.grad.to(dtype)
        return self

    def double(self):
        """Convert every parameter (and gradient) to float64 in place; returns self."""
        return self._cast(np.float64)

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """``model.to(device)``, ``model.to(dtype)``, ``model.to(device, dtype)`` or ``model.to(tensor)``, in place;
        returns self. The device must be the CPU (tinyreg has no other); a floating dtype converts every parameter
        (torch leaves integer dtypes to ``Tensor.to``)."""
        dtype = parse_to_arguments(args, dtype, device)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._cast(dtype)

    def cpu(self):
        """Already on the CPU (tinyreg's only device); returns self."""
        return self

    def float(self):
        """Convert every parameter (and gradient) to float32 in place; returns self."""
        return self._cast(np.float32)

    # ---- state dict ----------------------------------------------------------------------------------------------
    def state_dict(self, prefix="", keep_vars=False):
        """An OrderedDict from dotted names to parameters, torch's keys: own parameters, then each child's.

        Values are detached tensors sharing memory with the parameters (``keep_vars=True``: the Parameters
        themselves), so copy them (``tr.save`` does) to keep a snapshot while training goes on.
        """
        destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, module in self._modules.items():
            if module is not None:
                destination.update(module.state_dict(prefix=prefix + name + ".", keep_vars=keep_vars))
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of ``state_dict`` into the parameters with the same keys (in place, so an optimizer
        holding the parameters keeps working).

        Everything is checked before anything is copied: a shape mismatch, and with ``strict=True`` a missing or an
        unexpected key, raises a RuntimeError listing every offending key and leaves the model unchanged. Returns
        ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        values, errors = {}, []
        for key, param in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = np.asarray(value)
            if value.shape != param.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                              f"the shape in current model is {param.shape}.")
            elif not np.can_cast(value.dtype, param.dtype, casting="same_kind"):
                errors.append(f"dtype mismatch for {key}: cannot copy {value.dtype} values into a {param.dtype} "
                              f"parameter.")
            values[key] = value
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for key, value in values.items():
                own[key].copy_(Tensor._wrap(value))
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ------------------------------------------------------------------------------------------------
    def extra_repr(self):
        """The layer's settings shown inside its parentheses, e.g. ``in_features=2, out_features=3, bias=True``."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_add_indent(repr(module), 2)}" for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"
