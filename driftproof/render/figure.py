"""A blank matplotlib Figure (no pyplot, no global state, no window): what every figure starts from."""

from __future__ import annotations

__all__ = ["new_figure"]


def new_figure(width: float, height: float, rows: int = 1, columns: int = 1, height_ratios=None):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(rows, columns, squeeze=False, height_ratios=height_ratios)
