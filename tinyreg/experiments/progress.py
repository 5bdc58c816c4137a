"""Progress of a training run: a tqdm bar when tqdm is installed (the ``plot`` extra), else plain printed lines.

Without tqdm a line is printed per epoch, or, for runs of many short steps, at most about ten times, so a log stays
readable. Either way the line carries the latest numbers (``loss 0.123``).
"""

import sys

try:
    from tqdm.auto import tqdm
except ImportError:  # the plot extra is optional
    tqdm = None


def _format(stats: dict) -> str:
    return "  ".join(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                     for key, value in stats.items())


class Progress:
    """``with Progress(total, "adam wd=0.1", unit="step") as bar: ... bar.update(loss=0.5)``."""

    def __init__(self, total: int, desc: str, unit: str = "epoch", enabled: bool = True):
        self.total, self.desc, self.unit, self.enabled = total, desc, unit, enabled
        self.done = 0
        self._every = max(1, total // 10) if unit != "epoch" else 1
        self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr) if enabled and tqdm else None

    def update(self, n: int = 1, **stats):
        """Advance by ``n`` and show ``stats`` (the numbers of the step or epoch just finished)."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            if stats:
                self._bar.set_postfix_str(_format(stats), refresh=False)
        elif self.enabled and (self.done // self._every > (self.done - n) // self._every or self.done == self.total):
            print(f"{self.desc}: {self.unit} {self.done}/{self.total}  {_format(stats)}".rstrip(), file=sys.stderr)

    def close(self):
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
