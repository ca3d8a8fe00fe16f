"""What moves C2's cliff and C3's spike ratio (issue 22 item 6): the sweep's own jobs, one knob at a time.

On the default sweep C2's knot sits at sparsity ~0.93 (the paper: ~0.70) and C3's ReLU^2 / ReLU spike ratio at
5.7-9.3x (the paper: ~25x). Before either is called "not reproduced at this scale", this script trains the same
jobs as the sweep (driftproof.sweeps.job.run_job, so the same measurements and the same divergence rule) with one
knob changed at a time and judges each setting with the sweep's own claim functions:

- C2: ReLU MLP on the digits, sparsity forced at LEVELS (plus unforced runs), SEEDS_C2 seeds per level; the hinge
  knot with its bootstrap interval (claims.claim_c2), per width, steps and learning rate;
- C3: the pre-norm residual MLP on the digits, ReLU^2 and ReLU paired by seed, SEEDS_C3 seeds; the geometric mean
  of the paired max/median ratio per layer with its t-interval (claims.claim_c3), per width, steps, learning rate
  and the data set.

Writes driftproof/stored/sensitivity.json (with --quick, a smoke run, scripts/results/sensitivity_quick.json).
One process, one BLAS thread. Usage:
    PYTHONPATH=. python scripts/sensitivity.py [--quick] [--only c2|c3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from driftproof._version import __version__
from driftproof.sweeps.claims import claim_c2, claim_c3
from driftproof.sweeps.grid import Job
from driftproof.sweeps.job import run_job
from driftproof.training.summary import jsonable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "driftproof" / "stored" / "sensitivity.json"
QUICK = ROOT / "scripts" / "results" / "sensitivity_quick.json"

LEVELS = (0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
SEEDS_C2, SEEDS_C3 = 2, 5
# The sweep's own C2 and C3 jobs (grid.py: width 128, depth 3, Adam lr 1e-3, batch 64) at a base of 500 steps
# (the sweep runs 1500; the steps knot covers it); each setting changes one knob.
BASE = {"width": 128, "steps": 500, "lr": 1e-3}
C2_SETTINGS = {"base": {}, "width 32": {"width": 32}, "width 64": {"width": 64}, "width 256": {"width": 256},
               "steps 1500": {"steps": 1500}, "lr 3e-3": {"lr": 3e-3}}
C3_SETTINGS = {"base": {}, "width 64": {"width": 64}, "width 256": {"width": 256}, "steps 1500": {"steps": 1500},
               "lr 3e-3": {"lr": 3e-3}, "noise data": {"data": "noise"}}


def c2_jobs(knobs: dict, seeds: int, levels=LEVELS) -> list[Job]:
    common = {**BASE, **knobs}
    jobs = [Job(act="relu", force=q, data="digits", seed=s, block="forced", **common)
            for q in levels for s in range(seeds)]
    return jobs + [Job(act="relu", data="digits", seed=s, block="acts", **common) for s in range(seeds)]


def c3_jobs(knobs: dict, seeds: int) -> list[Job]:
    common = {"arch": "resmlp", "data": "digits", **BASE, **knobs}
    return [Job(act=act, seed=s, block="acts", **common) for act in ("relu", "relu2") for s in range(seeds)]


def _diverged(results: list[dict]) -> list[dict]:
    return [{"label": r["label"], "seed": r["job"]["seed"], "force": r["job"].get("force"), "at": r.get("diverged_at")}
            for r in results if r.get("diverged")]


def run_c2(name: str, knobs: dict, seeds: int, levels) -> dict:
    results = [run_job(job) for job in c2_jobs(knobs, seeds, levels)]
    row = claim_c2(results)
    fit = row.numbers.get("fit")
    return {"setting": name, "knobs": {**BASE, **knobs}, "runs": len(results), "diverged": _diverged(results),
            "verdict": str(row.verdict), "knot": None if fit is None else fit.knot,
            "slope_after": None if fit is None else fit.slope_after, "delta_bic": None if fit is None else fit.delta_bic,
            "accuracy_by_level": row.numbers.get("accuracy_by_level"),
            "seconds": sum(r.get("seconds", 0.0) for r in results)}


def run_c3(name: str, knobs: dict, seeds: int) -> dict:
    results = [run_job(job) for job in c3_jobs(knobs, seeds)]
    row = claim_c3(results)
    ratios = row.numbers.get("spike_ratio", {})
    return {"setting": name, "knobs": {**BASE, "data": "digits", **knobs}, "runs": len(results),
            "diverged": _diverged(results), "verdict": str(row.verdict), "ratio_by_layer": ratios,
            "beyond_squaring": row.numbers.get("spike_ratio_vs_relu_squared", {}),
            "seconds": sum(r.get("seconds", 0.0) for r in results)}


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one setting each, tiny: a smoke test of the script")
    parser.add_argument("--only", choices=("c2", "c3"), default=None)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse(argv)
    start, load = time.perf_counter(), [os.getloadavg()]
    c2_settings, c3_settings, levels = C2_SETTINGS, C3_SETTINGS, LEVELS
    seeds_c2, seeds_c3 = SEEDS_C2, SEEDS_C3
    if args.quick:
        tiny = {"width": 16, "steps": 20}
        c2_settings, c3_settings, levels, seeds_c2, seeds_c3 = {"quick": tiny}, {"quick": tiny}, (0.2, 0.5, 0.7, 0.9), 2, 2
    out = {"c2": [], "c3": []}
    if args.only != "c3":
        for name, knobs in c2_settings.items():
            out["c2"].append(run_c2(name, knobs, seeds_c2, levels))
            knot = out["c2"][-1]["knot"]
            print(f"C2 {name:12s} knot {'n/a' if knot is None else f'{knot.mean:.3f} [{knot.ci_low:.3f}, {knot.ci_high:.3f}]'}"
                  f"  ({out['c2'][-1]['seconds']:.0f} s)", file=sys.stderr, flush=True)
    if args.only != "c2":
        for name, knobs in c3_settings.items():
            out["c3"].append(run_c3(name, knobs, seeds_c3))
            ratios = next(iter(out["c3"][-1]["ratio_by_layer"].values()), [])
            print(f"C3 {name:12s} " + " ".join(f"{r.mean:.1f}x" for r in ratios)
                  + f"  ({out['c3'][-1]['seconds']:.0f} s)", file=sys.stderr, flush=True)
    load.append(os.getloadavg())
    command = "PYTHONPATH=. python scripts/sensitivity.py" + (" --quick" if args.quick else "") + (
        f" --only {args.only}" if args.only else "")
    payload = {"command": command, "version": __version__, "quick": args.quick, "base": BASE, "levels": list(levels),
               "seeds": {"c2": seeds_c2, "c3": seeds_c3},
               "paper": {"c2_knot": 0.70, "c3_ratio": 25.0}, **jsonable(out),
               "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time(), "load": load, "cores": 1,
               "machine": {"python": platform.python_version(), "platform": platform.platform()}}
    path = QUICK if args.quick else OUT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, separators=(",", ":"), allow_nan=False) + "\n")
    print(f"{payload['seconds']:.0f} s on one core, load {load[0][0]:.1f} -> {load[-1][0]:.1f} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
