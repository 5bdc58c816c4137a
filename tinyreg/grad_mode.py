"""Switching graph recording on and off: ``tr.no_grad()``.

Inside ``no_grad`` no op records its inputs, so nothing is kept for a backward pass: this is how evaluation and
optimizer updates avoid building (and paying for) a graph.
"""

import functools

_enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default)."""
    return _enabled


class no_grad:
    """Context manager and decorator that turns graph recording off, like ``torch.no_grad``.

    >>> with tr.no_grad():
    ...     y = x * 2          # y.requires_grad is False, no graph is built

    As a decorator it works with and without parentheses (``@tr.no_grad()`` and ``@tr.no_grad``), as in torch 2.
    """

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        return cls()(fn)  # bare ``@no_grad``: the class itself received the function

    def __enter__(self):
        global _enabled
        self._previous = _enabled
        _enabled = False

    def __exit__(self, *exc_info):
        global _enabled
        _enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper
