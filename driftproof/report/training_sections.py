"""Report section and claims from training runs: does the sign persist past t = 0?"""

from __future__ import annotations

import warnings

import numpy as np

from ..config import Config
from ..texutil import tex_escape
from ..training import TrainSpec, train
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
    """Summary and seed-averaged curves of one training configuration (cached)."""
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
        diverged = not all(np.isfinite(log.columns["loss"][-1]) for log in result.logs)
        return {"summary": result.summary["roles"]["main"], "curves": curves, "spec": spec.to_dict(),
                "config": config.to_dict(), "seconds": result.seconds, "diverged": diverged}

    return ctx.cache.get("training", {"config": config.to_dict(), "spec": spec.to_dict()}, compute)


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
            summary = result["summary"]
            for layer_key, entry in summary["layers"].items():
                key = f"train {data} {loss} {act} {layer_key}"
                firsts = entry["first_negative_running_mean"]
                turned = [f for f in firsts if f is not None]
                pair = f"{loss}/{act}" + (" (diverged)" if result["diverged"] else "")
                label = [tex_escape(data), tex_escape(pair), layer_key]
                rows.append(label + [_iv(ctx, key + " t0", entry["sign_t0"]),
                                     _iv(ctx, key + " pos", entry["positive_fraction"]),
                                     ctx.numbers.add(key + " first", f"{min(turned)} ({len(turned)}/{len(firsts)})"
                                                     if turned else f"never (0/{len(firsts)})")])
                drift_rows.append(label + [_iv(ctx, key + " db", entry["b_drift"]),
                             _iv(ctx, key + " dw", entry["w_drift"]),
                             ctx.numbers.add(key + " sp0", entry["zero_frac_start"]["mean"], 3) + r"$\to$"
                             + ctx.numbers.add(key + " sp1", entry["zero_frac_end"]["mean"], 3)])
                ctx.record("training", f"{data}/{loss}/{act}/{layer_key}", entry)
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


def _iv(ctx: Context, key: str, interval: dict) -> str:
    if interval.get("mean") is None:
        return "n/a"
    mean = ctx.numbers.add(key, interval["mean"], 3)
    if interval.get("low") is None:
        return mean
    return f"{mean} [{ctx.numbers.add(key + ' lo', interval['low'], 3)}, {ctx.numbers.add(key + ' hi', interval['high'], 3)}]"


def training_claims(ctx: Context) -> list[tuple[str, str, str]]:
    persisted, turned, sparsity = {}, {}, []
    for data in DATASETS:
        for loss, act in _acts(ctx):
            summary = training_results(ctx, loss, act, data)["summary"]
            for layer_key, entry in summary["layers"].items():
                firsts = entry["first_negative_running_mean"]
                label = f"{data}:{loss}/{act}/{layer_key}"
                (persisted if all(f is None for f in firsts) else turned)[label] = [f for f in firsts if f is not None]
                if act == "relu":
                    sparsity.append((f"{loss} {data}", layer_key, entry["zero_frac_start"]["mean"],
                                     entry["zero_frac_max"]["mean"]))
    every_seed_turned = {k: v for k, v in turned.items() if len(v) == TRAIN_SIZES[ctx.quick]["seeds"]}
    by_data = {data: sum(k.startswith(data) for k in persisted) for data in DATASETS}
    totals = {data: sum(k.startswith(data) for k in (*persisted, *turned)) for data in DATASETS}
    evidence = "; ".join(f"{data}: persisted in {by_data[data]}/{totals[data]} (pair, layer) cases"
                         for data in DATASETS)
    if every_seed_turned:
        first = min(min(v) for v in every_seed_turned.values())
        evidence += f"; running mean turned negative in every seed for {len(every_seed_turned)} cases, first at step {first}"
    verdict = "holds" if not turned else ("violated" if every_seed_turned else "inconclusive")
    rows = [("The sign survives training past t = 0 (the referee's question)", evidence, verdict)]
    if sparsity:
        rising = [s for s in sparsity if s[3] > s[2] + 0.02]
        rows.append(("With ReLU, activation sparsity rises early in training",
                     "; ".join(f"{d} {l}: {a:.2f} -> peak {b:.2f}" for d, l, a, b in sparsity),
                     "holds" if len(rising) == len(sparsity) else ("violated" if not rising else "inconclusive")))
    return rows


def register(sections: list, claims: list) -> None:
    if training_section not in sections:
        sections.append(training_section)
    if training_claims not in claims:
        claims.append(training_claims)
