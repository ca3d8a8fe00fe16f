"""Time ``driftproof verify`` cold (empty Numba and result caches) and warm (the caches filled by a previous run).

Each run is a fresh process, as a user's would be. Wall-clock seconds are what a user waits; the CPU
seconds (user + system of the process and its children) are the work, and stay meaningful when the
machine is shared: the load average is printed beside them. Then one more warm process times the
phases one after the other (package import, then each evidence source of the verify table, run
serially) so a change can be traced to its phase; verify itself runs the training source in a forked
child beside the others, so its wall time is less than the phases' sum.

With ``--baseline DIR`` the same runs are made with another checkout of the package (PYTHONPATH=DIR,
its own caches), interleaved with this one's, and the ratios printed side by side.

Writes scripts/results/bench_verify.json.

Usage: PYTHONPATH=. python scripts/bench_verify.py [--warm N] [--args "verify --loss ce --act gelu"]
                                                   [--baseline /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "bench_verify.json"
REPO = Path(__file__).resolve().parents[1]
TARGETS = {"warm": 2.0, "cold": 4.0}  # seconds on a quiet 2-core machine (issue 14, deliverable 5)

# One warm process: the import, then each source of the verify table run serially (wall and CPU seconds).
_PHASES = """
import json, sys, time
started, cpu = time.perf_counter(), time.process_time()
import driftproof.cli
from driftproof import evidence
from driftproof.api.common import network_config
try:
    from driftproof.verification import sources_of
except ImportError:  # a baseline checkout older than driftproof.verification
    sources_of = getattr(evidence, "sources_of", None)
phases = [("import", time.perf_counter() - started, time.process_time() - cpu)]
config = network_config(**json.loads(sys.argv[1]))
# a baseline checkout older than the architecture registry lists the sources in evidence.SOURCES
for source in (sources_of("mlp") if sources_of is not None else evidence.SOURCES["mlp"]):
    wall, cpu = time.perf_counter(), time.process_time()
    source.rows(config, False)
    phases.append((source.name, time.perf_counter() - wall, time.process_time() - cpu))
print(json.dumps(phases))
"""


def _env(cache: str, repo: Path) -> dict:
    # Both caches in the temporary folder: the generated activation modules (DRIFTPROOF_CACHE) and
    # every cache=True kernel of the package (NUMBA_CACHE_DIR), so the cold run compiles everything.
    return {**os.environ, "DRIFTPROOF_CACHE": cache, "NUMBA_CACHE_DIR": os.path.join(cache, "numba-cache"),
            "PYTHONPATH": str(repo)}


def timed(argv: list[str], cache: str, repo: Path = REPO) -> dict:
    """One run of ``python -m driftproof *argv`` with DRIFTPROOF_CACHE=cache: wall and CPU seconds, exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    # In the checkout's folder: `python -m` puts the working folder first on the path.
    done = subprocess.run([sys.executable, "-m", "driftproof", *argv], env=_env(cache, repo), capture_output=True,
                          text=True, cwd=repo)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "exit": done.returncode, "load_1min": load,
            "verdict_line": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""}


def phases(options: dict, cache: str, repo: Path = REPO) -> list[dict]:
    """The import and each evidence source, serially, in one warm process: [{phase, wall_s, cpu_s}]."""
    done = subprocess.run([sys.executable, "-c", _PHASES, json.dumps(options)], env=_env(cache, repo),
                          capture_output=True, text=True, check=True, cwd=repo)
    return [{"phase": name, "wall_s": wall, "cpu_s": cpu} for name, wall, cpu in json.loads(done.stdout)]


def network_options(argv: list[str]) -> dict:
    """--loss/--act/--init/--width/--depth/--classes/--seed of the command line, as API keywords."""
    keys = {"--loss": str, "--act": str, "--init": str, "--scale": str, "--width": int, "--depth": int,
            "--classes": int, "--seed": int}
    return {flag[2:]: kind(value) for flag, value in zip(argv, argv[1:]) for key, kind in keys.items()
            if flag == key}


def measure(argv: list[str], repos: dict[str, Path], warm: int) -> dict:
    """Cold then ``warm`` warm runs per checkout, interleaved, and the phases of one warm process each."""
    out = {name: {"warm": []} for name in repos}
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as root:
        caches = {name: os.path.join(root, name) for name in repos}
        for name, repo in repos.items():
            out[name]["cold"] = timed(argv, caches[name], repo)
        for _ in range(warm):
            for name, repo in repos.items():
                out[name]["warm"].append(timed(argv, caches[name], repo))
        if argv and argv[0] == "verify":
            for name, repo in repos.items():
                out[name]["phases"] = phases(network_options(argv), caches[name], repo)
    for entry in out.values():
        entry["warm_best"] = min(entry["warm"], key=lambda run: run["wall_s"])
        entry["warm_median_wall_s"] = statistics.median(run["wall_s"] for run in entry["warm"])
        entry["warm_median_cpu_s"] = statistics.median(run["cpu_s"] for run in entry["warm"])
    return out


def report(argv: list[str], results: dict, load: tuple) -> None:
    names = list(results)
    print(f"driftproof {' '.join(argv)}  (exit {results['this']['cold']['exit']}: "
          f"{results['this']['cold']['verdict_line']})")
    print(f"{'':8} {'run':6} {'wall s':>8} {'cpu s':>8} {'target':>8} {'load':>6}")
    for name in names:
        cold = results[name]["cold"]
        print(f"{name:8} {'cold':6} {cold['wall_s']:8.2f} {cold['cpu_s']:8.2f} {TARGETS['cold']:8.1f} "
              f"{cold['load_1min']:6.2f}")
        for run in results[name]["warm"]:
            print(f"{name:8} {'warm':6} {run['wall_s']:8.2f} {run['cpu_s']:8.2f} {TARGETS['warm']:8.1f} "
                  f"{run['load_1min']:6.2f}")
    if "phases" in results["this"]:
        print("phases of one warm process, run serially (wall s / cpu s):")
        for index, phase in enumerate(results["this"]["phases"]):
            line = f"  {phase['phase']:22} {phase['wall_s']:6.2f} / {phase['cpu_s']:5.2f}"
            if "baseline" in results:
                other = results["baseline"]["phases"][index]
                line += f"    baseline {other['wall_s']:6.2f} / {other['cpu_s']:5.2f}"
            print(line)
    if "baseline" in results:
        this, base = results["this"], results["baseline"]
        print(f"ratio baseline/this: cold wall {base['cold']['wall_s'] / this['cold']['wall_s']:.2f}x, "
              f"cold cpu {base['cold']['cpu_s'] / this['cold']['cpu_s']:.2f}x; warm median wall "
              f"{base['warm_median_wall_s'] / this['warm_median_wall_s']:.2f}x, warm median cpu "
              f"{base['warm_median_cpu_s'] / this['warm_median_cpu_s']:.2f}x")
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; wrote {OUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=3, help="warm runs per checkout (the best and all are reported)")
    parser.add_argument("--args", default="verify --loss ce --act gelu", help="the command line after driftproof")
    parser.add_argument("--baseline", type=Path, help="another checkout of driftproof, timed interleaved with this one")
    args = parser.parse_args()
    argv = shlex.split(args.args)
    load = os.getloadavg()
    repos = {"this": REPO, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    results = measure(argv, repos, args.warm)
    this = results["this"]
    payload = {"command": ["driftproof", *argv], "cold": this["cold"], "warm": this["warm"],
               "warm_best": this["warm_best"], "phases": this.get("phases"), "targets": TARGETS,
               "baseline": results.get("baseline"), "baseline_path": str(repos.get("baseline", "")) or None,
               "load_average": load, "load_average_end": os.getloadavg(), "cpus": os.cpu_count(),
               "machine": platform.machine(), "python": platform.python_version(),
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=2) + "\n")
    report(argv, results, load)


if __name__ == "__main__":
    main()
