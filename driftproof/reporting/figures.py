"""Report figures (matplotlib, Agg backend, vector PDF). One function per figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["sign_map_figure", "persistence_figure", "width_gap_figure", "save"]

_COLORS = {1: "#2a9d8f", -1: "#e63946", 0: "#adb5bd"}


def save(fig, path: Path) -> Path:
    """Write ``fig`` as vector PDF (and a PNG beside it for quick viewing); close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path.with_suffix(".pdf"), bbox_inches="tight")
    fig.savefig(path.with_suffix(".png"), dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.with_suffix(".pdf")


def sign_map_figure(panels: list[dict], path: Path) -> Path:
    """sigma sigma'(p) for each activation, background shaded by the sign intervals (R3).

    ``panels``: dicts with ``name``, ``grid``, ``values``, ``intervals`` (lo, hi, sign), ``roots``.
    """
    columns = min(4, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        grid, values = np.asarray(panel["grid"]), np.asarray(panel["values"])
        lo_x, hi_x = grid[0], grid[-1]
        for lo, hi, sign in panel["intervals"]:
            ax.axvspan(max(lo, lo_x), min(hi, hi_x), color=_COLORS[sign], alpha=0.18, lw=0)
        ax.plot(grid, values, color="black", lw=1.2)
        ax.axhline(0, color="black", lw=0.5)
        for root in panel["roots"]:
            if lo_x <= root <= hi_x:
                ax.axvline(root, color="#1d3557", lw=0.7, ls="--")
                if root != 0:
                    ax.annotate(f"{root:.4f}", (root, 0), textcoords="offset points", xytext=(2, 6), fontsize=7)
        finite = values[np.isfinite(values)]
        # an asinh axis keeps a small negative dip (GELU: -0.1 against +16) visible beside large values
        if finite.size and np.abs(finite).max() > 0:
            width = max(1e-3, 0.5 * abs(min(finite.min(), 0)), 0.02 * np.abs(finite).max() ** 0.5)
            ax.set_yscale("asinh", linear_width=width)
            ax.set_ylim(1.3 * min(finite.min(), 0) - 1e-3, 1.3 * max(finite.max(), 0) + 1e-3)
        ax.set_title(panel["name"], fontsize=9)
        ax.set_xlabel("pre-activation p", fontsize=8)
        ax.set_ylabel("σ(p)σ'(p)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = [matplotlib.patches.Patch(color=_COLORS[s], alpha=0.35, label=label)
               for s, label in ((1, "σσ' > 0"), (-1, "σσ' < 0"), (0, "σσ' = 0"))]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save(fig, path)


def persistence_figure(panels: list[dict], depth: int, path: Path, title: str) -> Path:
    """Rows: running mean of the sign statistic, mean bias, sparsity; columns: layers."""
    metrics = (("sign", "running mean of sign statistic"), ("b_mean", "mean bias"), ("zero_frac", "sparsity (h = 0)"))
    fig, axes = plt.subplots(len(metrics), depth, figsize=(3.6 * depth, 2.4 * len(metrics)), squeeze=False,
                             sharex=True)
    cmap = plt.get_cmap("tab10")
    for row, (metric, label) in enumerate(metrics):
        for layer in range(1, depth + 1):
            ax = axes[row][layer - 1]
            for index, panel in enumerate(panels):
                curves = panel["curves"]
                values = np.asarray(curves[f"L{layer}.{metric}"], dtype=float)
                values[~np.isfinite(values) | (np.abs(values) > 1e30)] = np.nan  # a diverged run ends its line
                ax.plot(curves["step"], values, lw=1.1, color=cmap(index % 10),
                        label=panel["label"] if (row, layer) == (0, 1) else None)
            if metric == "sign":
                ax.axhline(0, color="black", lw=0.6)
                ax.set_yscale("asinh", linear_width=1e-3)
            if row == 0:
                ax.set_title(f"layer {layer}", fontsize=9)
            if row == len(metrics) - 1:
                ax.set_xlabel("SGD step", fontsize=8)
            if layer == 1:
                ax.set_ylabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.legend(loc="lower center", ncol=min(len(panels), 5), fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.01))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return save(fig, path)


def width_gap_figure(series: list[dict], path: Path) -> Path:
    """Relative gap between Monte Carlo and mean field against width, one line per (activation, layer)."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for item in series:
        widths, gaps, errors = (np.array(v, dtype=float) for v in zip(*item["points"]))
        ax.errorbar(widths, np.maximum(gaps, 1e-5), yerr=errors, marker="o", ms=3, lw=1, capsize=2,
                    label=item["label"])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden width N")
    ax.set_ylabel("relative gap, Monte Carlo vs R4")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return save(fig, path)
