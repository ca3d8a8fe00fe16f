"""Time ``driftproof verify`` cold (empty Numba and result caches) and warm (the caches filled by a previous run).

Each run is a fresh process, as a user's would be. Wall-clock seconds are what a user waits; the CPU
seconds (user + system of the child) are the work, and stay meaningful when the machine is shared:
the load average is printed beside them. Writes scripts/results/bench_verify.json.

Usage: PYTHONPATH=. python scripts/bench_verify.py [--warm N] [--args "verify --loss ce --act gelu"]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "bench_verify.json"
TARGETS = {"warm": 2.0, "cold": 4.0}  # seconds on a quiet 2-core machine (issue 14, deliverable 5)


def timed(argv: list[str], cache: str) -> dict:
    """One run of ``python -m driftproof *argv`` with DRIFTPROOF_CACHE=cache: wall and CPU seconds, exit code."""
    # Both caches in the temporary folder: the generated activation modules (DRIFTPROOF_CACHE) and
    # every cache=True kernel of the package (NUMBA_CACHE_DIR), so the cold run compiles everything.
    env = {**os.environ, "DRIFTPROOF_CACHE": cache, "NUMBA_CACHE_DIR": os.path.join(cache, "numba-cache")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "driftproof", *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "exit": done.returncode, "load_1min": load,
            "verdict_line": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=3, help="warm runs (the best and all are reported)")
    parser.add_argument("--args", default="verify --loss ce --act gelu", help="the command line after driftproof")
    args = parser.parse_args()
    argv = shlex.split(args.args)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as cache:
        cold = timed(argv, cache)
        warm = [timed(argv, cache) for _ in range(args.warm)]
    best = min(warm, key=lambda run: run["wall_s"])
    payload = {"command": ["driftproof", *argv], "cold": cold, "warm": warm, "warm_best": best, "targets": TARGETS,
               "load_average": load, "cpus": os.cpu_count(), "machine": platform.machine(),
               "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"driftproof {' '.join(argv)}  (exit {cold['exit']}: {cold['verdict_line']})")
    print(f"{'':6} {'wall s':>8} {'cpu s':>8} {'target':>8} {'load':>6}")
    print(f"{'cold':6} {cold['wall_s']:8.2f} {cold['cpu_s']:8.2f} {TARGETS['cold']:8.1f} {cold['load_1min']:6.2f}")
    for run in warm:
        print(f"{'warm':6} {run['wall_s']:8.2f} {run['cpu_s']:8.2f} {TARGETS['warm']:8.1f} {run['load_1min']:6.2f}")
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; wrote {OUT}")


if __name__ == "__main__":
    main()
