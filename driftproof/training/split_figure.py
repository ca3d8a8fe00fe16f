"""The figure of the self/label split for a run folder: per layer, each part of the sign statistic over steps.

``split.png``: one panel per hidden layer; the self part (from g(z)) and the label part (from -y)
of the main runs, mean over seeds with a 95% Student-t band, their sum (the sign statistic)
dashed, and each seed's crossover step marked. Not yet written by ``save_run`` (runfolder.py calls
the other figures); ``scripts/split_findings.py`` writes it into every run folder it makes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .run import TrainResult
from .summary import MIN_INTERVAL_N

__all__ = ["FIGURE", "save_split_figure"]

FIGURE = "split.png"


def _band(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds and the half-width of its 95% t-interval (0, no band, from fewer than MIN_INTERVAL_N = 5
    seeds: DESIGN.md §3)."""
    stacked = np.vstack(columns)
    mean = np.nanmean(stacked, axis=0)
    n = stacked.shape[0]
    if n < MIN_INTERVAL_N:
        return mean, np.zeros_like(mean)
    return mean, _t975(n) * np.nanstd(stacked, axis=0, ddof=1) / np.sqrt(n)


def save_split_figure(result: TrainResult, folder: str | Path) -> Path | None:
    """Write ``split.png`` into ``folder``; None (nothing written) if the logs carry no split."""
    stopped = {(d.role, d.seed) for d in result.diverged}  # diverged runs are never drawn as data
    logs = [log for log in result.logs if log.role == "main" and (log.role, log.seed) not in stopped]
    if not logs or "L1.label" not in logs[0].columns:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depth = int(result.config["depth"])
    layers = result.summary.roles["main"].layers
    steps = logs[0].columns["step"]
    fig, axes = plt.subplots(1, depth, figsize=(4.4 * depth, 3.5), squeeze=False)
    for layer, ax in enumerate(axes[0], start=1):
        key = f"L{layer}"
        for part, color in (("self", "tab:red"), ("label", "tab:blue")):
            mean, half = _band([log.columns[f"{key}.{part}"] for log in logs])
            ax.plot(steps, mean, color=color, lw=1.2, label=f"{part} part")
            ax.fill_between(steps, mean - half, mean + half, color=color, alpha=0.2, lw=0)
        full, _ = _band([log.columns[f"{key}.sign"] for log in logs])
        ax.plot(steps, full, color="black", lw=0.9, ls="--", label="sum (sign statistic)")
        for i, step in enumerate(layers[key].crossed):
            ax.axvline(step, color="tab:purple", lw=0.8, alpha=0.6, label="crossover (per seed)" if i == 0 else None)
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set_title(f"layer {layer}")
        ax.set_xlabel("step")
        ax.set_ylabel(r"mean $\delta^l$ part on $p^l>0$")
        ax.legend(fontsize=7)
    c, s = result.config, result.spec
    fig.suptitle(f"self/label split: {s['arch']} width {c['width']} depth {c['depth']}, {c['loss']}, {c['act']}, "
                 f"{s['data']}, {s['opt']} lr {s['lr']:g}, {len(logs)} seeds "
                 + ("(95% t-bands)" if len(logs) >= MIN_INTERVAL_N else f"(no band from fewer than {MIN_INTERVAL_N} seeds)"),
                 fontsize=9)
    fig.tight_layout()
    path = Path(folder) / FIGURE
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _t975(n: int) -> float:
    """Student-t 0.975 quantile with n - 1 degrees of freedom; scipy.special is imported here, not at
    import time (it costs every command ~0.2 s, and the command line imports this module to build its parsers)."""
    from scipy.special import stdtrit

    return float(stdtrit(n - 1, 0.975))
