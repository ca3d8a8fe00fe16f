"""The training-curve figure, once: per layer, a logged metric against the step for every seed (main in
red, the tanh control in blue), drawn from a run's logs (nothing recomputed). ``TrainingRun.plot()``
and the run folder's figures (sign.png, mean_weight.png, ...) are both made here."""

from __future__ import annotations

import numpy as np

from .figure import new_figure

__all__ = ["ROLE_COLOURS", "draw_curves", "curves_figure"]

ROLE_COLOURS = {"main": "tab:red", "control": "tab:blue"}


def draw_curves(ax, logs, layer: int, metric: str, left_out=frozenset(), lw: float = 1.0) -> None:
    """One panel: ``L{layer}.{metric}`` of every log against its steps; runs in ``left_out`` ((role, seed)
    pairs: diverged) are not drawn. The sparsity panel adds p ≤ 0 (dotted) and, where it was logged, the
    held-out exact zeros (dashed, the transformers')."""
    labelled = set()
    for log in logs:
        if (log.role, log.seed) in left_out:
            continue
        label = f"{log.act} ({log.role})" if log.role not in labelled else None
        labelled.add(log.role)
        colour, steps = ROLE_COLOURS[log.role], log.columns["step"]
        ax.plot(steps, log.columns[f"L{layer}.{metric}"], color=colour, alpha=0.7, lw=lw, label=label)
        if metric == "zero_frac" and f"L{layer}.nonpos_frac" in log.columns:
            ax.plot(steps, log.columns[f"L{layer}.nonpos_frac"], color=colour, alpha=0.5, lw=lw, ls=":",
                    label=r"$p \leq 0$" if label else None)
        if metric == "zero_frac" and f"L{layer}.val_zero_frac" in log.columns:
            values = log.columns[f"L{layer}.val_zero_frac"]
            keep = np.isfinite(values)
            ax.plot(steps[keep], values[keep], color=colour, lw=1.2, ls="--", marker=".",
                    label="held-out zeros" if label else None)
    if metric == "sign":
        ax.axhline(0.0, color="black", lw=0.8)


def curves_figure(logs, depth: int, panels, title: str = "", left_out=frozenset(), width: float = 3.6,
                  height: float = 2.4, lw: float = 1.0):
    """One row per (metric, axis label) in ``panels``, one column per layer; a Figure (not shown)."""
    figure, axes = new_figure(width * depth, height * len(panels), len(panels), depth)
    for row, (metric, label) in enumerate(panels):
        for layer in range(1, depth + 1):
            ax = axes[row][layer - 1]
            draw_curves(ax, logs, layer, metric, left_out, lw)
            ax.set_title(f"layer {layer}", fontsize=8)
            ax.set_xlabel("step", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            if ax.get_legend_handles_labels()[0]:  # every run of the panel may have diverged
                ax.legend(fontsize=7)
    if title:
        figure.suptitle(title, fontsize=8)
    return figure
