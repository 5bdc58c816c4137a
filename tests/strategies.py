"""Hypothesis strategies shared by every test file: shapes, broadcastable shape pairs, well-conditioned values."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOAT_DTYPES = st.sampled_from([np.float64, np.float32])


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def broadcastable_pair(draw, min_dims=0, max_dims=3, max_side=4):
    """Two shapes that broadcast together, e.g. (3, 1, 4) and (2, 4)."""
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                                              max_side=max_side)).input_shapes
    return shape_a, shape_b


@st.composite
def arrays(draw, shape, low=-3.0, high=3.0, away_from=None, margin=0.05, dtype=np.float64):
    """A float array with elements in [low, high], optionally kept ``margin`` away from points such as kinks.

    Values are drawn from a seed rather than element by element: fast for hypothesis, and still shrinkable by shape.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, size=shape)
    for point in away_from or ():
        too_close = np.abs(values - point) < margin
        values[too_close] = point + np.where(values[too_close] >= point, margin, -margin)
    return values.astype(dtype)


def positive_arrays(shape, dtype=np.float64):
    """Strictly positive values for log, sqrt, division."""
    return arrays(shape, low=0.2, high=3.0, dtype=dtype)


SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def distinct_arrays(draw, shape, gap=0.1, dtype=np.float64):
    """Values at least ``gap`` apart: no ties or near-ties, so max/argmax are unique and differentiable."""
    rng = np.random.default_rng(draw(SEEDS))
    n = int(np.prod(shape))
    ranks = rng.permutation(n) + rng.uniform(0, 0.5, size=n)  # consecutive ranks stay >= 0.5 apart
    return ((ranks - n / 2) * 2 * gap).reshape(shape).astype(dtype)


@st.composite
def reduction_axes(draw, ndim):
    """What a reduction accepts for an ``ndim``-dim tensor: None (all), one axis or a tuple of distinct axes.

    Axes may be negative; an empty tuple is never drawn (NumPy reads it as "no axes", torch as "all axes").
    """
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    axes = [draw(st.sampled_from([a, a - ndim])) for a in
            draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))]
    return draw(st.sampled_from([None, axes[0], tuple(axes)]))
