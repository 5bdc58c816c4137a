"""Devices: tinyreg runs on the CPU, and says so plainly.

A PyTorch script names its device in a few places (``torch.device("cuda" if torch.cuda.is_available() else "cpu")``,
``model.to(device)``, ``torch.zeros(3, device=device)``). tinyreg accepts all of them for the CPU, where every tensor
already lives, so such a script runs unchanged; any other device ("cuda", "mps", ...) raises one clear error instead
of being silently ignored.
"""


class device:
    """``tr.device("cpu")`` (also ``"cpu:0"``, ``("cpu", 0)``): the one device tinyreg has, like ``torch.device``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device() expected a string like 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                                   f"{type}")
            index = int(number)
        if name != "cpu":
            raise RuntimeError(cpu_only_message(type))
        self.type = "cpu"
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def cpu_only_message(name) -> str:
    return (f"tinyreg runs on the CPU only: device {str(name)!r} is not available (tr.cuda.is_available() is "
            f"False). Use 'cpu' or leave the device out.")


def check_device(name):
    """Accept None, "cpu", an int-free cpu spelling or a :class:`device`; raise the CPU-only error for anything else."""
    if name is not None and not isinstance(name, device):
        device(name)


def set_default_device(name):
    """``torch.set_default_device``: only the CPU (or None) can be the default, and it already is."""
    check_device(name)
