"""The report's table of the shipped persistence study (driftproof/stored/persistence.json): the referee's
question answered per loss x data x optimizer x clipping, read from the file, never recomputed by training."""

from __future__ import annotations

from ..render.persistence import REFERENCE_ACT, answer_rows, bias_drift_totals
from ..results import Estimate
from ..sweeps.persistence import (CE_REVERSAL, PAPER_ACTS, STORED, STORED_WIDE, VERDICTS, load_ce_reversal,
                                  load_stored)
from ..texutil import tex_prose
from .claims import Claim
from .context import Context
from .latex import interval, table

__all__ = ["persistence_study_section", "ce_reversal_section", "study_answer", "study_claim",
           "persistence_studies_appendix", "persistence_study_table", "ce_reversal_table"]

OPTIMIZER_NAMES = {"sgd": "SGD", "adamw": "AdamW", "muon": "Muon", "adam": "Adam"}


def _scale_text(stored: dict) -> str:
    s = stored["scale"]
    opts = "; ".join(f"{name} lr {o['lr']:g}" + (f", wd {o['wd']:g}" if o.get("wd") else "")
                     for name, o in s["optimizers"].items())
    return (f"plain MLP of width {s['width']} and depth {s['depth']}, {s['init']}, batch {s['batch']}, "
            f"{s['steps']} steps, {s['seeds']} seeds per cell ({opts}; gradient clipped to global norm "
            f"{s['clip_norm']:g} or not); late window: the last {s['late_fraction']:.0%} of the logged steps")


def study_answer(stored: dict) -> str:
    """Page 1's answer from the study, per loss and data set over every optimizer and clipping: counts of the
    (activation, layer) cases whose late sign persists / reverses / is unresolved and whose bias drift is
    negative / positive, and the (loss, data) where both reverse (text)."""
    totals: dict[tuple[str, str], dict] = {}
    for row in answer_rows(stored):
        entry = totals.setdefault((row["loss"], row["data"]), {"sign": {}, "b_drift": {}, "cases": 0})
        entry["cases"] += row["cases"]
        for question in ("sign", "b_drift"):
            for verdict, count in row["counts"][question].items():
                entry[question][verdict] = entry[question].get(verdict, 0) + count
    sign, drift = VERDICTS["sign"], VERDICTS["b_drift"]
    parts, reversed_ = [], []
    for (loss, data), entry in totals.items():
        s, b = entry["sign"], entry["b_drift"]
        parts.append(f"{loss.upper()} on {data}: persists {s[sign[1]]}, reverses {s[sign[-1]]}, unresolved "
                     f"{s[sign[0]]}; bias negative {b[drift[-1]]}, positive {b[drift[1]]}")
        if s[sign[-1]] > s[sign[1]] and b[drift[1]] > b[drift[-1]]:
            reversed_.append(f"{loss.upper()} on {data}")
    scale = stored["scale"]
    text = (f"{scale['seeds']} seeds per cell, {'/'.join(OPTIMIZER_NAMES.get(o, o) for o in scale['optimizers'])} "
            f"with and without clipping, exact sign tests under Holm; counts of (activation, layer) cases by their "
            f"late sign, then by their bias drift): " + ". ".join(parts))
    if reversed_:
        text += f". Under {' and '.join(reversed_)} the sign reverses and the bias drifts positive"
    return text


def study_claim(stored: dict) -> Claim:
    """The referee's question as a claim row, from the study: the late sign over every (loss, data, optimizer,
    clipping) cell's (activation, layer) cases; violated where some case reverses under Holm."""
    sign = VERDICTS["sign"]
    counts = {verdict: 0 for verdict in sign.values()}
    for row in answer_rows(stored):
        for verdict, count in row["counts"]["sign"].items():
            counts[verdict] += count
    total = sum(counts.values())
    persists, reverses, unresolved = counts[sign[1]], counts[sign[-1]], counts[sign[0]]
    verdict = "violated" if reverses else "holds" if persists == total else "inconclusive"
    scale = stored["scale"]
    params = sorted(scale["parameters"].values())
    text = (f"late sign persists in {persists}, reverses in {reverses}, unresolved in {unresolved} of {total} "
            f"(cell, activation, layer) cases")
    return Claim("persistence", "The sign survives training past t = 0 (the referee's question)", verdict,
                 text + f" (exact sign tests over {scale['seeds']} seeds, Holm)", study_answer(stored),
                 "sec:persistence-study", family="MLP", versus=verdict, ours=text + f"; n = {scale['seeds']} seeds a cell, diverged ones left out",
                 scale=f"study: {params[0]:,}–{params[-1]:,} params, {scale['steps']} steps, {scale['seeds']} seeds")


def persistence_study_section(ctx: Context) -> str:
    """A subsection with the study's answer table, or a sentence saying the study is not shipped."""
    stored = load_stored()
    head = r"\subsection{Persistence per loss, data and optimizer (the stored study)}\label{sec:persistence-study}"
    if stored is None:
        return head + "\n" + tex_prose(f"Not run: driftproof/{STORED} is not in this installation.")
    text = tex_prose(
        f"Every cell of {stored['scale']['seeds']} seeds trained the same small network ({_scale_text(stored)}). "
        f"Each count is over the (activation, layer) cases of {', '.join(PAPER_ACTS)}: an exact sign test over "
        f"seeds of the late sign statistic (> 0: persists), of the bias drift and of the weight drift (< 0: the "
        f"paper's negative drift), called under Holm across every (cell, layer) of the study at family-wise "
        f"{stored['design']['alpha']:g}, one family per question; tanh and identity are controls, judged in "
        f"a family of their own and never counted here. Diverged runs are left out and named in the file; a "
        f"cell where most seeds diverged is not measured. Command: `{stored['command']}` "
        f"({stored['seconds']:.0f} s on one core).")
    wide = load_stored(STORED_WIDE)
    widths = ""
    if wide is not None:
        text += " " + tex_prose(f"The same study at width {wide['scale']['width']} (driftproof/{STORED_WIDE}, "
                                f"`{wide['command']}`): Table ") + r"\ref{tab:persistence-widths}."
        narrow, broad = bias_drift_totals(stored), bias_drift_totals(wide)
        cell = lambda t: f"{t['negative']} / {t['positive']} of {t['cases']}" if t else "not run"  # noqa: E731
        widths = table(["loss", "data", f"width {stored['scale']['width']}", f"width {wide['scale']['width']}"],
                       [[loss.upper(), data, cell(narrow[loss, data]), cell(broad.get((loss, data)))]
                        for loss, data in narrow],
                       tex_prose("The persistence study at two widths: (activation, layer) cases whose bias drift "
                                 "is negative / positive (sign tests under Holm) of the cases measured, over every "
                                 "optimizer and clipping."), "llcc", size=r"\small", label="tab:persistence-widths",
                       breakable=False, placement="!htbp")
    return "\n".join([head, text + tex_prose(" Per cell: Table ") + r"\ref{tab:persistence-study} (appendix).",
                      widths])


def persistence_study_table(ctx: Context) -> str:
    """The study's answer per (loss, data, optimizer, clipping), a long table for the appendix ('' when the study
    is not shipped)."""
    stored = load_stored()
    if stored is None:
        return ""
    rows = []
    for row in answer_rows(stored):
        ref = row["reference"]
        key = f"pstudy {row['loss']} {row['data']} {row['opt']} {row['clip_text']}"
        rows.append([row["loss"], row["data"], row["opt"], tex_prose(row["clip_text"]),
                     row["counts_text"]["sign"], row["counts_text"]["b_drift"], row["counts_text"]["w_drift"],
                     interval(ctx, key + " db", ref["b_drift"]) if ref else "not measured",
                     (ctx.numbers.add(key + " self", ref["self_late"].mean, 2) + " / "
                      + ctx.numbers.add(key + " label", ref["label_late"].mean, 2)) if ref else "not measured",
                     tex_prose(", ".join(row["not_measured"]) or "none")])
    sign, drift = "/".join(VERDICTS["sign"].values()), "/".join(VERDICTS["b_drift"].values())
    caption = (tex_prose("The referee's question per loss, data and optimizer (Section ") + r"\ref{sec:persistence-study}"
               + tex_prose(f"): counts {sign} (late sign) and {drift} (drifts); {REFERENCE_ACT}'s layer-1 bias drift "
                           f"(95% interval over seeds) and the means over seeds of its late self and label parts (their "
                           f"intervals are in the file)."))
    return table(["loss", "data", "opt.", "clip", "late sign", "bias drift", "weight drift", f"{REFERENCE_ACT} L1 Δb",
                  f"{REFERENCE_ACT} L1 self / label", "not measured"], rows, caption,
                 "llllccclp{1.6cm}p{1.5cm}", size=r"\scriptsize", label="tab:persistence-study")


def _direction(layers: dict) -> str:
    """``positive`` / ``negative`` when every layer's bias-drift sign test called that sign, else ``mixed``."""
    calls = {layer["b_drift_test"]["call"] for layer in layers.values()}
    return {frozenset({1}): "positive", frozenset({-1}): "negative"}.get(frozenset(calls), "mixed")


def ce_reversal_section(ctx: Context) -> str:
    """A subsection: which factor decides the sign of the drift under cross-entropy (the stored study)."""
    head = r"\subsection{Why cross-entropy reverses (the stored one-factor study)}\label{sec:ce-reversal}"
    stored = load_ce_reversal()
    if stored is None:
        return head + "\n" + tex_prose(f"Not run: driftproof/{CE_REVERSAL} is not in this installation.")
    by_direction = {"positive": [], "negative": [], "mixed": []}
    for factor, values in stored["cells"].items():
        for label, cell in values.items():
            by_direction[_direction(cell["layers"])].append(f"{factor} {label}")
    base = stored["base"]
    text = tex_prose(
        f"One factor at a time from a base of {base['config']['act']} MLP width {base['config']['width']}, depth "
        f"{base['config']['depth']}, {base['config']['loss']} on the {base['spec']['data']}, {base['spec']['opt']} lr "
        f"{base['spec']['lr']:g}, {stored['steps']} steps, {stored['seeds']} seeds per cell; every hidden layer's bias "
        f"drift gets an exact sign test over seeds under Holm across all {stored['sign_tests']['b_drift']['tests']} "
        f"(cell, layer) cases ({stored['sign_tests']['b_drift']['called']} called). Positive drift in every layer: "
        + "; ".join(by_direction["positive"]) + ". Negative (the paper's sign) in every layer: "
        + "; ".join(by_direction["negative"]) + ". Mixed: " + ("; ".join(by_direction["mixed"]) or "none")
        + ". So under cross-entropy the sign of the drift follows whether the labels can be learned; optimizer, "
        f"learning rate, width, depth and init scale change only its size and timing. The self/label split says "
        f"why: the self part (the theorem's) stays positive, the label part grows as the readout aligns with the "
        f"labels and overtakes it. Command: `{stored['command']}` ({stored['seconds']:.0f} s on one core).")
    return "\n".join([head, text + tex_prose(" Per cell: Table ") + r"\ref{tab:ce-reversal} (appendix)."])


def ce_reversal_table(ctx: Context) -> str:
    """The one-factor study per (factor, value), a table for the appendix ('' when it is not shipped)."""
    stored = load_ce_reversal()
    if stored is None:
        return ""
    rows = []
    for factor, values in stored["cells"].items():
        for index, (label, cell) in enumerate(values.items()):
            first = cell["layers"]["L1"]
            direction = _direction(cell["layers"])
            test = first["b_drift_test"]
            turned = [s for s in first["first_negative_running_mean"] if s is not None]
            split = Estimate.from_dict(first["self_end"]).mean, Estimate.from_dict(first["label_end"]).mean
            key = f"cerev {factor} {label}"
            rows.append([tex_prose(factor) if index == 0 else "", tex_prose(label),
                         interval(ctx, key + " db", Estimate.from_dict(first["b_drift"])),
                         f"{test['positive']}/{test['negative']}", direction,
                         tex_prose(f"{min(turned)}-{max(turned)} ({len(turned)}/"
                                   f"{len(first['first_negative_running_mean'])})" if turned else
                                   f"never (0/{len(first['first_negative_running_mean'])})"),
                         ctx.numbers.add(key + " self", split[0], 2) + " / " + ctx.numbers.add(key + " label", split[1], 2)])
    return table(
        ["factor", "value", "L1 Δb", "seeds +/−", "all layers", "running mean < 0 (steps)", "L1 self / label"],
        rows, tex_prose("Why cross-entropy reverses (Section ") + r"\ref{sec:ce-reversal}" + tex_prose(
            "): layer 1's bias drift (95% interval over seeds) and its sign test, the direction called in every "
            "hidden layer, the steps at which the running mean of the sign statistic turned negative (seeds), and "
            "the late self and label parts."),
        "lp{2.3cm}lllp{2.1cm}r", size=r"\scriptsize", label="tab:ce-reversal")


def persistence_studies_appendix(ctx: Context) -> str:
    """The two stored studies' long tables ('' when neither is shipped)."""
    tables = [t for t in (persistence_study_table(ctx), ce_reversal_table(ctx)) if t]
    if not tables:
        return ""
    return "\n".join([r"\subsection{The persistence studies}\label{app:persistence-studies}", *tables])
