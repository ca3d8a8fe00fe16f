"""The claims C1-C5 and the t = 0 sign row T0 in words: statements, verdict words and one evidence line
each, made from the
structured :class:`~driftproof.results.Evidence` of :mod:`driftproof.sweeps.claims`.

Presentation only: the ``driftproof claims`` command and the report's sweep section both print
these words, so they are written once, here.
"""

from __future__ import annotations

import textwrap

from ..archs import family_names
from ..paper import PaperRecord
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, Verdict
from ..sweeps.claims import ACC_MARGIN, by_family
from ..sweeps.sign_t0 import OUTCOMES
from ..sweeps.stats import HingeFit
from ..training.summary import jsonable
from .estimates import as_estimate, interval_text, ratio_text
from .terminal import terminal_width

__all__ = ["divergence_text", "paper_text", "MEASURE_NAMES", "STATEMENTS", "VERDICT_WORDS", "verdict_word", "row_word", "statement", "evidence_text", "claim_dict",
           "claims_text", "FAMILY_NAMES", "T0_RESOLUTION_NOTE"]

STATEMENTS = {
    "C1": "with ReLU, activation sparsity rises during training (paper: to ~90%)",
    "C2": "the sparsity-accuracy trade-off has a sharp cliff (paper: above ~70% sparsity)",
    "C3": "ReLU^2 amplifies activation spikes in intermediate layers relative to ReLU (paper: ~25x)",
    "C4": "clipping ReLU^2 removes the spikes and does not lose accuracy against unclipped ReLU^2",
    "C5": "GELU^2 reaches the lowest held-out loss (first public check; not in the paper's code)",
    "T0": "the theorem's sign: E[δ|p>0] at the MLP hidden pre-activations is positive at t = 0 (and how long "
          "it stays positive in training)",
}
# A sweep has a few seeds per cell; the transformers' t = 0 effect is ~1e-5 (README, "What the theory finds").
# Plain words only: the report prints it too (no backquotes, no double dashes, which LaTeX would typeset).
T0_RESOLUTION_NOTE = ("a sweep's few seeds may not resolve an effect of ~1e-5: over 600 inits of a small GPT "
                      "it is positive with the paper's tied readout and zero with an untied Gaussian readout "
                      "(scripts/r6_transformer.py; `driftproof verify --arch gpt` measures it over 1024 inits)")
VERDICT_WORDS = {HOLDS: "supported", VIOLATED: "not supported", INCONCLUSIVE: "inconclusive"}


def verdict_word(verdict: Verdict) -> str:
    """supported / not supported / inconclusive."""
    return VERDICT_WORDS[Verdict(verdict)]


def row_word(row: Evidence) -> str:
    """The word for a row's verdict: supported / not supported / inconclusive for C1-C5; for T0 the sign
    (positive / zero within interval / negative), ``no interval (1 seed)``, or ``not recorded`` (a sweep
    stored before the sign was)."""
    if row.key.result != "T0":
        return verdict_word(row.verdict)
    cells = row.numbers.get("cells")
    if not cells:
        return "not recorded"
    if all(cell["sign_t0"].n < 2 for cell in cells):
        return "no interval (1 seed)"
    return OUTCOMES[Verdict(row.verdict)]


def _n_text(estimate) -> str:
    """`` (n = 10)``, `` (n = 3: no interval)``, and where the interval was cut to the parameter's range, so."""
    estimate = as_estimate(estimate)
    if not estimate.n:
        return ""
    if not estimate.defined:
        return f" (n = {estimate.n}: no interval)"
    cut = estimate.method.split("cut to ", 1)
    return f" (n = {estimate.n}" + (f", interval cut to {cut[1]}" if len(cut) == 2 else "") + ")"


def _iv(estimate, fmt: str = "{:+.3g}") -> str:
    """An estimate with its interval and its n (every interval printed by ``claims`` says its n)."""
    return interval_text(estimate, fmt) + _n_text(estimate)


def _ratio(estimate) -> str:
    return ratio_text(estimate) + _n_text(estimate)


def statement(row: Evidence) -> str:
    return STATEMENTS[row.key.result]


def _setting(job: dict) -> str:
    force = f" forced {job['force']:g}" if job.get("force") is not None else ""
    return (f"{job['act']}{force} {job['arch']} w{job['width']} d{job['depth']} {job['data']} {job['opt']} "
            f"lr {job['lr']:g} wd {job['wd']:g} init {job['scale']} seed {job['seed']}")


def _layers_text(ratios: dict) -> str:
    """``name: L1 2.00x [..], L2 ...; name: ...`` for per-layer ratio Estimates."""
    return "; ".join(f"{name}: " + ", ".join(f"L{i + 1} {_ratio(r)}" for i, r in enumerate(layers))
                     for name, layers in ratios.items())


def _c1(numbers: dict) -> str:
    if "rise" not in numbers:
        return f"only {numbers['n']} natural ReLU runs"
    groups = numbers["rise_by_group"]
    rising = [f"{name} {_iv(e, '{:+.2f}')}" for name, e in groups.items() if e.sign == 1]
    falling = [f"{name} {_iv(e, '{:+.2f}')}" for name, e in groups.items() if e.sign == -1]
    return (f"mean change of layer-mean held-out sparsity start->end {_iv(numbers['rise'], '{:+.3f}')} "
            f"over {numbers['n_runs']} runs ({numbers['n_rose']} rose, {numbers['n_fell']} fell by >1 point); "
            f"rises significantly in: {'; '.join(rising) or 'none'}; "
            f"falls significantly in: {'; '.join(falling) or 'none'}; "
            f"highest final layer-mean sparsity {numbers['max_final_layer_mean']:.2f} "
            f"({_setting(numbers['max_final_setting'])}); highest in one layer during training "
            f"{numbers['max_layer_sparsity']:.2f} (layer {numbers['max_layer']}, "
            f"{_setting(numbers['max_layer_setting'])}); paper ~0.90"
            + ("; change end - start by measure (layer mean, paired per run): " + ", ".join(
                f"{MEASURE_NAMES[name]} {_iv(e, '{:+.3f}')}" for name, e in numbers["rise_by_measure"].items())
               if numbers.get("rise_by_measure") else ""))


def _fit_text(fit: HingeFit) -> str:
    knot, after = fit.knot, fit.slope_after
    return (f"cliff at sparsity {knot.mean:.3f} [{knot.ci_low:.3f}, {knot.ci_high:.3f}] (95% percentile "
            f"bootstrap over the n = {knot.n} runs); accuracy slope {fit.slope_before:+.3f} before, {after.mean:+.3f} after "
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
    if "spike_ratio" not in numbers:
        return "no paired relu2/relu runs"
    return (f"max|h|/median|h| of ReLU^2 over ReLU, paired by seed: {_layers_text(numbers['spike_ratio'])}. "
            f"Against ReLU's ratio squared (what squaring alone gives): "
            f"{_layers_text(numbers['spike_ratio_vs_relu_squared'])}")


def _c4(numbers: dict) -> str:
    if "spike_ratio_vs_relu2" not in numbers:
        return "no paired clipped_relu2/relu2 runs"
    text = ("spike ratio clipped/unclipped ReLU^2: " + _layers_text(numbers["spike_ratio_vs_relu2"])
            + ". Clipped ReLU^2 over ReLU: " + _layers_text(numbers["spike_ratio_vs_relu"])
            + ". Held-out accuracy clipped - unclipped: "
            + "; ".join(f"{n} {_iv(e, '{:+.3f}')}" for n, e in numbers["acc_diff"].items())
            + f" (margin {ACC_MARGIN:g}). Clip reached in some layer in "
            + ", ".join(f"{n} {100 * f:.0f}%" for n, f in numbers["clip_bound_fraction"].items()) + " of runs")
    for name, entry in numbers.get("sensitivity", {}).items():
        text += (f". Sensitivity, {name} vs ReLU^2: " + _layers_text(entry["spike_ratio_vs_relu2"])
                 + "; accuracy " + "; ".join(f"{n} {_iv(e, '{:+.3f}')}" for n, e in entry["acc_diff"].items()))
    return text


def _c5(numbers: dict) -> str:
    if "test_loss" not in numbers:
        return "no GELU^2 runs on real data"
    parts = []
    for arch, losses in numbers["test_loss"].items():
        best = min((e.mean, act) for act, e in losses.items() if e.n)[1]
        parts.append(f"{arch} (lowest: {best}): "
                     + ", ".join(f"{act} {_iv(e, '{:.3f}')}" for act, e in losses.items()))
    return ("held-out cross-entropy on real data (digits; text for the GPT), 95% t over seeds: " + "; ".join(parts)
            + ". GELU^2 minus other, paired: "
            + "; ".join(f"{arch}: " + ", ".join(f"{o} {_iv(e, '{:+.3f}')}" for o, e in d.items())
                        for arch, d in numbers["gelu2_minus_other"].items()))


def _persistence(cells: list[dict]) -> str:
    """How long the sign stayed positive, over the cells of one activation (every layer)."""
    fractions = [c["positive_fraction"] for c in cells if c["positive_fraction"].n]
    turned = sorted({s for c in cells for s in c["first_negative_running_mean"] if s is not None})
    never = sum(s is None for c in cells for s in c["first_negative_running_mean"])
    total = sum(len(c["first_negative_running_mean"]) for c in cells)
    low = min((f.mean for f in fractions), default=float("nan"))
    high = max((f.mean for f in fractions), default=float("nan"))
    turns = ", ".join(str(s) for s in turned[:4]) + (", ..." if len(turned) > 4 else "")
    share = f"{100 * low:.0f}%" if round(100 * low) == round(100 * high) else f"{100 * low:.0f}-{100 * high:.0f}%"
    return (f"positive in {share} of steps (layer means over seeds); running mean "
            f"never negative within {cells[0]['steps']} steps in {never} of {total} (seed, layer)"
            + (f", first negative at step {turns} in the others" if turned else ""))


def _sign_test_power(numbers: dict) -> str:
    """Said when no cell can be resolved at all: with n seeds an exact two-sided sign test's smallest p is
    2^(1-n), and Holm's first threshold over m cells is alpha/m."""
    seeds = max((c["sign_t0"].n for c in numbers["cells"]), default=0)
    cells, alpha = len(numbers["cells"]), numbers["alpha"]
    if not seeds or 2.0 ** (1 - seeds) <= alpha / cells:
        return ""
    return (f"; with {seeds} seeds its smallest p, {2.0 ** (1 - seeds):.2g}, exceeds Holm's first threshold "
            f"{alpha:g}/{cells} = {alpha / cells:.2g}, so no cell can be resolved: the pooled test and the intervals "
            f"are what this sweep can say")


def _t0(numbers: dict) -> str:
    if not numbers.get("cells"):
        return (f"not recorded: the {numbers['not_recorded']} stored runs predate the sign's measurement "
                "(rerun the sweep into a new folder to record it)")
    groups: dict[tuple, list[dict]] = {}
    for cell in numbers["cells"]:
        groups.setdefault((cell["data"], cell["arch"], cell["act"]), []).append(cell)
    parts = []
    for (data, arch, act), cells in groups.items():
        signs = ", ".join(f"L{c['layer']} {_iv(c['sign_t0'], '{:+.2g}')}" for c in cells)
        seeds = cells[0]["sign_t0"].n
        parts.append(f"{act} ({data} {arch}, {seeds} seed{'s' if seeds != 1 else ''}, {cells[0]['n_samples'][0]} "
                     f"samples a batch): {signs}; {_persistence(cells)}")
    pooled = numbers.get("pooled")
    pooled_text = "" if pooled is None else (
        f"; pooled over networks (one value per run, its mean over layers): {pooled.positive} of {pooled.n} "
        f"positive, exact sign test p = {pooled.p_value:.2g}")
    return (f"E[δ|p>0] at t = 0 (first training batch, before any update), mean over seeds with 95% t intervals: "
            f"{numbers['positive']} of {len(numbers['cells'])} (activation, layer) cells resolved positive, "
            f"{numbers['negative']} negative, {numbers['unresolved']} unresolved"
            f"{_no_interval_text(numbers)} (exact sign test over "
            f"seeds per cell, Holm at family-wise {numbers['alpha']:g}{_sign_test_power(numbers)}){pooled_text}; "
            f"{numbers['seed_values_positive']} of "
            f"{numbers['seed_values']} per-seed values positive. " + "; ".join(parts)
            + f". Note: {T0_RESOLUTION_NOTE}")


def _no_interval_text(numbers: dict) -> str:
    """', 12 without an interval (1 seed)' where cells have a single seed (older stores: no count)."""
    count = numbers.get("no_interval", 0)
    return f", {count} without an interval (1 seed)" if count else ""


_EVIDENCE = {"C1": _c1, "C2": _c2, "C3": _c3, "C4": _c4, "C5": _c5, "T0": _t0}


def evidence_text(row: Evidence) -> str:
    """The readable evidence for a claim row: the numbers, the sign tests, the divergence, the paper beside."""
    text = _EVIDENCE[row.key.result](row.numbers)
    if row.numbers.get("sign_tests"):
        text += ". Sign tests over seeds (Holm): " + _sign_tests_text(row.numbers["sign_tests"])
    for extra in (divergence_text(row.numbers.get("divergence")), paper_text(row.numbers.get("paper_record"))):
        if extra:
            text += ". " + extra
    return text


def claim_dict(row: Evidence) -> dict:
    """A claim row as JSON: key, verdict (the enum's value), the numbers, and the words printed for it."""
    return {"claim": row.key.result, "key": row.key.to_dict(), "kind": row.kind, "verdict": str(row.verdict),
            "word": row_word(row), "statement": statement(row), "evidence": evidence_text(row), "numbers": jsonable(row.numbers)}


MEASURE_NAMES = {"zero": "exact zeros", "nonpos": "p <= 0", "near_zero": "|h| < 0.05 RMS(h)"}


def _sign_tests_text(tests: dict) -> str:
    """``name 10/10 positive (p = 0.002, resolved +)`` for the exact sign tests of a claim."""
    word = {1: "resolved +", -1: "resolved -", 0: "unresolved"}
    return "; ".join(f"{name} {t.positive}/{t.n} positive (p = {t.p_value:.2g}, {word[t.call]})"
                     for name, t in tests.items())


def divergence_text(record: dict | None) -> str:
    """Which configurations lost seeds to divergence, and which are not measured (most seeds diverged)."""
    if not record:
        return ""
    configurations = record.get("configurations", {})
    if not configurations:
        return f"diverged: none of {record['runs']} runs"
    parts = [f"{name}: {count['text']}" + ("" if count["measured"] else " (not measured)")
             for name, count in configurations.items()]
    return (f"diverged: {record['runs_diverged']} of {record['runs']} runs, left out of every statistic ("
            + "; ".join(parts) + ")")


def _scale_text(scale: dict) -> str:
    if not scale:
        return "no runs"
    parts = []
    if "params" in scale:
        low, high = scale["params"]
        parts.append(f"{low:,} parameters" if low == high else f"{low:,}-{high:,} parameters")
    parts.append(f"{'/'.join(str(s) for s in scale['steps'])} steps")
    if "tokens" in scale:
        parts.append(f"{scale['tokens'][1]:,} tokens")
    elif "samples" in scale:
        parts.append(f"{scale['samples'][1]:,} samples")
    parts.append(f"{scale['runs']} runs, {scale['seeds']} seeds")
    return ", ".join(parts)


def paper_text(record) -> str:
    """The paper's value beside ours: ``paper: ... | ours: ... (scale) | verdict``."""
    if record is None:
        return ""
    record = PaperRecord.from_dict(record) if isinstance(record, dict) else record
    ours = "n/a" if record.ours is None else _iv(record.ours, "{:.3g}")
    return (f"paper: {record.paper_statement} (124M-parameter GPT, 3.8B tokens). Ours: {ours} ({record.note}; "
            f"{_scale_text(record.our_scale)}). Against the paper: {record.verdict.upper()}")


FAMILY_NAMES = family_names()  # each family's name, from its architectures' registry entries


# Grids whose networks are too small and short to stand for the paper's setting: every row says so.
SMOKE_GRIDS = ("quick", "transformer_quick")


def claims_text(rows, n_results: int, out: str, width: int | None = None, grid: str | None = None) -> str:
    """``driftproof claims``: claim, verdict word, statement, and the evidence wrapped to the width.

    ``rows``: claim rows (grouped into one block per family by their ``key.arch``), or a dict
    family -> rows (``claims_by_family``).
    ``grid``: the sweep grid the results come from (its manifest); a quick grid is named in every row.
    """
    width = width or terminal_width()
    source = f" (grid {grid})" if grid else ""
    lines = textwrap.wrap(f"claims checked against {n_results} stored configurations in {out}{source}", width)
    quick = str(grid).partition(":")[0] in SMOKE_GRIDS
    if quick:
        lines += textwrap.wrap(f"note: the {grid} grid trains tiny networks for a few steps to test the pipeline; "
                               "its verdicts do not speak for the paper's setting", width)
    lines += [""]
    families = rows if isinstance(rows, dict) else by_family(rows)
    if len(families) > 1:
        lines += textwrap.wrap("verdicts per architecture family: " + "; ".join(
            f"{FAMILY_NAMES[f]}: " + " ".join(f"{r.key.result} {row_word(r)}" for r in family_rows)
            for f, family_rows in families.items()), width, subsequent_indent="    ") + [""]
    for family, family_rows in families.items():
        if family is not None:
            lines += [f"== {FAMILY_NAMES[family]} ==", ""]
        for row in family_rows:
            lines += textwrap.wrap(f"{row.key.result}  {row_word(row).upper():<14} {statement(row)}"
                                   + (f" [{grid} grid]" if quick else ""), width, subsequent_indent="    ")
            lines += textwrap.wrap(evidence_text(row), width=width, initial_indent="    ", subsequent_indent="    ")
            lines.append("")
    return "\n".join(lines).rstrip()
