"""The three parameter sets the update kernels are timed on, and the state every implementation starts from.

    W1  one tensor of 2^24 float32 elements (64 MiB per array): pure streaming, far larger than any cache
    W2  the parameters of the 784-256-128-10 MLP (235,146 elements in 6 tensors): a real small model; its
        arrays (≈ 0.9 MiB each) sit in the last-level cache
    W3  500 tensors of 1,000 elements: many small tensors, where per-tensor overhead dominates

``--quick`` shrinks W1 to 2^20 elements so a smoke run finishes in seconds; W2 and W3 are already small.
"""

from dataclasses import dataclass

import numpy as np

MLP_SIZES = (784, 256, 128, 10)


def mlp_shapes(sizes=MLP_SIZES) -> list[tuple]:
    """Weight (out, in) and bias (out,) of each Linear layer, in torch's layout."""
    shapes = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        shapes += [(fan_out, fan_in), (fan_out,)]
    return shapes


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    shapes: tuple

    @property
    def elements(self) -> int:
        return sum(int(np.prod(shape)) for shape in self.shapes)


def workloads(quick: bool) -> list[Workload]:
    w1 = 2**20 if quick else 2**24
    return [
        Workload("W1", f"1 tensor of 2^{w1.bit_length() - 1} elements", ((w1,),)),
        Workload("W2", "MLP 784-256-128-10 (6 tensors)", tuple(mlp_shapes())),
        Workload("W3", "500 tensors of 1,000 elements", ((1000,),) * 500),
    ]


@dataclass(frozen=True)
class StartState:
    """θ_0 and the gradient g (the same every step: the grads are preset, only the update is timed), each one flat
    float32 vector over all the workload's elements; implementations split or copy them as they need."""

    theta: np.ndarray
    grad: np.ndarray


def start_state(workload: Workload, seed: int = 0) -> StartState:
    rng = np.random.default_rng(seed)
    n = workload.elements
    return StartState(theta=rng.standard_normal(n, dtype=np.float32), grad=rng.standard_normal(n, dtype=np.float32))


def split(flat: np.ndarray, shapes) -> list[np.ndarray]:
    """Views of ``flat`` with the given shapes, back to back (how a flat buffer holds a model's parameters)."""
    views, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[offset:offset + size].reshape(shape))
        offset += size
    return views
