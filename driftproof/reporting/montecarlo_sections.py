"""Report pieces from Monte Carlo: the headline E[δ|p] against p, the sign test for inits the proof does not
cover, and mean field against Monte Carlo by width (the drift section)."""

from __future__ import annotations

import numpy as np

from ..activations import get_activation
from ..config import Config
from ..evidence.montecarlo import DEFAULT_INITS, row_method
from ..montecarlo import compare_conditional, compare_marginal, conditional, marginal
from ..montecarlo.compare import unit_predictions
from ..texutil import round_to_error, tex_prose
from .claims import Claim
from .context import Context
from .figures_theory import headline_figure, width_gap_figure
from .latex import figure_tex, pm, source_note, table

__all__ = ["MC_SIZES", "headline_tex", "montecarlo_text", "drift_section", "montecarlo_appendix",
           "montecarlo_claims"]

# The budgets, printed in the report beside the results.
MC_SIZES = {False: {"width": 256, "samples": 8192, "widths": (32, 64, 128, 256), "depth": 3,
                    "marginal_samples": {32: 3000, 64: 2000, 128: 1500, 256: 1000}, "acts": ("relu", "gelu", "tanh")},
            True: {"width": 128, "samples": 4096, "widths": (32, 128), "depth": 2,
                   "marginal_samples": {32: 1500, 128: 600}, "acts": ("relu", "gelu")}}
ALPHA = 1e-6
Z95 = 1.959963984540054


def _conditional(ctx: Context, loss: str, act: str, init: str) -> dict:
    sizes = MC_SIZES[ctx.quick]
    # A seed per init, so the rows' errors are independent (one shared stream would tilt them alike).
    seed = ctx.seed + DEFAULT_INITS.index(init) if init in DEFAULT_INITS else ctx.seed
    config = Config(loss=loss, act=act, init=init, width=sizes["width"], depth=1, seed=seed)
    method = row_method(config)

    def compute():
        # The whole budget, not stopping at the first look: the estimate is compared with theory too.
        result = conditional(config, method=method, samples=sizes["samples"], alpha=ALPHA, first_batch=512,
                             stop_early=False)
        comparison = compare_conditional(config, result)
        theory, _, _ = unit_predictions(config, result.layer, result.p)
        return {"pooled": result.pooled.to_dict(), "sign_test": result.sign_test.to_dict(), "verdict": result.verdict,
                "method": method, "comparison": comparison.to_dict() if comparison else None,
                "seconds": result.seconds, "variance_reduction": result.variance_reduction,
                "units": {"p": np.asarray(result.p, float).tolist(), "mc": result.means.tolist(),
                          "se": result.stderrs.tolist(), "theory": theory.tolist()}}

    # layout 2: per-unit estimates and predictions kept, for the headline figure
    return ctx.cache.get("mc-conditional", {"config": config.to_dict(), "samples": sizes["samples"], "alpha": ALPHA,
                                            "method": method, "layout": 2}, compute)


def headline_tex(ctx: Context) -> str:
    """The summary page's figure: E[δ_i | p] against p per activation, theory beside Monte Carlo, per loss."""
    panels = []
    with ctx.tracking() as used:
        for act in dict.fromkeys(act for _, act in ctx.pairs):
            losses = {loss: _in_units_of_c(act, _conditional(ctx, loss, act, "normal")["units"])
                      for loss, a in ctx.pairs if a == act}
            panels.append({"act": act, "losses": losses})
    figure = headline_figure(panels, ctx.figures / "headline", ctx)
    sizes = MC_SIZES[ctx.quick]
    return figure_tex(ctx, figure, "fig:headline", tex_prose(
        f"The claim at t = 0: E[δ_i | p] on the last hidden layer against its pre-activation p_i, divided by the "
        f"loss's constant C (R1 for MSE: K s_V²; R2 for cross-entropy: s_V² E[Σ π(1 − π)] over the logits of this "
        f"draw), so that both losses share an axis. Lines: the theory, C σ(p)σ'(p) / C (solid MSE, dashed CE); points: "
        f"Monte Carlo over the output weights and labels, {sizes['samples']} samples per unit, with 95% error bars "
        f"(where none shows, shorter than the marker); about 28 of the {sizes['width']} units per loss, the two "
        f"losses at alternate units (normal init, He scale, K = 10, seed {ctx.seed}). The claim: every point with "
        f"p > 0 at or above zero.") + r" Section~\ref{sec:sign}.", sources=used, networks=("N1",),
                      placement="H")  # on the summary page, or at the top of the next: never later


def _in_units_of_c(act: str, units: dict) -> dict:
    """Per-unit estimates and predictions divided by the loss constant C = prediction / σσ'(p) (one C per layer
    draw; the median over the units where σσ' is not negligible)."""
    p, theory = np.asarray(units["p"], float), np.asarray(units["theory"], float)
    f = get_activation(act).numpy_sigma_dsigma(p)
    usable = np.abs(f) > 1e-6 * max(np.abs(f).max(), 1e-300)
    c = float(np.median(theory[usable] / f[usable])) if usable.any() else 1.0
    return {"p": p, "mc": np.asarray(units["mc"], float) / c, "se": np.asarray(units["se"], float) / abs(c),
            "theory": theory / c, "constant": c}


def _worst(ctx: Context) -> tuple[tuple[str, str, str], dict]:
    """The (pair, init) whose pooled estimate is closest to zero in standard errors."""
    results = {(l, a, i): _conditional(ctx, l, a, i) for l, a in ctx.pairs for i in DEFAULT_INITS}
    return min(results.items(), key=lambda item: item[1]["pooled"]["mean"] / max(item[1]["pooled"]["stderr"], 1e-300))


def montecarlo_text(ctx: Context) -> str:
    """The sign section's paragraph of Monte Carlo numbers."""
    verdicts = {(l, a, i): _conditional(ctx, l, a, i)["verdict"] for l, a in ctx.pairs for i in DEFAULT_INITS}
    holds = sum(v == "holds" for v in verdicts.values())
    (loss, act, init), worst = _worst(ctx)
    pooled = worst["pooled"]
    text = (f"Monte Carlo tests the sign where the proof's assumptions are only partly met (inits "
            f"{', '.join(DEFAULT_INITS)}): the sequential sign test (alpha = {ALPHA:g}, Holm over the units with "
            f"p > 0) resolves every tested unit positive in {holds} of {len(verdicts)} (pair, init) cases; the "
            f"pooled estimate closest to zero is {loss}/{act} under {init}, ")
    return (tex_prose(text) + pm(ctx, "mc worst mean", pooled["mean"], pooled["stderr"]) + tex_prose(
                f" (one standard error, n = {pooled['n']}). Per (pair, init): Table ") + r"\ref{tab:mcinit}.")


def _marginal(ctx: Context, act: str, width: int) -> dict:
    sizes = MC_SIZES[ctx.quick]
    config = Config(loss="ce", act=act, width=width, depth=sizes["depth"], seed=ctx.seed)
    samples = sizes["marginal_samples"][width]

    def compute():
        result = marginal(config, method="cv", samples=samples, alpha=ALPHA)
        comparisons = compare_marginal(config, result) or []
        return {"layers": [layer.to_dict() for layer in result.layers],
                "comparisons": [c.to_dict() for c in comparisons], "seconds": result.seconds}

    return ctx.cache.get("mc-marginal", {"config": config.to_dict(), "samples": samples, "method": "cv"}, compute)


def _width_series(ctx: Context) -> tuple[list[dict], list[list[str]]]:
    sizes = MC_SIZES[ctx.quick]
    series, rows = [], []
    for act in sizes["acts"]:
        for layer in range(1, sizes["depth"] + 1):
            points = []
            for width in sizes["widths"]:
                comparison = _marginal(ctx, act, width)["comparisons"][layer - 1]
                key = f"mf gap {act} L{layer} N{width}"
                points.append((width, comparison["relative_error"], comparison["stderr"] / abs(comparison["prediction"])))
                rows.append([tex_prose(act), str(layer), str(width),
                             pm(ctx, key + " mc", comparison["estimate"], comparison["stderr"]),
                             ctx.numbers.add(key + " r4", comparison["prediction"]),
                             ctx.numbers.add(key + " rel", 100 * comparison["relative_error"], 2) + r"\%"])
                ctx.record("mean_field_vs_mc", f"{act}/L{layer}/N{width}", comparison)
            series.append({"act": act, "layer": layer, "points": points})
    return series, rows


def drift_section(ctx: Context) -> str:
    """Section 2: the net drift (R5) rests on mean field (R4), checked against Monte Carlo by width."""
    sizes = MC_SIZES[ctx.quick]
    with ctx.tracking() as used:
        series, _ = _width_series(ctx)
    figure = width_gap_figure(series, ctx.figures / "meanfield_gap", ctx)
    smallest = min(series, key=lambda s: s["points"][-1][1])
    largest = max(series, key=lambda s: s["points"][-1][1])
    widest = sizes["widths"][-1]
    return "\n".join([
        r"\section{The net drift at $t=0$ (R4, R5)}\label{sec:drift}",
        r"The pointwise sign does not by itself move a layer's mean weight: R5 predicts the first SGD step of the "
        r"mean bias, $\Delta\bar b^l/\eta = -\mathbb{E}[\delta^l]$, and of the mean weight, "
        r"$-\mathbb{E}[\delta^l]\,\mathbb{E}[h^{l-1}]$, from the mean-field recursion R4 "
        r"(Table~\ref{tab:meanfield}); odd activations (tanh) have $\mathbb{E}[\sigma\sigma'] = 0$ and no drift. "
        r"R4 is exact only at infinite width; Figure~\ref{fig:width} measures its error against marginal Monte "
        + tex_prose(f"Carlo (CE, depth {sizes['depth']}, He scale) at widths {', '.join(map(str, sizes['widths']))}. "
                     f"At N = {widest} the relative gap ranges from ")
        + ctx.numbers.add("drift gap smallest", 100 * smallest["points"][-1][1], 2) + r"\% "
        + tex_prose(f"({smallest['act']}, layer {smallest['layer']}) to ")
        + ctx.numbers.add("drift gap largest", 100 * largest["points"][-1][1], 2) + r"\% "
        + tex_prose(f"({largest['act']}, layer {largest['layer']}); all values: Table ") + r"\ref{tab:width}.",
        figure_tex(ctx, figure, "fig:width",
                   r"Relative gap between marginal Monte Carlo and mean field (R4) for $\mathbb{E}[\delta^l\mid p^l>0]$ "
                   r"against width; colour: activation, marker: layer; error bars: 95\% Monte Carlo intervals relative "
                   r"to the prediction; dotted: a $1/N$ reference through the median of the narrowest points.",
                   sources=used, networks=("N2",))])


def _init_rows(ctx: Context) -> list[list[str]]:
    rows = []
    for loss, act in ctx.pairs:
        for init in DEFAULT_INITS:
            result = _conditional(ctx, loss, act, init)
            key = f"mc {loss} {act} {init}"
            pooled, test, comparison = result["pooled"], result["sign_test"], result["comparison"]
            ctx.record("montecarlo", f"{loss}/{act}/{init}", {k: v for k, v in result.items() if k != "units"})
            estimate = pm(ctx, key + " mean", pooled["mean"], pooled["stderr"])
            theory = ctx.numbers.add(key + " theory", comparison["prediction"]) if comparison else "n/a"
            rel = (ctx.numbers.add(key + " rel", 100 * comparison["relative_error"], 2) + r"\%"
                   + ("" if comparison["exact"] else "$^*$")) if comparison else "n/a"
            counts = "/".join(str(test[k]) for k in ("positive", "negative", "unresolved"))
            rows.append([tex_prose(f"{loss}/{act}"), tex_prose(init), estimate, theory, rel,
                         ctx.numbers.add(key + " n", pooled["n"]), counts, tex_prose(result["verdict"])])
    return rows


def montecarlo_appendix(ctx: Context) -> str:
    sizes = MC_SIZES[ctx.quick]
    intro = tex_prose(
        f"Conditional mode: one draw of x and W^1 (width {sizes['width']}, depth 1, K = 10, He scale, seed {ctx.seed} "
        f"plus the init's index), then the output weights and labels resampled; antithetic estimator (each output "
        f"weight paired with its reflection; unbiased for these symmetric inits); sign test at alpha = {ALPHA:g} "
        f"with Holm's correction over the units with p > 0, budget {sizes['samples']} samples. The estimate is "
        "pooled over the tested units; theory is R1 (MSE) or R2 (CE) for the same p. Counts: units resolved "
        "positive / negative / unresolved.")
    with ctx.tracking() as width_used:
        _, width_rows = _width_series(ctx)
    with ctx.tracking() as init_used:
        init_rows = _init_rows(ctx)
    return "\n".join([
        r"\subsection{Monte Carlo by initialization}", intro,
        table(["pair", "init", r"MC $\mathbb{E}[\delta\mid p>0]\pm$ se", "theory", "rel. error", "samples",
               r"$+/-/?$", "verdict"],
              init_rows, "Monte Carlo against R1/R2 for every default initialization. $^*$: R2 is a Gaussian "
              "approximation for non-Gaussian inits (its sign is exact by R3)." + source_note(ctx, "tab:mcinit", init_used,
                                                                                           ("N1",)),
              "p{2.2cm}lrrrrrl", size=r"\footnotesize", label="tab:mcinit"),
        table(["activation", "layer", "width", "MC ± se", "R4", "gap"], width_rows,
              "Mean field (R4) against marginal Monte Carlo by width (CE)." + source_note(ctx, "tab:width", width_used,
                                                                                         ("N2",)),
              "lrrrrr", size=r"\small", label="tab:width")])


def montecarlo_claims(ctx: Context) -> list[Claim]:
    verdicts = {(l, a, i): _conditional(ctx, l, a, i)["verdict"] for l, a in ctx.pairs for i in DEFAULT_INITS}
    bad = [f"{l}/{a}/{i}: {v}" for (l, a, i), v in verdicts.items() if v != "holds"]
    verdict = "holds" if not bad else ("violated" if any("violated" in b for b in bad) else "inconclusive")
    (loss, act, init), worst = _worst(ctx)
    pooled = worst["pooled"]
    low, high = pooled["mean"] - Z95 * pooled["stderr"], pooled["mean"] + Z95 * pooled["stderr"]
    mean, _ = round_to_error(pooled["mean"], pooled["stderr"])
    low, high = (round_to_error(v, pooled["stderr"])[0] for v in (low, high))
    number = (f"closest to zero: {loss}/{act}, {init}: {ctx.numbers.add('claim mc worst', mean)} "
              f"[{ctx.numbers.add('claim mc worst lo', low)}, {ctx.numbers.add('claim mc worst hi', high)}] "
              f"(95%, n = {pooled['n']})")
    holds = sum(v == "holds" for v in verdicts.values())
    return [Claim("t0-sign-mc", "The same at init for inits the proof does not cover (uniform, truncated normal, "
                  "Laplace, Rademacher): Monte Carlo", verdict, number,
                  f"sign test (alpha = {ALPHA:g}, Holm) holds in {holds} of {len(verdicts)} (pair, init) cases"
                  + (f"; {'; '.join(bad)}" if bad else ""), "sec:sign",
                  family="MLP", versus=verdict, ours=f"holds in {holds} of {len(verdicts)} (pair, init); closest to 0: "
                  f"{mean} [{low}, {high}], n = {pooled['n']}",
                  network="N1", scale=f", {MC_SIZES[ctx.quick]['samples']} samples per unit")]
