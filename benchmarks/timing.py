"""The timing harness: warm up, then time each call separately and keep the median and the minimum.

The median is the number to quote (robust to the odd preempted call on a shared machine); the minimum is the best the
code can do when nothing interferes. Each sample is one call, timed with ``perf_counter_ns``, whose own cost (tens of
ns) is negligible next to the shortest step measured here (tens of µs).
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


def time_calls(fn, warmup: int, repeats: int) -> Timing:
    """Call ``fn()`` ``warmup`` times (JIT compilation, first-touch page faults, lazily created state, caches),
    then ``repeats`` times under the clock."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return Timing(median=statistics.median(samples) * 1e-9, min=min(samples) * 1e-9, warmup=warmup, repeats=repeats)
