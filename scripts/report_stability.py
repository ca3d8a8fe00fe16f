"""The report's default training settings: a short, recorded stability check (issue 17, item 4).

1. Unclipped: ReLU^2 and GELU^2 (the activations that diverged in the old default report) at a ladder
   of SGD learning rates from 0.05 down to 1e-4, both losses, both data sets, every seed; a rate is
   rejected at its first unstable run. This shows no learning rate alone makes them train.
2. The report's defaults (SGD lr ``LR`` with the gradient clipped to global norm ``CLIP_NORM``): every
   default activation, loss and data set, every seed, at the report's sizes (and, with ``--quick-too``,
   at the ``--quick`` sizes). These are the report's own runs: with ``--cache`` pointing at a report's
   cache folder they are read from there (or computed into it).

Stable: no non-finite loss and no layer whose mean weight or mean bias leaves ``BLOWUP`` in absolute
value (``driftproof.reporting.training_sections.blowup_step``). Writes
``scripts/results/report_stability.json``; a test checks that the report's settings are the ones
recorded there and that none of the recorded default runs diverged.

Usage: PYTHONPATH=. python scripts/report_stability.py [--quick-too] [--cache report/cache]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from driftproof.reporting.cache import ResultCache
from driftproof.reporting.context import DEFAULT_PAIRS, QUICK_PAIRS, Context
from driftproof.reporting.training_sections import (BLOWUP, CLIP_NORM, DATASETS, LR, TRAIN_SIZES, blowup_step,
                                                    run_spec, training_results)
from driftproof.training import train

OUT = Path(__file__).parent / "results" / "report_stability.json"
LADDER = (0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4)
SQUARES = ("relu2", "gelu2")


def _unclipped(loss: str, act: str, data: str, lr: float) -> dict:
    config, spec = run_spec(loss, act, data, False, lr=lr, clip=False)
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        result = train(config, spec)
    diverged = [d.step for d in result.diverged]
    blown = [s for s in (blowup_step(log.columns, config.depth) for log in result.logs) if s is not None]
    return {"loss": loss, "act": act, "data": data, "lr": lr, "clip_norm": None, "diverged_at": diverged,
            "blowup_at": blown, "stable": not diverged and not blown, "seconds": round(time.perf_counter() - start, 2)}


def unclipped_ladder() -> tuple[dict, list[dict]]:
    """The largest stable unclipped rate per (square activation, data set); None: none of the ladder."""
    chosen, trials = {}, []
    for act in SQUARES:
        for data in DATASETS:
            chosen[f"{act}/{data}"] = None
            for lr in LADDER:
                runs = []
                for loss in ("mse", "ce"):
                    runs.append(_unclipped(loss, act, data, lr))
                    print(json.dumps(runs[-1]), flush=True)
                    if not runs[-1]["stable"]:
                        break
                trials += runs
                if all(r["stable"] for r in runs) and len(runs) == 2:
                    chosen[f"{act}/{data}"] = lr
                    break
    return chosen, trials


def defaults(pairs, quick: bool, cache: Path) -> list[dict]:
    """The report's own runs at its default settings, from (or into) ``cache``."""
    ctx = Context(folder=cache.parent, pairs=tuple(pairs), quick=quick, cache=ResultCache(cache))
    out = []
    for loss, act in pairs:
        for data in DATASETS:
            result = training_results(ctx, loss, act, data)
            out.append({"loss": loss, "act": act, "data": data, "lr": result["spec"]["lr"],
                        "clip_norm": result["spec"].get("clip_norm"), "quick": quick, "diverged": result["diverged"],
                        "stable": not result["diverged"], "seconds": round(result["seconds"], 2)})
            print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick-too", action="store_true", help="also check the --quick sizes")
    parser.add_argument("--cache", default=None, help="a report's cache folder to read the default runs from")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(args.cache) if args.cache else Path(scratch) / "cache"
        runs = defaults(DEFAULT_PAIRS, False, cache) + (defaults(QUICK_PAIRS, True, cache) if args.quick_too else [])
    chosen, trials = unclipped_ladder()
    payload = {"settings": {"opt": "sgd", "lr": LR, "clip_norm": CLIP_NORM, "blowup": BLOWUP},
               "sizes": TRAIN_SIZES[False], "quick_sizes": TRAIN_SIZES[True],
               "default_runs": runs, "all_default_runs_stable": all(r["stable"] for r in runs),
               "unclipped_ladder": list(LADDER), "unclipped_largest_stable_rate": chosen, "unclipped_trials": trials,
               "seconds": round(time.perf_counter() - start, 1), "load_average": list(os.getloadavg())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1))
    print(json.dumps({"all_default_runs_stable": payload["all_default_runs_stable"],
                      "unclipped_largest_stable_rate": chosen, "seconds": payload["seconds"]}))


if __name__ == "__main__":
    main()
