"""Report section: why the sign fades, the self/label split per data set (noise, teacher, digits, text).

Per data set one figure (the two parts per layer with bands over seeds, each seed's crossover step,
the first-order prediction where it applies) and a paragraph of numbers; per layer the table in the
appendix. The runs are :mod:`.split_runs`.
"""

from __future__ import annotations

import numpy as np

from ..results import Estimate
from ..texutil import tex_prose
from ..training.split import CROSSOVER_WINDOW
from ..training.summary import seed_estimate
from .context import Context
from .figures_training import split_figure
from .latex import figure_tex, interval, source_note, table
from .split_runs import (EARLY, GPT_LR, GPT_SIZES, INIT_NETWORKS, PREDICTION_NETWORKS, SPLIT_DATASETS,
                         label_rate_measured, predicted_step, split_runs)
from .training_sections import LR, TRAIN_SIZES

__all__ = ["split_section", "split_appendix"]

_DESCRIPTION = {"noise": "Gaussian inputs with random labels (nothing to learn but memorization)",
                "teacher": "labels (CE) or targets (MSE) of a random teacher network",
                "digits": "the 8x8 digits, standardized", "text": "the pydoc text corpus, next character"}


def _name(run: dict) -> str:
    return f"{run['loss']}/{run['act']}"


def _last(run: dict):
    return list(run["summary"].layers.items())[-1]


def _per_seed(crossover) -> str:
    return ", ".join("never" if c is None else str(c) for c in crossover or ())


def _numbers_row(ctx: Context, data: str, run: dict) -> list[str]:
    """One configuration's numbers (last layer) as table cells: the parts at t = 0, the crossover step per seed and
    its mean over the seeds that crossed, and (MLPs) the first-order prediction beside the measured label rate."""
    layer, entry = _last(run)
    key = f"split {data} {run['loss']} {run['act']}"
    crossed = len(entry.crossed)
    cells = [tex_prose(f"{_name(run)} ({layer})"), interval(ctx, key + " self0", entry.self_t0, 3),
             interval(ctx, key + " label0", entry.label_t0, 3),
             ctx.numbers.add(key + " crossover seeds", _per_seed(entry.crossover)),
             interval(ctx, key + " crossover", entry.crossover_estimate, 3) if crossed > 1 else "--"]
    if "prediction" in run:
        prediction = run["prediction"]
        step = predicted_step(prediction)
        ratio = entry.crossover_estimate.mean / step.mean if step and crossed else None
        cells += [interval(ctx, key + " predicted", step, 3) if step else r"none ($A\le 0$)",
                  ctx.numbers.add(key + " rate", prediction["rate"], 3),
                  interval(ctx, key + " rate measured", label_rate_measured(run, layer), 3),
                  ctx.numbers.add(key + " ratio", ratio, 2) if ratio is not None else "--"]
    return cells


def _numbers_table(ctx: Context, data: str, runs: list[dict]) -> str:
    mlp = any("prediction" in run for run in runs)
    columns = ["pair (layer)", "self part, t = 0", "label part, t = 0", "crossover per seed", "mean crossover"]
    columns += ["predicted t*", "A predicted", f"A measured (first {EARLY} steps)", "measured / predicted"] * mlp
    align = "p{1.7cm}p{2.0cm}p{2.0cm}p{1.3cm}p{1.8cm}" + "p{1.8cm}p{1.2cm}p{1.8cm}p{1.4cm}" * mlp
    caption = (f"The self/label split on {data} data, last hidden layer "
               f"({'block' if data == 'text' else 'layer'}): each part of the sign statistic at $t=0$ (95\\% "
               "interval over seeds), the crossover step of each seed (never: not within the run) and their mean over "
               "the seeds that crossed (95\\% $t$-interval)"
               + (", the first-order prediction $t^* = S_0/(\\eta A)$ (95\\% interval, delta method) and the label "
                  "part's rate $A$, predicted and measured." if mlp else "."))
    return table(columns, [_numbers_row(ctx, data, run) for run in runs], caption, align, size=r"\scriptsize",
                 label=f"tab:split-{data}", breakable=False)


def _comparison(ctx: Context, data: str, runs: list[dict]) -> str:
    """The spread of measured/predicted over the configurations: the crossover step and the early label rate."""
    steps, rates = [], []
    for run in runs:
        if "prediction" not in run:
            continue
        layer, entry = _last(run)
        predicted = predicted_step(run["prediction"])
        if predicted and entry.crossed:
            steps.append(entry.crossover_estimate.mean / predicted.mean)
        if run["prediction"]["rate"] > 0:
            rates.append(label_rate_measured(run, layer).mean / run["prediction"]["rate"])
    if not rates:
        return ""
    key = f"split {data} ratio"
    text = (f" Measured over predicted, the early label rate ranges from "
            f"{ctx.numbers.add(key + ' rate lo', min(rates), 2)} to {ctx.numbers.add(key + ' rate hi', max(rates), 2)}")
    if steps:
        text += (f" and the crossover step from {ctx.numbers.add(key + ' step lo', min(steps), 2)} to "
                 f"{ctx.numbers.add(key + ' step hi', max(steps), 2)} (configurations that crossed)")
    return text + ("; the prediction moves only the readout, and the hidden layers' own learning, which it neglects, "
                   "changes the label part's rate.")


def _noise_sentence(ctx: Context, runs: list[dict]) -> str:
    """The label part on noise: zero at t = 0 within its interval, and near zero early (counts; numbers in the
    table :func:`_noise_table`)."""
    cases = [(run, layer, entry) for run in runs for layer, entry in run["summary"].layers.items()]
    inside = [c for c in cases if c[2].label_t0.contains(0.0)]
    text = (f"On noise the label part at t = 0 is within its 95% interval of 0 in {len(inside)} of {len(cases)} "
            f"(configuration, layer) cases (per layer: Table ")
    early_zero = [run for run in runs if _early_mean(run, _last(run)[0], "label").contains(0.0)]
    rest = (f"). Over {INIT_NETWORKS} further networks at t = 0, and over the first {EARLY} steps of the runs, its "
            f"interval contains 0 in {len(early_zero)} of {len(runs)} configurations early on (last layer)"
            + (": it stays near zero early." if len(early_zero) == len(runs) else "."))
    if any(run["loss"] == "mse" and run not in early_zero for run in runs):
        rest += (" Where it does not (MSE), the label part moves from the first steps even here: the readout fits "
                 "the mean target through h >= 0 (a term the prediction includes), which needs no label information.")
    return tex_prose(text) + r"\ref{tab:split}" + tex_prose(rest) + " Table~\\ref{tab:split-noise-init}."


def _noise_table(ctx: Context, runs: list[dict]) -> str:
    rows = []
    for run in runs:
        layer, _ = _last(run)
        init = run["init"].get(layer)
        early = {part: _early_mean(run, layer, part) for part in ("self", "label")}
        key = f"split noise {run['loss']} {run['act']} {layer}"
        share = (ctx.numbers.add(key + " early pct", 100 * abs(early["label"].mean / early["self"].mean), 2) + r"\%"
                 if early["self"].sign > 0 else "--")
        rows.append([tex_prose(f"{_name(run)} ({layer})"), interval(ctx, key + " init label", init["label"], 3),
                     interval(ctx, key + " init self", init["self"], 3),
                     interval(ctx, key + " early label", early["label"], 3),
                     interval(ctx, key + " early self", early["self"], 3), share])
    return table(["configuration", "label part, t = 0", "self part, t = 0", f"label part, first {EARLY} steps",
                  f"self part, first {EARLY} steps", "label / self"], rows,
                 f"Noise data, last hidden layer: the label part and the self part at $t=0$ over {INIT_NETWORKS} "
                 f"further networks (seeds 2000--{2000 + INIT_NETWORKS - 1}), and their means over the first {EARLY} "
                 "logged steps of the runs (95\\% intervals over seeds).", "lp{2.5cm}p{2.5cm}p{2.5cm}p{2.5cm}l",
                 size=r"\footnotesize", label="tab:split-noise-init", breakable=False)


def _early_mean(run: dict, layer: str, part: str) -> Estimate:
    """Mean over seeds of each seed's mean of ``part`` over the first EARLY logged steps (Student-t interval)."""
    return seed_estimate([float(np.nanmean(np.asarray(s["curves"][f"{layer}.{part}"][:EARLY], float)))
                          for s in run["seeds"]])


def _text_sentence(runs: list[dict]) -> str:
    """The GPT (LaTeX): what its crossover step means when the self part is about zero at t = 0 (R6)."""
    zero = [run for run in runs if _last(run)[1].self_t0.contains(0.0)]
    text = tex_prose(f"In the GPT the self part at t = 0 is within its interval of 0 in {len(zero)} of {len(runs)} "
                      "configurations (last block): the readout sees a normalized stream, where R6 makes the "
                      "expectation vanish for an untied Gaussian readout; the tied embedding adds a small positive "
                      "part (measured over 600 initializations: scripts/r6_transformer.py)"
                      + (", too small to resolve with these seeds" if len(zero) == len(runs) else "")
                      + " (Section ") + r"\ref{sec:r6}). "
    if zero:
        text += tex_prose("Where the self part is about zero, the label part 'overtakes' it as soon as its batch "
                           "noise is negative over a window: those crossover steps date the first label-dominated "
                           "window, not the fading of a positive sign. ")
    return text + tex_prose("No first-order prediction: it assumes an independent readout moved by plain SGD; the "
                             "GPT's readout is its token embedding and it trains with AdamW.")


def _paragraph(ctx: Context, data: str, runs: list[dict]) -> str:
    text = (tex_prose(f"On {data} data, the last layer's numbers are in Table ") + rf"\ref{{tab:split-{data}}}."
            + tex_prose(_comparison(ctx, data, runs)))
    if data == "noise":
        text += " " + _noise_sentence(ctx, runs)
    if data == "text":
        text += " " + _text_sentence(runs)
    tables = [_numbers_table(ctx, data, runs)] + ([_noise_table(ctx, runs)] if data == "noise" else [])
    return "\n".join([text, *tables])


def _record(ctx: Context, data: str, runs: list[dict]) -> None:
    for run in runs:
        for layer, entry in run["summary"].layers.items():
            ctx.record("split", f"{data}/{_name(run)}/{layer}", {
                "self_t0": entry.self_t0.to_dict(), "label_t0": entry.label_t0.to_dict(),
                "crossover": list(entry.crossover or ()), "steps": int(run["step"][-1]),
                "prediction": run.get("prediction") if layer == _last(run)[0] else None,
                "init": {part: e.to_dict() for part, e in run["init"].get(layer, {}).items()},
                "seconds": run["seconds"]})


def _settings(ctx: Context) -> str:
    mlp, gpt = TRAIN_SIZES[ctx.quick], GPT_SIZES[ctx.quick]
    return (f"MLPs (noise, teacher, digits): width {mlp['width']}, depth {mlp['depth']}, plain SGD at lr {LR:g} "
            f"without clipping (the first-order prediction's setting; ReLU and GELU are stable there), batch "
            f"{mlp['batch']}, {mlp['steps']} steps, {mlp['seeds']} seeds. GPT (text): width {gpt['width']}, "
            f"{gpt['depth']} blocks, {gpt['heads']} heads, context {gpt['context']}, batch {gpt['batch']} sequences, "
            f"AdamW at lr {GPT_LR:g} in float32 (its own recipe), {gpt['steps']} steps, {gpt['seeds']} seeds. "
            f"Crossover: the first step at which, over the last {CROSSOVER_WINDOW} logged steps, the label part is "
            f"negative and larger in size than the self part. First-order prediction (MLPs, last hidden layer; "
            f"theory/crossover.py): only the readout moves, by SGD, so the label part falls as -lr t A while the "
            f"self part stays at its t = 0 value S0; t* = S0/(lr A), with A and S0 averaged over "
            f"{PREDICTION_NETWORKS} networks (95% interval by the delta method). It neglects the hidden layers' "
            f"own learning.")


def _data_set_tex(ctx: Context, data: str) -> list[str]:
    """The figure and the paragraph of one data set."""
    with ctx.tracking() as used:
        runs = split_runs(ctx, data)
    drawn = [run for run in runs if not run["diverged"]]
    _record(ctx, data, runs)
    diverged = "; ".join(f"{_name(r)} diverged (not drawn)" for r in runs if r["diverged"])
    if not drawn:
        return [tex_prose(f"On {data} data every split run diverged: {diverged}.")]
    predicted = {_name(run): step.mean for run in drawn if "prediction" in run
                 for step in [predicted_step(run["prediction"])] if step is not None}
    figure = split_figure(drawn, ctx.figures / f"split_{data}", ctx, predicted)
    caption = (f"Self/label split on {data} data ({_DESCRIPTION[data]}; {'GPT' if data == 'text' else 'MLP'}): self "
               f"part (vermillion) and label part (blue) of the sign statistic per layer, trailing mean over "
               f"{CROSSOVER_WINDOW} steps, mean over seeds with 95% bands, divided by the row's largest size of the "
               f"self part's mean; rows marked symlog, where the self part collapses (MSE), on a symmetric log axis, "
               f"linear within ±0.001. Ticks at the top: each seed's crossover step"
               + ("; dashed: the first-order prediction (last layer)" if predicted else "") + ". " + diverged)
    return [figure_tex(ctx, figure, f"fig:split-{data}", tex_prose(caption), sources=used,
                       networks=("N6",) if data == "text" else ("N5",)), _paragraph(ctx, data, drawn)]


def split_section(ctx: Context) -> str:
    out = [r"\section{Why the sign fades: the self/label split}\label{sec:split}",
           tex_prose("Backpropagation is linear in the output gradient g(z) − y, so every δ^l is exactly a self "
                      "part (from g(z), the part the theorem is about) plus a label part (from −y, zero mean at "
                      "initialization because the readout is independent of the labels). In training the readout "
                      "aligns with the labels and the label part grows negative. " + _settings(ctx)) + " "
           + "Figures " + ", ".join(rf"\ref{{fig:split-{data}}}" for data in SPLIT_DATASETS)
           + tex_prose(" show it per data set; per layer and seed: Table ") + r"\ref{tab:split} (appendix)."]
    for data in SPLIT_DATASETS:
        out.extend(_data_set_tex(ctx, data))
    return "\n".join(out)


def split_appendix(ctx: Context) -> str:
    rows = []
    with ctx.tracking() as used:
        runs = {data: split_runs(ctx, data) for data in SPLIT_DATASETS}
    for data in SPLIT_DATASETS:
        for run in runs[data]:
            last = _last(run)[0]
            for layer, entry in run["summary"].layers.items():
                key = f"split table {data} {run['loss']} {run['act']} {layer}"
                step = predicted_step(run["prediction"]) if "prediction" in run and layer == last else None
                rows.append([tex_prose(data), tex_prose(_name(run)), layer,
                             interval(ctx, key + " self0", entry.self_t0, 3),
                             interval(ctx, key + " label0", entry.label_t0, 3),
                             tex_prose(_per_seed(entry.crossover)),
                             interval(ctx, key + " crossover", entry.crossover_estimate, 3) if entry.crossed else "never",
                             interval(ctx, key + " predicted", step, 3) if step else "—"])
    return "\n".join([r"\subsection{The self/label split per layer}", table(
        ["data", "pair", "layer", "self part, t=0", "label part, t=0", "crossover per seed", "mean (crossed)",
         "predicted"], rows,
        "Self/label split per layer: each part of the sign statistic at t = 0 and the crossover step per seed "
        "(never: not within the run), its mean over the seeds that crossed (95\\% t-interval), and the first-order "
        "prediction for the last hidden layer of the MLPs (95\\% interval, delta method)."
        + source_note(ctx, "tab:split", used, ("N5", "N6")),
        "llrp{2.6cm}p{2.6cm}p{1.6cm}p{2.4cm}p{2.4cm}", size=r"\scriptsize", label="tab:split")])
