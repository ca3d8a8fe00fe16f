"""The R6 figure: per block, the coefficient of sigma sigma' relative to the unnormalized network."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from .style import act_label, apply_limits, color, new_figure, save

__all__ = ["residual_figure"]

_INIT_MARKERS = {"normal": "o", "uniform": "^"}


def residual_figure(panels: dict, path: Path, ctx=None) -> Path:
    """``panels``: loss -> act -> {"derived": {block: numbers}, "measured": [numbers per init and block]}."""
    losses = list(panels)
    fig, axes = new_figure(1, len(losses), 2.4, width=min(6.6, 3.2 * len(losses)))
    acts = list(dict.fromkeys(act for by_act in panels.values() for act in by_act))
    meta = {"axes": {}}
    for ax, loss in zip(axes[0], losses):
        series = {}
        for offset, (act, data) in enumerate(panels[loss].items()):
            c = color(act, acts)
            blocks = sorted(data["derived"])
            derived = np.array([data["derived"][b]["relative_to_plain"] for b in blocks])
            ax.plot(blocks, derived, color=c, lw=1.1)
            values = list(derived)
            for m in data["measured"]:
                plain = data["derived"][m["block"]]["plain_coefficient"]
                x = m["block"] + 0.08 * (offset - 0.5) + (0.04 if m["init"] == "uniform" else 0)
                ratio, half = m["coefficient"] / plain, 1.96 * m["coefficient_stderr"] / abs(plain)
                ax.errorbar([x], [ratio], yerr=[half], fmt=_INIT_MARKERS.get(m["init"], "s"), ms=3.2, color=c,
                            mfc="white", elinewidth=0.8, capsize=1.5)
                values += [ratio - half, ratio + half]
            series[act] = np.array(values)
        meta["axes"][loss] = apply_limits(ax, series)
        ax.axhline(0, color="black", lw=0.5)
        ax.axhline(1, color="#999999", lw=0.5, ls=":")
        ax.set_xticks(sorted({b for data in panels[loss].values() for b in data["derived"]}))
        ax.set_xlabel("block")
        ax.set_title(loss.upper())
        ax.grid(alpha=0.25, lw=0.5)
    axes[0][0].set_ylabel("c / c without norm")
    handles = [matplotlib.lines.Line2D([], [], color=color(a, acts), lw=2, label=act_label(a)) for a in acts]
    handles += [matplotlib.lines.Line2D([], [], color="#444444", marker=m, mfc="white", ls="none", label=f"MC, {i}")
                for i, m in _INIT_MARKERS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    return save(fig, path, ctx, meta)
