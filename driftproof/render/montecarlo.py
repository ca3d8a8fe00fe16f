"""``driftproof mc``'s text: estimates with intervals beside the theory, and the sign test."""

from __future__ import annotations

from .estimates import error_text
from .rows import sign_test_text
from .terminal import terminal_width, wrap_lines

__all__ = ["montecarlo_text"]


def _z_text(z: float | None) -> str:
    """A z-score, or n/a where no unit has a standard error (every sample exactly 0)."""
    return "n/a" if z is None else f"{z:.2f}"


def _conditional_lines(result, comparison, predicted) -> list[str]:
    pooled = result.pooled
    lines = [f"layer {result.layer}: E[δ_i | p] averaged over the {len(result.tested)} units with p_i > 0",
             f"  estimate   {pooled.mean:.6g} ± {pooled.stderr:.2g}  [{pooled.ci_low:.6g}, {pooled.ci_high:.6g}]"
             f" at {pooled.confidence:g}"]
    if comparison is not None:
        lines.append(f"  theory     {comparison.prediction:.6g}  ({comparison.method}, "
                     f"{'exact' if comparison.exact else 'approximate'})"
                     f"  {error_text(comparison.estimate, comparison.stderr, comparison.prediction)}, max |z| over units "
                     f"{_z_text(comparison.max_abs_z)}")
    else:
        lines.append("  theory     not available for this configuration")
    if result.variance_reduction is not None:
        lines.append(f"  variance reduction over naive: {result.variance_reduction:.2f}x (same samples)")
    if predicted is not None:
        lines.append(f"  {'unit':>5} {'p_i':>9} {'estimate':>12} {'stderr':>10} {'theory':>12}")
        lines += [f"  {i:5d} {result.p[i]:9.4f} {unit.mean:12.5g} {unit.stderr:10.3g} {predicted[0][i]:12.5g}"
                  for i, unit in enumerate(result.units)]
    return lines


def _marginal_lines(result, comparison) -> list[str]:
    lines = []
    for index, layer in enumerate(result.layers):
        estimate = layer.delta_given_positive
        line = (f"layer {layer.layer}: E[δ | p > 0] = {estimate.mean:.6g} ± {estimate.stderr:.2g}"
                f"  P(p > 0) = {layer.fraction_positive.mean:.4f}")
        if comparison is not None:
            c = comparison[index]
            line += (f"  mean field {c.prediction:.6g} ({error_text(c.estimate, c.stderr, c.prediction)}, "
                     f"z {_z_text(c.max_abs_z)})")
            if c.max_abs_z is not None and c.max_abs_z > 3:  # resolved: not noise
                line += "  DISAGREES: finite-width gap (R4 is exact only as N → ∞)"
        if layer.variance_reduction is not None:
            line += f"  var. reduction {layer.variance_reduction:.2f}x"
        lines.append(line)
    return lines


def _fit(lines: list[str], width: int) -> list[str]:
    """Each line longer than ``width`` wrapped, its continuations indented under it."""
    out = []
    for line in lines:
        indent = len(line) - len(line.lstrip()) + 4
        out += wrap_lines(line, width, indent) if len(line) > width else [line]
    return out


def _trend_lines(trend) -> list[str]:
    """The resolved gaps to R4, measured again at width N/2 (``GapTrend`` per layer)."""
    return [f"  layer {t.layer} gap to R4: {t.gap:+.3g} ± {t.gap_stderr:.2g} at N={t.width}, "
            f"{t.half_gap:+.3g} ± {t.half_gap_stderr:.2g} at N={t.half_width} (seed {t.seed}, {t.samples} samples): "
            f"ratio {t.ratio:.2f} ± {t.ratio_stderr:.2f} (1/N predicts 2) — "
            + ("shrinks with N at 95%" if t.shrinks else "no resolved shrinkage at these sample sizes")
            for t in trend]


def montecarlo_text(config, result, comparison, predicted=None, trend=(), width: int | None = None,
                    wide: bool = False) -> str:
    """``driftproof mc``'s report: the estimate(s) beside the theory, the sign test, the verdict.

    ``predicted`` (unit predictions from ``unit_predictions``) adds one line per unit; ``trend``
    (``GapTrend`` per layer) the resolved gaps to R4 measured again at width N/2. Lines wrap to
    ``width`` columns (the terminal's by default), continuations indented; ``wide`` keeps them whole.
    """
    conditional = hasattr(result, "p")
    lines = [f"driftproof mc: loss={config.loss} act={config.act} init={config.init} scale={config.scale}"
             f" width={config.width} depth={config.depth} classes={config.classes} seed={config.seed}",
             f"mode={'conditional' if conditional else 'marginal'} method={result.method}"
             f"{' draws=' + result.config['draws'] if 'draws' in result.config else ''}"
             f" samples={result.sign_test.samples} ({result.seconds:.2f} s sampling"
             f"{f', {result.load_seconds:.2f} s loading the kernels' if result.load_seconds else ''})"]
    lines += _conditional_lines(result, comparison, predicted) if conditional else _marginal_lines(result, comparison)
    lines += _trend_lines(trend)
    lines.append(f"sign test: {sign_test_text(result.sign_test)}")
    if result.sign_test.negative_units:
        shown = ", ".join(map(str, result.sign_test.negative_units[:20]))
        lines.append(f"  negative: {shown}{' ...' if len(result.sign_test.negative_units) > 20 else ''}")
    lines.append(f"verdict: {result.verdict}")
    return "\n".join(lines if wide else _fit(lines, width or terminal_width()))
