"""The training evidence rows of ``driftproof verify``: does the sign hold at t = 0 in a real training
run, and how long does it persist (DESIGN.md §3)?

The rows train small networks so that the default verify stays within its time budget
(about 1-2.5 s for both rows); the sizes are stated in every row. Verdicts (training rows
inform; verify does not fold them into the t = 0 verdict):

- ``holds``: at t = 0 the sign statistic's interval (Student t over 16 fresh networks on
  the row's data, one 256-sample batch each) lies above 0 in every hidden layer, and its
  running mean stayed positive for the whole run in every seed: the sign persisted;
- ``info``: positive at step 0, but the running mean turned negative during the run
  (the row says at which step): the sign did not persist;
- ``violated``: at step 0 the interval lies below 0 in some layer;
- ``inconclusive``: at step 0 some layer's interval contains 0.

The numbers also carry the self/label split of the sign statistic (DESIGN.md §2 item D): each
part at t = 0 over the same 16 networks (the label part should be 0 there), at the end of the
run over the seeds, and per seed the step at which the label part overtakes the self part
(``crossover``; None: never within the run) with a t-interval over the seeds that crossed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from ..config import Config
from ..payloads import TrainingNumbers
from ..results import HOLDS, INCONCLUSIVE, INFO, VIOLATED, Estimate, Evidence, RowKey, Verdict, json_default
from ..training.run import TrainResult, train
from ..training.seed import sign_and_split_at_init
from ..training.spec import TrainSpec, dataset_for
from ..training.summary import seed_estimate
from .concurrent import bar_line

__all__ = ["verify_rows", "ROW_SIZES", "row_spec", "row_config"]

# Small on purpose: both rows (and their tanh controls) train in ~1-2.5 s on one core.
ROW_SIZES = {"width": 64, "max_depth": 3, "steps": 100, "batch": 64, "seeds": 3, "lr": 0.1,
             "n_train": 1024, "n_test": 256, "t0_draws": 16, "t0_batch": 256}


def row_config(config: Config) -> Config:
    width = min(config.width, ROW_SIZES["width"])
    return replace(config, width=width, depth=min(config.depth, ROW_SIZES["max_depth"]),
                   input_dim=min(config.d_in, width))


def row_spec(data: str, arch: str = "mlp") -> TrainSpec:
    s = ROW_SIZES
    return TrainSpec(arch=arch, data=data, opt="sgd", lr=s["lr"], steps=s["steps"], batch=s["batch"],
                     seeds=s["seeds"], n_train=s["n_train"], n_test=s["n_test"], kernel="numpy",
                     eval_every=s["steps"], threads=1)


def verify_rows(config: Config, progress: bool = False, arch: str = "mlp") -> list[Evidence]:
    """Two Evidence rows (kind ``training``): noise data and the digits set, for ``arch``."""
    cfg = row_config(config)
    specs = [row_spec("noise", arch), row_spec("digits", arch)]
    bar = None
    if progress:
        runs = 1 if cfg.activation.is_odd else 2
        bar = tqdm(total=sum(s.steps * s.seeds * runs for s in specs), desc="training rows", file=sys.stderr,
                   leave=False, unit="step", position=bar_line())
    try:
        with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only cost
            results = [train(cfg, spec, tick=bar.update if bar else None) for spec in specs]
            t0 = [_t0(cfg, spec) for spec in specs]
    finally:
        if bar is not None:
            bar.close()
            if bar_line():  # a bar below the parent's leaves the cursor at the end of the parent's line when it
                sys.stderr.write("\r")  # clears itself: back to column 0, or the next line printed starts there
                sys.stderr.flush()
    return [_row(result, signs, split) for result, (signs, split) in zip(results, t0)]


def _t0(config: Config, spec: TrainSpec) -> tuple[dict[str, Estimate], dict[str, dict[str, Estimate]]]:
    """The t = 0 sign over ROW_SIZES["t0_draws"] fresh networks on the row's data (seeds disjoint
    from the training seeds: three training seeds alone give a t-interval too wide to decide), and
    its self and label parts over the same networks and batch (each network drawn once for both)."""
    data = dataset_for(config, spec, config.seed)
    seeds = [config.seed + 10_000 + i for i in range(ROW_SIZES["t0_draws"])]
    signs, split = sign_and_split_at_init(config, spec, data, seeds, ROW_SIZES["t0_batch"])
    return ({key: seed_estimate(values) for key, values in signs.items()},
            {key: {part: seed_estimate(values) for part, values in parts.items()} for key, parts in split.items()})


def _split_numbers(result: TrainResult, t0_split: dict[str, dict[str, Estimate]]) -> dict:
    """Per layer: each part at t = 0 (networks) and at the end (seeds), the crossover per seed and its interval."""
    out = {}
    for key, layer in result.summary.roles["main"].layers.items():
        if layer.crossover is None:
            continue
        out[key] = {"self_t0": t0_split[key]["self"], "label_t0": t0_split[key]["label"],
                    "self_end": layer.self_end, "label_end": layer.label_end, "crossover": list(layer.crossover),
                    "crossover_estimate": layer.crossover_estimate, "never_crossed": layer.never_crossed}
    return out


def _verdict(t0_sign: dict[str, Estimate], persisted: bool) -> Verdict:
    """violated if some layer's t = 0 sign is negative, inconclusive if unresolved; then holds if it persisted."""
    signs = [estimate.sign for estimate in t0_sign.values()]
    if any(s < 0 for s in signs):
        return VIOLATED
    if not all(s > 0 for s in signs):
        return INCONCLUSIVE
    return HOLDS if persisted else INFO


def _plain(value):
    """Plain JSON (nested Estimates as their dicts): the row reads back from a saved result exactly as it was made."""
    return json.loads(json.dumps(value, default=json_default))


def _numbers(result: TrainResult, t0_sign: dict[str, Estimate], positive: Estimate,
             t0_split: dict[str, dict[str, Estimate]]) -> TrainingNumbers:
    spec, config = result.spec, result.config
    layers = result.summary.roles["main"].layers
    control = result.summary.roles.get("control")
    firsts = [f for entry in layers.values() for f in entry.turned]
    split = _split_numbers(result, t0_split)
    return TrainingNumbers(
        data=result.dataset["name"],
        sizes=_plain({**{k: spec[k] for k in ("arch", "opt", "lr", "steps", "batch", "seeds")},
                      "width": config["width"], "depth": config["depth"]}),
        sign_t0=dict(t0_sign), sign_t0_training_seeds={k: v.sign_t0 for k, v in layers.items()},
        persisted=not firsts and not any(d.role == "main" for d in result.diverged),
        first_negative_step=int(min(firsts)) if firsts else None,
        positive_fraction=positive,
        first_negative_running_mean=_plain({k: list(v.first_negative_running_mean) for k, v in layers.items()}),
        drift=_plain({k: {"w": v.w_drift, "b": v.b_drift} for k, v in layers.items()}),
        control=_plain(control and {k: {"w": v.w_drift, "b": v.b_drift} for k, v in control.layers.items()}),
        test_acc=result.summary.roles["main"].final["test_acc"], seconds=float(result.seconds),
        diverged=_plain([d.to_dict() for d in result.diverged]), dataset=_plain(result.dataset),
        paired_control=_plain(result.summary.main_minus_control), t0_draws=ROW_SIZES["t0_draws"],
        seeds=len(result.seeds),
        first_step_vs_R5=_plain(result.first_step) if result.first_step is not None else None,
        split=_plain(split) if split else None)


def _row(result: TrainResult, t0_sign: dict[str, Estimate], t0_split: dict[str, dict[str, Estimate]]) -> Evidence:
    layers = result.summary.roles["main"].layers
    positive = seed_estimate([v for entry in layers.values() for v in entry.positive_fraction.values])
    numbers = _numbers(result, t0_sign, positive, t0_split)
    verdict = _verdict(t0_sign, numbers.persisted)
    if verdict in (HOLDS, INFO) and any(d.role == "main" for d in result.diverged):
        verdict = INCONCLUSIVE  # a diverged run's persistence was not measured (the t = 0 sign still is)
    return Evidence("training", RowKey("train", init=result.config["init"], data=result.dataset["name"]), verdict,
                    numbers)
