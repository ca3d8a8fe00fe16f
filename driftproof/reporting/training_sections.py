"""Report sections and claims from training runs: does the sign persist past t = 0, and why does it fade?

The runs are cached per seed (curves of every seed, not only their mean), so a figure's
bands, its axes and the list of diverged runs can change without retraining.
"""

from __future__ import annotations

import math

import numpy as np

from ..config import Config
from ..training import TrainSpec, train
from ..catalogue import CATALOGUE
from ..training.summary import LayerSummary, RoleSummary
from .claims import Claim, against_paper
from .cache import Job
from .context import Context
from .figures_training import persistence_figure
from .style import act_text
from ..sweeps.persistence import load_stored
from .persistence_study import ce_reversal_section, persistence_study_section, study_claim
from .latex import figure_tex, interval, source_note, table
from ..texutil import tex_prose

__all__ = ["training_results", "TRAIN_SIZES", "LR", "CLIP_NORM", "BLOWUP", "blowup_step", "run_spec",
           "persistence_section", "training_appendix", "training_claims", "persistence_answer", "DATASETS",
           "training_jobs"]

DATASETS = ("noise", "digits")
# Full and quick sizes; the numbers are printed in the report beside the results.
TRAIN_SIZES = {False: {"width": 128, "depth": 3, "steps": 300, "seeds": 3, "batch": 64},
               True: {"width": 64, "depth": 2, "steps": 150, "seeds": 3, "batch": 64}}
# Plain SGD at one learning rate for every activation, the gradient clipped to global L2 norm CLIP_NORM
# before each update. Without clipping ReLU^2 and GELU^2 blow up within a few steps at every rate tried
# down to 1e-4 (scripts/report_stability.py records the trials, unclipped and clipped, in its JSON);
# clipping rescales the whole gradient, so its direction and the sign of every component are kept.
LR = 0.05
CLIP_NORM = 1.0
# A run whose layer mean weight or mean bias leaves this bound has blown up (diverged), even
# while its loss is still a finite number; it is listed with that step, never plotted.
BLOWUP = 100.0
METRICS = ("sign", "b_mean", "zero_frac", "self", "label")
MAX_SERIES = 6  # runs per panel of a persistence figure; more are split by loss, then by group (_facets)


def run_spec(loss: str, act: str, data: str, quick: bool, lr: float | None = None, seed: int = 0,
             clip: bool = True):
    """(Config, TrainSpec) of the report's training run of one (loss, activation, data set)."""
    sizes = TRAIN_SIZES[quick]
    config = Config(loss=loss, act=act, width=sizes["width"], depth=sizes["depth"], seed=seed,
                    input_dim=sizes["width"] if data == "noise" else None)
    spec = TrainSpec(arch="mlp", data=data, opt="sgd", lr=LR if lr is None else lr, steps=sizes["steps"],
                     batch=sizes["batch"], seeds=sizes["seeds"], control=None, n_train=2048, n_test=512,
                     kernel="numpy", clip_norm=CLIP_NORM if clip else None)
    return config, spec


def blowup_step(columns: dict, depth: int) -> int | None:
    """The first logged step at which a layer's mean weight or bias is non-finite or beyond BLOWUP."""
    steps = np.asarray(columns["step"])
    bad = np.zeros(len(steps), dtype=bool)
    for layer in range(1, depth + 1):
        for metric in ("w_mean", "b_mean"):
            values = np.asarray(columns[f"L{layer}.{metric}"], dtype=float)
            bad |= ~np.isfinite(values) | (np.abs(values) > BLOWUP)
    return int(steps[np.argmax(bad)]) if bad.any() else None


def _running_mean(values: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(values), values, 0.0)
    counts = np.cumsum(np.isfinite(values))
    return np.cumsum(finite) / np.maximum(counts, 1)


def _seed_curves(log, depth: int) -> dict:
    out = {}
    for layer in range(1, depth + 1):
        for metric in METRICS:
            values = np.asarray(log.columns.get(f"L{layer}.{metric}", [math.nan] * len(log.columns["step"])), float)
            out[f"L{layer}.{metric}"] = (_running_mean(values) if metric == "sign" else values).tolist()
    return out


def _train_result(config: Config, spec: TrainSpec) -> dict:
    """What the report keeps of one training run: summary, every seed's curves, the blow-up steps."""
    with np.errstate(all="ignore"):  # a diverging run is reported as such, not warned about
        result = train(config, spec)
    seeds = [{"seed": log.seed, "diverged_at": log.diverged_at, "blowup_at": blowup_step(log.columns, config.depth),
              "curves": _seed_curves(log, config.depth)} for log in result.logs]
    return {"summary": result.summary.roles["main"], "step": result.logs[0].columns["step"].tolist(),
            "seeds": seeds, "spec": spec.to_dict(), "config": config.to_dict(), "seconds": result.seconds}


def training_job(ctx: Context, loss: str, act: str, data: str) -> Job:
    """The cached training run of one (loss, activation, data set)."""
    config, spec = run_spec(loss, act, data, ctx.quick, seed=ctx.seed)
    # layout 3: per-seed curves (running-mean sign, mean bias, sparsity, self/label parts) and blow-up steps
    return Job("training", {"config": config.to_dict(), "spec": spec.to_dict(), "layout": 3}, _train_result,
               (config, spec))


def training_jobs(ctx: Context) -> list[Job]:
    """Every training run the report's sections read (what a parallel build computes first)."""
    return [training_job(ctx, loss, act, data) for data in DATASETS for loss, act in _pairs(ctx)]


def training_results(ctx: Context, loss: str, act: str, data: str) -> dict:
    """Summary (a RoleSummary), every seed's curves and the diverged runs of one configuration (cached)."""
    cached = ctx.cache.get_job(training_job(ctx, loss, act, data))
    diverged = [{"seed": s["seed"], "step": min(x for x in (s["diverged_at"], s["blowup_at"]) if x is not None)}
                for s in cached["seeds"] if s["diverged_at"] is not None or s["blowup_at"] is not None]
    return {**cached, "summary": RoleSummary.from_dict(cached["summary"]), "diverged": diverged}


def _pairs(ctx: Context) -> list[tuple[str, str]]:
    return list(dict.fromkeys(ctx.pairs))


def _runs(ctx: Context, data: str) -> list[dict]:
    return [{"loss": loss, "act": act, **training_results(ctx, loss, act, data)} for loss, act in _pairs(ctx)]


def _diverged_note(runs: list[dict]) -> str:
    items = [f"{r['loss']}/{r['act']} (" + ", ".join(f"seed {d['seed']} at step {d['step']}" for d in r["diverged"])
             + ")" for r in runs if r["diverged"]]
    return ("Diverged, not drawn: " + "; ".join(items) + ".") if items else "No run diverged."


def _settings_text(ctx: Context) -> str:
    sizes = TRAIN_SIZES[ctx.quick]
    return (f"MLP of width {sizes['width']} and depth {sizes['depth']}, plain SGD at learning rate {LR:g} for every "
            f"activation with the gradient clipped to global L2 norm {CLIP_NORM:g} before each update, batch "
            f"{sizes['batch']}, {sizes['steps']} steps, {sizes['seeds']} seeds, normal init with He scale. Without "
            f"clipping, ReLU^2 and GELU^2 blow up within a few steps at every rate from 0.05 down to 1e-4 "
            f"(scripts/report_stability.py; its trials are in scripts/results/report_stability.json); clipping "
            f"rescales the whole gradient, so its direction, and the sign of the drift, are unchanged. A run "
            f"diverges when its loss stops being finite or a layer's mean weight or bias leaves ±{BLOWUP:g}.")


def _groups(acts: list[str]) -> list[tuple[str, ...]]:
    """Activations in groups of at most MAX_SERIES: the squared ones (ReLU², ...) apart from the others, then
    each group cut into near-equal parts if it is still larger."""
    if len(acts) <= MAX_SERIES:
        return [tuple(acts)]
    squared = [a for a in acts if a in CATALOGUE and CATALOGUE[a].family == "squared"]
    out = []
    for group in ([a for a in acts if a not in squared], squared):
        parts = math.ceil(len(group) / MAX_SERIES)
        size = math.ceil(len(group) / parts) if group else 1
        out += [tuple(group[i:i + size]) for i in range(0, len(group), size)]
    return out


def _facets(ctx: Context) -> list[tuple[str | None, tuple[str, ...] | None]]:
    """(loss, activations) drawn in one figure: everything in one when it is at most MAX_SERIES runs, else one
    figure per loss, and per group of activations (:func:`_groups`) when a loss alone has more."""
    pairs = list(dict.fromkeys(ctx.pairs))
    if len(pairs) <= MAX_SERIES:
        return [(None, None)]
    out = []
    for loss in dict.fromkeys(loss for loss, _ in pairs):
        groups = _groups([act for l, act in pairs if l == loss])
        out += [(loss, group if len(groups) > 1 else None) for group in groups]
    return out


def _facet_name(data: str, facet: tuple, index: int) -> str:
    loss, group = facet
    return f"persistence-{data}" + (f"-{loss}" if loss else "") + (f"-{index}" if group else "")


def persistence_section(ctx: Context) -> str:
    facets = _facets(ctx)
    split = ("" if len(facets) == 1 else ", one figure per loss" if all(g is None for _, g in facets) else
             ", one figure per loss and group of activations (at most six a panel: the squared ones apart)")
    figures, labels, undrawn = [], [], []
    for data in DATASETS:
        for index, (loss, group) in enumerate(facets):
            chosen = [(l, a) for l, a in _pairs(ctx) if (loss is None or l == loss) and (group is None or a in group)]
            with ctx.tracking() as used:
                runs = [{"loss": l, "act": a, **training_results(ctx, l, a, data)} for l, a in chosen]
            which = f"{data} data" + (f", {loss.upper()} loss" if loss else "")
            if group:
                which += ", " + ", ".join(act_text(a) for a in group)
            if all(run["diverged"] for run in runs):  # nothing to draw: said in the text, not as empty panels
                undrawn.append(f"on {which} every configuration lost a seed to divergence and none is drawn ("
                               + _diverged_note(runs).removeprefix("Diverged, not drawn: ").rstrip(".") + ")")
                continue
            name = _facet_name(data, (loss, group), index)
            figure = persistence_figure(runs, TRAIN_SIZES[ctx.quick]["depth"], ctx.figures / name.replace("-", "_"),
                                        ctx, bound=BLOWUP)
            style = "" if loss else r"solid MSE, dashed cross-entropy; "
            labels.append("fig:" + name)
            figures.append(figure_tex(ctx, figure, "fig:" + name,
                                      tex_prose(f"Training on {which}: ") + r"the running mean of the sign statistic "
                                      r"(top), the mean bias (middle) and the sparsity, the fraction of $h=0$ (bottom), "
                                      rf"per layer. Colour: activation; {style}bands: 95\% intervals over seeds (none "
                                      r"drawn from fewer than 5 seeds). The top row's axis is set by the steps after the "
                                      r"first tenth of the run, where the running mean averages more than a few batches; "
                                      r"the earliest bands run off it. " + tex_prose(_diverged_note(runs)), sources=used,
                                      networks=("N4",)))
    shown = ((" Figures " + rf"\ref{{{labels[0]}}}--\ref{{{labels[-1]}}}" if len(labels) > 1 else
              rf" Figure \ref{{{labels[0]}}}") + tex_prose(" show the runs on " + " and ".join(
                  f"{data} data" for data in DATASETS) + split + ".") if labels else "")
    out = [r"\section{Persistence past $t=0$ (the referee's question)}\label{sec:persistence}",
           tex_prose(_settings_text(ctx) + " Sign statistic: the mean of δ^l over the entries with p^l > 0; "
                      "drawn as its running mean over steps (mean over seeds with a 95% Student-t band, none from fewer "
                      "than 5 seeds), divided by the "
                      "largest size of that mean so that activations whose gradients differ by orders of magnitude "
                      "share an axis; the sign, the question here, is unchanged.") + shown
           + (tex_prose(" Not drawn: " + "; ".join(undrawn) + ".") if undrawn else ""), *figures]
    out.append(_persistence_paragraph(ctx))
    out.append(persistence_study_section(ctx))  # the shipped study: every loss x data x optimizer x clipping
    out.append(ce_reversal_section(ctx))  # the shipped one-factor study: why cross-entropy reverses
    return "\n".join(out)


def _stable_entries(ctx: Context):
    """(data, loss, act, layer key, LayerSummary) of every configuration whose runs did not diverge."""
    for data in DATASETS:
        for run in _runs(ctx, data):
            if not run["diverged"]:
                for layer_key, entry in run["summary"].layers.items():
                    yield data, run["loss"], run["act"], layer_key, entry


def _persistence_paragraph(ctx: Context) -> str:
    turned, total = {}, {}
    for data, loss, act, layer_key, entry in _stable_entries(ctx):
        total[data] = total.get(data, 0) + 1
        if len(entry.turned) == len(entry.first_negative_running_mean):
            turned.setdefault(data, []).append((min(entry.turned), f"{loss}/{act} {layer_key}"))
    parts = []
    for data in DATASETS:
        hits = sorted(turned.get(data, []))
        text = (f"on {data} data the running mean turned negative in every seed in {len(hits)} of "
                f"{total.get(data, 0)} (pair, layer) cases")
        if hits:
            text += f", first at step {ctx.numbers.add(f'persist {data} first', hits[0][0])} ({hits[0][1]})"
        parts.append(text)
    return tex_prose("In numbers: " + "; ".join(parts) + ". Per layer, with intervals: Table "
                      ) + r"\ref{tab:persistence} (appendix)."


def training_appendix(ctx: Context) -> str:
    rows, drift_rows = [], []
    with ctx.tracking() as used:
        runs = {data: _runs(ctx, data) for data in DATASETS}
    for data in DATASETS:
        for run in runs[data]:
            for layer_key, entry in run["summary"].layers.items():
                pair = f"{run['loss']}/{run['act']}" + (" (diverged)" if run["diverged"] else "")
                label = [tex_prose(data), tex_prose(pair), layer_key]
                key = f"train {data} {run['loss']} {run['act']} {layer_key}"
                rows.append(label + _persistence_cells(ctx, key, entry))
                drift_rows.append(label + _drift_cells(ctx, key, entry))
                ctx.record("training", f"{data}/{run['loss']}/{run['act']}/{layer_key}", entry.to_dict())
    return "\n".join([
        r"\subsection{Persistence and drift per layer}",
        table(["data", "pair", "layer", "sign statistic at t=0", "fraction of steps > 0", "first step < 0 (seeds)"],
              rows, "Persistence of the sign per layer (95\\% intervals over seeds); first step $<0$: where the "
              "running mean of the sign statistic first turns negative." + source_note(ctx, "tab:persistence", used, ("N4",)),
              "lp{2.6cm}lrrr", size=r"\footnotesize",
              label="tab:persistence"),
        table(["data", "pair", "layer", "Δ mean b", "Δ mean W", "sparsity start → end"], drift_rows,
              "Total drift of each layer's mean bias and mean weight, and sparsity (fraction of $h=0$)."
              + source_note(ctx, "tab:drift", used, ("N4",)),
              "lp{2.6cm}lrrr", size=r"\footnotesize", label="tab:drift")])


def _persistence_cells(ctx: Context, key: str, entry: LayerSummary) -> list[str]:
    firsts, turned = entry.first_negative_running_mean, entry.turned
    first = f"{min(turned)} ({len(turned)}/{len(firsts)})" if turned else f"never (0/{len(firsts)})"
    return [interval(ctx, key + " t0", entry.sign_t0), interval(ctx, key + " pos", entry.positive_fraction),
            ctx.numbers.add(key + " first", first)]


def _drift_cells(ctx: Context, key: str, entry: LayerSummary) -> list[str]:
    return [interval(ctx, key + " db", entry.b_drift), interval(ctx, key + " dw", entry.w_drift),
            ctx.numbers.add(key + " sp0", entry.zero_frac_start.mean, 3) + r"$\to$"
            + ctx.numbers.add(key + " sp1", entry.zero_frac_end.mean, 3)]


def _persistence_claim(ctx: Context) -> Claim:
    """Did the running mean stay positive? Decided by the lowest fraction of positive steps over (pair, layer)."""
    entries = list(_stable_entries(ctx))
    turned = [e for e in entries if e[4].turned]
    every_seed = [e for e in entries if e[4].turned and len(e[4].turned) == len(e[4].first_negative_running_mean)]
    verdict = "holds" if not turned else ("violated" if every_seed else "inconclusive")
    worst = min(entries, key=lambda e: e[4].positive_fraction.mean) if entries else None
    number = "no stable run"
    if worst:
        data, loss, act, layer_key, entry = worst
        number = (f"lowest fraction of steps with a positive sign: "
                  f"{interval(ctx, 'claim persistence worst', entry.positive_fraction, 3)} "
                  f"({data}, {loss}/{act}, {layer_key})")
    evidence = (f"running mean turned negative in every seed in {len(every_seed)} of {len(entries)} (data, pair, "
                f"layer) cases, in some seeds in {len(turned)}")
    ours = f"turned < 0 in every seed in {len(every_seed)} of {len(entries)} cases"
    if worst:
        ours += (f"; fewest steps > 0: {_short(worst[4].positive_fraction)} ({worst[0]}, {worst[1]}/{worst[2]}, "
                 f"{worst[3]})")
    return Claim("persistence", "The sign survives training past t = 0 (the referee's question)", verdict,
                 number, evidence, "sec:persistence", family="MLP", versus=verdict, ours=ours,
                 network="N4")


def _short(estimate) -> str:
    """``0.082 [0.05, 0.11], n = 3`` (no interval below two replicates): for the page-1 table."""
    if estimate is None or not estimate.n:
        return "n/a"
    if not estimate.defined:
        return f"{estimate.mean:.2g}, no interval (n = {estimate.n})"
    return f"{estimate.mean:.2g} [{estimate.ci_low:.2g}, {estimate.ci_high:.2g}], n = {estimate.n}"


def persistence_answer(ctx: Context) -> str:
    """Page 1's answer to the referee's question, per loss and data set: does the running mean of the sign
    statistic stay positive, and where does it reverse (text)."""
    cases: dict[tuple[str, str], list] = {}
    for data, loss, act, layer_key, entry in _stable_entries(ctx):
        cases.setdefault((loss, data), []).append(entry)
    parts = []
    for loss in dict.fromkeys(loss for loss, _ in ctx.pairs):
        words = []
        for data in DATASETS:
            entries = cases.get((loss, data), [])
            every = [min(e.turned) for e in entries if e.turned and len(e.turned) == len(e.first_negative_running_mean)]
            some = sum(bool(e.turned) for e in entries) - len(every)
            if not entries:
                words.append(f"no stable run on {data}")
            elif not every and not some:
                words.append(f"stays positive on {data} ({len(entries)} of {len(entries)} cases)")
            elif len(every) == len(entries):
                words.append(f"reverses on {data} (negative in every seed in {len(entries)} of {len(entries)} cases, "
                             f"from step {min(every)})")
            else:
                words.append(f"turns negative on {data} in every seed in {len(every)} of {len(entries)} cases"
                             + (f", in some seeds in {some} more" if some else ""))
        parts.append(f"under {loss.upper()} the sign " + " and ".join(words))
    return "; ".join(parts)


def _sparsity_claim(ctx: Context) -> Claim | None:
    """With ReLU, does sparsity rise: end minus start per seed (paired), its interval above 0 in every
    (loss, data, layer)? The statistic C1 uses in the sweep's claims; MSE and CE stated separately."""
    sparsity = [(loss, f"{loss} {data} {layer_key}", entry) for data, loss, act, layer_key, entry in _stable_entries(ctx)
                if act == "relu"]
    if not sparsity:
        return None
    rises = [(loss, name, entry.zero_frac_rise) for loss, name, entry in sparsity]
    calls = [0 if rise is None else rise.sign for _, _, rise in rises]
    verdict = "holds" if all(c == 1 for c in calls) else "violated" if all(c == -1 for c in calls) else "inconclusive"
    by_loss = []
    for loss in sorted({loss for loss, _, _ in rises}):
        mine = [c for (lo, _, _), c in zip(rises, calls) if lo == loss]
        by_loss.append(f"{loss}: rises in {sum(c == 1 for c in mine)}, falls in {sum(c == -1 for c in mine)}, "
                       f"unresolved in {sum(c == 0 for c in mine)} of {len(mine)}")
    measured = [(rise.mean, name, rise) for _, name, rise in rises if rise is not None and rise.n]
    if not measured:
        return Claim("sparsity-training", "With ReLU, activation sparsity rises during training (these runs)",
                     "inconclusive", "not measured (a cached summary without the paired rise)", "; ".join(by_loss),
                     "sec:persistence")
    smallest = min(measured, key=lambda item: item[0])
    interval = "no interval" if not smallest[2].defined else f"[{smallest[2].ci_low:+.3f}, {smallest[2].ci_high:+.3f}]"
    rises = sum(c == 1 for c in calls)
    return Claim("sparsity-training", "With ReLU, activation sparsity rises during training (these runs)", verdict,
                 f"smallest change end - start {ctx.numbers.add('claim sparsity smallest rise', smallest[0], 3)} "
                 f"{interval} (n = {smallest[2].n} seeds; {smallest[1]})",
                 "exact zeros end - start per seed, 95% t interval over seeds (none below 5 seeds): " + "; ".join(by_loss),
                 "sec:persistence", family="MLP", paper="rises (C1)", versus=against_paper(verdict),
                 ours=f"rises in {rises} of {len(calls)} cases; smallest change {_short(smallest[2])}",
                 network="N4")


def training_claims(ctx: Context) -> list[Claim]:
    stored = load_stored()  # the shipped persistence study answers the referee's question where it ships
    claims = [study_claim(stored) if stored is not None else _persistence_claim(ctx)]
    sparsity = _sparsity_claim(ctx)
    return claims + ([sparsity] if sparsity else [])
