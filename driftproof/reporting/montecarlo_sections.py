"""Report sections from Monte Carlo: estimates against theory per init, and mean field by width."""

from __future__ import annotations

from ..config import Config
from ..evidence.montecarlo import DEFAULT_INITS, row_method
from ..montecarlo import compare_conditional, compare_marginal, conditional, marginal
from ..texutil import tex_escape
from .context import Context
from .figures import width_gap_figure
from .latex import table

__all__ = ["montecarlo_section", "montecarlo_claims", "MC_SIZES"]

# The budgets, printed in the report beside the results.
MC_SIZES = {False: {"width": 256, "samples": 8192, "widths": (32, 64, 128, 256), "depth": 3,
                    "marginal_samples": {32: 3000, 64: 2000, 128: 1500, 256: 1000}, "acts": ("relu", "gelu", "tanh")},
            True: {"width": 128, "samples": 4096, "widths": (32, 128), "depth": 2,
                   "marginal_samples": {32: 1500, 128: 600}, "acts": ("relu", "gelu")}}
ALPHA = 1e-6


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
        test = result.sign_test.to_dict()
        return {"pooled": result.pooled.to_dict(), "sign_test": test, "verdict": result.verdict, "method": method,
                "comparison": comparison.to_dict() if comparison else None, "seconds": result.seconds,
                "variance_reduction": result.variance_reduction}

    return ctx.cache.get("mc-conditional", {"config": config.to_dict(), "samples": sizes["samples"],
                                            "alpha": ALPHA, "method": method}, compute)


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


def montecarlo_section(ctx: Context) -> str:
    sizes = MC_SIZES[ctx.quick]
    rows = []
    for loss, act in ctx.pairs:
        for init in DEFAULT_INITS:
            result = _conditional(ctx, loss, act, init)
            key = f"mc {loss} {act} {init}"
            pooled, test, comparison = result["pooled"], result["sign_test"], result["comparison"]
            ctx.record("montecarlo", f"{loss}/{act}/{init}", result)
            estimate = (f"{ctx.numbers.add(key + ' mean', pooled['mean'])} ± "
                        f"{ctx.numbers.add(key + ' se', pooled['stderr'], 2)}")
            theory = ctx.numbers.add(key + " theory", comparison["prediction"]) if comparison else "n/a"
            rel = (ctx.numbers.add(key + " rel", 100 * comparison["relative_error"], 2) + r"\%"
                   + ("" if comparison["exact"] else "$^*$")) if comparison else "n/a"
            counts = "/".join(str(test[k]) for k in ("positive", "negative", "unresolved"))
            rows.append([tex_escape(f"{loss}/{act}"), tex_escape(init), estimate, theory, rel,
                         ctx.numbers.add(key + " n", pooled["n"]), counts, tex_escape(result["verdict"])])
    intro = tex_escape(
        f"Conditional mode: one draw of x and W^1 (width {sizes['width']}, depth 1, K = 10, He scale, seed {ctx.seed} "
        f"plus the init's index), then the output weights and labels resampled; antithetic estimator (each output "
        f"weight paired with its reflection; unbiased for these symmetric inits); sign test at "
        f"alpha = {ALPHA:g} with Holm's correction over the units with p > 0, budget {sizes['samples']} samples. "
        "The estimate is pooled over the tested units; theory is R1 (MSE) or R2 (CE) for the same p. "
        "Counts: units resolved positive / negative / unresolved.")
    out = [r"\section{Monte Carlo against theory}", intro,
           table(["pair", "init", "MC E[δ | p>0] ± se", "theory", "rel. error", "samples", "+/−/?", "verdict"], rows,
                 "Monte Carlo against R1/R2 for every default initialization. $^*$: R2 is a Gaussian "
                 "approximation for non-Gaussian inits (its sign is exact by R3).", "p{2.6cm}lrrrrrl",
                 size=r"\small")]
    out.append(_width_section(ctx))
    return "\n".join(out)


def _width_section(ctx: Context) -> str:
    sizes = MC_SIZES[ctx.quick]
    series, rows = [], []
    for act in sizes["acts"]:
        for layer in range(1, sizes["depth"] + 1):
            points = []
            for width in sizes["widths"]:
                result = _marginal(ctx, act, width)
                comparison = result["comparisons"][layer - 1]
                key = f"mf gap {act} L{layer} N{width}"
                points.append((width, comparison["relative_error"],
                               comparison["stderr"] / abs(comparison["prediction"])))
                rows.append([tex_escape(act), str(layer), str(width),
                             ctx.numbers.add(key + " mc", comparison["estimate"]) + " ± "
                             + ctx.numbers.add(key + " se", comparison["stderr"], 2),
                             ctx.numbers.add(key + " r4", comparison["prediction"]),
                             ctx.numbers.add(key + " rel", 100 * comparison["relative_error"], 2) + r"\%"])
                ctx.record("mean_field_vs_mc", f"{act}/L{layer}/N{width}", comparison)
            series.append({"label": f"{act}, layer {layer}", "points": points})
    figure = width_gap_figure(series, ctx.figures / "meanfield_gap")
    ctx.figure_count += 1
    return "\n".join([
        r"\subsection{Mean field against Monte Carlo, by width}",
        tex_escape(f"Marginal mode (inputs, every weight and the labels resampled), CE, depth {sizes['depth']}, "
                   f"He scale; E[δ^l | p^l > 0] per layer against the mean-field prediction R4."),
        r"\begin{figure}[H]\centering", rf"\includegraphics[width=0.7\linewidth]{{figures/{figure.name}}}",
        r"\caption{Relative gap $|\hat E - E_{\mathrm{R4}}| / E_{\mathrm{R4}}$ between Monte Carlo and mean field "
        r"against width; error bars: one Monte Carlo standard error relative to the prediction.}", r"\end{figure}",
        table(["activation", "layer", "width", "MC ± se", "R4", "gap"], rows,
              "Mean field (R4) against marginal Monte Carlo by width.", "lrrrrr", size=r"\small")])


def montecarlo_claims(ctx: Context) -> list[tuple[str, str, str]]:
    verdicts = {}
    for loss, act in ctx.pairs:
        for init in DEFAULT_INITS:
            verdicts[(loss, act, init)] = _conditional(ctx, loss, act, init)["verdict"]
    holds = sum(v == "holds" for v in verdicts.values())
    bad = [f"{l}/{a}/{i}: {v}" for (l, a, i), v in verdicts.items() if v != "holds"]
    verdict = "holds" if not bad else ("violated" if any("violated" in b for b in bad) else "inconclusive")
    return [("E[δ|p] ≥ 0 for p > 0 at init, for inits the proof does not cover (uniform, truncated normal, "
             "Laplace, Rademacher)",
             f"Monte Carlo sign test (alpha = {ALPHA:g}, Holm): holds in {holds} of {len(verdicts)} "
             f"(pair, init) cases" + (f"; {'; '.join(bad)}" if bad else ""), verdict)]
