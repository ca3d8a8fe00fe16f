"""Training figures of the report: persistence of the sign per layer, and the self/label split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import stdtrit

from .style import activation_legend, apply_limits, color, linestyle, new_figure, save

__all__ = ["persistence_figure", "split_figure", "band"]

_ROWS = (("sign", "sign statistic, running\nmean / its largest size"), ("b_mean", "mean bias"),
         ("zero_frac", "sparsity (h = 0)"))


def band(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (rows) and its 95% Student-t band (the mean alone for one seed)."""
    mean = np.nanmean(stacked, axis=0)
    n = stacked.shape[0]
    if n < 2:
        return mean, mean, mean
    half = stdtrit(n - 1, 0.975) * np.nanstd(stacked, axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _stack(run: dict, key: str) -> np.ndarray:
    return np.array([seed["curves"][key] for seed in run["seeds"]], dtype=float)


def _scaled(stacked: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """``stacked`` divided by the largest size of the seeds' mean of ``reference`` (default itself), so
    activations whose gradients differ by orders of magnitude share an axis; the sign is kept."""
    mean = np.nanmean(stacked if reference is None else reference, axis=0)
    scale = np.nanmax(np.abs(mean)) if np.isfinite(mean).any() else np.nan
    return stacked / scale if np.isfinite(scale) and scale > 0 else stacked * np.nan


def _trailing(stacked: np.ndarray, window: int = 10) -> np.ndarray:
    """Trailing mean over ``window`` logged steps (fewer at the start), per seed."""
    cumulative = np.cumsum(np.nan_to_num(stacked), axis=1)
    shifted = np.concatenate([np.zeros((stacked.shape[0], window)), cumulative[:, :-window]], axis=1)[:, :stacked.shape[1]]
    counts = np.minimum(np.arange(1, stacked.shape[1] + 1), window)
    return (cumulative - shifted) / counts


def _draw(ax, step, run: dict, stacked: np.ndarray, acts: list[str]) -> np.ndarray:
    mean, lo, hi = band(stacked)
    c = color(run["act"], acts)
    ax.fill_between(step, lo, hi, color=c, alpha=0.18, lw=0)
    ax.plot(step, mean, color=c, ls=linestyle(run["loss"]), lw=1.1)
    return np.concatenate([lo, hi])


def persistence_figure(runs: list[dict], depth: int, path: Path, ctx=None) -> Path:
    """Rows: normalized running mean of the sign statistic, mean bias, sparsity; columns: layers.

    Runs with a diverged seed are left out (the caption lists them); every axis's limits come from
    the drawn runs by :func:`~driftproof.reporting.style.apply_limits`.
    """
    drawn = [r for r in runs if not r["diverged"]]
    acts = list(dict.fromkeys(r["act"] for r in runs))
    fig, axes = new_figure(len(_ROWS), depth, 1.75 * len(_ROWS) + 0.5, sharex=True)
    meta = {"axes": {}}
    for row, (metric, label) in enumerate(_ROWS):
        for layer in range(1, depth + 1):
            ax, key = axes[row][layer - 1], f"L{layer}.{metric}"
            series = {}
            for run in drawn:
                stacked = _scaled(_stack(run, key)) if metric == "sign" else _stack(run, key)
                series[f"{run['loss']}/{run['act']}"] = _draw(ax, run["step"], run, stacked, acts)
            meta["axes"][key] = apply_limits(ax, series)
            if metric == "sign":
                ax.axhline(0, color="black", lw=0.6)
            ax.set_title(f"layer {layer}" if row == 0 else "")
            ax.set_xlabel("SGD step" if row == len(_ROWS) - 1 else "")
            ax.set_ylabel(label if layer == 1 else "")
            ax.grid(alpha=0.25, lw=0.5)
    activation_legend(fig, acts, list(dict.fromkeys(r["loss"] for r in runs)))
    return save(fig, path, ctx, meta)


def split_figure(runs: list[dict], depth: int, path: Path, ctx=None) -> Path:
    """Rows: self part, label part of the last layer's sign statistic (trailing mean of 10 steps, both divided
    by the largest size of the self part's mean); columns: losses."""
    losses = list(dict.fromkeys(r["loss"] for r in runs)) or ["mse"]
    acts = list(dict.fromkeys(r["act"] for r in runs))
    fig, axes = new_figure(2, len(losses), 3.9, sharex=True)
    key = f"L{depth}"
    meta = {"axes": {}}
    for column, loss in enumerate(losses):
        for row, part in enumerate(("self", "label")):
            ax, series = axes[row][column], {}
            for run in (r for r in runs if r["loss"] == loss):
                stacked = _scaled(_trailing(_stack(run, f"{key}.{part}")), _trailing(_stack(run, f"{key}.self")))
                series[run["act"]] = _draw(ax, run["step"], run, stacked, acts)
            meta["axes"][f"{loss}.{part}"] = apply_limits(ax, series)
            ax.axhline(0, color="black", lw=0.6)
            ax.set_title(f"{loss.upper()}: {part} part" if row == 0 else f"{loss.upper()}: label part")
            ax.set_xlabel("SGD step" if row == 1 else "")
            ax.set_ylabel(f"{part} part / largest\n|self part|" if column == 0 else "")
            ax.grid(alpha=0.25, lw=0.5)
    activation_legend(fig, acts, [])
    return save(fig, path, ctx, meta)
