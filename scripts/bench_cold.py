"""Cold starts: wall and CPU seconds of commands run with an empty DRIFTPROOF_CACHE (the generated
activation modules compiled afresh), then again warm; writes scripts/results/bench_cold.json.

The package's own Numba caches (``__pycache__`` beside montecarlo/) stay as they are: what is measured is
the compiling that a new activation, or a new cache folder, costs. CPU seconds are the children's user +
system time (steadier than wall on a shared machine); the load average is printed.

Usage: PYTHONPATH=. python scripts/bench_cold.py [--label before|after] [--prime] [--tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "bench_cold.json"
MC = ["mc", "--mode", "marginal", "--depth", "3", "--width", "64", "--samples", "200", "--json", "--no-progress"]
COMMANDS = {
    "verify_ce_gelu": ["verify", "--loss", "ce", "--act", "gelu", "--json"],
    "mc_marginal_gelu": [*MC, "--act", "gelu"],
    "mc_marginal_relu": [*MC, "--act", "relu"],
    "mc_marginal_tanh": [*MC, "--act", "tanh"],
    "mc_inner_silu_laplace": ["mc", "--act", "silu", "--init", "laplace", "--depth", "2", "--layer", "1", "--width",
                              "32", "--samples", "256", "--json", "--no-progress"],
}


def timed(argv: list[str], env: dict) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "driftproof", *argv], env=env, capture_output=True, text=True,
                          cwd=env["PYTHONPATH"])
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "exit": done.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="now")
    parser.add_argument("--prime", action="store_true",
                        help="first run every command once with a throwaway cache (fills the package's own caches)")
    parser.add_argument("--tree", help="the checkout to time (default this one): an older version, say")
    args = parser.parse_args()
    root = str(Path(args.tree).resolve() if args.tree else Path(__file__).resolve().parents[1])
    if args.prime:
        with tempfile.TemporaryDirectory() as cache:
            for argv in COMMANDS.values():
                timed(argv, {**os.environ, "DRIFTPROOF_CACHE": cache, "PYTHONPATH": root})
    load = os.getloadavg()
    rows = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "DRIFTPROOF_CACHE": cache, "PYTHONPATH": root}
        for name, argv in COMMANDS.items():  # in order: each later command finds what the earlier compiled
            rows[name] = {"cold": timed(argv, env), "warm": timed(argv, env)}
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    previous[args.label] = {"rows": rows, "load_average": load, "load_average_end": os.getloadavg(),
                            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(previous, indent=2) + "\n")
    for name, row in rows.items():
        print(f"{name:24} cold {row['cold']['wall']:6.1f} s wall {row['cold']['cpu']:6.1f} CPU-s   warm"
              f" {row['warm']['wall']:6.1f} s wall {row['warm']['cpu']:6.1f} CPU-s   exit {row['cold']['exit']}")
    print(f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}; wrote {OUT} [{args.label}]")


if __name__ == "__main__":
    main()
