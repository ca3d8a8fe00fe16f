"""How fast an interrupted sweep exits: Ctrl-C once, twice, and SIGKILL to the parent (workers' lifetime).

Runs ``driftproof sweep`` on the tests' 8-job ``fault`` grid (two workers, ~1 s a job), waits for
the first stored result, sends the signal(s) and measures the seconds until the parent has exited
and until its last worker is gone. Prints JSON (and the load average, since the machine is shared).

    PYTHONPATH=. python scripts/bench_interrupt.py [repeats]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CASES = {"sigint_once": (signal.SIGINT,), "sigint_twice": (signal.SIGINT, signal.SIGINT), "sigkill": (signal.SIGKILL,)}


def measure(signals: tuple, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tests.sweeps.fault_grid", str(out)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    while not list((out / "results").glob("*.json")):
        time.sleep(0.02)
    workers = psutil.Process(process.pid).children(recursive=True)
    start = time.monotonic()
    for n, signum in enumerate(signals):
        if n:
            time.sleep(0.1)
        process.send_signal(signum)
    process.wait(timeout=60)
    parent = time.monotonic() - start
    _, alive = psutil.wait_procs(workers, timeout=10)
    return {"parent_exit_s": round(parent, 3), "workers_gone_s": round(time.monotonic() - start, 3),
            "returncode": process.returncode, "workers": len(workers), "survivors": len(alive),
            "results_kept": len(list((out / "results").glob("*.json")))}


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    runs = {}
    for name, signals in CASES.items():
        runs[name] = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="driftproof-bench-") as tmp:
                runs[name].append(measure(signals, Path(tmp) / "sweep"))
    summary = {name: max(r["parent_exit_s"] for r in rows) for name, rows in runs.items()}
    print(json.dumps({"load_average": os.getloadavg(), "cpu_count": os.cpu_count(), "repeats": repeats,
                      "max_parent_exit_s": summary, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
