"""Time ``driftproof verify --arch gpt|vit`` against their estimates, and the default ``verify`` beside a base tree.

Measures, each run a fresh process with warm caches (one untimed run of each command first):

- ``verify --arch gpt`` and ``--arch vit`` at their defaults: wall and CPU seconds (user + system of the
  child) against the estimate each states up front (``api.verify_budget_for``); target: about a minute
  on 2 cores;
- the default ``verify`` (MLP) of this tree and, with ``--base PATH`` (another checkout of driftproof,
  e.g. a worktree of the commit before the GPT arm), of that tree, interleaved run by run, with the
  ratio of medians (the MLP path must not get slower).

The load average is printed beside every run: on a shared machine, read CPU seconds and ratios.
Writes scripts/results/bench_verify_gpt.json.

Usage: PYTHONPATH=. python scripts/bench_verify_gpt.py [--runs 3] [--base /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "bench_verify_gpt.json"
TARGET_GPT_SECONDS = 60.0


def timed(argv: list[str], tree: Path) -> dict:
    """One run of ``python -m driftproof *argv`` with the package of ``tree`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "driftproof", *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "exit": done.returncode, "load_1min": load, "stderr": done.stderr[-300:]}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base", default=None, help="another driftproof checkout to time the default verify against")
    args = parser.parse_args()
    tree = HERE.parent
    sys.path.insert(0, str(tree))
    from driftproof import api

    estimate = api.verify_budget_for(arch="gpt")
    vit_estimate = api.verify_budget_for(arch="vit")
    trees = {"this": tree} | ({"base": Path(args.base).resolve()} if args.base else {})
    for name, path in trees.items():  # warm the caches, untimed
        timed(["verify"], path)
    timed(["verify", "--arch", "gpt"], tree)
    gpt, vit, mlp = [], [], {name: [] for name in trees}
    for index in range(args.runs):
        gpt.append(timed(["verify", "--arch", "gpt"], tree))
        print(f"verify --arch gpt run {index + 1}: {gpt[-1]['wall_s']:.1f} s wall, {gpt[-1]['cpu_s']:.1f} s CPU, "
              f"exit {gpt[-1]['exit']}, load {gpt[-1]['load_1min']:.2f}", flush=True)
        vit.append(timed(["verify", "--arch", "vit"], tree))
        print(f"verify --arch vit run {index + 1}: {vit[-1]['wall_s']:.1f} s wall, {vit[-1]['cpu_s']:.1f} s CPU, "
              f"exit {vit[-1]['exit']}, load {vit[-1]['load_1min']:.2f}", flush=True)
        for name, path in trees.items():
            mlp[name].append(timed(["verify"], path))
            print(f"verify (mlp, {name}) run {index + 1}: {mlp[name][-1]['wall_s']:.2f} s wall, "
                  f"{mlp[name][-1]['cpu_s']:.2f} s CPU, load {mlp[name][-1]['load_1min']:.2f}", flush=True)
    payload = {"measures": "verify --arch gpt at its defaults against its estimate; the default verify of this tree "
                           "and of --base, interleaved", "estimate_s": estimate.seconds, "estimate": estimate.text(),
               "target_gpt_s": TARGET_GPT_SECONDS, "gpt": gpt, "gpt_median_wall_s": _median(gpt, "wall_s"),
               "gpt_median_cpu_s": _median(gpt, "cpu_s"), "vit_estimate_s": vit_estimate.seconds, "vit": vit,
               "vit_median_wall_s": _median(vit, "wall_s"), "vit_median_cpu_s": _median(vit, "cpu_s"), "mlp": mlp,
               "mlp_median_wall_s": {name: _median(runs, "wall_s") for name, runs in mlp.items()},
               "mlp_median_cpu_s": {name: _median(runs, "cpu_s") for name, runs in mlp.items()},
               "load_average": os.getloadavg(), "cpus": os.cpu_count()}
    if "base" in mlp:
        payload["mlp_cpu_ratio_this_over_base"] = (payload["mlp_median_cpu_s"]["this"]
                                                   / payload["mlp_median_cpu_s"]["base"])
        payload["mlp_wall_ratio_this_over_base"] = (payload["mlp_median_wall_s"]["this"]
                                                    / payload["mlp_median_wall_s"]["base"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=2))
    print(f"verify --arch gpt: median {payload['gpt_median_wall_s']:.1f} s wall, {payload['gpt_median_cpu_s']:.1f} s "
          f"CPU (estimated {estimate.seconds:.0f} s; target {TARGET_GPT_SECONDS:.0f} s)")
    print(f"verify --arch vit: median {payload['vit_median_wall_s']:.1f} s wall, {payload['vit_median_cpu_s']:.1f} s "
          f"CPU (estimated {vit_estimate.seconds:.0f} s)")
    if "base" in mlp:
        print(f"default verify, this / base: CPU {payload['mlp_cpu_ratio_this_over_base']:.3f}, wall "
              f"{payload['mlp_wall_ratio_this_over_base']:.3f}")
    print(f"wrote {OUT} (load {payload['load_average'][0]:.2f})")


if __name__ == "__main__":
    main()
