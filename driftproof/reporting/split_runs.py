"""The report's runs for the self/label split (DESIGN.md §2 item D): what is trained, cached per configuration.

One figure per data set: MLPs on noise, teacher and digits, the small GPT on the pydoc text. The MLPs
train with plain SGD *without* gradient clipping, the setting of the first-order crossover prediction
(:mod:`driftproof.theory.crossover`: the readout moves by ``-lr`` times its gradient each step), so
the prediction can be set beside the measurement; the split activations (ReLU, GELU) are stable
unclipped at this rate, unlike ReLU² and GELU² (the persistence runs clip for them). The GPT trains
with its own recipe (AdamW, float32, as ``driftproof train --arch gpt``), scaled down; the prediction
does not cover it (tied readout, adaptive optimizer).
"""

from __future__ import annotations

import math

import numpy as np

from ..archs import get_arch
from ..config import Config
from ..results import Estimate
from ..theory.crossover import predict_crossover
from ..training import TrainSpec, train
from ..training.spec import dataset_for
from ..training.split_init import split_at_init
from ..training.summary import RoleSummary, seed_estimate
from .cache import Job
from .context import Context
from .training_sections import LR, TRAIN_SIZES, blowup_step

__all__ = ["SPLIT_DATASETS", "SPLIT_ACTS", "GPT_SIZES", "GPT_LR", "PREDICTION_NETWORKS", "INIT_NETWORKS", "EARLY",
           "split_spec", "split_configs", "split_results", "split_jobs", "split_runs", "label_rate_measured", "predicted_step"]

SPLIT_DATASETS = ("noise", "teacher", "digits", "text")
# The paper's activations, per mode (full, quick); the split figure shows those of the report's pairs.
SPLIT_ACTS = {False: ("relu", "gelu"), True: ("relu",)}
# The GPT's size per mode (full, quick): two blocks, two heads, float32 AdamW at the GPT's default rate.
GPT_SIZES = {False: {"width": 64, "depth": 2, "heads": 2, "context": 32, "batch": 16, "steps": 150, "seeds": 3},
             True: {"width": 32, "depth": 2, "heads": 2, "context": 16, "batch": 8, "steps": 100, "seeds": 3}}
GPT_LR = 3e-3
PREDICTION_NETWORKS = 8  # networks (seeds 1000..) averaged for the first-order prediction's A and S0
INIT_NETWORKS = 32  # networks (seeds 2000..) for the label part at t = 0 on noise, beyond the runs' seeds
EARLY = 20  # logged steps: "early" for the label part on noise, and the window of the measured label rate


def split_spec(loss: str, act: str, data: str, quick: bool, seed: int = 0) -> tuple[Config, TrainSpec]:
    """(Config, TrainSpec) of one split run: an unclipped SGD MLP, or the GPT on text (always CE)."""
    if data == "text":
        s = GPT_SIZES[quick]
        config = Config(loss="ce", act=act, width=s["width"], depth=s["depth"], seed=seed)
        spec = TrainSpec(arch="gpt", data="text", opt="adamw", lr=GPT_LR, steps=s["steps"], batch=s["batch"],
                         seeds=s["seeds"], control=None, heads=s["heads"], context=s["context"], n_test=32,
                         dtype="float32")
        return config, spec
    s = TRAIN_SIZES[quick]
    config = Config(loss=loss, act=act, width=s["width"], depth=s["depth"], seed=seed,
                    input_dim=s["width"] if data == "noise" else None)
    spec = TrainSpec(arch="mlp", data=data, opt="sgd", lr=LR, steps=s["steps"], batch=s["batch"], seeds=s["seeds"],
                     control=None, n_train=2048, n_test=512, kernel="numpy")
    return config, spec


def split_configs(ctx: Context, data: str) -> list[tuple[str, str]]:
    """(loss, activation) of the split runs on ``data``: the report's pairs with a split activation (ReLU
    under the first pair's loss if none has one: unclipped SGD is stable for it); the GPT's loss is always CE."""
    pairs = list(dict.fromkeys(ctx.pairs))
    chosen = [(loss, act) for loss, act in pairs if act in SPLIT_ACTS[ctx.quick]] or [(pairs[0][0], "relu")]
    if data == "text":
        return list(dict.fromkeys(("ce", act) for _, act in chosen))
    return chosen


def _curves(log, depth: int) -> dict:
    return {f"L{layer}.{part}": np.asarray(log.columns[f"L{layer}.{part}"], float).tolist()
            for layer in range(1, depth + 1) for part in ("self", "label")}


def _compute(config: Config, spec: TrainSpec) -> dict:
    with np.errstate(all="ignore"):  # a diverging run is reported as such, not warned about
        result = train(config, spec)
    seeds = [{"seed": log.seed, "diverged_at": log.diverged_at,
              "blowup_at": blowup_step(log.columns, config.depth) if get_arch(spec.arch).mean_field else None,
              "curves": _curves(log, config.depth)} for log in result.logs]
    out = {"summary": result.summary.roles["main"], "step": result.logs[0].columns["step"].tolist(), "seeds": seeds,
           "seconds": result.seconds}
    if get_arch(spec.arch).mean_field:  # the first-order prediction covers the last hidden layer of a plain MLP
        data = dataset_for(config, spec, config.seed)
        prediction = predict_crossover(config, data, lr=spec.lr,
                                       seeds=list(range(1000, 1000 + PREDICTION_NETWORKS)))
        out["prediction"] = prediction.to_dict()
        if spec.data == "noise":
            parts = split_at_init(config, spec, data, list(range(2000, 2000 + INIT_NETWORKS)), spec.batch)
            out["init"] = {layer: {part: seed_estimate(values) for part, values in entry.items()}
                           for layer, entry in parts.items()}
    return out


def split_job(ctx: Context, loss: str, act: str, data: str) -> Job:
    """The cached split run of one configuration."""
    config, spec = split_spec(loss, act, data, ctx.quick, seed=ctx.seed)
    key = {"config": config.to_dict(), "spec": spec.to_dict(), "layout": 1,
           "prediction_networks": PREDICTION_NETWORKS, "init_networks": INIT_NETWORKS}
    return Job("split", key, _compute, (config, spec))


def split_jobs(ctx: Context) -> list[Job]:
    """Every split run the report's sections read, the GPT's (the longest) first."""
    return [split_job(ctx, loss, act, data) for data in sorted(SPLIT_DATASETS, key=lambda d: d != "text")
            for loss, act in split_configs(ctx, data)]


def split_results(ctx: Context, loss: str, act: str, data: str) -> dict:
    """The split run of one configuration (cached): summary, per-seed self/label curves, prediction."""
    job = split_job(ctx, loss, act, data)
    config, spec = job.args
    cached = ctx.cache.get_job(job)
    diverged = [{"seed": s["seed"], "step": min(x for x in (s["diverged_at"], s["blowup_at"]) if x is not None)}
                for s in cached["seeds"] if s["diverged_at"] is not None or s["blowup_at"] is not None]
    init = {layer: {part: Estimate.from_dict(e) for part, e in entry.items()}
            for layer, entry in cached.get("init", {}).items()}
    return {**cached, "summary": RoleSummary.from_dict(cached["summary"]), "diverged": diverged, "init": init,
            "loss": config.loss, "act": act, "data": data, "arch": spec.arch, "lr": spec.lr,
            "depth": config.depth}


def split_runs(ctx: Context, data: str) -> list[dict]:
    return [split_results(ctx, loss, act, data) for loss, act in split_configs(ctx, data)]


def label_rate_measured(run: dict, layer: str) -> Estimate:
    """The label part's rate of change per step per unit lr, -slope over the first EARLY logged steps, over seeds.

    The measured counterpart of the prediction's A (the label part is -lr t A to first order).
    """
    steps = np.asarray(run["step"][:EARLY], float)
    slopes = []
    for seed in run["seeds"]:
        values = np.asarray(seed["curves"][f"{layer}.label"][:EARLY], float)
        finite = np.isfinite(values)
        if finite.sum() >= 3:
            slopes.append(-np.polyfit(steps[finite], values[finite], 1)[0] / run["lr"])
    return seed_estimate(slopes)


def predicted_step(prediction: dict) -> Estimate | None:
    """t* = S0 / (lr A) with a normal 95% interval by the delta method (None: the label part does not grow)."""
    rate, self_t0 = prediction["rate"], prediction["self_t0"]
    if prediction.get("step") is None or rate <= 0 or self_t0 <= 0:
        return None
    step = prediction["step"]
    relative = math.hypot(prediction["self_t0_se"] / self_t0, prediction["rate_se"] / rate)
    return Estimate.normal(step, step * relative, prediction["networks"], 0.95, "normal: delta method").within(0.0)
