"""What the self/label split section costs in a cold report build, section by section.

Usage:
    python scripts/bench_report_split.py [--full] [--out DIR]

Builds the report (``--quick`` unless ``--full``) into a fresh folder with an empty result cache, times
every section as the build announces it (wall seconds between announcements; the split section trains
its own runs: MLPs on noise, teacher, digits and the GPT on text), and reads back the training time each
split run recorded. Prints and writes ``scripts/results/bench_report_split[_full].json`` with the
load average before and after (the machine may be shared: compare CPU seconds, not only wall).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from driftproof.reporting import build_report


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the default report instead of --quick")
    parser.add_argument("--out", default=None, help="report folder (default: a fresh temporary one, removed)")
    args = parser.parse_args()
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-report-"))
    if (folder / "cache").exists():
        shutil.rmtree(folder / "cache")  # cold: every result computed
    marks: list[tuple[str, float, float]] = []
    load_before = os.getloadavg()
    start, cpu0 = time.perf_counter(), _cpu()
    result = build_report(folder, quick=not args.full,
                          on_section=lambda name: marks.append((name, time.perf_counter(), _cpu())))
    end, cpu1 = time.perf_counter(), _cpu()
    marks.append(("(layout, LaTeX)", end, cpu1))
    sections = {name: {"wall_s": round(marks[i + 1][1] - t, 2), "cpu_s": round(marks[i + 1][2] - c, 2)}
                for i, (name, t, c) in enumerate(marks[:-1])}
    split_runs = []
    for path in sorted((folder / "cache").glob("split-*.json")):
        entry = json.loads(path.read_text())
        key = entry["key"]
        split_runs.append({"arch": key["spec"]["arch"], "data": key["spec"]["data"], "loss": key["config"]["loss"],
                           "act": key["config"]["act"], "train_s": round(entry["result"]["seconds"], 2)})
    record = {"what": "cold report build, per section (wall and CPU seconds of this process; the last section also holds the claims and the LaTeX build)",
              "mode": "full" if args.full else "quick", "total_wall_s": round(end - start, 2),
              "total_cpu_s": round(cpu1 - cpu0, 2), "sections": sections, "split_runs": split_runs,
              "split_runs_train_s": round(sum(r["train_s"] for r in split_runs), 2),
              "pdf": result.pdf is not None, "load_average_before": load_before, "load_average_after": os.getloadavg()}
    if not args.out:
        shutil.rmtree(folder, ignore_errors=True)
    out = Path(__file__).resolve().parent / "results" / f"bench_report_split{'_full' if args.full else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
