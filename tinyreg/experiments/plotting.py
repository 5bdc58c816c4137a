"""Figures for the experiments, drawn with matplotlib's file-only Agg backend when matplotlib is installed.

matplotlib belongs to the optional ``plot`` extra: :func:`pyplot` returns None without it and the runner then writes
only metrics.json and the text summary.
"""

import numpy as np


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no window, works headless), or None if matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def curves(ax, series: dict, title: str, ylabel: str, log: bool = False, xlabel: str = "epoch", styles=None):
    """One line per ``{label: values}`` over epochs 1..n (or steps), on a log y axis if ``log``.

    ``styles``: optional ``{label: plot keyword arguments}`` (colour, line style) for some of the lines.
    """
    for label, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label, **(styles or {}).get(label, {}))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def histogram_counts(values: np.ndarray, bins: int = 60, value_range=None) -> dict:
    """A histogram as plain data for metrics.json: ``{"edges": [...], "counts": [...]}`` (as TensorBoard keeps one)."""
    counts, edges = np.histogram(values, bins=bins, range=value_range)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def draw_histogram(ax, histogram: dict, offset: float = 0.0, peak=None, **style):
    """Draw :func:`histogram_counts` data as steps: as a density, or scaled to height ``peak`` and lifted by
    ``offset`` (a ridge of histograms over time, like TensorBoard's offset view)."""
    edges, counts = np.asarray(histogram["edges"]), np.asarray(histogram["counts"], dtype=float)
    heights = counts / max(counts.sum(), 1) / np.diff(edges)
    if peak is not None:
        heights = heights * peak / max(heights.max(), np.finfo(float).tiny)
    ax.stairs(heights + offset, edges, baseline=offset, **style)
