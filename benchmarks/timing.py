"""The timing harness: warm up, then time each call separately and keep the median and the minimum.

The median is the number to quote (robust to the odd preempted call on a shared machine); the minimum is the best the
code can do when nothing interferes. Each sample is one call, timed with ``perf_counter_ns``, whose own cost (tens of
ns) is negligible next to the shortest step measured here (tens of µs).

Implementations that are compared with each other are timed in interleaved rounds (:func:`time_rounds`): a burst of
activity elsewhere on the machine, or a change of clock speed, then lands on all of them instead of on whichever
happened to be running, so their *ratios* — the numbers the benchmarks report — stay steady.
"""

import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call over ``repeats`` timed calls that followed ``warmup`` untimed ones."""

    median: float
    min: float
    warmup: int
    repeats: int

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": self.min, "warmup": self.warmup, "repeats": self.repeats}


def time_rounds(fns: dict, warmup: int, repeats: int, rounds: int) -> dict:
    """Time several functions in ``rounds`` interleaved rounds; returns name -> :class:`Timing` over all samples.

    In each round every function is called ``warmup`` times untimed (the first round compiles and allocates; later
    ones bring its arrays back into the caches the others evicted), then ``repeats // rounds`` times under the clock.
    Each function is therefore called ``rounds · warmup + repeats`` times in all (:func:`total_calls`).
    """
    if repeats % rounds:
        raise ValueError(f"repeats ({repeats}) must be a multiple of rounds ({rounds})")
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(warmup):
                fn()
            for _ in range(repeats // rounds):
                start = time.perf_counter_ns()
                fn()
                samples[name].append(time.perf_counter_ns() - start)
    return {name: Timing(median=statistics.median(s) * 1e-9, min=min(s) * 1e-9, warmup=warmup * rounds,
                         repeats=repeats) for name, s in samples.items()}


def total_calls(warmup: int, repeats: int, rounds: int) -> int:
    """How many times :func:`time_rounds` calls each function."""
    return rounds * warmup + repeats
