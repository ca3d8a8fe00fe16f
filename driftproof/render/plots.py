"""Figures the results draw of themselves (``.plot()``): matplotlib Figures, never shown.

Built on ``matplotlib.figure.Figure`` (no pyplot, no global state, no window): a notebook
displays the returned figure, a script saves it. Non-finite values are never drawn; diverged
training runs and sweep configurations are left out and named.
"""

from __future__ import annotations

import numpy as np

from ..archs import get_arch
from .figure import new_figure

__all__ = ["new_figure", "draw_sign_map", "sign_map_curve", "SIGN_COLOURS", "draw_conditional", "sign_map_figure", "verification_figure",
           "claims_figure", "transformer_figure", "CONFIG_FIELDS"]

CONFIG_FIELDS = ("loss", "act", "init", "scale", "width", "depth", "classes", "input_dim", "seed")
SIGN_COLOURS = {1: "#0072B2", -1: "#D55E00", 0: "#999999"}  # Okabe-Ito: blue +, vermillion −, grey 0


def _finite(xs, ys):
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    return xs[keep], ys[keep]


def sign_map_curve(activation, lo: float = -4.0, hi: float = 4.0, points: int = 801):
    """(p, σσ'(p)) on an even grid of [lo, hi]: the curve a sign map is drawn over."""
    p = np.linspace(lo, hi, points)
    with np.errstate(all="ignore"):
        values = np.broadcast_to(activation.numpy_sigma_dsigma(p), p.shape)
    return p, values


def _interval(interval) -> tuple[float, float, int, bool]:
    """(lo, hi, sign, certified) of a sign map's interval, or of a report's (lo, hi, sign) triple."""
    if isinstance(interval, (tuple, list)):
        return float(interval[0]), float(interval[1]), int(interval[2]), True
    return float(interval.lo), float(interval.hi), int(interval.sign), interval.certified is not False


def draw_sign_map(ax, grid, values, intervals, roots=()) -> None:
    """σσ'(p) over ``grid`` with the sign intervals of R3 shaded in colour-blind-safe colours (SIGN_COLOURS:
    blue +, vermillion −, grey 0; an unproved interval faint), its roots dashed, and an asinh axis where
    the values span orders of magnitude (a small negative dip stays visible beside large positive values).
    The one sign-map drawing: ``Verification.plot()``, ``Derivations.plot()`` and the report's figure."""
    grid, values = np.asarray(grid, dtype=float), np.asarray(values, dtype=float)
    for interval in intervals:
        lo, hi, sign, certified = _interval(interval)
        a, b = max(lo, grid[0]), min(hi, grid[-1])
        if a < b:
            ax.axvspan(a, b, color=SIGN_COLOURS[sign], alpha=0.16 if certified else 0.05, lw=0)
    ax.plot(*_finite(grid, values), color="black", lw=1.1, label="σσ'(p)")
    ax.axhline(0, color="black", lw=0.5)
    for root in roots:
        if grid[0] <= root <= grid[-1]:
            ax.axvline(root, color="#333333", lw=0.7, ls="--")
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() < 0 and finite.max() > 30 * max(-finite.min(), 1e-12):
        _asinh_axis(ax, finite, max(1e-3, 0.5 * abs(finite.min())))


def _asinh_axis(ax, values: np.ndarray, linear_width: float) -> None:
    """An asinh axis with a few labelled ticks that never collide: the minimum, 0, and the decades above
    twice the linear width (the default locator crowds labels around 0)."""
    from matplotlib import ticker

    ax.set_yscale("asinh", linear_width=linear_width)
    low, high = float(values.min()), float(values.max())
    ticks = [float(f"{low:.1g}"), 0.0]
    ticks += [10.0 ** k for k in range(int(np.ceil(np.log10(2 * linear_width))), int(np.floor(np.log10(high))) + 1)]
    ax.set_yticks(ticks)
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(ticker.NullLocator())


def _sign_map_axes(ax, activation, intervals) -> None:
    draw_sign_map(ax, *sign_map_curve(activation), intervals)
    ax.set_xlabel("p")
    ax.set_ylabel("σ(p) σ'(p)")
    ax.set_title(f"sign map of {activation.name} (R3): shaded blue +, vermillion −", fontsize=8)


def draw_conditional(ax, p, means, stderrs, layer: int, label: str, theory=None, theory_method: str = "") -> None:
    """Monte Carlo E[δ_i | p] per unit with 95% bars, beside the theory's prediction at each unit (R1/R2 or
    R4, as computed with the estimate; none drawn when ``theory`` is None)."""
    p, means, stderrs = (np.asarray(a, dtype=float) for a in (p, means, stderrs))
    order = np.argsort(p)
    p, means, errors = p[order], means[order], 1.96 * stderrs[order]
    keep = np.isfinite(p) & np.isfinite(means) & np.isfinite(errors)
    ax.errorbar(p[keep], means[keep], yerr=errors[keep], fmt=".", ms=3, lw=0.6, label=label)
    if theory is not None:
        ax.plot(*_finite(p, np.asarray(theory, dtype=float)[order]), "-", lw=1.2, label=f"theory ({theory_method})")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(f"p_i (layer {layer})")
    ax.set_ylabel("E[δ_i | p]")
    ax.legend(fontsize=7)


def sign_map_figure(activation, intervals, title: str = ""):
    figure, axes = new_figure(6.0, 3.6)
    _sign_map_axes(axes[0][0], activation, intervals)
    if title:
        figure.suptitle(title, fontsize=8)
    return figure


def verification_figure(verification):
    """The sign map (R3) beside E[δ_i | p] against p, as ``verify`` computed them: the Monte Carlo row of
    the verification's own init holds every unit's estimate and the theory's prediction for it (a
    verification without that row, e.g. ``only="symbolic"`` or one saved before it was stored, draws the
    sign map alone and says so)."""
    from ..activations import get_activation

    own = verification.config.get("arch")
    if own == "torch":  # a user's PyTorch model (driftproof.torch.check_init), not a registry architecture
        from .probe import probe_figure

        return probe_figure(verification)
    if own is not None and get_arch(own).renderer() is not None:  # it draws what its own rows measured
        return get_arch(own).renderer().figure(verification)
    activation = get_activation(verification.config["act"])
    figure, axes = new_figure(11.0, 4.0, 1, 2)
    r3 = verification.rows(result="R3")
    _sign_map_axes(axes[0][0], activation, r3[0].numbers.intervals if r3 else ())
    units = [row for row in verification.rows(kind="montecarlo", result="MC") if row.numbers.units]
    ax = axes[0][1]
    if units:
        numbers = units[0].numbers
        theory = numbers.theory or {}
        ax.set_title(f"init {numbers.init}", fontsize=8)
        draw_conditional(ax, numbers.units["p"], numbers.units["mean"], numbers.units["stderr"], numbers.layer,
                         f"Monte Carlo ({numbers.method}, {numbers.sign_test.samples} samples, 95%)",
                         theory.get("units"), theory.get("method", ""))
    else:
        ax.text(0.5, 0.5, "no per-unit Monte Carlo in this verification", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set_axis_off()
    figure.suptitle(repr(verification), fontsize=8)
    return figure


def transformer_figure(verification):
    """A transformer's sign at t = 0 per block, as measured (no recomputation): E[δ|p>0] over the
    independent inits with its 95% interval, as a fraction of the block's mean |δ|, one series per
    readout (the paper's tied one; R6's untied Gaussian control for the GPT)."""
    figure, axes = new_figure(6.0, 3.6)
    ax = axes[0][0]
    rows = [row for row in verification.rows(kind="montecarlo", result="MC") if row.key.arch in ("gpt", "vit")]
    for n, row in enumerate(rows):
        blocks = row.numbers.blocks
        x = np.array([b.block for b in blocks], dtype=float) + 0.08 * (n - (len(rows) - 1) / 2)
        scale = np.array([b.scale for b in blocks], dtype=float)
        mean = np.array([b.estimate.mean for b in blocks], dtype=float) / scale
        low = np.array([b.estimate.ci_low for b in blocks], dtype=float) / scale
        high = np.array([b.estimate.ci_high for b in blocks], dtype=float) / scale
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", ms=4, capsize=3, lw=1,
                    label=f"{row.numbers.readout} readout ({row.numbers.inits} inits, 95%)")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xticks(sorted({b.block for row in rows for b in row.numbers.blocks}))
    ax.set_xlabel("block")
    ax.set_ylabel("E[δ | p > 0] / mean |δ|")
    ax.set_title(f"{verification.config['arch']} at t = 0: the sign statistic at the MLP's hidden units",
                 fontsize=8)
    ax.legend(fontsize=7)
    return figure


def _live(results: list[dict]) -> tuple[list[dict], list[str]]:
    diverged = [r["label"] for r in results if r.get("diverged")]
    return [r for r in results if not r.get("diverged")], diverged


def _losses_per_activation(ax, live: list[dict]) -> None:
    by_act: dict[str, list[float]] = {}
    for r in live:
        if r["job"].get("block") == "acts" and np.isfinite(r["test_loss"]):
            by_act.setdefault(r["label"], []).append(r["test_loss"])
    labels = sorted(by_act)
    for n, label in enumerate(labels):
        ax.plot([n] * len(by_act[label]), by_act[label], "o", ms=4, alpha=0.7)
    ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=7)
    ax.set_xlabel("activation")
    ax.set_ylabel("held-out loss")
    ax.set_title("C3-C5: loss per activation (one point per run)", fontsize=8)


def _natural_sparsity(ax, live: list[dict]) -> None:
    natural = [r for r in live if r["job"].get("force") is None and r["job"]["act"] == "relu"]
    ax.plot(*_finite([np.mean(r["sparsity_start"]) for r in natural], [np.mean(r["sparsity_end"]) for r in natural]),
            "o", ms=4)
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.6, ls="--")
    ax.set_xlabel("sparsity at init (mean over layers)")
    ax.set_ylabel("sparsity at the end")
    ax.set_title("C1: ReLU sparsity during training", fontsize=8)


def _forced_accuracy(ax, live: list[dict]) -> None:
    forced = [r for r in live if r["job"].get("force") is not None]
    ax.plot(*_finite([r["job"]["force"] for r in forced], [r["test_acc"] for r in forced]), "o", ms=4)
    ax.set_xlabel("forced sparsity (quantile)")
    ax.set_ylabel("held-out accuracy")
    ax.set_title("C2: accuracy against forced sparsity", fontsize=8)


def claims_figure(results: list[dict], title: str = ""):
    """The sweep behind C1-C5: held-out loss per activation (C3-C5), sparsity at the start and the end
    of training (C1), accuracy against forced sparsity (C2). Diverged configurations are left out."""
    live, diverged = _live(results)
    figure, axes = new_figure(12.0, 3.8, 1, 3)
    _losses_per_activation(axes[0][0], live)
    _natural_sparsity(axes[0][1], live)
    _forced_accuracy(axes[0][2], live)
    note = f"; left out (diverged): {', '.join(diverged)}" if diverged else ""
    figure.suptitle(f"{title}{note}", fontsize=8)
    return figure
