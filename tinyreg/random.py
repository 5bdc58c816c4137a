"""One random number generator for all of tinyreg.

Every random draw in tinyreg (``randn``, ``rand``, initialisation, dropout masks, data shuffling) comes from the single
:class:`numpy.random.Generator` returned by :func:`generator`, so ``tr.manual_seed(s)`` makes a whole run reproducible,
like ``torch.manual_seed``.
"""

import numpy as np

_DEFAULT_SEED = 0
_generator = np.random.Generator(np.random.PCG64(_DEFAULT_SEED))


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed tinyreg's generator in place and return it.

    Reseeding in place (rather than making a new Generator) keeps any reference a caller already holds valid.
    """
    _generator.bit_generator.state = np.random.PCG64(check_seed(seed)).state
    return _generator


def check_seed(seed) -> int:
    """``seed`` as an int if it is a seed :func:`manual_seed` accepts, a non-negative integer; else ValueError."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"the seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def generator() -> np.random.Generator:
    """The module-level generator every tinyreg random function draws from."""
    return _generator
