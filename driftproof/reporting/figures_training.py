"""Training figures of the report: persistence of the sign per layer, and the self/label split."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np

from .style import AXIS_MULTIPLE, act_label, activation_legend, apply_limits, color, linestyle, new_figure, save

__all__ = ["persistence_figure", "split_figure", "band"]

SIGN_AXIS_FROM = 10  # the sign row's axis is set by the steps after the first 1/SIGN_AXIS_FROM of the run
_ROWS = (("sign", "sign statistic, running\nmean / its largest size"), ("b_mean", "mean bias"),
         ("zero_frac", "sparsity (h = 0)"))


def band(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (rows) and its 95% Student-t band, at each step over the seeds with a finite value there;
    no band (low = high = the mean) where fewer than MIN_INTERVAL_N = 5 seeds have one (DESIGN.md §3)."""
    from ..training.summary import MIN_INTERVAL_N

    stacked = np.atleast_2d(np.asarray(stacked, dtype=float))
    n = np.isfinite(stacked).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a step no seed reached: NaN mean, no band
        mean = np.nanmean(stacked, axis=0)
        sd = np.nanstd(stacked, axis=0, ddof=1)
    t = {int(k): _t975(int(k)) for k in np.unique(n) if k >= MIN_INTERVAL_N}
    half = np.array([t[int(k)] * s / math.sqrt(k) if int(k) in t else 0.0 for k, s in zip(n, sd)])
    return mean, mean - half, mean + half


def _bounded(arrays, bound: float | None) -> bool:
    """True when every finite value of ``arrays`` lies within +-``bound`` (None: no bound is known)."""
    return bound is not None and all(np.all(np.abs(a[np.isfinite(a)]) <= bound) for a in map(np.asarray, arrays))


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


def _draw(ax, step, run: dict, stacked: np.ndarray, acts: list[str], skip: int = 0) -> np.ndarray:
    """Mean and band of one run; returns the band's values from logged step ``skip`` on (what sets the axis)."""
    mean, lo, hi = band(stacked)
    c = color(run["act"], acts)
    ax.fill_between(step, lo, hi, color=c, alpha=0.18, lw=0)
    ax.plot(step, mean, color=c, ls=linestyle(run["loss"]), lw=1.1)
    return np.concatenate([lo[skip:], hi[skip:]])


def persistence_figure(runs: list[dict], depth: int, path: Path, ctx=None, bound: float | None = None) -> Path:
    """Rows: normalized running mean of the sign statistic, mean bias, sparsity; columns: layers.

    Runs with a diverged seed are left out (the caption lists them); every axis's limits come from
    the drawn runs by :func:`~driftproof.reporting.style.apply_limits`. ``bound``: the size past which a mean
    bias counts as blown up (the caller's rule); a mean-bias axis whose series all stay within it keeps them all.
    """
    drawn = [r for r in runs if not r["diverged"]]
    acts = list(dict.fromkeys(r["act"] for r in runs))
    # two figures stack on one page (a taller one alone leaves a float page two-fifths empty, and waits)
    fig, axes = new_figure(len(_ROWS), depth, 1.45 * len(_ROWS) + 0.5, sharex=True)
    meta = {"axes": {}}
    for row, (metric, label) in enumerate(_ROWS):
        for layer in range(1, depth + 1):
            ax, key = axes[row][layer - 1], f"L{layer}.{metric}"
            series = {}
            for run in drawn:
                stacked = _scaled(_stack(run, key)) if metric == "sign" else _stack(run, key)
                # the running mean's first steps average one or two batches: their band would set the axis and
                # flatten the curves where the sign is judged, so the axis is set from the first tenth on
                skip = max(1, len(run["step"]) // SIGN_AXIS_FROM) if metric == "sign" else 0
                series[f"{run['loss']}/{run['act']}"] = _draw(ax, run["step"], run, stacked, acts, skip)
            # a fraction cannot blow up: its axis keeps every series (beside activations without exact zeros,
            # whose sparsity is a constant 0, any ReLU curve would otherwise count as off scale). Nor does a mean
            # bias that stays within +-``bound`` (past which a run counts as blown up): beside the tanh
            # control, whose mean bias stays near 0 by design (R5), a drifting activation would otherwise count
            # as off scale; a larger one is left to the axis guard
            keep_all = metric == "zero_frac" or (metric == "b_mean" and _bounded(series.values(), bound))
            meta["axes"][key] = {**apply_limits(ax, series, math.inf if keep_all else AXIS_MULTIPLE),
                                 "all_kept": keep_all}
            if metric == "sign":
                ax.axhline(0, color="black", lw=0.6)
            ax.set_title(f"layer {layer}" if row == 0 else "")
            ax.set_xlabel("SGD step" if row == len(_ROWS) - 1 else "")
            ax.set_ylabel(label if layer == 1 else "")
            ax.grid(alpha=0.25, lw=0.5)
    # the legend names what is drawn: a run left out as diverged is named in the caption instead
    activation_legend(fig, [a for a in acts if any(r["act"] == a for r in drawn)],
                      list(dict.fromkeys(r["loss"] for r in drawn)), palette=acts)
    return save(fig, path, ctx, meta)


_PARTS = (("self", "#D55E00", "self part (from g(z))"), ("label", "#0072B2", "label part (from -y)"))


def _row_scale(run: dict, depth: int) -> float:
    """The largest size of the seeds' mean self part (trailing mean) over the run's layers: the row's unit."""
    sizes = [np.nanmax(np.abs(np.nanmean(_trailing(_stack(run, f"L{layer}.self")), axis=0)))
             for layer in range(1, depth + 1)]
    finite = [s for s in sizes if np.isfinite(s) and s > 0]
    return max(finite) if finite else 1.0


LINTHRESH = 1e-3  # symmetric log axes are linear within this many units of the row's largest self part


def _collapses(run: dict, depth: int, scale: float) -> bool:
    """True when the self part's mean stays below a tenth of the row's unit over the run's second half in
    some layer (MSE: the readout fits the mean target within a few steps): such a row is drawn on a
    symmetric log axis, else everything after the first steps is a flat line there."""
    half = len(run["step"]) // 2
    late = [np.nanmax(np.abs(np.nanmean(_trailing(_stack(run, f"L{layer}.self")), axis=0)[half:]))
            for layer in range(1, depth + 1)]
    return any(np.isfinite(v) and v < 0.1 * scale for v in late)

def _mark_crossovers(ax, steps: list[int | None], predicted: float | None, last_step: int) -> None:
    """Each seed's crossover step as a short tick above the axis; the prediction as a dashed line (or an arrow
    at the right edge when it lies beyond the run)."""
    for step in (s for s in steps if s is not None):
        ax.axvline(step, ymin=0.9, ymax=1.0, color="#CC79A7", lw=1.6)
    if predicted is not None and np.isfinite(predicted):
        if predicted <= last_step:
            ax.axvline(predicted, color="black", lw=0.9, ls="--")
        else:
            ax.annotate(f"predicted {predicted:.0f} >", xy=(1.0, 0.06), xycoords="axes fraction", ha="right",
                        fontsize=7)


def split_figure(runs: list[dict], path: Path, ctx=None, predicted: dict | None = None) -> Path:
    """Rows: configurations (loss/activation); columns: hidden layers. Each panel: the self and the label part
    of the sign statistic (trailing mean of 10 logged steps; mean over seeds with 95% bands), both divided by
    the row's largest size of the self part's mean, so the label part overtakes where it falls below minus
    the self part; ticks: each seed's crossover step; dashed: the first-order prediction (``predicted``:
    row label -> step, last layer only)."""
    depth = max(run["depth"] for run in runs)
    fig, axes = new_figure(len(runs), depth, 1.45 * len(runs) + 0.75, sharex=True)
    meta = {"axes": {}, "crossovers": {}}
    for row, run in enumerate(runs):
        label, scale = f"{run['loss']}/{run['act']}", _row_scale(run, run["depth"])
        symlog = _collapses(run, run["depth"], scale)
        entries = list(run["summary"].layers.values())
        for layer in range(1, depth + 1):
            ax, series = axes[row][layer - 1], {}
            for part, colour, _ in _PARTS:
                mean, lo, hi = band(_trailing(_stack(run, f"L{layer}.{part}")) / scale)
                ax.fill_between(run["step"], lo, hi, color=colour, alpha=0.2, lw=0)
                ax.plot(run["step"], mean, color=colour, lw=1.1)
                series[part] = np.concatenate([lo, hi])
            # both parts are in units of the row's self part and the run did not diverge: neither is off scale
            meta["axes"][f"{label}.L{layer}"] = {**apply_limits(ax, series, math.inf), "all_kept": True,
                                                 "symlog": symlog}
            if symlog:
                ax.set_yscale("symlog", linthresh=LINTHRESH)
                # every second decade labelled: a label per decade collides in a panel this small
                low, high = ax.get_ylim()
                ax.set_yticks([t for t in (-1, -1e-2, 0, 1e-2, 1) if low <= t <= high])
                ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.axhline(0, color="black", lw=0.6)
            crossover = entries[layer - 1].crossover or ()
            meta["crossovers"][f"{label}.L{layer}"] = list(crossover)
            last = layer == run["depth"]
            _mark_crossovers(ax, list(crossover), (predicted or {}).get(label) if last else None, run["step"][-1])
            ax.set_title(f"{run['loss'].upper()} {act_label(run['act'])}, layer {layer}", fontsize=8)
            ax.set_xlabel("step" if row == len(runs) - 1 else "")
            ax.set_ylabel(("part / largest\n|self part|" + (" (symlog)" if symlog else "")) if layer == 1 else "")
            ax.grid(alpha=0.25, lw=0.5)
    handles = [matplotlib.lines.Line2D([], [], color=c, lw=2, label=text) for _, c, text in _PARTS]
    handles += [matplotlib.lines.Line2D([], [], color="#CC79A7", lw=1.6, label="crossover, one tick per seed")]
    if predicted:
        handles += [matplotlib.lines.Line2D([], [], color="black", lw=0.9, ls="--", label="first-order prediction")]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=7)
    return save(fig, path, ctx, meta)


def _t975(n: int) -> float:
    """Student-t 0.975 quantile with n - 1 degrees of freedom; scipy.special is imported here, not at
    import time (it costs every command ~0.2 s, and the command line imports this module to build its parsers)."""
    from scipy.special import stdtrit

    return float(stdtrit(n - 1, 0.975))
