"""Report section: the paper's empirical claims C1-C5 at small scale, per architecture family, from stored sweeps.

The MLP family comes from the default sweep (``sweeps/default``; the quick grid when there is none);
the GPT and ViT from a stored transformer sweep (``sweeps/transformer``) when there is one. Nothing here
trains a transformer: the report states when that evidence is missing.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..archs import families as arch_families
from ..paper import NOT_RUN, PAPER_SHORT, PaperRecord
from ..render.claims import FAMILY_NAMES, T0_RESOLUTION_NOTE, evidence_text, row_word
from ..render.estimates import interval_text
from ..results import Evidence
from ..sweeps import claims_by_family
from ..sweeps.claims import family_of
from ..texutil import tex_prose
from .claims import Claim
from .context import Context
from .figures_sweep import FAMILY_TITLES, cliff_figure, loss_figure, sparsity_figure, spikes_figure
from .configurations import count_text, sweep_networks
from .latex import figure_tex, table
from .sweep_results import TRANSFORMER_OUT, sweep_results

__all__ = ["sweep_results", "sweep_section", "sweep_appendix", "sweep_claims", "TRANSFORMER_OUT"]

SHORT_FAMILY = {"mlp": "MLP", "gpt": "GPT", "vit": "ViT", "glu": "GLU"}

# The claims in a few words, for the summary page (the full statements head the section's table).
SHORT = {"C1": "ReLU sparsity rises in training", "C2": "accuracy falls off a cliff at high sparsity",
         "C3": "ReLU² amplifies activation spikes", "C4": "clipping ReLU² removes them at no accuracy cost",
         "C5": "GELU² reaches the lowest held-out loss", "T0": "the theorem's sign E[δ|p>0] > 0 at t = 0"}


def _families(ctx: Context) -> dict[str, list[Evidence]]:
    results, _ = sweep_results(ctx)
    return claims_by_family(results)


def _ok(r: dict) -> bool:
    return not r.get("diverged") and r.get("test_loss") is not None


def _c1(n: dict) -> str | None:
    return "sparsity change " + interval_text(n["rise"], "{:+.3f}") if "rise" in n else None


def _c2(n: dict) -> str | None:
    if "fit" not in n:
        return None
    return f"knot at sparsity {interval_text(n['fit'].knot, '{:.3f}')}, ΔBIC {n['fit'].delta_bic:.1f}"


def _c3(n: dict) -> str | None:
    if not n.get("spike_ratio"):
        return None
    worst = min((e for layers in n["spike_ratio"].values() for e in layers), key=lambda e: e.ci_low)
    return "smallest spike ratio " + interval_text(worst, "{:.3g}") + "×"


def _c4(n: dict) -> str | None:
    if not n.get("spike_ratio_vs_relu2"):
        return None
    worst = max((e for layers in n["spike_ratio_vs_relu2"].values() for e in layers), key=lambda e: e.ci_high)
    acc = min(n["acc_diff"].values(), key=lambda e: e.ci_low, default=None)
    return ("largest spike ratio " + interval_text(worst, "{:.3g}") + "×"
            + (f"; accuracy {interval_text(acc, '{:+.3f}')}" if acc else ""))


def _c5(n: dict) -> str | None:
    diffs = [(arch, other, e) for arch, d in n.get("gelu2_minus_other", {}).items() for other, e in d.items() if e.n]
    if not diffs:
        return None
    # a significant loss of GELU^2 decides "not supported"; else the closest call
    worse = [d for d in diffs if d[2].ci_low > 0]
    arch, other, e = max(worse, key=lambda d: d[2].ci_low) if worse else max(diffs, key=lambda d: d[2].ci_high)
    return f"GELU² − {other} ({arch}) {interval_text(e, '{:+.3f}')}"


def _t0(n: dict) -> str | None:
    if not n.get("cells"):
        return None
    return (f"{n['positive']} of {len(n['cells'])} (activation, layer) cells resolved positive, {n['negative']} "
            f"negative (Holm, {n['alpha']:g}); {n['seed_values_positive']} of {n['seed_values']} per-seed values > 0")


_DECIDING = {"C1": _c1, "C2": _c2, "C3": _c3, "C4": _c4, "C5": _c5, "T0": _t0}


def _deciding(row: Evidence) -> str:
    """The number a claim's verdict turns on, with its interval (text); without one, why not, in a few words
    (the full evidence is the appendix table's)."""
    rule = _DECIDING.get(row.key.result)
    text = rule(row.numbers) if rule else None
    if text is not None:
        return text
    record = row.numbers.get("paper_record")
    reason = record.note.split(";")[0].split(":")[0] if record is not None and record.ours is None else "too few runs"
    divergence = row.numbers.get("divergence") or {}
    if divergence.get("runs_diverged"):
        reason += f"; {divergence['runs_diverged']} of {divergence['runs']} runs diverged"
    return reason + " (evidence: appendix)"


def _sparsity_curves(results: list[dict]) -> dict[str, list[dict]]:
    grid = np.linspace(0, 1, 41)
    out = {}
    for r in results:
        job = r["job"]
        if job["act"] != "relu" or job.get("force") is not None or not _ok(r) or "trajectory" not in r:
            continue
        steps = np.asarray(r["trajectory"]["step"], float)
        values = np.asarray(r["trajectory"]["sparsity"], float).mean(axis=1)
        fraction = np.interp(grid, steps / max(steps[-1], 1), values)
        group = f"{job['data']} {job['arch']} {job['opt']} {job['lr']:g} {job['wd']:g} {job['scale']} {job['width']}"
        out.setdefault(family_of(job), {}).setdefault(group, []).append(fraction)
    return {family: [{"group": g, "fraction": np.array(v)} for g, v in groups.items()] for family, groups in out.items()}


def _figures(ctx: Context, families: dict[str, list[Evidence]]) -> list[str]:
    results, _ = sweep_results(ctx)
    note = {"sources": list(ctx.sweep_folders), "networks": sweep_networks(ctx)}
    rows = {family: {row.key.result: row for row in table_rows} for family, table_rows in families.items()}
    out = []
    curves = _sparsity_curves(results)
    if curves:
        out.append(figure_tex(ctx, sparsity_figure(curves, ctx.figures / "c1_sparsity", ctx), "fig:c1",
                              r"C1: ReLU activation sparsity over training (time as a fraction of each run, layer "
                              r"mean of the held-out fraction of exact zeros), per architecture family.", **note))
    cliff = {f: {"points": r["C2"].numbers.get("points", []), "fit": r["C2"].numbers.get("fit")}
             for f, r in rows.items() if r["C2"].numbers.get("points")}
    if cliff:
        out.append(figure_tex(ctx, cliff_figure(cliff, ctx.figures / "c2_cliff", ctx), "fig:c2",
                              r"C2: held-out accuracy against sparsity for ReLU runs with forced sparsity and their "
                              r"unforced baseline (all other settings equal), with the hinge fit and the 95\% "
                              r"bootstrap interval of its knot.", **note))
    spikes = {f: {"c3": r["C3"].numbers.get("spike_ratio", {}), "c4": r["C4"].numbers.get("spike_ratio_vs_relu2", {})}
              for f, r in rows.items() if r["C3"].numbers.get("spike_ratio") or r["C4"].numbers.get("spike_ratio_vs_relu2")}
    if spikes:
        out.append(figure_tex(ctx, spikes_figure(spikes, ctx.figures / "c3_spikes", ctx), "fig:c3",
                              r"C3 and C4: spike ratios per layer (max$|h|$ over median$|h|$): points, the geometric "
                              r"mean over seeds of the paired ratio, with its 95\% interval; log axis set by the "
                              r"means, 1 = no change; an interval that runs off the axis ends in a triangle. Per data "
                              r"set and architecture.", **note))
    losses = {f"{FAMILY_TITLES[f].split(' ')[0]}: {arch}" if len(arch_families()[f]) > 1 else f: by_act
              for f, r in rows.items() for arch, by_act in r["C5"].numbers.get("test_loss", {}).items()}
    if losses:
        out.append(figure_tex(ctx, loss_figure(losses, ctx.figures / "c5_loss", ctx), "fig:c5",
                              r"C5: held-out cross-entropy by activation on real data (digits; text for the GPT), "
                              r"mean over seeds with 95\% intervals; a mean far off the scale of the others "
                              r"(runs that blew up) is written in its column ($\uparrow$) instead of drawn.", **note))
    return out


def _side_by_side(families: dict[str, list[Evidence]]) -> str:
    names = list(families)
    claims = list(dict.fromkeys(row.key.result for rows in families.values() for row in rows))
    cells = {(f, row.key.result): row for f, rows in families.items() for row in rows}
    rows = []
    for claim in claims:
        rows.append([claim] + [tex_prose(f"{row_word(cells[(f, claim)])}: {_deciding(cells[(f, claim)])}")
                               if (f, claim) in cells else "n/a" for f in names])
    width = {1: "12.5cm", 2: "6.4cm", 3: "4.3cm"}.get(len(names), "3.5cm")
    return table(["claim"] + [FAMILY_NAMES[f] for f in names], rows,
                 "C1--C5 and the sign at $t = 0$ (T0) side by side per architecture family: the verdict and the "
                 "number it turns on (every cell's evidence: Appendix~\\ref{app:claims-evidence}). T0: "
                 + tex_prose(T0_RESOLUTION_NOTE) + ".",
                 "l" + f"p{{{width}}}" * len(names), size=r"\small", label="tab:families", breakable=False,
                 placement="!htbp")


def sweep_section(ctx: Context) -> str:
    families = _families(ctx)
    _, source = sweep_results(ctx)
    figures = _figures(ctx, families)
    labels = [re.search(r"\\label\{(fig:[^}]+)\}", f).group(1) for f in figures]
    refs = (" The figures: " + ", ".join(rf"\ref{{{label}}} ({label[4:].upper()})" for label in labels) + ".") if labels else ""
    for family, rows in families.items():
        for row in rows:
            ctx.record("sweep_claims", f"{family}/{row.key.result}", {"verdict": str(row.verdict),
                                                                       "evidence": evidence_text(row)})
    return "\n".join([
        r"\section{The paper's empirical claims at small scale (C1--C5)}\label{sec:empirical}",
        tex_prose(f"Checked against {source}. C1: ReLU sparsity rises in training; C2: an accuracy cliff against "
                   "sparsity; C3: ReLU^2 amplifies activation spikes; C4: clipping ReLU^2 removes them without "
                   "losing accuracy; C5: GELU^2 reaches the lowest held-out loss; T0: the sign statistic "
                   "E[δ|p>0] at the MLP hidden pre-activations at t = 0 (the theorem's quantity), per "
                   "activation and layer over seeds, and how long it stays positive. Each claim is judged on each "
                   "architecture family separately (Table ") + r"\ref{tab:families}" + tex_prose(
            "); the full evidence of every cell is in Appendix ") + r"\ref{app:claims-evidence}." + refs,
        _side_by_side(families), *figures])


def sweep_appendix(ctx: Context) -> str:
    """Every (claim, family) cell's full evidence, a paragraph each (a table row a page tall cannot break)."""
    out = [r"\subsection{Evidence for C1--C5}\label{app:claims-evidence}",
           tex_prose("Each claim of Section ") + r"\ref{sec:empirical}" + tex_prose(
               " per architecture family: its verdict, then every number it rests on, the runs left out as diverged "
               "and the paper's value beside ours.")]
    for family, family_rows in _families(ctx).items():
        for row in family_rows:
            out.append(r"\paragraph{" + tex_prose(f"{row.key.result} {FAMILY_NAMES[family]}: {row_word(row)}.") + "}"
                       + "\n" + evidence_list(evidence_text(row)))
    return "\n\n".join(out)


def evidence_parts(text: str) -> list[str]:
    """A claim's evidence cut where it lists: at each sentence end and each '; ' outside brackets, so that every
    number with its interval and n reads on its own line rather than in a paragraph of intervals."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "([") - (char in ")]")
        boundary = depth == 0 and text.startswith((". ", "; "), i)
        if boundary or i == len(text) - 1:
            parts.append(text[start:i + 1 if not boundary else i].strip())
            start = i + 2
    return [part for part in parts if part]  # case kept: a part may begin with a symbol (p <= 0, δ)


def evidence_list(text: str) -> str:
    """:func:`evidence_parts` as a compact LaTeX list (an empty list is a LaTeX error: no text, no list)."""
    parts = evidence_parts(text)
    if not parts:
        return ""
    items = "\n".join(r"\item " + tex_prose(part) for part in parts)
    return (r"\begin{itemize}\setlength{\itemsep}{0pt}\setlength{\parskip}{0pt}\small" + "\n" + items + "\n"
            + r"\end{itemize}")


def _ours(record: PaperRecord) -> str:
    """Our value against the paper's, with its interval and n, in a few words (the page-1 table)."""
    if record.ours is None:
        return "n/a: " + record.note.split(";")[0].split(":")[0]
    if record.claim == "T0":  # decided by the exact sign test over networks, not by the t interval
        return record.note.replace(" (mean over layers)", "")
    # a bootstrap estimate's n counts its resamples; the n a reader wants is the runs it rests on
    n = (f"n = {record.our_scale['runs']} runs (bootstrap)" if record.ours.method.startswith("bootstrap")
         and record.our_scale.get("runs") else f"n = {record.ours.n}")
    if not record.ours.defined:
        return f"{record.ours.mean:.3g}, no interval ({n})"
    return f"{interval_text(record.ours, '{:.3g}')}, {n}"


def _scale(record: PaperRecord) -> str:
    scale = record.our_scale
    if not scale:
        return "no runs"
    parts = []
    if "params" in scale:
        low, high = (count_text(v) for v in scale["params"])
        parts.append(f"{low} params" if low == high else f"{low}–{high} params")
    parts.append(f"{'/'.join(str(s) for s in scale['steps'])} steps")
    parts.append(f"{scale['seeds']} seeds, {scale['runs']} runs")
    return ", ".join(parts)


def sweep_claims(ctx: Context) -> list[Claim]:
    """C1-C5 and T0 per architecture family, each with the paper's value beside ours; one 'not run' row
    naming the families without stored runs."""
    out = []
    families = _families(ctx)
    for family, rows in families.items():
        for row in rows:
            record = row.numbers.get("paper_record")
            out.append(Claim(f"{row.key.result}/{family}", f"{row.key.result} {FAMILY_NAMES[family]}: "
                             f"{SHORT[row.key.result]}",
                             row_word(row), _deciding(row), evidence_text(row), "sec:empirical",
                             family=SHORT_FAMILY.get(family, family), paper=PAPER_SHORT[row.key.result],
                             versus=record.verdict if record else NOT_RUN,
                             ours=_ours(record) if record else "n/a", scale=_scale(record) if record else ""))
    missing = [family for family in FAMILY_NAMES if family not in families]
    if missing:
        names = ", ".join(FAMILY_NAMES[family] for family in missing)
        out.append(Claim("C1-C5/not-run", f"C1–C5 and T0 on the {names}", NOT_RUN,
                         "no stored sweep of these architectures", "no stored sweep of these architectures",
                         "sec:empirical", family=", ".join(SHORT_FAMILY.get(f, f) for f in missing),
                         paper="GPT: as above", versus=NOT_RUN, ours="no runs", scale="–"))
    return out
