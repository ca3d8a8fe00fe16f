"""Which factor decides whether the drift reverses under cross-entropy (issue 22 item 5): one factor at a time.

The base cell: a ReLU MLP (width 64, depth 2, He init) trained with cross-entropy on the digits by plain SGD
(lr 0.1, batch 64, 150 steps), every step logged with the self/label split. From it, one factor is changed
at a time: optimizer (SGD, Adam, AdamW, Muon; SGD with the gradient clipped to global norm 1), learning rate, width, depth, data (digits, random labels, a teacher
network's labels), label noise (a fraction of the digits' training labels replaced by uniform random ones),
and, as the reference, the loss (MSE). Each cell trains SEEDS seeds (seeds are the unit of replication:
mean and 95% Student-t interval over them, n printed).

Per cell and hidden layer: the bias drift b(end) - b(0) (the paper's negative drift is < 0), the sign
statistic E[δ|p>0] at t = 0 and its mean over the last 10 logged steps, the self and label parts at the end
(DESIGN.md §2 item D: the sign at the end is self + label), the fraction of steps with a positive sign, and
the step at which its running mean first turns negative (per seed).

Per (cell, layer) the bias drift and the late sign also get an exact sign test over seeds, called under Holm
across every cell and layer (one family per question). Writes driftproof/stored/ce_reversal.json (with --quick:
scripts/results/ce_reversal_quick.json). Usage:
    PYTHONPATH=. python scripts/ce_reversal.py [--seeds 12] [--steps 150] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from driftproof.config import Config
from driftproof.sweeps.stats import ALPHA, holm_sign_tests
from driftproof.training import TrainSpec
from driftproof.training.seed import train_seed
from driftproof.training.spec import dataset_for
from driftproof.training.summary import jsonable, seed_estimate, summarize

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "driftproof" / "stored" / "ce_reversal.json"
QUICK = ROOT / "scripts" / "results" / "ce_reversal_quick.json"
BASE_CONFIG = dict(loss="ce", act="relu", width=64, depth=2)
BASE_SPEC = dict(data="digits", opt="sgd", lr=0.1, batch=64, n_train=1024, n_test=256, control=None, log_every=1)

# factor -> [(value label, config changes, spec changes, label noise)]
FACTORS = {
    "optimizer": [("sgd", {}, {}, 0.0), ("adam lr 1e-3", {}, {"opt": "adam", "lr": 1e-3}, 0.0),
                  ("adamw lr 1e-3 wd 0.1", {}, {"opt": "adamw", "lr": 1e-3, "wd": 0.1}, 0.0),
                  ("muon lr 0.02", {}, {"opt": "muon", "lr": 0.02}, 0.0),
                  ("sgd, clip norm 1", {}, {"clip_norm": 1.0}, 0.0)],
    "learning rate": [("sgd lr 0.01", {}, {"lr": 0.01}, 0.0), ("sgd lr 0.1", {}, {}, 0.0),
                      ("sgd lr 0.5", {}, {"lr": 0.5}, 0.0)],
    "width": [("width 32", {"width": 32}, {}, 0.0), ("width 64", {}, {}, 0.0), ("width 256", {"width": 256}, {}, 0.0)],
    "depth": [("depth 1", {"depth": 1}, {}, 0.0), ("depth 2", {}, {}, 0.0), ("depth 4", {"depth": 4}, {}, 0.0)],
    "data": [("digits", {}, {}, 0.0), ("noise (random labels)", {}, {"data": "noise"}, 0.0),
             ("teacher", {}, {"data": "teacher"}, 0.0)],
    "label noise": [("0%", {}, {}, 0.0), ("50%", {}, {}, 0.5), ("100%", {}, {}, 1.0)],
    "init scale": [("he", {}, {}, 0.0), ("lecun", {"scale": "lecun"}, {}, 0.0)],
    "loss": [("ce", {}, {}, 0.0), ("mse", {"loss": "mse"}, {}, 0.0)],
}
# The sign questions judged over every cell together (Holm, family-wise ALPHA): per (cell, hidden layer), is the
# bias drift's median over seeds non-zero, and is the late sign statistic's?
TESTED = {"b_drift": "b_drift", "sign_end": "sign_end"}


def _noisy(data, fraction: float, seed: int):
    """``data`` with ``fraction`` of its training labels replaced by uniform random classes (generator seed+7)."""
    if fraction == 0:
        return data
    rng = np.random.default_rng([seed, 7])
    y = data.y_train.copy()
    chosen = rng.random(len(y)) < fraction
    y[chosen] = rng.integers(0, int(y.max()) + 1, int(chosen.sum()))
    return replace(data, y_train=y)


def run_cell(config_changes: dict, spec_changes: dict, noise: float, seeds: int, steps: int) -> dict:
    config = Config(**{**BASE_CONFIG, **config_changes})
    spec = TrainSpec(**{**BASE_SPEC, **spec_changes, "steps": steps, "seeds": seeds})
    logs = []
    for seed in range(seeds):
        data = _noisy(dataset_for(config, spec, seed), noise, seed)
        logs.append(train_seed(config, spec, seed, data))
    summary = summarize(logs, config.depth).roles["main"]
    layers = {}
    for key, layer in summary.layers.items():
        ends = [float(np.nanmean(log.columns[f"{key}.sign"][-10:])) for log in logs if log.diverged_at is None]
        layers[key] = {"b_drift": layer.b_drift, "w_drift": layer.w_drift, "sign_t0": layer.sign_t0,
                       "sign_end": seed_estimate(ends), "self_end": layer.self_end, "label_end": layer.label_end,
                       "positive_fraction": layer.positive_fraction,
                       "first_negative_running_mean": list(layer.first_negative_running_mean)}
    return {"config": {**BASE_CONFIG, **config_changes}, "spec": {**BASE_SPEC, **spec_changes, "steps": steps},
            "label_noise": noise, "seeds": seeds, "diverged_seeds": list(summary.diverged), "layers": layers,
            "test_acc": summary.final["test_acc"]}


def _judge(done: dict) -> dict:
    """Exact sign tests over seeds of each (cell, layer)'s TESTED values, Holm across all of them per question."""
    out = {"method": f"exact two-sided sign test over seeds, Holm across every (cell, layer) at family-wise {ALPHA:g}"}
    for question, measure in TESTED.items():
        family = {(key, layer): values[measure].values or () for key, cell in done.items()
                  for layer, values in cell["layers"].items()}
        calls = holm_sign_tests(family, ALPHA)
        for (key, layer), test in calls.items():
            done[key]["layers"][layer][f"{question}_test"] = test
        out[question] = {"tests": len(calls), "called": sum(t.call != 0 for t in calls.values())}
    return out


def _verdict(test: dict) -> str:
    return {1: "+", -1: "−", 0: "unresolved"}[test["call"]] + f" ({test['positive']}+/{test['negative']}−)"


def markdown_table(payload: dict) -> str:
    """The stored result as a Markdown table: per factor and value, each hidden layer's bias drift with its interval
    and sign test, when the running mean of the sign turned negative, the late self and label parts (layer 1)."""
    from driftproof.render.persistence import estimate_text
    from driftproof.results import Estimate

    head = ["factor", "value", "L1 Δ mean b [95%]", "L1 sign test", "deepest layer Δ mean b", "running mean < 0",
            "L1 late self / label", "held-out acc."]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for factor, values in payload["cells"].items():
        for label, cell in values.items():
            layers = cell["layers"]
            first, deep = layers["L1"], layers[list(layers)[-1]]
            turned = [s for s in first["first_negative_running_mean"] if s is not None]
            when = (f"{len(turned)}/{len(first['first_negative_running_mean'])} seeds, steps {min(turned)}–{max(turned)}"
                    if turned else f"never (0/{len(first['first_negative_running_mean'])})")
            split = (f"{Estimate.from_dict(first['self_end']).mean:+.3f} / "
                     f"{Estimate.from_dict(first['label_end']).mean:+.3f}")
            lines.append("| " + " | ".join([
                factor, label, estimate_text(Estimate.from_dict(first["b_drift"])), _verdict(first["b_drift_test"]),
                f"L{len(layers)} {estimate_text(Estimate.from_dict(deep['b_drift']))} {_verdict(deep['b_drift_test'])}",
                when, split, f"{Estimate.from_dict(cell['test_acc']).mean:.2f}"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 12: the study judges ~35 (cell, layer) tests under Holm; 10 seeds that all agree give p = 2^-9 = 0.0020,
    # above Holm's first threshold 0.05/35 = 0.0014, so no sign could ever be called; 12 give 2^-11 = 0.0005
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 30 steps: a smoke test of the script")
    parser.add_argument("--table", action="store_true", help="train nothing: print the shipped result as Markdown")
    args = parser.parse_args()
    if args.table:
        if not OUT.is_file():
            parser.error(f"no shipped result: {OUT} is missing")
        print(markdown_table(json.loads(OUT.read_text())))
        return
    if args.seeds < 1 or args.steps < 1:
        parser.error(f"--seeds and --steps must be positive integers, got {args.seeds} and {args.steps}")
    seeds, steps = (2, 30) if args.quick else (args.seeds, args.steps)
    start, load = time.perf_counter(), [os.getloadavg()]
    cells, done = {}, {}
    with threadpool_limits(limits=1, user_api="blas"):
        for factor, values in FACTORS.items():
            cells[factor] = {}
            for label, config_changes, spec_changes, noise in values:
                key = json.dumps([config_changes, spec_changes, noise], sort_keys=True)
                if key not in done:  # the base cell appears under several factors: trained once
                    done[key] = run_cell(config_changes, spec_changes, noise, seeds, steps)
                cells[factor][label] = done[key]
                layer1 = done[key]["layers"]["L1"]
                print(f"{factor:13s} {label:22s} L1 b drift {layer1['b_drift'].mean:+.4f} "
                      f"sign end {layer1['sign_end'].mean:+.2e} self {layer1['self_end'].mean:+.2e} "
                      f"label {layer1['label_end'].mean:+.2e}", flush=True)
            load.append(os.getloadavg())
    tests = _judge(done)
    payload = {"command": f"PYTHONPATH=. python scripts/ce_reversal.py --seeds {seeds} --steps {steps}"
                          + (" --quick" if args.quick else ""),
               "base": {"config": BASE_CONFIG, "spec": BASE_SPEC}, "seeds": seeds, "steps": steps,
               "cells": jsonable(cells), "sign_tests": tests, "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time(), "load": load,
               "machine": {"python": platform.python_version(), "platform": platform.platform()}}
    out = QUICK if args.quick else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, separators=(",", ":"), default=lambda v: v.to_dict() if hasattr(v, "to_dict") else None)
                   + "\n")
    print(f"{payload['seconds']:.0f} s on one core, load {load[0][0]:.1f} -> {load[-1][0]:.1f} -> {out}")


if __name__ == "__main__":
    main()
