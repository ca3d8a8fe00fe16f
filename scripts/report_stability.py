"""The report's default learning rates: a short, recorded stability search (issue 17, item 4).

For each default activation, the report's training runs (MLP, SGD, the sizes of
``driftproof.reporting.training_sections.TRAIN_SIZES``) are tried at a ladder of learning
rates from the largest down, on both losses and both data sets, every seed. The chosen rate
is the largest at which no run diverges: no non-finite loss and no layer whose mean weight
or mean bias leaves ``BLOWUP`` in absolute value (the report's own test of divergence,
``driftproof.reporting.training_sections.blowup_step``). Writes
``scripts/results/report_stability.json``; ``DEFAULT_LR`` in the report must equal its
``chosen`` (a test checks it).

Usage: PYTHONPATH=. python scripts/report_stability.py [--quick-too]   (~10 minutes on one core)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from driftproof.reporting.context import DEFAULT_PAIRS
from driftproof.reporting.training_sections import DATASETS, TRAIN_SIZES, run_spec, blowup_step
from driftproof.training import train

OUT = Path(__file__).parent / "results" / "report_stability.json"
LADDER = (0.05, 0.02, 0.01, 0.005, 0.002)


def _trial(loss: str, act: str, data: str, lr: float, quick: bool) -> dict:
    config, spec = run_spec(loss, act, data, quick, lr=lr, seed=0)
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        result = train(config, spec)
    diverged = [d.step for d in result.diverged]
    blown = [s for s in (blowup_step(log.columns, config.depth) for log in result.logs) if s is not None]
    return {"loss": loss, "act": act, "data": data, "lr": lr, "quick": quick, "diverged_at": diverged,
            "blowup_at": blown, "stable": not diverged and not blown, "seconds": round(time.perf_counter() - start, 2)}


def search(acts: list[str], quick: bool) -> tuple[dict, list[dict]]:
    chosen, trials = {}, []
    losses = sorted({loss for loss, _ in DEFAULT_PAIRS})
    for act in acts:
        for lr in LADDER:
            results = [_trial(loss, act, data, lr, quick) for loss in losses for data in DATASETS]
            trials += results
            if all(r["stable"] for r in results):
                chosen[act] = lr
                break
        else:
            chosen[act] = None
    return chosen, trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick-too", action="store_true", help="also check the --quick sizes at the chosen rates")
    args = parser.parse_args()
    acts = list(dict.fromkeys(act for _, act in DEFAULT_PAIRS))
    start = time.perf_counter()
    chosen, trials = search(acts, quick=False)
    checks = []
    if args.quick_too:
        checks = [_trial(loss, act, data, lr, True) for act, lr in chosen.items() if lr
                  for loss in ("mse", "ce") for data in DATASETS]
    payload = {"ladder": list(LADDER), "sizes": TRAIN_SIZES[False], "quick_sizes": TRAIN_SIZES[True],
               "criterion": "largest rate with no non-finite loss and no |layer mean weight or bias| > BLOWUP "
                            "in any (loss, data, seed)",
               "chosen": chosen, "trials": trials, "quick_checks": checks,
               "seconds": round(time.perf_counter() - start, 1), "load_average": list(os.getloadavg())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1))
    print(json.dumps({"chosen": chosen, "seconds": payload["seconds"], "load": payload["load_average"]}))


if __name__ == "__main__":
    main()
