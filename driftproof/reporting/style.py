"""The report's figure style: one colour per activation, one line style per loss, robust axes.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
figures are drawn at the width at which the PDF places them, so a font size here is the size
printed (never below ``MIN_FONT`` points).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.mathtext  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["act_label", "act_text", "TEXT_WIDTH", "MIN_FONT", "AXIS_MULTIPLE", "color", "linestyle", "marker", "new_figure", "save",
           "robust_limits", "apply_limits", "activation_legend"]

TEXT_WIDTH = 6.6  # inches: A4 with 2 cm margins is 6.69 in; figures are placed at their own width
MIN_FONT = 7.0
# A series whose range would stretch an axis beyond AXIS_MULTIPLE times the range of the others is
# not drawn on it (it is listed in the caption as off scale): one series must not flatten the rest.
AXIS_MULTIPLE = 20.0
_OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")
_ACT_COLORS = {"relu": 0, "gelu": 1, "silu": 2, "relu2": 3, "clipped_relu2": 4, "gelu2": 5, "tanh": 6}
_LOSS_STYLES = {"mse": "-", "ce": "--"}
_LOSS_MARKERS = {"mse": "o", "ce": "s"}
RC = {"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
      "legend.fontsize": 7, "figure.titlesize": 8, "pdf.fonttype": 42, "axes.spines.top": False,
      "axes.spines.right": False, "lines.linewidth": 1.1}


def color(act: str, others: list[str] | None = None) -> str:
    """The activation's colour; a custom activation takes the next free one (grey when they run out)."""
    if act in _ACT_COLORS:
        return _OKABE_ITO[_ACT_COLORS[act]]
    extra = [a for a in (others or []) if a not in _ACT_COLORS]
    index = extra.index(act) if act in extra else 0
    return _OKABE_ITO[7] if index >= 1 else "#882255"


# The paper's spelling of the activations the report draws most (the text writes ReLU², not relu2).
DISPLAY_NAMES = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "relu2": "ReLU²", "clipped_relu2": "clipped ReLU²",
                 "gelu2": "GELU²"}


def act_text(name: str) -> str:
    """An activation as running text names it (for tex_prose): ReLU², a custom expression as typed."""
    return DISPLAY_NAMES.get(name, name)


def act_label(name: str) -> str:
    """An activation as a figure names it: a registered name as it is, a custom expression as math (SymPy's
    LaTeX printer, drawn by matplotlib's mathtext; ``**`` for a power where mathtext cannot draw it), never
    with a literal caret."""
    if name in DISPLAY_NAMES:
        return DISPLAY_NAMES[name]
    if re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return name
    try:
        import sympy as sp

        from ..activations import get_activation

        tex = "$" + sp.latex(get_activation(name).expr) + "$"
        matplotlib.mathtext.MathTextParser("path").parse(tex)
        return tex
    except Exception:  # noqa: BLE001 - any expression mathtext cannot draw falls back to plain text
        return name.replace("^", "**")


def linestyle(loss: str) -> str:
    return _LOSS_STYLES.get(loss, ":")


def marker(loss: str) -> str:
    return _LOSS_MARKERS.get(loss, "^")


def new_figure(rows: int, columns: int, height: float, width: float = TEXT_WIDTH, **kwargs):
    """A figure of the placed size with the report's fonts, constrained layout."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False, layout="constrained",
                                 **kwargs)
    return fig, axes


def _min_font(fig) -> float:
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]
    return min(sizes) if sizes else MIN_FONT


def save(fig, path: Path, ctx=None, meta: dict | None = None) -> Path:
    """Vector PDF plus a PNG beside it, at the figure's own size (no cropping: placed 1:1); close it.

    Records the figure's width, its smallest font and ``meta`` (axis limits, dropped series) in the
    report's results, for the tests.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(RC):
        fig.savefig(path.with_suffix(".pdf"))
        fig.savefig(path.with_suffix(".png"), dpi=150)
    if ctx is not None:
        ctx.record("figures", path.stem, {"width_in": float(fig.get_figwidth()), "min_font": _min_font(fig),
                                          **(meta or {})})
    plt.close(fig)
    return path.with_suffix(".pdf")


def _span(values: list[np.ndarray]) -> tuple[float, float] | None:
    finite = [v[np.isfinite(v)] for v in values]
    finite = [v for v in finite if v.size]
    if not finite:
        return None
    return float(min(v.min() for v in finite)), float(max(v.max() for v in finite))


def robust_limits(series: dict[str, np.ndarray], multiple: float = AXIS_MULTIPLE, pad: float = 0.06):
    """Axis limits from the finite values of ``series``, leaving out any series that would stretch the
    range beyond ``multiple`` times the range of the others; returns ((lo, hi) or None, dropped labels).

    "The others" is the bulk: the smaller half of the series by magnitude (at least two, when there
    are three or more), so that two blown-up series cannot vouch for each other (held-out losses of
    1e8 beside losses of 2 once set an axis). With two series, each is judged against the other.
    """
    arrays = {label: np.asarray(values, dtype=float) for label, values in series.items()}
    spans = {label: _span([v]) for label, v in arrays.items()}
    spans = {label: span for label, span in spans.items() if span is not None}
    by_size = sorted(spans, key=lambda label: max(abs(spans[label][0]), abs(spans[label][1])))
    bulk = by_size[:max(2, (len(by_size) + 1) // 2)] if len(by_size) > 2 else by_size
    dropped = []
    for label in spans:
        reference = [spans[key] for key in bulk if key != label] or [spans[label]]
        lo, hi = min(r[0] for r in reference), max(r[1] for r in reference)
        width = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1e-300))
        union = max(hi, spans[label][1]) - min(lo, spans[label][0])
        if union > multiple * width and len(spans) - len(dropped) > 1:
            dropped.append(label)
    kept = _span([v for key, v in arrays.items() if key not in dropped])
    if kept is None:
        return None, dropped
    lo, hi = kept
    margin = pad * (hi - lo) if hi > lo else max(abs(hi), 1e-12) * 0.1
    return (lo - margin, hi + margin), dropped


def apply_limits(ax, series: dict[str, np.ndarray], multiple: float = AXIS_MULTIPLE) -> dict:
    """Set the y-limits robustly; returns what the tests check: limits, each series' span, dropped labels."""
    limits, dropped = robust_limits(series, multiple)
    if limits is not None:
        ax.set_ylim(*limits)
    spans = {label: _span([np.asarray(v, dtype=float)]) for label, v in series.items() if label not in dropped}
    return {"ylim": list(limits) if limits else None, "spans": spans, "dropped": dropped}


def activation_legend(fig, acts: list[str], losses: list[str], columns: int | None = None,
                      palette: list[str] | None = None) -> None:
    """One legend below the panels: a colour per activation, a line style per loss. ``palette``: the
    activations the colours were given from, when ``acts`` is a part of them."""
    handles = [matplotlib.lines.Line2D([], [], color=color(a, palette or acts), lw=2, label=act_label(a))
               for a in acts]
    handles += [matplotlib.lines.Line2D([], [], color="#444444", ls=linestyle(l), lw=1.2, label=l.upper())
                for l in losses]
    fig.legend(handles=handles, loc="outside lower center", ncol=columns or min(len(handles), 9), frameon=False,
               fontsize=7)
