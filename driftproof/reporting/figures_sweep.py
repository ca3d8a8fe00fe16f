"""Figures of the empirical claims C1-C5, one column per architecture family (MLP/ResMLP, GPT, ViT)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from ..archs import family_titles
from ..results import Estimate
from .figures_training import band
from .style import act_label, apply_limits, color, new_figure, save

__all__ = ["sparsity_figure", "cliff_figure", "spikes_figure", "loss_figure"]

FAMILY_TITLES = family_titles()  # each family's title, from its architectures' registry entries


def _columns(families: list[str], height: float):
    fig, axes = new_figure(1, len(families), height)
    return fig, dict(zip(families, axes[0]))


def sparsity_figure(curves: dict[str, list[dict]], path: Path, ctx=None) -> Path:
    """C1: layer-mean sparsity of ReLU runs over training, per family: each setting's mean over seeds (thin),
    and the mean over every natural ReLU run with its 95% band (thick).

    ``curves``: family -> [{"group", "fraction": (runs, steps) array on a common grid of fractions of the run}].
    """
    fig, axes = _columns(list(curves), 2.5)
    meta = {"axes": {}}
    banded = False
    for family, groups in curves.items():
        ax, series = axes[family], {}
        grid = np.linspace(0, 1, 41)
        for group in groups:
            ax.plot(grid, np.nanmean(group["fraction"], axis=0), color="#999999", lw=0.6, alpha=0.8)
        every = np.vstack([group["fraction"] for group in groups]) if groups else np.full((1, 41), np.nan)
        mean, lo, hi = band(every)
        banded |= bool(np.any(hi > lo))
        ax.fill_between(grid, lo, hi, color=color("relu"), alpha=0.25, lw=0)
        ax.plot(grid, mean, color=color("relu"), lw=1.8)
        series["all"] = np.concatenate([lo, hi, *[np.nanmean(g["fraction"], axis=0) for g in groups]])
        meta["axes"][family] = apply_limits(ax, series)
        ax.set_title(f"{FAMILY_TITLES[family]} ({len(every)} runs)")
        ax.set_xlabel("fraction of the run")
        ax.grid(alpha=0.25, lw=0.5)
    next(iter(axes.values())).set_ylabel("ReLU sparsity (h = 0),\nmean over layers")
    handles = [matplotlib.lines.Line2D([], [], color="#999999", lw=0.8, label="one setting, mean over seeds"),
               matplotlib.lines.Line2D([], [], color=color("relu"), lw=1.8,
                                       label="all runs, mean and 95% band" if banded
                                       else "all runs, mean (no band: fewer than 5 runs)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return save(fig, path, ctx, meta)


def _hinge(fit, s: np.ndarray) -> np.ndarray:
    knot = fit.knot.mean
    return fit.intercept + fit.slope_before * s + (fit.slope_after.mean - fit.slope_before) * np.maximum(s - knot, 0)


def cliff_figure(panels: dict[str, dict], path: Path, ctx=None) -> Path:
    """C2: held-out accuracy against layer-mean sparsity (forced and unforced ReLU, all else equal), the hinge
    fit, and the 95% bootstrap interval of its knot (shaded). ``panels``: family -> {points, fit or None}."""
    fig, axes = _columns(list(panels), 2.6)
    for family, panel in panels.items():
        ax = axes[family]
        points = np.asarray(panel["points"], dtype=float).reshape(-1, 2)
        ax.plot(points[:, 0], points[:, 1], "o", ms=3, mfc="white", mec=color("relu"), mew=0.8)
        fit = panel.get("fit")
        if fit is not None:
            s = np.linspace(points[:, 0].min(), points[:, 0].max(), 200)
            if fit.knot.defined:
                ax.axvspan(fit.knot.ci_low, fit.knot.ci_high, color="#E69F00", alpha=0.25, lw=0)
            ax.plot(s, _hinge(fit, s), color="#D55E00", lw=1.2)
            ax.axvline(fit.knot.mean, color="#D55E00", lw=0.7, ls="--")
        ax.set_title(f"{FAMILY_TITLES[family]} ({len(points)} runs)")
        ax.set_xlabel("sparsity (mean over layers)")
        ax.grid(alpha=0.25, lw=0.5)
    next(iter(axes.values())).set_ylabel("held-out accuracy")
    handles = [matplotlib.lines.Line2D([], [], color=color("relu"), marker="o", mfc="white", ls="none", label="ReLU run"),
               matplotlib.lines.Line2D([], [], color="#D55E00", lw=1.2, label="hinge fit"),
               matplotlib.patches.Patch(color="#E69F00", alpha=0.35, label="knot, 95% bootstrap interval")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return save(fig, path, ctx)


def _points(ax, groups: dict[str, list[Estimate]], offset: float, c: str, marker: str) -> list[tuple]:
    """Geometric means as points at x = group slot + layer + offset; returns (x, mean, low, high) per point."""
    out = []
    for index, (name, layers) in enumerate(groups.items()):
        for layer, e in enumerate(layers):
            x = index * (len(layers) + 1) + layer + offset
            low, high = (e.ci_low, e.ci_high) if e.defined else (e.mean, e.mean)
            out.append((x, e.mean, low, high, c, marker))
    return out


def _draw_points(ax, points: list[tuple]) -> tuple[float, float]:
    """Points with their 95% intervals on a log axis whose limits come from the means (and 1): an interval that
    runs off the axis is cut at its edge and ends in a triangle. Returns the limits."""
    means = [p[1] for p in points if np.isfinite(p[1]) and p[1] > 0] + [1.0]
    lo, hi = min(means) / 4, max(means) * 4
    for x, mean, low, high, c, marker in points:
        if not (np.isfinite(mean) and mean > 0):
            continue
        a, b = max(low, lo) if low > 0 else lo, min(high, hi)
        ax.plot([x, x], [a, b], color=c, lw=1.0)
        ax.plot([x], [mean], marker=marker, ms=4.5, color=c, mfc="white", mew=1.1, ls="none")
        if low <= lo:
            ax.plot([x], [lo], marker="v", ms=3.5, color=c, ls="none", clip_on=False)
        if high >= hi:
            ax.plot([x], [hi], marker="^", ms=3.5, color=c, ls="none", clip_on=False)
    ax.set_ylim(lo, hi)
    return lo, hi


def spikes_figure(panels: dict[str, dict], path: Path, ctx=None) -> Path:
    """C3/C4: per layer, max|h|/median|h| of ReLU² over ReLU (C3) and of clipped over unclipped ReLU² (C4),
    geometric means over seeds as points with their 95% intervals on a log axis set by the means; groups are
    (data, arch) settings."""
    fig, axes = _columns(list(panels), 2.7)
    meta = {"log_axes": {}}
    for family, panel in panels.items():
        ax = axes[family]
        points = _points(ax, panel["c3"], -0.15, color("relu2"), "o") + _points(ax, panel["c4"], 0.15,
                                                                                 color("clipped_relu2"), "s")
        limits = _draw_points(ax, points)
        meta["log_axes"][family] = {"ylim": list(limits), "cut": sum(1 for p in points if p[2] <= limits[0]
                                                                  or p[3] >= limits[1])}
        ticks, labels = [], []
        for index, (name, layers) in enumerate({**panel["c4"], **panel["c3"]}.items()):
            for layer in range(len(layers)):
                ticks.append(index * (len(layers) + 1) + layer)
                labels.append(f"L{layer + 1}")
            ax.text(index * (len(layers) + 1) + (len(layers) - 1) / 2, 1.0, name.replace(" ", "\n"),
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(ticks, labels)
        ax.set_xlim(min(ticks) - 0.6, max(ticks) + 0.6)
        ax.set_yscale("log")
        ax.axhline(1, color="black", lw=0.6)
        ax.set_title(FAMILY_TITLES[family], pad=22)
        ax.grid(alpha=0.25, lw=0.5, axis="y")
    next(iter(axes.values())).set_ylabel("spike ratio (max|h| / median|h|)")
    handles = [matplotlib.lines.Line2D([], [], color=color("relu2"), marker="o", mfc="white", label="C3: ReLU² / ReLU"),
               matplotlib.lines.Line2D([], [], color=color("clipped_relu2"), marker="s", mfc="white",
                                       label="C4: clipped ReLU² / ReLU²"),
               matplotlib.lines.Line2D([], [], color="#444444", marker="^", ls="none", ms=3.5,
                                       label="interval runs off the axis")]
    if not any(axis["cut"] for axis in meta["log_axes"].values()):
        handles = handles[:2]  # no triangle drawn: none explained
    # two columns: three entries in one row ran past the figure's edges
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return save(fig, path, ctx, meta)


def loss_figure(panels: dict[str, dict[str, Estimate]], path: Path, ctx=None) -> Path:
    """C5: held-out loss by activation on real data, mean over seeds with 95% intervals; one panel per family
    (or per architecture within a family, keyed by its title)."""
    fig, axes = _columns(list(panels), 2.5)
    meta = {"axes": {}}
    for family, losses in panels.items():
        ax = axes[family]
        acts = [a for a, e in losses.items() if e.n]
        bounds = {act: ((losses[act].ci_low, losses[act].ci_high) if losses[act].defined
                        else (losses[act].mean, losses[act].mean)) for act in acts}
        meta["axes"][family] = info = apply_limits(ax, {act: np.array(bounds[act]) for act in acts})
        for index, act in enumerate(acts):
            if act in info["dropped"]:  # off the scale of the others: named, not drawn
                continue
            (low, high), mean = bounds[act], losses[act].mean
            ax.errorbar([index], [mean], yerr=[[mean - low], [high - mean]], fmt="o", ms=4,
                        color=color(act, acts), capsize=2)
        for index, act in enumerate(acts):  # the off-scale values, in their own columns, pointing up
            if act in info["dropped"]:
                ax.text(index, 0.97, f"↑ {losses[act].mean:.3g}", transform=ax.get_xaxis_transform(), rotation=90,
                        fontsize=7, ha="center", va="top", color=color(act, acts))
        ax.set_xticks(range(len(acts)), [act_label(a) for a in acts], rotation=50, ha="right",
                      rotation_mode="anchor")
        ax.set_xlim(-0.6, len(acts) - 0.4)
        ax.set_title(FAMILY_TITLES.get(family, family))
        ax.grid(alpha=0.25, lw=0.5, axis="y")
    next(iter(axes.values())).set_ylabel("held-out cross-entropy")
    return save(fig, path, ctx, meta)
