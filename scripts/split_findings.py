"""The self/label split through training (DESIGN.md §2 item D): crossover steps by data set, the
noise-data check, and the first-order prediction of the crossover against the measurement.

Usage:
    python scripts/split_findings.py [--out split_findings] [--seeds 5] [--steps 300]

Writes one run folder per configuration (run.json, metrics with the L{l}.self/label columns,
figures and split.png) and ``split_findings.json`` with every number quoted from it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from driftproof.config import Config
from driftproof.results import json_default
from driftproof.theory.crossover import predict_crossover
from driftproof.training import TrainSpec, save_run, train
from driftproof.training.spec import dataset_for
from driftproof.training.split_figure import save_split_figure
from driftproof.training.split_init import split_at_init
from driftproof.training.summary import seed_estimate

WIDTH, LR, BATCH, N_TRAIN = 64, 0.1, 64, 1024
RUNS = [(arch, data, "ce", depth) for arch in ("mlp", "resmlp") for data in ("noise", "teacher", "digits")
        for depth in (1, 2)] + [("mlp", "noise", "mse", 1), ("mlp", "noise", "mse", 2)]
PREDICTION_NETWORKS = 32
NOISE_NETWORKS = 64


def _label_slope(result, key: str, window: int = 20) -> dict:
    """The measured label rate: -slope of the label part over the first ``window`` logged steps, per unit lr."""
    slopes = []
    for log in result.logs:
        if log.role == "main":
            cols = log.columns
            slopes.append(-np.polyfit(cols["step"][:window], cols[f"{key}.label"][:window], 1)[0] / LR)
    return seed_estimate(slopes)


def _one(arch: str, data: str, loss: str, depth: int, seeds: int, steps: int, out: Path) -> dict:
    config = Config(loss=loss, act="relu", width=WIDTH, depth=depth, classes=10, seed=0)
    spec = TrainSpec(arch=arch, data=data, steps=steps, batch=BATCH, seeds=seeds, lr=LR, n_train=N_TRAIN,
                     n_test=256, control=None, eval_every=max(1, steps // 10))
    result = train(config, spec)
    folder = save_run(result, out / f"{arch}_{data}_{loss}_depth{depth}")
    save_split_figure(result, folder)
    role = result.summary.roles["main"]
    entry = {"arch": arch, "data": data, "loss": loss, "depth": depth, "folder": str(folder),
             "train_acc": role.final["train_acc"], "test_acc": role.final["test_acc"], "layers": {}}
    for key, layer in role.layers.items():
        entry["layers"][key] = {"self_t0": layer.self_t0, "label_t0": layer.label_t0, "self_end": layer.self_end,
                                "label_end": layer.label_end, "crossover": list(layer.crossover),
                                "crossover_estimate": layer.crossover_estimate, "never_crossed": layer.never_crossed,
                                "first_negative_running_mean": list(layer.first_negative_running_mean),
                                "label_rate_measured": _label_slope(result, key)}
    if arch == "mlp":  # the prediction covers the last hidden layer of an MLP
        d0 = dataset_for(config, spec, config.seed)
        pred = predict_crossover(config, d0, lr=LR, seeds=list(range(1000, 1000 + PREDICTION_NETWORKS)))
        entry["prediction_last_layer"] = {"layer": f"L{depth}", **pred.to_dict()}
    return entry


def _noise_check(loss: str, arch: str) -> dict:
    """The label part at t = 0 on noise over NOISE_NETWORKS networks (seeds 2000..), on training and held-out batches."""
    config = Config(loss=loss, act="relu", width=WIDTH, depth=2, classes=10, seed=0)
    spec = TrainSpec(arch=arch, data="noise", n_train=N_TRAIN, n_test=256)
    data = dataset_for(config, spec, 0)
    seeds = list(range(2000, 2000 + NOISE_NETWORKS))
    out = {}
    for where, held_out in (("train_batch", False), ("held_out_batch", True)):
        parts = split_at_init(config, spec, data, seeds, 256, held_out=held_out)
        out[where] = {key: {part: seed_estimate(values) for part, values in entry.items()}
                      for key, entry in parts.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="split_findings")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    findings = {"sizes": {"width": WIDTH, "lr": LR, "batch": BATCH, "n_train": N_TRAIN, "seeds": args.seeds,
                          "steps": args.steps, "act": "relu", "opt": "sgd"},
                "runs": [_one(*run, args.seeds, args.steps, out) for run in RUNS],
                "noise_t0": {f"{arch}_{loss}": _noise_check(loss, arch) for arch, loss in
                             (("mlp", "ce"), ("mlp", "mse"), ("resmlp", "ce"))}}
    findings["seconds"] = time.perf_counter() - start
    path = out / "split_findings.json"
    path.write_text(json.dumps(json.loads(json.dumps(findings, default=json_default)), indent=2) + "\n")
    print(path)


if __name__ == "__main__":
    main()
