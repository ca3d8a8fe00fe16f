"""The claims C1-C5 in words: statements, verdict words and one evidence line each, made from the
structured :class:`~driftproof.results.Evidence` of :mod:`driftproof.sweeps.claims`.

Presentation only: the ``driftproof claims`` command and the report's sweep section both print
these words, so they are written once, here.
"""

from __future__ import annotations

import textwrap

from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, Verdict
from ..sweeps.claims import ACC_MARGIN
from ..sweeps.stats import HingeFit
from ..training.summary import jsonable
from .estimates import interval_text, ratio_text
from .terminal import terminal_width

__all__ = ["STATEMENTS", "VERDICT_WORDS", "verdict_word", "statement", "evidence_text", "claim_dict", "claims_text", "FAMILY_NAMES"]

STATEMENTS = {
    "C1": "with ReLU, activation sparsity rises during training (paper: to ~90%)",
    "C2": "the sparsity-accuracy trade-off has a sharp cliff (paper: above ~70% sparsity)",
    "C3": "ReLU^2 amplifies activation spikes in intermediate layers relative to ReLU (paper: ~25x)",
    "C4": "clipping ReLU^2 removes the spikes and does not lose accuracy against unclipped ReLU^2",
    "C5": "GELU^2 reaches the lowest held-out loss (first public check; not in the paper's code)",
}
VERDICT_WORDS = {HOLDS: "supported", VIOLATED: "not supported", INCONCLUSIVE: "inconclusive"}


def verdict_word(verdict: Verdict) -> str:
    """supported / not supported / inconclusive."""
    return VERDICT_WORDS[Verdict(verdict)]


def statement(row: Evidence) -> str:
    return STATEMENTS[row.key.result]


def _setting(job: dict) -> str:
    force = f" forced {job['force']:g}" if job.get("force") is not None else ""
    return (f"{job['act']}{force} {job['arch']} w{job['width']} d{job['depth']} {job['data']} {job['opt']} "
            f"lr {job['lr']:g} wd {job['wd']:g} init {job['scale']} seed {job['seed']}")


def _layers_text(ratios: dict) -> str:
    """``name: L1 2.00x [..], L2 ...; name: ...`` for per-layer ratio Estimates."""
    return "; ".join(f"{name}: " + ", ".join(f"L{i + 1} {ratio_text(r)}" for i, r in enumerate(layers))
                     for name, layers in ratios.items())


def _c1(numbers: dict) -> str:
    if "rise" not in numbers:
        return f"only {numbers['n']} natural ReLU runs"
    groups = numbers["rise_by_group"]
    rising = [f"{name} {interval_text(e, '{:+.2f}')}" for name, e in groups.items() if e.sign == 1]
    falling = [f"{name} {interval_text(e, '{:+.2f}')}" for name, e in groups.items() if e.sign == -1]
    return (f"mean change of layer-mean held-out sparsity start->end {interval_text(numbers['rise'], '{:+.3f}')} "
            f"over {numbers['n_runs']} runs ({numbers['n_rose']} rose, {numbers['n_fell']} fell by >1 point); "
            f"rises significantly in: {'; '.join(rising) or 'none'}; "
            f"falls significantly in: {'; '.join(falling) or 'none'}; "
            f"highest final layer-mean sparsity {numbers['max_final_layer_mean']:.2f} "
            f"({_setting(numbers['max_final_setting'])}); highest in one layer during training "
            f"{numbers['max_layer_sparsity']:.2f} (layer {numbers['max_layer']}, "
            f"{_setting(numbers['max_layer_setting'])}); paper ~0.90")


def _fit_text(fit: HingeFit) -> str:
    knot, after = fit.knot, fit.slope_after
    return (f"cliff at sparsity {knot.mean:.3f} [{knot.ci_low:.3f}, {knot.ci_high:.3f}] (95% bootstrap, "
            f"{knot.n} resamples); accuracy slope {fit.slope_before:+.3f} before, {after.mean:+.3f} after "
            f"[{after.ci_low:+.3f}, {after.ci_high:+.3f}]; BIC(line) - BIC(hinge) = {fit.delta_bic:.1f}")


def _c2(numbers: dict) -> str:
    if "fit" not in numbers:
        return f"only {numbers['n']} ReLU runs on real data (digits; text for the GPT) with forced sparsity and their unforced baseline"
    fit = numbers["fit"]
    where = f"; the paper's ~0.70 is {'inside' if numbers['paper_in_interval'] else 'outside'} the interval"
    text = (f"hinge fit over {fit.n} ReLU runs on real data, all else equal (forced sparsity and the unforced "
            f"baseline): {_fit_text(fit)}{where}. Mean accuracy by forced level: "
            + ", ".join(f"{q} {a:.3f}" for q, a in numbers["accuracy_by_level"].items()))
    if "all_runs" in numbers:
        everything = numbers["all_runs"]["fit"]
        text += (f". Over all {everything.n} ReLU real-data runs (natural sparsity from lr/init/wd too, "
                 f"not used for the verdict): {_fit_text(everything)}")
    return text


def _c3(numbers: dict) -> str:
    if not numbers:
        return "no paired relu2/relu runs"
    return (f"max|h|/median|h| of ReLU^2 over ReLU, paired by seed: {_layers_text(numbers['spike_ratio'])}. "
            f"Against ReLU's ratio squared (what squaring alone gives): "
            f"{_layers_text(numbers['spike_ratio_vs_relu_squared'])}")


def _c4(numbers: dict) -> str:
    if not numbers:
        return "no paired clipped_relu2/relu2 runs"
    text = ("spike ratio clipped/unclipped ReLU^2: " + _layers_text(numbers["spike_ratio_vs_relu2"])
            + ". Clipped ReLU^2 over ReLU: " + _layers_text(numbers["spike_ratio_vs_relu"])
            + ". Held-out accuracy clipped - unclipped: "
            + "; ".join(f"{n} {interval_text(e, '{:+.3f}')}" for n, e in numbers["acc_diff"].items())
            + f" (margin {ACC_MARGIN:g}). Clip reached in some layer in "
            + ", ".join(f"{n} {100 * f:.0f}%" for n, f in numbers["clip_bound_fraction"].items()) + " of runs")
    for name, entry in numbers.get("sensitivity", {}).items():
        text += (f". Sensitivity, {name} vs ReLU^2: " + _layers_text(entry["spike_ratio_vs_relu2"])
                 + "; accuracy " + "; ".join(f"{n} {interval_text(e, '{:+.3f}')}" for n, e in entry["acc_diff"].items()))
    return text


def _c5(numbers: dict) -> str:
    if not numbers:
        return "no GELU^2 runs on real data"
    parts = []
    for arch, losses in numbers["test_loss"].items():
        best = min((e.mean, act) for act, e in losses.items() if e.n)[1]
        parts.append(f"{arch} (lowest: {best}): "
                     + ", ".join(f"{act} {interval_text(e, '{:.3f}')}" for act, e in losses.items()))
    return ("held-out cross-entropy on real data (digits; text for the GPT), 95% t over seeds: " + "; ".join(parts)
            + ". GELU^2 minus other, paired: "
            + "; ".join(f"{arch}: " + ", ".join(f"{o} {interval_text(e, '{:+.3f}')}" for o, e in d.items())
                        for arch, d in numbers["gelu2_minus_other"].items()))


_EVIDENCE = {"C1": _c1, "C2": _c2, "C3": _c3, "C4": _c4, "C5": _c5}


def evidence_text(row: Evidence) -> str:
    """The one readable line of evidence for a claim row."""
    return _EVIDENCE[row.key.result](row.numbers)


def claim_dict(row: Evidence) -> dict:
    """A claim row as JSON: key, verdict (the enum's value), the numbers, and the words printed for it."""
    return {"claim": row.key.result, "key": row.key.to_dict(), "kind": row.kind, "verdict": str(row.verdict),
            "statement": statement(row), "evidence": evidence_text(row), "numbers": jsonable(row.numbers)}


FAMILY_NAMES = {"mlp": "MLP and residual MLP", "gpt": "GPT (text)", "vit": "ViT (digits)"}


# Grids whose networks are too small and short to stand for the paper's setting: every row says so.
SMOKE_GRIDS = ("quick", "transformer_quick")


def claims_text(rows, n_results: int, out: str, width: int | None = None, grid: str | None = None) -> str:
    """``driftproof claims``: claim, verdict word, statement, and the evidence wrapped to the width.

    ``rows``: the rows of one family, or a dict family -> rows (``claims_by_family``), one block each.
    ``grid``: the sweep grid the results come from (its manifest); a quick grid is named in every row.
    """
    width = width or terminal_width()
    source = f" (grid {grid})" if grid else ""
    lines = textwrap.wrap(f"claims checked against {n_results} stored configurations in {out}{source}", width)
    quick = grid in SMOKE_GRIDS
    if quick:
        lines += textwrap.wrap(f"note: the {grid} grid trains tiny networks for a few steps to test the pipeline; "
                               "its verdicts do not speak for the paper's setting", width)
    lines += [""]
    families = rows if isinstance(rows, dict) else {None: rows}
    if len(families) > 1:
        lines += textwrap.wrap("verdicts per architecture family: " + "; ".join(
            f"{FAMILY_NAMES[f]}: " + " ".join(f"{r.key.result} {verdict_word(r.verdict)}" for r in family_rows)
            for f, family_rows in families.items()), width, subsequent_indent="    ") + [""]
    for family, family_rows in families.items():
        if family is not None:
            lines += [f"== {FAMILY_NAMES[family]} ==", ""]
        for row in family_rows:
            lines += textwrap.wrap(f"{row.key.result}  {verdict_word(row.verdict).upper():<14} {statement(row)}"
                                   + (f" [{grid} grid]" if quick else ""), width, subsequent_indent="    ")
            lines += textwrap.wrap(evidence_text(row), width=width, initial_indent="    ", subsequent_indent="    ")
            lines.append("")
    return "\n".join(lines).rstrip()
