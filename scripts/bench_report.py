"""What a report build costs, end to end: `driftproof report [--quick]` as a user runs it.

Usage:
    python scripts/bench_report.py [--full] [--warm] [--cold-numba] [--workers N [N ...]] [--out DIR]

Runs the command line in a child process (the PDF's LaTeX and every worker included) into a fresh
folder with an empty result cache and an empty kernel cache (``DRIFTPROOF_CACHE``): a cold build, as on
a new checkout. ``--warm`` then builds the same folder again (every result read back from the cache).
``--cold-numba`` empties ``NUMBA_CACHE_DIR`` as well (the package's own kernels compiled afresh, as after
installing a wheel). Stored sweeps (``sweeps/default``, ``sweeps/transformer``) are read where the current folder has them;
the record says which were present. Prints and writes ``scripts/results/bench_report[_full].json``:
wall and CPU seconds (user + system of the child and its children), exit status, pages, and the load
average before and after (the machine may be shared: compare CPU seconds, not only wall).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pages(pdf: Path) -> int | None:
    if not pdf.exists() or shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return int(match.group(1)) if match else None


def build(folder: Path, quick: bool, env: dict, workers: int | None = None) -> dict:
    command = ([sys.executable, "-m", "driftproof", "report", "--out", str(folder)] + (["--quick"] if quick else [])
               + ([] if workers is None else ["--workers", str(workers)]))
    load = os.getloadavg()
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    return {"command": " ".join(["driftproof", *command[3:]]), "exit": done.returncode, "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1), "pages": _pages(folder / "report.pdf"), "load_average_before": load,
            "load_average_after": os.getloadavg(), "last_line": (done.stdout.strip().splitlines() or [""])[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the default report instead of --quick")
    parser.add_argument("--warm", action="store_true", help="then rebuild the same folder from its cache")
    parser.add_argument("--out", default=None, help="report folder (default: a fresh temporary one, removed)")
    parser.add_argument("--cold-numba", action="store_true",
                        help="an empty NUMBA_CACHE_DIR too: the package's own Monte Carlo and Adam kernels compiled "
                             "afresh, as from a wheel (by default their caches beside the source are used)")
    parser.add_argument("--workers", type=int, nargs="+", default=None,
                        help="one cold build per count, one after the other, side by side in the record "
                             "(default: one build with the command's default)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-report-"))
    record = {"what": "driftproof report as a child process: wall and CPU seconds (the child and its children: "
                      "workers, LaTeX), cold result and kernel caches",
              "mode": "full" if args.full else "quick", "cpus": os.cpu_count(), "numba_cache": "empty"
              if args.cold_numba else "the package's own (beside its source)",
              "stored_sweeps": [name for name in ("sweeps/default", "sweeps/transformer") if Path(name).exists()],
              "shipped_data": sorted(p.name for p in (Path(__file__).resolve().parent.parent / "driftproof" / "stored")
                                     .glob("*.json*"))}
    for index, workers in enumerate(args.workers or [None]):
        folder = Path(args.out) if args.out else scratch / f"report-{index}"
        if (folder / "cache").exists():
            shutil.rmtree(folder / "cache")  # cold: every result computed
        env = {**os.environ, "DRIFTPROOF_CACHE": str(scratch / f"kernels-{index}"), "MPLBACKEND": "Agg"}
        if args.cold_numba:
            env["NUMBA_CACHE_DIR"] = str(scratch / f"numba-{index}")
        run = {"workers": workers or "default (one per core)", "cold": build(folder, not args.full, env, workers)}
        if args.warm:
            run["warm"] = build(folder, not args.full, env, workers)
        record.setdefault("runs", []).append(run)
        if len(args.workers or [None]) == 1:
            record.update(run)  # the layout of a single build's record, as before
    shutil.rmtree(scratch, ignore_errors=True)
    out = Path(__file__).resolve().parent / "results" / f"bench_report{'_full' if args.full else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
