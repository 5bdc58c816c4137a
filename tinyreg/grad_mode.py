"""Switching graph recording on and off: ``tr.no_grad()``, ``tr.enable_grad()``, ``tr.set_grad_enabled(mode)``.

Inside ``no_grad`` no op records its inputs, so nothing is kept for a backward pass: this is how evaluation and
optimizer updates avoid building (and paying for) a graph. It is also what allows writing into a parameter in place
(``p -= lr * p.grad``): see :mod:`tinyreg.inplace`.
"""

import functools

_enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default)."""
    return _enabled


class _GradMode:
    """Context manager and decorator that sets grad mode to ``mode`` and restores the previous mode on exit.

    As a decorator it works with and without parentheses (``@tr.no_grad()`` and ``@tr.no_grad``), as in torch 2.
    """

    mode = True

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        return cls()(fn)  # bare ``@no_grad``: the class itself received the function

    def __enter__(self):
        global _enabled
        self._previous = _enabled
        _enabled = self.mode

    def __exit__(self, *exc_info):
        global _enabled
        _enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Turn graph recording off, like ``torch.no_grad``.

    >>> with tr.no_grad():
    ...     y = x * 2          # y.requires_grad is False, no graph is built
    """

    mode = False


class enable_grad(_GradMode):
    """Turn graph recording on (inside a ``no_grad`` block), like ``torch.enable_grad``."""

    mode = True


class set_grad_enabled:
    """``tr.set_grad_enabled(False)`` switches recording off at once, like torch; used as ``with
    tr.set_grad_enabled(mode):`` it restores the previous mode at the end of the block (``mode`` is often
    ``is_training``)."""

    def __init__(self, mode: bool):
        global _enabled
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                            f"{type(mode).__name__}")
        self._previous = _enabled
        _enabled = mode

    def __enter__(self):
        pass

    def __exit__(self, *exc_info):
        global _enabled
        _enabled = self._previous
