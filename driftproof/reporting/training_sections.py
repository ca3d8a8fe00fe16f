"""Report section and claims from training runs: does the sign persist past t = 0?"""

from __future__ import annotations

import warnings

import numpy as np

from ..config import Config
from ..results import Estimate
from ..texutil import tex_escape
from ..training import TrainSpec, train
from ..training.summary import LayerSummary, RoleSummary
from .context import Context
from .figures import persistence_figure
from .latex import table

__all__ = ["register", "training_results", "TRAIN_SIZES"]

DATASETS = ("noise", "digits")
# Full and quick sizes; the numbers are printed in the report beside the results.
TRAIN_SIZES = {False: {"width": 128, "depth": 3, "steps": 300, "seeds": 3, "batch": 64, "lr": 0.05},
               True: {"width": 64, "depth": 2, "steps": 150, "seeds": 3, "batch": 64, "lr": 0.05}}


def _running_mean(values: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(values), values, 0.0)
    counts = np.cumsum(np.isfinite(values))
    return np.cumsum(finite) / np.maximum(counts, 1)


def training_results(ctx: Context, loss: str, act: str, data: str) -> dict:
    """Summary (a RoleSummary) and seed-averaged curves of one training configuration (cached)."""
    sizes = TRAIN_SIZES[ctx.quick]
    config = Config(loss=loss, act=act, width=sizes["width"], depth=sizes["depth"], seed=ctx.seed,
                    input_dim=sizes["width"] if data == "noise" else None)
    spec = TrainSpec(arch="mlp", data=data, opt="sgd", lr=sizes["lr"], steps=sizes["steps"], batch=sizes["batch"],
                     seeds=sizes["seeds"], control=None, n_train=2048, n_test=512, kernel="numpy")

    def compute():
        with np.errstate(all="ignore"):  # a diverging run is reported as such, not warned about
            result = train(config, spec)
        curves = {"step": result.logs[0].columns["step"].tolist()}
        for layer in range(1, config.depth + 1):
            for metric in ("sign", "b_mean", "w_mean", "zero_frac"):
                stacked = np.array([log.columns[f"L{layer}.{metric}"] for log in result.logs])
                if metric == "sign":
                    stacked = np.array([_running_mean(row) for row in stacked])
                with warnings.catch_warnings():  # all seeds NaN after a divergence: the mean is NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    curves[f"L{layer}.{metric}"] = np.nanmean(stacked, axis=0).tolist()
        return {"summary": result.summary.roles["main"], "curves": curves, "spec": spec.to_dict(),
                "config": config.to_dict(), "seconds": result.seconds,
                "diverged": [d.to_dict() for d in result.diverged]}

    # layout 2: the summary as RoleSummary.to_dict (Estimates), diverged as a list of runs with their step
    cached = ctx.cache.get("training", {"config": config.to_dict(), "spec": spec.to_dict(), "layout": 2}, compute)
    return {**cached, "summary": RoleSummary.from_dict(cached["summary"])}


def _acts(ctx: Context) -> list[tuple[str, str]]:
    return list(dict.fromkeys(ctx.pairs))


def training_section(ctx: Context) -> str:
    sizes = TRAIN_SIZES[ctx.quick]
    out = [r"\section{Training: does the sign persist past $t=0$?}",
           tex_escape(f"MLP width {sizes['width']}, depth {sizes['depth']}, plain SGD lr {sizes['lr']}, batch "
                      f"{sizes['batch']}, {sizes['steps']} steps, {sizes['seeds']} seeds, normal init, He scale. "
                      "Sign statistic: the mean of δ^l over entries with p^l > 0, its running mean over steps; "
                      "intervals are 95% Student-t intervals over seeds.")]
    rows, drift_rows = [], []
    for data in DATASETS:
        panels = []
        for loss, act in _acts(ctx):
            result = training_results(ctx, loss, act, data)
            panels.append({"label": f"{loss}/{act}", "curves": result["curves"]})
            for layer_key, entry in result["summary"].layers.items():
                label = [tex_escape(data), tex_escape(f"{loss}/{act}" + (" (diverged)" if result["diverged"] else "")),
                         layer_key]
                key = f"train {data} {loss} {act} {layer_key}"
                rows.append(label + _persistence_cells(ctx, key, entry))
                drift_rows.append(label + _drift_cells(ctx, key, entry))
                ctx.record("training", f"{data}/{loss}/{act}/{layer_key}", entry.to_dict())
        figure = persistence_figure(panels, sizes["depth"], ctx.figures / f"persistence_{data}",
                                    f"{data} data")
        ctx.figure_count += 1
        out += [r"\begin{figure}[H]\centering",
                rf"\includegraphics[width=\linewidth]{{figures/{figure.name}}}",
                rf"\caption{{Training on {data} data: running mean of the sign statistic, mean bias, and "
                r"sparsity (fraction of $h=0$) per layer, averaged over seeds.}", r"\end{figure}"]
    out.append(table(["data", "pair", "layer", "sign statistic at t=0", "fraction of steps > 0",
                      "first step < 0 (seeds)"], rows,
                     "Persistence of the sign per layer (95\\% intervals over seeds); first step $<0$: where "
                     "the running mean of the sign statistic first turns negative.", "lp{3cm}lrrr", size=r"\small"))
    out.append(table(["data", "pair", "layer", "Δ mean b", "Δ mean W", "sparsity start → end"], drift_rows,
                     "Total drift of each layer's mean bias and mean weight, and sparsity (fraction of $h=0$).",
                     "lp{3cm}lrrr", size=r"\small"))
    return "\n".join(out)


def _persistence_cells(ctx: Context, key: str, entry: LayerSummary) -> list[str]:
    firsts, turned = entry.first_negative_running_mean, entry.turned
    first = f"{min(turned)} ({len(turned)}/{len(firsts)})" if turned else f"never (0/{len(firsts)})"
    return [_iv(ctx, key + " t0", entry.sign_t0), _iv(ctx, key + " pos", entry.positive_fraction),
            ctx.numbers.add(key + " first", first)]


def _drift_cells(ctx: Context, key: str, entry: LayerSummary) -> list[str]:
    return [_iv(ctx, key + " db", entry.b_drift), _iv(ctx, key + " dw", entry.w_drift),
            ctx.numbers.add(key + " sp0", entry.zero_frac_start.mean, 3) + r"$\to$"
            + ctx.numbers.add(key + " sp1", entry.zero_frac_end.mean, 3)]


def _iv(ctx: Context, key: str, estimate: Estimate) -> str:
    """An Estimate as report numbers (each one recorded under its key)."""
    if estimate.n == 0:
        return "n/a"
    mean = ctx.numbers.add(key, estimate.mean, 3)
    if not estimate.defined:
        return mean
    return (f"{mean} [{ctx.numbers.add(key + ' lo', estimate.ci_low, 3)}, "
            f"{ctx.numbers.add(key + ' hi', estimate.ci_high, 3)}]")


def _layer_entries(ctx: Context):
    """(data, loss, act, layer key, LayerSummary) of every training configuration of the report."""
    for data in DATASETS:
        for loss, act in _acts(ctx):
            for layer_key, entry in training_results(ctx, loss, act, data)["summary"].layers.items():
                yield data, loss, act, layer_key, entry


def _persistence_claim(ctx: Context) -> tuple[str, str, str]:
    """Did the running mean of the sign stay positive in every (pair, layer)? violated if it turned in every seed."""
    persisted, turned = {}, {}
    for data, loss, act, layer_key, entry in _layer_entries(ctx):
        (turned if entry.turned else persisted)[(data, loss, act, layer_key)] = entry.turned
    seeds = TRAIN_SIZES[ctx.quick]["seeds"]
    every_seed_turned = {k: v for k, v in turned.items() if len(v) == seeds}
    evidence = "; ".join(f"{data}: persisted in {sum(k[0] == data for k in persisted)}/"
                         f"{sum(k[0] == data for k in (*persisted, *turned))} (pair, layer) cases" for data in DATASETS)
    if every_seed_turned:
        first = min(min(v) for v in every_seed_turned.values())
        evidence += (f"; running mean turned negative in every seed for {len(every_seed_turned)} cases, "
                     f"first at step {first}")
    verdict = "holds" if not turned else ("violated" if every_seed_turned else "inconclusive")
    return ("The sign survives training past t = 0 (the referee's question)", evidence, verdict)


def _sparsity_claim(ctx: Context) -> tuple[str, str, str] | None:
    """With ReLU, does the peak sparsity exceed the start by more than 2 points in every (data, layer)?"""
    sparsity = [(f"{loss} {data}", layer_key, entry.zero_frac_start.mean, entry.zero_frac_max.mean)
                for data, loss, act, layer_key, entry in _layer_entries(ctx) if act == "relu"]
    if not sparsity:
        return None
    rising = [s for s in sparsity if s[3] > s[2] + 0.02]
    return ("With ReLU, activation sparsity rises early in training",
            "; ".join(f"{d} {l}: {a:.2f} -> peak {b:.2f}" for d, l, a, b in sparsity),
            "holds" if len(rising) == len(sparsity) else ("violated" if not rising else "inconclusive"))


def training_claims(ctx: Context) -> list[tuple[str, str, str]]:
    rows = [_persistence_claim(ctx)]
    sparsity = _sparsity_claim(ctx)
    return rows + ([sparsity] if sparsity else [])


def register(sections: list, claims: list) -> None:
    if training_section not in sections:
        sections.append(training_section)
    if training_claims not in claims:
        claims.append(training_claims)
