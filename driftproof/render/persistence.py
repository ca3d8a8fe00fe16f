"""The persistence study's answer per loss x data x optimizer x clipping, as rows and as a Markdown table.

Reads the judged study (:func:`driftproof.sweeps.persistence.load_stored`); computes nothing but the seed-level
estimates of the rows it shows (from the stored per-seed values).
"""

from __future__ import annotations

import math

from ..results import Estimate
from ..training.summary import seed_estimate
from ..sweeps.persistence import CALL_FIELDS, PAPER_ACTS, QUESTIONS, VERDICTS, answers

__all__ = ["answer_rows", "markdown_table", "estimate_text", "call_of", "summary_text", "bias_drift_totals", "REFERENCE_ACT"]

REFERENCE_ACT = "relu"  # the activation whose numbers stand beside each row's counts


def estimate_text(e: Estimate) -> str:
    """``+0.077 [+0.074, +0.081]``, to the decimal place of the interval's half-width's second significant digit
    (``+0.077 (n = 3: no interval)`` below 5 seeds; ``not measured`` for none)."""
    if e.n == 0:
        return "not measured"
    if not e.defined:
        return f"{e.mean:+.2g} (n = {e.n}: no interval)"
    half = (e.ci_high - e.ci_low) / 2
    places = min(6, max(0, 1 - math.floor(math.log10(half)))) if half > 0 else 3  # 6: a zero-width interval
    return f"{e.mean:+.{places}f} [{e.ci_low:+.{places}f}, {e.ci_high:+.{places}f}]"


def _counts(counts: dict[str, int], question: str) -> str:
    return "/".join(str(counts[v]) for v in VERDICTS[question].values())


def answer_rows(stored: dict) -> list[dict]:
    """One row per (loss, data, optimizer, clip): the verdict counts of the paper activations' (activation, layer)
    cases per question, the reference activation's layer-1 bias drift and late self/label parts, what was not
    measured, and the diverged runs."""
    cells = {(r.cell.group, r.cell.act): r for r in stored["cells"]}
    rows = []
    for answer in answers(stored["cells"]):
        group = (answer["loss"], answer["data"], answer["opt"], answer["clip"])
        ref = cells.get((group, REFERENCE_ACT))
        numbers = {}
        if ref is not None and ref.measured:
            numbers = {m: ref.estimate("L1", m) for m in ("b_drift", "sign_late", "self_late", "label_late")}
        if numbers and ref.train_acc:
            numbers["train_acc"] = seed_estimate(ref.train_acc).within(0.0, 1.0)
        rows.append({**answer, "clip_text": "clip 1" if answer["clip"] is not None else "none",
                     "counts_text": {q: _counts(answer["counts"][q], q) for q in QUESTIONS},
                     "reference": numbers, "reference_seeds": len(ref.seeds) if ref is not None else 0})
    return rows


def markdown_table(stored: dict) -> str:
    """The answer rows as a Markdown table (README and docs/findings.md), with the legend of its columns."""
    sign = "/".join(VERDICTS["sign"].values())
    drift = "/".join(VERDICTS["b_drift"].values())
    head = ["loss", "data", "optimizer", "clip", f"late sign ({sign})", f"bias drift ({drift})",
            f"weight drift ({drift})", f"{REFERENCE_ACT} L1 Δ mean b", f"{REFERENCE_ACT} L1 late self / label",
            f"{REFERENCE_ACT} train acc.", "not measured (most seeds diverged)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in answer_rows(stored):
        ref = row["reference"]
        split = (f"{ref['self_late'].mean:+.2g} / {ref['label_late'].mean:+.2g}" if ref else "not measured")
        lines.append("| " + " | ".join([
            row["loss"], row["data"], row["opt"], row["clip_text"], row["counts_text"]["sign"],
            row["counts_text"]["b_drift"], row["counts_text"]["w_drift"],
            estimate_text(ref["b_drift"]) if ref else "not measured", split,
            f"{ref['train_acc'].mean:.2f}" if "train_acc" in ref else "—",
            ", ".join(row["not_measured"]) or "—"]) + " |")
    acts = ", ".join(PAPER_ACTS)
    return "\n".join(lines) + (
        f"\n\nCounts are over the (activation, hidden layer) cases of {acts} in each row (2 layers each), each an "
        f"exact sign test over seeds called under Holm across every (cell, layer) of the study "
        f"(family-wise {stored['design']['alpha']:g}; one family per question). "
        f"Intervals: 95% Student-t over seeds (n = {stored['scale']['seeds']} less the diverged).")


def call_of(result, layer: str, question: str) -> str:
    """The stored verdict of one (cell, layer, question), or ``not measured``."""
    call = result.calls.get(layer, {}).get(question)
    return "not measured" if call is None else call[CALL_FIELDS.index("verdict")]


def bias_drift_totals(stored: dict) -> dict[tuple[str, str], dict[str, int]]:
    """Per (loss, data), over every optimizer and clipping: how many (activation, layer) cases of the paper's
    activations drifted negative and positive (bias, sign tests under Holm), of how many cases."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for answer in answers(stored["cells"]):
        into = totals.setdefault((answer["loss"], answer["data"]), {"negative": 0, "positive": 0, "cases": 0})
        for verdict in ("negative", "positive"):
            into[verdict] += answer["counts"]["b_drift"][verdict]
        into["cases"] += answer["cases"]
    return totals


def summary_text(stored: dict, scale: bool = True) -> str:
    """One sentence per (loss, data) of :func:`bias_drift_totals`, for a summary page (``scale``: led by the
    study's scale)."""
    totals = bias_drift_totals(stored)
    parts = [f"{loss.upper()} on {data}: bias drift negative in {t['negative']}, positive in {t['positive']} of "
             f"{t['cases']} cases" for (loss, data), t in totals.items()]
    if not scale:
        return "; ".join(parts)
    return (f"stored study ({stored['scale']['seeds']} seeds per cell, width {stored['scale']['width']}; SGD, AdamW, "
            f"Muon, with and without clipping; {', '.join(PAPER_ACTS)}): " + "; ".join(parts))

