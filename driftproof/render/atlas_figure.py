"""The atlas figure: every activation placed by its drift coefficient E[σσ'] (relative to ReLU's) against the
change of sparsity in its training on digits, labelled; drawn from the atlas rows (nothing recomputed).

Points that would print on top of each other share one label (at most four names, then "+k").
Top: the fraction of exact zeros at the last hidden layer, for the activations that are exactly 0 on an
interval (for the others it is 0 throughout, and they are counted in the title). Bottom: the fraction with
p <= 0, for every activation. Bars are the 95% Student-t intervals over seeds; a hollow marker has no interval
(fewer than 5 seeds that did not diverge). Activations that were refused, or whose every run diverged, are not
drawn as data: the caption names them.
"""

from __future__ import annotations

import math

from .figure import new_figure

__all__ = ["atlas_figure", "left_out"]


def left_out(result) -> dict[str, list[str]]:
    """The activations not drawn, by why: not trained (refused, or no summary), every run diverged."""
    out: dict[str, list[str]] = {"not trained": [], "every run diverged": []}
    for r in result.rows:
        t = r.training
        if not t or "refused" in t:
            out["not trained"].append(r.name)
        elif t.get("all_diverged"):
            out["every run diverged"].append(r.name)
    return out


def _symlog(x: float) -> float:
    return math.copysign(math.log10(1 + abs(x) / 0.1), x)


def _has_exact_zeros(row) -> bool:
    return row.zero_set not in ("none", "isolated points")


FONT = 7.0  # the smallest font: the report prints the figure at its own width (6.6 in) and wants >= 7 pt


# where a label may sit beside its point (offset in points, horizontal alignment), tried in this order
_SPOTS = tuple((dx, dy, "left" if dx > 0 else "right") for dy in (2, -9, 11, -18, 20, -27, 29, -36, 38)
               for dx in (4, -4))


def _label_apart(figure, ax, items: list[tuple], points: list[tuple]) -> None:
    """Label each point at the first spot (:data:`_SPOTS`) where its text overlaps no label already placed and
    no drawn point, and stays inside the axes; the highest points first. A label that finds no free spot takes
    the first one (it may then touch another): every point stays named."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    canvas = figure.canvas if hasattr(figure.canvas, "get_renderer") else FigureCanvasAgg(figure)
    figure.draw_without_rendering()  # the layout settled: the axes' frames and limits are final
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    radius = 3.0 * figure.dpi / 72  # a marker of 4 pt, and a little room
    taken = [Bbox.from_extents(px - radius, py - radius, px + radius, py + radius)
             for px, py in ax.transData.transform(np.asarray(points, float).reshape(-1, 2))]
    for x, y, text in sorted(items, key=lambda item: -item[1]):
        for dx, dy, align in _SPOTS:
            label = ax.annotate(text, (x, y), fontsize=FONT, xytext=(dx, dy), textcoords="offset points", color="0.2",
                                ha=align, va="bottom")
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                break
            label.remove()
        else:  # no free spot: the first one, drawn anyway
            label = ax.annotate(text, (x, y), fontsize=FONT, xytext=_SPOTS[0][:2], textcoords="offset points",
                                color="0.2", ha=_SPOTS[0][2], va="bottom")
            box = label.get_window_extent(renderer)
        taken.append(box)


def atlas_figure(result, title: str = "", notes: bool = True, height: float = 9.0):
    """Two panels, one above the other, 6.6 in wide (module docstring); ``notes``: the setup and what is not
    drawn in the title (the report's caption says it instead); ``height`` in inches. Returns a matplotlib
    Figure (not shown)."""
    from matplotlib import colormaps

    skipped = {n for names in left_out(result).values() for n in names}
    rows = [r for r in result.rows if r.name not in skipped]
    families = sorted({r.family for r in result.rows})
    colours = {f: colormaps["tab20"](2 * i % 20 + (2 * i // 20)) for i, f in enumerate(families)}
    figure, axes = new_figure(6.6, height, 2, 1, height_ratios=[1, 1.5])  # the top panel holds 12 points
    top, bottom = axes[0][0], axes[1][0]
    panels = ((top, "zero_frac_change", "Δ fraction of exact zeros (end − start)",
               [r for r in rows if _has_exact_zeros(r)]),
              (bottom, "nonpos_frac_change", "Δ fraction with p ≤ 0 (end − start)", rows))
    placed = []  # (axes, [(x, y, label)]): labelled once the axes' limits are final
    points = []  # (axes, x, y): no label is set on a point
    for ax, key, ylabel, chosen in panels:
        labels: dict[tuple, list] = {}  # points that would print on top of each other share one label
        for r in chosen:
            estimate = r.training.get(key) or {}
            mean, low, high = estimate.get("mean"), estimate.get("ci_low"), estimate.get("ci_high")
            if mean is None:
                continue
            x = r.drift_relative_to_relu
            colour = colours[r.family]
            interval = low is not None and high is not None and math.isfinite(low) and math.isfinite(high)
            if interval:
                ax.errorbar([x], [mean], yerr=[[mean - low], [high - mean]], fmt="none", ecolor=colour, lw=0.8,
                            alpha=0.7)
            ax.plot([x], [mean], "o", ms=4, color=colour, mfc=colour if interval else "white")
            points.append((ax, x, mean))
            cell = (round(_symlog(x) * 8), round(mean * 40))
            labels.setdefault(cell, [x, mean, []])[2].append(r.name)
        placed.append((ax, [(x, mean, ", ".join(names[:4]) + (f" +{len(names) - 4}" if len(names) > 4 else ""))
                            for x, mean, names in labels.values()]))
        ax.axhline(0.0, color="black", lw=0.6)
        ax.axvline(0.0, color="0.6", lw=0.6, ls=":")
        ax.set_xscale("symlog", linthresh=0.1)
        xs = [r.drift_relative_to_relu for r in chosen] or [0.0]
        ax.set_xlim(min(-0.2, 2 * min(xs)), max(2.0, 3 * max(xs)))  # room for the labels at both ends
        ax.set_xlabel("drift coefficient E[σσ'(p)] / ReLU's, p ~ N(0, %g) (symlog)" % result.q, fontsize=FONT + 1)
        ax.set_ylabel(ylabel, fontsize=FONT + 1)
        ax.tick_params(labelsize=FONT)
    no_zeros = sum(1 for r in rows if not _has_exact_zeros(r))
    top.set_title(f"exactly 0 on an interval ({len(rows) - no_zeros}); the other {no_zeros} have no exact zeros",
                  fontsize=FONT + 1)
    bottom.set_title(f"every activation trained ({len(rows)})", fontsize=FONT + 1)
    for family, colour in colours.items():
        bottom.plot([], [], "o", color=colour, label=family, ms=4)
    # below the panels, not over the points the labels need room beside
    figure.legend(*bottom.get_legend_handles_labels(), fontsize=FONT, loc="outside lower center", ncol=5,
                  title="family", title_fontsize=FONT, frameon=False)
    for ax, items in placed:
        _label_apart(figure, ax, items, [(x, y) for a, x, y in points if a is ax])
    if notes or title:
        skipped = "; ".join(f"{why}: {', '.join(names)}" for why, names in left_out(result).items() if names)
        setup = next((r.training["setup"] for r in rows if r.training and "setup" in r.training), "")
        text = (f"training: {setup}.\nBars: 95% t-intervals over seeds; hollow: no interval (n < 5)"
                + (f"\nnot drawn: {skipped}" if skipped else "")) if notes else ""
        figure.suptitle("\n".join(t for t in (title, text) if t), fontsize=FONT, wrap=True)
    return figure
