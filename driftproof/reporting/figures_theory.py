"""Theory figures of the report: R3's sign maps, the headline E[δ|p] against p (theory beside Monte Carlo),
and the mean-field gap to Monte Carlo by width."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from ..render.plots import SIGN_COLOURS, draw_sign_map
from .style import TEXT_WIDTH, act_label, apply_limits, color, linestyle, marker, new_figure, save

__all__ = ["sign_map_figure", "headline_figure", "width_gap_figure"]



def _grid(n: int, columns: int = 4) -> tuple[int, int]:
    columns = min(columns, max(n, 1))
    return int(np.ceil(n / columns)), columns


def sign_map_figure(panels: list[dict], path: Path, ctx=None) -> Path:
    """sigma sigma'(p) per activation, shaded by the sign intervals (R3); an asinh axis where the values span
    orders of magnitude, so a small negative dip stays visible beside large positive values."""
    rows, columns = _grid(len(panels))
    fig, axes = new_figure(rows, columns, 1.55 * rows + 0.45)
    for ax, panel in zip(axes.flat, panels):
        draw_sign_map(ax, panel["grid"], panel["values"], panel["intervals"], panel["roots"])
        ax.set_title(act_label(panel["name"]))
        ax.set_xlabel("pre-activation p")
        ax.grid(alpha=0.25, lw=0.5)
    axes[0][0].set_ylabel("σ(p)σ'(p)")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = [matplotlib.patches.Patch(color=SIGN_COLOURS[s], alpha=0.4, label=label)
               for s, label in ((1, "σσ' > 0"), (-1, "σσ' < 0"), (0, "σσ' = 0"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return save(fig, path, ctx)


def _thin(p: np.ndarray, count: int, shift: float = 0.0) -> np.ndarray:
    """Indices of about ``count`` units spread evenly over the sorted pre-activations, starting ``shift`` of a
    step in (two losses drawn over the same units take alternate ones, so neither's markers hide the other's)."""
    order = np.argsort(p)
    step = (len(order) - 1) / max(count - 1, 1)
    positions = (np.arange(count) + shift) * step
    return order[np.unique(positions[positions <= len(order) - 1].round().astype(int))]


def headline_figure(panels: list[dict], path: Path, ctx=None, points: int = 28) -> Path:
    """E[δ_i | p] against p_i, one panel per activation: the theory (R1 for MSE, R2 for CE) as a line per loss,
    Monte Carlo estimates of about ``points`` units per loss with 95% error bars.

    ``panels``: dicts with ``act`` and ``losses``: {loss: {p, mc, se, theory}} (arrays over the layer's units).
    """
    rows, columns = _grid(len(panels))
    fig, axes = new_figure(rows, columns, 1.6 * rows + 0.45)
    acts = [panel["act"] for panel in panels]
    meta = {"axes": {}}
    for ax, panel in zip(axes.flat, panels):
        c, series = color(panel["act"], acts), {}
        for index, (loss, data) in enumerate(panel["losses"].items()):
            p, mc, se, theory = (np.asarray(data[k], dtype=float) for k in ("p", "mc", "se", "theory"))
            order = np.argsort(p)
            ax.plot(p[order], theory[order], color=c, ls=linestyle(loss), lw=1.1)
            keep = _thin(p, points, shift=index / max(len(panel["losses"]), 1))
            ax.errorbar(p[keep], mc[keep], yerr=1.96 * se[keep], fmt=marker(loss), ms=2.6, mfc="white", mec=c,
                        ecolor=c, elinewidth=0.7, capsize=0, mew=0.8)
            series[loss] = np.concatenate([theory, mc[keep] - 1.96 * se[keep], mc[keep] + 1.96 * se[keep]])
        meta["axes"][panel["act"]] = apply_limits(ax, series)
        ax.axhline(0, color="black", lw=0.5)
        ax.axvline(0, color="black", lw=0.3, ls=":")
        ax.set_title(act_label(panel["act"]))
        ax.set_xlabel("pre-activation $p_i$")
        ax.grid(alpha=0.25, lw=0.5)
    for row in axes:
        row[0].set_ylabel(r"$E[\delta_i \mid p]\,/\,C$")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    losses = list(dict.fromkeys(loss for panel in panels for loss in panel["losses"]))
    handles = []
    for loss in losses:
        handles.append(matplotlib.lines.Line2D([], [], color="#444444", ls=linestyle(loss),
                                               label=f"theory, {loss.upper()} ({'R1' if loss == 'mse' else 'R2'})"))
        handles.append(matplotlib.lines.Line2D([], [], color="#444444", ls="none", marker=marker(loss), mfc="white",
                                               ms=4, label=f"Monte Carlo, {loss.upper()} (95%)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return save(fig, path, ctx, meta)


def width_gap_figure(series: list[dict], path: Path, ctx=None) -> Path:
    """Relative gap between Monte Carlo and mean field (R4) against width, with a 1/N reference line."""
    fig, axes = new_figure(1, 1, 2.7, width=0.62 * TEXT_WIDTH)
    ax = axes[0][0]
    acts = list(dict.fromkeys(item["act"] for item in series))
    markers = "os^Dv"
    anchors = []
    for item in series:
        widths, gaps, errors = (np.array(v, dtype=float) for v in zip(*item["points"]))
        ax.errorbar(widths, np.maximum(gaps, 1e-5), yerr=1.96 * errors, marker=markers[(item["layer"] - 1) % 5],
                    ms=3.2, lw=1, capsize=2, color=color(item["act"], acts),
                    ls="-" if item["layer"] == max(i["layer"] for i in series) else "--")
        anchors.append(gaps[0] * widths[0])
    widths = np.array(sorted({w for item in series for w, _, _ in item["points"]}), dtype=float)
    if anchors:
        ax.plot(widths, np.median(anchors) / widths, color="#999999", lw=1.4, ls=":", label="∝ 1/N")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden width N")
    ax.set_ylabel("|MC − R4| / R4")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    handles = [matplotlib.lines.Line2D([], [], color=color(a, acts), lw=2, label=act_label(a)) for a in acts]
    handles += [matplotlib.lines.Line2D([], [], color="#444444", marker=markers[layer - 1], ls="none",
                                        label=f"layer {layer}") for layer in sorted({i["layer"] for i in series})]
    handles += [matplotlib.lines.Line2D([], [], color="#999999", ls=":", lw=1.4, label="∝ 1/N")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    return save(fig, path, ctx)
