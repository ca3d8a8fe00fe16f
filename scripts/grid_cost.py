"""The time a full sweep takes, from a measured per-run cost: one job of each kind of the grid is run, timed
in CPU seconds of its process (single-threaded BLAS, as the sweep runs it), and the grid's total is the sum
over its jobs of their kind's cost, divided by the cores. CPU time, not wall time: on a shared machine the
wall clock of one job doubles when a neighbour takes the other core, its CPU time much less so.

A kind is (architecture, width, depth, steps, batch, activation); with ``--one-act`` the transformer kinds are
measured with ReLU only and that cost stands for every activation (said in the JSON).

Writes scripts/results/grid_cost_<grid>.json. Usage:
    PYTHONPATH=. python scripts/grid_cost.py --grid default [--cores 2] [--one-act]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from driftproof.sweeps.grid import make_grid
from driftproof.sweeps.job import run_job

OUT = Path(__file__).parent / "results"


def kind(job, one_act: bool) -> tuple:
    act = "relu" if one_act else job.act
    return (job.arch, job.width, job.depth, job.steps, job.batch, act)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="default")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--one-act", action="store_true", help="time one activation (relu) per shape")
    args = parser.parse_args()
    jobs = make_grid(args.grid)
    counts = Counter(kind(job, args.one_act) for job in jobs)
    costs, load = {}, [os.getloadavg()]
    for key in counts:
        job = next(j for j in jobs if kind(j, args.one_act) == key)
        if args.one_act:
            job = replace(job, act="relu", clip=None, force=None)
        cpu, wall = time.process_time(), time.perf_counter()
        result = run_job(job)
        costs[key] = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
                      "diverged": result["diverged"]}
        load.append(os.getloadavg())
        print(key, counts[key], costs[key], load[-1], flush=True)
    total_cpu = sum(counts[key] * costs[key]["cpu_s"] for key in counts)
    payload = {"grid": args.grid, "jobs": len(jobs), "cores": args.cores, "one_act": args.one_act,
               "kinds": [{"arch": k[0], "width": k[1], "depth": k[2], "steps": k[3], "batch": k[4], "act": k[5],
                          "jobs": counts[k], **costs[k]} for k in counts],
               "total_cpu_s": total_cpu, "estimated_wall_min": total_cpu / args.cores / 60,
               "load": load, "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    OUT.mkdir(exist_ok=True)
    path = OUT / f"grid_cost_{args.grid}.json"
    path.write_text(json.dumps(payload, indent=1))
    print(f"{args.grid}: {len(jobs)} jobs, {total_cpu:.0f} CPU-s, ~{payload['estimated_wall_min']:.1f} min on "
          f"{args.cores} cores -> {path}")


if __name__ == "__main__":
    main()
