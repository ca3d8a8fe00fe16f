"""The report's table of the shipped persistence study (driftproof/stored/persistence.json): the referee's
question answered per loss x data x optimizer x clipping, read from the file, never recomputed by training."""

from __future__ import annotations

from ..render.persistence import REFERENCE_ACT, answer_rows
from ..sweeps.persistence import PAPER_ACTS, STORED, VERDICTS, load_stored
from ..texutil import tex_prose
from .context import Context
from .latex import interval, table

__all__ = ["persistence_study_section"]


def _scale_text(stored: dict) -> str:
    s = stored["scale"]
    opts = "; ".join(f"{name} lr {o['lr']:g}" + (f", wd {o['wd']:g}" if o.get("wd") else "")
                     for name, o in s["optimizers"].items())
    return (f"plain MLP of width {s['width']} and depth {s['depth']}, {s['init']}, batch {s['batch']}, "
            f"{s['steps']} steps, {s['seeds']} seeds per cell ({opts}; gradient clipped to global norm "
            f"{s['clip_norm']:g} or not); late window: the last {s['late_fraction']:.0%} of the logged steps")


def persistence_study_section(ctx: Context) -> str:
    """A subsection with the study's answer table, or a sentence saying the study is not shipped."""
    stored = load_stored()
    head = r"\subsection{Persistence per loss, data and optimizer (the stored study)}\label{sec:persistence-study}"
    if stored is None:
        return head + "\n" + tex_prose(f"Not run: driftproof/{STORED} is not in this installation.")
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
    text = tex_prose(
        f"Every cell of {stored['scale']['seeds']} seeds trained the same small network ({_scale_text(stored)}). "
        f"Each count is over the (activation, layer) cases of {', '.join(PAPER_ACTS)}: an exact sign test over "
        f"seeds of the late sign statistic (> 0: persists), of the bias drift and of the weight drift (< 0: the "
        f"paper's negative drift), called under Holm across every (cell, layer) of the study at family-wise "
        f"{stored['design']['alpha']:g}, one family per question; tanh and identity are controls, judged in "
        f"a family of their own and never counted here. Diverged runs are left out and named in the file; a "
        f"cell where most seeds diverged is not measured. Command: `{stored['command']}` "
        f"({stored['seconds']:.0f} s on one core).")
    caption = (f"The referee's question per loss, data and optimizer: counts {sign} (late sign) and {drift} (drifts); "
               f"{REFERENCE_ACT}'s layer-1 bias drift (95\\% interval over seeds) and the means over seeds of its late self "
               f"and label parts (their intervals are in the file).")
    return "\n".join([head, text, table(
        ["loss", "data", "opt.", "clip", "late sign", "bias drift", "weight drift", f"{REFERENCE_ACT} L1 Δb",
         f"{REFERENCE_ACT} L1 self / label", "not measured"], rows, tex_prose(caption),
        "llllccclll", size=r"\scriptsize", label="tab:persistence-study")])
